package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
)

// EndTerm revokes the lease that holds tok's key, as its expiry would.
func (e DB) EndTerm(ctx context.Context, all []db.Member, tok histories.Token) error {
	cli, err := etcdClient(e.ClientEndpoints(all))
	if err != nil {
		return err
	}
	defer cli.Close()
	resp, err := cli.Get(ctx, tok.Key)
	switch {
	case err != nil:
		return fmt.Errorf("reading the leader key %s: %w", tok.Key, err)
	case len(resp.Kvs) == 0:
		return fmt.Errorf("the leader key %s is gone", tok.Key)
	case resp.Kvs[0].CreateRevision != tok.Seq:
		return fmt.Errorf("the leader key %s was created at revision %d, not the token's %d", tok.Key, resp.Kvs[0].CreateRevision, tok.Seq)
	case resp.Kvs[0].Lease == 0:
		return fmt.Errorf("the leader key %s is held under no lease", tok.Key)
	}
	if _, err := cli.Revoke(ctx, clientv3.LeaseID(resp.Kvs[0].Lease)); err != nil {
		return fmt.Errorf("revoking lease %x of %s: %w", resp.Kvs[0].Lease, tok.Key, err)
	}
	return nil
}

// CheckToken: an etcd term is its leader key, under the election prefix,
// and the key's create revision (seq).
func (DB) CheckToken(tok histories.Token, electionPrefix string) error {
	return db.MissingFieldsError(db.MissingKeyAndSeq(tok, electionPrefix, "the leader key", "the leader key's create revision"))
}

var _ db.Terms = DB{}
