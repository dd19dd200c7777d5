package opensearch

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
)

// TestURLErrorPrintsPassword: a destination
//
//	opensearch:
//	  urls: ["https://admin:${OPENSEARCH_PASSWORD}@opensearch-1:9200"]
//
// with a password holding a character that is not valid there unescaped
// ("#", "%", "/", "?", common in generated passwords) makes url.Parse fail,
// and Validate answers `"urls[0]" "https://admin:s3cr#t-pass@..." is not a
// URL`: the expanded password, in the output of `router validate`, in the
// start-up error that `router run` logs (collected into the log pipeline,
// CI logs, a Kubernetes event). The branch for a URL that parses with
// credentials deliberately does not print it ("contains credentials: move
// them to username and password"); the not-a-URL branch must not either:
// it should name urls[i] and the problem without echoing the value (or
// echo it with the userinfo cut off).
func TestURLErrorPrintsPassword(t *testing.T) {
	const secret = "s3cr#t-pass"
	cfg := Config{URLs: []string{"https://admin:" + secret + "@opensearch-1:9200"}}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("a URL with credentials was accepted")
	}
	if strings.Contains(err.Error(), "s3cr") {
		t.Fatalf("the validation error prints the password: %v", err)
	}
}

// TestTLSBlockIgnoredOnHTTPURLs: a destination
//
//	opensearch:
//	  urls: ["http://opensearch-1:9200"]      # a slip for https
//	  username: logrouter
//	  password: ${OPENSEARCH_PASSWORD}
//	  tls: {ca_file: /etc/ssl/os-ca.pem, cert_file: /etc/ssl/router.pem, key_file: /etc/ssl/router-key.pem}
//
// passes Validate and New loads the CA and the client certificate into
// the transport, but requests to http:// nodes never use it: the basic-auth
// password and every P2 event cross the network in clear, and the client
// certificate the cluster may rely on for authentication is never
// presented; nothing is logged. Validate should refuse a tls block when a
// url is http:// ("tls is set but urls[0] is http://: use https://, or
// remove tls"), as the syslog destination refuses tls with transport tcp.
func TestTLSBlockIgnoredOnHTTPURLs(t *testing.T) {
	var cleartext atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := r.BasicAuth(); ok && r.TLS == nil {
			cleartext.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"took":1,"errors":false,"items":[]}`))
	}))
	defer srv.Close()
	certFile, keyFile, _ := testutil.SelfSigned(t, t.TempDir())
	cfg := Config{URLs: []string{srv.URL}, Username: "logrouter", Password: "os-password",
		TLS: &TLSConfig{CAFile: certFile, CertFile: certFile, KeyFile: keyFile}}
	if err := cfg.Validate(); err != nil {
		return // refused: fixed
	}
	s, err := New("opensearch", cfg)
	if err != nil {
		return // refused at start: fixed as well
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Close(ctx)
	}()
	b := makeBatch(t, 1, 3, time.Second)
	defer b.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Write(ctx, b) // the answer does not matter: the request went out
	if cleartext.Load() == 0 {
		t.Fatal("no request reached the http:// node; cannot tell")
	}
	t.Fatalf("opensearch with a tls block and an http:// url passed Validate; the tls block was ignored and %d request(s) carried the basic-auth password and events in clear", cleartext.Load())
}
