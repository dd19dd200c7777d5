package engine

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestReEmittedRepeatLosesItsInBatchCount: with count_field, a
// batch that syslog or Kafka emits again after a refusal keeps, on its
// first copy of a key, the number of in-batch repeats the first pass
// dropped (Event.DedupRepeats; TestInBatchRepeatsSurviveReEmit). That count
// is handed to the set only by rememberKeys, i.e. only if this copy is
// kept and accepted.
//
// Sequence: batch [k1, k1] is refused (the archive is down): the second k1
// is dropped as an in-batch repeat and counted, the first carries
// DedupRepeats 1. Another batch with k1 is then accepted. The refused batch
// is emitted again: its k1 is now a duplicate of the accepted one and is
// dropped; Lookup counts one repeat. After the window the next k1 is kept.
//
// What happens: the kept copy says "dedup":{"count":1}, while two copies of
// k1 were dropped (logrouter_input_deduplicated_events_total says 2): the
// in-batch repeat's count died with the event that carried it.
//
// What should happen: the count field reports every repeat the engine
// dropped and counted in the window, 2; an event dropped as a duplicate
// should hand its DedupRepeats to the set (e.g. AddCount(key, now,
// DedupRepeats) for dropped events with repeats, or a LookupMany that
// takes per-key weights).
//
// Why it matters: count_field is how a SIEM sees how often a suppressed
// event happened (brute force, beaconing); the number disagrees with the
// router's own dropped-duplicate metric.
func TestReEmittedRepeatLosesItsInBatchCount(t *testing.T) {
	e, arch, now := countingEngine(t)
	b := keyedBatch(1, 1)
	arch.Err = errors.New("down")
	if err, _ := emit(t, e, b); err == nil {
		t.Fatal("expected the refusal")
	}
	arch.Err = nil
	if err, _ := emit(t, e, keyedBatch(1)); err != nil { // another copy, accepted
		t.Fatal(err)
	}
	*now = now.Add(time.Second)
	if err, _ := emit(t, e, b); err != nil { // the refused batch, emitted again
		t.Fatal(err)
	}
	deduped := testutil.ToFloat64(e.m.InputDedup.WithLabelValues("test"))
	*now = now.Add(2 * time.Minute)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil {
		t.Fatal(err)
	}
	evs := arch.Events()
	if len(evs) != 2 {
		t.Fatalf("archive got %d events, want 2", len(evs))
	}
	if got, want := string(evs[1].Raw), `{"k":1,"dedup":{"count":2}}`; got != want {
		t.Errorf("kept copy after the window: %s, want %s (%v copies of key 1 were dropped and counted as duplicates)", got, want, deduped)
	}
	_ = e.Close(context.Background())
}
