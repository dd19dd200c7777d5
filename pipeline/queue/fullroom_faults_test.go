package queue

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestFullClearsWhenVolumeRoomReturns (review of c1df048)
//
// Fault: after an ENOSPC refusal, Full stays true (volumeFull) until this
// queue's own append succeeds or this queue deletes one of its own
// segments. Neither happens while the destination is down and nothing is
// sent: Full is what HEC health answers (503 code 18), so the load
// balancer has taken the replica out and sends no request, and the queue
// cannot deliver. Room that comes back from anywhere else - another
// destination's queue on the same volume delivering and trimming, the
// operator deleting files or growing the PersistentVolume - is never seen:
// the replica stays out of rotation for as long as the destination is
// down, although it has room to buffer (which is what the queue is for).
// Before c1df048 Full turned false 2 s after the last refusal.
//
// Sequence: another file takes part of the volume; destination down;
// acknowledged events fill the rest (ENOSPC, Full true); the other file
// goes (room for hundreds of events); no request for fullFor + 1 s.
//
// Expected: Full() false once a Write would be accepted again (at the
// latest some bounded time after the room came back).
//
// Actual: Full() stays true (health 503, no traffic), while the next Write
// is accepted.
func TestFullClearsWhenVolumeRoomReturns(t *testing.T) {
	vol := newFullVolume(64) // 256 KiB
	// Another user of the volume (another destination's queue, a log file).
	f, err := vol.OpenFile("/other", os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(make([]byte, 64<<10)); err != nil {
		t.Fatal(err)
	}
	f.Close()

	e := newEnv(t, vol, Config{Dir: "/q", SegmentBytes: 64 << 10})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("destination down") })
	err = fillVolume(t, e)
	if !e.q.Full() {
		t.Fatal("refused with ENOSPC but Full() is false")
	}
	// The room comes back (64 KiB: some 300 events).
	if err := vol.Remove("/other"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(fullFor + time.Second) // the balancer sends nothing
	full := e.q.Full()
	b := fullVolBatch(20)
	err = e.q.Write(context.Background(), b)
	b.Release()
	if full && err == nil {
		t.Errorf("Full() true %v after the volume got %d free blocks back (health 503: the balancer sends nothing, the destination is down, so nothing ever clears it), yet the next Write is accepted; pending %d events",
			fullFor+time.Second, 16, e.q.Pending())
	}
	e.close()
}
