package httpin

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNegativeReadTimeoutAnswersNothing: config
//
//	inputs:
//	  http:
//	    read_timeout: -1s
//
// passes Validate (only max_* and the TLS pair are checked; read_timeout
// and idle_timeout are not). At run time read_timeout is also the bound
// boundWrites puts on writing each answer: a negative one sets the
// connection's write deadline in the past before the first byte, so every
// request's events are delivered to the destinations and then the answer
// cannot be written: the sender sees a broken connection, never a 200, and
// sends the same batch again (and again): duplicates in the SIEM and the
// archive on every retry, while http.Server also drops the read timeout it
// should enforce (a negative ReadTimeout means none). Validate should
// refuse a negative read_timeout (and idle_timeout), naming the key, as
// inputs.syslog does for its durations ("must be positive"). An operator
// who typed a sign by mistake gets `router validate: OK` and a router
// that takes every event but acknowledges none.
func TestNegativeReadTimeoutAnswersNothing(t *testing.T) {
	cfg := Config{Address: "127.0.0.1:0", ReadTimeout: -time.Second}
	cfg.SetDefaults()
	if err := cfg.Validate("inputs.http"); err != nil {
		return // refused with the key named: fixed
	}
	f := newFixture(t, cfg, nil)
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Post("http://"+f.srv.Addr()+"/ingest", "application/x-ndjson", strings.NewReader(`{"msg":"hello"}`+"\n"))
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return // answered: harmless
		}
	}
	t.Fatalf("inputs.http.read_timeout: -1s passed Validate; at run time the request's %d event(s) were delivered but the sender got no answer (%v): it will resend them, duplicating every batch",
		len(f.rec.Events()), err)
}
