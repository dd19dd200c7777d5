package engine

// A review (18e): count_field when a dropped repeat's window rolls over between
// the dedup set's lookup (PeekMany, removeDuplicates) and the acceptance of
// its batch (rememberKeys), as it does for a syslog or Kafka batch re-sent
// "with backoff for as long as it takes" (pipeline/ingest/syslog/server.go)
// while a destination is down.

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestReEmitAcrossWindowKeepsCountAndWindow
//
// Sequence (dedup on, count_field dedup.count, window 1m): k1 is accepted at
// T0; a repeat of k1 at T0+10s is dropped (counted: 1). At T0+20s a syslog
// batch [k1, k2] is refused (archive down): removeDuplicates drops k1 (a
// duplicate) and records the repeat on the batch. The syslog input re-sends
// the same batch with backoff; the archive is back at T0+3m, the batch is
// accepted, and rememberKeys counts the repeat into the set with
// AddCount(k1, T0+3m, 1). At T0+3m10s k1 comes again.
//
// What is wrong: by T0+3m k1's generation has retired and k1 is carried with
// its count (1) for the next kept copy. AddCount takes the late count as "kept
// again: a new window starts" (dedup.go addCountLocked): it clears the carried
// count and records k1 as if a copy had been kept at T0+3m. The copy at
// T0+3m10s, more than three minutes after the only copy ever delivered, is
// then dropped as a duplicate, and the two repeats' count is lost. (Before
// ca52b5d the repeat was counted at lookup, in k1's live generation, and the
// copy at T0+3m10s was kept with "dedup":{"count":2}.)
//
// Expected: the copy at T0+3m10s is kept with "dedup":{"count":2}.
// pipeline/dedup/dedup.go package doc: "every repeat within window of the
// first sighting is dropped ..., and none older than window +
// window/(generations-1) is"; dedup.Config.CountField: "added to the first
// copy of an event kept after a window in which repeats of it were dropped,
// with how many were dropped"; docs/architecture.md (count_field): a refused
// request's repeats count once, "when its resend is accepted".
func TestReEmitAcrossWindowKeepsCountAndWindow(t *testing.T) {
	e, arch, now := countingEngine(t)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil { // T0: k1 kept
		t.Fatal(err)
	}
	*now = now.Add(10 * time.Second)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil { // a repeat, dropped
		t.Fatal(err)
	}
	*now = now.Add(10 * time.Second)
	b := keyedBatch(1, 2)
	arch.Err = errors.New("down")
	if err, _ := emit(t, e, b); err == nil { // refused: the syslog input keeps b and re-sends it
		t.Fatal("expected the refusal")
	}
	*now = now.Add(160 * time.Second) // T0+3m: the archive is back
	arch.Err = nil
	if err, _ := emit(t, e, b); err != nil { // the same batch, re-emitted and accepted
		t.Fatal(err)
	}
	*now = now.Add(10 * time.Second)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil {
		t.Fatal(err)
	}
	evs := arch.Events()
	t.Logf("archive: %s", raws(evs))
	if len(evs) != 3 {
		t.Fatalf("archive got %d events (%s), want 3: k1, k2, then k1 at T0+3m10s (the only copy delivered was at T0)", len(evs), raws(evs))
	}
	if got, want := string(evs[2].Raw), `{"k":1,"dedup":{"count":2}}`; got != want {
		t.Errorf("kept copy after the window: %s, want %s", got, want)
	}
	_ = e.Close(context.Background())
}

// TestReEmitAcrossWindowWithoutPriorRepeat: as above without the
// repeat at T0+10s. k1's generation retires with count 0 and is forgotten;
// the late AddCount(k1, T0+3m, 1) records k1 anew at T0+3m, so the copy at
// T0+3m10s is dropped. Expected: kept with "dedup":{"count":1} (same
// sources).
func TestReEmitAcrossWindowWithoutPriorRepeat(t *testing.T) {
	e, arch, now := countingEngine(t)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(20 * time.Second)
	b := keyedBatch(1, 2)
	arch.Err = errors.New("down")
	if err, _ := emit(t, e, b); err == nil {
		t.Fatal("expected the refusal")
	}
	*now = now.Add(160 * time.Second)
	arch.Err = nil
	if err, _ := emit(t, e, b); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(10 * time.Second)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil {
		t.Fatal(err)
	}
	evs := arch.Events()
	t.Logf("archive: %s", raws(evs))
	if len(evs) != 3 {
		t.Fatalf("archive got %d events (%s), want 3: k1, k2, then k1 at T0+3m10s", len(evs), raws(evs))
	}
	if got, want := string(evs[2].Raw), `{"k":1,"dedup":{"count":1}}`; got != want {
		t.Errorf("kept copy after the window: %s, want %s", got, want)
	}
	_ = e.Close(context.Background())
}
