package httpin

import (
	"fmt"
	"strings"
	"testing"
)

func TestChargeTakesInStepsAndAloneAlways(t *testing.T) {
	b := &budget{limit: 1 << 20}
	a := &charge{b: b}
	if !a.to(1) || a.held != budgetStep || b.used.Load() != budgetStep {
		t.Fatalf("first take: held %d used %d", a.held, b.used.Load())
	}
	// Alone, a request passes the limit: its own limits bound it.
	if !a.to(5 << 20) {
		t.Fatal("a lone request was refused")
	}
	c := &charge{b: b}
	if c.to(1) {
		t.Fatal("a second request was let past the limit")
	}
	if c.held != 0 {
		t.Fatalf("a refused take kept %d", c.held)
	}
	a.release()
	if b.used.Load() != 0 {
		t.Fatalf("used %d after release", b.used.Load())
	}
	if !c.to(512<<10) || !a.to(256<<10) || a.to(600<<10) {
		t.Fatalf("after release: c %d a %d used %d", c.held, a.held, b.used.Load())
	}
	a.release()
	c.release()
	var nilCharge *charge
	if !nilCharge.to(1 << 40) {
		t.Fatal("a nil charge bounds nothing")
	}
}

// TestInflightBytesBoundRequests: with one request in progress holding most
// of max_inflight_bytes, a second is answered busy in its protocol (nothing
// of it accepted) whether the body or the normalized events pass the
// budget, and taken once the first one has finished.
func TestInflightBytesBoundRequests(t *testing.T) {
	bs := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, Config{MaxInflightBytes: 1 << 20}, bs)
	// The first request: ~700 KiB of events, held while its delivery waits.
	var first strings.Builder
	for i := 0; first.Len() < 700<<10; i++ {
		fmt.Fprintf(&first, "{\"event\":{\"n\":%d,\"msg\":%q}}\n", i, strings.Repeat("x", 200))
	}
	done := make(chan int)
	go func() { done <- f.do("POST", "/services/collector/event", "", first.String()).Code }()
	<-bs.entered
	if used := f.srv.mem.used.Load(); used < 700<<10 {
		t.Fatalf("the request in progress holds %d bytes of the budget", used)
	}

	// A body over what is left: refused while it is read.
	var big strings.Builder
	for i := 0; big.Len() < 600<<10; i++ {
		fmt.Fprintf(&big, "{\"n\":%d,\"msg\":%q}\n", i, strings.Repeat("y", 200))
	}
	w := f.do("POST", "/services/collector/event", "", "{\"event\":"+strings.ReplaceAll(big.String(), "\n", "}\n{\"event\":")+"1}")
	if w.Code != 503 || !strings.Contains(w.Body.String(), "max_inflight_bytes") || w.Header().Get("Retry-After") != "1" {
		t.Errorf("hec over budget: %d %s", w.Code, w.Body)
	}
	w = f.do("POST", "/_bulk", "", "{\"index\":{}}\n"+strings.TrimSuffix(strings.ReplaceAll(big.String(), "\n", "\n{\"index\":{}}\n"), "{\"index\":{}}\n"))
	if w.Code != 429 || !strings.Contains(w.Body.String(), "es_rejected_execution_exception") {
		t.Errorf("bulk over budget: %d %s", w.Code, w.Body)
	}
	w = f.do("POST", "/ingest", "", big.String())
	if w.Code != 429 || !strings.Contains(w.Body.String(), "max_inflight_bytes") {
		t.Errorf("ndjson over budget: %d %s", w.Code, w.Body)
	}
	// A small body whose events grow past what is left once normalized
	// (control characters become 6-byte escapes): its body is taken, its
	// events are refused between records (busy, not 413). The budget is
	// set to leave 512 KiB (only this goroutine takes from it now).
	f.srv.mem.limit = f.srv.mem.used.Load() + 512<<10
	small := strings.Repeat(strings.Repeat("\x01", 100)+"\n", 1000) // 100 KB, ~600 KB escaped
	w = f.do("POST", "/services/collector/raw", "", small)
	if w.Code != 503 || !strings.Contains(w.Body.String(), "max_inflight_bytes") {
		t.Errorf("hec raw events over budget: %d %s", w.Code, w.Body)
	}

	close(bs.release)
	if c := <-done; c != 200 {
		t.Fatalf("first request: %d", c)
	}
	if used := f.srv.mem.used.Load(); used != 0 {
		t.Fatalf("%d bytes still held after every request ended", used)
	}
	if w := f.do("POST", "/ingest", "", big.String()); w.Code != 200 {
		t.Fatalf("after the first finished: %d %s", w.Code, w.Body)
	}
}

func TestInflightBytesValidate(t *testing.T) {
	c := Config{MaxInflightBytes: -1}
	c.SetDefaults()
	if err := c.Validate("inputs.http"); err == nil || !strings.Contains(err.Error(), "max_inflight_bytes") {
		t.Fatalf("negative max_inflight_bytes: %v", err)
	}
}
