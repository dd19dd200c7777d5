package siem

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/siem/hecfake"
)

// TestHEC200JSONWithoutSuccessCode: sendSpan (hec.go) counts a 200
// as delivered as soon as its body parses as a JSON object (res.answer),
// whatever the object says. Splunk's success answer is always
// {"text":"Success","code":0}; a 200 whose JSON carries no "code" (or a
// code other than 0) comes from something in the way, which did not hand
// the events to an indexer: a load balancer or API gateway fixed response
// (ALB fixed-response, nginx `return 200 '{"status":"ok"}'`, a gateway's
// mock integration answering {}), the maintenance page of a proxy. The
// earlier fix (TestHECEmpty200NotDelivered, TestHECProxyPage) only catches
// empty and non-JSON bodies.
//
// Sequence: url points at a server that answers every POST with 200 and
// {"status":"ok"} (or {}); Write a batch of 3 P1 events, with and without
// ack.enabled. Found: Write returns nil (the queue forgets the P1 events,
// which reached no Splunk), and with ack on, the missing ackId also turns
// indexer acknowledgement off for the life of the process. Expected: a
// retryable error (the events stay queued), as for the other non-HEC 200s,
// and ack mode kept.
func TestHEC200JSONWithoutSuccessCode(t *testing.T) {
	for _, body := range []string{`{"status":"ok"}`, `{}`} {
		for _, ack := range []bool{false, true} {
			var mu sync.Mutex
			got := 0
			page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				mu.Lock()
				got++
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, body)
			}))
			t.Cleanup(page.Close)
			fake := newFake(t, hecfake.Config{})
			h := newTestHEC(t, fake, func(c *HECConfig) {
				c.URL = page.URL
				c.Ack.Enabled = ack
			})
			b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
			err := h.Write(context.Background(), b)
			b.Release()
			mu.Lock()
			n := got
			mu.Unlock()
			if n == 0 {
				t.Fatalf("body %s ack %v: the request never reached the test server", body, ack)
			}
			if err == nil || pipeline.IsPermanent(err) {
				t.Errorf("body %s ack %v: a 200 whose JSON is no HEC answer (no \"code\":0) gave %v; want a retryable error: the events reached no indexer", body, ack, err)
			}
			if h.ackOff.Load() {
				t.Errorf("body %s ack %v: a non-HEC 200 switched the destination to no-ack mode for good", body, ack)
			}
		}
	}
}
