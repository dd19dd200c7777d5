package siem

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/siem/hecfake"
)

const testToken = "a1b2c3d4-token-never-log-me-0000"

func newTestHEC(t testing.TB, fake *hecfake.Server, mod func(*HECConfig), opts ...Option) *HEC {
	t.Helper()
	cfg := HECConfig{URL: fake.URL(), Token: Secret(testToken), DefaultHost: "router-1", Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	h, err := NewHEC("splunk", cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

func newFake(t testing.TB, cfg hecfake.Config) *hecfake.Server {
	t.Helper()
	if cfg.Tokens == nil {
		cfg.Tokens = []string{testToken}
	}
	f := hecfake.New(cfg)
	t.Cleanup(f.Close)
	return f
}

// countIDs counts every event id the fake indexed.
func countIDs(t testing.TB, evs []hecfake.Event) map[string]int {
	t.Helper()
	n := map[string]int{}
	for i := range evs {
		id, err := evs[i].Field("id")
		if err != nil {
			t.Fatalf("event %s: %v", evs[i].Event, err)
		}
		n[id]++
	}
	return n
}

func expectExactlyOnce(t testing.TB, got map[string]int, from, to int, skip ...int) {
	t.Helper()
	skipped := map[int]bool{}
	for _, s := range skip {
		skipped[s] = true
	}
	bad := 0
	for i := from; i < to; i++ {
		id := fmt.Sprintf("e%06d", i)
		want := 1
		if skipped[i] {
			want = 0
		}
		if got[id] != want && bad < 10 {
			t.Errorf("event %s indexed %d times, want %d", id, got[id], want)
			bad++
		}
	}
}

// TestHECRoundTrip: the envelopes are exactly as documented (time with ms,
// host from host.name or the default, source, sourcetype, index, the raw
// event verbatim, static fields), bodies are gzip-compressed, the token goes
// in the Authorization header and never into logs or errors.
func TestHECRoundTrip(t *testing.T) {
	log, logs := captureLogs()
	fake := newFake(t, hecfake.Config{})
	var mu sync.Mutex
	var auths, channels []string
	fake.OnRequest(func(r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		channels = append(channels, r.Header.Get("X-Splunk-Request-Channel"))
		mu.Unlock()
	})
	h := newTestHEC(t, fake, func(c *HECConfig) {
		c.Index = "security"
		c.Fields = map[string]string{"priority": "P1", "team": "soc"}
	}, WithLogger(log))
	raws := []string{
		testEvent(0, "ws-1", `"message":"multi\nline \"quoted\" \u00e9"`),
		testEvent(1, "", ""),
		testEvent(2, `we"ird`, ""),
	}
	b := makeBatch(raws, pipeline.P1)
	defer b.Release()

	// byte-exact envelope
	e := h.encode(b)
	want0 := `{"time":1795824000.123,"host":"ws-1","source":"logrouter","sourcetype":"crowdstrike.falcon","index":"security","event":` +
		raws[0] + `,"fields":{"priority":"P1","team":"soc"}}`
	if got := string(e.body(0, 1)); got != want0 {
		t.Errorf("envelope\n got %s\nwant %s", got, want0)
	}
	if got := string(e.body(1, 2)); !strings.Contains(got, `"host":"router-1"`) {
		t.Errorf("event without host.name: %s", got)
	}
	releaseHECBuf(e)

	if err := h.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	evs := fake.Events()
	if len(evs) != 3 {
		t.Fatalf("indexed %d events, want 3", len(evs))
	}
	for i, ev := range evs {
		if string(ev.Event) != raws[i] {
			t.Errorf("event %d not verbatim:\n got %s\nwant %s", i, ev.Event, raws[i])
		}
		if ev.Time != "1795824000.123" || ev.Source != "logrouter" || ev.SourceType != "crowdstrike.falcon" || ev.Index != "security" {
			t.Errorf("event %d envelope: %+v", i, ev)
		}
		if ev.Fields["priority"] != "P1" || ev.Fields["team"] != "soc" || !ev.Gzip {
			t.Errorf("event %d fields %v gzip %v", i, ev.Fields, ev.Gzip)
		}
	}
	for i, want := range []string{"ws-1", "router-1", `we"ird`} {
		if evs[i].Host != want {
			t.Errorf("event %d host %q, want %q", i, evs[i].Host, want)
		}
	}
	mu.Lock()
	if auths[0] != "Splunk "+testToken || !uuidRE.MatchString(channels[0]) || channels[0] != h.Channel() {
		t.Errorf("headers: Authorization %q, channel %q", auths[0], channels[0])
	}
	mu.Unlock()

	// A refused token is retryable, logged loudly, and never shown.
	fake.SetTokens("rotated-token")
	err := h.Write(context.Background(), b)
	if err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("403: got %v, want a retryable error", err)
	}
	var herr *HECError
	if !errors.As(err, &herr) || herr.Status != 403 || herr.Code != hecfake.CodeInvalidToken {
		t.Fatalf("403: got %v", err)
	}
	cfg := h.cfg
	h.log.Info("config dump", "cfg", cfg, "token", cfg.Token)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s %q", cfg, cfg, cfg, cfg.Token, cfg.Token), err.Error(), logs.String()} {
		if strings.Contains(s, testToken) {
			t.Fatalf("the token leaked: %s", s)
		}
	}
	if !strings.Contains(logs.String(), "refused the token") || !strings.Contains(logs.String(), redacted) {
		t.Errorf("logs lack the token error or the redacted config: %s", logs.String())
	}
}

// TestHECTokenFileRotation: a token rotated in Splunk and then in
// token_file is picked up after the 403, with nothing lost or duplicated
// and neither token logged.
func TestHECTokenFileRotation(t *testing.T) {
	log, logs := captureLogs()
	fake := newFake(t, hecfake.Config{Tokens: []string{"old-token-AAAA"}})
	file := filepath.Join(t.TempDir(), "hec.token")
	if err := os.WriteFile(file, []byte("old-token-AAAA\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newTestHEC(t, fake, func(c *HECConfig) { c.Token, c.TokenFile = "", file }, WithLogger(log))
	q, _ := openQueue(t, h, log)
	defer q.Close(context.Background())
	pushAll(t, q, idRange(0, 50, "ws"), 10)

	fake.SetTokens("new-token-BBBB")
	go func() {
		time.Sleep(150 * time.Millisecond)
		_ = os.WriteFile(file, []byte("new-token-BBBB"), 0o600)
	}()
	pushAll(t, q, idRange(50, 100, "ws"), 10)
	expectExactlyOnce(t, countIDs(t, fake.Events()), 0, 100)
	l := logs.String()
	if strings.Contains(l, "old-token-AAAA") || strings.Contains(l, "new-token-BBBB") {
		t.Fatalf("a token leaked into the logs: %s", l)
	}
	if !strings.Contains(l, "the token changed") {
		t.Errorf("rotation not logged: %s", l)
	}
}

// TestHECBusyThenSlow: 503 (code 9) for a while, then slow answers: the
// queue retries, every event is indexed exactly once, concurrency stays
// bounded.
func TestHECBusyThenSlow(t *testing.T) {
	fake := newFake(t, hecfake.Config{})
	fake.FailNext(8, http.StatusServiceUnavailable, hecfake.CodeBusy)
	fake.DelayNext(10, 150*time.Millisecond)
	m := NewMetrics(nil)
	h := newTestHEC(t, fake, func(c *HECConfig) {
		c.MaxBatchBytes = 4 << 10
		c.MaxConcurrentRequests = 3
	}, WithMetrics(m))
	q, dlq := openQueue(t, h, nil)
	defer q.Close(context.Background())
	pushAll(t, q, idRange(0, 1000, "ws"), 100)
	expectExactlyOnce(t, countIDs(t, fake.Events()), 0, 1000)
	st := fake.Stats()
	if st.Injected != 8 || st.MaxInFlight > 3 {
		t.Errorf("stats %+v: want 8 injected 503s and at most 3 requests in flight", st)
	}
	if busy := counterValue(t, m.Requests.WithLabelValues("splunk", "busy")); busy != 8 {
		t.Errorf("busy requests counted %v, want 8", busy)
	}
	if len(dlq.Records()) != 0 {
		t.Errorf("quarantined %d events", len(dlq.Records()))
	}
}

// TestHECAckTimeoutResend: 10% of acks never arrive; their requests are
// resent after ack.timeout; nothing is lost and the duplicates are exactly
// the events counted as resent.
func TestHECAckTimeoutResend(t *testing.T) {
	fake := newFake(t, hecfake.Config{Ack: true})
	fake.DropAcks(0.10)
	m := NewMetrics(nil)
	h := newTestHEC(t, fake, func(c *HECConfig) {
		c.MaxBatchBytes = 2 << 10
		c.Ack = HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: 300 * time.Millisecond}
	}, WithMetrics(m))
	q, _ := openQueue(t, h, nil)
	defer q.Close(context.Background())
	const n = 600
	pushAll(t, q, idRange(0, n, "ws"), 100)
	got := countIDs(t, fake.Events())
	dups := 0
	for i := 0; i < n; i++ {
		c := got[fmt.Sprintf("e%06d", i)]
		if c == 0 {
			t.Fatalf("event %d lost", i)
		}
		dups += c - 1
	}
	resent := counterValue(t, m.Resent.WithLabelValues("splunk", "ack_timeout"))
	timeouts := counterValue(t, m.AckTimeouts.WithLabelValues("splunk"))
	st := fake.Stats()
	t.Logf("requests %d, acks dropped %d, ack timeouts %v, resent events %v, duplicates %d", st.Requests, st.AcksDropped, timeouts, resent, dups)
	// one timeout per dropped ack (more only if a poll stalled past the
	// timeout on a loaded machine)
	if st.AcksDropped == 0 || timeouts < float64(st.AcksDropped) {
		t.Errorf("ack timeouts %v, want at least one per dropped ack (%d)", timeouts, st.AcksDropped)
	}
	if float64(dups) != resent || dups == 0 {
		t.Errorf("duplicates %d, resent counter %v: want equal and positive", dups, resent)
	}
}

// TestHECAckDelayed: Write returns only once the ack is confirmed.
func TestHECAckDelayed(t *testing.T) {
	fake := newFake(t, hecfake.Config{Ack: true})
	fake.SetAckDelay(200 * time.Millisecond)
	h := newTestHEC(t, fake, func(c *HECConfig) {
		c.Ack = HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: 5 * time.Second}
	})
	b := makeBatch(idRange(0, 5, "ws"), pipeline.P1)
	defer b.Release()
	start := time.Now()
	if err := h.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("Write returned after %s, before the ack could be true", d)
	}
	if st := fake.Stats(); st.AcksConfirmed != 1 || st.AckPolls < 2 {
		t.Errorf("stats %+v", st)
	}
}

