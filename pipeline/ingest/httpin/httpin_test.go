package httpin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
)

func TestMain(m *testing.M) { testutil.VerifyTestMain(m) }

type fixture struct {
	srv  *Server
	h    http.Handler
	eng  *engine.Engine
	sink pipeline.Sink
	rec  *testutil.RecordSink
	q    *testutil.MemQuarantine
}

func newFixture(t testing.TB, cfg Config, sink pipeline.Sink) *fixture {
	t.Helper()
	return newFixtureQ(t, cfg, sink, nil)
}

// newFixtureQ is newFixture with quarantine q (nil: an in-memory one, f.q).
func newFixtureQ(t testing.TB, cfg Config, sink pipeline.Sink, q pipeline.Quarantine) *fixture {
	t.Helper()
	f := &fixture{}
	if q == nil {
		f.q = &testutil.MemQuarantine{}
		q = f.q
	}
	if sink == nil {
		f.rec = &testutil.RecordSink{SinkName: "all"}
		sink = f.rec
	}
	f.sink = sink
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.eng = testengine.New(t, testengine.P1EDR, sink, q, log)
	var err error
	f.srv, err = New(cfg, f.eng, log)
	if err != nil {
		t.Fatal(err)
	}
	f.h = f.srv.Handler()
	return f
}

func (f *fixture) do(method, path, auth, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, req)
	return w
}

func TestNextObject(t *testing.T) {
	for in, want := range map[string]int{
		`{}`:                   2,
		`{"a":"}"}{"b":1}`:     9,
		`{"a":"\"}"}`:          11,
		`{"a":"\\"}x`:          10,
		`{"a":[{"b":"]"}]} {}`: 17,
	} {
		n, err := nextObject([]byte(in))
		if err != nil || n != want {
			t.Errorf("nextObject(%s) = %d, %v; want %d", in, n, err, want)
		}
	}
	for _, in := range []string{``, `[1]`, `{"a":1`, `{"a":"x}`, ` {}`} {
		if _, err := nextObject([]byte(in)); err == nil {
			t.Errorf("nextObject(%q): expected an error", in)
		}
	}
}

func TestNoTokensMeansOpen(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	if w := f.do("POST", "/ingest", "", `{"a":1}`); w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(f.rec.Events()) != 1 {
		t.Fatal("event not delivered")
	}
}

func TestQueryTokenNeedsOptIn(t *testing.T) {
	f := newFixture(t, Config{Tokens: []Token{{Name: "a", Token: "t"}}}, nil)
	if w := f.do("POST", "/services/collector/event?token=t", "", `{"event":"x"}`); w.Code != 400 || !strings.Contains(w.Body.String(), `"code":16`) {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	g := newFixture(t, Config{Tokens: []Token{{Name: "a", Token: "t"}}, AllowQueryToken: true}, nil)
	if w := g.do("POST", "/services/collector/event?token=t", "", `{"event":"x"}`); w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
}

// TestDeliveryFailureIsRetryable: when a destination fails, nothing is
// acknowledged and each protocol tells the sender, with a top-level status
// and Retry-After, to retry the whole request.
func TestDeliveryFailureIsRetryable(t *testing.T) {
	f := newFixture(t, Config{}, &testutil.RecordSink{SinkName: "all", Err: errors.New("disk on fire")})
	w := f.do("POST", "/services/collector/event", "", `{"event":{"a":1}}`)
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"code":9`) || w.Header().Get("Retry-After") == "" {
		t.Errorf("hec: %d %s", w.Code, w.Body)
	}
	// Nothing was accepted, so the whole bulk request fails: a 200 with
	// per-item 503 is dropped by senders that retry only failed requests.
	w = f.do("POST", "/_bulk", "", "{\"index\":{}}\n{\"a\":1}\n")
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"status":503`) || w.Header().Get("Retry-After") == "" {
		t.Errorf("bulk: %d %s", w.Code, w.Body)
	}
	w = f.do("POST", "/ingest", "", `{"a":1}`)
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Errorf("ndjson: %d %s", w.Code, w.Body)
	}
}

