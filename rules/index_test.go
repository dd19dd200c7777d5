package rules

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// indexTestRules mixes every guard shape the index understands with rules
// it must leave unindexed (or with another field, VM rules, numbers).
func indexTestRules() string {
	var b strings.Builder
	b.WriteString("rules:\n")
	add := func(expr string) {
		fmt.Fprintf(&b, "  - name: r%03d\n    priority: P%d\n    expr: '%s'\n", strings.Count(b.String(), "- name:"), 1+strings.Count(b.String(), "- name:")%3, expr)
	}
	for d := 0; d < 10; d++ {
		add(fmt.Sprintf(`event.dataset == "ds%d" and user.name == "u%d"`, d, d))
	}
	add(`event.dataset in ["ds1", "ds2"] and n > 3`)
	add(`"ds3" == event.dataset and a == "x"`)
	add(`(event.dataset == "ds4" and a == "y") or (event.dataset == "ds5" and b)`)
	add(`event.dataset == "ds6" and event.dataset in ["ds6", "ds7"] and n == 2`)
	add(`event.dataset == "ds7" and event.dataset == "ds8"`)
	add(`a == "z" and n == 1`)
	add(`event.dataset == "ds9" or a == "w"`)
	add(`event.dataset == "ds2" and len(a) == 1 and n == 6`) // VM: never indexed
	add(`event.dataset == 5`)
	add(`not (event.dataset == "ds0") and n == 5 and b`)
	add(`event.dataset in ["ds0", "ds3"] and user.name == nil`)
	// The starter rules' shape: a source, or a field only its vendor
	// emits; and fallbacks that have no guard.
	add(`(event.dataset == "ds5" and a != "x") or user.name in ["u3", "u4"]`)
	add(`(event.dataset == "ds6" and n > 2) or (a == "long" and b)`)
	add(`event.dataset == "ds1" or n == 4`)
	add(`(user.name == "u9" or a == "w") and (event.dataset == "other" or b)`)
	return b.String()
}

