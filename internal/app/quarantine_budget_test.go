package app

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	logrouter "github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/sinks/file"
)

// TestQuarantineBudgetCoversAllDirectories: quarantine.max_total_bytes
// bounds the inputs' directory and every destination's together, and
// logrouter_quarantine_bytes / logrouter_quarantine_max_bytes (which the
// LogrouterQuarantineFilling alert reads) report the files of all of them.
func TestQuarantineBudgetCoversAllDirectories(t *testing.T) {
	data := t.TempDir()
	cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Log = config.Log{Level: "error", Format: "text"}
	cfg.Admin.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.GRPCAddress = "127.0.0.1:0"
	cfg.Inputs.Syslog = nil
	cfg.Destinations = nil
	for _, d := range []string{"archive", "siem"} {
		cfg.Destinations = append(cfg.Destinations, config.Destination{Name: d, Type: "file", File: &file.Config{Dir: filepath.Join(data, d)}})
	}
	cfg.Routing = config.Routing{P1: []string{"siem", "archive"}, P2: []string{"archive"}, P3: []string{"archive"}}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Quarantine.MaxTotalBytes = 10000
	cfg.Queue.Dir = filepath.Join(data, "queue")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	// Files of an earlier run: 300 bytes in the inputs' directory, 700 in
	// the siem destination's.
	for dir, n := range map[string]int{cfg.Quarantine.Dir: 300, filepath.Join(cfg.Quarantine.Dir, "siem"): 700} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "quarantine-20261129T10.ndjson"), []byte(strings.Repeat("x", n-1)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, err := New(cfg, RulesSource{FS: logrouter.StarterRules, Dir: cfg.Rules.Dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.eng.Close(ctx)
	})
	got := map[string]float64{}
	mfs, err := a.Engine().Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if n := mf.GetName(); strings.HasPrefix(n, "logrouter_quarantine_") && len(mf.GetMetric()) == 1 {
			got[n] = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	if got["logrouter_quarantine_bytes"] != 1000 || got["logrouter_quarantine_max_bytes"] != 10000 {
		t.Fatalf("quarantine gauges %v, want bytes 1000 (both directories) and max 10000", got)
	}
}
