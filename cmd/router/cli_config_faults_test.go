package main

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesTestPassesUnparseableJSONEvent: a rule test case whose
// event is a string holding JSON (rules.TestCase.Event: "a string holding
// JSON (or plain text, which becomes message)") that does not parse, here
// because of a trailing comma, is not an error: ParseTests (rules/testfile.go) marks every string that is not
// valid JSON as plain text (tc.Text), so the case runs with the whole
// string as "message", no rule sees event.dataset, and a case expecting the
// default priority passes. `router rules test` prints "ok" and exits 0 for
// a case that was never evaluated as written, while the router itself (and
// `router explain`, shown below) rejects that very line as invalid_json.
// A string event that starts with '{' but is not valid JSON should fail the
// case (or the file) with "event is not valid JSON" and its line, as
// RunTests already does for events it cannot parse.
func TestRulesTestPassesUnparseableJSONEvent(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-r.yaml", "rules:\n  - name: edr\n    priority: P1\n    expr: event.dataset == \"edr\"\n")
	write("10-r_test.yaml", `tests:
  - name: benign telemetry stays P3
    event: '{"event": {"dataset": "edr-telemetry"}, "host": {"name": "ws1"},}'
    expect: {priority: P3}
`)
	// The router's verdict on that event.
	exp, experr := run(t, `{"event": {"dataset": "edr-telemetry"}, "host": {"name": "ws1"},}`+"\n", "explain", "--rules", dir)
	if experr == nil || !strings.Contains(exp, "invalid_json") {
		t.Fatalf("explain accepts the event, the premise does not hold: %v\n%s", experr, exp)
	}

	out, err := run(t, "", "rules", "test", "--rules", dir)
	if err == nil {
		t.Errorf("rules test exits 0 for a case whose event the router rejects as invalid_json (explain: %s):\n%s", strings.TrimSpace(exp), out)
	}
}

// TestQuarantineReplayIgnoresConfigFlag: --config/-c is a persistent
// flag of the root command, so `router quarantine replay -c config.yaml`
// (and `router stats -c config.yaml`) accept it, and ignore it: replay reads
// ./data/quarantine (relative to the working directory) and posts to
// http://127.0.0.1:8686, whatever quarantine.dir and admin.address the
// configuration names (and without its admin.token). An operator who
// passes the router's configuration, as to every other command, gets
// "stat ./data/quarantine: no such file or directory" at best, and at worst
// another instance's quarantine replayed or a replay sent to another
// router listening on 8686. With -c the defaults should come from the
// configuration (quarantine.dir, admin.address, admin.token), or the
// command should refuse the flag it does not read.
func TestQuarantineReplayIgnoresConfigFlag(t *testing.T) {
	a := newCountingAdmin(t, func(_ int, lines []string) (int, string) {
		return http.StatusOK, routerAnswer(len(lines), 0)
	})
	u, err := url.Parse(a.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	qdir := filepath.Join(base, "quarantine")
	if err := os.MkdirAll(qdir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeOld(t, filepath.Join(qdir, "quarantine-20240101T00.ndjson"), qline("invalid_json", "replay-me"))
	cfg := filepath.Join(base, "config.yaml")
	cfgText := "admin: {address: \"" + u.Host + "\"}\n" +
		"inputs: {http: {address: \"127.0.0.1:0\"}}\n" +
		"destinations:\n  - {name: archive, type: archive_dir, archive_dir: {dir: \"" + filepath.Join(base, "archive") + "\"}}\n" +
		"routing: {all: [archive]}\n" +
		"queue: {dir: \"" + filepath.Join(base, "queue") + "\"}\n" +
		"quarantine: {dir: \"" + qdir + "\"}\n"
	if err := os.WriteFile(cfg, []byte(cfgText), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "", "validate", "-c", cfg, "--rules", "../../rules"); err != nil {
		t.Fatalf("the test configuration is invalid: %v\n%s", err, out)
	}
	// A working directory without ./data, as on a host where the router
	// runs with absolute paths.
	t.Chdir(t.TempDir())

	out, err := run(t, "", "quarantine", "replay", "-c", cfg)
	if err != nil && strings.Contains(err.Error(), "config") {
		return // the flag is refused rather than ignored
	}
	if got := a.lines(); len(got) != 1 || got[0] != "replay-me" {
		t.Errorf("quarantine replay -c %s did not replay %s to admin.address %s (router got %v): err=%v\n%s", cfg, qdir, u.Host, got, err, out)
	}
}

// TestRulesTestIgnoresSyslogInputSettings: a rule test case given as
// `syslog:` is documented (rules/README.md) to go through the syslog
// input's parser "as it would arrive on the syslog port", and expect.
// destinations to use "the configuration in effect". But RunTests
// (pipeline/route/ruletest.go) builds a bare parser with source type
// "syslog" and never looks at the configuration's inputs.syslog: its
// app_source_types (which "wins over the built-in detection", server.go
// sets it as the event's source type), source_type, timezone and
// keep_original are all ignored. With app_source_types {myapp: app.myapp}
// the router gives myapp's messages event.dataset app.myapp (internal/app
// TestSyslogAppSourceTypes) and so the app.myapp rule (P1 here),
// while `router rules test -c` runs the same message as source type
// syslog: a positive case fails, and a negative one ("myapp lines are not
// P1") passes although the router sends them to the SIEM. The rule test
// runner (and `router explain --format syslog`) should take the syslog
// input's settings from the configuration.
func TestRulesTestIgnoresSyslogInputSettings(t *testing.T) {
	base := t.TempDir()
	rdir := filepath.Join(base, "rules")
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, data string) {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(rdir, "10-app.yaml"), "rules:\n  - name: myapp-alerts\n    priority: P1\n    expr: event.dataset == \"app.myapp\"\n")
	write(filepath.Join(rdir, "10-app_test.yaml"), `tests:
  - name: myapp over syslog is P1, as app_source_types makes it
    syslog: "<14>Jan  1 08:50:42 host1 myapp[42]: user admin failed to log in"
    expect: {priority: P1, rule: myapp-alerts}
`)
	cfg := filepath.Join(base, "config.yaml")
	write(cfg, "inputs:\n  syslog:\n    udp: {address: '127.0.0.1:0'}\n    app_source_types: {myapp: app.myapp}\n"+
		"destinations:\n  - {name: archive, type: archive_dir, archive_dir: {dir: \""+filepath.Join(base, "archive")+"\"}}\n"+
		"routing: {all: [archive]}\n"+
		"queue: {dir: \""+filepath.Join(base, "queue")+"\"}\n"+
		"quarantine: {dir: \""+filepath.Join(base, "quarantine")+"\"}\n")
	out, err := run(t, "", "rules", "test", "-c", cfg)
	if err != nil {
		t.Errorf("rules test -c %s: %v (exit %d): the syslog case is run without inputs.syslog.app_source_types, unlike the router\n%s", cfg, err, exitCode(err), out)
	}
}
