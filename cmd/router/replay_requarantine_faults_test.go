package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestReplayRequarantineKeepsDefaults
//
// What I did: a token with source_type crowdstrike.falcon and index edr
// (as in TestReplayKeepsTheTokensDefaults). I sent the HEC event endpoint
// an envelope the input refuses (a blank "event"), without sourcetype:
// its quarantine record has default_source_type crowdstrike.falcon and
// default_index edr. Then `router quarantine replay`: the router unwraps
// it again (/admin/replay/hec?source_type=...&index=...), refuses it again
// and quarantines it again (input "replay", protocol hec), as designed.
// What happened: the new record has no default_source_type or
// default_index: handleReplay's reject() builds pipeline.Rejected without
// them, although the request carried them (defs).
// What should happen: a record quarantined again keeps the defaults it was
// replayed with, as the input's own record did (a4fe07d: records keep
// "the token's source type and index for replay").
// Why it matters: the documented workflow for such a record is to fix the
// envelope in the file and replay it; after one attempt that failed, the
// fixed envelope replays with no source type or index: the detection
// takes no profile, becomes P3 and never reaches the SIEM -- exactly what
// the commit set out to stop.
func TestReplayRequarantineKeepsDefaults(t *testing.T) {
	a, cfg := startReplayRouterWith(t, func(c *config.Config) {
		c.Inputs.HTTP.Tokens = []httpin.Token{{Name: "falcon", Token: "falcon-token", SourceType: "crowdstrike.falcon", Index: "edr"}}
	})

	req, _ := http.NewRequest(http.MethodPost, "http://"+a.HTTPAddr()+"/services/collector/event",
		strings.NewReader(`{"time":1764331200,"host":"ws-042","source":"rvq-marker-2","event":""}`))
	req.Header.Set("Authorization", "Splunk falcon-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()

	find := func(input string) (quarantine.Record, bool) {
		return waitQuarantined(cfg.Quarantine.Dir, 5*time.Second, func(r quarantine.Record) bool {
			return r.Input == input && bytes.Contains(r.Raw, []byte("rvq-marker-2"))
		})
	}
	first, ok := find("http")
	if !ok {
		t.Fatalf("the blank envelope was not quarantined (status %d)", res.StatusCode)
	}
	if first.DefaultSourceType != "crowdstrike.falcon" || first.DefaultIndex != "edr" {
		t.Fatalf("input record defaults %q / %q, want crowdstrike.falcon / edr", first.DefaultSourceType, first.DefaultIndex)
	}

	var out bytes.Buffer
	_ = replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false)
	again, ok := find("replay")
	if !ok {
		t.Fatalf("the replayed envelope was not quarantined again (replay said: %s)", strings.TrimSpace(out.String()))
	}
	if again.DefaultSourceType != "crowdstrike.falcon" || again.DefaultIndex != "edr" {
		t.Errorf("record quarantined again by the replay has defaults %q / %q, want the token's crowdstrike.falcon / edr it was replayed with (protocol %q)",
			again.DefaultSourceType, again.DefaultIndex, again.Protocol)
	}
}
