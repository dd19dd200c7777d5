package httpin

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	itu "github.com/logrouter/logrouter/internal/testutil"
)

// Fault: the LogrouterInputRefusing alert (deploy/kubernetes/alerts.yaml)
// reads only rate(logrouter_input_refused_events_total[5m]), but a request
// the HTTP input turns away at its request limits
// (inputs.http.max_concurrent_requests, max_inflight_bytes) is answered
// 503/429 in Server.limit (or by the budget) before any event is parsed, and
// nothing adds to logrouter_input_refused_events_total. The alert can never
// fire in one of the two scenarios it is written for.
//
// Sequence: max_concurrent_requests 1; one request holds the slot (its
// destination blocks); five more HEC requests arrive and are told to retry
// (503 "logrouter is busy").
//
// Expected: alerts.yaml, LogrouterInputRefusing: "Not a loss (the senders
// retry), but their own buffers fill: a queue is full (LogrouterQueueFull)
// or the router is at its request limits (inputs.http.max_concurrent_requests,
// max_inflight_bytes). Add replicas." The series the alert reads must grow
// when senders are refused at the request limits.
//
// Actual: logrouter_input_refused_events_total{input} stays 0 while every
// sender is refused (only logrouter_http_requests_total{code="503"} moves,
// which no alert reads): a fleet at its request limit for hours, senders'
// buffers filling, fires nothing.
//
// Severity: medium (a warning alert that is silent for a documented cause
// of sender back-pressure; the senders' buffers overflow unnoticed).
//
// Fixed: the alert also reads logrouter_http_requests_total{code=~"429|503"},
// which counts these refusals.
func TestInputRefusingAlertSeesRequestLimits(t *testing.T) {
	bs := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, Config{MaxConcurrentRequests: 1}, bs)
	done := make(chan int)
	go func() { done <- f.do("POST", "/ingest", "", `{"a":1}`).Code }()
	<-bs.entered
	busy := 0
	for i := 0; i < 5; i++ {
		if w := f.do("POST", "/services/collector/event", "", `{"event":"x"}`); w.Code == 503 {
			busy++
		}
	}
	close(bs.release)
	<-done
	if busy != 5 {
		t.Fatalf("premise: %d of 5 requests answered busy", busy)
	}
	reqs := testutil.ToFloat64(f.eng.Metrics().Requests.WithLabelValues(f.srv.cfg.Name, ProtoHEC, "503"))
	if reqs != 5 {
		t.Errorf("logrouter_http_requests_total{code=\"503\"} = %v after 5 refusals at max_concurrent_requests", reqs)
	}
	alerts, err := os.ReadFile("../../../deploy/kubernetes/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(alerts), "alert: LogrouterInputRefusing")
	if i < 0 {
		t.Fatal("alerts.yaml has no LogrouterInputRefusing")
	}
	rule := string(alerts[i:])
	if j := strings.Index(rule[1:], "- alert:"); j > 0 {
		rule = rule[:j+1]
	}
	if !strings.Contains(rule, `logrouter_http_requests_total{code=~"429|503"}`) {
		t.Errorf("LogrouterInputRefusing does not read logrouter_http_requests_total{code=~\"429|503\"}, the only series that counts refusals at the request limits:\n%s", rule)
	}
}

// obsBuf is a log sink safe for concurrent writes.
type obsBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *obsBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *obsBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Fault: serverErrorLog (errorlog.go) rate-limits only net/http's "TLS
// handshake error" lines; "every other line" goes out as a WARN, one per
// occurrence. With TLS on, the input also serves HTTP/2 (ALPN h2), and
// net/http's HTTP/2 server writes peer-triggered lines to the same
// ErrorLog: a client that sends GOAWAY with an error code ("http2:
// received GOAWAY ..."), or a malformed frame ("http2: server connection
// error from ..."), makes one WARN line per connection, before any token
// is checked.
//
// Sequence: 30 TLS connections negotiate h2, send the client preface, an
// empty SETTINGS frame and GOAWAY(PROTOCOL_ERROR), and close.
//
// Expected: errorlog.go's own rule: "What a peer causes by itself ... is
// counted, logged at debug, and summed up in a warning at most once a
// minute: peers choose how often, and one line per connection let any
// client that reaches the port write the router's WARN log at will."
//
// Actual: 30 WARN lines "http2: received GOAWAY ...", one per connection:
// any unauthenticated client that reaches the port writes the router's
// WARN log at its own rate.
//
// Severity: low (log flooding by an unauthenticated peer, burying the
// lines the on-call needs; log pipeline cost).
func TestHTTP2PeerLinesRateLimited(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := itu.SelfSigned(t, dir)
	f := newFixture(t, Config{}, nil)
	logs := &obsBuf{}
	s, err := New(Config{Address: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: key},
		f.eng, slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	}()
	frame := func(typ byte, payload []byte) []byte {
		n := len(payload)
		h := []byte{byte(n >> 16), byte(n >> 8), byte(n), typ, 0, 0, 0, 0, 0}
		return append(h, payload...)
	}
	var msg []byte
	msg = append(msg, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"...)
	msg = append(msg, frame(0x4, nil)...)                            // SETTINGS
	msg = append(msg, frame(0x7, []byte{0, 0, 0, 0, 0, 0, 0, 1})...) // GOAWAY last=0 PROTOCOL_ERROR
	const conns = 30
	d := &net.Dialer{Timeout: 2 * time.Second}
	for i := 0; i < conns; i++ {
		c, err := tls.DialWithDialer(d, "tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}}) //nolint:gosec // test
		if err != nil {
			t.Fatal(err)
		}
		if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
			c.Close()
			t.Skipf("premise: ALPN negotiated %q, not h2", p)
		}
		_, _ = c.Write(msg)
		_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = io.Copy(io.Discard, c) // the server's SETTINGS, ack
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	out := logs.String()
	warn, example := 0, ""
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "http2") {
			warn++
			example = l
		}
	}
	if warn > 2 {
		t.Errorf("%d HTTP/2 connections that sent GOAWAY(PROTOCOL_ERROR) wrote %d WARN lines (one per connection, not rate-limited), e.g.:\n%s",
			conns, warn, example)
	}
}
