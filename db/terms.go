package db

import (
	"errors"
	"fmt"
	"strings"

	"github.com/election-harness/harness/histories"
)

// MissingKeyAndSeq lists what tok lacks of the two fields every
// database's term has: a key under electionPrefix and a seq above 0.
// keyIs and seqIs say what each is in the database's own words.
func MissingKeyAndSeq(tok histories.Token, electionPrefix, keyIs, seqIs string) []string {
	var missing []string
	if !strings.HasPrefix(tok.Key, electionPrefix) || len(tok.Key) == len(electionPrefix) {
		missing = append(missing, fmt.Sprintf("key: %s, under the election prefix %s (here %q)", keyIs, electionPrefix, tok.Key))
	}
	if tok.Seq <= 0 {
		missing = append(missing, fmt.Sprintf("seq: %s, above 0 (here %d)", seqIs, tok.Seq))
	}
	return missing
}

// MissingFieldsError is CheckToken's answer for the fields a token
// lacks: nil when none, else one error that names them all.
func MissingFieldsError(missing []string) error {
	if len(missing) == 0 {
		return nil
	}
	return errors.New(strings.Join(missing, "; "))
}
