package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/internal/config"
)

// TestQuarantineBudgetCoversAllDirectories: quarantine.max_total_bytes
// bounds the inputs' directory and every destination's together, and
// logrouter_quarantine_bytes / logrouter_quarantine_max_bytes (which the
// LogrouterQuarantineFilling alert reads) report the files of all of them.
func TestQuarantineBudgetCoversAllDirectories(t *testing.T) {
	routing := config.Routing{P1: []string{"siem", "archive"}, P2: []string{"archive"}, P3: []string{"archive"}}
	a := newExampleApp(t, []string{"archive", "siem"}, routing, func(cfg *config.Config) {
		cfg.Quarantine.MaxTotalBytes = 10000
		// Files of an earlier run: 300 bytes in the inputs' directory,
		// 700 in the siem destination's.
		for dir, n := range map[string]int{cfg.Quarantine.Dir: 300, filepath.Join(cfg.Quarantine.Dir, "siem"): 700} {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "quarantine-20261129T10.ndjson"), []byte(strings.Repeat("x", n-1)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})
	got := quarantineGauges(t, a)
	if got["logrouter_quarantine_bytes"] != 1000 || got["logrouter_quarantine_max_bytes"] != 10000 {
		t.Fatalf("quarantine gauges %v, want bytes 1000 (both directories) and max 10000", got)
	}
}

// quarantineGauges returns a's logrouter_quarantine_* gauges by name.
func quarantineGauges(t *testing.T, a *App) map[string]float64 {
	t.Helper()
	mfs, err := a.Engine().Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if n := mf.GetName(); strings.HasPrefix(n, "logrouter_quarantine_") && len(mf.GetMetric()) == 1 {
			got[n] = mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return got
}
