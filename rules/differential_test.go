package rules

// Differential test: the optimized engine (rule index, native matcher,
// expr's VM on a flat environment) against a naive reference that walks the
// rules in order and evaluates each with expr itself (expr.Compile +
// expr.Run) over a map built from the normalized event.
//
// The reference implements the engine's documented semantics (doc.go,
// rules/README.md), not plain expr's where they deliberately differ:
//
//   - every field path is read as one key of a flat environment
//     ($env["a.b"]), its value looked up in the normalized event (the
//     normalizer's own output, decoded with encoding/json) by refLookup: the
//     longest literal (dotted) key first, a missing parent or a sub-field of
//     a string or array is nil, null is nil;
//   - a rule in the native subset takes every comparison (leaf) that expr
//     would fail with a type error as false, and combines the leaves with
//     and/or/not itself; a rule outside the subset (functions, closures,
//     field-vs-field, let) runs whole on expr, and an error makes it false;
//   - an object-valued field reads as the object as it arrived
//     (normalize.Value.Raw), not as the normalizer rewrote it;
//   - a rule with let variables reads a nested environment (doc.go), so
//     the generator writes its fields plainly (drLetSafe);
//   - the first rule that matches wins; none: the default (-1).
//
// Leaves are tagged native or VM by the generator; that the engine lowers
// exactly the rules the generator calls native is checked too.

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// drChooser is the source of the generators' choices: a seeded PRNG for the
// property test, the fuzzer's bytes for the fuzz target.
type drChooser interface {
	intn(n int) int
}

type drRand struct{ r *rand.Rand }

func (c drRand) intn(n int) int { return c.r.IntN(n) }

// drBytes reads choices from fuzzer bytes; past the end every choice is 0.
type drBytes struct {
	b []byte
	i int
}

func (c *drBytes) intn(n int) int {
	if n <= 1 {
		return 0
	}
	var x int
	if c.i < len(c.b) {
		x = int(c.b[c.i])
		c.i++
	}
	if n > 256 && c.i < len(c.b) {
		x = x<<8 | int(c.b[c.i])
		c.i++
	}
	return x % n
}

func drPick[T any](c drChooser, xs []T) T { return xs[c.intn(len(xs))] }

// drField is a field path and the ways a rule may write it.
type drField struct {
	path  string
	forms []string
}

func drForms(path string) []string {
	segs := strings.Split(path, ".")
	ident := true
	for _, s := range segs {
		for i, r := range s {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
				ident = false
			}
		}
	}
	var forms []string
	if ident {
		forms = append(forms, path)
		if len(segs) > 1 {
			forms = append(forms, strings.Join(segs, "?."))
			b := segs[0]
			for _, s := range segs[1:] {
				b += `["` + s + `"]`
			}
			forms = append(forms, b)
		}
	}
	forms = append(forms, `$env["`+path+`"]`)
	if len(segs) > 1 {
		b := `$env`
		for _, s := range segs {
			b += `["` + s + `"]`
		}
		forms = append(forms, b)
	}
	return forms
}

// drCatalog: the paths rules read. Parents come before their children
// (drEvent relies on it).
var drCatalogPaths = []string{
	"event.dataset", "event.action", "event.severity", "event.code",
	"source.ip", "source.port",
	"user.name", "user.id", "user.roles",
	"a.b", "a.b.c",
	"service", "service.name",
	"tags", "users",
	"id.orig_h",
	"type", "count", "http-status",
	"process.name", "process.args",
	"n",
}

func drCatalog(wide int) []drField {
	var out []drField
	for _, p := range drCatalogPaths {
		out = append(out, drField{path: p, forms: drForms(p)})
	}
	for i := 0; i < wide; i++ {
		p := fmt.Sprintf("f%d", i)
		out = append(out, drField{path: p, forms: drForms(p)})
	}
	return out
}

var (
	drStrings  = []string{"", "a", "ab", "b", "x", "root", "admin", "ADMIN", "1", "5", "10.0.0.1", "10.0.0.2", "ds0", "ds1", "ds2", "unknown", "web", "a.b", "-", "login", "Root"}
	drNumbers  = []string{"0", "1", "3", "5", "5.5", "-1", "10", "1e3", "-0.5"}
	drPatterns = []string{"^a", "b$", "^$", "x|root", "(?i)admin", "^[0-9]+$", "[.]", "^10[.]0[.]0[.]", ".*",
		"^(?i)ad", "^a|b", "(?m)^ro", "^ro(ot|x)", "^a?b", "^\\Qa.b\\E"}
)

// drLeaf is one comparison; {0} and {1} stand for fields.
type drLeaf struct {
	tmpl    string
	negTmpl string // the `F not OP C` spelling of not(leaf), if any
	fields  []drField
	native  bool
}

