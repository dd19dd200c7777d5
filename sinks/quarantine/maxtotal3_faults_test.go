package quarantine

// Fault test (fixed since) from a review of the max_total_bytes accounting
// (onDisk + inflight); the test drives Put A by hand, as Put does it.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestReviewRecountCountsWrittenInflightTwice: a recount that runs while
// a Put has written its line (write(2) done, fsync under way) but not yet
// settled its reservation sees the line in the files (onDisk) and still
// counts its reservation (inflight); written then adds it to onDisk again.
// onDisk is over by the line until the next recount, which reserve only
// runs once a second: in between, Puts that fit are refused "full".
//
// Sequence (Put's steps, interleaved as two goroutines can): Put A reserves
// its line (L bytes) and RotatingFile.Write writes it; before A's
// written(), Put B (another L bytes) finds the bound passed and recounts
// (files: L) - refused, rightly (L + L > max); A settles. Put C (s < L
// bytes, L + s = max_total_bytes) comes right after.
func TestRecountCountsWrittenInflightTwice(t *testing.T) {
	dir := t.TempDir()
	clk := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC) }
	recA := []pipeline.Rejected{{Raw: []byte(strings.Repeat("a", 500)), Reason: "invalid_json", Input: "http"}}
	recC := []pipeline.Rejected{{Raw: []byte("c"), Reason: "invalid_json", Input: "http"}}
	lineA := AppendRecord(nil, &recA[0], clk())
	lineC := AppendRecord(nil, &recC[0], clk())
	L, s := int64(len(lineA)), int64(len(lineC))
	max := L + s
	d, err := New(Config{Dir: dir, MaxTotalBytes: max}, WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(t.Context())

	// Put A, up to its write (as Put does it: under the recount lock).
	if err := d.reserve(L); err != nil {
		t.Fatal(err)
	}
	d.recount.RLock()
	if err := d.rf.Write(t.Context(), lineA); err != nil {
		t.Fatal(err)
	}
	// Put B, while A's fsync runs; the last count is over recountEvery old.
	d.mu.Lock()
	d.counted = time.Now().Add(-2 * recountEvery)
	d.mu.Unlock()
	errB := make(chan error, 1)
	go func() { errB <- d.Put(t.Context(), recA) }()
	time.Sleep(50 * time.Millisecond) // B waits for A's write to settle before it recounts
	// Put A settles.
	d.written(L, true)
	d.recount.RUnlock()
	if err := <-errB; !errors.Is(err, ErrFull) {
		t.Fatalf("Put B of %d bytes with %d on disk and max %d: %v, want ErrFull", L, L, max, err)
	}

	files, err := filesBytes(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	onDisk := d.onDisk
	d.mu.Unlock()
	cerr := d.Put(t.Context(), recC)
	if onDisk != files || cerr != nil {
		t.Errorf("the files hold %d bytes, onDisk says %d (A's line counted twice); Put C of %d bytes (%d+%d <= max_total_bytes %d): %v, want nil", files, onDisk, s, files, s, max, cerr)
	}
}
