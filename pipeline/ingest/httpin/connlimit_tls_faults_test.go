package httpin

import (
	"bytes"
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

type reviewLogBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *reviewLogBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *reviewLogBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// With TLS, a connection refused by max_connections(_per_ip) is closed in
// ConnState(StateNew) before net/http's handshake, which then fails and is
// logged through http.Server.ErrorLog ("http: TLS handshake error ... use of
// closed network connection"), once per refused connection: the "logged at
// most once a minute" promise does not hold, and a flood of connections is
// a flood of warnings.
func TestRefusedTLSConnectionsLogOncePerMinute(t *testing.T) {
	dir := t.TempDir()
	cert, key, _ := testutil.SelfSigned(t, dir)
	f := newFixture(t, Config{}, nil)
	logs := &reviewLogBuf{}
	s, err := New(Config{Address: "127.0.0.1:0", TLSCertFile: cert, TLSKeyFile: key, MaxConnectionsPerIP: 1},
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
	d := &net.Dialer{Timeout: 2 * time.Second}
	hold, err := tls.DialWithDialer(d, "tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	const refused = 20
	for i := 0; i < refused; i++ {
		c, err := tls.DialWithDialer(d, "tcp", s.Addr(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // test
		if err == nil {
			c.Close()
		}
	}
	time.Sleep(300 * time.Millisecond)
	out := logs.String()
	if hs := strings.Count(out, "TLS handshake error"); hs > 0 {
		t.Errorf("%d refused connections logged %d \"TLS handshake error\" warnings besides the once-a-minute one:\n%s",
			refused, hs, firstLines(out, 4))
	}
}

func firstLines(s string, n int) string {
	l := strings.SplitN(s, "\n", n+1)
	if len(l) > n {
		l = l[:n]
	}
	return strings.Join(l, "\n")
}
