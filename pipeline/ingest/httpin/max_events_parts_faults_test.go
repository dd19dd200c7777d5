package httpin

import (
	"net/http"
	"testing"
)

// TestActivityMaxEventsJSONArrayOfActivities
//
// What is wrong: b55c36c says each event of a split Google Workspace
// activity "counts against max_events_per_request", and request.add checks
// q.records()+len(parts) for the activity itself. But the /ingest JSON
// array path (ndjson.go) checks the limit before each element with
// q.full(arr.n - 1), the number of ELEMENTS taken so far, not of events
// (q.records(), which the line path uses). An array whose first element is
// an activity of two events and whose second is one plain event is three
// events, yet with max_events_per_request 2 the second element is taken
// (full(1): 1 < 2) and the request is accepted whole: 3 events from a
// request the limit refuses. (The same hole lets a batch envelope's
// records through in an array; the commit routes every multi-event
// activity through it as well.)
//
// The HEC event endpoint has the same hole: hec.go checks q.full(num),
// num the envelopes taken so far.
//
// Reproduce: max_events_per_request 2; POST /ingest
// [activity(CREATE_USER, ASSIGN_ROLE), {"message":"x"}]; POST
// /services/collector/event {"event":activity}{"event":"x"}.
//
// Expected: 413 and nothing delivered, as for the same three events sent
// as lines (README/docs: max_events_per_request bounds the events of a
// request; request.full: "records (what it holds: events and rejected
// records ...) reached max_events_per_request"; the commit: "each counts
// against max_events_per_request"). The control below sends them as NDJSON
// lines and is refused.
func TestActivityMaxEventsJSONArrayOfActivities(t *testing.T) {
	activity := `{"kind":"admin#reports#activity","id":{"time":"2026-11-30T11:00:00Z","uniqueQualifier":"32","applicationName":"admin"},` +
		`"actor":{"email":"admin@example.com"},"ipAddress":"198.51.100.7","events":[{"type":"USER_SETTINGS","name":"CREATE_USER"},{"type":"DELEGATED_ADMIN_SETTINGS","name":"ASSIGN_ROLE"}]}`
	plain := `{"message":"x"}`

	ctl := newFixture(t, Config{MaxEventsPerRequest: 2}, nil)
	if w := ctl.do("POST", "/ingest", "", activity+"\n"+plain+"\n"); w.Code == http.StatusOK {
		t.Fatalf("control: the three events as lines were taken with max_events_per_request 2: %d %s", w.Code, w.Body)
	}

	f := newFixture(t, Config{MaxEventsPerRequest: 2}, nil)
	w := f.do("POST", "/ingest", "", "["+activity+","+plain+"]")
	if n := len(f.rec.Events()); w.Code == http.StatusOK || n > 2 {
		t.Errorf("a JSON array of an activity of 2 events and 1 event, max_events_per_request 2: %d, %d events delivered; want 413 and none (as the same events as lines)", w.Code, n)
	}

	// The HEC event endpoint checks the limit with q.full(num), num the
	// envelopes taken so far (hec.go), the same hole: an envelope whose
	// event is the activity (2 events) and one more envelope.
	h := newFixture(t, Config{MaxEventsPerRequest: 2}, nil)
	w = h.do("POST", "/services/collector/event", "", `{"event":`+activity+`}`+"\n"+`{"event":"x"}`)
	if n := len(h.rec.Events()); w.Code == http.StatusOK || n > 2 {
		t.Errorf("HEC: an envelope of an activity of 2 events and one more envelope, max_events_per_request 2: %d, %d events delivered; want 413 and none", w.Code, n)
	}
}
