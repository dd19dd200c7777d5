package harness

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
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

// TestReadAction holds the action-line scan to what a full parse reads:
// the router's shape is scanned, anything else parsed or refused.
func TestReadAction(t *testing.T) {
	var p fastjson.Parser
	for _, tc := range []struct {
		line      string
		ok        bool
		create    bool
		index, id string
		scanned   bool
	}{
		{`{"create":{"_index":"logs-p2","_id":"00ff"}}`, true, true, "logs-p2", "00ff", true},
		{`{"index":{"_index":"logs-p2","_id":"00ff"}}`, true, false, "logs-p2", "00ff", true},
		{`{"create":{"_id":"00ff","_index":"logs-p2"}}`, true, true, "logs-p2", "00ff", false},
		{`{"create":{"_index":"a\"b","_id":"1"}}`, true, true, `a"b`, "1", false},
		{`{"create":{"_index":"a\u0041","_id":"1"}}`, true, true, "aA", "1", false},
		{`{"create":{"_index":"x","_id":"1"}} `, true, true, "x", "1", false},
		{`{"create":{"_index":"x","_id":"1"}}}`, false, false, "", "", false},
		{`{"create":{"_index":"x","_id":"1"`, false, false, "", "", false},
		{`{"delete":{"_index":"x","_id":"1"}}`, false, false, "", "", false},
		{`{"update":{"_index":"x","_id":"1"}}`, false, false, "", "", false},
	} {
		_, scanned := scanAction([]byte(tc.line))
		a, err := readAction(&p, []byte(tc.line))
		if (err == nil) != tc.ok || scanned != tc.scanned {
			t.Errorf("%s: err %v, scanned %v; want ok %v, scanned %v", tc.line, err, scanned, tc.ok, tc.scanned)
			continue
		}
		if tc.ok && (a.create != tc.create || string(a.index) != tc.index || string(a.id) != tc.id) {
			t.Errorf("%s: got create %v index %q id %q", tc.line, a.create, a.index, a.id)
		}
	}
}

// TestOSReceiverFilterPath: the receiver cuts its answer to ?filter_path= as
// OpenSearch does (osfake.FilterPath applied to its whole answer), so the
// router reads the answer a cluster sends it.
func TestOSReceiverFilterPath(t *testing.T) {
	var body bytes.Buffer
	for _, item := range [][2]string{
		{"a", `{"bench_run":"R","bench_seq":0,"bench_sent_ns":1}`},
		{"a", `{"bench_run":"R","bench_seq":0,"bench_sent_ns":1}`}, // same _id: 409
		{"b", `[1]`}, // 400
	} {
		fmt.Fprintf(&body, `{"create":{"_index":"x","_id":"%s"}}`+"\n%s\n", item[0], item[1])
	}
	answer := func(query string) string {
		d := NewDest("opensearch", "R", "P2")
		o, err := NewOSReceiver(d)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		resp, err := http.Post(o.URL()+"/_bulk"+query, "application/x-ndjson", bytes.NewReader(body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if fastjson.ValidateBytes(b) != nil {
			t.Fatalf("answer to %q is not JSON: %s", query, b)
		}
		return string(b)
	}
	whole := answer("")
	if !strings.Contains(whole, `"status":201`) || !strings.Contains(whole, `"status":409`) || !strings.Contains(whole, `"status":400`) {
		t.Fatalf("want a created, a conflicting and a refused item: %s", whole)
	}
	for _, filter := range []string{
		"items.*._index,items.*._id,items.*.status,items.*.error,error,status", // the router's
		"items.*.error", "took", "errors,items.*._seq_no", "-items.*._shards", "nothing",
	} {
		want := string(osfake.ParseFilterPath(filter).Apply([]byte(whole)))
		if got := answer("?filter_path=" + filter); got != want {
			t.Errorf("filter_path=%s\n got %s\nwant %s", filter, got, want)
		}
	}
}
