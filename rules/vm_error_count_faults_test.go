package rules

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestVMErrorsAreCounted:
//
// Sequence: a rule outside the native subset (any function call runs on
// expr's VM) fails at run time for some events: lower() of a missing
// process.name, here in
// `lower(process.name) == "mimikatz.exe" or event.action == "DetectionSummaryEvent"`.
//
// What happens: the VM error makes the whole rule false (documented), so
// a Falcon detection without process.name falls to the default P3, and
// the error is dropped: Set.match and evalLinear discard runVM's error,
// route.Worker and the engine count nothing. Set.Eval's comment says
// "Errors of VM rules count as no match (the caller can count them with
// EvalErr)", but no EvalErr exists: neither `router explain`, a metric nor
// a log line shows that a rule is erroring on live traffic.
//
// What should happen: what Eval's comment promises, a way to count (and a
// metric such as logrouter_rule_errors_total{rule}) for the events a rule
// failed on. Fix: rules/rules.go (Set.Eval / Set.match: report the error),
// then pipeline/route.Worker.classify and the engine's metrics.
func TestVMErrorsAreCounted(t *testing.T) {
	set := loadExprs(t, []string{
		`lower(process.name) == "mimikatz.exe" or event.action == "DetectionSummaryEvent"`,
	})
	var failed []int
	set.OnError = func(i int, err error) { failed = append(failed, i) }
	n := testNormalizer(t)
	var p fastjson.Parser
	buildEvent(t, n, &p, `{"event":{"action":"DetectionSummaryEvent"},"device":{"hostname":"ws-042"}}`)
	got := set.Eval(&env{n: n, fields: set.Fields})
	if _, vmErr := set.Rules[0].runVM(set, &env{n: n, fields: set.Fields}); vmErr == nil {
		t.Skip("the VM no longer errors here")
	}
	if len(failed) != 1 || failed[0] != 0 {
		t.Errorf("rule %q failed on the VM and the event went to %s (%s); OnError got %v, want [0]",
			set.Rules[0].Expr, set.RuleName(got), set.Priority(got), failed)
	}
}
