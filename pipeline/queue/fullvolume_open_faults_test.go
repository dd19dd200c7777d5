package queue

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestOpenOnFullVolumeWithoutCursorFile (a review of 7348865 found it)
//
// Fault: openSub now saves a cursor file for every priority log that has
// none ("the cursor file exists from the first open on"), and a failed save
// fails Open. Queues written by the release before 7348865 have no cursor
// file for a priority whose cursor never moved (nothing of it ever
// delivered: a destination routed P1 only, such as the SIEM, never has P2
// or P3 records, so p2.cursor and p3.cursor were never written). When such
// a queue's volume is full (the situation 7348865 is about: a destination
// down long enough for the backlog to fill the volume), the restart that
// rolls out this release fails: the new cursor file needs a block the
// volume does not have, ENOSPC, and Open returns an error, so the router
// does not start at all and the backlog can never drain (it did start
// before 7348865: nothing was written at open).
//
// Sequence (the package's own fullVolume model of a PersistentVolume):
// a queue whose p2/p3 cursor files do not exist (the old release's
// layout), destination down, acknowledged P1 events fill the volume to
// ENOSPC; restart.
//
// Expected: Open succeeds (the cursor of a log with no file is {0,0}, as
// loadCursor reads a missing file; writing it can wait for room, as
// saveCursors' failures do), and the queued events are delivered once the
// destination is back.
//
// Actual: Open fails with "save the corrected cursor ... no space left on
// device".
func TestOpenOnFullVolumeWithoutCursorFile(t *testing.T) {
	vol := newFullVolume(64) // 256 KiB
	e := newEnv(t, vol, Config{Dir: "/q", SegmentBytes: 64 << 10})
	var mu sync.Mutex
	down := true
	e.sink.setFail(func(*pipeline.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return errors.New("destination down")
		}
		return nil
	})
	// The layout of a queue written before 7348865: no cursor file for the
	// priorities never delivered from.
	for _, p := range []string{"p2", "p3"} {
		if err := vol.Remove("/q/dest/" + p + ".cursor"); err != nil {
			t.Fatal(err)
		}
	}
	if err := vol.SyncDir("/q/dest"); err != nil {
		t.Fatal(err)
	}
	// Fill the volume with acknowledged P1 events.
	accepted := 0
	for _, n := range []int{20, 5, 1} {
		for {
			b := fullVolBatch(n)
			err := e.q.Write(context.Background(), b)
			b.Release()
			if err == nil {
				accepted += n
				continue
			}
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("write: %v", err)
			}
			break
		}
	}
	if accepted == 0 {
		t.Fatal("nothing accepted")
	}
	e.close()

	// Restart (the roll-out of this release) with the volume still full.
	q, err := open("dest", e.cfg, vol, e.sink, e.dlq, e.m, quiet)
	if err != nil {
		if strings.Contains(err.Error(), "no space left") || errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("queue holding %d acknowledged events cannot start on its full volume: %v", accepted, err)
		}
		t.Fatal(err)
	}
	e.q = q
	mu.Lock()
	down = false
	mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := q.WaitIdle(ctx); err != nil {
		t.Errorf("not drained: %v", err)
	}
	e.close()
}
