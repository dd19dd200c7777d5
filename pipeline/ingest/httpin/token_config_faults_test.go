package httpin

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestTokenWithWhitespaceAccepted: inputs.http.tokens[].token is
// checked for emptiness and duplicates only. A token whose variable carries
// a trailing newline (a Kubernetes Secret made with --from-file from a file
// written by echo, the usual way to get one) or surrounding spaces passes
// Validate, so `router validate` says OK, and at run time no sender can
// ever present it: header values cannot hold a newline and authenticate
// trims the value after "Splunk "/"Bearer ", so every request is answered
// 401 (shown below). The splunk_hec destination's token and admin.token
// refuse whitespace and control characters for exactly this reason ("check
// the variable it was expanded from"); Validate should refuse them here
// too, naming tokens[i] (never the secret).
func TestTokenWithWhitespaceAccepted(t *testing.T) {
	for _, tok := range []string{"s3cret-hec-token\n", " s3cret-hec-token", "s3cret-hec-token\t"} {
		c := Config{Tokens: []Token{{Name: "shippers", Token: tok}}}
		c.SetDefaults()
		if err := c.Validate("inputs.http"); err != nil {
			continue
		}
		s := &Server{tokens: c.Tokens, cfg: c, tokenReqs: []prometheus.Counter{prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})}}
		r := httptest.NewRequest("POST", "/services/collector/event", nil)
		r.Header.Set("Authorization", "Splunk "+tok)
		if _, res := s.authenticate(r, true); res != authOK {
			t.Errorf("token %q passes Validate, yet a sender presenting it is not authenticated (result %d): every request gets 401", tok, res)
		}
	}
}
