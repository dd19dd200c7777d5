package harness

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestOSReceiverRefusesMalformed: the fake OpenSearch used to parse only
// every 16th document in full and take the others on a scan for the bench
// fields, so malformed documents at other positions counted as delivered
// (and were answered 201). Every document is validated now: a malformed one
// is counted invalid and answered 400 mapper_parsing_exception, as the
// cluster would.
func TestOSReceiverRefusesMalformed(t *testing.T) {
	d := NewDest("opensearch", "R", "P2")
	o, err := NewOSReceiver(d)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	var body bytes.Buffer
	docs := []string{
		`{"bench_run":"R","bench_seq":0,"bench_sent_ns":1,"a":"ok"}`,
		`{"bench_run":"R","bench_seq":1,"bench_sent_ns":1,"a":"unterminated}`,
		`{"bench_run":"R","bench_seq":2,"bench_sent_ns":1,"a":}`,
		`{"bench_run":"R","bench_seq":3,"bench_sent_ns":1,"a":"x\q"}`,
		`[1]`,
	}
	for i, doc := range docs {
		fmt.Fprintf(&body, `{"create":{"_index":"x","_id":"%d"}}`+"\n%s\n", i, doc)
	}
	resp, err := http.Post(o.URL()+"/_bulk", "application/x-ndjson", &body)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if d.invalid.Load() != 4 || d.received.Load() != 1 {
		t.Errorf("invalid=%d received=%d, want 4 and 1", d.invalid.Load(), d.received.Load())
	}
	if strings.Count(string(b), `"status":400`) != 4 || !strings.Contains(string(b), `"errors":true`) {
		t.Errorf("answer: %s", b)
	}
}
