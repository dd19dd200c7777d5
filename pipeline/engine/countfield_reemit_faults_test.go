package engine

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestCountFieldReEmitKeepsWindowCount (a review of 652bb75 found it)
//
// Fault: with count_field, removeDuplicates now writes the field on a
// kept copy as soon as its batch has in-batch repeats, and a batch that
// its source emits again after a refusal (syslog, Kafka: the same Batch)
// "keeps the field its first pass wrote" (appendCount leaves an existing
// field alone). But the second pass can owe the kept copy more than the
// first: when the copy becomes the first kept after a window in which
// later batches' repeats were dropped (the set hands their count over,
// carried), that count is added to n and then silently discarded by
// appendCount; rememberKeys then clears the carried count in the set. The
// repeats of that window are never reported anywhere.
//
// Before 652bb75 the first pass wrote nothing when the set owed nothing
// (dropped == 0), so the second pass wrote the carried count and the set
// kept the in-batch repeats for the next window: nothing was lost.
//
// Sequence: batch X = two copies of key 1 is refused (destination down);
// its kept copy now carries dedup.count 1. Batch Y (key 1) is accepted and
// delivered; batch Z (key 1) 10 s later is dropped as a repeat (the set
// counts 1). Two minutes later (window over) X is emitted again and
// accepted.
//
// Expected: 4 copies of key 1 came in (X: 2, Y: 1, Z: 1); deliveries plus
// the counts they carry add up to 4: Y delivered without count, X
// delivered with dedup.count 2 (its own repeat plus Z's, the window's).
//
// Actual: X is delivered with dedup.count 1: Z's repeat is lost (and
// nothing later reports it: the set's count was cleared).
func TestCountFieldReEmitKeepsWindowCount(t *testing.T) {
	e, arch, now := countingEngine(t)
	x := keyedBatch(1, 1)
	arch.Err = errors.New("down")
	if err, _ := emit(t, e, x); err == nil {
		t.Fatal("expected the refusal")
	}
	arch.Err = nil
	if err, _ := emit(t, e, keyedBatch(1)); err != nil { // Y
		t.Fatal(err)
	}
	*now = now.Add(10 * time.Second)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil { // Z: a repeat within the window
		t.Fatal(err)
	}
	*now = now.Add(2 * time.Minute)
	if err, _ := emit(t, e, x); err != nil { // X again, as syslog and Kafka do
		t.Fatal(err)
	}
	// Another window later, a last copy: whatever is still owed shows here.
	*now = now.Add(5 * time.Minute)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`"count":(\d+)`)
	delivered, counted := 0, 0
	var raws []string
	for _, ev := range arch.Events() {
		delivered++
		raws = append(raws, string(ev.Raw))
		if m := re.FindSubmatch(ev.Raw); m != nil {
			n, _ := strconv.Atoi(string(m[1]))
			counted += n
		}
	}
	// 5 copies in all (X 2, Y, Z, the last one).
	if delivered+counted != 5 {
		t.Errorf("5 copies of the event came in; delivered %d + dedup.count %d = %d (delivered: %v)",
			delivered, counted, delivered+counted, raws)
	}
	_ = e.Close(context.Background())
}
