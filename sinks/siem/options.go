package siem

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/logrouter/logrouter/internal/tlsconf"
)

// Option changes how NewHEC and NewSyslog build a destination; the zero set
// of options is the production setting minus metrics registration.
type Option func(*options)

type options struct {
	log     *slog.Logger
	metrics *Metrics
	now     func() time.Time
}

// WithLogger sets the logger (default slog.Default()). Tokens are never
// logged.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// WithMetrics sets the metrics, shared by all SIEM destinations (default:
// unregistered series).
func WithMetrics(m *Metrics) Option { return func(o *options) { o.metrics = m } }

// WithClock replaces time.Now for the event-age histogram (for tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

func buildOptions(name string, opts []Option) options {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.metrics == nil {
		o.metrics = NewMetrics(nil)
	}
	if o.now == nil {
		o.now = time.Now
	}
	return o
}

// Secret is a credential from the configuration (write ${ENV_VAR} in the
// file). It formats as "[redacted]" with fmt, slog and encoding/json, so a
// logged or dumped configuration never shows it; convert with string() to
// use it.
type Secret string

const redacted = "[redacted]"

// String implements fmt.Stringer.
func (Secret) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return redacted }

// Format implements fmt.Formatter for every verb.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON implements json.Marshaler.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// TLSConfig configures TLS to the SIEM.
type TLSConfig struct {
	// CAFile is a PEM bundle of the CAs that sign the SIEM's certificate;
	// default: the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a client certificate and key (PEM) for
	// mutual TLS; set both or neither.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// InsecureSkipVerify accepts any server certificate. For tests only:
	// it lets anyone on the path read the events.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// ServerName is the name the certificate must carry; default the host
	// of the address or URL.
	ServerName string `yaml:"server_name"`
}

func (t *TLSConfig) validate() error {
	if t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		return errors.New(`"tls": set both "cert_file" and "key_file" for mutual TLS, or neither`)
	}
	return nil
}

// build reads the files and returns the client TLS (nil when t is nil),
// which reads the CA bundle again when it changes (tlsconf.Client).
//
// ServerName is left empty unless server_name is set: net/http and
// tls.Dialer then verify each hop against its own host (an HTTPS proxy
// against the proxy's name, the destination against the URL's or the
// address's host). Set to the destination's host, it was also required of
// an HTTPS proxy's certificate, and every request through one failed.
func (t *TLSConfig) build(log *slog.Logger) (*tlsconf.Client, error) {
	if t == nil {
		return nil, nil
	}
	return tlsconf.NewClient(t.CAFile, t.CertFile, t.KeyFile, t.InsecureSkipVerify, t.ServerName, log)
}

// rateLimit lets one log line through per interval (the rest are counted
// and reported with the next one).
type rateLimit struct {
	mu         sync.Mutex
	every      time.Duration
	last       time.Time
	suppressed int
}

// allow reports whether to log now and how many lines were suppressed.
func (r *rateLimit) allow() (bool, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if !r.last.IsZero() && now.Sub(r.last) < r.every {
		r.suppressed++
		return false, 0
	}
	n := r.suppressed
	r.last, r.suppressed = now, 0
	return true, n
}

// mergeCtx returns a context canceled when ctx or life ends.
func mergeCtx(ctx, life context.Context) (context.Context, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(life, cancel)
	return c, func() { stop(); cancel() }
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "logrouter"
	}
	return h
}
