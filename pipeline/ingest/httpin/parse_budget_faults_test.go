package httpin

import (
	"net/http"
	"strings"
	"testing"
)

// Fault: what a long record's parse holds was charged to
// max_inflight_bytes only after the parse, at the next record: requests
// arriving together each parsed one record of tens of MiB before any of
// them was refused. A record whose parse does not fit the budget left by
// the other requests is now refused (busy) before it is parsed.
func TestParseChargedBeforeParsing(t *testing.T) {
	f := newFixture(t, Config{MaxInflightBytes: 16 << 20}, nil)
	// Another request holds most of the budget.
	f.srv.mem.used.Store(13 << 20)
	// ~60 KiB with a value every 7 bytes: ~3.6 MiB held while parsed.
	rec := `{"a":[` + strings.Repeat("100000,", 9000) + `1]}`
	alloc, code := secAllocs(func() int {
		return f.do("POST", "/ingest", "", rec+"\n", "Content-Type", "application/x-ndjson").Code
	})
	if code != http.StatusTooManyRequests && code != http.StatusServiceUnavailable {
		t.Fatalf("answered %d, want busy (429/503): the parse does not fit the budget left", code)
	}
	if alloc > 2<<20 {
		t.Errorf("refused, but %d KiB allocated first: the record was parsed before it was charged", alloc>>10)
	}
	if n := len(f.q.Records()); n != 0 {
		t.Errorf("%d records quarantined for a request refused whole", n)
	}
	f.srv.mem.used.Store(0)
	if w := f.do("POST", "/ingest", "", rec+"\n", "Content-Type", "application/x-ndjson"); w.Code != http.StatusOK {
		t.Errorf("with the budget free: %d %s", w.Code, w.Body)
	}
}
