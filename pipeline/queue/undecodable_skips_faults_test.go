package queue

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// reviewCountFS counts what is written to, and fsynced of, the skip files.
type reviewCountFS struct {
	wal.FS
	skipBytes, skipSyncs atomic.Int64
}

type reviewCountFile struct {
	wal.File
	fs *reviewCountFS
}

func (f reviewCountFile) Write(b []byte) (int, error) {
	f.fs.skipBytes.Add(int64(len(b)))
	return f.File.Write(b)
}

func (f reviewCountFile) Sync() error {
	f.fs.skipSyncs.Add(1)
	return f.File.Sync()
}

func (c *reviewCountFS) OpenFile(name string, flag int, perm os.FileMode) (wal.File, error) {
	f, err := c.FS.OpenFile(name, flag, perm)
	if err != nil || !strings.HasSuffix(name, ".skip.tmp") {
		return f, err
	}
	return reviewCountFile{f, c}, nil
}

// TestUndecodableRunDoesNotRewriteSkipFile: since c7a54ae,
// fill (queue.go) records every record it cannot decode in the skip file
// with skips.add, which rewrites the WHOLE file (sorted, written to a temp
// file, fsynced, renamed, directory fsynced: skipSet.saveLocked,
// writeFileAtomic) for each entry. Records that do not decode come in runs:
// the case fill's comment names ("written by a different version") is a
// rollback after a newer release queued records in a format this one does
// not know (codec.go: a newer codec version), i.e. every record queued
// since the upgrade. Such records add no events to the batch, so one fill
// call goes through the whole run (its loop is bounded by batch_events and
// batch_bytes of decoded events only), and the entries are never pruned in
// between (prune runs in saveCursors, on the same goroutine, after fill
// returns). A run of N records therefore writes N*(N+1)/2 entries (25
// bytes each) and 2N fsyncs while the forwarder delivers nothing: 100,000
// records (a backlog of a few million events) write ~125 GB and make
// 200,000 fsyncs before the first valid record behind them is delivered,
// an outage of the destination's delivery for hours after a rollback.
// Before c7a54ae the same run was passed over in memory.
//
// Reproduce: the p2 log holds 2,000 records of an unknown codec version (9)
// and one valid record behind them; the queue starts with a working
// destination; wait until the valid event is delivered; count the bytes
// written to and fsyncs of <p>.skip.tmp.
//
// Expected: the cost of recording the run is linear in its length (one
// rewrite per fill, or entries appended), e.g. at most a few times
// N x entrySize bytes; the commit's aim (count them once across restarts)
// does not need a durable rewrite per record.
//
// Severity: medium (rollback-only, but a quadratic stall of delivery).
func TestUndecodableRunDoesNotRewriteSkipFile(t *testing.T) {
	const n = 2000
	fs := &reviewCountFS{FS: wal.NewMemFS()}
	dir := t.TempDir()
	e := newEnv(t, fs, Config{Dir: dir, BatchEvents: 100, MaxInFlight: 1})
	e.close()
	l, _, err := wal.Open(fs, filepath.Join(dir, "dest", "p2"), wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, _, err := l.Append([]byte{9, 'n', 'e', 'w', byte(i), byte(i >> 8)}, 1); err != nil {
			t.Fatal(err)
		}
	}
	bb := batch(pipeline.P2)
	valid := string(bb.Events[0].Raw)
	if _, _, err := l.Append(appendEvents(nil, bb.Events), 1); err != nil {
		t.Fatal(err)
	}
	bb.Release()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	fs.skipBytes.Store(0)
	fs.skipSyncs.Store(0)
	start := time.Now()
	e.open()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if strings.Contains(strings.Join(e.sink.delivered(), ","), valid) {
			break
		}
	}
	took := time.Since(start)
	written, syncs := fs.skipBytes.Load(), fs.skipSyncs.Load()
	e.close()
	t.Logf("%d undecodable records: %d bytes written to the skip file, %d fsyncs of it, %v until the valid record behind them was delivered", n, written, syncs, took)
	if limit := int64(4 * n * entrySize); written > limit {
		t.Errorf("a run of %d undecodable records wrote %d bytes (%.0fx the %d bytes of its entries) and fsynced the skip file %d times before the next valid record was delivered: quadratic in the run's length", n, written, float64(written)/float64(n*entrySize), n*entrySize, syncs)
	}
}
