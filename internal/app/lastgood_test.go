package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/internal/config"
)

// TestStartWithLastGoodRules: a reload never runs rules that do not
// compile, but a restart loaded whatever the directory held, so a broken
// rules ConfigMap took every replica down at its next restart. With
// rules.last_good_dir the restart runs the last rules that loaded, says so
// (metrics, log), and loads the directory once it is fixed.
func TestStartWithLastGoodRules(t *testing.T) {
	var lastGood string
	r := newReloadRig(t, 0, func(c *config.Config) {
		lastGood = filepath.Join(filepath.Dir(c.Queue.Dir), "rules-last-good")
		c.Rules.LastGoodDir = lastGood
	})
	if b, err := os.ReadFile(filepath.Join(lastGood, "current", "10-p1.yaml")); err != nil || !strings.Contains(string(b), `"detection"`) {
		t.Fatalf("the rules loaded at start were not copied: %q, %v", b, err)
	}
	r.stop() // never started: closes what New opened

	// The ConfigMap is broken; the pod restarts.
	r.writeFiles("rules:\n  - name: broken\n    priority: P1\n    expr: kind ==\n", "tests: []\n")
	a, err := r.newApp()
	if err != nil {
		t.Fatalf("a start with broken rules and a last good copy failed: %v", err)
	}
	r.app = a
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.stop()
	if got := r.metric("logrouter_rules_last_good_in_use"); got != "1" {
		t.Errorf("logrouter_rules_last_good_in_use %q, want 1", got)
	}
	if got := r.metric("logrouter_rules_last_reload_successful"); got != "0" {
		t.Errorf("logrouter_rules_last_reload_successful %q, want 0 (the alert)", got)
	}
	r.post("a", "detection")
	if !r.siemHas("a") {
		t.Fatal("the last good rules do not classify: the P1 event did not reach the SIEM")
	}
	if b, _ := os.ReadFile(filepath.Join(lastGood, "current", "10-p1.yaml")); !strings.Contains(string(b), `"detection"`) {
		t.Errorf("the broken rules replaced the last good copy: %s", b)
	}

	// Fixed: a reload loads the directory and keeps it as the new copy.
	r.write("other")
	if code, body := r.reload(); code != 200 {
		t.Fatalf("reload of the fixed rules: %d %s", code, body)
	}
	if got := r.metric("logrouter_rules_last_good_in_use"); got != "0" {
		t.Errorf("logrouter_rules_last_good_in_use %q after the fix, want 0", got)
	}
	if b, _ := os.ReadFile(filepath.Join(lastGood, "current", "10-p1.yaml")); !strings.Contains(string(b), `"other"`) {
		t.Errorf("the reloaded rules were not kept as the last good copy: %s", b)
	}
	r.post("b", "other")
	if !r.siemHas("b") {
		t.Error("the fixed rules do not classify")
	}
}

// TestStartWithBrokenRulesFailsWithoutLastGood: without a copy (the
// option off, or nothing saved yet) a start with broken rules fails, as
// before.
func TestStartWithBrokenRulesFailsWithoutLastGood(t *testing.T) {
	r := newReloadRig(t, 0)
	r.stop()
	r.writeFiles("rules:\n  - name: broken\n    priority: P1\n    expr: kind ==\n", "tests: []\n")
	if a, err := r.newApp(); err == nil {
		r.app = a
		r.stop()
		t.Fatal("a start with rules that do not compile succeeded without a last good copy")
	}
}
