package queue

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestUndecodableRecordStaysForLaterReleases: c7a54ae records a
// record this release cannot decode as skipUndecodable, a kind readers
// pass over (passedOver: Log.Skip at every start), to count its events
// lost once. But "cannot decode" means "written by a different version"
// (fill's comment; codec.go keeps new codec versions rare precisely so
// that a rollback can read what a newer release queued). The sequence
// that makes such records is a rollback, and a rollback is followed by a
// roll-forward: release N+1 queues records in codec v4 during a
// destination outage; the operator rolls back to this release, which
// counts them lost and (new in c7a54ae) writes skipUndecodable entries
// while the cursor cannot pass them (the destination is still down); the
// operator rolls forward to N+1, which CAN decode them, loads the same
// skip file, and passes them over: acknowledged security events are
// dropped for good, though they are on disk, whole, and readable by the
// running release. Before c7a54ae the roll-forward delivered them (the
// rollback over-counted them lost: a false alarm, not a loss).
//
// Reproduce: the p2 log holds a record X of 2 events in codec version 9
// and a valid record B; the destination is down; the queue starts (X is
// counted lost) and stops cleanly with the cursor before X. Then, as any
// release with this skip-file format does at start (openSub), the skip
// file is loaded: X's entry is of a passed-over kind, so every reader of
// the log skips X without trying to decode it.
//
// Expected: the entry only keeps X from being counted lost again (as
// skipDamaged does for damage), and X stays visible to the readers of a
// release that decodes it; losing a whole, acknowledged record is worse
// than counting it lost twice. docs/configuration.md says the release
// rolled back onto such records "counts such records as lost (reason
// undecodable_record) and skips them": that release, not the persisted
// state every later release inherits while the cursor has not passed
// them.
//
// Severity: low (needs a rollback then a roll-forward while the cursor
// cannot pass the records, i.e. during a destination outage; the loss is
// silent: it was counted at the rollback).
func TestUndecodableRecordStaysForLaterReleases(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, wal.OS, Config{Dir: dir, BatchEvents: 10, MaxInFlight: 1})
	e.close()
	logDir := filepath.Join(dir, "dest", "p2")
	x, _ := appendUndecodableThenValid(t, wal.OS, logDir)

	// The rollback: this release, destination down.
	e.sink.setFail(func(*pipeline.Batch) error { return errors.New("down") })
	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	m := e.m.Lost.WithLabelValues("dest", "undecodable_record")
	for deadline := time.Now().Add(5 * time.Second); e.val(m) == 0 && time.Now().Before(deadline); {
		time.Sleep(2 * time.Millisecond)
	}
	if e.val(m) != 2 {
		t.Fatalf("lost %v, want 2", e.val(m))
	}
	e.close()

	// The roll-forward's start: cursor and skip file as openSub loads them.
	l, _, err := wal.Open(wal.OS, logDir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cur, err := loadCursor(wal.OS, logDir+".cursor")
	if err != nil {
		t.Fatal(err)
	}
	if x.Less(cur) {
		t.Fatalf("cursor %v passed X %v: the destination was down", cur, x)
	}
	sk, err := loadSkips(wal.OS, logDir+".skip", cur, l)
	if err != nil {
		t.Fatal(err)
	}
	if en, ok := sk.m[x]; ok && en.kind == skipWithdrawn {
		t.Errorf("record X (%v, whole, 2 acknowledged events) has skip entry kind %d, which every later start passes over (Log.Skip): a release that can decode it (the roll-forward after a rollback) never delivers it", x, en.kind)
	}
}
