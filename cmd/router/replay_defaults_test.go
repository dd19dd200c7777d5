package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/quarantine"
	"github.com/logrouter/logrouter/sinks/s3"
)

// TestReplayKeepsTheTokensDefaults: records quarantined by the HTTP input
// keep the defaults their token gave them (source type, index), and
// `router quarantine replay` applies them again. Before, a replayed
// detection sent with a token whose source_type named it (no sourcetype in
// the envelope: one HEC token per source, as Splunk deployments do) came
// back without a source type: no profile, P3, never at the SIEM.
func TestReplayKeepsTheTokensDefaults(t *testing.T) {
	data := t.TempDir()
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0", Tokens: []httpin.Token{
			{Name: "falcon", Token: "falcon-token", SourceType: "crowdstrike.falcon", Index: "edr"},
		}}},
		Destinations: []config.Destination{
			{Name: "archive", Type: "archive_dir", ArchiveDir: &s3.Config{Dir: filepath.Join(data, "archive")}},
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}},
		},
		Routing: config.Routing{P1: []string{"siem"}, All: []string{"archive"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	rulesDir, _ := filepath.Abs("../../rules")
	a, err := app.New(cfg, app.RulesFor(&config.Config{Rules: config.Rules{Dir: rulesDir}}, "/"), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
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
	var rec quarantine.Record
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && rec.Raw == nil; time.Sleep(20 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(cfg.Quarantine.Dir, "*.ndjson"))
		for _, f := range files {
			_ = quarantine.ReadFile(f, func(r quarantine.Record) error {
				if bytes.Contains(r.Raw, []byte("ldt:tokdef:1")) {
					rec = r
				}
				return nil
			})
		}
	}
	if rec.Raw == nil {
		t.Fatal("the envelope was not quarantined")
	}
	if rec.DefaultSourceType != "crowdstrike.falcon" || rec.DefaultIndex != "edr" {
		t.Errorf("quarantine record defaults %q / %q, want the token's crowdstrike.falcon / edr", rec.DefaultSourceType, rec.DefaultIndex)
	}

	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "", "", false); err != nil {
		t.Fatalf("replay: %v\n%s", err, out.String())
	}
	siemDir := filepath.Join(data, "siem")
	line, ok := reviewDirHas(siemDir, "ldt:tokdef:1")
	for deadline := time.Now().Add(5 * time.Second); !ok && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		line, ok = reviewDirHas(siemDir, "ldt:tokdef:1")
	}
	if !ok {
		arch, _ := reviewDirHas(filepath.Join(data, "archive"), "ldt:tokdef:1")
		t.Fatalf("the replayed detection never reached the SIEM (replay said: %s)\narchive has: %.400s", strings.TrimSpace(out.String()), arch)
	}
	if !strings.Contains(line, `"dataset":"crowdstrike.falcon"`) || !strings.Contains(line, `"index":"edr"`) {
		t.Errorf("replayed detection without the token's source type or index: %.500s", line)
	}
}
