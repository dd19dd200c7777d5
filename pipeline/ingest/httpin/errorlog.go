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
// TCP health check, a sender that does not trust the certificate) is
// counted, logged at debug, and summed up in a warning at most once a
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
	if !strings.Contains(msg, "TLS handshake error") {
		e.log.Warn(msg)
		return len(p), nil
	}
	e.failures.Inc()
	n := e.since.Add(1)
	e.log.Debug(msg)
	now := time.Now().UnixNano()
	last := e.lastWarn.Load()
	if now-last < int64(time.Minute) || !e.lastWarn.CompareAndSwap(last, now) {
		return len(p), nil
	}
	e.since.Add(-n)
	e.log.Log(context.Background(), slog.LevelWarn,
		"TLS handshakes failed (further failures are only counted for a minute: logrouter_http_tls_handshake_failures_total; each is logged at debug)",
		"failures", n, "last", msg,
		"hint", "a sender that does not trust the router's certificate, plain HTTP sent to the TLS port, or a scanner or TCP health check")
	return len(p), nil
}
