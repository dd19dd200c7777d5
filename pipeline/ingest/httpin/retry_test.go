package httpin

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
)

// downQuarantine fails every write, as a full or unreachable quarantine
// store does.
type downQuarantine struct{}

func (downQuarantine) Put(context.Context, []pipeline.Rejected) error {
	return errors.New("quarantine storage unavailable")
}
func (downQuarantine) Close(context.Context) error { return nil }

// bulkAnswer is the part of a bulk response the tests read.
type bulkAnswer struct {
	Errors bool
	Items  []map[string]struct {
		Status int
		Error  struct{ Type string }
	}
	Error struct {
		Type   string
		Reason string
	}
	Status int
}

func decodeBulk(t *testing.T, w *httptest.ResponseRecorder) bulkAnswer {
	t.Helper()
	var br bulkAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &br); err != nil {
		t.Fatalf("%d %s: %v", w.Code, w.Body, err)
	}
	return br
}

// TestBulkQuarantineDownIsRetryable: when the invalid source line could not
// be stored in quarantine, its item used to be answered 400
// mapper_parsing_exception inside a 200, which Beats, Logstash and Fluent Bit
// take as final: the line was dropped, stored nowhere. Now the whole request
// gets a retryable 503, as HEC and /ingest already answered.
func TestBulkQuarantineDownIsRetryable(t *testing.T) {
	f := newFixtureQ(t, Config{}, nil, downQuarantine{})
	for _, body := range []string{
		"{\"index\":{\"_index\":\"x\"}}\n{\"a\":1}\n{\"index\":{\"_index\":\"x\"}}\nnot json\n",
		"{\"index\":{}}\nnot json\n", // no valid item at all
	} {
		w := f.do("POST", "/_bulk", "", body)
		br := decodeBulk(t, w)
		if w.Code != 503 || br.Status != 503 || len(br.Items) != 0 || w.Header().Get("Retry-After") == "" {
			t.Errorf("bad line not quarantined, answered %d (Retry-After %q): %s", w.Code, w.Header().Get("Retry-After"), w.Body)
		}
		if !strings.Contains(br.Error.Reason, "quarantine") {
			t.Errorf("the reason does not name the quarantine: %s", w.Body)
		}
	}
	if n := len(f.rec.Events()); n != 0 {
		t.Errorf("%d events delivered though the request was refused", n)
	}
}

// TestBulkTotalFailureIsTopLevel: a batch is delivered whole or not at all,
// yet a failed delivery used to be answered HTTP 200 with per-item 503/429.
// Vector's elasticsearch sink (request_retry_partial=false, its default)
// drops the events of such a response. Now the request itself fails: 429
// es_rejected_execution_exception when a queue is full, else 503, both with
// Retry-After (Beats, Logstash, Fluent Bit and Vector retry both).
func TestBulkTotalFailureIsTopLevel(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
		typ    string
	}{
		{errors.New("disk on fire"), 503, "unavailable_shards_exception"},
		{fmt.Errorf("queue full: %w", pipeline.ErrOverloaded), 429, "es_rejected_execution_exception"},
	} {
		f := newFixture(t, Config{}, &testutil.RecordSink{SinkName: "all", Err: c.err})
		w := f.do("POST", "/_bulk", "", "{\"index\":{}}\n{\"a\":1}\n{\"create\":{}}\n{\"b\":2}\n")
		br := decodeBulk(t, w)
		if w.Code != c.status || br.Status != c.status || br.Error.Type != c.typ || len(br.Items) != 0 || w.Header().Get("Retry-After") == "" {
			t.Errorf("%v: nothing was accepted but the bulk answer is %d (Retry-After %q): %s", c.err, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
}

// TestBulkPartialStays200: when some items were accepted (the invalid one
// quarantined, the rest delivered) the answer stays a 200 with per-item
// statuses, so the sender does not resend what was accepted.
func TestBulkPartialStays200(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/_bulk", "", "{\"index\":{}}\n{\"a\":1}\n{\"index\":{}}\nnot json\n")
	br := decodeBulk(t, w)
	if w.Code != 200 || !br.Errors || len(br.Items) != 2 ||
		br.Items[0]["index"].Status != 201 || br.Items[1]["index"].Status != 400 ||
		br.Items[1]["index"].Error.Type != "mapper_parsing_exception" {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(f.rec.Events()) != 1 || len(f.q.Records()) != 1 {
		t.Fatalf("delivered %d, quarantined %d; want 1 and 1", len(f.rec.Events()), len(f.q.Records()))
	}
}

// slowErr is what reading a connection past its deadline returns.
type slowErr struct{}

func (slowErr) Error() string   { return "read tcp: i/o timeout" }
func (slowErr) Timeout() bool   { return true }
func (slowErr) Temporary() bool { return true }

// timeoutBody yields part of a body, then the connection's timeout.
type timeoutBody struct {
	data []byte
	err  error
}

func (b *timeoutBody) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	return 0, b.err
}

// TestBodyReadFailureIsRetryable: a body that could not be read (the
// server's read_timeout on a slow sender, a connection cut mid-body) used to
// be answered 400 on every endpoint, HEC with code 6 "Invalid data format":
// "bad data, do not retry", so the sender dropped data that was never even
// looked at. Now it is 503 with Retry-After (HEC: code 9 "Server is busy"),
// plain or gzip-encoded.
func TestBodyReadFailureIsRetryable(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(strings.Repeat(`{"event":"a"}`, 1000)))
	_ = zw.Close()
	for _, readErr := range []error{slowErr{}, io.ErrUnexpectedEOF, &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}} {
		for _, enc := range []string{"", "gzip"} {
			for _, path := range []string{"/services/collector/event", "/services/collector/raw", "/_bulk", "/ingest"} {
				data := []byte(`{"event":"a"}`)
				if enc == "gzip" {
					data = gz.Bytes()[:gz.Len()/2]
				}
				req := httptest.NewRequest("POST", path, &timeoutBody{data: data, err: readErr})
				if enc != "" {
					req.Header.Set("Content-Encoding", enc)
				}
				w := httptest.NewRecorder()
				f.h.ServeHTTP(w, req)
				if w.Code != 503 || w.Header().Get("Retry-After") == "" {
					t.Errorf("%s %q %v: answered %d (Retry-After %q) %s", path, enc, readErr, w.Code, w.Header().Get("Retry-After"), w.Body)
				}
				if strings.HasPrefix(path, "/services/") && !strings.Contains(w.Body.String(), `"code":9`) {
					t.Errorf("%s: not HEC code 9: %s", path, w.Body)
				}
			}
		}
	}
	if len(f.rec.Events()) != 0 || len(f.q.Records()) != 0 {
		t.Errorf("a body that was not read whole was delivered or quarantined")
	}
}

