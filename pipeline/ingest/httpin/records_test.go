package httpin

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestBatchEnvelopesSplit: an Azure Event Hubs message ({"records":[...]})
// or a CloudTrail file ({"Records":[...]}) sent whole is one event per
// record, each with the envelope's metadata; a record that cannot be
// normalized is quarantined alone, as its own JSON. A _bulk document of
// that shape stays one document (its item answers for one).
func TestBatchEnvelopesSplit(t *testing.T) {
	const entra = `{"records":[{"time":"2026-11-29T10:00:00Z","category":"SignInLogs","operationName":"Sign-in activity","callerIpAddress":"203.0.113.7"},` +
		`{"time":"2026-11-29T10:00:01Z","category":"AuditLogs","operationName":"Add member to role"}]}`
	const cloudtrail = `{"Records":[{"eventTime":"2026-11-29T10:00:00Z","eventSource":"iam.amazonaws.com","eventName":"CreateUser"},` +
		`{"eventTime":"2026-11-29T10:00:02Z","eventSource":"s3.amazonaws.com","eventName":"GetObject"},` +
		`{"eventTime":"2026-11-29T10:00:03Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole"}]}`
	for _, c := range []struct {
		name, path, body string
		want             int
		wantIn           []string
	}{
		{"ndjson", "/ingest", entra + "\n" + cloudtrail, 5, []string{`"SignInLogs"`, `"AuditLogs"`, `"CreateUser"`, `"GetObject"`, `"AssumeRole"`}},
		{"ndjson array", "/ingest", "[" + entra + "," + cloudtrail + "]", 5, nil},
		{"hec event", "/services/collector/event", `{"sourcetype":"azure:eventhub","host":"eh-1","event":` + entra + `}`, 2, []string{`"SignInLogs"`, `"AuditLogs"`}},
		{"hec raw", "/services/collector/raw", cloudtrail, 3, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			w := f.do("POST", c.path, "", c.body)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			evs := f.rec.Events()
			if len(evs) != c.want {
				t.Fatalf("%d events, want %d (one per record)", len(evs), c.want)
			}
			for i, s := range c.wantIn {
				raw := string(evs[i].Raw)
				if !strings.Contains(raw, s) || strings.Contains(raw, `"records"`) || strings.Contains(raw, `"Records"`) {
					t.Errorf("event %d = %s; want the record holding %s, without its envelope", i, raw, s)
				}
			}
			if c.name == "hec event" {
				for _, e := range evs {
					if !strings.Contains(string(e.Raw), `"eh-1"`) {
						t.Errorf("event %s lost the envelope's host", e.Raw)
					}
				}
			}
		})
	}
	t.Run("bulk keeps one document", func(t *testing.T) {
		f := newFixture(t, Config{}, nil)
		w := f.do("POST", "/_bulk", "", `{"create":{"_index":"logs"}}`+"\n"+entra+"\n", "Content-Type", "application/x-ndjson")
		if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors":true`) {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if n := len(f.rec.Events()); n != 1 {
			t.Fatalf("%d events from one _bulk document, want 1", n)
		}
	})
}