// blockingSink holds every Write until release is closed.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (s *blockingSink) Name() string { return "all" }
func (s *blockingSink) Write(ctx context.Context, b *pipeline.Batch) error {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (s *blockingSink) Close(context.Context) error { return nil }

func TestOverloadAnswersBusy(t *testing.T) {
	bs := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, Config{MaxConcurrentRequests: 1}, bs)
	done := make(chan int)
	go func() { done <- f.do("POST", "/ingest", "", `{"a":1}`).Code }()
	<-bs.entered
	w := f.do("POST", "/services/collector/event", "", `{"event":"x"}`)
	if w.Code != 503 || !strings.Contains(w.Body.String(), "max_concurrent_requests") || w.Header().Get("Retry-After") != "1" {
		t.Errorf("hec busy: %d %s", w.Code, w.Body)
	}
	w = f.do("POST", "/_bulk", "", "{\"index\":{}}\n{\"a\":1}\n")
	if w.Code != 429 {
		t.Errorf("bulk busy: %d %s", w.Code, w.Body)
	}
	close(bs.release)
	if c := <-done; c != 200 {
		t.Errorf("first request: %d", c)
	}
}

// TestGzipBombBounded: a small gzip body inflating far past the limit is
// refused after reading at most the limit.
func TestGzipBombBounded(t *testing.T) {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 32; i++ { // 32 MiB of zeros, ~32 KiB compressed
		_, _ = zw.Write(zeros)
	}
	_ = zw.Close()
	f := newFixture(t, Config{MaxBodyBytes: 1 << 20}, nil)
	start := time.Now()
	w := f.do("POST", "/ingest", "", b.String(), "Content-Encoding", "gzip")
	if w.Code != 413 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v: the body was inflated past the limit", d)
	}
}

// FuzzHTTPBodies sends arbitrary bodies to every ingest endpoint: nothing may
// panic, every answer is JSON, and every record is either delivered or
// quarantined (never both for the same request answered 200).
func FuzzHTTPBodies(f *testing.F) {
	for _, s := range []string{
		`{"event":{"a":1}}{"event":"x","time":"1700000000.5"}`, `{"event":`, "{\"index\":{}}\n{\"a\":1}\n",
		"{\"a\":1}\n{bad\n", `[{"a":1},2]`, "{\"create\":{\"_id\":\"x\"}}\n[]\n{\"delete\":{}}\n",
		`{"requestId":"r","timestamp":1,"records":[{"data":"eyJhIjoxfQ=="},{"data":"H4sIAAAAAAAA/w=="},{"data":"!"}]}`,
		`{"records":[{"a":1},{"kind":"admin#reports#activity","events":[{"name":"a"},{"name":"b"}]}]}`,
		`{"kind":"admin#reports#activity","events":[{"name":"a"},{"name":"b","events":[{},{}]}],"events":[{},{}]}`,
	} {
		for p := byte(0); p < 5; p++ {
			f.Add(p, []byte(s))
		}
	}
	fx := newFixture(f, Config{}, nil)
	paths := []string{"/services/collector/event", "/services/collector/raw", "/_bulk", "/ingest", "/firehose"}
	f.Fuzz(func(t *testing.T, which byte, body []byte) {
		w := fx.do("POST", paths[int(which)%len(paths)], "", string(body))
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s answered %d with invalid JSON: %s", paths[int(which)%len(paths)], w.Code, w.Body)
		}
	})
}

// TestPublishedDevTokenWarns: the embedded configuration accepts the
// token printed in the README unless LOGROUTER_HEC_TOKEN is set; New says
// so, loudly, since anyone can then send events.
func TestPublishedDevTokenWarns(t *testing.T) {
	var logged strings.Builder
	log := slog.New(slog.NewTextHandler(&logged, nil))
	f := newFixture(t, Config{}, nil)
	if _, err := New(Config{Tokens: []Token{{Name: "dev", Token: PublishedDevToken}}}, f.eng, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logged.String(), "development token published") {
		t.Errorf("no warning: %q", logged.String())
	}
}
