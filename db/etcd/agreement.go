package etcd

import (
	"context"
	"fmt"
	"time"

	"github.com/election-harness/harness/db"
)

// MemberHashes asks every member for the hash of its key-value store up
// to one revision (Maintenance.HashKV): the lowest revision any member
// has applied, so that each can answer. The whole keyspace is hashed,
// prefix aside: a member's data is the run's.
func (e DB) MemberHashes(ctx context.Context, all []db.Member, prefix string) []db.MemberHash {
	out := make([]db.MemberHash, len(all))
	cli, err := etcdClient(e.ClientEndpoints(all))
	if err != nil {
		for i, m := range all {
			out[i] = db.MemberHash{Member: m.Name, Err: err}
		}
		return out
	}
	defer cli.Close()
	rev := int64(0)
	for i, m := range all {
		out[i].Member = m.Name
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		st, err := cli.Status(sctx, clientURL(m))
		cancel()
		if err != nil {
			out[i].Err = fmt.Errorf("status of %s: %w", m.Name, err)
			continue
		}
		if rev == 0 || st.Header.Revision < rev {
			rev = st.Header.Revision
		}
	}
	for i, m := range all {
		if out[i].Err != nil {
			continue
		}
		hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		h, err := cli.HashKV(hctx, clientURL(m), rev)
		cancel()
		if err != nil {
			out[i].Err = fmt.Errorf("hash of %s at revision %d: %w", m.Name, rev, err)
			continue
		}
		out[i].Hash, out[i].Revision = fmt.Sprintf("%08x", h.Hash), rev
	}
	return out
}

var _ db.Agreement = DB{}
