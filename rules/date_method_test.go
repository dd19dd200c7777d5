package rules

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestMethodOfBuiltinOnAField: a builtin given a field, then a method of
// its result, as an off-hours rule writes it (date(login.when).Hour()),
// reads the field: before, the field was not among the rule's references
// and the VM read nil, so the rule never matched.
func TestMethodOfBuiltinOnAField(t *testing.T) {
	set := loadExprs(t, []string{
		`date(login.when).Hour() < 6 and user.name == "root"`,
		`duration(login.took).Seconds() > 30`,
	})
	var failed []error
	set.OnError = func(i int, err error) { failed = append(failed, err) }
	n := testNormalizer(t)
	var p fastjson.Parser
	for _, c := range []struct {
		js   string
		want int
	}{
		{`{"login":{"when":"2026-03-01T03:15:00Z"},"user":{"name":"root"}}`, 0},
		{`{"login":{"when":"2026-03-01T13:15:00Z"},"user":{"name":"root"}}`, -1},
		{`{"login":{"took":"45s"}}`, 1},
	} {
		buildEvent(t, n, &p, c.js)
		if got := set.Eval(&env{n: n, fields: set.Fields}); got != c.want {
			t.Errorf("%s: rule %d, want %d (errors %v)", c.js, got, c.want, failed)
		}
	}
}
