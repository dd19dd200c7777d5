package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/internal/config"
)

func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// TestExampleConfigValidates keeps config.example.yaml from rotting: it must
// load, validate and compile its rules from disk and embedded.
func TestExampleConfigValidates(t *testing.T) {
	if _, err := config.Load("../../config.example.yaml"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"validate", "-c", "../../config.example.yaml"}, {"validate"}} {
		out, err := run(t, "", args...)
		if err != nil || !strings.Contains(out, "OK") {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}

// TestStarterRulesPass runs the rule test files shipped in rules/.
func TestStarterRulesPass(t *testing.T) {
	out, err := run(t, "", "rules", "test", "-c", "../../config.example.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, " 0 failed") {
		t.Fatalf("unexpected output:\n%s", out)
	}
}

func TestRulesTestReportsFailures(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-r.yaml", "rules:\n  - name: edr\n    priority: P1\n    expr: event.dataset == \"edr\"\n")
	write("10-r_test.yaml", `tests:
  - name: passes
    sourcetype: edr
    event: {a: 1}
    expect: {priority: P1, rule: edr, destinations: [siem, archive]}
  - name: fails
    event: {a: 1}
    expect: {priority: P1, rule: edr, destinations: [archive, siem]}
`)
	out, err := run(t, "", "rules", "test", "--rules", dir)
	if exitCode(err) != 1 {
		t.Fatalf("exit %d (%v), want 1\n%s", exitCode(err), err, out)
	}
	for _, want := range []string{"FAIL", "10-r_test.yaml:7 fails", "priority:\n    - want P1\n    + got  P3", "rule:\n    - want edr\n    + got  default",
		"- want [archive, siem]\n    + got  [archive]", "2 rule tests, 1 passed, 1 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateRejectsUnknownKeysWithLine(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(data), "  level: info ", "  levle: info ", 1)
	p := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := run(t, "", "validate", "-c", p)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), `bad.yaml:13: unknown key "levle"`) {
		t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
	}
}

func TestExplain(t *testing.T) {
	in := `{"metadata":{"eventType":"DetectionSummaryEvent"},"event":{"ComputerName":"ws1"}}
not json but text
{"broken":
`
	out, err := run(t, in, "explain", "--sourcetype", "crowdstrike.falcon")
	if exitCode(err) != 1 {
		t.Fatalf("want exit 1 for the broken line, got %v\n%s", err, out)
	}
	for _, want := range []string{"line 1: rule=", "priority=P1", "destinations=[archive, siem]", "line 2:", `"message":"not json but text"`, "line 3: rejected (invalid_json)"} {
		if !strings.Contains(out, want) {
			t.Errorf("explain output lacks %q:\n%s", want, out)
		}
	}
	out, err = run(t, `{"a":1}`+"\n", "explain", "-o", "json")
	if err != nil || !strings.Contains(out, `"priority":"P3"`) || !strings.Contains(out, `"event":{"@timestamp"`) {
		t.Errorf("json explain: %v\n%s", err, out)
	}
}
