package httpin

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"net/http"
	"testing"
)

// TestKnownPathWrongMethodIs405: the catch-all pattern "/" (added for
// JSON 404s) matches every method on every path, so Go's ServeMux no longer
// answers 405 Method Not Allowed for a registered path asked with another
// method: "GET /_bulk", "GET /ingest" and "GET /services/collector/event"
// now get 404 "no handler found for uri [/_bulk]" (or HEC's "The requested
// URL was not found"), without an Allow header.
//
// Sequence: GET /_bulk, GET /ingest, GET /services/collector/event.
//
// What should happen: 405 with Allow (as before the change, and as
// Elasticsearch answers "Incorrect HTTP method for uri [/_bulk] and method
// [GET], allowed: [PUT, POST]"); RFC 9110 15.5.6: the resource exists.
//
// Why it matters: an operator (or shipper) told "no handler found" for
// /_bulk or the HEC event endpoint looks for a wrong URL or a wrong
// listener, not for the wrong method; tooling that probes with the wrong
// method reads "not an ingest endpoint".
func TestKnownPathWrongMethodIs405(t *testing.T) {
	f := newFixture(t, Config{Tokens: []Token{{Name: "vector", Token: "tok"}}}, nil)
	for _, path := range []string{"/_bulk", "/logs/_bulk", "/ingest", "/services/collector/event"} {
		w := f.do("GET", path, reviewBasic("vector", "tok"), "")
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") == "" {
			t.Errorf("GET %s answered %d (Allow %q): %s; want 405 with Allow", path, w.Code, w.Header().Get("Allow"), w.Body)
		}
	}
}