// TestCorruptBodyStays400: the data itself being bad (corrupt or truncated
// gzip, all of it received) is final: 400, HEC code 6.
func TestCorruptBodyStays400(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(strings.Repeat(`{"event":"a"}`, 1000)))
	_ = zw.Close()
	for name, body := range map[string]string{
		"not gzip":       "this is not gzip",
		"truncated gzip": gz.String()[:gz.Len()/2],
		"bad zstd":       "this is not zstd",
	} {
		enc := "gzip"
		if strings.Contains(name, "zstd") {
			enc = "zstd"
		}
		for _, path := range []string{"/services/collector/event", "/_bulk", "/ingest"} {
			w := f.do("POST", path, "", body, "Content-Encoding", enc)
			if w.Code != 400 {
				t.Errorf("%s %s: %d %s", name, path, w.Code, w.Body)
			}
			if strings.HasPrefix(path, "/services/") && !strings.Contains(w.Body.String(), `"code":6`) {
				t.Errorf("%s %s: not HEC code 6: %s", name, path, w.Body)
			}
		}
	}
}

// TestSlowBodyOnTheWire: end to end, a sender slower than read_timeout used
// to get a 400 (final) on the wire; now a 503 with Retry-After.
func TestSlowBodyOnTheWire(t *testing.T) {
	f := newFixture(t, Config{Address: "127.0.0.1:0", ReadTimeout: 300 * time.Millisecond}, nil)
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer f.srv.Shutdown(context.Background())
	c, err := net.Dial("tcp", f.srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /services/collector/event HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"event\":\"a\"}")
	// The answer is due once read_timeout (300ms) passes; the deadline
	// only guards against none coming, with room for a loaded machine.
	_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "read_timeout") {
		t.Fatalf("slow sender answered %d (Retry-After %q) %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
}

// TestPanicReleasesSlot: a handler that panics (net/http recovers it) used
// to keep its max_concurrent_requests slot forever; enough of them and every
// request was answered busy.
func TestPanicReleasesSlot(t *testing.T) {
	f := newFixture(t, Config{MaxConcurrentRequests: 1}, nil)
	h := f.srv.limit(ProtoNDJSON, func(http.ResponseWriter, *http.Request, *charge) int { panic("handler bug") })
	func() {
		defer func() { _ = recover() }()
		h(httptest.NewRecorder(), httptest.NewRequest("POST", "/ingest", nil))
	}()
	if w := f.do("POST", "/ingest", "", `{"a":1}`); w.Code != 200 {
		t.Fatalf("after a panic: %d %s", w.Code, w.Body)
	}
}
