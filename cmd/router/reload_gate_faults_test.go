package main

// Review of the rules reload gate (internal/app/reload.go, loadRules).

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/valyala/fastjson"

	logrouter "github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/sinks/file"
)

// reviewStarterFS copies the embedded starter rules (tests and profiles
// included) into a map the test can edit, as an operator edits the
// ConfigMap the router reads.
func reviewStarterFS(t *testing.T) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(logrouter.StarterRules, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(logrouter.StarterRules, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// reviewApp builds (does not start) a router on the example configuration
// with file destinations and the given routing, reading its rules from fsys.
func reviewApp(t *testing.T, fsys fs.FS, dests []string, routing config.Routing) *app.App {
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
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, app.RulesSource{FS: fsys, Dir: cfg.Rules.Dir, Name: "rules"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Engine().Close(ctx)
	})
	return a
}

// reviewClassify classifies one raw event with the router's current rules.
func reviewClassify(t *testing.T, a *app.App, sourcetype, js string) (string, pipeline.Priority) {
	t.Helper()
	r := a.Engine().Router()
	w := r.NewWorker()
	v, err := fastjson.Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	meta := pipeline.Meta{Input: "t", IngestTime: time.Now().UnixNano()}
	_, ev, err := w.Explain(nil, &meta, v, nil, &normalize.EventMeta{SourceType: []byte(sourcetype)})
	if err != nil {
		t.Fatal(err)
	}
	return r.Rules.RuleName(int(ev.Rule)), ev.Priority
}

// TestReloadGateBlindToKnownFailingCases:
//
// Sequence: the router runs the starter rules with the routing of
// deploy/kubernetes/gateway.yaml (P1 to splunk, P2 to opensearch, all to
// archive). An edit demotes ndr-darktrace-alert to P2 (priority: P1 ->
// P2, a copy-paste slip); the rule's own test ("darktrace model breach is
// P1", rules/10-p1-threat-detection_test.yaml) now fails on priority, so
// `router rules test` fails and the same reload with the example routing
// is refused (the control). The ConfigMap update reaches the pod and the
// reload_interval check (or SIGHUP) reloads.
//
// What happens: reloader.known holds every case that failed at start in
// this configuration, and loadRules ignores any failure of a known case,
// whatever it now fails on. With the gateway routing every case naming
// destinations [archive, siem] already failed, so the Darktrace case that
// now also fails on priority is "known": the reload is accepted
// (logrouter_rules_last_reload_successful 1) and Darktrace model breaches
// stop reaching the SIEM. Under that routing 25 starter P1 rules have no
// passing case at all (Okta ThreatInsight, Darktrace, Falco, Elastic
// Defend, Netskope alerts...): the reload gate protects none of them.
//
// What should happen: a known case may keep failing as it failed (its
// destinations), but a case that now fails differently (another rule or
// priority) is a regression the gate must refuse, as it does with the
// example routing. Fix: internal/app/reload.go loadRules/baseline: keep
// the known cases' diffs (or their rule and priority) and refuse a reload
// whose result for a known case changed.
func TestReloadGateBlindToKnownFailingCases(t *testing.T) {
	const breach = `{"pbid": 184223, "time": 1795824000000, "score": 0.87, "model": {"now": {"name": "Anomalous Connection::Data Sent to Rare Domain", "pid": 321}}, "triggeredComponents": [{"cbid": 774411, "metric": {"name": "externalclientdatatransfervolume"}}], "device": {"did": 412, "ip": "10.20.3.41", "hostname": "ws-0142"}}`
	for _, tc := range []struct {
		name    string
		dests   []string
		routing config.Routing
	}{
		{"control-example-routing", []string{"archive", "siem", "opensearch"},
			config.Routing{P1: []string{"siem"}, P2: []string{"opensearch"}, P3: []string{}, All: []string{"archive"}}},
		{"gateway-routing", []string{"archive", "splunk", "opensearch"},
			config.Routing{P1: []string{"splunk"}, P2: []string{"opensearch"}, P3: []string{}, All: []string{"archive"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := reviewStarterFS(t)
			a := reviewApp(t, fsys, tc.dests, tc.routing)
			if rule, prio := reviewClassify(t, a, "darktrace.model_breach_alert", breach); prio != pipeline.P1 {
				t.Fatalf("before the edit the Darktrace model breach is %s (%s), want P1", prio, rule)
			}
			const f = "rules/10-p1-threat-detection.yaml"
			src := string(fsys[f].Data)
			at := strings.Index(src, "- name: ndr-darktrace-alert")
			p := strings.Index(src[at:], "priority: P1")
			if at < 0 || p < 0 {
				t.Fatal("ndr-darktrace-alert not found as written")
			}
			edited := src[:at+p] + "priority: P2" + src[at+p+len("priority: P1"):]
			fsys[f] = &fstest.MapFile{Data: []byte(edited)}
			_, err := a.ReloadRules()
			rule, prio := reviewClassify(t, a, "darktrace.model_breach_alert", breach)
			if err == nil {
				t.Errorf("reload of a change that fails ndr-darktrace-alert's own test (\"darktrace model breach is P1\") was accepted: a Darktrace model breach is now %s (rule %s), no longer routed to the SIEM", prio, rule)
			} else if prio != pipeline.P1 {
				t.Errorf("reload refused (%v) but the model breach is %s", err, prio)
			}
		})
	}
}

// TestReloadAcceptsEmptyRuleDirectory:
//
// Sequence: the running router's rules directory loses its rule and test
// files (a ConfigMap recreated empty or from the wrong directory:
// `kubectl create configmap logrouter-rules $(ls rules/*.yaml ...)` run
// elsewhere matches nothing; an rsync --delete from an empty checkout),
// and the reload_interval check notices the change.
//
// What happens: rules.Load of a directory without rule files is an empty
// set without error, LoadTests finds no case, so no test fails and
// loadRules installs zero rules: every event gets the default P3, nothing
// reaches the SIEM or OpenSearch, and the reload is counted ok. `router
// rules test` on the same directory exits 2 ("no rule tests found").
//
// What should happen: a reload that would replace running rules by none
// (or a directory without a single test) is refused, as the CLI refuses
// it, and the running rules stay. Fix: internal/app/reload.go loadRules
// (refuse zero rules / zero tests when the running set has some).
func TestReloadAcceptsEmptyRuleDirectory(t *testing.T) {
	const breach = `{"pbid": 184223, "triggeredComponents": [{"cbid": 774411}], "device": {"did": 412, "ip": "10.20.3.41"}}`
	fsys := reviewStarterFS(t)
	a := reviewApp(t, fsys, []string{"archive", "siem", "opensearch"},
		config.Routing{P1: []string{"siem"}, P2: []string{"opensearch"}, P3: []string{}, All: []string{"archive"}})
	for p := range fsys {
		if !strings.HasPrefix(p, "rules/profiles/") {
			delete(fsys, p)
		}
	}
	res, err := a.ReloadRules()
	rule, prio := reviewClassify(t, a, "darktrace.model_breach_alert", breach)
	if err == nil {
		t.Errorf("reload of a rules directory without rule or test files accepted (%d rules, %d tests): a Darktrace model breach is now %s (%s), nothing reaches the SIEM",
			res.Rules, res.RuleTests, prio, rule)
	}
}
