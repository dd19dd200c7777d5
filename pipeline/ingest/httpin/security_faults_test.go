package httpin

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

// secAllocs runs do and returns the bytes it allocated (TotalAlloc).
func secAllocs(do func() int) (uint64, int) {
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	code := do()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc, code
}

// TestFirehoseEnvelopeWalkedNotParsedWhole
//
// Fault: /firehose parses the whole request body with fastjson
// (firehose.go handleFirehose: parseBounded(outer, body, len(body))) before
// any per-request limit is looked at. The other endpoints never do that:
// /ingest splits a JSON array element by element (arrayElems, "parsing the
// whole array at once holds a parsed value per element before any
// per-request limit can be checked") and HEC splits envelopes. fastjson
// holds ~90 bytes per value, so a "records" array of tiny values costs
// ~45x the decoded body, none of it charged to max_inflight_bytes, and the
// body arrives gzip'd (a 32 MiB body of "0," is a ~32 KiB request).
//
// Sequence: any token holder (or anyone, with no tokens configured) POSTs
// /firehose, Content-Encoding: gzip, {"records":[0,0,0,...]} of 2 MiB
// decoded, with max_inflight_bytes 8 MiB.
//
// Expected: config.go MaxInflightBytes "bounds the memory the requests in
// progress hold together: decoded bodies and normalized events"; the
// README/configuration promise "a small body cannot cost gigabytes"; the
// request is refused by max_events_per_request (it has 1M records) without
// costing more than a small multiple of its body, as /ingest does with the
// same array.
//
// Actual: the 2211-byte request allocates ~560 MiB (fastjson's parse of the
// 2 MiB body alone is ~440 MiB; x270 the decoded body: at the default
// max_body_bytes of 32 MiB a ~32 KiB request costs several GiB, times
// max_concurrent_requests 128), five times what /ingest costs for the same
// array, and the pooled parser keeps the parsed values' cache afterwards. Severity: high (authenticated, or
// unauthenticated where no token is set, memory exhaustion / OOM kill of
// the router with tiny requests).
func TestFirehoseEnvelopeWalkedNotParsedWhole(t *testing.T) {
	const n = 1 << 20
	arr := "[" + strings.Repeat("0,", n-1) + "0]"
	cfg := Config{
		Tokens:           []Token{{Name: "fh", Token: "s3cret-s3cret-s3cret"}},
		MaxBodyBytes:     8 << 20,
		MaxInflightBytes: 8 << 20,
	}
	// Control: /ingest with the same array (uncompressed).
	f := newFixture(t, cfg, nil)
	ndAlloc, ndCode := secAllocs(func() int {
		return f.do("POST", "/ingest", "Bearer s3cret-s3cret-s3cret", arr, "Content-Type", "application/json").Code
	})

	f2 := newFixture(t, cfg, nil)
	body := string(gz(t, `{"requestId":"`+fhID+`","timestamp":1578090901599,"records":`+arr+`}`))
	hdr := []string{firehoseRequestID, fhID, "X-Amz-Firehose-Access-Key", "s3cret-s3cret-s3cret", "Content-Type", "application/json", "Content-Encoding", "gzip"}
	fhAlloc, fhCode := secAllocs(func() int { return f2.do("POST", "/firehose", "", body, hdr...).Code })
	t.Logf("/ingest (same %d-byte array): %d, allocated %d MiB; /firehose (request of %d bytes): %d, allocated %d MiB",
		len(arr), ndCode, ndAlloc>>20, len(body), fhCode, fhAlloc>>20)
	if fhCode == http.StatusOK {
		t.Fatalf("/firehose took a request of %d records (max_events_per_request %d)", n, f2.srv.cfg.MaxEventsPerRequest)
	}
	if fhAlloc > 2*ndAlloc {
		t.Errorf("a %d-byte gzip'd Firehose request (%d bytes decoded) allocated %d MiB before being refused (/ingest, same array: %d MiB; expected at most twice that), with max_inflight_bytes %d MiB: the whole body is parsed by fastjson (firehose.go parseBounded(outer, body, len(body))) outside max_inflight_bytes; at the default max_body_bytes one ~32 KiB request costs several GiB",
			len(body), len(arr)+80, fhAlloc>>20, ndAlloc>>20, cfg.MaxInflightBytes>>20)
	}
}