// drNode is a rule expression: and/or/not over leaves.
type drNode struct {
	op    string // "and", "or", "not", "leaf"
	style int
	kids  []*drNode
	leaf  *drLeaf
	forms []int // per leaf field, the form used by the engine's source
}

type drGen struct {
	c      drChooser
	fields []drField
	vmOK   bool // VM leaves allowed
	wide   int
}

func (g *drGen) field() drField {
	// Favour the common fields so that rules and events meet.
	if g.wide > 0 && g.c.intn(3) == 0 {
		return g.fields[len(drCatalogPaths)+g.c.intn(g.wide)]
	}
	return g.fields[g.c.intn(len(drCatalogPaths))]
}

func (g *drGen) str() string { return strconv.Quote(drPick(g.c, drStrings)) }
func (g *drGen) num() string { return drPick(g.c, drNumbers) }

func (g *drGen) constant() string {
	switch g.c.intn(6) {
	case 0, 1, 2:
		return g.str()
	case 3:
		return g.num()
	case 4:
		return drPick(g.c, []string{"true", "false"})
	default:
		return "nil"
	}
}

func (g *drGen) list() string {
	n := g.c.intn(4)
	var els []string
	mixed := g.c.intn(3) == 0
	for i := 0; i < n; i++ {
		if mixed {
			els = append(els, g.constant())
		} else {
			els = append(els, g.str())
		}
	}
	return "[" + strings.Join(els, ", ") + "]"
}

func (g *drGen) leaf() *drLeaf {
	f := g.field()
	one := []drField{f}
	if g.vmOK && g.c.intn(7) == 0 {
		return g.vmLeaf(f)
	}
	switch k := g.c.intn(20); k {
	case 0, 1, 2:
		return &drLeaf{tmpl: `{0} == ` + g.str(), fields: one, native: true}
	case 3:
		return &drLeaf{tmpl: g.str() + ` == {0}`, fields: one, native: true}
	case 4:
		return &drLeaf{tmpl: `{0} != ` + g.constant(), fields: one, native: true}
	case 5:
		c := g.constant()
		if g.c.intn(2) == 0 {
			return &drLeaf{tmpl: c + ` == {0}`, fields: one, native: true}
		}
		return &drLeaf{tmpl: `{0} == ` + c, fields: one, native: true}
	case 6:
		return &drLeaf{tmpl: drPick(g.c, []string{`{0} == nil`, `{0} != nil`, `nil != {0}`, `nil == {0}`}), fields: one, native: true}
	case 7, 8:
		l := g.list()
		return &drLeaf{tmpl: `{0} in ` + l, negTmpl: `{0} not in ` + l, fields: one, native: true}
	case 9, 10:
		op := drPick(g.c, []string{"startsWith", "endsWith", "contains"})
		s := g.str()
		return &drLeaf{tmpl: `{0} ` + op + ` ` + s, negTmpl: `{0} not ` + op + ` ` + s, fields: one, native: true}
	case 11:
		p := strconv.Quote(drPick(g.c, drPatterns))
		return &drLeaf{tmpl: `{0} matches ` + p, negTmpl: `{0} not matches ` + p, fields: one, native: true}
	case 12, 13:
		op := drPick(g.c, []string{">", ">=", "<", "<="})
		c := g.num()
		if g.c.intn(4) == 0 {
			c = g.str()
		}
		if g.c.intn(3) == 0 {
			return &drLeaf{tmpl: c + ` ` + op + ` {0}`, fields: one, native: true}
		}
		return &drLeaf{tmpl: `{0} ` + op + ` ` + c, fields: one, native: true}
	case 14:
		return &drLeaf{tmpl: `{0}`, fields: one, native: true} // a bare boolean field
	case 15:
		return &drLeaf{tmpl: drPick(g.c, []string{"true", "false"}), native: true}
	default:
		// The index's favourite: a value atom on a shared field.
		f = g.fields[drPick(g.c, []int{0, 0, 0, 1, 6})]
		if g.c.intn(3) == 0 {
			l := `["` + drPick(g.c, drStrings[1:]) + `", "` + drPick(g.c, drStrings[1:]) + `"]`
			return &drLeaf{tmpl: `{0} in ` + l, negTmpl: `{0} not in ` + l, fields: []drField{f}, native: true}
		}
		return &drLeaf{tmpl: `{0} == ` + g.str(), fields: []drField{f}, native: true}
	}
}

