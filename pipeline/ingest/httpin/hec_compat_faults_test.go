package httpin

// Fault tests from a review of the Splunk HEC endpoints
// (/services/collector, /event, /event/1.0, /raw, /raw/1.0) against
// Splunk's documented HEC behaviour and the senders that use it: each
// failed before the fix of the bug it describes (the comments describe the
// code as it was found).

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// reviewTS formats unix nanoseconds for failure messages.
func reviewTS(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// TestHECTimeExponentNotation: HEC's "time" is epoch seconds as a
// JSON number (Splunk, "Format events for HTTP Event Collector", Event
// metadata: "The event time ... in the format <sec>.<ms>"). A JSON number
// may be written with an exponent (RFC 8259 section 6), and Java senders
// write it that way: Jackson, Gson and org.json serialize a double with
// Double.toString, which switches to computerized scientific notation at
// 10^7, so an epoch time of 1700000000.123 goes out as
// "time":1.700000000123E9; C senders using printf("%g") write 1.7e+09.
// Splunk's JSON parser reads these as the numbers they are.
//
// hecTime (hec.go) hands the number's raw text to timeparse.ParseEpoch,
// which refuses signs and exponents, and so returns 0: the envelope time
// is silently dropped and the event is stamped with the ingest time (or
// whatever the event body happens to hold), so the event lands at the
// wrong time in every destination: wrong by the full lag of a backlog
// resent after an outage, which is exactly when the times matter.
//
// Expected: a numeric "time" in exponent notation is read as the number
// it denotes (1.700000000123E9 -> 2023-11-14T22:13:20.123Z).
func TestHECTimeExponentNotation(t *testing.T) {
	for _, c := range []struct {
		name, time string
		want       int64
	}{
		{"java Double.toString", `1.700000000123E9`, 1700000000123000000},
		{"printf %g", `1.7e+09`, 1700000000000000000},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			w := f.do("POST", "/services/collector/event", "", `{"time":`+c.time+`,"event":"user login","host":"app-1"}`)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			evs := f.rec.Events()
			if len(evs) != 1 {
				t.Fatalf("%d events delivered, want 1", len(evs))
			}
			if evs[0].Time != c.want {
				t.Errorf(`"time":%s became @timestamp %s, want %s (the envelope time was ignored)`,
					c.time, reviewTS(evs[0].Time), reviewTS(c.want))
			}
		})
	}
}

// TestHECRawTimeQueryParameter: the raw endpoint takes its event
// metadata from the query string, and Splunk's REST reference for
// services/collector/raw lists "time" (epoch seconds) among its query
// parameters next to channel, host, index, source and sourcetype (see
// opentelemetry-collector-contrib issue 27006 / PR 27008, which added it to
// the splunkhec receiver "to maintain parity" with Splunk's raw endpoint).
// A sender that replays a file of lines, or a script that forwards a batch
// it read earlier, sets ?time= so the events keep their time.
//
// handleHECRaw (hec.go) reads host, source, sourcetype and index from the
// query but never "time": every line is stamped with the ingest time
// (plain text lines carry no time field the normalizer could find).
//
// Expected: ?time= on /services/collector/raw (and /raw/1.0) is parsed as
// an HEC time (epoch seconds, fraction allowed) and becomes the time of
// every event of the request, as the envelope "time" does on /event.
func TestHECRawTimeQueryParameter(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/services/collector/raw?channel=FE0ECFAD-13D5-401B-847D-77833BD77131&sourcetype=app&host=web-1&time=1700000000.5",
		"", "first line\nsecond line\n")
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	evs := f.rec.Events()
	if len(evs) != 2 {
		t.Fatalf("%d events delivered, want 2", len(evs))
	}
	const want = 1700000000500000000
	for i, e := range evs {
		if e.Time != want {
			t.Errorf("line %d: @timestamp %s, want %s from ?time=1700000000.5 (the query time was ignored)", i+1, reviewTS(e.Time), reviewTS(want))
		}
	}
}

