package kube

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/election-harness/harness/histories"
)

// stored encodes obj as kube-apiserver stores it.
func stored(t *testing.T, obj interface{ Marshal() ([]byte, error) }) string {
	t.Helper()
	raw, err := obj.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	u := runtime.Unknown{Raw: raw, ContentType: "application/vnd.kubernetes.protobuf"}
	env, err := u.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(storageMagic) + string(env)
}

func lease(holder string, transitions int32, annotations map[string]string) *coordinationv1.Lease {
	return &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "eh-1a2b-election", Namespace: Namespace, Annotations: annotations},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseTransitions: &transitions}}
}

// scripted is an inner record that emits its events, in order.
type scripted struct{ events []histories.Event }

func (s scripted) Run(_ context.Context, emit func(histories.Event)) error {
	for _, e := range s.events {
		emit(e)
	}
	return nil
}
func (scripted) Sync(context.Context) error { return nil }
func (scripted) Kind() string               { return histories.RecordEveryChange }

func put(key, value string, rev, created, prev int64) histories.Event {
	return histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: histories.FStorePut, Key: key, Value: value,
		Revision: rev, CreateRevision: created, PrevRevision: prev}
}

// TestRecordReadsTheLeaseAsTerms: the store's record of the apiserver's
// objects becomes the election's: each holder change of the Lease a
// term (the old one's key deleted, the new one's put, at the change's
// revision; seq the transitions plus one), renewals nothing, register
// ConfigMaps and the Lease's register annotations register puts, and
// every other object nothing.
func TestRecordReadsTheLeaseAsTerms(t *testing.T) {
	o := ObjectsOf("eh/1a2b/election")
	leaseKey := o.LeaseStorageKey()
	cmKey := o.configMapStoragePrefix() + o.ConfigMap("eh/1a2b/register/r")
	ann := o.RegisterAnnotation("eh/1a2b/register/r")
	in := []histories.Event{
		put(leaseKey, stored(t, lease("c1_aa", 0, nil)), 10, 10, 0),
		put(leaseKey, stored(t, lease("c1_aa", 0, nil)), 11, 10, 10), // a renewal
		put(leaseKey, stored(t, lease("c2_bb", 1, nil)), 12, 10, 11),
		put(leaseKey, stored(t, lease("c2_bb", 1, map[string]string{ann: "v1"})), 13, 10, 12),
		put(leaseKey, stored(t, lease("c2_bb", 1, map[string]string{ann: "v1"})), 14, 10, 13), // a renewal
		put(leaseKey, stored(t, lease("c2_bb", 1, map[string]string{ann: "v2"})), 15, 10, 14),
		put(leaseKey, stored(t, lease("", 1, map[string]string{ann: "v2"})), 16, 10, 15), // released
		put(cmKey, stored(t, &corev1.ConfigMap{Data: map[string]string{registerDataKey: "w1"}}), 17, 17, 0),
		put(o.configMapStoragePrefix()+"someone-else", stored(t, &corev1.ConfigMap{}), 18, 18, 0),
		put(StoragePrefix+"leases/kube-system/apiserver-x", stored(t, lease("apiserver", 0, nil)), 19, 19, 0),
		put(leaseKey, "not protobuf", 20, 10, 16),
		{Type: histories.OK, Process: histories.ProcessStore, F: histories.FStoreState, Revision: 21},
		{Type: histories.Info, Process: histories.ProcessStore, F: histories.FStoreRegressed, Revision: 5, Value: "21"},
	}
	var got []string
	if err := NewRecord(scripted{in}, o).Run(context.Background(), func(e histories.Event) {
		got = append(got, fmt.Sprintf("%s %s=%q @%d created %d prev %d", e.F, e.Key, e.Value, e.Revision, e.CreateRevision, e.PrevRevision))
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`store-put eh/1a2b/election/c1_aa="c1" @10 created 1 prev 0`,
		`store-delete eh/1a2b/election/c1_aa="" @12 created 1 prev 0`,
		`store-put eh/1a2b/election/c2_bb="c2" @12 created 2 prev 0`,
		`store-put eh/1a2b/register/r="v1" @13 created 13 prev 0`,
		`store-put eh/1a2b/register/r="v2" @15 created 13 prev 13`,
		`store-delete eh/1a2b/election/c2_bb="" @16 created 2 prev 0`,
		`store-put eh/1a2b/register/r="w1" @17 created 17 prev 0`,
		`store-gap ` + leaseKey + `="" @20 created 0 prev 0`,
		`store-regressed ="21" @5 created 0 prev 0`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("translated record:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestObjectsNameTheRunsKeys: the objects' names map back to the keys
// the history speaks of.
func TestObjectsNameTheRunsKeys(t *testing.T) {
	for _, prefix := range []string{"eh/1a2b/election", "eh/1a2b/election/"} {
		o := ObjectsOf(prefix)
		if o.Lease() != "eh-1a2b-election" || o.ElectionPrefix() != "eh/1a2b/election/" || o.RegisterPrefix() != "eh/1a2b/register/" {
			t.Errorf("ObjectsOf(%q): lease %q, prefixes %q %q", prefix, o.Lease(), o.ElectionPrefix(), o.RegisterPrefix())
		}
		name := o.ConfigMap("eh/1a2b/register/r")
		if key, ok := o.registerOfConfigMap(name); name != "eh-1a2b-register-r" || !ok || key != "eh/1a2b/register/r" {
			t.Errorf("ConfigMap of the register: %q, back to %q %v", name, key, ok)
		}
		if key, ok := o.registerOfAnnotation(o.RegisterAnnotation("eh/1a2b/register/r")); !ok || key != "eh/1a2b/register/r" {
			t.Errorf("annotation of the register back to %q %v", key, ok)
		}
		if o.TermKey("c1_ab12") != "eh/1a2b/election/c1_ab12" || valueOf("c1_ab12") != "c1" || valueOf("c1") != "c1" {
			t.Errorf("term key %q, value %q", o.TermKey("c1_ab12"), valueOf("c1_ab12"))
		}
	}
	if _, ok := ObjectsOf("eh/1a2b/election").registerOfConfigMap("eh-ffff-register-r"); ok {
		t.Error("another run's ConfigMap taken for this run's register")
	}
}

// TestTimingsScaleClientGoDefaults: client-go's 15 s / 10 s / 2 s, scaled
// to the run's TTL, in whole seconds of lease.
func TestTimingsScaleClientGoDefaults(t *testing.T) {
	for _, tc := range []struct {
		ttl                 string
		lease, renew, retry string
	}{
		{"3s", "3s", "2s", "375ms"},
		{"3.5s", "3s", "2s", "375ms"},
		{"500ms", "1s", "666.666666ms", "125ms"},
	} {
		ttl, _ := time.ParseDuration(tc.ttl)
		got := TimingsFor(ttl)
		if got.LeaseDuration.String() != tc.lease || got.RenewDeadline.String() != tc.renew || got.RetryPeriod.String() != tc.retry {
			t.Errorf("TimingsFor(%s) = %v, want %s %s %s", tc.ttl, got, tc.lease, tc.renew, tc.retry)
		}
	}
}
