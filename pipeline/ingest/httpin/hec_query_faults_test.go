package httpin

// Fault tests from a second review of the HTTP input against what real
// shippers send. Each failed on the code as it was found; the comment above
// it says what is wrong, what is expected, and where that comes from.

import (
	"encoding/json"
	"net/http"
	"testing"
)

// review2Meta is the metadata of one delivered event that the HEC
// envelope (or its defaults) decides.
type review2Meta struct {
	Dataset, Index, Source, SourceTypeAs, Host string
}

func review2EventMeta(t *testing.T, raw []byte) review2Meta {
	t.Helper()
	var ev struct {
		Event struct {
			Dataset string `json:"dataset"`
		} `json:"event"`
		Host struct {
			Name string `json:"name"`
		} `json:"host"`
		Logrouter struct {
			Index      string `json:"index"`
			Source     string `json:"source"`
			SourceType string `json:"sourcetype"`
		} `json:"logrouter"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("delivered event is not JSON (%v): %s", err, raw)
	}
	return review2Meta{ev.Event.Dataset, ev.Logrouter.Index, ev.Logrouter.Source, ev.Logrouter.SourceType, ev.Host.Name}
}

// TestHECEventQueryMetadataIgnored: the event endpoint
// (/services/collector/event, /event/1.0, /services/collector) ignores the
// query string. Splunk applies ?index=, ?source=, ?sourcetype= (and
// ?host=, ?time=) on the event endpoint too, as defaults for envelopes that
// do not carry the key (Splunk's "HTTP Event Collector REST API endpoints"
// page: "If time=xxx is used in the /event URL ..."), and shippers rely on
// it: syslog-ng's splunk-hec-event() destination (scl/splunk/splunk.conf,
// syslog-ng 4.2+) posts to
// `<url>/services/collector/event/1.0?index=<default_index>&source=<default_source>&sourcetype=<default_sourcetype>`
// and leaves those keys out of each envelope (format-json
// --omit-empty-values), "so they do not inflate the body of the HTTP
// request for each message" (syslog-ng PR #4462). ExtraHop's and other
// appliances' HEC targets are configured the same way
// (/services/collector/event?sourcetype=extrahop).
//
// Observed: every such event arrives with no source type (event.dataset
// "unknown", so no profile and no source-type rule applies), no
// logrouter.index and no logrouter.source; the raw endpoint, given the
// same query, keeps them.
//
// Expected: an envelope without index/source/sourcetype/host takes them
// from the query string, exactly as if the envelope had carried them;
// a key the envelope does carry still wins. Fix in handleHEC (hec.go):
// read r.URL.Query() once, as handleHECRaw does, and use its values as
// the defaults of q.em (and q.rejST/q.rejIndex for the quarantine).
func TestHECEventQueryMetadataIgnored(t *testing.T) {
	const event = `"sshd[4242]: Accepted password for bob from 10.0.0.5 port 50000 ssh2"`
	// What syslog-ng's splunk-hec-event() sends, with its defaults.
	viaQuery := newFixture(t, Config{}, nil)
	w := viaQuery.do("POST", "/services/collector/event/1.0?index=main&source=syslog-ng&sourcetype=nix:syslog", "",
		`{"host":"web-1","time":"1700000000.123","event":`+event+`}`+"\n", "Content-Type", "application/json")
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	// The same event with the same metadata in its envelope.
	viaEnvelope := newFixture(t, Config{}, nil)
	w = viaEnvelope.do("POST", "/services/collector/event/1.0", "",
		`{"index":"main","source":"syslog-ng","sourcetype":"nix:syslog","host":"web-1","time":"1700000000.123","event":`+event+`}`+"\n")
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	q, e := viaQuery.rec.Events(), viaEnvelope.rec.Events()
	if len(q) != 1 || len(e) != 1 {
		t.Fatalf("delivered %d and %d events, want 1 and 1", len(q), len(e))
	}
	got, want := review2EventMeta(t, q[0].Raw), review2EventMeta(t, e[0].Raw)
	if got != want || q[0].SourceType != e[0].SourceType {
		t.Errorf("?index=main&source=syslog-ng&sourcetype=nix:syslog on /services/collector/event/1.0 was ignored:\n got  %+v (source type %q)\n want %+v (source type %q), as when the envelope carries them",
			got, q[0].SourceType, want, e[0].SourceType)
	}

	// The envelope's own key still wins over the query's default.
	f := newFixture(t, Config{}, nil)
	w = f.do("POST", "/services/collector/event?index=main&source=syslog-ng", "",
		`{"index":"security","event":`+event+`}`)
	if w.Code != http.StatusOK || len(f.rec.Events()) != 1 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	m := review2EventMeta(t, f.rec.Events()[0].Raw)
	if m.Index != "security" || m.Source != "syslog-ng" {
		t.Errorf(`envelope "index":"security" with ?index=main&source=syslog-ng: got index %q source %q, want "security" (the envelope's) and "syslog-ng" (the query's default)`, m.Index, m.Source)
	}
}

// TestHECArrayLastInvalidNoBracketRecord: a JSON array body whose last
// envelope is invalid quarantined, besides that envelope, a record holding
// only the array's closing "]" as "not processed": noise in the quarantine
// (and in its alerts) with nothing to replay. (A suspicion of the same
// review.)
func TestHECArrayLastInvalidNoBracketRecord(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/services/collector/event", "", `[{"event":"a"},{"noevent":1}]`+"\n")
	if w.Code != http.StatusBadRequest {
		t.Fatalf("answered %d %s, want 400 for the envelope without event", w.Code, w.Body)
	}
	for _, r := range f.q.Records() {
		if r.Reason == "hec_not_processed" {
			t.Errorf("quarantined %q as not processed: nothing followed the invalid envelope", r.Raw)
		}
	}
	if n := len(f.q.Records()); n != 1 {
		t.Errorf("%d records quarantined, want the invalid envelope alone", n)
	}
}

// TestBulkRefusedItemKeepsItsIndex: a _bulk item whose source line is
// refused is quarantined with its action's _index as the record's default
// index and source type (the token's source type, when it has one, stays
// the source type), so that a replay maps and routes it as the item would
// have been. Before, it kept only the token's. (A note of the replay
// review.)
func TestBulkRefusedItemKeepsItsIndex(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	body := `{"index":{"_index":"fw-logs"}}` + "\n" + `{"broken":` + "\n"
	f.do("POST", "/_bulk", "", body)
	recs := f.q.Records()
	if len(recs) != 1 {
		t.Fatalf("%d records quarantined, want the refused source line", len(recs))
	}
	if r := recs[0]; r.DefaultIndex != "fw-logs" || r.DefaultSourceType != "fw-logs" {
		t.Errorf("record's default index %q, source type %q; want fw-logs for both", r.DefaultIndex, r.DefaultSourceType)
	}
}
