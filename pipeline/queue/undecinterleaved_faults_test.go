package queue

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestUndecodableInterleavedRewritesSkipFilePerBatch: b5b11ed
// records undecodable records "with one write of the skip file" per fill,
// arguing that "records that do not decode come in runs ... and one fill
// passes a whole run, as they add no events". That holds only for a pure
// run. codec.go writes version 2 only "for records holding a replayed
// event" and version 3 only for events with their own dedup key, so after
// a rollback to a release that knows fewer versions the records it cannot
// decode are scattered among ones it can. Then every fill (one per
// delivered batch) that meets one rewrites the WHOLE skip file durably
// (temp file written and fsynced, renamed, directory fsynced), and the set
// only shrinks when saveCursors prunes it (every cursorInterval, 200 ms),
// so within each interval the bytes written grow quadratically with the
// number of batches, and the forwarder pays two fsyncs per batch.
//
// Sequence: the p2 log holds 2,000 pairs (a record of an unknown codec
// version, then a valid one-event record); batch_events 1; a working
// destination; wait until the last valid event is delivered; count what
// was written to and fsynced of <p>.skip.tmp.
//
// Expected (the existing TestUndecodableRunDoesNotRewriteSkipFile's bar,
// and the commit's claim of linear cost): a few times N x entrySize bytes.
// Observed: many times that (each batch rewrites everything recorded since
// the last prune) and ~2 fsyncs per delivered batch.
//
// Severity: low-medium (performance during a rollback backlog; no data is
// wrong). Fix: append entries to the skip file (an append-only journal
// compacted at prune) or defer the durable write to saveCursors, which
// must in any case make it durable before the cursor passes the records.
//
// Fixed: fill keeps the records (sub.undec) and saveCursors writes their
// entries with one write (countUndecodable, skipSet.addAll), at most once
// per save.
func TestUndecodableInterleavedRewritesSkipFilePerBatch(t *testing.T) {
	const n = 2000
	fs := &reviewCountFS{FS: wal.NewMemFS()}
	dir := t.TempDir()
	e := newEnv(t, fs, Config{Dir: dir, BatchEvents: 1, MaxInFlight: 1})
	e.close()
	l, _, err := wal.Open(fs, filepath.Join(dir, "dest", "p2"), wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for i := 0; i < n; i++ {
		if _, _, err := l.Append([]byte{9, 'n', 'e', 'w', byte(i), byte(i >> 8)}, 1); err != nil {
			t.Fatal(err)
		}
		bb := batch(pipeline.P2)
		last = string(bb.Events[0].Raw)
		if _, _, err := l.Append(appendEvents(nil, bb.Events), 1); err != nil {
			t.Fatal(err)
		}
		bb.Release()
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	fs.skipBytes.Store(0)
	fs.skipSyncs.Store(0)
	start := time.Now()
	e.open()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if strings.Contains(strings.Join(e.sink.delivered(), ","), last) {
			break
		}
	}
	took := time.Since(start)
	written, syncs := fs.skipBytes.Load(), fs.skipSyncs.Load()
	e.close()
	t.Logf("%d undecodable records interleaved with %d valid ones: %d bytes written to the skip file, %d fsyncs of it, %v", n, n, written, syncs, took)
	if limit := int64(4 * n * entrySize); written > limit {
		t.Errorf("%d undecodable records scattered among valid ones wrote %d bytes to the skip file (%.0fx the %d bytes of its entries) with %d fsyncs of it: one durable rewrite of the whole set per batch",
			n, written, float64(written)/float64(n*entrySize), n*entrySize, syncs)
	}
}
