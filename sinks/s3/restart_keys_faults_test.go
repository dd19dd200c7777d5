package s3

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// TestS3RestartWithClockSteppedBackOverwritesArchivedObject
//
// Sequence: a router (node "node1") stages event A at 12:00:10 and uploads
// it as logs/.../node1-20240501T120010Z-000001.ndjson.zst; it restarts (its
// {seq} counter starts again at 1) and the host clock has meanwhile been
// stepped back (an NTP correction after a boot with a fast RTC, a VM
// restored from a snapshot), so the new process reads 12:00:10 again. It
// stages event B of the same partition.
//
// What happens: the new object gets the same key as the archived one:
// {start} is the wall clock's second and {seq} restarts per process, and
// nothing checks the bucket (no If-None-Match, no persisted high-water mark
// of {start}/{seq} in staging_dir). The PutObject replaces object A: event
// A, acknowledged and confirmed, is gone from the bucket (without
// versioning it is lost; with Object Lock it becomes a hidden non-current
// version that Athena and ListObjects never read).
//
// What should happen: both objects are in the bucket ("a key must never
// repeat", docs/configuration.md; "{start} keeps keys apart across
// restarts"); the only writer identity is node+start+seq, so start-up must
// not hand out a (start, seq) pair an earlier run of this node used.
//
// Why it matters: the archive is the compliance copy of every event; a
// clock step at a restart silently destroys confirmed archive objects.
func TestS3RestartWithClockSteppedBackOverwritesArchivedObject(t *testing.T) {
	srv := s3test.New(t, testBucket)
	staging := t.TempDir()
	now := time.Date(2024, 5, 1, 12, 0, 10, 0, time.UTC)
	clk := func() time.Time { return now }
	cfg := S3Config{StagingDir: staging, MaxObjectBytes: 1} // every write rolls its object

	// A new process starts its {seq} counter where this one is now.
	seq0 := seqCounter.Load()
	hi := seq0
	defer func() { seqCounter.Store(max(hi, seqCounter.Load())) }()

	run := func(raw string) {
		a := openS3(t, srv, cfg, WithClock(clk))
		if err := a.Write(context.Background(), mkBatch(now, ev{raw, pipeline.P1, "fw", now})); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, "upload", func() bool { n, _ := a.Backlog(); return n == 0 })
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}
		hi = max(hi, seqCounter.Load())
	}
	run(`{"event":"A"}`)
	seqCounter.Store(seq0) // the restart: a fresh process
	run(`{"event":"B"}`)

	objects, lines := bucketLines(t, srv)
	if want := []string{`{"event":"A"}`, `{"event":"B"}`}; !slices.Equal(lines, want) {
		keys := make([]string, 0, len(objects))
		for k := range objects {
			keys = append(keys, k)
		}
		t.Fatalf("after a restart with the clock stepped back, the bucket holds %q in objects %q; want %q: the second run reused the key of an archived object and replaced it", lines, keys, want)
	}
}