// TestBatchEnvelopeBadRecordAlone: a record of an envelope the normalizer
// refuses (here: more fields than normalize.max_fields) is quarantined as
// its own JSON, and the envelope's other records are delivered.
func TestBatchEnvelopeBadRecordAlone(t *testing.T) {
	var wide strings.Builder
	wide.WriteString(`{"category":"wide"`)
	for i := range 2100 {
		wide.WriteString(`,"f`)
		wide.WriteString(strings.Repeat("x", i%7))
		wide.WriteString(string(rune('a' + i%26)))
		wide.WriteString(`_`)
		wide.WriteString(strings.Repeat("y", i/26))
		wide.WriteString(`":1`)
	}
	wide.WriteString("}")
	body := `{"records":[{"category":"first"},` + wide.String() + `,{"category":"last"}]}`
	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/ingest", "", body)
	if w.Code != http.StatusBadRequest { // a record refused is listed, as for a bad line
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if n := len(f.rec.Events()); n != 2 {
		t.Fatalf("%d events delivered, want the 2 good records", n)
	}
	rej := f.q.Records()
	if len(rej) != 1 || !strings.HasPrefix(string(rej[0].Raw), `{"category":"wide"`) {
		t.Fatalf("quarantined %d records, want the wide record alone", len(rej))
	}
}

// TestBatchEnvelopeTimeIsDefault: an HEC envelope's time is when a
// forwarder read the batch; each split record keeps its own time and takes
// the envelope's only when it has none.
func TestBatchEnvelopeTimeIsDefault(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/services/collector/event", "", `{"time":1764410400,"event":{"records":[{"time":"2025-11-29T09:00:00Z","category":"SignInLogs"},{"category":"AuditLogs"}]}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	evs := f.rec.Events()
	if len(evs) != 2 {
		t.Fatalf("%d events", len(evs))
	}
	if got, want := evs[0].Time, int64(1764406800e9); got != want {
		t.Errorf("record with its own time: %d, want %d (its own)", got, want)
	}
	if got, want := evs[1].Time, int64(1764410400e9); got != want {
		t.Errorf("record without a time: %d, want %d (the envelope's)", got, want)
	}
}

// TestActivityEventsSplit: a Google Workspace activity of several events
// (the Reports API's shape) is one event per activity event, each the
// activity holding only it as its events object (as Elastic's collector
// writes them); one that cannot be normalized is quarantined alone, and
// they count against max_events_per_request one by one.
func TestActivityEventsSplit(t *testing.T) {
	activity := func(evs ...string) string {
		return `{"kind":"admin#reports#activity","id":{"time":"2026-11-30T11:00:00Z","uniqueQualifier":"32","applicationName":"admin"},` +
			`"actor":{"email":"admin@example.com"},"ipAddress":"198.51.100.7","events":[` + strings.Join(evs, ",") + `]}`
	}
	create := `{"type":"USER_SETTINGS","name":"CREATE_USER"}`
	assign := `{"type":"DELEGATED_ADMIN_SETTINGS","name":"ASSIGN_ROLE"}`
	t.Run("each event its own", func(t *testing.T) {
		for _, c := range []struct{ name, path, body string }{
			{"ndjson", "/ingest", activity(create, assign)},
			{"hec event", "/services/collector/event", `{"sourcetype":"gws:reports:admin","event":` + activity(create, assign) + `}`},
		} {
			t.Run(c.name, func(t *testing.T) {
				f := newFixture(t, Config{}, nil)
				if w := f.do("POST", c.path, "", c.body); w.Code != http.StatusOK {
					t.Fatalf("%d %s", w.Code, w.Body)
				}
				evs := f.rec.Events()
				if len(evs) != 2 {
					t.Fatalf("%d events, want 2 (one per activity event)", len(evs))
				}
				for i, want := range []string{`"events":{"type":"USER_SETTINGS","name":"CREATE_USER"}`, `"events":{"type":"DELEGATED_ADMIN_SETTINGS","name":"ASSIGN_ROLE"}`} {
					raw := string(evs[i].Raw)
					if !strings.Contains(raw, want) || !strings.Contains(raw, `"198.51.100.7"`) {
						t.Errorf("event %d = %s; want the activity holding only %s", i, raw, want)
					}
				}
				if evs[0].Hash == evs[1].Hash {
					t.Error("the two events have one content hash: dedup would drop the second")
				}
			})
		}
	})
	t.Run("a refused event alone", func(t *testing.T) {
		wide := wideObject(`"name":"WIDE"`)
		f := newFixture(t, Config{}, nil)
		if w := f.do("POST", "/ingest", "", activity(create, wide, assign)); w.Code != http.StatusBadRequest {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if n := len(f.rec.Events()); n != 2 {
			t.Fatalf("%d events delivered, want the 2 good ones", n)
		}
		rej := f.q.Records()
		if len(rej) != 1 || !strings.Contains(string(rej[0].Raw), `"events":{"name":"WIDE"`) || strings.Contains(string(rej[0].Raw), "CREATE_USER") {
			for _, r := range rej {
				t.Logf("%.200s", r.Raw)
			}
			t.Fatalf("quarantined %d records, want the activity holding only the wide event", len(rej))
		}
	})
	t.Run("max_events_per_request counts each", func(t *testing.T) {
		f := newFixture(t, Config{MaxEventsPerRequest: 2}, nil)
		w := f.do("POST", "/ingest", "", activity(create, assign, create))
		if w.Code == http.StatusOK {
			t.Fatalf("an activity of 3 events with max_events_per_request 2 was taken: %d %s", w.Code, w.Body)
		}
		if n := len(f.rec.Events()); n != 0 {
			t.Fatalf("%d events delivered from a refused request", n)
		}
	})
}

// TestAPIPagesSplit: a Microsoft Graph collection page or a Google
// Workspace Reports API page forwarded whole (a poller posting what the
// API answered) is one event per record, a Reports activity of several
// events one per event; an event that cannot be normalized is quarantined
// alone (over HEC, in an envelope of its own that a replay splits the
// same way), and the events count against max_events_per_request.
func TestAPIPagesSplit(t *testing.T) {
	const graph = `{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",` +
		`"value":[{"id":"s1","createdDateTime":"2026-11-30T10:00:00Z","userPrincipalName":"a@example.com"},` +
		`{"id":"s2","createdDateTime":"2026-11-30T10:00:01Z","userPrincipalName":"b@example.com"}],` +
		`"@odata.nextLink":"https://graph.microsoft.com/v1.0/auditLogs/signIns?$skiptoken=x"}`
	activity := func(q string, evs ...string) string {
		return `{"kind":"admin#reports#activity","id":{"time":"2026-11-30T11:00:00Z","uniqueQualifier":"` + q + `","applicationName":"admin"},` +
			`"actor":{"email":"admin@example.com"},"events":[` + strings.Join(evs, ",") + `]}`
	}
	page := func(items ...string) string {
		return `{"kind":"admin#reports#activities","etag":"\"e\"","items":[` + strings.Join(items, ",") + `],"nextPageToken":"t"}`
	}
	create := `{"type":"USER_SETTINGS","name":"CREATE_USER"}`
	assign := `{"type":"DELEGATED_ADMIN_SETTINGS","name":"ASSIGN_ROLE"}`
	google := page(activity("1", create, assign), activity("2", create))
	for _, c := range []struct {
		name, path, body string
		want             []string
	}{
		{"graph ndjson", "/ingest", graph, []string{`"s1"`, `"s2"`}},
		{"graph hec", "/services/collector/event", `{"sourcetype":"azure:aad:signin","event":` + graph + `}`, []string{`"s1"`, `"s2"`}},
		{"google ndjson", "/ingest", google, []string{`"uniqueQualifier":"1"`, `"uniqueQualifier":"1"`, `"uniqueQualifier":"2"`}},
		{"google hec", "/services/collector/event", `{"event":` + google + `}`, []string{`"CREATE_USER"}`, `"ASSIGN_ROLE"}`, `"CREATE_USER"}`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			if w := f.do("POST", c.path, "", c.body); w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			evs := f.rec.Events()
			if len(evs) != len(c.want) {
				t.Fatalf("%d events, want %d", len(evs), len(c.want))
			}
			for i, s := range c.want {
				raw := string(evs[i].Raw)
				if !strings.Contains(raw, s) || strings.Contains(raw, "odata") || strings.Contains(raw, "nextPageToken") || strings.Contains(raw, `"items"`) {
					t.Errorf("event %d = %s; want the record holding %s, without its page", i, raw, s)
				}
			}
		})
	}
	t.Run("a refused event alone, replayable as split", func(t *testing.T) {
		wide := wideObject(`"name":"WIDE"`)
		f := newFixture(t, Config{}, nil)
		body := `{"host":"poller-1","event":` + page(activity("1", create, wide), activity("2", assign)) + `}`
		f.do("POST", "/services/collector/event", "", body) // HEC answers 200: the event is quarantined, not invalid
		if n := len(f.rec.Events()); n != 2 {
			t.Fatalf("%d events delivered, want the 2 good ones", n)
		}
		rej := f.q.Records()
		if len(rej) != 1 {
			t.Fatalf("quarantined %d records, want 1", len(rej))
		}
		raw := string(rej[0].Raw)
		if !strings.Contains(raw, `"events":{"name":"WIDE"`) || strings.Contains(raw, "CREATE_USER") || strings.Contains(raw, "ASSIGN_ROLE") || !strings.Contains(raw, `"poller-1"`) {
			t.Fatalf("quarantined %.300s; want the envelope holding the activity holding only the wide event", raw)
		}
	})
	t.Run("max_events_per_request counts each event", func(t *testing.T) {
		f := newFixture(t, Config{MaxEventsPerRequest: 2}, nil)
		// Two records, three events: refused whole.
		if w := f.do("POST", "/ingest", "", google); w.Code == http.StatusOK {
			t.Fatalf("a page of 3 events with max_events_per_request 2 was taken: %d %s", w.Code, w.Body)
		}
		if n := len(f.rec.Events()); n != 0 {
			t.Fatalf("%d events delivered from a refused request", n)
		}
	})
}

// wideObject is an object of member head and a "parameters" object of
// 2100 members: past normalize.max_fields' default 2000, so the
// normalizer refuses it.
func wideObject(head string) string {
	var b strings.Builder
	b.WriteString(`{` + head + `,"parameters":{"p0":0`)
	for i := 1; i < 2100; i++ {
		fmt.Fprintf(&b, `,"p%d":%d`, i, i)
	}
	b.WriteString(`}}`)
	return b.String()
}
