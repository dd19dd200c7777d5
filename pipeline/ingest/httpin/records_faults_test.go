package httpin

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"net/http"
	"strings"
	"testing"
)

// TestBatchEnvelopeBypassesMaxEventsPerRequest: request.add splits a
// batch envelope (Azure Event Hubs {"records":[...]}, CloudTrail
// {"Records":[...]}) into one event per record. The handlers check
// max_events_per_request only before each body record (q.full(q.records())
// in the line loops, q.full(num) in HEC, q.full(arr.n-1) for arrays) and
// then call q.full(0) after the last one. q.full(0) compares 0 with the
// limit, so it never looks at the event count. The records of the last
// envelope (or, for HEC and arrays, all envelopes) are never counted.
//
// Config.MaxEventsPerRequest says it "bounds the records one request may
// carry (events and records refused into quarantine) ... past it the
// request is refused with 413 and nothing in it is taken". It is the memory
// bound (each event costs ~280 bytes however small). Here, with the limit at
// 3, one envelope of 5 records is delivered as 5 events and answered 200,
// on /ingest (lines and arrays) and on HEC (event and raw). With a
// 1 MiB envelope line (max_event_bytes) of tiny records, one request holds
// ~350k events, ~100 MB of events past the configured bound, and 128 such
// requests can run at once.
//
// The outcome also depends on order. On /ingest, `{"x":1}` followed by the
// envelope is accepted with 6 events. The envelope followed by `{"x":1}`
// is refused with 413.
//
// Correct: each record split out of an envelope counts toward
// max_events_per_request, and a request past the limit gets 413 with
// nothing delivered.
func TestBatchEnvelopeBypassesMaxEventsPerRequest(t *testing.T) {
	const env = `{"records":[{"category":"SignInLogs","n":1},{"category":"SignInLogs","n":2},{"category":"SignInLogs","n":3},{"category":"SignInLogs","n":4},{"category":"SignInLogs","n":5}]}`
	for _, c := range []struct{ name, path, body string }{
		{"ndjson line", "/ingest", env},
		{"ndjson line after another", "/ingest", `{"x":1}` + "\n" + env},
		{"ndjson array", "/ingest", "[" + env + "]"},
		{"hec event", "/services/collector/event", `{"sourcetype":"azure:eventhub","event":` + env + `}`},
		{"hec raw", "/services/collector/raw", env},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, Config{MaxEventsPerRequest: 3}, nil)
			w := f.do("POST", c.path, "", c.body)
			if n := len(f.rec.Events()); n > 3 || w.Code != http.StatusRequestEntityTooLarge {
				t.Errorf("max_events_per_request 3: answered %d %s and delivered %d events; want 413 and none (the envelope's 5 records are 5 events)",
					w.Code, strings.TrimSpace(w.Body.String()), n)
			}
		})
	}
}
