package db

import (
	"testing"

	"github.com/election-harness/harness/histories"
)

func TestMissingKeyAndSeq(t *testing.T) {
	tests := []struct {
		name string
		tok  histories.Token
		want string // MissingFieldsError's message; "" for nil
	}{
		{name: "complete", tok: histories.Token{Key: "/e/c1", Seq: 5}},
		{name: "key outside the prefix", tok: histories.Token{Key: "/x/c1", Seq: 5},
			want: `key: the leader key, under the election prefix /e/ (here "/x/c1")`},
		{name: "key is the prefix", tok: histories.Token{Key: "/e/", Seq: 5},
			want: `key: the leader key, under the election prefix /e/ (here "/e/")`},
		{name: "nothing", tok: histories.Token{},
			want: `key: the leader key, under the election prefix /e/ (here ""); seq: its create revision, above 0 (here 0)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := MissingFieldsError(MissingKeyAndSeq(tt.tok, "/e/", "the leader key", "its create revision"))
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
