package httpin

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// serverErrorLog is net/http's error log for the input. What a peer
// causes by itself (a failed TLS handshake: a scanner, a load balancer's
// TCP health check, a sender that does not trust the certificate; an
// HTTP/2 connection error it sends) is counted (TLS), logged at debug, and summed up in a warning at most once a
// minute: peers choose how often, and one line per connection let any
// client that reaches the port write the router's WARN log at will. Every
// other line (a handler panic, an accept error) is a warning as before.
type serverErrorLog struct {
	log      *slog.Logger
	failures prometheus.Counter
	lastWarn atomic.Int64
	since    atomic.Int64 // failures since the last warning
}

func newServerErrorLog(l *slog.Logger, failures prometheus.Counter) *log.Logger {
	return log.New(&serverErrorLog{log: l, failures: failures}, "", 0)
}

func (e *serverErrorLog) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	tlsFailure := strings.Contains(msg, "TLS handshake error")
	// HTTP/2 connection errors a client causes (a GOAWAY it sends, a
	// malformed frame) are the peer's too; a handler's panic is not.
	h2Peer := strings.HasPrefix(msg, "http2: ") && !strings.Contains(msg, "panic")
	if !tlsFailure && !h2Peer {
		e.log.Warn(msg)
		return len(p), nil
	}
	if tlsFailure {
		e.failures.Inc()
	}
	n := e.since.Add(1)
	e.log.Debug(msg)
	now := time.Now().UnixNano()
	last := e.lastWarn.Load()
	if now-last < int64(time.Minute) || !e.lastWarn.CompareAndSwap(last, now) {
		return len(p), nil
	}
	e.since.Add(-n)
	e.log.Log(context.Background(), slog.LevelWarn,
		"connections failed on the peer's side (a TLS handshake, an HTTP/2 error); further ones are logged at debug for a minute, TLS handshakes counted in logrouter_http_tls_handshake_failures_total",
		"failures", n, "last", msg,
		"hint", "a sender that does not trust the router's certificate, plain HTTP sent to the TLS port, a scanner or TCP health check, or an HTTP/2 client ending its connections with an error")
	return len(p), nil
}
