package nemesis

import (
	"context"
	"sync/atomic"
)

// fakeMaintenance is an in-memory store's compactor and defragmenter,
// journaled as "store compact REV" and "NODE defrag"; each compaction
// goes a revision further.
type fakeMaintenance struct {
	j   *journal
	rev atomic.Int64
}

var _ Maintenance = (*fakeMaintenance)(nil)

func (m *fakeMaintenance) CompactBehind(ctx context.Context, keep int64) (int64, error) {
	rev := m.rev.Add(1)
	m.j.add("store compact %d", rev)
	return rev, nil
}

func (m *fakeMaintenance) Defragment(ctx context.Context, member string) error {
	m.j.add("%s defrag", member)
	return nil
}
