package httpin

import (
	"fmt"
	"strings"
	"testing"
)

// TestBulkMalformedBodyQuarantinedPerDocument: a _bulk body refused whole
// for a malformed action line is quarantined one record per document, each
// with its action's index, so that a replay makes of it the events the body
// held and of its action lines none; a malformed line with no source after
// it is kept as a record of its own (nothing of the body is lost), deletes
// give none, an update gives its doc.
func TestBulkMalformedBodyQuarantinedPerDocument(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	body := strings.Join([]string{
		`{"index":{"_index":"fw"}}`,
		`{"n":1}`,
		``,
		`{"create":{}}`,
		`{"n":2}`,
		`{"delete":{"_index":"fw","_id":"x"}}`,
		`{"update":{"_index":"up"}}`,
		`{"doc":{"n":3},"doc_as_upsert":true}`,
		`{"frobnicate":{"_index":"fw"}}`,
		`{"n":4}`,
		`not json`,
		`{"index":{"_index":"fw"}}`,
		`{"n":5}`,
	}, "\n") + "\n"
	w := f.do("POST", "/logs-x/_bulk", "", body)
	if w.Code != 400 || !strings.Contains(w.Body.String(), "Malformed action/metadata line [9]") {
		t.Fatalf("answered %d %s, want 400 naming line 9", w.Code, w.Body)
	}
	if n := len(f.rec.Events()); n != 0 {
		t.Fatalf("%d events delivered from a refused body", n)
	}
	var got []string
	for _, r := range f.q.Records() {
		if r.Reason != "bulk_malformed_action" {
			t.Errorf("reason %q", r.Reason)
		}
		got = append(got, fmt.Sprintf("%s@%s/%s", r.Raw, r.DefaultIndex, r.DefaultSourceType))
	}
	want := []string{
		`{"n":1}@fw/fw`,
		`{"n":2}@logs-x/logs-x`,
		`{"n":3}@up/up`,
		`{"n":4}@logs-x/logs-x`,
		`not json@logs-x/logs-x`,
		`{"n":5}@fw/fw`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("quarantined:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, r := range f.q.Records() {
		if strings.Contains(string(r.Raw), `"n":4`) && !strings.Contains(r.Detail, `{"frobnicate":{"_index":"fw"}}`) {
			t.Errorf("the malformed action line is not kept with its document: %q", r.Detail)
		}
	}
}

// TestBulkMalformedBodyPastTheLimit: past max_events_per_request documents
// the rest of a refused body is one record, not one per line.
func TestBulkMalformedBodyPastTheLimit(t *testing.T) {
	f := newFixture(t, Config{MaxEventsPerRequest: 2}, nil)
	body := "{\"bogus\":{}}\n{\"n\":1}\n{\"index\":{}}\n{\"n\":2}\n{\"index\":{}}\n{\"n\":3}\n"
	if w := f.do("POST", "/_bulk", "", body); w.Code != 400 {
		t.Fatalf("answered %d %s", w.Code, w.Body)
	}
	rs := f.q.Records()
	if len(rs) != 3 || string(rs[2].Raw) != "{\"index\":{}}\n{\"n\":3}\n" {
		for _, r := range rs {
			t.Logf("%q", r.Raw)
		}
		t.Fatalf("want 2 documents and the rest as one record, got %d records", len(rs))
	}
}
