package workloads

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/election-harness/harness/histories"
)

// TestReaderMemberCoversEveryMember: campaigners take members in turn,
// so with at least as many campaigners as members each member, the one
// a fault will pause included, has a reader of its own.
func TestReaderMemberCoversEveryMember(t *testing.T) {
	for _, tc := range []struct{ campaigners, members int }{{5, 3}, {3, 3}, {5, 5}, {7, 5}, {1, 1}} {
		seen := map[int]int{}
		for i := range tc.campaigners {
			m := ReaderMember(i, tc.members)
			if m < 0 || m >= tc.members {
				t.Fatalf("%d campaigners, %d members: campaigner %d reads through member %d", tc.campaigners, tc.members, i, m)
			}
			seen[m]++
		}
		if len(seen) != tc.members {
			t.Errorf("%d campaigners, %d members: readers on %d members only (%v)", tc.campaigners, tc.members, len(seen), seen)
		}
		for m, n := range seen {
			if n > tc.campaigners/tc.members+1 {
				t.Errorf("%d campaigners, %d members: member %d has %d readers, want them spread", tc.campaigners, tc.members, m, n)
			}
		}
	}
	if got := ReaderMember(3, 3); got != 0 {
		t.Errorf("campaigner 4 of 3 members reads through member %d, want the first again", got)
	}
}

// TestPinnedReaderNamesItsMemberAndWaits: a pinned reader's reads are
// recorded as process NAME:r@MEMBER, and a read slower than the
// operation timeout but quicker than the read timeout (a member paused
// mid-read) completes ok; an unpinned reader's stays NAME:r and gives
// up at the operation timeout.
func TestPinnedReaderNamesItsMemberAndWaits(t *testing.T) {
	read := func(cfg ClientConfig) histories.Event {
		t.Helper()
		rec, _ := newRecorder(t)
		recipe := &scriptedRecipe{lost: make(chan histories.Token, 1), block: make(chan struct{})}
		time.AfterFunc(400*time.Millisecond, func() { close(recipe.block) })
		cmdR, cmdW := io.Pipe()
		repR, repW := io.Pipe()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go RunCampaigner(ctx, CampaignerConfig{Name: "c1", Recipe: "scripted"}, recipe, cmdR, repW)
		client := NewClient("c1", NewConn("c1", pipeRW{repR, cmdW}, rec, slog.Default()), cfg)
		return client.Read(ctx, client.readTimeout())
	}
	cfg := fastConfig()
	cfg.OpTimeout = 100 * time.Millisecond

	plain := read(cfg)
	if plain.Process != "c1:r" || plain.Type == histories.OK {
		t.Errorf("unpinned read: %s %s %q; want process c1:r, given up after the op timeout", plain.Process, plain.Type, plain.Error)
	}

	cfg.ReadThrough, cfg.ReadTimeout = "n2", 3*time.Second
	pinned := read(cfg)
	if pinned.Process != "c1:r@n2" || pinned.Type != histories.OK || pinned.Value != "v" {
		t.Errorf("pinned read: %s %s %q %q; want process c1:r@n2, ok \"v\" after the member answers", pinned.Process, pinned.Type, pinned.Value, pinned.Error)
	}
	if got := PinnedReaderProcess("c4", "n1"); got != "c4:r@n1" {
		t.Errorf("PinnedReaderProcess: %q", got)
	}
}
