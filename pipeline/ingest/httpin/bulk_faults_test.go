package httpin

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"encoding/json"
	"strings"
	"testing"
)

// bulkItems decodes the items of a bulk answer as (op, status) pairs.
func bulkItems(t *testing.T, body []byte) (ops []string, statuses []int) {
	t.Helper()
	var br struct {
		Items []map[string]struct{ Status int }
	}
	if err := json.Unmarshal(body, &br); err != nil {
		t.Fatalf("bulk answer is not JSON: %v: %s", err, body)
	}
	for _, it := range br.Items {
		for op, v := range it {
			ops = append(ops, op)
			statuses = append(statuses, v.Status)
		}
	}
	return ops, statuses
}

// TestBulkUnknownActionLosesNextItem: an action line naming an
// unknown operation ({"bogus":{}}) is handled like update (bulk.go, the
// "default" case of handleBulk): the line after it is skipped as if it were
// the unknown action's source. When that line is really the next action,
// the pairing of the rest of the body shifts by one line: the next source
// line is read as an action named after its first field, answered with a
// per-item 400, and the event is neither delivered nor quarantined, all in a
// 200 whose items no longer line up with what the sender sent.
//
// Expected: Elasticsearch refuses an unknown action as a malformed
// action/metadata line (400 for the whole request), which handleBulk
// already does for other malformed action lines (quarantining the body).
// Either that, or a 200 whose items match the sender's actions one for one
// with every source line delivered or quarantined. Never a 2xx that drops
// {"y":2}.
func TestBulkUnknownActionLosesNextItem(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	body := "{\"index\":{}}\n{\"x\":1}\n{\"bogus\":{}}\n{\"index\":{}}\n{\"y\":2}\n"
	w := f.do("POST", "/_bulk", "", body)
	delivered := len(f.rec.Events())
	quarantinedY := false
	for _, r := range f.q.Records() {
		if strings.Contains(string(r.Raw), `{"y":2}`) {
			quarantinedY = true
		}
	}
	switch {
	case w.Code == 400:
		if !quarantinedY {
			t.Errorf("refused with 400 but {\"y\":2} was not quarantined: %s", w.Body)
		}
	case w.Code == 200:
		ops, st := bulkItems(t, w.Body.Bytes())
		if len(ops) != 3 || ops[0] != "index" || ops[1] != "bogus" || ops[2] != "index" {
			t.Errorf("items do not match the 3 actions sent (index, bogus, index): got ops %v statuses %v: %s", ops, st, w.Body)
		}
		if delivered != 2 && !quarantinedY {
			t.Errorf("answered 200, but {\"y\":2} was neither delivered nor quarantined (delivered %d events, quarantined %d records): %s",
				delivered, len(f.q.Records()), w.Body)
		}
	default:
		t.Errorf("answered %d: %s", w.Code, w.Body)
	}

	// The same shift from a blank source line: {"a":1} is then read as an
	// action named "a", answered 400 inside a 200 and stored nowhere.
	g := newFixture(t, Config{}, nil)
	w = g.do("POST", "/_bulk", "", "{\"index\":{}}\n\n{\"a\":1}\n")
	kept := len(g.rec.Events()) == 1
	for _, r := range g.q.Records() {
		if strings.Contains(string(r.Raw), `{"a":1}`) {
			kept = true
		}
	}
	if w.Code/100 == 2 && !kept {
		t.Errorf("blank source line: answered %d, and {\"a\":1} was neither delivered nor quarantined: %s", w.Code, w.Body)
	}
}

// TestBulkUpdateDocumentDropped: an update action (Fluent Bit's
// Write_Operation update/upsert, Logstash's action => update with
// doc_as_upsert) carries the log event in its source line. handleBulk skips
// that line without quarantining it and answers the item 400
// action_request_validation_exception inside a 200, which Beats, Logstash,
// Fluent Bit and Vector take as final: the event is stored nowhere.
//
// Expected (package doc: a request is answered only after "every record that
// could not become an event was stored in quarantine"; the router's promise:
// an event not accepted gets a retryable error or is quarantined with a
// reason): when the update item is refused with a final status, its source
// line is in quarantine (or the document is accepted as an event).
func TestBulkUpdateDocumentDropped(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	doc := `{"doc":{"message":"login failed","user":"bob"},"doc_as_upsert":true}`
	w := f.do("POST", "/_bulk", "", "{\"update\":{\"_index\":\"logs\",\"_id\":\"1\"}}\n"+doc+"\n")
	if w.Code != 200 {
		t.Fatalf("answered %d: %s", w.Code, w.Body)
	}
	ops, st := bulkItems(t, w.Body.Bytes())
	if len(ops) != 1 {
		t.Fatalf("want 1 item, got %v %v: %s", ops, st, w.Body)
	}
	quarantined := false
	for _, r := range f.q.Records() {
		if strings.Contains(string(r.Raw), `"login failed"`) {
			quarantined = true
		}
	}
	if st[0] >= 400 && st[0] < 500 && st[0] != 429 && !quarantined && len(f.rec.Events()) == 0 {
		t.Errorf("the update item was answered a final %d and its document was neither delivered nor quarantined (quarantine holds %d records): %s",
			st[0], len(f.q.Records()), w.Body)
	}
}

// TestBulkURLIndexAmplification: handleBulk copied the index of the URL
// (/{index}/_bulk) into its ids buffer once per item and echoed it in the
// answer once per item, and items that carry no event (delete) are bounded
// only by max_events_per_request, not by max_normalized_bytes. The request
// line may be ~64 KiB (MaxHeaderBytes), so a 14-byte {"delete":{}} line
// cost 2 x 60 KiB: 200 of them, a 2.8 KB body, allocated well over 100 MiB
// and got a 12 MiB answer; the default max_events_per_request (104857
// items, a 1.4 MiB body) made that tens of GiB, one request.
//
// Now, as Elasticsearch does (invalid_index_name_exception), an index name
// over 255 bytes is refused with 400 before any item is read.
func TestBulkURLIndexAmplification(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	body := strings.Repeat("{\"delete\":{}}\n", 200)
	for _, c := range []struct {
		n    int
		code int
	}{{255, 200}, {256, 400}, {60 << 10, 400}} {
		w := f.do("POST", "/"+strings.Repeat("a", c.n)+"/_bulk", "", body)
		if w.Code != c.code || w.Body.Len() > 200*(c.n+400) {
			t.Errorf("a %d-byte bulk request to a %d-byte index: answered %d with %d bytes, want %d", len(body), c.n, w.Code, w.Body.Len(), c.code)
		}
	}
}