// TestHECAckUnderRequestLimits
//
// Fault: POST /services/collector/ack is routed without s.limit (server.go
// Handler: {"POST", "/services/collector/ack", s.handleHECAck}), so it is
// bounded by neither max_concurrent_requests nor max_inflight_bytes, and
// handleHECAck parses its whole body (up to maxAckBody, 1 MiB) with
// fastjson at once. {"acks":[0,0,0,...]} is ~500,000 values: fastjson
// allocates hundreds of MiB for them, and the answer is ~9 bytes per id.
//
// Sequence: a sender holding a token with ack: true (Splunk Connect for
// Kafka's setup) POSTs /ack on a channel with a 1 MiB {"acks":[0,0,...]},
// while max_inflight_bytes is 4 MiB and max_concurrent_requests is 1.
//
// Expected: config.go "MaxConcurrentRequests bounds requests processed at
// once" and "MaxInflightBytes bounds the memory the requests in progress
// hold together"; maxAckBody's own comment says a client "polls at most a
// few thousand ids at once", so such a request should cost about its body
// and answer (a few MiB), or be refused.
//
// Actual: one 1 MiB request allocates ~200+ MiB, uncharged to
// max_inflight_bytes, and any number of them run at once (no
// max_concurrent_requests slot is taken): tens of concurrent polls OOM
// the router. Severity: medium (needs an ack-enabled token; memory
// exhaustion of the whole router, all inputs).
func TestHECAckUnderRequestLimits(t *testing.T) {
	cfg := Config{
		Tokens:                []Token{{Name: "kc", Token: "tok-ack-0123456789", Ack: true}},
		MaxInflightBytes:      4 << 20,
		MaxConcurrentRequests: 1,
	}
	f := newFixture(t, cfg, nil)
	const n = (1<<20 - 16) / 2
	body := `{"acks":[` + strings.Repeat("0,", n-1) + `0]}`
	var w int
	alloc, code := secAllocs(func() int {
		rr := f.do("POST", "/services/collector/ack", "Splunk tok-ack-0123456789", body, "X-Splunk-Request-Channel", "0aa2b8a1-3f4e-4b5d-9c6e-7f8091a2b3c4")
		w = rr.Body.Len()
		return rr.Code
	})
	t.Logf("/ack with a %d-byte body (%d ids): %d, answer %d bytes, allocated %d MiB", len(body), n, code, w, alloc>>20)
	const bound = 32 << 20
	if code == http.StatusOK && alloc > bound {
		t.Errorf("one /services/collector/ack request of %d bytes allocated %d MiB (bound %d MiB) with max_inflight_bytes %d MiB: handleHECAck runs outside s.limit (neither max_concurrent_requests nor max_inflight_bytes) and parses the whole body with fastjson; concurrent polls exhaust memory",
			len(body), alloc>>20, bound>>20, cfg.MaxInflightBytes>>20)
	}
}

// secLogBuf is a goroutine-safe log sink that counts lines.
type secLogBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *secLogBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *secLogBuf) count(sub string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.b.String(), sub)
}

// secStart starts an HTTP input on loopback logging into lb.
func secStart(t *testing.T, cfg Config, lb *secLogBuf) *Server {
	t.Helper()
	f := newFixture(t, Config{}, nil)
	cfg.Address = "127.0.0.1:0"
	s, err := New(cfg, f.eng, slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo})))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// TestTLSHandshakeFailuresDoNotFloodWarnLog
//
// Fault: the HTTP input hands net/http's own error log to the router's
// logger at WARN (server.go New: ErrorLog: slog.NewLogLogger(...,
// slog.LevelWarn)), and net/http writes one line per event a peer chooses:
// every failed TLS handshake of an accepted connection ("http: TLS
// handshake error from ..."), before any token is checked. Nothing bounds
// or counts them. (TestRefusedTLSConnectionsLogOncePerMinute fixed this
// for connections refused by max_connections; a connection that is
// accepted and then fails its handshake still writes a WARN line.)
//
// Sequence: TLS input; 30 connections, one after another (never more
// than one open, so no connection limit applies), each sends a non-TLS
// line and closes.
//
// Expected: the router's own rule for what peers control: the syslog TLS
// listener counts handshake failures by reason and logs them "at debug
// level (peers choose how often)" (syslog/server.go handshake), and the
// HTTP input's refused connections are "logged ... at most once a minute
// (peers choose how often they are refused; the metric counts each)"
// (warnRefused). So a few WARN lines at most.
//
// Actual: 30 WARN lines, and no metric: any client that reaches the port
// writes the router's WARN log at will (thousands of lines a second from
// one host), burying real warnings and, where the router's logs are
// shipped to the SIEM it feeds, costing licence volume. Severity: low
// (unauthenticated log flooding).
func TestTLSHandshakeFailuresDoNotFloodWarnLog(t *testing.T) {
	t.Run("tls handshake failures", func(t *testing.T) {
		cert, key, _ := testutil.SelfSigned(t, t.TempDir())
		lb := &secLogBuf{}
		s := secStart(t, Config{TLSCertFile: cert, TLSKeyFile: key, Tokens: []Token{{Name: "t", Token: "secret-token-123"}}}, lb)
		const n = 30
		for range n {
			c, err := net.Dial("tcp", s.Addr())
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(c, "not tls at all\r\n\r\n")
			_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, _ = io.Copy(io.Discard, c)
			c.Close()
		}
		deadline := time.Now().Add(2 * time.Second)
		for lb.count("TLS handshake error") < n && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		got := lb.count("level=WARN")
		t.Logf("WARN lines after %d failed handshakes: %d", n, got)
		if got > 5 {
			t.Errorf("%d connections that failed the TLS handshake wrote %d WARN lines (the syslog TLS listener logs these at debug and counts them by reason): unauthenticated peers write the router's WARN log at will", n, got)
		}
	})
}