// TestHECAckUnsupported: acks enabled here but not in Splunk: a 200 without
// ackId, or the ack endpoint's 400 code 14, logs an error and falls back to
// no-ack mode without losing the request.
func TestHECAckUnsupported(t *testing.T) {
	t.Run("no ackId", func(t *testing.T) {
		log, logs := captureLogs()
		fake := newFake(t, hecfake.Config{Ack: false})
		h := newTestHEC(t, fake, func(c *HECConfig) { c.Ack.Enabled = true }, WithLogger(log))
		b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
		defer b.Release()
		for i := 0; i < 2; i++ {
			if err := h.Write(context.Background(), b); err != nil {
				t.Fatal(err)
			}
		}
		if n := strings.Count(logs.String(), "falling back to no-ack mode"); n != 1 {
			t.Errorf("fallback logged %d times, want once: %s", n, logs.String())
		}
	})
	t.Run("code 14", func(t *testing.T) {
		log, logs := captureLogs()
		fake := newFake(t, hecfake.Config{Ack: true})
		fake.SetAckDelay(time.Hour)
		h := newTestHEC(t, fake, func(c *HECConfig) {
			c.Ack = HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: time.Minute}
		}, WithLogger(log))
		b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
		defer b.Release()
		time.AfterFunc(100*time.Millisecond, func() { fake.SetAck(false) })
		start := time.Now()
		if err := h.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("fallback took %s", d)
		}
		if !strings.Contains(logs.String(), "code 14") {
			t.Errorf("code 14 not logged: %s", logs.String())
		}
		if err := h.Write(context.Background(), b); err != nil { // no-ack mode from now on
			t.Fatal(err)
		}
	})
}

