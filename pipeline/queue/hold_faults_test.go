package queue

// Fault tests from a review of commit a8bfcd8 (write on hold, commit or
// abort). Each fails against the code as it was found; the comments
// describe that code.

import (
	"errors"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestHeldBatchKeepsLedgerBalanced: the ledger must balance at every moment
// (deliver books events as it goes precisely so that it does), but a batch
// on hold is counted queued without being counted accepted.
//
// Sequence: WriteHeld(P1, P3); read the ledger before the engine commits
// (as /admin/stats or a Prometheus scrape does at any time).
//
// What happens: Queue.append adds the events to queued (the per-priority
// gauge) as soon as they are appended, but hold.Commit adds them to
// accepted only when the engine commits: while the batch is on hold the
// ledger reads accepted 0 + recovered 0 != queued 2. The hold lasts as long
// as the batch's slowest lane (a destination without a queue: up to
// write_timeout, 30 s by default), so scrapes routinely see it.
//
// What should happen: accepted + recovered = delivered + quarantined +
// dropped + lost + queued at every scrape: a held record is counted in
// queued only when it is committed (withdraw then has nothing to take back
// from queued), or in a separate "held" term the ledger knows about.
//
// Why it matters: the conservation ledger is the operator's proof that no
// event was lost; a queue whose ledger is off by the in-flight batches
// raises false alarms (or hides a real loss of the same size).
func TestHeldBatchKeepsLedgerBalanced(t *testing.T) {
	e := newEnv(t, wal.NewMemFS(), Config{Dir: "/q"})
	b := batch(pipeline.P1, pipeline.P3)
	defer b.Release()
	h, err := e.q.WriteHeld(t.Context(), b)
	if err != nil {
		t.Fatal(err)
	}
	e.ledger() // fails here: accepted 0, queued 2
	h.Commit()
	e.waitIdle()
	e.ledger()
	e.close()
}

// TestAbortedRecordNotRedeliveredAfterCleanRestart: a withdrawn record is
// skipped by the Reader, but the cursor only moves over records the Reader
// returned (fill sets end = rec.Next), so when the withdrawn record is the
// last one of its log the cursor stays before it. Log.Abort lives in memory
// only; Close saves that cursor, and the next Open reads the withdrawn
// record as any other: it is counted recovered and delivered.
//
// Sequence: a P1 event is written and delivered; Write(P1, P3) fails
// because the p3 log's segment refuses writes (ENOSPC), so the P1 record
// it appended is aborted and the sender is told to retry; the router is
// restarted cleanly (the operator frees the disk and restarts it, or an
// upgrade); the sender then resends the batch.
//
// What happens: after the restart the aborted P1 event is delivered, and
// the resend delivers it again: the P1 alert reaches the SIEM twice, the
// very duplicate the commit set out to remove. The docs promise this only
// for a crash ("a crash after an abort and before the segment is trimmed");
// a clean Close does the same.
//
// What should happen: a clean restart never delivers a withdrawn record:
// the cursor moves over records the Reader skipped as aborted (Reader could
// report the position after a skipped record, and fill set end from it), so
// that the saved cursor lies after them.
//
// Why it matters: P1 logs are sparse (alerts), so an aborted P1 record can
// sit at the tail of its log for hours, and any restart in that time
// duplicates an alert the sender was told to resend.
func TestAbortedRecordNotRedeliveredAfterCleanRestart(t *testing.T) {
	var failP3 atomic.Bool
	efs := &wal.ErrorFS{FS: wal.NewMemFS(), Inject: func(op, name string) error {
		if failP3.Load() && op == "write" && strings.HasSuffix(name, ".seg") && filepath.Base(filepath.Dir(name)) == "p3" {
			return syscall.ENOSPC
		}
		return nil
	}}
	e := newEnv(t, efs, Config{Dir: "/q"})
	if _, err := e.write(pipeline.P1); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()

	b := batch(pipeline.P1, pipeline.P3)
	defer b.Release()
	p1 := string(b.Events[0].Raw)
	failP3.Store(true)
	if err := e.q.Write(t.Context(), b); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write with the p3 log failing: %v, want ENOSPC", err)
	}
	failP3.Store(false)
	e.waitIdle()

	e.reopen() // a clean restart: Close saves the cursors
	e.waitIdle()
	// The sender resends the batch it was told to retry.
	if err := e.q.Write(t.Context(), b); err != nil {
		t.Fatalf("resend: %v", err)
	}
	e.waitIdle()
	n := 0
	for _, g := range e.sink.delivered() {
		if g == p1 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("P1 event %s delivered %d times for one batch refused, a clean restart, and the batch resent once; want 1", p1, n)
	}
	if rec := e.val(e.m.Recovered); rec != 0 {
		t.Errorf("the restart recovered %v events; the only record after the saved cursor had been withdrawn", rec)
	}
	e.ledger()
	e.close()
}
