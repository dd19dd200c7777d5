package rules

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// env evaluates rules against one normalized event.
type env struct {
	n      *normalize.Normalizer
	fields []string
}

func (e *env) Field(id int) *normalize.Value {
	v := e.n.Lookup(e.fields[id])
	return &v
}

func buildEvent(t testing.TB, n *normalize.Normalizer, p *fastjson.Parser, js string) {
	t.Helper()
	v, err := p.Parse(js)
	if err != nil {
		t.Fatal(err)
	}
	m := &pipeline.Meta{Input: "t", IngestTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	if err := n.Build(v, nil, m, nil); err != nil {
		t.Fatal(err)
	}
}

// TestNativeMatchesVM checks that the native matcher and expr's VM agree on
// every expression of the supported subset over a set of events.
func TestNativeMatchesVM(t *testing.T) {
	exprs := []string{
		`a == "x"`, `a != "x"`, `n == 5`, `n == 5.0`, `n != 5`, `n > 4`, `n >= 5`, `n < 5`, `n <= 4.5`,
		`5 < n`, `"x" == a`, `b`, `not b`, `!b`, `b == true`, `b == false`, `a == nil`, `a != nil`,
		`missing == nil`, `missing != nil`, `o.k == "v"`, `o?.k == "v"`, `o.missing == nil`, `x.y.z == 1`,
		`a in ["x", "y"]`, `a not in ["x", "y"]`, `n in [1, 5]`, `a startsWith "x"`, `a endsWith "z"`,
		`a contains "y"`, `a matches "^x.*z$"`, `a == "x" and n == 5`, `a == "q" or n == 5`,
		`(a == "q" or b) and not (n > 10)`, `a > "w"`, `a <= "x"`, `n == -1`, `m == 1.5`,
		`event.dataset == "t.set"`, `$env["dash-key"] == "d"`, `true`, `false`,
	}
	events := []string{
		`{"a":"x","n":5,"b":true,"o":{"k":"v"},"event":{"dataset":"t.set"},"dash-key":"d"}`,
		`{"a":"xyz","n":4,"b":false,"m":1.5}`,
		`{"a":"y","n":-1,"o":{"k":"w"}}`,
		`{"a":null,"n":"5","b":"true","o":"scalar"}`,
		`{"x":{"y":{"z":1}},"n":10.5,"a":"q"}`,
		`{}`,
	}
	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	for _, src := range exprs {
		ft := &fieldTable{ids: map[string]int{}}
		nat, err := compileRule(src, ft)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if !nat.Native() {
			t.Errorf("%s: expected native lowering", src)
			continue
		}
		vmft := &fieldTable{ids: map[string]int{}}
		vmr, err := compileRuleMode(src, vmft, true)
		if err != nil {
			t.Fatalf("%s (vm): %v", src, err)
		}
		for _, ev := range events {
			buildEvent(t, n, &p, ev)
			got := nat.native(&env{n: n, fields: ft.paths})
			vs := &Set{Fields: vmft.paths}
			want, vmErr := vmr.runVM(vs, &env{n: n, fields: vmft.paths})
			if vmErr != nil {
				// expr raises a type error (a non-boolean used as a condition,
				// an ordering comparison on a mistyped field) where the native
				// matcher takes the operand as false; documented in doc.go.
				continue
			}
			if got != want {
				t.Errorf("%s on %s: native %v, VM %v", src, ev, got, want)
			}
		}
	}
}

func TestVMFallback(t *testing.T) {
	ft := &fieldTable{ids: map[string]int{}}
	r, err := compileRule(`len(tags) > 1 and lower(name) == "bob" and any(tags, # == "b")`, ft)
	if err != nil {
		t.Fatal(err)
	}
	if r.Native() {
		t.Fatal("expected a VM rule")
	}
	c, _ := normalize.Compile(normalize.DefaultConfig())
	n := c.New()
	var p fastjson.Parser
	s := &Set{Fields: ft.paths, Rules: []Rule{r}}
	buildEvent(t, n, &p, `{"tags":["a","b"],"name":"BOB"}`)
	if s.Eval(&env{n: n, fields: ft.paths}) != 0 {
		t.Error("VM rule did not match")
	}
	buildEvent(t, n, &p, `{"tags":["a"],"name":"BOB"}`)
	if s.Eval(&env{n: n, fields: ft.paths}) != -1 {
		t.Error("VM rule matched")
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	fsys := fstest.MapFS{
		"10-a.yaml":      {Data: []byte("rules:\n  - name: ok-rule\n    priority: P1\n    expr: a == 1\n  - name: broken\n    priority: P2\n    expr: a == == 1\n")},
		"20-b.yaml":      {Data: []byte("rules:\n  - name: ok-rule\n    priority: P9\n    expr: 'true'\n")},
		"30-c.yaml":      {Data: []byte("rules:\n  - name: x\n    priority: P1\n    exrp: a\n")},
		"40-d.yaml":      {Data: []byte("rules:\n  - name: re\n    priority: P1\n    expr: a matches \"(\"\n")},
		"10-a_test.yaml": {Data: []byte("not: [valid")},
	}
	_, err := Load(fsys, ".", pipeline.P3)
	if err == nil {
		t.Fatal("expected errors")
	}
	msg := err.Error()
	for _, want := range []string{
		"10-a.yaml:7: rule \"broken\": expr does not compile",
		"20-b.yaml:2: rule \"ok-rule\" is already defined at 10-a.yaml:2",
		"30-c.yaml:4: unknown key \"exrp\"",
		"40-d.yaml:4: rule \"re\": expr does not compile: error parsing regexp",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
}

func TestLoadOrderAndEval(t *testing.T) {
	fsys := fstest.MapFS{
		"b.yaml": {Data: []byte("rules:\n  - name: second\n    priority: P2\n    expr: a == 1\n")},
		"a.yaml": {Data: []byte("rules:\n  - name: first\n    priority: P1\n    expr: a == 1 and b == 2\n  - name: catch\n    priority: P3\n    expr: a == 1\n")},
	}
	s, err := Load(fsys, ".", pipeline.P2)
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{s.Rules[0].Name, s.Rules[1].Name, s.Rules[2].Name}; strings.Join(got, ",") != "first,catch,second" {
		t.Fatalf("order %v", got)
	}
	c, _ := normalize.Compile(normalize.DefaultConfig())
	n := c.New()
	var p fastjson.Parser
	for js, want := range map[string]string{`{"a":1,"b":2}`: "first", `{"a":1}`: "catch", `{"a":2}`: "default"} {
		buildEvent(t, n, &p, js)
		idx := s.Eval(&env{n: n, fields: s.Fields})
		if s.RuleName(idx) != want {
			t.Errorf("%s: got %s want %s", js, s.RuleName(idx), want)
		}
	}
	if s.Priority(-1) != pipeline.P2 {
		t.Error("default priority")
	}
}

func TestParseTests(t *testing.T) {
	cases, err := ParseTests("x_test.yaml", []byte(`tests:
  - name: mapping keeps key order and types
    sourcetype: st
    event: {b: 1, a: "two", c: [true, null, 1.5], d: {e: f}}
    expect: {priority: P1, rule: r, destinations: [siem, archive]}
  - name: string event
    event: '{"z":1}'
    expect: {priority: P2}
  - name: text
    event: plain text line
    expect: {rule: default}
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(cases[0].JSON); got != `{"b":1,"a":"two","c":[true,null,1.5],"d":{"e":"f"}}` {
		t.Errorf("json %s", got)
	}
	if cases[1].Text || string(cases[1].JSON) != `{"z":1}` {
		t.Errorf("case 1 %+v", cases[1])
	}
	if !cases[2].Text {
		t.Errorf("case 2 should be text")
	}
	if _, err := ParseTests("y_test.yaml", []byte("tests:\n  - name: n\n    event: {a: 1}\n    expect: {}\n")); err == nil {
		t.Error("expected an error for an empty expect")
	}
}

func TestFieldsNamedLikeBuiltins(t *testing.T) {
	ft := &fieldTable{ids: map[string]int{}}
	for _, src := range []string{`type == "TRAFFIC"`, `date startsWith "2026" and len(msg) > 0`, `count > 3`, `duration >= 1.5`} {
		if _, err := compileRule(src, ft); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	s := &Set{}
	r, err := compileRule(`type == "TRAFFIC"`, &fieldTable{ids: map[string]int{}})
	if err != nil || !r.Native() {
		t.Fatalf("%v native=%v", err, r.Native())
	}
	_ = s
}
