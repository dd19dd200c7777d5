package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/conservation"
)

// TestReplayDestinationRejectedOnReplayNotResent: a destination that
// refuses a replayed event again quarantines it with no input, and the next
// (cron) run sent it again, and again. Such a record (its event says
// logrouter.input "replay") is not resent unless its reason is named.
func TestReplayDestinationRejectedOnReplayNotResent(t *testing.T) {
	siem := &rejectingSink{}
	a, cfg := startReplayRouter(t, "", app.WithSink("siem", siem))
	sender := conservation.NewSender("replay")
	body, _ := sender.Body(3, `"event":{"dataset":"crowdstrike.falcon"},"metadata":{"eventType":"DetectionSummaryEvent"}`)
	res, err := http.Post("http://"+a.HTTPAddr()+"/ingest", "application/x-ndjson", bytes.NewReader(body))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("ingest: %v %v", res, err)
	}
	res.Body.Close()
	waitFor(t, func() bool {
		for _, d := range fetchLedger(t, a.AdminAddr()).Destinations {
			if d.Destination == "siem" {
				return d.Quarantined == 3
			}
		}
		return false
	})
	// The SIEM is not fixed: every replay run (a cron job) is refused again.
	var outs []string
	for range 3 {
		var out bytes.Buffer
		err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false)
		outs = append(outs, out.String())
		if err != nil {
			t.Fatalf("%v\n%s", err, out.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(outs[2], "0 replayed") {
		t.Errorf("records the router refused again during a replay are sent again by every run:\n%s", strings.Join(outs, "---\n"))
	}
}
