package queue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestMissingCursorTrimClearsFull (review of c1df048)
//
// Fault: saveCursors' new path for a missing cursor file (a full volume at
// Open could not create it) deletes the delivered segments first
// (s.log.TrimBefore(s.cursor)) and then creates the file; the size used to
// decide noteRoom ("before := s.log.Size()") is read only after that, so
// the segments this path deleted never clear volumeFull, and the trim that
// follows finds nothing more to delete. The commit's own contract - Full
// stays true after ENOSPC "until an append succeeds or a segment is
// deleted" - is broken exactly on the path added for full volumes: the
// replica keeps answering health 503 (no traffic comes, so no append
// clears it) while the queue has just freed most of its volume, until the
// destination takes everything or another whole segment is delivered.
//
// Sequence: a queue whose p1.cursor does not exist (Open on a full volume
// logged "queue cursor file not created"); destination down; acknowledged
// events fill the volume (ENOSPC, Full true); the destination takes the
// first ~700 events written (more than two segments), then is down again;
// the cursor save hits ENOSPC, the missing-file path deletes the delivered
// segments and creates the cursor.
//
// Expected: Full() false once those segments are deleted (fullFor after
// the refusal).
//
// Actual: Full() true; the next Write is accepted.
func TestMissingCursorTrimClearsFull(t *testing.T) {
	vol := newFullVolume(64) // 256 KiB
	e := newEnv(t, vol, Config{Dir: "/q", SegmentBytes: 64 << 10, BatchEvents: 50})
	var mu sync.Mutex
	upTo := int64(0) // the destination takes the events of seq <= upTo
	e.sink.setFail(func(b *pipeline.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range b.Events {
			var n int64
			if _, err := fmt.Sscanf(string(ev.Raw), `{"seq":%d`, &n); err != nil || n > upTo {
				return errors.New("destination down")
			}
		}
		return nil
	})
	first := seq.Load() + 1
	// The layout Open leaves on a full volume: no cursor file for P1.
	if err := vol.Remove("/q/dest/p1.cursor"); err != nil {
		t.Fatal(err)
	}
	if err := vol.SyncDir("/q/dest"); err != nil {
		t.Fatal(err)
	}
	var err error
	for _, n := range []int{20, 5, 1} {
		for {
			b := fullVolBatch(n)
			err = e.q.Write(context.Background(), b)
			b.Release()
			if err != nil {
				break
			}
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("write: %v", err)
		}
	}
	segsFull, freeFull := vol.segments(), vol.free()
	if !e.q.Full() || freeFull != 0 {
		t.Fatalf("volume not full: Full() %v, %d blocks free", e.q.Full(), freeFull)
	}
	refused := time.Now()

	// The destination takes ~700 events (more than two segments), then is
	// down again.
	mu.Lock()
	upTo = first + 700
	mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for vol.segments() >= segsFull && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if vol.segments() >= segsFull {
		t.Fatalf("no segment deleted: %d segments (were %d), delivered %d", vol.segments(), segsFull, len(e.sink.delivered()))
	}
	time.Sleep(time.Until(refused.Add(fullFor + 500*time.Millisecond)))
	time.Sleep(3 * cursorInterval) // every save since has run
	full := e.q.Full()
	b := fullVolBatch(20)
	err = e.q.Write(context.Background(), b)
	b.Release()
	if full {
		t.Errorf("Full() true after the queue deleted %d of its segments (%d blocks free; pending %d events; the next Write: %v): the missing-cursor trim in saveCursors does not call noteRoom",
			segsFull-vol.segments(), vol.free(), e.q.Pending(), err)
	}
	e.close()
}
