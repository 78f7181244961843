package kube

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
)

// NewRecord is the election's record read from the store's record of
// the apiserver's objects (inner, a record of every change under
// StoragePrefix). Each change of the Lease's holder is a term: the old
// holder's term key deleted and the new one's put, at the revision of
// the change. Each change of a register ConfigMap, or of a register
// annotation of the Lease, is a register put. Renewals change nothing
// the election's checks judge, and other objects are left out.
func NewRecord(inner db.StoreRecord, objects Objects) db.StoreRecord {
	return &record{StoreRecord: inner, objects: objects, registers: map[string]registerState{}, annotations: map[string]string{}}
}

type record struct {
	db.StoreRecord
	objects Objects
	// holder and transitions are the Lease's as of the last change.
	holder      string
	transitions int32
	// annotations are the Lease's register annotations as of then.
	annotations map[string]string
	// registers are the register keys' creation and last change.
	registers map[string]registerState
}

type registerState struct{ created, last int64 }

// Seen is the inner record's progress, for compactions that must not
// pass it.
func (r *record) Seen() int64 {
	if p, ok := r.StoreRecord.(interface{ Seen() int64 }); ok {
		return p.Seen()
	}
	return 0
}

func (r *record) Run(ctx context.Context, emit func(histories.Event)) error {
	return r.StoreRecord.Run(ctx, func(e histories.Event) {
		for _, out := range r.translate(e) {
			emit(out)
		}
	})
}

// translate turns one event of the store's record into the election's.
// Called from the inner record's one goroutine.
func (r *record) translate(e histories.Event) []histories.Event {
	switch {
	case e.F == histories.FStoreState:
		// The store's state is of objects, not of the keys translated:
		// the cross-check is left to the inner record's own users.
		return nil
	case e.F != histories.FStorePut && e.F != histories.FStoreDelete:
		return []histories.Event{e}
	case e.Key == r.objects.LeaseStorageKey():
		return r.leaseChanged(e)
	case strings.HasPrefix(e.Key, r.objects.configMapStoragePrefix()):
		key, ok := r.objects.registerOfConfigMap(strings.TrimPrefix(e.Key, r.objects.configMapStoragePrefix()))
		if !ok {
			return nil
		}
		if e.F == histories.FStoreDelete {
			delete(r.registers, key)
			return []histories.Event{storeEvent(histories.FStoreDelete, key, "", e.Revision, e.CreateRevision, e.PrevRevision)}
		}
		var cm corev1.ConfigMap
		if err := decode(e.Value, &cm); err != nil {
			return []histories.Event{undecodable(e, err)}
		}
		r.registers[key] = registerState{created: e.CreateRevision, last: e.Revision}
		return []histories.Event{storeEvent(histories.FStorePut, key, cm.Data[registerDataKey], e.Revision, e.CreateRevision, e.PrevRevision)}
	}
	return nil
}

// leaseChanged translates a change of the Lease.
func (r *record) leaseChanged(e histories.Event) []histories.Event {
	var lease coordinationv1.Lease
	if e.F == histories.FStorePut {
		if err := decode(e.Value, &lease); err != nil {
			return []histories.Event{undecodable(e, err)}
		}
	}
	var out []histories.Event
	holder, transitions := holderOf(&lease), transitionsOf(&lease)
	if holder != r.holder || transitions != r.transitions {
		if r.holder != "" {
			out = append(out, storeEvent(histories.FStoreDelete, r.objects.TermKey(r.holder), "", e.Revision, TermSeq(r.transitions), 0))
		}
		if holder != "" {
			out = append(out, storeEvent(histories.FStorePut, r.objects.TermKey(holder), valueOf(holder), e.Revision, TermSeq(transitions), 0))
		}
		r.holder, r.transitions = holder, transitions
	}
	var names []string
	for name := range lease.Annotations {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		key, ok := r.objects.registerOfAnnotation(name)
		value := lease.Annotations[name]
		if !ok || r.annotations[name] == value && r.registers[key].last != 0 {
			continue
		}
		st := r.registers[key]
		if st.created == 0 {
			st.created = e.Revision
		}
		out = append(out, storeEvent(histories.FStorePut, key, value, e.Revision, st.created, st.last))
		st.last = e.Revision
		r.registers[key], r.annotations[name] = st, value
	}
	return out
}

func storeEvent(f, key, value string, rev, createRev, prevRev int64) histories.Event {
	return histories.Event{Type: histories.OK, Process: histories.ProcessStore, F: f, Key: key, Value: value,
		Revision: rev, CreateRevision: createRev, PrevRevision: prevRev}
}

// undecodable is a change of the run's objects that could not be read:
// the record says it missed it, rather than guess.
func undecodable(e histories.Event, err error) histories.Event {
	return histories.Event{Type: histories.Info, Process: histories.ProcessStore, F: histories.FStoreGap, Key: e.Key, Revision: e.Revision,
		Error: fmt.Sprintf("the object stored at revision %d could not be decoded: %v", e.Revision, err)}
}

// storageMagic begins every object kube-apiserver stores as protobuf.
var storageMagic = []byte("k8s\x00")

// decode reads an object as kube-apiserver stores it: its protobuf
// magic, then a runtime.Unknown that wraps the object's own encoding.
func decode(value string, into interface{ Unmarshal([]byte) error }) error {
	raw, ok := bytes.CutPrefix([]byte(value), storageMagic)
	if !ok {
		return fmt.Errorf("not the apiserver's protobuf (%d bytes)", len(value))
	}
	var u runtime.Unknown
	if err := u.Unmarshal(raw); err != nil {
		return fmt.Errorf("the envelope: %w", err)
	}
	return into.Unmarshal(u.Raw)
}
