package consul

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/election-harness/harness/db"
)

// MemberHashes reads the run's keys (prefix) from every server's own state,
// with stale reads so that each server answers from its own copy. It hashes
// them with their modify indexes. It retries until every server that
// answers reports the same index for the prefix (Consul's X-Consul-Index of
// a list), so that the digests cover the same writes.
func (DB) MemberHashes(ctx context.Context, all []db.Member, prefix string) []db.MemberHash {
	var out []db.MemberHash
	for attempt := 0; ; attempt++ {
		out = make([]db.MemberHash, len(all))
		indexes := map[int64]bool{}
		for i, m := range all {
			out[i] = hashOf(ctx, m, prefix)
			if out[i].Err == nil {
				indexes[out[i].Revision] = true
			}
		}
		if len(indexes) <= 1 || attempt >= 20 {
			return out
		}
		select {
		case <-ctx.Done():
			return out
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// hashOf is one server's digest of the keys under prefix.
func hashOf(ctx context.Context, m db.Member, prefix string) db.MemberHash {
	h := db.MemberHash{Member: m.Name}
	cli, err := client(consulAddr(m), 10*time.Second)
	if err != nil {
		h.Err = err
		return h
	}
	pairs, meta, err := cli.KV().List(prefix, (&api.QueryOptions{AllowStale: true}).WithContext(ctx))
	if err != nil {
		h.Err = fmt.Errorf("listing %s on %s: %w", prefix, m.Name, err)
		return h
	}
	sort.Slice(pairs, func(i, j int) bool { return pairs[i].Key < pairs[j].Key })
	d := sha256.New()
	for _, p := range pairs {
		fmt.Fprintf(d, "%q %q %d %s\n", p.Key, p.Value, p.ModifyIndex, p.Session)
	}
	h.Hash, h.Revision = fmt.Sprintf("%x", d.Sum(nil)[:8]), int64(meta.LastIndex)
	return h
}

var _ db.Agreement = DB{}
