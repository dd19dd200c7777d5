package rules

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// TestUnknownFunctionAcceptedAtLoad:
//
// Sequence: a SOC engineer writes a rule with a misspelt or mis-cased
// function (`lowr(...)`, `Lower(...)`, a method call `user.name.lower()`),
// and runs `router validate` (or a reload happens).
//
// What happens: compileRuleMode compiles with expr.AllowUndefinedVariables,
// so the unknown name is taken for an undefined *variable* (a field) and
// the rule compiles; Load reports nothing, `router validate` says OK. On
// expr's VM every evaluation fails ("cannot call nil"), Set.match drops the
// error (runVM's error is ignored, no metric), and the rule never matches
// any event: here the root login that should be P1 falls to the default P3.
//
// What should happen: the event carries no functions, so a call of any name
// that is not an expr builtin can never succeed: Load must refuse it with
// the file, line and name, as it refuses $env and dynamic field access.
// Fix: rules.go compileRuleMode / lower.go refs (reject a CallNode whose
// callee is not a builtin, and a method call on a field).
func TestUnknownFunctionAcceptedAtLoad(t *testing.T) {
	n := testNormalizer(t)
	var p fastjson.Parser
	buildEvent(t, n, &p, `{"user":{"name":"Root"},"event":{"action":"ssh_login"}}`)
	for _, src := range []string{
		`lowr(user.name) == "root"`,
		`Lower(user.name) == "root"`,
		`user.name.lower() == "root"`,
	} {
		yaml := "rules:\n  - name: root-login\n    priority: P1\n    expr: '" + src + "'\n"
		set, err := Load(fstest.MapFS{"r/10-a.yaml": {Data: []byte(yaml)}}, "r", pipeline.P3)
		if err != nil {
			if !strings.Contains(err.Error(), "10-a.yaml:4") {
				t.Errorf("%s: refused, but without file and line: %v", src, err)
			}
			continue
		}
		got := set.Eval(&env{n: n, fields: set.Fields})
		t.Errorf("rule %q loaded without error (%d VM rules); it can never match: user.name \"Root\" -> %s (%s), the intended lower(user.name) == \"root\" is P1",
			src, set.VMRules(), set.RuleName(got), set.Priority(got))
	}
}
