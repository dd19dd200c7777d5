package main

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestReplayLeavesCutRecords: an input quarantines a record over
// max_event_bytes as its first bytes (too_large). `quarantine replay`
// without filters sent that prefix, which the router took as an event of
// its own (a JSON record cut short is text), and marked it replayed: the
// original cannot be recovered from it. It is left now, and said so;
// naming its reason sends it.
func TestReplayLeavesCutRecords(t *testing.T) {
	a, cfg := startReplayRouterWith(t, func(c *config.Config) { c.Inputs.HTTP.MaxEventBytes = 1024 })
	long := `{"event":{"dataset":"app.big"},"a":"` + strings.Repeat("x", 2000) + `"}` + "\n" + `{"event":{"dataset":"app.small"}}` + "\n"
	res, err := http.Post("http://"+a.HTTPAddr()+"/ingest", "application/x-ndjson", strings.NewReader(long))
	if err != nil {
		t.Fatal(err)
	}
	// 400 naming the record refused, the other accepted.
	if b, _ := io.ReadAll(res.Body); !strings.Contains(string(b), `"accepted":1,"rejected":1`) {
		t.Fatalf("ingest: %d %s", res.StatusCode, b)
	}
	res.Body.Close()
	if _, ok := waitQuarantined(cfg.Quarantine.Dir, 10*time.Second, func(r quarantine.Record) bool { return r.Reason == "too_large" }); !ok {
		t.Fatal("the record was not quarantined as too_large")
	}
	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 too_large") || strings.Contains(out.String(), "1 replayed") {
		t.Fatalf("replay without --reason: %s", out.String())
	}
	out.Reset()
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "too_large", false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 replayed") {
		t.Fatalf("replay with --reason too_large: %s", out.String())
	}
}
