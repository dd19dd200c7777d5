package httpin

// Refusal and resend invariants at the HTTP input (found by a review).

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
)

func dedupConfig() dedup.Config {
	return dedup.Config{Enabled: true, Window: time.Minute, MaxBytes: 1 << 20, Scope: "global"}
}

// toggleSink refuses every Write (queue full) while refuse is set, else
// records the events.
type toggleSink struct {
	mu     sync.Mutex
	refuse bool
	events []string
}

func (s *toggleSink) Name() string { return "all" }
func (s *toggleSink) Write(_ context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse {
		return fmt.Errorf("queue full: %w", pipeline.ErrOverloaded)
	}
	for _, ev := range b.Events {
		s.events = append(s.events, string(ev.Raw))
	}
	return nil
}
func (s *toggleSink) Close(context.Context) error { return nil }
func (s *toggleSink) set(refuse bool) {
	s.mu.Lock()
	s.refuse = refuse
	s.mu.Unlock()
}

// TestRefusedRejectsSwallowOtherSendersRecord: refusedRejects
// (refused.go) remembers the rejected records of a refused request so that
// its resend does not quarantine them twice. It matches them by input,
// reason and raw bytes only, so the next request of ANY sender that carries
// the same bad line (an empty/garbage heartbeat, a truncated too_large
// prefix) consumes the memory: that request's record is neither stored nor
// counted, though its sender was told (bulk item 400, HEC/NDJSON summary)
// that it was quarantined. Here the second request is not a resend (other
// _index, another sender; the first sender's retry went to another replica
// or was given up).
func TestRefusedRejectsSwallowOtherSendersRecord(t *testing.T) {
	sink := &toggleSink{refuse: true}
	f := newFixture(t, Config{}, sink)
	q := f.q

	// Request A (index a): one event, one bad line; refused (queue full).
	w := f.do("POST", "/_bulk", "", "{\"index\":{\"_index\":\"a\"}}\n{\"x\":1}\n{\"index\":{\"_index\":\"a\"}}\nnot json\n")
	if w.Code != 429 {
		t.Fatalf("A: %d %s", w.Code, w.Body)
	}
	sink.set(false)
	// Request B, another sender (index b): accepted; its bad line answered 400.
	w = f.do("POST", "/_bulk", "", "{\"index\":{\"_index\":\"b\"}}\n{\"y\":2}\n{\"index\":{\"_index\":\"b\"}}\nnot json\n")
	br := decodeBulk(t, w)
	if w.Code != 200 || len(br.Items) != 2 || br.Items[1]["index"].Status != 400 {
		t.Fatalf("B: %d %s", w.Code, w.Body)
	}
	quar := testutil.ToFloat64(f.eng.Metrics().Quarantined)
	if n := len(q.Records()); n != 2 || quar != 2 {
		t.Errorf("after B: quarantine holds %d records, quarantined counter %v; want 2: B's bad line, answered 400 inside a 200, was stored nowhere and counted nowhere (had A's sender retried against another replica, it would stay so)", n, quar)
	}
	// A's sender resends A here: accepted; its bad line is in the
	// quarantine already and must not be stored again.
	w = f.do("POST", "/_bulk", "", "{\"index\":{\"_index\":\"a\"}}\n{\"x\":1}\n{\"index\":{\"_index\":\"a\"}}\nnot json\n")
	if w.Code != 200 {
		t.Fatalf("A resent: %d %s", w.Code, w.Body)
	}
	recs := q.Records()
	var idx []string
	for _, r := range recs {
		idx = append(idx, r.DefaultIndex)
	}
	if fmt.Sprint(idx) != "[a b]" {
		t.Errorf("after A's resend the quarantine holds records of indexes %v, want [a b]: B's record was swallowed and A's stored twice, so a replay routes B's line with A's index/source type and replays A's twice", idx)
	}
}

// TestRefusedRequestCountsRepeatsAsDeduplicatedAndAccepted: the
// engine counts the repeats it removes from a batch as deduplicated (and,
// in the ledger, accepted: input - refused) at Emit, whether or not the
// batch is then accepted. An HTTP sender that is refused resends the whole
// request, repeats included, so every refused attempt adds its repeats to
// logrouter_input_deduplicated_events_total, the suppressed-bytes saving
// and the ledger's Accepted, though nothing of it was acknowledged (the
// docs: refused events were never acknowledged). Under a queue full for a
// few minutes and senders retrying every second, "accepted" and
// "deduplicated" grow with every retry.
//
// Request: two identical events (one is an in-batch repeat). Refused once
// (queue full), then resent and accepted. One copy was delivered, one
// suppressed, and the sender's request was acknowledged once.
func TestRefusedRequestCountsRepeatsAsDeduplicatedAndAccepted(t *testing.T) {
	sink := &toggleSink{refuse: true}
	f := newFixture(t, Config{}, sink)
	f.eng.EnableDedup(dedupConfig())
	body := "{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"m\":\"x\"}\n{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"m\":\"x\"}\n"
	if w := f.do("POST", "/ingest", "", body); w.Code != 429 {
		t.Fatalf("first attempt: %d %s", w.Code, w.Body)
	}
	m := f.eng.Metrics()
	in := testutil.ToFloat64(m.InputEvents)
	refused := testutil.ToFloat64(m.InputRefused)
	dd := sumOf(t, m.InputDedup)
	if in-refused != 0 {
		t.Errorf("after a refused request (429, nothing acknowledged): ledger accepted = input %v - refused %v = %v, want 0; deduplicated %v", in, refused, in-refused, dd)
	}
	sink.set(false)
	if w := f.do("POST", "/ingest", "", body); w.Code != 200 {
		t.Fatalf("resend: %d %s", w.Code, w.Body)
	}
	if got := len(sink.events); got != 1 {
		t.Fatalf("delivered %d, want 1", got)
	}
	if dd := sumOf(t, m.InputDedup); dd != 1 {
		t.Errorf("logrouter_input_deduplicated_events_total = %v after one request (refused once, then accepted) whose one repeat was suppressed once, want 1", dd)
	}
}

// sumOf sums a metric's series (0 when it has none yet).
func sumOf(t *testing.T, c prometheus.Collector) float64 {
	t.Helper()
	ch := make(chan prometheus.Metric, 64)
	go func() { c.Collect(ch); close(ch) }()
	var sum float64
	for m := range ch {
		var d dto.Metric
		if err := m.Write(&d); err != nil {
			t.Fatal(err)
		}
		if d.Counter != nil {
			sum += d.Counter.GetValue()
		}
	}
	return sum
}
