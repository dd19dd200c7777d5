package rules

import (
	"testing"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/pipeline"
)

// TestStarterRulesAllIndexed: every starter rule has a guard the index
// understands, so none is tried for every event (the index's point: a SOC's
// rules in the starter rules' shape cost little per rule). A rule that
// loses its guard (a new shape the index does not read) fails here.
func TestStarterRulesAllIndexed(t *testing.T) {
	set, err := Load(logrouter.StarterRules, "rules", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	if set.index == nil {
		t.Fatal("the starter rules are not indexed")
	}
	for i, r := range set.Rules {
		if set.index.always[i/64]&(1<<(i%64)) != 0 {
			t.Errorf("starter rule %s is tried for every event (no guard the index reads): %s", r.Name, r.Expr)
		}
	}
	t.Logf("%d starter rules, all indexed, on %d fields", len(set.Rules), len(set.index.fields))
}
