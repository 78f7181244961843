package run

import (
	"context"
	"fmt"

	"github.com/election-harness/harness/db"
)

// Maintenance lets the nemesis compact the store and defragment members
// through the database, never compacting past what the store's record
// has read: the record must stay complete.
type Maintenance struct {
	DB      db.Maintenance
	Members []db.Member
	// Recorded is the revision up to which the store's record has read.
	Recorded func() int64
}

// CompactBehind compacts to keep revisions behind the store's head, or
// to what the record has read if that is lower.
func (m Maintenance) CompactBehind(ctx context.Context, keep int64) (int64, error) {
	head, err := m.DB.Revision(ctx, m.Members)
	if err != nil {
		return 0, err
	}
	rev := min(head-keep, m.Recorded())
	if rev <= 1 {
		return 0, nil
	}
	return rev, m.DB.Compact(ctx, m.Members, rev)
}

// Defragment defragments the named member.
func (m Maintenance) Defragment(ctx context.Context, name string) error {
	for _, mem := range m.Members {
		if mem.Name == name {
			return m.DB.Defragment(ctx, mem)
		}
	}
	return fmt.Errorf("no member %q", name)
}