// TestIndexMatchesLinear: the indexed Eval returns what walking every rule
// returns, on random events over the guard values and around them.
func TestIndexMatchesLinear(t *testing.T) {
	set, err := Load(fstest.MapFS{"r/a.yaml": {Data: []byte(indexTestRules())}}, "r", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	if f, n := set.IndexedField(); f != "event.dataset" || n != 10 {
		t.Fatalf("IndexedField = %q, %d values; want event.dataset, 10", f, n)
	}
	if fs := indexedFields(set); !slices.Contains(fs, "user.name") || !slices.Contains(fs, "a") {
		t.Fatalf("indexed fields %v; want user.name and a among them (disjunctive guards)", fs)
	}
	n := testNormalizer(t)
	var p fastjson.Parser
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func(opts ...string) string { return opts[rng.IntN(len(opts))] }
	matched := map[int]int{}
	for i := 0; i < 20000; i++ {
		var parts []string
		if ds := pick("ds0", "ds1", "ds2", "ds3", "ds4", "ds5", "ds6", "ds7", "ds8", "ds9", "other", "", "-", "5"); ds == "-" {
		} else if ds == "5" {
			parts = append(parts, `"event":{"dataset":5}`)
		} else {
			parts = append(parts, `"event":{"dataset":"`+ds+`"}`)
		}
		if u := pick("u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9", "-"); u != "-" {
			parts = append(parts, `"user":{"name":"`+u+`"}`)
		}
		parts = append(parts, fmt.Sprintf(`"n":%d`, rng.IntN(7)), `"a":"`+pick("x", "y", "z", "w", "", "long")+`"`, `"b":`+pick("true", "false"))
		buildEvent(t, n, &p, "{"+strings.Join(parts, ",")+"}")
		e := &env{n: n, fields: set.Fields}
		got, want := set.Eval(e), set.evalLinear(e)
		if got != want {
			t.Fatalf("event %d {%s}: indexed Eval = %d, linear = %d", i, strings.Join(parts, ","), got, want)
		}
		matched[want]++
	}
	// The random events must exercise most rules, or the test proves little.
	if len(matched) < len(set.Rules)-3 {
		t.Errorf("only %d of %d rules (and default) ever matched: %v", len(matched), len(set.Rules), matched)
	}
}

func TestIndexNeedsEnoughGuards(t *testing.T) {
	src := "rules:\n"
	for i := 0; i < minIndexed-1; i++ {
		src += fmt.Sprintf("  - name: r%d\n    priority: P1\n    expr: 'event.dataset == \"d%d\"'\n", i, i)
	}
	set, err := Load(fstest.MapFS{"r/a.yaml": {Data: []byte(src)}}, "r", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := set.IndexedField(); f != "" {
		t.Fatalf("indexed on %q with %d guarded rules; want no index below %d", f, minIndexed-1, minIndexed)
	}
}

func TestGuards(t *testing.T) {
	for _, tc := range []struct{ expr, want string }{
		{`a == "x"`, `a:[x]`},
		{`"x" == a`, `a:[x]`},
		{`a in ["x", "y"]`, `a:[x y]`},
		{`a in ["x", 1]`, ``},
		{`a == 1`, `a:present`},
		{`a != "x"`, ``},
		{`a != nil`, `a:present`},
		{`nil != a`, `a:present`},
		{`a == nil`, ``},
		{`a startsWith "x"`, `a:^[x]`},
		{`a startsWith ""`, `a:present`},
		{`"abc" startsWith a`, `a:present`},
		{`a endsWith "x"`, `a:$[x]`},
		{`a endsWith ""`, `a:present`},
		{`"x" endsWith a`, `a:present`},
		{`a endsWith "x" or a startsWith "y" or a endsWith "z"`, `a:^[y]$[x z]`},
		{`a matches "^CISE_(Passed|Failed)"`, `a:^[CISE_]`},
		{`a matches "^a[.]b"`, `a:^[a.b]`},
		{`a matches "^a|b"`, `a:present`},
		{`a matches "(?i)^ab"`, `a:present`},
		{`a matches "(?m)^ab"`, `a:present`},
		{`a matches "^a?b"`, `a:present`},
		{`a matches "x"`, `a:present`},
		{`a startsWith "x" or a == "y" or a startsWith "z"`, `a:[y]^[x z]`},
		{`a startsWith "x" or a != nil`, `a:present`},
		{`a startsWith "x" or b matches "^y"`, `a:^[x]|b:^[y]`},
		{`1 < a`, `a:present`},
		{`a == true`, `a:present`},
		{`a == "x" or a != nil`, `a:present`},
		{`a == "x" or (b != nil and c contains "y")`, `a:[x]|b:present a:[x]|c:present`},
		{`not (a == "x")`, ``},
		{`a == "x" and b == "y"`, `a:[x] b:[y]`},
		{`a == "x" or a == "y"`, `a:[x y]`},
		{`a == "x" or b == "y"`, `a:[x]|b:[y]`},
		{`a == "x" or b != "y"`, ``},
		{`a == "x" or (b == "y" and c)`, `a:[x]|b:[y]`},
		{`(a == "x" and b == "1") or (a == "y" and c)`, `a:[x y] b:[1]|a:[y]`},
		{`(a == "x" and b not in ["1"]) or c in ["p", "q"]`, `a:[x]|c:[p q]`},
		{`a == "x" or b == "y" or a == "z"`, `a:[x z]|b:[y]`},
	} {
		tree, err := parseForTest(tc.expr)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, g := range guards(tree) {
			var atoms []string
			for _, a := range g {
				if a.present {
					atoms = append(atoms, a.path+":present")
					continue
				}
				atom := a.path + ":"
				if len(a.values) > 0 || len(a.prefixes)+len(a.suffixes) == 0 {
					atom += fmt.Sprint(a.values)
				}
				if len(a.prefixes) > 0 {
					atom += fmt.Sprint("^", a.prefixes)
				}
				if len(a.suffixes) > 0 {
					atom += fmt.Sprint("$", a.suffixes)
				}
				atoms = append(atoms, atom)
			}
			got = append(got, strings.Join(atoms, "|"))
		}
		if s := strings.Join(got, " "); s != tc.want {
			t.Errorf("guards(%s) = %q, want %q", tc.expr, s, tc.want)
		}
	}
}

func parseForTest(src string) (ast.Node, error) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, err
	}
	return tree.Node, nil
}

