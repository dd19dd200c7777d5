package siem

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/siem/hecfake"
)

// TestHECTLSBlockIgnoredOnHTTPURL: a destination
//
//	destinations:
//	  - name: siem
//	    type: splunk_hec
//	    splunk_hec:
//	      url: http://splunk.example.com:8088      # "http", a slip for "https"
//	      token: ${SPLUNK_HEC_TOKEN}
//	      tls: {ca_file: /etc/ssl/splunk-ca.pem, cert_file: /etc/ssl/router.pem, key_file: /etc/ssl/router-key.pem}
//
// passes Validate, and NewHEC even loads the CA and the client
// certificate, but an http:// URL never uses them: the token ("Splunk
// <token>" header) and every P1 event go over the network in clear, the
// CA pinning and the mutual-TLS client certificate the operator configured
// are silently not applied, and nothing is logged. A tls block says the
// operator wants TLS; with an http URL Validate should refuse the pair
// ("tls is set but url is http://: use https://, or remove tls"), as the
// syslog destination already refuses tls with transport tcp.
func TestHECTLSBlockIgnoredOnHTTPURL(t *testing.T) {
	fake := newFake(t, hecfake.Config{}) // plain HTTP
	var cleartextAuth atomic.Value
	fake.OnRequest(func(r *http.Request) {
		if r.TLS == nil {
			cleartextAuth.Store(r.Header.Get("Authorization"))
		}
	})
	certFile, keyFile, _ := testutil.SelfSigned(t, t.TempDir())
	cfg := HECConfig{URL: fake.URL(), Token: Secret(testToken), DefaultHost: "router-1",
		TLS: &TLSConfig{CAFile: certFile, CertFile: certFile, KeyFile: keyFile}}
	if !strings.HasPrefix(cfg.URL, "http://") {
		t.Fatalf("fake is not plain HTTP: %s", cfg.URL)
	}
	if err := cfg.Validate(); err != nil {
		return // refused: fixed
	}
	h, err := NewHEC("siem", cfg)
	if err != nil {
		return // refused at start: fixed as well
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	b := makeBatch(idRange(0, 1, "ws"), pipeline.P1)
	defer b.Release()
	if err := h.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	auth, _ := cleartextAuth.Load().(string)
	t.Fatalf("splunk_hec with a tls block (ca_file, cert_file, key_file) and an http:// url passed Validate; the tls block was ignored and the P1 event was sent in clear (token in clear: %v)", strings.Contains(auth, testToken))
}