// TestHECInvalidEventNumber: Splunk refuses event N of a request (code 6):
// the events before it are delivered, exactly N is permanent, the ones
// after (Splunk did not read them) are sent again in the same Write and
// delivered; behind the queue, N is quarantined and every other event
// indexed exactly once, also when the batch spans several requests.
func TestHECInvalidEventNumber(t *testing.T) {
	fake := newFake(t, hecfake.Config{})
	fake.Poison("POISON")
	raws := idRange(0, 10, "ws")
	raws[4] = testEvent(4, "ws", `"x":"POISON"`)
	h := newTestHEC(t, fake, nil)
	b := makeBatch(raws, pipeline.P1)
	err := h.Write(context.Background(), b)
	b.Release()
	var be *pipeline.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("got %v, want a *pipeline.BatchError", err)
	}
	if len(be.Items) != 1 || be.Items[0].Index != 4 || !pipeline.IsPermanent(be.Items[0].Err) || be.Items[0].Status != 400 {
		t.Fatalf("items %v, want event 4 alone, permanent, status 400", be.Items)
	}
	ids := countIDs(t, fake.Events())
	expectExactlyOnce(t, ids, 0, 10, 4)

	// behind the queue, with batches split into several requests
	fake2 := newFake(t, hecfake.Config{})
	fake2.Poison("POISON")
	h2 := newTestHEC(t, fake2, func(c *HECConfig) { c.MaxBatchBytes = 1 << 10 })
	q, dlq := openQueue(t, h2, nil)
	defer q.Close(context.Background())
	raws = idRange(0, 60, "ws")
	poisoned := []int{4, 17, 33}
	for _, i := range poisoned {
		raws[i] = testEvent(i, "ws", `"x":"POISON"`)
	}
	pushAll(t, q, raws, 20)
	expectExactlyOnce(t, countIDs(t, fake2.Events()), 0, 60, poisoned...)
	recs := dlq.Records()
	if len(recs) != len(poisoned) {
		t.Fatalf("quarantined %d, want %d", len(recs), len(poisoned))
	}
	// The queue delivers several batches at once: quarantine order is free.
	for _, i := range poisoned {
		found := false
		for _, r := range recs {
			if strings.Contains(string(r.Raw), fmt.Sprintf("e%06d", i)) && r.Status == 400 {
				found = true
			}
		}
		if !found {
			t.Errorf("event %d not quarantined with status 400: %v", i, recs)
		}
	}
}