// TestIndexMatchesLinearRandomRules: random rule sets (and/or/not over
// comparisons on a few fields with small domains, more than 64 rules so
// that the bitsets span words) classify random events exactly as the linear
// walk does.
func TestIndexMatchesLinearRandomRules(t *testing.T) {
	n := testNormalizer(t)
	var p fastjson.Parser
	fields := []string{"event.dataset", "event.action", "user.name", "a"}
	vals := []string{"v0", "v1", "v2", "v3"}
	for seed := uint64(1); seed <= 6; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
		var cmp func(depth int) string
		cmp = func(depth int) string {
			switch k := rng.IntN(8); {
			case depth > 2 || k < 3:
				f, v := pick(fields), pick(vals)
				switch rng.IntN(8) {
				case 0, 1:
					return fmt.Sprintf(`%s == "%s"`, f, v)
				case 2:
					return fmt.Sprintf(`%s in ["%s", "%s"]`, f, v, pick(vals))
				case 3:
					return fmt.Sprintf(`%s != "%s"`, f, v)
				case 4:
					return fmt.Sprintf(`%s != nil`, f)
				case 5:
					return fmt.Sprintf(`%s == nil`, f)
				case 6:
					return fmt.Sprintf(`%s startsWith "v"`, f)
				default:
					return fmt.Sprintf(`n > %d`, rng.IntN(4))
				}
			case k < 5:
				return "(" + cmp(depth+1) + " and " + cmp(depth+1) + ")"
			case k < 7:
				return "(" + cmp(depth+1) + " or " + cmp(depth+1) + ")"
			default:
				return "not (" + cmp(depth+1) + ")"
			}
		}
		var b strings.Builder
		b.WriteString("rules:\n")
		for i := 0; i < 150; i++ {
			fmt.Fprintf(&b, "  - name: r%03d\n    priority: P%d\n    expr: '%s'\n", i, 1+i%3, cmp(0))
		}
		set, err := Load(fstest.MapFS{"r/a.yaml": {Data: []byte(b.String())}}, "r", pipeline.P3)
		if err != nil {
			t.Fatal(err)
		}
		if set.index == nil {
			t.Fatalf("seed %d: not indexed", seed)
		}
		for i := 0; i < 3000; i++ {
			var parts []string
			for _, f := range fields {
				switch v := pick(append([]string{"-", "x", "null", "7"}, vals...)); v {
				case "-":
				case "null", "7":
					parts = append(parts, fmt.Sprintf(`%q:%s`, f, v))
				default:
					parts = append(parts, fmt.Sprintf(`%q:%q`, f, v))
				}
			}
			parts = append(parts, fmt.Sprintf(`"n":%d`, rng.IntN(5)))
			buildEvent(t, n, &p, "{"+strings.Join(parts, ",")+"}")
			e := &env{n: n, fields: set.Fields}
			if got, want := set.Eval(e), set.evalLinear(e); got != want {
				t.Fatalf("seed %d, event {%s}: indexed Eval = %d, linear = %d", seed, strings.Join(parts, ","), got, want)
			}
		}
	}
}

// indexedFields returns the field paths set's index looks up per event.
func indexedFields(set *Set) []string {
	var out []string
	for _, f := range set.index.fields {
		out = append(out, set.Fields[f.id])
	}
	return out
}

// testNormalizer is a Normalizer with the default configuration.
func testNormalizer(t *testing.T) *normalize.Normalizer {
	t.Helper()
	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c.New()
}
