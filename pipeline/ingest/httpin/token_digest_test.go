package httpin

import (
	"net/http"
	"testing"
)

// TestTokensMatchByDigest: each configured token authenticates as itself,
// whatever its length, and a prefix or an extension of one does not.
func TestTokensMatchByDigest(t *testing.T) {
	f := newFixture(t, Config{Tokens: []Token{{Name: "short", Token: "tok-0123456789ab"}, {Name: "long", Token: "tok-0123456789abcdef-0123456789abcdef"}}}, nil)
	for auth, want := range map[string]int{
		"Splunk tok-0123456789ab":                      http.StatusOK,
		"Splunk tok-0123456789abcdef-0123456789abcdef": http.StatusOK,
		"Splunk tok-0123456789a":                       http.StatusForbidden,
		"Splunk tok-0123456789abc":                     http.StatusForbidden,
	} {
		if w := f.do("POST", "/services/collector/event", auth, `{"event":"x"}`); w.Code != want {
			t.Errorf("%s: %d, want %d", auth, w.Code, want)
		}
	}
	if n := len(f.rec.Events()); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
}