// TestHECClassification checks the documented table, one answer at a time.
func TestHECClassification(t *testing.T) {
	fake := newFake(t, hecfake.Config{})
	h := newTestHEC(t, fake, nil)
	cases := []struct {
		status, code int
		permanent    bool
	}{
		{503, hecfake.CodeBusy, false},
		{429, -1, false},
		{500, hecfake.CodeServerError, false},
		{502, -1, false},
		{401, hecfake.CodeTokenRequired, false},
		{401, hecfake.CodeInvalidAuth, false},
		{403, hecfake.CodeInvalidToken, false},
		{403, hecfake.CodeTokenDisabled, false},
		{400, hecfake.CodeNoChannel, false},
		{400, hecfake.CodeBadChannel, false},
		{404, -1, false},
		{408, -1, false},
		{400, hecfake.CodeNoData, true},
		{400, hecfake.CodeIncorrectIndex, true},
		{400, hecfake.CodeInvalidFormat, true}, // without invalid-event-number
		{400, 99, true},
		{418, -1, true},
	}
	b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
	defer b.Release()
	for _, c := range cases {
		fake.FailNext(1, c.status, c.code)
		err := h.Write(context.Background(), b)
		if err == nil {
			t.Errorf("%d/%d: nil error", c.status, c.code)
			continue
		}
		var be *pipeline.BatchError
		if c.permanent {
			if !errors.As(err, &be) || len(be.Items) != 3 || !pipeline.IsPermanent(be.Items[0].Err) || be.Items[0].Status != c.status {
				t.Errorf("%d/%d: got %v, want all 3 permanent", c.status, c.code, err)
			}
		} else if pipeline.IsPermanent(err) || errors.As(err, &be) {
			t.Errorf("%d/%d: got %v, want a plain retryable error", c.status, c.code, err)
		}
	}
	if n := len(fake.Events()); n != 0 {
		t.Errorf("%d events indexed", n)
	}
	// connection refused
	fake.Close()
	if err := h.Write(context.Background(), b); err == nil || pipeline.IsPermanent(err) {
		t.Errorf("server down: got %v, want retryable", err)
	}
}

