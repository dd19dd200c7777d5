package quarantine

// Fault tests (fixed since) from a review of e37b011 (max_total_bytes: reserve/unreserve/recount). The test
// fails against the code as reviewed; its comment gives the sequence, what
// happens, what should happen and why it matters.

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestReviewRecountDropsInFlightReservation: the recount that reserve runs
// when the bound is reached forgets the bytes reserved by Puts whose write
// has not reached the file yet, so the quarantine goes past
// max_total_bytes.
//
// Sequence: max_total_bytes 1000; Put A (a ~600-byte line) reserves its
// bytes and is about to write (held inside RotatingFile.Write, after
// reserve); Put B (another ~600-byte line) finds used+n over the bound,
// recounts the files (A's line is not in them yet: used = 0) and is
// admitted; A and B then both write.
//
// What happens: the files hold ~1200 bytes, past the 1000-byte bound, and
// d.used says ~600 (A's reservation was overwritten by the recount): the
// drift stays until the next recount, and an unreserve after a failed
// write of A would push used below the files' size the same way.
//
// What should happen: the recount adds the reservations of Puts still in
// flight (count files + in-flight bytes), so B is refused ("quarantine
// full") and used matches the files once both returned.
//
// Why it matters: max_total_bytes exists so that a flood of bad records
// cannot fill the volume the queues share; concurrent Puts (every input
// and destination quarantine under a flood) overshoot it by what is in
// flight at each recount, and the bookkeeping drifts.
func TestRecountDropsInFlightReservation(t *testing.T) {
	dir := t.TempDir()
	var calls atomic.Int32
	atGate, gate := make(chan struct{}), make(chan struct{})
	clk := func() time.Time {
		if calls.Add(1) == 2 { // Put A's second call: inside RotatingFile.Write, after reserve
			close(atGate)
			<-gate
		}
		return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	}
	d, err := New(Config{Dir: dir, MaxTotalBytes: 1000}, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(t.Context())
	rec := func(c string) []pipeline.Rejected {
		return []pipeline.Rejected{{Raw: []byte(strings.Repeat(c, 500)), Reason: "invalid_json", Input: "http"}}
	}
	errA := make(chan error, 1)
	go func() { errA <- d.Put(t.Context(), rec("a")) }()
	<-atGate
	d.mu.Lock()
	d.counted = time.Time{} // the last count is over recountEvery old
	d.mu.Unlock()
	errB := make(chan error, 1)
	go func() { errB <- d.Put(t.Context(), rec("b")) }()
	// Let B's reserve run (it recounts, then waits for the file lock A holds).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		d.mu.Lock()
		c := d.counted
		d.mu.Unlock()
		if !c.IsZero() || time.Now().After(deadline) {
			break
		}
	}
	close(gate)
	ea, eb := <-errA, <-errB
	files, err := filesBytes(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	used := d.onDisk + d.inflight
	d.mu.Unlock()
	if ea == nil && eb == nil && files > 1000 {
		t.Errorf("both Puts accepted: the quarantine holds %d bytes, past max_total_bytes 1000 (the recount dropped A's in-flight reservation); used says %d", files, used)
	}
	if ea == nil && eb == nil && used != files {
		t.Errorf("used %d != %d bytes in the files once every Put returned", used, files)
	}
}
