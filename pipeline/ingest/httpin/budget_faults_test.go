package httpin

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"fmt"
	"strings"
	"testing"
)

// TestInflightBusyStatusWhileReadingBody: with max_inflight_bytes
// mostly held by a request in progress (its delivery waiting), a second
// request to /_bulk or /ingest whose body does not fit in what is left is
// refused while its body is read (readBody -> errBusy). It is answered 503
// (bulk: "unavailable_shards_exception"), while the same refusal between
// records (request.full -> refuse -> writeBusy) is answered 429
// es_rejected_execution_exception. docs/configuration.md and
// Config.MaxInflightBytes say a request past max_inflight_bytes "is answered
// like one past max_concurrent_requests (503 code 9 / 429, Retry-After: 1)",
// i.e. 429 for everything but HEC. Elasticsearch clients (Beats, Logstash,
// Fluent Bit, Vector) treat 429 as backpressure and slow down, while a 503
// on _bulk reads as an unavailable cluster; and the request counter splits
// one cause over two codes. Server.readBody should answer errBusy through
// writeBusy (or return 429 for non-HEC protocols), as limit() does.
func TestInflightBusyStatusWhileReadingBody(t *testing.T) {
	bs := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, Config{MaxInflightBytes: 1 << 20}, bs)
	var first strings.Builder
	for i := 0; first.Len() < 700<<10; i++ {
		fmt.Fprintf(&first, "{\"event\":{\"n\":%d,\"msg\":%q}}\n", i, strings.Repeat("x", 200))
	}
	done := make(chan int)
	go func() { done <- f.do("POST", "/services/collector/event", "", first.String()).Code }()
	<-bs.entered
	defer func() {
		close(bs.release)
		<-done
	}()

	var big strings.Builder
	for i := 0; big.Len() < 600<<10; i++ {
		fmt.Fprintf(&big, "{\"n\":%d,\"msg\":%q}\n", i, strings.Repeat("y", 200))
	}
	bulk := "{\"index\":{}}\n" + strings.TrimSuffix(strings.ReplaceAll(big.String(), "\n", "\n{\"index\":{}}\n"), "{\"index\":{}}\n")
	for _, c := range []struct{ path, body string }{{"/ingest", big.String()}, {"/_bulk", bulk}} {
		w := f.do("POST", c.path, "", c.body)
		if !strings.Contains(w.Body.String(), "max_inflight_bytes") {
			t.Fatalf("%s: not refused by max_inflight_bytes: %d %s", c.path, w.Code, w.Body)
		}
		if w.Code != 429 || w.Header().Get("Retry-After") != "1" {
			t.Errorf("%s past max_inflight_bytes (refused while its body was read): %d, want 429 with Retry-After as documented: %.200s", c.path, w.Code, w.Body)
		}
	}
}
