package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRulesTestFailureLinesAreSeparate: `router rules test` "prints each
// failure" (rules/README.md, "Running the tests"), one "FAIL file:line
// name" line per failed case followed by its diff.
//
// Fault: route.RunTests (pipeline/route/ruletest.go) sets TestResult.Diff
// without a trailing newline for three failures ("event is not valid
// JSON: ...", "the syslog parser's output is not JSON: ...", "event was
// rejected by normalization: ..."), while diff() ends every line with
// "\n"; reportTests (cmd/router/commands.go) prints "FAIL ...\n%s" and
// relies on the diff's own newline.
//
// Expected: every "FAIL" header starts a line of its own, and the summary
// line ("N rule tests, ...") too.
//
// Actual: the next case's "FAIL" (or the summary) is glued to the end of
// the unparseable-JSON message:
//
//	event is not valid JSON: ... unparsed tail: ""FAIL 10-r_test.yaml:6 wrong
func TestRulesTestFailureLinesAreSeparate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("10-r.yaml", "rules:\n  - name: edr\n    priority: P1\n    expr: event.dataset == \"edr\"\n")
	write("10-r_test.yaml", `tests:
  - name: bad json string
    event: '{"a": '
    expect: {priority: P3}
  - name: wrong
    event: {"a": 1}
    expect: {priority: P1}
`)
	out, err := run(t, "", "rules", "test", "--rules", dir)
	if err == nil {
		t.Fatalf("rules test passed two failing cases:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, "FAIL "); i > 0 {
			t.Errorf("a FAIL header does not start its own line: %q\nwhole output:\n%s", l, out)
		}
		if i := strings.Index(l, " rule tests, "); i >= 0 && !strings.HasPrefix(l, "2 rule tests, ") {
			t.Errorf("the summary does not start its own line: %q", l)
		}
	}
}