func (g *drGen) vmLeaf(f drField) *drLeaf {
	one := []drField{f}
	switch g.c.intn(14) {
	case 0:
		return &drLeaf{tmpl: `len({0}) > ` + drPick(g.c, []string{"0", "1", "2"}), fields: one}
	case 1:
		return &drLeaf{tmpl: `lower({0}) == ` + strconv.Quote(strings.ToLower(drPick(g.c, drStrings))), fields: one}
	case 2:
		return &drLeaf{tmpl: `upper({0}) startsWith "A"`, fields: one}
	case 3:
		// Lowered since any/all/none over a field with a # predicate are
		// (rules/lower.go quantifier).
		return &drLeaf{tmpl: `any({0}, # == ` + g.str() + `)`, fields: one, native: true}
	case 4:
		return &drLeaf{tmpl: `all({0}, # startsWith "a")`, fields: one, native: true}
	case 5:
		return &drLeaf{tmpl: `any({0}, .name == "root")`, fields: one}
	case 6:
		s := g.str()
		return &drLeaf{tmpl: s + ` in {0}`, negTmpl: s + ` not in {0}`, fields: one}
	case 7:
		return &drLeaf{tmpl: `{0} == {1}`, fields: []drField{f, g.field()}}
	case 8:
		return &drLeaf{tmpl: `({0} ?? "none") == "none"`, fields: one}
	case 9:
		return &drLeaf{tmpl: `({0} == ` + g.str() + ` ? true : false)`, fields: one}
	case 10:
		// A string test with the constant first: not lowered, but guarded
		// (the field must be present) on the VM.
		op := drPick(g.c, []string{"startsWith", "endsWith", "contains"})
		return &drLeaf{tmpl: `"abc.root" ` + op + ` {0}`, fields: one}
	case 11:
		return &drLeaf{tmpl: `{0} in ["a", {1}]`, fields: []drField{f, g.field()}}
	case 12:
		// A let variable: the rule keeps the nested environment and is
		// never left out by the index. Plain dotted forms only (doc.go).
		f.forms = f.forms[:1]
		return &drLeaf{tmpl: `(let v = {0}; v == ` + g.str() + ` or v == nil)`, fields: []drField{f}}
	default:
		return &drLeaf{tmpl: `{0} > 3 and len({0}) < 0`, fields: one}
	}
}

func (g *drGen) mkLeaf(l *drLeaf) *drNode {
	n := &drNode{op: "leaf", leaf: l}
	for _, f := range l.fields {
		n.forms = append(n.forms, g.c.intn(len(f.forms)))
	}
	return n
}

func (g *drGen) tree(depth int) *drNode {
	k := g.c.intn(10)
	if depth >= 3 || k < 4 {
		return g.mkLeaf(g.leaf())
	}
	switch {
	case k < 7:
		return &drNode{op: "and", style: g.c.intn(2), kids: []*drNode{g.tree(depth + 1), g.tree(depth + 1)}}
	case k < 9:
		return &drNode{op: "or", style: g.c.intn(2), kids: []*drNode{g.tree(depth + 1), g.tree(depth + 1)}}
	default:
		return &drNode{op: "not", style: g.c.intn(3), kids: []*drNode{g.tree(depth + 1)}}
	}
}

// rule: mostly the shapes the index is built for (a source, and a
// fallback), else anything.
func (g *drGen) rule() *drNode {
	ds := g.ds
	return g.ruleWith(ds)
}

// ds is a value atom on event.dataset.
func (g *drGen) ds() *drNode {
	{
		f := g.fields[0] // event.dataset
		if g.c.intn(4) == 0 {
			l := `["` + drPick(g.c, []string{"ds0", "ds1", "ds2", "ds3"}) + `", "` + drPick(g.c, []string{"ds1", "ds2", "ds3", "unknown"}) + `"]`
			return g.mkLeaf(&drLeaf{tmpl: `{0} in ` + l, negTmpl: `{0} not in ` + l, fields: []drField{f}, native: true})
		}
		return g.mkLeaf(&drLeaf{tmpl: `{0} == "` + drPick(g.c, []string{"ds0", "ds1", "ds2", "ds3", "unknown"}) + `"`, fields: []drField{f}, native: true})
	}
}