// TestHECJSONArrayBatch: Splunk's HEC event endpoint accepts a batch
// written as one JSON array of envelopes, [{"event":...},{"event":...}],
// as well as concatenated envelopes: "a native capability supported by
// Splunk's HTTP Event Collector (HEC) endpoint"
// (opentelemetry-collector-contrib issue 43941, filed from Splunk; the
// splunkhec receiver added it in PR 44772 for that reason). Senders that
// batch with their language's JSON encoder produce it (APISIX's
// splunk-hec-logging plugin sent core.json.encode(entries), apache/apisix
// issue 9458; splunk/pytest-splunk-addon sent arrays until PR 904; many
// scripts do).
//
// handleHEC (hec.go) only splits concatenated objects: a body starting
// with '[' fails nextObject, so the whole body is quarantined as
// invalid_json and answered 400 code 6 ("Invalid data format",
// invalid-event-number 0). Senders treat a 400 as final (Vector's
// HecRetryLogic, Fluent Bit's out_splunk, the OTel splunk_hec exporter):
// the batch is dropped at the sender and none of its events reaches a
// destination.
//
// Expected: a body that is a JSON array of envelopes is taken element by
// element like concatenated envelopes (arrayElems already splits arrays
// for /ingest), answered {"text":"Success","code":0}, with
// invalid-event-number counting array elements when one is invalid.
func TestHECJSONArrayBatch(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	body := `[{"time":1700000000,"host":"gw-1","sourcetype":"apisix","event":{"request_url":"/a","status":200}},` +
		`{"time":1700000001,"host":"gw-1","sourcetype":"apisix","event":{"request_url":"/b","status":404}}]`
	w := f.do("POST", "/services/collector/event", "", body, "Content-Type", "application/json")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"code":0`) {
		t.Errorf("a JSON array of 2 envelopes answered %d %s, want 200 code 0", w.Code, w.Body)
	}
	if n := len(f.rec.Events()); n != 2 {
		t.Errorf("%d events delivered, want 2", n)
	}
	if rs := f.q.Records(); len(rs) != 0 {
		t.Errorf("%d records quarantined (first: %s %q), want none", len(rs), rs[0].Reason, rs[0].Detail)
	}
}

// TestHECTooDeepEnvelopeRefusesBatch: max nesting depth (128,
// jsonscan.MaxDepth) is a per-record bound like max_event_bytes; the README
// lists both among the per-record bounds, and for max_event_bytes it says
// the record "is quarantined as too_large and the rest taken" (every
// endpoint does so, TestEventBytesLimit). /ingest and _bulk treat a record
// nested too deep the same way: quarantined as too_deep, the records
// around it accepted.
//
// handleHEC (hec.go) treats an envelope nested deeper than 128 levels as
// an invalid event: it answers 400 code 6 with invalid-event-number and
// quarantines every envelope after it as hec_not_processed ("fix that
// event and resend these"). But the envelope is valid JSON, which Splunk
// indexes, so there is nothing the sender can fix, and the senders do not
// resend: Vector, Fluent Bit and the OTel exporter take a 400 as final
// and drop the batch, so the valid events after the deep one never reach
// a destination (they are only in quarantine, to be replayed by hand).
//
// Expected: a too-deep envelope is handled as an over-long one is: it is
// quarantined (too_deep), the envelopes after it are taken, and the
// request is answered as the too_large case is (200 code 0).
func TestHECTooDeepEnvelopeRefusesBatch(t *testing.T) {
	deep := `{"a":` + strings.Repeat("[", 130) + strings.Repeat("]", 130) + `}` // valid JSON, 131 levels
	if !json.Valid([]byte(deep)) {
		t.Fatal("test record is not valid JSON")
	}
	f := newFixture(t, Config{}, nil)
	body := `{"event":{"n":1}}` + "\n" + `{"event":` + deep + "}\n" + `{"event":{"n":2}}` + "\n"
	w := f.do("POST", "/services/collector/event", "", body)
	if w.Code != http.StatusOK {
		t.Errorf("answered %d %s: a sender drops the whole batch on a 400, want 200 as for a too_large envelope", w.Code, w.Body)
	}
	var got []string
	for _, e := range f.rec.Events() {
		got = append(got, string(e.Raw))
	}
	if len(got) != 2 || !strings.Contains(got[len(got)-1], `"n":2`) {
		t.Errorf("%d events delivered, want the 2 around the deep one (n=1 and n=2)", len(got))
	}
	for _, r := range f.q.Records() {
		if r.Reason != "too_deep" {
			t.Errorf("quarantined %q as %s (%s); only the deep envelope should be", r.Raw, r.Reason, r.Detail)
		}
	}
}

// TestHECFieldsOverwriteEventLabels: HEC "fields" are indexed fields
// (Splunk, "Format events for HTTP Event Collector": a flat object of
// explicit custom fields defined at index time); in Splunk they live next
// to the event's own content and neither replaces the other. logrouter
// writes them under labels.* (docs/schema.md), which is also where an
// ECS-formatted event (ecs-logging, Elastic APM agents, Beats processors)
// keeps its own labels.
//
// normalize.Build walks m.Fields into labels after the event, so an
// indexed field with the same key replaces the event's own labels.<key>:
// {"event":{"labels":{"team":"payments"}},"fields":{"team":"platform"}}
// comes out as labels.team = "platform", and "payments" is in no
// destination. docs/schema.md promises that a value that collides with
// logrouter's own fields "is kept ..., never dropped"; this one is
// dropped without a trace (and the content hash changes with it).
//
// Expected: the event's own labels.<key> survives an HEC field of the
// same name (keep the event's value and the field's, e.g. the field only
// when the event has none as host.name does, or both as an array).
func TestHECFieldsOverwriteEventLabels(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/services/collector/event", "",
		`{"time":1700000000,"event":{"message":"payment captured","labels":{"team":"payments"}},"fields":{"team":"platform","env":"prod"}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	evs := f.rec.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events delivered, want 1", len(evs))
	}
	raw := string(evs[0].Raw)
	if !strings.Contains(raw, `"payments"`) {
		t.Errorf("the event's own labels.team (\"payments\") was dropped by the HEC field team: %s", raw)
	}
	if !strings.Contains(raw, `"platform"`) || !strings.Contains(raw, `"prod"`) {
		t.Errorf("the HEC fields are missing: %s", raw)
	}
}
