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
	"github.com/logrouter/logrouter/internal/conservation"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/s3"
)

// TestReplayDestinationRejectedOnReplayNotResent: a destination that
// refuses a replayed event again quarantines it with no input, and the next
// (cron) run sent it again, and again. Such a record (its event says
// logrouter.input "replay") is not resent unless its reason is named.
func TestReplayDestinationRejectedOnReplayNotResent(t *testing.T) {
	data := t.TempDir()
	cfg := &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0"}},
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
	siem := &rejectingSink{}
	a, err := app.New(cfg, app.RulesFor(&config.Config{Rules: config.Rules{Dir: rulesDir}}, "/"),
		slog.New(slog.NewTextHandler(io.Discard, nil)), app.WithSink("siem", siem))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}()
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
