package consul

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/election-harness/harness/db"
	"github.com/election-harness/harness/histories"
)

// EndTerm destroys the session that holds tok's lock key, as its expiry
// would.
func (DB) EndTerm(ctx context.Context, all []db.Member, tok histories.Token) error {
	if len(all) == 0 {
		return errors.New("no servers")
	}
	cli, err := client(consulAddr(all[0]), 5*time.Second)
	if err != nil {
		return err
	}
	pair, _, err := cli.KV().Get(tok.Key, nil)
	switch {
	case err != nil:
		return fmt.Errorf("reading the lock key %s: %w", tok.Key, err)
	case pair == nil:
		return fmt.Errorf("the lock key %s is gone", tok.Key)
	case pair.Session == "":
		return fmt.Errorf("the lock key %s is held by no session", tok.Key)
	}
	if _, err := cli.Session().Destroy(pair.Session, nil); err != nil {
		return fmt.Errorf("destroying session %s of %s: %w", pair.Session, tok.Key, err)
	}
	return nil
}

// CheckToken: a Consul term is the lock key, under the election prefix,
// the key's modify index at acquisition (seq) and the holding session.
func (DB) CheckToken(tok histories.Token, electionPrefix string) error {
	missing := db.MissingKeyAndSeq(tok, electionPrefix, "the lock key", "the lock key's modify index at acquisition")
	if tok.Session == "" {
		missing = append(missing, "session: the session that holds the lock")
	}
	return db.MissingFieldsError(missing)
}

var _ db.Terms = DB{}
