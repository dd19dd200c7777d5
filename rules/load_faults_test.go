package rules

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/logrouter/logrouter/pipeline"
)

// TestRuleErrorLineAfterEmptyItem: ParseFile gives each rule the line
// of the i-th item of the YAML list (ruleNodes), but yaml.v3 drops a null
// item ("-" with nothing after it, e.g. a rule whose lines were commented
// out) from the decoded []RuleSpec. Every rule after it is then located at
// the item before it: here the expression error of rule "b" (line 8) is
// reported at line 5, the empty "-", and the empty item itself is silently
// ignored. The guide wants errors at the right file and line; ParseFile
// should refuse an empty item with its line, or keep the lines in step
// with the rules decoded.
func TestRuleErrorLineAfterEmptyItem(t *testing.T) {
	src := "rules:\n" +
		"  - name: a\n" +
		"    priority: P1\n" +
		"    expr: x == 1\n" +
		"  -\n" +
		"  - name: b\n" +
		"    priority: P2\n" +
		"    expr: 'x =='\n"
	_, err := Load(fstest.MapFS{"r/10-a.yaml": {Data: []byte(src)}}, "r", pipeline.P3)
	if err == nil {
		t.Fatal("a rule whose expression does not compile was accepted")
	}
	// Fixed either way: the empty item refused at line 5, or rule b's
	// error at line 8.
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.Contains(l, `rule "b"`) && !strings.Contains(l, "10-a.yaml:8:") {
			t.Errorf("rule b's expr is on line 8; the error names another line: %v", err)
		}
	}
}

// TestRuleNamedDefaultAccepted: "default" is what the router calls
// the outcome of no rule matching (Set.RuleName(-1)): `router explain`
// prints rule=default, `rules test` compares expect.rule with it, and the
// engine counts unmatched events under logrouter_rule_matches_total
// {rule="default"}. A rule may nevertheless be named "default" (nameRE
// allows it): its matches and the unmatched events are then counted in
// one series, explain shows the same name for both, and a rule test
// expecting rule: default passes whether the rule matched or nothing did.
// The name should be reserved, as destination names reserve "input" and
// "seal.key": Load should refuse it with file and line.
func TestRuleNamedDefaultAccepted(t *testing.T) {
	src := "rules:\n  - name: default\n    priority: P1\n    expr: event.dataset == \"edr\"\n"
	set, err := Load(fstest.MapFS{"r/10-a.yaml": {Data: []byte(src)}}, "r", pipeline.P3)
	if err != nil {
		if !strings.Contains(err.Error(), "10-a.yaml:") {
			t.Errorf("refused without file and line: %v", err)
		}
		return
	}
	if set.RuleName(0) == set.RuleName(-1) {
		t.Errorf("a rule named %q is accepted: its matches cannot be told from events no rule matched", set.RuleName(0))
	}
}
