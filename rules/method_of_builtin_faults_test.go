package rules

import (
	"testing"
	"testing/fstest"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// A method of a builtin's result (expr-lang's language definition
// documents date("2023-08-14").Year() and now().Year()) is a valid call:
// such rules compiled and matched before checkCalls; they are now refused
// at load (the reload refuses the whole rule set).
func TestMethodOfBuiltinResultRefused(t *testing.T) {
	n := testNormalizer(t)
	var p fastjson.Parser
	buildEvent(t, n, &p, `{"user":{"name":"root"},"login":{"when":"2024-01-01T03:00:00Z"}}`)
	for _, src := range []string{
		`date("2023-08-14").Year() == 2023 and user.name == "root"`,
		`now().Year() >= 2024 and user.name == "root"`,
	} {
		yaml := "rules:\n  - name: off-hours\n    priority: P1\n    expr: '" + src + "'\n"
		set, err := Load(fstest.MapFS{"r/10-a.yaml": {Data: []byte(yaml)}}, "r", pipeline.P3)
		if err != nil {
			t.Errorf("%s: refused at load: %v", src, err)
			continue
		}
		if got := set.Eval(&env{n: n, fields: set.Fields}); set.Priority(got) != pipeline.P1 {
			t.Errorf("%s: got %s, want P1", src, set.Priority(got))
		}
	}
}