// TestHECIncorrectIndex: code 7 quarantines (a configuration error), and
// says so in the log.
func TestHECIncorrectIndex(t *testing.T) {
	log, logs := captureLogs()
	fake := newFake(t, hecfake.Config{Indexes: []string{"main"}})
	h := newTestHEC(t, fake, func(c *HECConfig) { c.Index = "securty" }, WithLogger(log))
	b := makeBatch(idRange(0, 4, "ws"), pipeline.P1)
	defer b.Release()
	var be *pipeline.BatchError
	if err := h.Write(context.Background(), b); !errors.As(err, &be) || len(be.Items) != 4 || !pipeline.IsPermanent(be.Items[3].Err) {
		t.Fatalf("got %v, want 4 permanent", err)
	}
	if !strings.Contains(logs.String(), "refused the index") {
		t.Errorf("not logged: %s", logs.String())
	}
}

// TestHECTooLarge: a 413 halves the request until only the event that is
// too large on its own remains; it alone is permanent.
func TestHECTooLarge(t *testing.T) {
	fake := newFake(t, hecfake.Config{MaxContentLength: 1200})
	h := newTestHEC(t, fake, nil)
	raws := idRange(0, 6, "ws")
	raws[3] = testEvent(3, "ws", `"blob":"`+strings.Repeat("x", 1500)+`"`)
	b := makeBatch(raws, pipeline.P1)
	defer b.Release()
	var be *pipeline.BatchError
	if err := h.Write(context.Background(), b); !errors.As(err, &be) || len(be.Items) != 1 || be.Items[0].Index != 3 || !pipeline.IsPermanent(be.Items[0].Err) {
		t.Fatalf("got %v, want event 3 alone permanent", err)
	}
	expectExactlyOnce(t, countIDs(t, fake.Events()), 0, 6, 3)
}

// TestHECTLS: HTTPS with the server's CA in tls.ca_file works; without it
// the certificate is refused (retryable: fix the configuration).
func TestHECTLS(t *testing.T) {
	fake := newFake(t, hecfake.Config{TLS: true})
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: fake.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
	defer b.Release()
	h := newTestHEC(t, fake, func(c *HECConfig) { c.TLS = &TLSConfig{CAFile: ca} })
	if err := h.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	bad := newTestHEC(t, fake, nil)
	if err := bad.Write(context.Background(), b); err == nil || pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("unknown CA: got %v", err)
	}
}

