package consul

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
)

// snapshot is one blocking query's answer from one server.
type snapshot struct {
	lastIndex uint64
	pairs     []api.KVPair
}

func lock(modify, lockIndex uint64, session string) api.KVPair {
	return api.KVPair{Key: "eh/x/election/leader", ModifyIndex: modify, CreateIndex: 5, LockIndex: lockIndex, Session: session, Value: []byte(session)}
}

func reg(modify uint64, value string) api.KVPair {
	return api.KVPair{Key: "eh/x/register/r", ModifyIndex: modify, CreateIndex: 6, Value: []byte(value)}
}

// describe renders emitted events compactly: F key@rev/create session.
func describe(evs []histories.Event) string {
	var out []string
	for _, e := range evs {
		key := e.Key[strings.LastIndex(e.Key, "/")+1:]
		out = append(out, fmt.Sprintf("%s %s@%d/%d %s", e.F, key, e.Revision, e.CreateRevision, e.Session))
	}
	return strings.Join(out, "; ")
}

func TestConsulRecordMerge(t *testing.T) {
	for _, tc := range []struct {
		name  string
		snaps []snapshot
		want  string
	}{
		{name: "acquire, release, acquire: one incarnation per acquisition",
			snaps: []snapshot{
				{10, []api.KVPair{lock(10, 1, "s1")}},
				{12, []api.KVPair{lock(12, 1, "")}},
				{15, []api.KVPair{lock(15, 2, "s2")}},
			},
			want: "store-put leader@10/10 s1; store-delete leader@12/10 s1; store-put leader@15/15 s2"},
		{name: "a handover seen without its release",
			snaps: []snapshot{
				{10, []api.KVPair{lock(10, 1, "s1")}},
				{15, []api.KVPair{lock(15, 2, "s2")}},
			},
			want: "store-put leader@10/10 s1; store-delete leader@15/10 s1; store-put leader@15/15 s2"},
		{name: "a missed acquisition is a gap",
			snaps: []snapshot{
				{10, []api.KVPair{lock(10, 1, "s1")}},
				{20, []api.KVPair{lock(20, 3, "s3")}},
			},
			want: "store-put leader@10/10 s1; store-delete leader@20/10 s1; store-gap leader@20/0 ; store-put leader@20/20 s3"},
		{name: "a lagging server's older state is not merged again",
			snaps: []snapshot{
				{10, []api.KVPair{lock(10, 1, "s1"), reg(9, "a")}},
				{15, []api.KVPair{lock(15, 2, "s2"), reg(14, "b")}},
				{12, []api.KVPair{lock(12, 1, ""), reg(11, "x")}},
			},
			want: "store-put r@9/6 ; store-put leader@10/10 s1; store-put r@14/6 ; store-delete leader@15/10 s1; store-put leader@15/15 s2"},
		{name: "a key gone from a newer snapshot is deleted",
			snaps: []snapshot{
				{10, []api.KVPair{lock(10, 1, "s1"), reg(9, "a")}},
				{30, []api.KVPair{reg(9, "a")}},
			},
			want: "store-put r@9/6 ; store-put leader@10/10 s1; store-delete leader@30/10 s1"},
		{name: "a key absent from an older snapshot is not deleted",
			snaps: []snapshot{
				{10, []api.KVPair{lock(10, 1, "s1")}},
				{8, nil},
			},
			want: "store-put leader@10/10 s1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &consulRecord{keys: map[string]*keyState{}, Progress: db.NewProgress()}
			var got []histories.Event
			for _, s := range tc.snaps {
				var pairs api.KVPairs
				for i := range s.pairs {
					pairs = append(pairs, &s.pairs[i])
				}
				r.merge(pairs, s.lastIndex, func(e histories.Event) { got = append(got, e) })
			}
			if d := describe(got); d != tc.want {
				t.Errorf("emitted\n  %s\nwant\n  %s", d, tc.want)
			}
			if want := int64(tc.snaps[0].lastIndex); r.Seen() < want {
				t.Errorf("progress %d, want at least %d", r.Seen(), want)
			}
		})
	}
}
