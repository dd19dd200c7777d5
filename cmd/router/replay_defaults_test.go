package main

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/quarantine"
)

// TestReplayKeepsTheTokensDefaults: records quarantined by the HTTP input
// keep the defaults their token gave them (source type, index), and
// `router quarantine replay` applies them again. Before, a replayed
// detection sent with a token whose source_type named it (no sourcetype in
// the envelope: one HEC token per source, as Splunk deployments do) came
// back without a source type: no profile, P3, never at the SIEM.
func TestReplayKeepsTheTokensDefaults(t *testing.T) {
	a, cfg := startReplayRouterWith(t, func(c *config.Config) {
		c.Inputs.HTTP.Tokens = []httpin.Token{{Name: "falcon", Token: "falcon-token", SourceType: "crowdstrike.falcon", Index: "edr"}}
	})

	// An envelope without sourcetype or index, after a blank event: HEC
	// answers code 13 and quarantines the rest of the request.
	env := strings.Replace(reviewFalconHEC("ldt:tokdef:1"), `"sourcetype":"crowdstrike.falcon",`, "", 1)
	req, _ := http.NewRequest(http.MethodPost, "http://"+a.HTTPAddr()+"/services/collector/event", strings.NewReader(`{"event":""}`+env))
	req.Header.Set("Authorization", "Splunk falcon-token")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Fatalf("want 400 (blank event first), got %d %s", res.StatusCode, b)
	}
	rec, ok := waitQuarantined(cfg.Quarantine.Dir, 3*time.Second, func(r quarantine.Record) bool {
		return bytes.Contains(r.Raw, []byte("ldt:tokdef:1"))
	})
	if !ok {
		t.Fatal("the envelope was not quarantined")
	}
	if rec.DefaultSourceType != "crowdstrike.falcon" || rec.DefaultIndex != "edr" {
		t.Errorf("quarantine record defaults %q / %q, want the token's crowdstrike.falcon / edr", rec.DefaultSourceType, rec.DefaultIndex)
	}

	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	siemDir := filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "siem")
	line, ok := reviewDirHas(siemDir, "ldt:tokdef:1")
	for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		line, ok = reviewDirHas(siemDir, "ldt:tokdef:1")
	}
	if !ok {
		arch, _ := reviewDirHas(filepath.Join(filepath.Dir(cfg.Quarantine.Dir), "archive"), "ldt:tokdef:1")
		t.Fatalf("the replayed detection never reached the SIEM (replay said: %s)\narchive has: %.400s", strings.TrimSpace(out.String()), arch)
	}
	if !strings.Contains(line, `"dataset":"crowdstrike.falcon"`) || !strings.Contains(line, `"index":"edr"`) {
		t.Errorf("replayed detection without the token's source type or index: %.500s", line)
	}
}
