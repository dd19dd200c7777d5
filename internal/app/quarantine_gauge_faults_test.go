package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
)

// TestQuarantineGaugeAfterRemoval: logrouter_quarantine_bytes never
// goes down after the operator removes replayed files, so the
// LogrouterQuarantineFilling alert (deploy/kubernetes/alerts.yaml), whose
// own description says to "replay it and remove the replayed files", keeps
// firing after exactly that remedy.
//
// What is wrong: the gauge reads quarantine.Budget.Bytes(), which is
// onDisk+inflight "as last counted"; the files are counted again only in
// Budget.reserve, and only when a reservation would pass max_total_bytes.
// Below the bound (the 80-100% band the alert is about) nothing ever
// recounts, so removed files stay counted until a restart or until the
// quarantine fills up to the bound.
//
// Reproduce: max_total_bytes 10000, 9000 bytes of quarantine files from an
// earlier run (90%: the alert's condition holds); start the router; remove
// the file; wait past recountEvery (1s). The gauge still says 9000.
//
// Expected: the gauge's help says it is the "Bytes of quarantine files in
// quarantine.dir and its destinations' directories"; after the files are
// removed it should fall (to 0 here), so that the alert resolves and
// on-call sees the remedy worked (a recount when the gauge is read, or a
// periodic one, at most every recountEvery as reserve does).
func TestQuarantineGaugeAfterRemoval(t *testing.T) {
	var old string
	routing := config.Routing{P1: []string{"siem", "archive"}, P2: []string{"archive"}, P3: []string{"archive"}}
	a := newExampleApp(t, []string{"archive", "siem"}, routing, func(cfg *config.Config) {
		cfg.Quarantine.MaxTotalBytes = 10000
		old = filepath.Join(cfg.Quarantine.Dir, "siem", "quarantine-20261129T10.ndjson")
		if err := os.MkdirAll(filepath.Dir(old), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(old, []byte(strings.Repeat("x", 8999)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	})
	if g := quarantineGauges(t, a)["logrouter_quarantine_bytes"]; g != 9000 {
		t.Fatalf("at start: %v, want 9000", g)
	}
	// The alert's remedy: the operator replays and removes the file.
	if err := os.Remove(old); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if g := quarantineGauges(t, a)["logrouter_quarantine_bytes"]; g != 0 {
		t.Errorf("logrouter_quarantine_bytes = %v after the only quarantine file was removed (and past the 1s recount interval), want 0: "+
			"LogrouterQuarantineFilling (bytes/max > 0.8) keeps firing after its own remedy", g)
	}
}
