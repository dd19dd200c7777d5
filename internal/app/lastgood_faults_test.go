package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
)

func lastGoodRig(t *testing.T, interval time.Duration) (*reloadRig, string) {
	t.Helper()
	var lastGood string
	r := newReloadRig(t, interval, func(c *config.Config) {
		lastGood = filepath.Join(filepath.Dir(c.Queue.Dir), "rules-last-good")
		c.Rules.LastGoodDir = lastGood
	})
	if b, err := os.ReadFile(filepath.Join(lastGood, "current", "10-p1.yaml")); err != nil || !strings.Contains(string(b), `"detection"`) {
		t.Fatalf("no copy at start: %q %v", b, err)
	}
	return r, lastGood
}

// An emptied rules directory (a ConfigMap without its keys) is refused by
// every running replica ("a reload never empties the rule set"), but a
// restart loads it (zero rules, every event at the default priority), does
// not fall back, and replaces the last good copy with the empty set: the
// next restart with broken rules then falls back to no rules at all.
func TestLastGoodEmptiedDirAtRestart(t *testing.T) {
	r, lastGood := lastGoodRig(t, 0)
	if err := r.app.Start(); err != nil {
		t.Fatal(err)
	}
	// The running replica refuses the emptied directory.
	for _, n := range []string{"10-p1.yaml", "10-p1_test.yaml"} {
		if err := os.Remove(filepath.Join(r.rules, n)); err != nil {
			t.Fatal(err)
		}
	}
	if code, _ := r.reload(); code == 200 {
		t.Fatal("precondition: a reload to an empty rules directory was accepted")
	}
	r.stop()
	// The pod restarts.
	a, err := r.newApp()
	if err != nil {
		return // refusing the start is acceptable
	}
	r.app = a
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.stop()
	if _, err := os.Stat(filepath.Join(lastGood, "current", "10-p1.yaml")); err != nil {
		t.Errorf("the restart replaced the last good copy with the emptied directory a reload refused: %v", err)
	}
	if got := r.metric("logrouter_rules_loaded"); got == "0" {
		t.Errorf("the restart runs with %s rules though a last good copy (1 rule) exists and no running replica accepted the emptied directory", got)
	}
}

// Rules that compile but fail their own tests are refused by every running
// replica, yet a restart loads them (no fallback) and keeps them as the
// "last good" copy: the copy is not the last rules that passed the reload
// gate.
func TestLastGoodFailingTestsAtRestart(t *testing.T) {
	r, lastGood := lastGoodRig(t, 0)
	if err := r.app.Start(); err != nil {
		t.Fatal(err)
	}
	// P1 now matches kind "other"; the test next to it still expects
	// "detection" to be P1: it fails.
	r.writeFiles("rules:\n  - name: alerts\n    priority: P1\n    expr: kind == \"other\"\n",
		"tests:\n  - name: detection is P1\n    event: {\"kind\": \"detection\"}\n    expect: {priority: P1}\n")
	if code, _ := r.reload(); code == 200 {
		t.Fatal("precondition: a reload of rules that fail their own tests was accepted")
	}
	r.stop()
	a, err := r.newApp()
	if err != nil {
		return
	}
	r.app = a
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.stop()
	b, _ := os.ReadFile(filepath.Join(lastGood, "current", "10-p1.yaml"))
	if !strings.Contains(string(b), `"detection"`) {
		t.Errorf("the restart kept rules that fail their own tests (refused by the reload) as the last good copy:\n%s", b)
	}
	r.post("a", "detection")
	if !r.siemHas("a") {
		t.Errorf("after the restart the P1 event is not P1: the refused rules run (last_good_in_use %s)", r.metric("logrouter_rules_last_good_in_use"))
	}
}

// After a fallback start with reload_interval off (its default), the log
// says "they are loaded as soon as they change" and the gauge's help "it is
// reloaded as soon as it changes"; nothing watches the directory: the fixed
// rules are not loaded until a SIGHUP, POST /admin/reload or restart.
func TestLastGoodFixNotPickedUpWithoutInterval(t *testing.T) {
	r, _ := lastGoodRig(t, 0)
	r.stop()
	r.writeFiles("rules:\n  - name: broken\n    priority: P1\n    expr: kind ==\n", "tests: []\n")
	a, err := r.newApp()
	if err != nil {
		t.Fatal(err)
	}
	r.app = a
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.stop()
	r.write("other") // fixed
	deadline := time.Now().Add(3*time.Second + fallbackReloadInterval)
	for time.Now().Before(deadline) && r.metric("logrouter_rules_last_good_in_use") != "0" {
		time.Sleep(100 * time.Millisecond)
	}
	if got := r.metric("logrouter_rules_last_good_in_use"); got != "0" {
		t.Errorf("the fixed rules directory was not loaded (last_good_in_use %s) although the log and metric help say it is loaded as soon as it changes (rules.reload_interval is 0, the default)", got)
	}
}
