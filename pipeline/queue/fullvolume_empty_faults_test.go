package queue

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestFullEmptyQueueOnFullVolume: a queue with nothing pending whose
// volume is full (filled by another queue on the volume, a log file, by
// hand) refuses every Write with ENOSPC. Full() used to turn false fullFor
// after the refusal (pending == 0 returned before volumeFull was looked
// at): HEC health answered 200 again, the balancer sent, every request was
// refused, Full was true for 2 s, and so on (the flapping c1df048 meant to
// end). Once the volume has room again, Full() says so.
func TestFullEmptyQueueOnFullVolume(t *testing.T) {
	vol := newFullVolume(64) // 256 KiB
	e := newEnv(t, vol, Config{Dir: "/q", SegmentBytes: 64 << 10})
	defer e.close()
	// Another user of the volume takes every block left.
	f, err := vol.OpenFile("/other", os.O_CREATE|os.O_WRONLY, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(make([]byte, vol.free()*fullVolBlock))
	f.Close()
	if vol.free() != 0 {
		t.Fatalf("volume not full: %d blocks free", vol.free())
	}
	b := fullVolBatch(20)
	err = e.q.Write(context.Background(), b)
	b.Release()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full volume: %v, want ENOSPC", err)
	}
	if p := e.q.pendingBytes.Load(); p != 0 {
		t.Fatalf("pending %d, want 0", p)
	}
	if !e.q.Full() {
		t.Fatal("Full() false right after the ENOSPC refusal")
	}
	// fullFor passes without a request (the balancer took the replica out),
	// and nothing on the volume changed.
	e.q.refusedAt.Store(monoNow() - int64(fullFor) - int64(time.Second))
	full := e.q.Full()
	b = fullVolBatch(20)
	err = e.q.Write(context.Background(), b)
	b.Release()
	if !full && errors.Is(err, syscall.ENOSPC) {
		t.Errorf("volume still full (%d blocks free): Full() = false, yet the next Write is refused: %v", vol.free(), err)
	}
	// The other user frees its space: Full() says so at the next recheck
	// (at most fullFor after the last), with nothing written meanwhile.
	if err := vol.Remove("/other"); err != nil {
		t.Fatal(err)
	}
	e.q.refusedAt.Store(monoNow() - int64(fullFor) - int64(time.Second))
	e.q.volChecked.Store(monoNow() - int64(fullFor) - int64(time.Second))
	if e.q.Full() {
		t.Fatalf("Full() true with %d blocks free on the volume and nothing pending", vol.free())
	}
}