func (g *drGen) ruleWith(ds func() *drNode) *drNode {
	if g.wide > 0 && g.c.intn(2) == 0 {
		// Guarded on a field few rules share: past maxIndexFields such
		// fields, the index keeps the most used and the others' rules are
		// tried for every event.
		f := g.fields[len(drCatalogPaths)+g.c.intn(g.wide)]
		atom := g.mkLeaf(&drLeaf{tmpl: `{0} == ` + g.str(), fields: []drField{f}, native: true})
		return &drNode{op: "and", style: g.c.intn(2), kids: []*drNode{atom, g.tree(1)}}
	}
	switch g.c.intn(7) {
	case 0, 1, 6:
		return &drNode{op: "and", style: g.c.intn(2), kids: []*drNode{ds(), g.tree(1)}}
	case 2:
		return &drNode{op: "or", style: g.c.intn(2), kids: []*drNode{
			&drNode{op: "and", kids: []*drNode{ds(), g.tree(2)}},
			&drNode{op: "and", kids: []*drNode{g.mkLeaf(g.leaf()), g.tree(2)}},
		}}
	case 3:
		return &drNode{op: "or", style: g.c.intn(2), kids: []*drNode{ds(), g.mkLeaf(g.leaf())}}
	default:
		return g.tree(0)
	}
}

// render writes n as expr source: the engine's spelling of fields, or
// (ref) every field as $env["path"].
func (n *drNode) render(ref bool) string {
	switch n.op {
	case "and", "or":
		op := n.op
		if n.style == 1 {
			op = map[string]string{"and": "&&", "or": "||"}[op]
		}
		return "(" + n.kids[0].render(ref) + " " + op + " " + n.kids[1].render(ref) + ")"
	case "not":
		k := n.kids[0]
		if n.style == 2 && k.op == "leaf" && k.leaf.negTmpl != "" {
			return k.renderLeaf(k.leaf.negTmpl, ref)
		}
		if n.style == 1 {
			return "!(" + k.render(ref) + ")"
		}
		return "not (" + k.render(ref) + ")"
	}
	return n.renderLeaf(n.leaf.tmpl, ref)
}

func (n *drNode) renderLeaf(tmpl string, ref bool) string {
	s := tmpl
	for i, f := range n.leaf.fields {
		form := f.forms[n.forms[i]]
		if ref {
			form = `$env["` + f.path + `"]`
		}
		s = strings.ReplaceAll(s, "{"+strconv.Itoa(i)+"}", form)
	}
	return s
}

func (n *drNode) native() bool {
	if n.op == "leaf" {
		return n.leaf.native
	}
	for _, k := range n.kids {
		if !k.native() {
			return false
		}
	}
	return true
}

func (n *drNode) paths(into map[string]bool) {
	if n.op == "leaf" {
		for _, f := range n.leaf.fields {
			into[f.path] = true
		}
	}
	for _, k := range n.kids {
		k.paths(into)
	}
}

// drRef is the reference evaluator.
type drRef struct {
	progs map[string]*vm.Program
}

func (r *drRef) run(t testing.TB, src string, env map[string]any) bool {
	p, ok := r.progs[src]
	if !ok {
		var err error
		p, err = expr.Compile(src, expr.AsBool())
		if err != nil {
			t.Fatalf("reference: %s: %v", src, err)
		}
		r.progs[src] = p
	}
	out, err := expr.Run(p, env)
	if err != nil {
		return false // a type error: no match (doc.go)
	}
	b, _ := out.(bool)
	return b
}

// eval is the rule's value under the documented semantics.
func (r *drRef) eval(t testing.TB, n *drNode, native bool, env map[string]any) bool {
	if !native {
		return r.run(t, n.render(true), env)
	}
	switch n.op {
	case "and":
		return r.eval(t, n.kids[0], true, env) && r.eval(t, n.kids[1], true, env)
	case "or":
		return r.eval(t, n.kids[0], true, env) || r.eval(t, n.kids[1], true, env)
	case "not":
		return !r.eval(t, n.kids[0], true, env)
	}
	// A leaf: expr's answer, false on a type error.
	return r.run(t, n.render(true), env)
}

// refLookup reads path in a decoded normalized event as rules/README.md
// says fields are read: the longest literal key first, then members of
// objects; a missing parent, or a parent that is not an object, gives nil.
func refLookup(m map[string]any, path string) (any, bool) {
	if v, ok := m[path]; ok {
		return v, true
	}
	for i := len(path) - 1; i > 0; i-- {
		if path[i] != '.' {
			continue
		}
		if sub, ok := m[path[:i]].(map[string]any); ok {
			if v, ok := refLookup(sub, path[i+1:]); ok {
				return v, true
			}
		}
	}
	return nil, false
}

