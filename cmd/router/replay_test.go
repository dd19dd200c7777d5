package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/conservation"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/quarantine"
	"github.com/logrouter/logrouter/sinks/s3"
)

// rejectingSink refuses everything permanently until fixed, like a SIEM
// whose index does not exist yet.
type rejectingSink struct {
	mu    sync.Mutex
	fixed bool
	got   [][]byte
}

func (s *rejectingSink) Name() string { return "siem" }
func (s *rejectingSink) Write(_ context.Context, b *pipeline.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.fixed {
		return pipeline.Permanentf("400 index [security] not found")
	}
	for _, ev := range b.Events {
		s.got = append(s.got, append([]byte(nil), ev.Raw...))
	}
	return nil
}
func (s *rejectingSink) Close(context.Context) error { return nil }

// startReplayRouter starts a router on loopback with an HTTP input, an
// archive_dir destination for every event and a file "siem" for P1, the
// starter rules, and admin.token token (none when ""); opts replace sinks.
// It is shut down when the test ends.
func startReplayRouter(t *testing.T, token string, opts ...app.Option) (*app.App, *config.Config) {
	t.Helper()
	return startReplayRouterWith(t, func(c *config.Config) { c.Admin.Token = token }, opts...)
}

// startReplayRouterWith is startReplayRouter with edit applied to the
// configuration (an HTTP input's tokens, say) before its defaults.
func startReplayRouterWith(t *testing.T, edit func(*config.Config), opts ...app.Option) (*app.App, *config.Config) {
	t.Helper()
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
	if edit != nil {
		edit(cfg)
	}
	cfg.SetDefaults()
	rulesDir, _ := filepath.Abs("../../rules")
	a, err := app.New(cfg, app.RulesFor(&config.Config{Rules: config.Rules{Dir: rulesDir}}, "/"),
		slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
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
	return a, cfg
}

// waitQuarantined returns the first record in dir's quarantine files that
// match accepts, waiting up to within for it to be written.
func waitQuarantined(dir string, within time.Duration, match func(quarantine.Record) bool) (quarantine.Record, bool) {
	for deadline := time.Now().Add(within); ; time.Sleep(20 * time.Millisecond) {
		var rec quarantine.Record
		found := false
		files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
		for _, f := range files {
			_ = quarantine.ReadFile(f, func(r quarantine.Record) error {
				if !found && match(r) {
					rec, found = r, true
				}
				return nil
			})
		}
		if found || time.Now().After(deadline) {
			return rec, found
		}
	}
}

// TestQuarantineReplayAndStats: events a destination refuses permanently go
// to its quarantine; once fixed, `router quarantine replay` sends them to
// that destination only, and `router stats` shows a balanced ledger.
func TestQuarantineReplayAndStats(t *testing.T) {
	siem := &rejectingSink{}
	a, cfg := startReplayRouter(t, "", app.WithSink("siem", siem))
	sender := conservation.NewSender("replay")
	body, ids := sender.Body(30, `"event":{"dataset":"crowdstrike.falcon"},"metadata":{"eventType":"DetectionSummaryEvent"}`)
	res, err := http.Post("http://"+a.HTTPAddr()+"/ingest", "application/x-ndjson", bytes.NewReader(body))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("ingest: %v %v", res, err)
	}
	res.Body.Close()
	sender.Ack(ids)
	waitFor(t, func() bool {
		l := fetchLedger(t, a.AdminAddr())
		for _, d := range l.Destinations {
			if d.Destination == "siem" {
				return d.Quarantined == 30
			}
		}
		return false
	})

	var out bytes.Buffer
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "siem", "", true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "would replay 30 of 30 records") {
		t.Fatalf("dry run: %s", out.String())
	}
	siem.mu.Lock()
	siem.fixed = true
	siem.mu.Unlock()
	out.Reset()
	if err := replayQuarantine(&out, "http://"+a.AdminAddr(), []string{cfg.Quarantine.Dir}, "siem", "", false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "30 records selected, 30 replayed") {
		t.Fatalf("replay: %s", out.String())
	}
	waitFor(t, func() bool {
		siem.mu.Lock()
		defer siem.mu.Unlock()
		return len(siem.got) == 30
	})
	got := map[string]bool{}
	for _, raw := range siem.got {
		got[string(raw)] = true
	}
	if len(got) != 30 {
		t.Errorf("SIEM got %d distinct events", len(got))
	}

	cmd := newRootCmd()
	var stats bytes.Buffer
	cmd.SetOut(&stats)
	cmd.SetArgs([]string{"stats", "--admin", "http://" + a.AdminAddr()})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	s := stats.String()
	for _, want := range []string{"DESTINATION", "siem", "archive", "BALANCED", "REDUCTION  received", "deduplication saved"} {
		if !strings.Contains(s, want) {
			t.Errorf("stats output lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, " NO") {
		t.Errorf("ledger unbalanced:\n%s", s)
	}
	// The replay went to the SIEM only: the archive holds each event once.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	arch, err := conservation.Count(cfg.Destinations[0].ArchiveDir.Dir, "replay")
	if err != nil {
		t.Fatal(err)
	}
	if r := conservation.Check(sender.Acked(), arch); len(r.Missing) > 0 || r.Duplicates > 0 {
		t.Errorf("archive: %s", r)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second) // generous: CI runs every package at once under -race
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPrintLedgerDropped: the ledger's drops before any queue are printed
// with their stage and reason.
func TestPrintLedgerDropped(t *testing.T) {
	var out bytes.Buffer
	printLedger(&out, &app.Ledger{Dropped: []app.DropLedger{{Stage: "syslog_udp", Reason: "destinations_refused", Events: 7}}})
	if s := out.String(); !strings.Contains(s, "DROPPED") || !strings.Contains(s, "syslog_udp") || !strings.Contains(s, "destinations_refused") || !strings.Contains(s, " 7\n") {
		t.Errorf("drops not printed:\n%s", s)
	}
}
