package etcd

import (
	"context"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/db"
)

var _ db.Maintenance = DB{}

// Revision is the store's revision, read linearizably through any member.
func (e DB) Revision(ctx context.Context, members []db.Member) (int64, error) {
	cli, err := etcdClient(e.ClientEndpoints(members))
	if err != nil {
		return 0, err
	}
	defer cli.Close()
	resp, err := cli.Get(ctx, "eh-revision", clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("reading the store's revision: %w", err)
	}
	return resp.Header.Revision, nil
}

// Compact compacts the store's history before rev, physically: the call
// returns once every member has applied it.
func (e DB) Compact(ctx context.Context, members []db.Member, rev int64) error {
	cli, err := etcdClient(e.ClientEndpoints(members))
	if err != nil {
		return err
	}
	defer cli.Close()
	// Compacted there already (by an earlier call): nothing to do.
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil && !errors.Is(err, rpctypes.ErrCompacted) {
		return fmt.Errorf("compacting to revision %d: %w", rev, err)
	}
	return nil
}

// Defragment defragments one member's backend.
func (e DB) Defragment(ctx context.Context, member db.Member) error {
	endpoints := e.ClientEndpoints([]db.Member{member})
	cli, err := etcdClient(endpoints)
	if err != nil {
		return err
	}
	defer cli.Close()
	if _, err := cli.Defragment(ctx, endpoints[0]); err != nil {
		return fmt.Errorf("defragmenting %s: %w", member.Name, err)
	}
	return nil
}