// TestHECClose: Close waits for a Write in flight, aborts it when ctx ends,
// and Write fails with ErrClosed afterwards.
func TestHECClose(t *testing.T) {
	fake := newFake(t, hecfake.Config{})
	fake.DelayNext(1, 3*time.Second)
	h := newTestHEC(t, fake, nil)
	b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
	defer b.Release()
	done := make(chan error, 1)
	go func() { done <- h.Write(context.Background(), b) }()
	time.Sleep(100 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_ = h.Close(ctx)
	if err := <-done; err == nil {
		t.Error("aborted Write returned nil")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s", d)
	}
	if err := h.Write(context.Background(), b); !errors.Is(err, pipeline.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	_ = h.Close(context.Background())
}

func TestHECConfig(t *testing.T) {
	for _, c := range []struct {
		cfg  HECConfig
		want string
	}{
		{HECConfig{Token: "t"}, `"url" is required`},
		{HECConfig{URL: "ftp://x", Token: "t"}, `not an http(s) URL`},
		{HECConfig{URL: "https://x:8088?token=abc", Token: "t"}, `query string`},
		{HECConfig{URL: "https://x:8088"}, `"token" or "token_file" is required`},
		{HECConfig{URL: "https://x:8088", Token: "t", TokenFile: "f"}, `both set`},
		{HECConfig{URL: "https://x:8088", Token: "t", Ack: HECAckConfig{Channel: "nope"}}, `not a UUID`},
		{HECConfig{URL: "https://x:8088", Token: "t", TLS: &TLSConfig{CertFile: "c"}}, `cert_file`},
		{HECConfig{URL: "https://x:8088", Token: "t", MaxBatchBytes: -1}, `max_batch_bytes`},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want %q", c.cfg, err, c.want)
		}
	}
	for in, want := range map[string]string{
		"https://s:8088":                             "https://s:8088",
		"https://s:8088/":                            "https://s:8088",
		"https://s:8088/services/collector":          "https://s:8088",
		"https://s:8088/services/collector/event":    "https://s:8088",
		"https://s/splunk/services/collector/event/": "https://s/splunk",
	} {
		u, err := baseURL(in)
		if err != nil || u.String() != want {
			t.Errorf("baseURL(%s) = %v, %v; want %s", in, u, err, want)
		}
	}
	var c HECConfig
	c.SetDefaults()
	if c.Source != "logrouter" || !*c.Gzip || c.MaxBatchBytes != 1<<20 || c.MaxConcurrentRequests != 4 ||
		c.Timeout != 10*time.Second || c.Ack.PollInterval != time.Second || c.Ack.Timeout != 30*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	if _, err := NewHEC("x", HECConfig{URL: "https://s", TokenFile: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("missing token_file accepted")
	}
}

// latencyRun sends events at a steady rate through a queue into the fake
// and returns the fake-side ages (received - ingest) and the histogram.
func latencyRun(t testing.TB, perSecond, seconds, batch int, mod func(*HECConfig)) (ages []float64, m *Metrics) {
	fake := newFake(t, hecfake.Config{})
	m = NewMetrics(nil)
	h := newTestHEC(t, fake, mod, WithMetrics(m))
	q, _ := openQueue(t, h, slog.New(slog.DiscardHandler))
	interval := time.Second * time.Duration(batch) / time.Duration(perSecond)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	ctx := context.Background()
	id := 0
	for end := time.Now().Add(time.Duration(seconds) * time.Second); time.Now().Before(end); {
		<-tick.C
		b := pipeline.NewBatch()
		now := time.Now().UnixNano()
		for i := 0; i < batch; i++ {
			raw := fmt.Sprintf(`{"@timestamp":"2026-11-28T00:00:00Z","id":"e%06d","ingest":%d,"host":{"name":"edr-1"}}`, id, now)
			b.Commit(append(b.Arena(), raw...), pipeline.Event{Priority: pipeline.P1, SourceType: "crowdstrike.falcon", Time: now, Ingest: now, Rule: -1})
			id++
		}
		if err := q.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := q.WaitIdle(wctx); err != nil {
		t.Fatal(err)
	}
	_ = q.Close(ctx)
	for _, ev := range fake.Events() {
		var v struct {
			Ingest int64 `json:"ingest"`
		}
		_ = json.Unmarshal(ev.Event, &v)
		ages = append(ages, ev.Received.Sub(time.Unix(0, v.Ingest)).Seconds())
	}
	if len(ages) != id {
		t.Fatalf("indexed %d of %d", len(ages), id)
	}
	return ages, m
}

// TestHECP1Latency: at a steady rate behind the durable queue, P1 events
// reach the SIEM well within 1 s of ingest (p99), measured by the fake and
// by the age histogram.
func TestHECP1Latency(t *testing.T) {
	ages, m := latencyRun(t, 2000, 2, 20, nil)
	n, q := histQuantiles(t, m.EventAge.WithLabelValues("splunk", "P1"), 0.5, 0.99)
	p50, p99 := quantile(ages, 0.5), quantile(ages, 0.99)
	t.Logf("%d P1 events at 2000/s: fake-side age p50 %.1fms p99 %.1fms max %.1fms; histogram (n=%d) p50 %.1fms p99 %.1fms",
		len(ages), p50*1e3, p99*1e3, quantile(ages, 1)*1e3, n, q[0]*1e3, q[1]*1e3)
	if int(n) != len(ages) {
		t.Errorf("histogram has %d samples, want %d", n, len(ages))
	}
	if p99 >= 1 || q[1] >= 1 {
		t.Errorf("P1 p99 latency %.3fs (histogram %.3fs), want < 1s", p99, q[1])
	}
}

// TestHECProxyPage: a 200 whose body is no HEC answer (a proxy's or load
// balancer's HTML page) used to count as delivered, and in ack mode it
// switched the destination to no-ack; it is retried, and says why.
func TestHECProxyPage(t *testing.T) {
	for _, ack := range []bool{false, true} {
		page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, "<html><body>Welcome to nginx!</body></html>")
		}))
		fake := newFake(t, hecfake.Config{})
		h := newTestHEC(t, fake, func(c *HECConfig) {
			c.URL = page.URL
			c.Ack.Enabled = ack
		})
		b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
		err := h.Write(context.Background(), b)
		b.Release()
		if err == nil || pipeline.IsPermanent(err) || !strings.Contains(err.Error(), "no HEC answer") {
			t.Errorf("ack %v: got %v, want a retryable error naming the proxy page", ack, err)
		}
		if h.ackOff.Load() {
			t.Errorf("ack %v: a proxy page switched the destination to no-ack mode", ack)
		}
		page.Close()
	}
}
