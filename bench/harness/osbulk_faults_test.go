package harness

// Fault tests from a review of the harness's accounting: each failed
// before its fix (the comments describe what was found).

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// TestOSReceiverRejectedRequestStoresNothing: OpenSearch parses a
// whole _bulk request before it executes any item, so a request with a
// malformed (or unsupported) action line is answered 400 as a whole and
// nothing in it is indexed; the router then treats the batch as refused
// (quarantine), never as delivered. The fake receiver records every
// document it meets before that line as received (bit set in seen), then
// answers the same 400: the documents the router never got confirmed, and
// that a real cluster does not hold, count as delivered, so their loss is
// hidden ("lost 0"). Expected: a request answered 400 as a whole records
// nothing (received and distinct stay 0), as a 503 during the outage does.
func TestOSReceiverRejectedRequestStoresNothing(t *testing.T) {
	for _, tail := range []string{
		`{"create":{"_index":"x","_id":"2"}` + "\n",      // malformed action line
		`{"frobnicate":{"_index":"x","_id":"2"}}` + "\n", // an unknown action
	} {
		d := NewDest("opensearch", "R", "P2")
		o, err := NewOSReceiver(d)
		if err != nil {
			t.Fatal(err)
		}
		var body bytes.Buffer
		for i := range 2 {
			fmt.Fprintf(&body, `{"create":{"_index":"x","_id":"%d"}}`+"\n"+`{"bench_run":"R","bench_seq":%d,"bench_sent_ns":1}`+"\n", i, i)
		}
		body.WriteString(tail)
		resp, err := http.Post(o.URL()+"/_bulk", "application/x-ndjson", &body)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		o.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d (%s), want 400 for the whole request", resp.StatusCode, b)
		}
		if got := d.received.Load(); got != 0 || d.seen.get(0) || d.seen.get(1) {
			t.Errorf("tail %q: the request was answered 400 as a whole, yet %d of its documents count as received (seq 0 seen %v, seq 1 seen %v)",
				tail, got, d.seen.get(0), d.seen.get(1))
		}
	}
}

// TestOSReceiverConflictIsByID: OpenSearch answers 409 to a create
// whose _id it already holds, and only then; the router's _id is the
// content hash of the normalized event (sinks/opensearch/doc.go). Two
// copies of one bench_seq are not always the same content: with -proto
// mixed a loadgen repeat can go once as HEC (sourcetype, host, envelope
// time) and once as NDJSON or _bulk, and the router normalizes them to
// different documents (a 3 s mixed run showed 9 such 409s at the fake and
// 13 differing copies in the archive). A real cluster stores such a second
// create as a new document, a duplicate in the index; the fake answers
// 409 because the bench_seq was seen, counts it under "409s: not stored,
// not duplicates", and the OpenSearch dup column reads 0. Expected: a
// create with an _id not seen before is stored (201) and, its bench_seq
// being seen, counted as a duplicate; a create of an _id seen before
// stays a 409.
func TestOSReceiverConflictIsByID(t *testing.T) {
	d := NewDest("opensearch", "R", "P2")
	o, err := NewOSReceiver(d)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	post := func(id, doc string) string {
		t.Helper()
		body := fmt.Sprintf(`{"create":{"_index":"x","_id":%q}}`+"\n%s\n", id, doc)
		resp, err := http.Post(o.URL()+"/_bulk", "application/x-ndjson", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return string(b)
	}
	post("aaaa", `{"bench_run":"R","bench_seq":7,"bench_sent_ns":1,"event":{"dataset":"linux.auth"}}`)
	// The same bench_seq, normalized differently: another _id.
	ans := post("bbbb", `{"bench_run":"R","bench_seq":7,"bench_sent_ns":1,"event":{"dataset":"unknown"}}`)
	if bytes.Contains([]byte(ans), []byte(`"status":409`)) || d.conflicts.Load() != 0 {
		t.Errorf("a create of a new _id was answered 409 (conflicts %d): %s", d.conflicts.Load(), ans)
	}
	if d.received.Load() != 2 || d.dups.Load() != 1 {
		t.Errorf("received %d dup %d, want 2 and 1: the index holds both documents", d.received.Load(), d.dups.Load())
	}
}
