package harness

// Review of what the harness measures (OpenSearch fake vs a real cluster).

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"
)

// TestOSCreateOfStoredIDIsRefused: OpenSearch answers a create whose
// _id the index already holds with 409 version_conflict_engine_exception
// and does NOT store the document, whatever its content; the router counts
// that 409 as delivered (sinks/opensearch/doc.go:51-59, "the second is
// answered 409 and counted delivered"). The fake only answers 409 when the
// _id is stored AND the document's bench_seq was seen before:
// osbulk.go:155 passes `a.create && o.stored(a.id)` as `conflict`, and
// dest.go:92-100 (record) only honours it when `again` (seq seen); for a
// new bench_seq it falls through, sets the seq's bit, counts it received
// and the fake answers 201 (osbulk.go:161).
//
// Effect: a router fault that gives two different events the same _id
// (a content hash that ignores part of the event, a per-batch id that
// repeats across batches, a constant id after a refactor) loses every
// colliding event in a real cluster, silently (409 = delivered), yet the
// harness shows them received at OpenSearch and "lost 0": the one
// destination whose loss depends on _id correctness is the one the fake
// cannot see it at. The "409s" column also under-reads.
//
// Fix: in OSReceiver.bulk, a create whose _id was stored before is
// answered 409 and NOT recorded as seen, whether or not its bench_seq is
// new (count it as a conflict; a conflict whose bench_seq was never stored
// then shows as lost, as it is in a real index). Key the _id set by
// (_index, _id) as OpenSearch does.
//
// Fixed: a create of a stored (index, _id) is answered 409 and not
// recorded, whatever its bench_seq.
func TestOSCreateOfStoredIDIsRefused(t *testing.T) {
	d := NewDest("opensearch", "R", "P2")
	o, err := NewOSReceiver(d)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	// Two different events (bench_seq 1 and 2) that the router sent under
	// the same _id, in two requests.
	var answers []string
	for _, seq := range []int{1, 2} {
		body := fmt.Sprintf(`{"create":{"_index":"logs-x","_id":"00000000000000aa"}}`+"\n"+
			`{"bench_run":"R","bench_seq":%d,"bench_sent_ns":1,"message":"event %d"}`+"\n", seq, seq)
		resp, err := http.Post(o.URL()+"/_bulk", "application/x-ndjson", bytes.NewBufferString(body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answers = append(answers, string(b))
	}
	if !bytes.Contains([]byte(answers[1]), []byte(`"status":409`)) {
		t.Errorf("a create of an _id the index already holds was answered %s; OpenSearch answers 409 and stores nothing", answers[1])
	}
	if d.seen.get(2) {
		t.Errorf("bench_seq 2, refused by a real cluster (its _id was taken by bench_seq 1), counts as received at OpenSearch (received %d, conflicts %d): its loss reads as 0",
			d.received.Load(), d.conflicts.Load())
	}
}