// drEvent generates a raw event over the catalog's paths.
func drEvent(c drChooser, fields []drField, hints map[string][]any) map[string]any {
	root := map[string]any{}
	value := func(path string) (any, bool) {
		if h := hints[path]; len(h) > 0 && c.intn(3) == 0 {
			return h[c.intn(len(h))], true // a constant some rule compares it with
		}
		switch k := c.intn(24); {
		case k < 7:
			return nil, false
		case k == 7:
			return nil, true
		case k == 8:
			return "", true
		case k < 14:
			return drPick(c, drStrings), true
		case k < 16:
			f, _ := strconv.ParseFloat(drPick(c, drNumbers), 64)
			return f, true
		case k == 16:
			return drPick(c, []string{"3", "5", "10", "5.5"}), true // a number as a string
		case k == 17:
			return c.intn(2) == 0, true
		case k == 18:
			return drPick(c, [][]any{{}, {"a", "root"}, {"admin"}, {1.0, "x"}, {"ab", "abc"}}), true
		case k == 19:
			return drPick(c, [][]any{{map[string]any{"name": "root"}}, {map[string]any{"name": "x"}, "str"}, {map[string]any{"name": "root"}, map[string]any{"name": "bob"}}}), true
		case k == 20:
			return drPick(c, []map[string]any{{}, {"name": "root"}, {"c": "x"}}), true
		default:
			// The field's own flavour, so that rules meet their events.
			switch path {
			case "event.dataset":
				return drPick(c, []string{"ds0", "ds1", "ds2", "ds3"}), true
			case "event.severity", "source.port", "count", "n":
				return float64(c.intn(12)), true
			case "tags", "user.roles", "process.args":
				return drPick(c, [][]any{{"root"}, {"a", "b"}, {"admin", "x"}}), true
			case "users":
				return []any{map[string]any{"name": drPick(c, drStrings)}}, true
			}
			return drPick(c, drStrings), true
		}
	}
	set := func(m map[string]any, segs []string, v any) {
		for _, s := range segs[:len(segs)-1] {
			switch x := m[s].(type) {
			case map[string]any:
				m = x
			case nil:
				if _, exists := m[s]; exists {
					return // a null parent stays null
				}
				sub := map[string]any{}
				m[s] = sub
				m = sub
			default:
				return // a scalar or array parent: no sub-field
			}
		}
		last := segs[len(segs)-1]
		if _, isObj := m[last].(map[string]any); isObj {
			if _, vObj := v.(map[string]any); !vObj && c.intn(2) == 0 {
				return // keep the children already set
			}
		}
		m[last] = v
	}
	for _, f := range fields {
		v, ok := value(f.path)
		if !ok {
			continue
		}
		if f.path == "id.orig_h" {
			switch c.intn(3) {
			case 0:
				root["id.orig_h"] = v // Zeek's literal dotted key
				continue
			case 1:
				root["id.orig_h"] = v
				v = drPick(c, drStrings) // both: the literal key wins
			}
		}
		set(root, strings.Split(f.path, "."), v)
	}
	if c.intn(40) == 0 {
		root["event"] = drPick(c, []any{"x", 5.0, nil, []any{"a"}}) // event is not an object
	}
	return root
}

// drCachedEnv looks a field up once per event, as route.Worker does.
type drCachedEnv struct {
	n     *normalize.Normalizer
	paths []normalize.Path
	vals  []normalize.Value
	seen  []bool
}

func (e *drCachedEnv) Field(id int) *normalize.Value {
	if !e.seen[id] {
		e.seen[id] = true
		e.vals[id] = e.n.LookupPath(&e.paths[id])
	}
	return &e.vals[id]
}

// RootFilter lets the index skip the fields the event's root filter shows
// missing, as route.Worker does (so the filter is under the reference too).
func (e *drCachedEnv) RootFilter() *[4]uint64 { return e.n.RootFilter() }

// drHarness holds the two normalizers (the engine's, with the default
// configuration; the reference's, keeping empty values in its output, so
// that the written event is what rules see) and the reference.
type drHarness struct {
	n, rn  *normalize.Normalizer
	p, rp  fastjson.Parser
	ref    drRef
	cases  int
	events int
	// coverage: events that fell to the default, and events whose
	// matching rule the index could have left out (not in every set)
	defaults, skippable int
}

func newDRHarness(t testing.TB) *drHarness {
	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	cfg := normalize.DefaultConfig()
	cfg.KeepEmpty = true
	rc, err := normalize.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &drHarness{n: c.New(), rn: rc.New(), ref: drRef{progs: map[string]*vm.Program{}}}
}

type drSet struct {
	trees []*drNode
	srcs  []string
	set   *Set
	paths []string         // every path the rules read
	hints map[string][]any // per path, the constants rules compare it with
}

var drConstRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|\btrue\b|\bfalse\b|-?\b[0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?\b`)

// leafHints records the constants of each leaf under its first field.
func (n *drNode) leafHints(into map[string][]any) {
	for _, k := range n.kids {
		k.leafHints(into)
	}
	if n.op != "leaf" || len(n.leaf.fields) == 0 {
		return
	}
	p := n.leaf.fields[0].path
	tmpl := strings.NewReplacer("{0}", "", "{1}", "").Replace(n.leaf.tmpl)
	for _, m := range drConstRE.FindAllString(tmpl, -1) {
		var v any
		switch {
		case m[0] == '"':
			s, err := strconv.Unquote(m)
			if err != nil {
				continue
			}
			v = s
		case m == "true" || m == "false":
			v = m == "true"
		default:
			f, err := strconv.ParseFloat(m, 64)
			if err != nil {
				continue
			}
			v = f
		}
		if !slices.Contains(into[p], v) {
			into[p] = append(into[p], v)
		}
	}
}

func drCompile(t testing.TB, trees []*drNode) (*drSet, error) {
	ds := &drSet{trees: trees, hints: map[string][]any{}}
	var specs []located
	all := map[string]bool{}
	for i, tr := range trees {
		src := tr.render(false)
		ds.srcs = append(ds.srcs, src)
		specs = append(specs, located{RuleSpec: RuleSpec{Name: fmt.Sprintf("r%04d", i), Priority: fmt.Sprintf("P%d", 1+i%3), Expr: src}, file: "gen.yaml", line: i + 1})
		tr.paths(all)
		tr.leafHints(ds.hints)
	}
	set, err := compileSet(specs, pipeline.P3)
	if err != nil {
		return nil, err
	}
	ds.set = set
	for p := range all {
		ds.paths = append(ds.paths, p)
	}
	slices.Sort(ds.paths)
	for i, tr := range trees {
		if got, want := set.Rules[i].Native(), tr.native(); got != want {
			t.Errorf("rule %s: Native() = %v, generator expected %v", ds.srcs[i], got, want)
		}
	}
	return ds, nil
}

// check classifies one raw event with the engine and the reference.
func (h *drHarness) check(t testing.TB, ds *drSet, raw map[string]any) {
	t.Helper()
	js, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Engine: the default configuration, the index, a per-event cache.
	v, err := h.p.ParseBytes(js)
	if err != nil {
		t.Fatal(err)
	}
	meta := &pipeline.Meta{Input: "t", IngestTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	if err := h.n.Build(v, nil, meta, nil); err != nil {
		t.Fatalf("build %s: %v", js, err)
	}
	set := ds.set
	ce := &drCachedEnv{n: h.n, vals: make([]normalize.Value, len(set.Fields)), seen: make([]bool, len(set.Fields))}
	for _, f := range set.Fields {
		ce.paths = append(ce.paths, normalize.CompilePath(f))
	}
	got := set.Eval(ce)
	linear := set.evalLinear(&env{n: h.n, fields: set.Fields})

	// Reference: the normalized event as written, read as documented.
	rv, err := h.rp.ParseBytes(js)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := h.rn.Append(nil, rv, nil, meta, nil)
	if err != nil {
		t.Fatalf("reference build %s: %v", js, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("normalized %s: %v", out, err)
	}
	// An object-valued field reads as the object as it arrived (an empty
	// one when logrouter made it): normalize.Value.Raw is "the parsed
	// input value behind an Array or Object (for an object, as it
	// arrived, before renames inside it); nil for added metadata", and
	// toAny (rules.go) makes a map of it. So where the normalizer put
	// something into an object of the input (event.dataset sent as {}
	// gets the source type as event.dataset.value), a rule reading the
	// whole object sees the input's.
	var rawDoc map[string]any
	if err := json.Unmarshal(js, &rawDoc); err != nil {
		t.Fatal(err)
	}
	renv := map[string]any{}
	for _, p := range ds.paths {
		v, _ := refLookup(doc, p)
		if _, isObj := v.(map[string]any); isObj {
			rv, _ := refLookup(rawDoc, p)
			if _, ok := rv.(map[string]any); !ok {
				rv = map[string]any{}
			}
			v = rv
		}
		renv[p] = v
	}
	want := -1
	for i, tr := range ds.trees {
		if h.ref.eval(t, tr, set.Rules[i].Native(), renv) {
			want = i
			break
		}
	}
	h.events++
	if want < 0 {
		h.defaults++
	} else if ix := set.index; ix != nil && ix.always[want/64]&(1<<(want%64)) == 0 {
		h.skippable++
	}
	if got != want {
		name := func(i int) string {
			if i < 0 {
				return "default " + set.Default.String()
			}
			return fmt.Sprintf("%d %s (native=%v): %s", i, set.Rules[i].Priority, set.Rules[i].Native(), ds.srcs[i])
		}
		t.Fatalf("misclassified event %s\nnormalized: %s\nengine (indexed=%v) -> rule %s\nlinear walk -> rule %s\nreference   -> rule %s",
			js, out, set.index != nil, name(got), name(linear), name(want))
	}
}

func drRuleSet(c drChooser, nrules, wide int, vmOK bool) ([]*drNode, []drField) {
	g := &drGen{c: c, fields: drCatalog(wide), vmOK: vmOK, wide: wide}
	var trees []*drNode
	for i := 0; i < nrules; i++ {
		trees = append(trees, drLetSafe(g.rule()))
	}
	return trees, g.fields
}

// drLetSafe keeps a rule with let variables to what doc.go promises for
// it: such a rule reads the nested environment, so $env["a.b"] is not the
// path a.b there and a sub-field of a non-object parent the rule also
// reads is not nil. Its fields are written plainly (form 0); a let rule
// that reads a field and one of its sub-fields loses its let.
func drLetSafe(tr *drNode) *drNode {
	var leaves []*drNode
	var walk func(n *drNode)
	walk = func(n *drNode) {
		if n.op == "leaf" {
			leaves = append(leaves, n)
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(tr)
	hasLet := false
	for _, l := range leaves {
		hasLet = hasLet || strings.HasPrefix(l.leaf.tmpl, "(let ")
	}
	if !hasLet {
		return tr
	}
	paths := map[string]bool{}
	tr.paths(paths)
	conflict := false
	for p := range paths {
		for q := range paths {
			conflict = conflict || strings.HasPrefix(q, p+".")
		}
	}
	for _, l := range leaves {
		if conflict && strings.HasPrefix(l.leaf.tmpl, "(let ") {
			l.leaf = &drLeaf{tmpl: `({0} ?? "none") == "none"`, fields: l.leaf.fields}
		}
		if !conflict {
			for i := range l.forms {
				l.forms[i] = 0
			}
		}
	}
	return tr
}

// TestDifferentialRandom: random rule sets and events, fixed seed.
func TestDifferentialRandom(t *testing.T) {
	h := newDRHarness(t)
	rng := drRand{rand.New(rand.NewPCG(20260101, 42))}
	start := time.Now()
	indexed, multiword, capped := 0, 0, 0
	type shape struct{ sets, minRules, maxRules, wide, events int }
	shapes := []shape{
		{40, 8, 40, 0, 150},     // around minIndexed, one word
		{15, 56, 72, 0, 150},    // around 64 rules: eval64 / multiword
		{10, 100, 220, 0, 120},  // several words
		{4, 320, 420, 400, 100}, // more than maxIndexFields guard fields
	}
	for _, sh := range shapes {
		for s := 0; s < sh.sets; s++ {
			n := sh.minRules + rng.intn(sh.maxRules-sh.minRules+1)
			trees, fields := drRuleSet(rng, n, sh.wide, true)
			ds, err := drCompile(t, trees)
			if err != nil {
				t.Fatalf("compile: %v", err)
			}
			if ds.set.index != nil {
				indexed++
				if len(ds.set.index.always) > 1 {
					multiword++
				}
				if len(ds.set.index.fields) == maxIndexFields {
					capped++
				}
			}
			for e := 0; e < sh.events; e++ {
				h.check(t, ds, drEvent(rng, fields, ds.hints))
			}
			h.cases++
		}
	}
	// One set past maxLazyWords*64 rules: evalEager. Mostly narrow
	// guarded rules, and now and then one the index tries for every
	// event, so that either kind wins.
	{
		g := &drGen{c: rng, fields: drCatalog(0)}
		var trees []*drNode
		for i := 0; i < maxLazyWords*64+100; i++ {
			if rng.intn(150) == 0 {
				trees = append(trees, g.tree(0))
				continue
			}
			trees = append(trees, &drNode{op: "and", kids: []*drNode{g.ds(), {op: "and", kids: []*drNode{g.mkLeaf(g.leaf()), g.mkLeaf(g.leaf())}}}})
		}
		fields := g.fields
		ds, err := drCompile(t, trees)
		if err != nil {
			t.Fatal(err)
		}
		if ds.set.index == nil || len(ds.set.index.always) <= maxLazyWords {
			t.Fatalf("huge set not indexed past maxLazyWords")
		}
		before := h.skippable + h.defaults
		for e := 0; e < 60; e++ {
			h.check(t, ds, drEvent(rng, fields, ds.hints))
		}
		if always := 60 - (h.skippable + h.defaults - before); always < 5 {
			t.Errorf("huge set: only %d events matched a rule the index tries for every event", always)
		}
		h.cases++
	}
	if indexed < 55 || multiword < 12 || capped < 1 {
		t.Errorf("too few indexed sets: %d indexed, %d multiword, %d at maxIndexFields", indexed, multiword, capped)
	}
	if h.skippable < h.events/4 || h.defaults < h.events/50 {
		t.Errorf("weak events: %d of %d matched an indexed rule, %d fell to the default", h.skippable, h.events, h.defaults)
	}
	t.Logf("%d rule sets (%d indexed, %d multiword, %d at maxIndexFields), %d events (%d matched an indexed rule, %d default), %d reference programs, %v",
		h.cases, indexed, multiword, capped, h.events, h.skippable, h.defaults, len(h.ref.progs), time.Since(start))
}

// FuzzClassifyDifferential: the same check, rule set and events drawn
// from the fuzzer's bytes. Eight guarded filler rules (on a dataset no
// event has) at the end make sure the set is indexed.
func FuzzClassifyDifferential(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("event.dataset == ds1 and user.name in [root, admin]"))
	f.Add([]byte{5, 0, 3, 7, 9, 1, 2, 200, 13, 17, 4, 4, 4, 0, 0, 1, 22, 5, 8, 99, 3, 2, 1})
	seed := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 8; i++ {
		b := make([]byte, 64+seed.IntN(192))
		for j := range b {
			b[j] = byte(seed.IntN(256))
		}
		f.Add(b)
	}
	h := newDRHarness(f) // the fuzz function runs sequentially per process
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 2048 {
			return
		}
		if len(h.ref.progs) > 20000 {
			clear(h.ref.progs)
		}
		c := &drBytes{b: data}
		nrules := 1 + c.intn(24)
		trees, fields := drRuleSet(c, nrules, 0, c.intn(2) == 0)
		filler := &drGen{c: drRand{rand.New(rand.NewPCG(1, 1))}, fields: fields}
		for i := 0; i < minIndexed; i++ {
			trees = append(trees, filler.mkLeaf(&drLeaf{tmpl: fmt.Sprintf(`{0} == "zz-filler-%d"`, i), fields: []drField{fields[0]}, native: true}))
		}
		ds, err := drCompile(t, trees)
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		if ds.set.index == nil {
			t.Fatalf("not indexed")
		}
		for e := 0; e < 4; e++ {
			h.check(t, ds, drEvent(c, fields, ds.hints))
		}
	})
}

// TestNestedDottedKeyOrder (a fault test: it failed before the fix it
// describes, the comment describes the code as found): below the top level, which value a dotted
// path reads depends on the order of the keys in the event, not on the
// rule documented in rules/README.md ("id.orig_h is Zeek's literal
// "id.orig_h" key, or member orig_h of object id when there is no such key
// (the longest literal key wins)") and doc.go ("the literal key first").
//
// Found by the differential reference (refLookup reads the longest literal
// key first at every level) once events were allowed literal dotted keys
// inside objects; TestDifferentialRandom puts them only at the top
// level, where the engine follows the documented rule.
//
// Fault: normalize.(*Normalizer).find (pipeline/normalize/normalize.go),
// which findPath uses below the root, walks the children in order and
// returns the first that is the whole path OR an object whose key is a
// prefix of it, so an object "id" listed before a literal "id.orig_h" wins.
// The index and the native matcher are not at fault: they read what
// LookupPath returns (indexed Eval, linear walk and VM all agree).
//
// Fix: make find mirror findPath's order: first a child whose key is the
// whole remaining path, then the dotted prefixes longest first (descending
// into an object child with that key, and falling back to the next shorter
// prefix when the descent finds nothing).
func TestNestedDottedKeyOrder(t *testing.T) {
	specs := []located{{RuleSpec: RuleSpec{Name: "zeek-literal", Priority: "P1", Expr: `zeek.id.orig_h == "10.0.0.66"`}, file: "gen.yaml", line: 1}}
	set, err := compileSet(specs, pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	n := testNormalizer(t)
	var p fastjson.Parser
	for _, js := range []string{
		`{"zeek":{"id.orig_h":"10.0.0.66","id":{"orig_h":"192.0.2.1"}}}`, // literal key first: P1
		`{"zeek":{"id":{"orig_h":"192.0.2.1"},"id.orig_h":"10.0.0.66"}}`, // same event, keys swapped
	} {
		buildEvent(t, n, &p, js)
		got := set.Eval(&env{n: n, fields: set.Fields})
		if got != 0 {
			v := n.Lookup("zeek.id.orig_h")
			t.Errorf("%s: rule %q -> %s (%s), want P1: zeek.id.orig_h read %q, the nested member, though the object has the literal key \"id.orig_h\"",
				js, set.Rules[0].Expr, set.RuleName(got), set.Priority(got), v.Str)
		}
	}
}
