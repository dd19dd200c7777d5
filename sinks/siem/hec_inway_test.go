package siem

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
)

// TestHECNonHECClientErrorRetried: a 4xx that carries no HEC answer comes
// from something in the way (a proxy's 407, nginx's 400 for plain HTTP on
// its TLS port): the events stay queued (retryable), never quarantined as
// Splunk's refusal. A 400 with an HEC answer (code 5, No data) stays
// permanent.
func TestHECNonHECClientErrorRetried(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		permanent bool
	}{
		{"proxy 407", http.StatusProxyAuthRequired, "<html>Proxy Authentication Required</html>", false},
		{"nginx 400", http.StatusBadRequest, "<html><center>The plain HTTP request was sent to HTTPS port</center></html>", false},
		{"HEC 400 code 5", http.StatusBadRequest, `{"text":"No data","code":5}`, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}))
			defer srv.Close()
			h, err := NewHEC("splunk", HECConfig{URL: srv.URL, Token: Secret(testToken), DefaultHost: "router-1"})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close(context.Background())
			b := makeBatch(idRange(0, 3, "ws-1"), pipeline.P1)
			defer b.Release()
			err = h.Write(context.Background(), b)
			if err == nil {
				t.Fatal("Write returned nil")
			}
			got := pipeline.IsPermanent(err)
			var be *pipeline.BatchError
			if errors.As(err, &be) {
				got = len(be.Items) > 0
				for _, it := range be.Items {
					got = got && pipeline.IsPermanent(it.Err)
				}
			}
			if got != tc.permanent {
				t.Errorf("permanent = %v, want %v (%v)", got, tc.permanent, err)
			}
		})
	}
}
