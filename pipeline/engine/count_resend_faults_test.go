package engine

// A review (18b): count_field on HTTP resends.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// TestHTTPResendCountsRepeatOnce
//
// Sequence (dedup on, count_field dedup.count, window 1m): event k1 is
// accepted. A sender (HTTP: HEC, _bulk, NDJSON) then posts a request with
// one more copy of k1 and a new event k2. The destination is down, the
// batch is refused, the input answers 503 and the sender resends the same
// request: the HTTP input parses it again into a new batch, holding the
// same copy of k1. The resend is accepted. After the window k1 comes back.
//
// What is wrong: the repeat is counted at lookup (Set.LookupMany increments
// the slot's count for every duplicate it finds), before the batch is
// accepted, and the refused attempt's count is never taken back. The
// sender sent k1 twice (the first copy and one repeat: the resent request
// is the same request), but the kept copy after the window says
// "dedup":{"count":2}: each refusal of a request holding a repeat adds one
// more. A destination that flaps (429 under load) multiplies the count a
// SIEM reads as "how often did this happen" (brute force, beaconing).
//
// Expected: "dedup":{"count":1}. docs/configuration.md (dedup,
// count_field): "the first copy kept after a window in which repeats were
// dropped carries their number", the number of repeats; docs/architecture.md
// (Deduplication): keys are recorded only once the batch is accepted "so a
// batch refused with 429/503 and resent by its sender is not mistaken for a
// duplicate of itself", and the engine counts a refused-then-resent batch
// once per delivery elsewhere (TestUnroutedCountedOncePerDelivery).
func TestHTTPResendCountsRepeatOnce(t *testing.T) {
	e, arch, now := countingEngine(t)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil { // the first copy, accepted
		t.Fatal(err)
	}
	*now = now.Add(time.Second)
	arch.Err = errors.New("down")
	if err, _ := emit(t, e, keyedBatch(1, 2)); err == nil { // the request: refused (503)
		t.Fatal("expected the refusal")
	}
	arch.Err = nil
	*now = now.Add(time.Second)
	if err, _ := emit(t, e, keyedBatch(1, 2)); err != nil { // the same request, resent and parsed again
		t.Fatal(err)
	}
	deduped := testutil.ToFloat64(e.m.InputDedup.WithLabelValues("test"))
	*now = now.Add(2 * time.Minute)
	if err, _ := emit(t, e, keyedBatch(1)); err != nil {
		t.Fatal(err)
	}
	evs := arch.Events()
	if len(evs) != 3 {
		t.Fatalf("archive got %d events (%s), want 3: k1, k2, k1 after the window", len(evs), raws(evs))
	}
	if got, want := string(evs[2].Raw), `{"k":1,"dedup":{"count":1}}`; got != want {
		t.Errorf("kept copy after the window: %s, want %s: the sender sent one repeat of k1, in a request refused once "+
			"and resent (deduplicated-events metric: %v)", got, want, deduped)
	}
	_ = e.Close(context.Background())
}
