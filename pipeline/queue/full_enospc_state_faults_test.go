package queue

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestFullStaysTrueWhileVolumeStillFull (a review of 7348865 found it)
//
// Fault: an ENOSPC refusal makes Full true only for fullFor (2 s): it is
// noted with need 0 (noteRefused(0)), so Full's state test ("it still has
// no room for the last batch it refused") can never hold for it. Full's
// own contract says it reports the state, "not only the last refusal, so
// that a load balancer that stopped sending does not see it healthy again
// while it is as full as before"; for a full volume it does exactly that:
// 2 s after the balancer took the replica out (HEC health 503 code 18),
// health answers 200 again, the balancer sends, every request is refused
// 503, health goes 503 for 2 s, and so on, for as long as the volume is
// full (the destination down).
//
// Sequence: destination down; acknowledged events fill the volume
// (ENOSPC); no writes for fullFor + 200 ms; the volume is as full as
// before (the next Write is still refused with ENOSPC).
//
// Expected: Full() true while a Write would be refused for want of room.
//
// Actual: Full() false, and the very next Write is refused with ENOSPC.
func TestFullStaysTrueWhileVolumeStillFull(t *testing.T) {
	vol := newFullVolume(64)
	e := newEnv(t, vol, Config{Dir: "/q", SegmentBytes: 64 << 10})
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("destination down") })
	err := fillVolume(t, e)
	if !e.q.Full() {
		t.Fatalf("refused with ENOSPC but Full() is false at once")
	}
	time.Sleep(fullFor + 200*time.Millisecond) // the balancer stopped sending
	full := e.q.Full()
	b := fullVolBatch(20)
	err = e.q.Write(context.Background(), b)
	b.Release()
	if !full && errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Full() false while the volume is as full as before: the next Write is refused (%v); pending %d events", err, e.q.Pending())
	}
	e.close()
}
