package app

// Fault tests from a review of the rules reload: each failed before the fix
// of the bug it describes (the comments describe the code as it was found).

import (
	"context"
	"errors"
	"fmt"
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

// newExampleApp builds (does not start) an app from the embedded
// config.example.yaml and the embedded starter rules (rules/*.yaml, their
// *_test.yaml included: the manifests' logrouter-rules and
// logrouter-rule-tests ConfigMaps are made from the same files), with only the destinations and routing replaced
// (file sinks under the given names) and data under a temporary directory;
// tweak, if any, changes the configuration last, before it is validated.
func newExampleApp(t *testing.T, dests []string, routing config.Routing, tweak ...func(*config.Config)) *App {
	t.Helper()
	data := t.TempDir()
	cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Log = config.Log{Level: "error", Format: "text"}
	cfg.Admin.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.Address = "127.0.0.1:0"
	cfg.Inputs.HTTP.GRPCAddress = "127.0.0.1:0"
	if sy := cfg.Inputs.Syslog; sy != nil {
		if sy.UDP != nil {
			sy.UDP.Address = "127.0.0.1:0"
		}
		if sy.TCP != nil {
			sy.TCP.Address = "127.0.0.1:0"
		}
		sy.TLS = nil
	}
	cfg.Destinations = nil
	for _, d := range dests {
		cfg.Destinations = append(cfg.Destinations, config.Destination{Name: d, Type: "file", File: &file.Config{Dir: filepath.Join(data, d)}})
	}
	cfg.Routing = routing
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	for _, f := range tweak {
		f(cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
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
	return a
}

// TestReviewReloadUnchangedRulesRefusedWithManifestRouting:
//
// Sequence: a router runs the starter rules with the example
// configuration's normalization, but the destinations and routing of
// deploy/kubernetes/gateway.yaml (P1 to splunk, P2 to opensearch, all to
// archive) or edge-daemonset.yaml (all to kafka); a reload is asked with
// the files unchanged (as any ConfigMap edit picked up by the manifests'
// reload_interval: 30s). The control keeps the example's routing.
//
// What happens: the reload runs the starter rule tests, whose expectations
// name the example config's destinations (destinations: [archive, siem]):
// with the manifests' routing dozens of cases "fail", the running rules are
// refused (422), logrouter_rules_last_reload_successful drops to 0 and
// LogrouterRulesReloadFailing fires on every replica and edge node. (The
// manifests also lack the example's normalize renames, which fails more.)
//
// What should happen: the rules that run fine are reloaded; the routing of
// the deployment is not something a rule edit can fix, and startup (which
// runs no tests) accepts the very same rules.
//
// Why it matters: docs/kubernetes.md tells operators that a ConfigMap edit
// reaches the pods in ~30s without a restart; with the shipped manifests no
// rule change is ever applied by reload, and the alert fires permanently.
func TestReloadUnchangedRulesRefusedWithManifestRouting(t *testing.T) {
	for _, tc := range []struct {
		name    string
		dests   []string
		routing config.Routing
	}{
		{"control-example-routing", []string{"archive", "siem", "opensearch"},
			config.Routing{P1: []string{"siem"}, P2: []string{"opensearch"}, P3: []string{}, All: []string{"archive"}}},
		{"gateway", []string{"archive", "splunk", "opensearch"},
			config.Routing{P1: []string{"splunk"}, P2: []string{"opensearch"}, P3: []string{}, All: []string{"archive"}}},
		{"edge", []string{"kafka"},
			config.Routing{P1: []string{}, P2: []string{}, P3: []string{}, All: []string{"kafka"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newExampleApp(t, tc.dests, tc.routing)
			if _, err := a.ReloadRules(); err != nil {
				msg := err.Error()
				if len(msg) > 600 {
					msg = msg[:600] + "..."
				}
				t.Errorf("reload of the unchanged, running rules with the %s routing refused: %s", tc.name, msg)
			}
		})
	}
}

// TestReviewReloadErrorCountsOnlyThreeFailures:
//
// Sequence: a reload whose rule tests fail in more than three cases (the
// gateway routing above: 56 cases expect destinations [archive, siem]).
//
// What happens: loadRules cuts the list to three before formatting, so the
// error (422 body, log) says "3 of 197 rule tests fail", then "(and 53
// more)".
//
// What should happen: the count is the number of failing cases.
//
// Why it matters: an operator reading the refusal (or the alert's log line)
// is told three cases fail when dozens do, and sizes the fix wrongly.
func TestReloadErrorCountsOnlyThreeFailures(t *testing.T) {
	a := newExampleApp(t, []string{"archive", "splunk", "opensearch"},
		config.Routing{P1: []string{"splunk"}, P2: []string{"opensearch"}, P3: []string{}, All: []string{"archive"}})
	_, err := a.ReloadRules()
	if err == nil {
		t.Skip("reload accepted: no failing cases to count")
	}
	var n, total int
	if _, serr := fmt.Sscanf(err.Error(), "%d of %d rule tests fail", &n, &total); serr != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	var more int
	if i := strings.LastIndex(err.Error(), "(and "); i >= 0 {
		_, _ = fmt.Sscanf(err.Error()[i:], "(and %d more)", &more)
	}
	if more > 0 && n != 3+more {
		t.Errorf("the error says %d of %d rule tests fail, and lists 3 plus %d more: want %d of %d", n, total, more, 3+more, total)
	}
}

// TestReviewWatchBaselineTakenAtStartNotAtLoad:
//
// Sequence: New loads the rules (kind "detection" is P1); the rule file is
// edited before Start (New can take long: it opens and recovers every
// destination's queue); Start begins the reload_interval watcher.
//
// What happens: watchRules fingerprints the files as they are at Start and
// takes that as "loaded", so the edit made after the rules were loaded is
// never noticed: the periodic check answers "unchanged" for ever, and the
// router classifies with rules that are not on disk until some later edit.
//
// What should happen: the fingerprint is that of the files the running
// rules were built from (taken at load), so the next check reloads.
//
// Why it matters: a ConfigMap update landing during a pod's startup (queue
// recovery) is silently lost; the reload metrics say all is well.
func TestWatchBaselineTakenAtStartNotAtLoad(t *testing.T) {
	r := newReloadRig(t, time.Hour) // the watcher runs; its tick never comes in the test
	r.write("alert")                // after New loaded "detection"
	if err := r.app.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.stop()
	_, err := r.app.reloadRules(true) // what the watcher's next tick does
	if errors.Is(err, errRulesUnchanged) {
		t.Fatal("the periodic check reports the rules unchanged although the running rules (kind detection) are not the files on disk (kind alert)")
	}
	r.post("after-check", "alert")
	if !r.siemHas("after-check") {
		t.Error("after the periodic check, kind alert still does not reach the SIEM")
	}
}

// TestReviewWatchMissesDotFileTheLoaderReads:
//
// Sequence: the rule directory holds a rule file whose name starts with a
// dot (".20-extra.yaml": a valid ConfigMap key, and a name rules.RuleFiles
// loads); the router starts with reload_interval; the file is edited so
// that its rule matches kind "alert".
//
// What happens: fingerprint skips names that start with "." while the rule
// loader (and normalize.LoadProfiles) read them, so the periodic check
// answers "unchanged" and the edit is never loaded.
//
// What should happen: the watcher fingerprints exactly the files a reload
// reads.
//
// Why it matters: a rule change the router actually loads on restart or
// SIGHUP is silently not picked up by reload_interval.
func TestWatchMissesDotFileTheLoaderReads(t *testing.T) {
	r := newReloadRig(t, time.Hour)
	extra := func(kind string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(r.rules, ".20-extra.yaml"), []byte(fmt.Sprintf("rules:\n  - name: extra\n    priority: P1\n    expr: kind == %q\n", kind)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	extra("nothing")
	if _, err := r.app.ReloadRules(); err != nil { // the dot file is loaded: a reload reads it
		t.Fatal(err)
	}
	if err := r.app.Start(); err != nil {
		t.Fatal(err)
	}
	defer r.stop()
	extra("alert")
	if _, err := r.app.reloadRules(true); errors.Is(err, errRulesUnchanged) {
		t.Fatal("the periodic check reports the rules unchanged after an edit of .20-extra.yaml, a file every reload loads")
	}
	r.post("dot", "alert")
	if !r.siemHas("dot") {
		t.Error("the edited .20-extra.yaml rule did not apply after the periodic check")
	}
}
