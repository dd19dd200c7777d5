package rules

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/expr-lang/expr"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// evalRule18 loads one rule file holding src and evaluates it on ev: the
// load error, or whether the rule matched.
func evalRule18(t *testing.T, src, ev string) (bool, error) {
	t.Helper()
	fsys := fstest.MapFS{"10-r.yaml": {Data: []byte("rules:\n  - name: r\n    priority: P1\n    expr: '" + src + "'\n")}}
	s, err := Load(fsys, ".", pipeline.P3)
	if err != nil {
		return false, err
	}
	c, _ := normalize.Compile(normalize.DefaultConfig())
	n := c.New()
	var p fastjson.Parser
	buildEvent(t, n, &p, ev)
	return s.Eval(&env{n: n, fields: s.Fields}) == 0, nil
}

// exprOn18 is plain expr on the event decoded as a map.
func exprOn18(t *testing.T, src, ev string) bool {
	t.Helper()
	prog, err := expr.Compile(src, expr.AllowUndefinedVariables(), expr.AsBool())
	if err != nil {
		t.Fatalf("expr itself does not compile %s: %v", src, err)
	}
	var p fastjson.Parser
	v, _ := p.Parse(ev)
	out, err := expr.Run(prog, fromJSON(v))
	if err != nil {
		t.Fatalf("expr itself fails on %s: %v", src, err)
	}
	return out.(bool)
}

// TestNegativeArrayIndexRejected
//
// What is wrong: a rule indexing an array from its end, `process.args[-1]
// endsWith ".ps1"` (expr's documented negative index), is refused at load
// with "dynamic field access is not supported; name fields with literal
// paths": refs() accepts a literal index only as an *ast.IntegerNode, and
// the parser gives -1 as a unary minus over 1. The index is a literal, not
// dynamic; `args[0]` loads.
//
// Expected: rules/README.md, "Allowed expression subset": "Anything else in
// expr still works, but is evaluated by the (slower) expr virtual machine";
// expr's language definition: "Negative indices are supported with -1
// being the last element. array[-1] // last element". The rule loads and
// matches as expr does.
func TestNegativeArrayIndexRejected(t *testing.T) {
	for _, tc := range []struct{ src, ev string }{
		{`process.args[-1] endsWith ".ps1"`, `{"process":{"args":["powershell.exe","-File","C:\\t\\run.ps1"]}}`},
		{`tags[-2] == "x"`, `{"tags":["x","y"]}`},
	} {
		want := exprOn18(t, tc.src, tc.ev)
		got, err := evalRule18(t, tc.src, tc.ev)
		if err != nil {
			t.Errorf("%s: refused at load (expr: %v): %v", tc.src, want, err)
			continue
		}
		if got != want {
			t.Errorf("%s on %s: router %v, expr %v", tc.src, tc.ev, got, want)
		}
	}
}

// TestInEnvNeverMatches
//
// What is wrong: `"schemaVersion" in $env`, expr's test that the
// environment has a key (the `in` operator "can be used to check if an item
// is in an array or a map"; $env is the environment map), loads without a
// word and is FALSE for every event: the VM's environment holds only the
// field paths the rule names (refs), and a bare $env names none. A rule
// written that way, or a fallback guarded by it, can never match.
//
// Expected: rules/README.md: "Anything else in expr still works, but is
// evaluated by the (slower) expr virtual machine". The rule matches an
// event that has the key, as expr does on that event, or, if logrouter
// cannot supply the whole environment, the rule is refused at load with
// the reason rather than accepted to never match.
func TestInEnvNeverMatches(t *testing.T) {
	for _, tc := range []struct{ src, ev string }{
		{`"schemaVersion" in $env`, `{"schemaVersion":"2.0","service":{"serviceName":"guardduty"}}`},
		{`"schemaVersion" in $env and service.serviceName == "guardduty"`, `{"schemaVersion":"2.0","service":{"serviceName":"guardduty"}}`},
	} {
		if !exprOn18(t, tc.src, tc.ev) {
			t.Fatalf("precondition: expr matches %s on %s", tc.src, tc.ev)
		}
		got, err := evalRule18(t, tc.src, tc.ev)
		if err != nil {
			continue // refused at load, with a reason: acceptable
		}
		if !got {
			t.Errorf("%s on %s: loads, but does not match (expr: true); it can match no event", tc.src, tc.ev)
		}
	}
}

// TestTestCaseWithoutEventReportsLineZero
//
// What is wrong: a rule test case without `event` (or `syslog`), e.g. one
// whose event was forgotten, is refused with "x_test.yaml:0: test ...":
// ParseTests locates a case by its event node's line, and a case without one
// gets line 0, which is no line of the file.
//
// Expected: rules/README.md, "Running the tests": it "compiles every rule
// file (all problems are reported at once, with file and line)"; the
// message names the file and the case's own line (here 5, its `name`, or
// any line of the case, 5 to 7), not line 0.
func TestTestCaseWithoutEventReportsLineZero(t *testing.T) {
	src := "tests:\n  - name: ok\n    event: {a: 1}\n    expect: {rule: default}\n  - name: forgot the event\n    sourcetype: okta.system\n    expect: {rule: default}\n"
	_, err := ParseTests("x_test.yaml", []byte(src))
	if err == nil {
		t.Fatal("a case without event or syslog was accepted")
	}
	msg := err.Error()
	ok := false
	for _, l := range []string{":5:", ":6:", ":7:"} {
		ok = ok || strings.Contains(msg, "x_test.yaml"+l)
	}
	if !ok {
		t.Errorf("the error does not locate the case (lines 5-7): %s", msg)
	}
}
