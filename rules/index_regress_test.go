package rules

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

func loadExprs(t *testing.T, exprs []string) *Set {
	t.Helper()
	var b strings.Builder
	b.WriteString("rules:\n")
	for i, e := range exprs {
		fmt.Fprintf(&b, "  - name: r%04d\n    priority: P%d\n    expr: '%s'\n", i, 1+i%3, e)
	}
	set, err := Load(fstest.MapFS{"r/a.yaml": {Data: []byte(b.String())}}, "r", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// cachedEnv looks every field up once per event, like route.Worker.
type cachedEnv struct {
	n     *normalize.Normalizer
	paths []normalize.Path
	vals  []normalize.Value
}

func newCachedEnv(n *normalize.Normalizer, fields []string) *cachedEnv {
	e := &cachedEnv{n: n, vals: make([]normalize.Value, len(fields))}
	for _, f := range fields {
		e.paths = append(e.paths, normalize.CompilePath(f))
	}
	return e
}

func (e *cachedEnv) load() {
	for i := range e.paths {
		e.vals[i] = e.n.LookupPath(&e.paths[i])
	}
}

func (e *cachedEnv) Field(id int) *normalize.Value { return &e.vals[id] }

// TestIndexInListWithEmptyString: the native `in` (lower.go) lets a
// missing or null field match a list of strings holding "", so such a list
// is no guard (it once was a value atom, and ruleIndex.eval skips missing
// and null fields: the rule was never a candidate for such events).
func TestIndexInListWithEmptyString(t *testing.T) {
	var exprs []string
	for i := 0; i < minIndexed; i++ {
		exprs = append(exprs, fmt.Sprintf(`event.dataset == "d%d"`, i))
	}
	exprs = append(exprs, `a in ["", "-"]`)
	set := loadExprs(t, exprs)
	if set.index == nil {
		t.Fatal("not indexed")
	}
	n := testNormalizer(t)
	var p fastjson.Parser
	for _, js := range []string{`{}`, `{"a":null}`, `{"a":""}`, `{"a":"-"}`} {
		buildEvent(t, n, &p, js)
		e := &env{n: n, fields: set.Fields}
		if got, want := set.Eval(e), set.evalLinear(e); got != want {
			t.Errorf("event %s: indexed Eval = %d, linear = %d", js, got, want)
		}
	}
}

// TestIndexMatchesLinearRandomShapes: many operator shapes, constant-first
// comparisons, arrays, numbers, bools, > 32 fields and > 128 rules, VM rules.
func TestIndexMatchesLinearRandomShapes(t *testing.T) {
	n := testNormalizer(t)
	var p fastjson.Parser
	for seed := uint64(1); seed <= 8; seed++ {
		rng := rand.New(rand.NewPCG(seed, 99))
		nf := 3 + rng.IntN(45)
		var fields []string
		for i := 0; i < nf; i++ {
			fields = append(fields, fmt.Sprintf("f%d", i))
		}
		fields = append(fields, "type", "o.k", `count`)
		vals := []string{"v0", "v1", "v2"}
		pickf := func() string {
			f := fields[rng.IntN(len(fields))]
			switch rng.IntN(6) {
			case 0:
				return `$env["` + f + `"]`
			}
			return f
		}
		pickv := func() string { return vals[rng.IntN(len(vals))] }
		var gen func(d int) string
		gen = func(d int) string {
			k := rng.IntN(10)
			if d > 3 || k < 5 {
				f, v := pickf(), pickv()
				switch rng.IntN(22) {
				case 0:
					return fmt.Sprintf(`%s == "%s"`, f, v)
				case 1:
					return fmt.Sprintf(`"%s" == %s`, v, f)
				case 2:
					return fmt.Sprintf(`%s in ["%s", "%s"]`, f, v, pickv())
				case 3:
					return fmt.Sprintf(`%s in ["%s", nil]`, f, v)
				case 4:
					return fmt.Sprintf(`%s in ["%s", 1, true]`, f, v)
				case 5:
					return fmt.Sprintf(`%s not in ["%s"]`, f, v)
				case 6:
					return fmt.Sprintf(`%s != "%s"`, f, v)
				case 7:
					return fmt.Sprintf(`%s != 1`, f)
				case 8:
					return fmt.Sprintf(`%s != true`, f)
				case 9:
					return fmt.Sprintf(`%s == nil`, f)
				case 10:
					return fmt.Sprintf(`nil != %s`, f)
				case 11:
					return fmt.Sprintf(`%s == 1`, f)
				case 12:
					return fmt.Sprintf(`1 >= %s`, f)
				case 13:
					return fmt.Sprintf(`"v1" < %s`, f)
				case 14:
					return fmt.Sprintf(`%s matches "^$|x*"`, f)
				case 15:
					return fmt.Sprintf(`%s contains ""`, f)
				case 16:
					return fmt.Sprintf(`%s == false`, f)
				case 17:
					return fmt.Sprintf(`%s`, f)
				case 18:
					return fmt.Sprintf(`len(%s) == 1`, f) // VM
				case 19:
					return fmt.Sprintf(`%s endsWith "1"`, f)
				case 20:
					return fmt.Sprintf(`%s in ["%s"] and %s == "%s"`, f, v, f, pickv())
				default:
					return fmt.Sprintf(`-1 < %s`, f)
				}
			}
			switch {
			case k < 7:
				return "(" + gen(d+1) + " and " + gen(d+1) + ")"
			case k < 9:
				return "(" + gen(d+1) + " or " + gen(d+1) + ")"
			default:
				return "not (" + gen(d+1) + ")"
			}
		}
		var exprs []string
		for i := 0; i < 140+rng.IntN(100); i++ {
			exprs = append(exprs, gen(0))
		}
		set := loadExprs(t, exprs)
		if set.index == nil {
			t.Logf("seed %d: not indexed", seed)
			continue
		}
		nAlways := 0
		for _, w := range set.index.always {
			nAlways += bits.OnesCount64(w)
		}
		t.Logf("seed %d: %d rules, %d always, %d indexed fields", seed, len(set.Rules), nAlways, len(set.index.fields))
		for i := 0; i < 4000; i++ {
			var parts []string
			for _, f := range fields {
				if f == "o.k" {
					f = "o"
				}
				var v string
				switch rng.IntN(12) {
				case 0, 1, 2:
					continue
				case 3:
					v = "null"
				case 4:
					v = "1"
				case 5:
					v = "true"
				case 6:
					v = "false"
				case 7:
					v = fmt.Sprintf(`[%q, 1]`, pickv())
				case 8:
					v = `{"k":"v1"}`
				case 9:
					v = `""`
				default:
					v = fmt.Sprintf("%q", pickv())
				}
				parts = append(parts, fmt.Sprintf("%q:%s", f, v))
			}
			js := "{" + strings.Join(parts, ",") + "}"
			buildEvent(t, n, &p, js)
			e := &env{n: n, fields: set.Fields}
			if got, want := set.Eval(e), set.evalLinear(e); got != want {
				t.Fatalf("seed %d, event %s: indexed Eval = %d (%s), linear = %d (%s)", seed, js, got, exprOf(set, got), want, exprOf(set, want))
			}
		}
	}
}

func exprOf(s *Set, i int) string {
	if i < 0 {
		return "default"
	}
	return s.Rules[i].Expr
}

// TestIndexEvalAllocs: the index allocates nothing per event.
func TestIndexEvalAllocs(t *testing.T) {
	var exprs []string
	for i := 0; i < 200; i++ {
		exprs = append(exprs, fmt.Sprintf(`(event.dataset == "d%d" and n > 3) or f%d != nil`, i, i%40))
	}
	set := loadExprs(t, exprs)
	if set.index == nil {
		t.Fatal("not indexed")
	}
	n := testNormalizer(t)
	var p fastjson.Parser
	buildEvent(t, n, &p, `{"event":{"dataset":"d150"},"n":1,"f39":"x"}`)
	e := newCachedEnv(n, set.Fields)
	e.load()
	if got, want := set.Eval(e), set.evalLinear(e); got != want {
		t.Fatalf("Eval = %d, linear = %d", got, want)
	}
	if a := testing.AllocsPerRun(100, func() { set.Eval(e) }); a != 0 {
		t.Errorf("Eval allocates %v per event", a)
	}
}
