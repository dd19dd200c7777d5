package rules

// Divergences a review found between the native matcher and expr's VM (as
// logrouter runs it, Rule.runVM, or as expr runs it on the event itself),
// in the VM fallback (rules that use functions the native matcher does not
// lower) and bracket keys. Fixed by the VM's flat environment (flatFields):
// each test failed before. The documented type-error divergences (doc.go: a
// VM type error under `not` or `or`) are not tested here.

import (
	"encoding/json"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/parser"
	"github.com/valyala/fastjson"
)

// plainExpr runs src with expr itself (logrouter's compile options)
// on the event as JSON decodes it: the answer a SOC engineer who reads a rule
// "as plain expr" expects.
func plainExpr(t *testing.T, src, ev string) (bool, error) {
	t.Helper()
	tree, err := parser.Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	opts := []expr.Option{expr.AllowUndefinedVariables(), expr.AsBool(), expr.Patch(optionalMembers{})}
	for _, name := range shadowedBuiltins(tree.Node) {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(ev), &m); err != nil {
		t.Fatal(err)
	}
	out, err := expr.Run(prog, m)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

// evalBoth evaluates src on ev the way a Set does (natively when lowered,
// else on the VM), and also on the VM forced (compileRuleMode forceVM), as
// TestNativeMatchesVM does.
func evalBoth(t *testing.T, src, ev string) (got bool, native bool, vm bool, vmErr error) {
	t.Helper()
	n := testNormalizer(t)
	var p fastjson.Parser
	buildEvent(t, n, &p, ev)
	ft := &fieldTable{ids: map[string]int{}}
	r, err := compileRule(src, ft)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if r.Native() {
		got = r.native(&env{n: n, fields: ft.paths})
	} else {
		got, _ = r.runVM(&Set{Fields: ft.paths}, &env{n: n, fields: ft.paths})
	}
	vft := &fieldTable{ids: map[string]int{}}
	vr, err := compileRuleMode(src, vft, true)
	if err != nil {
		t.Fatalf("%s (vm): %v", src, err)
	}
	vm, vmErr = vr.runVM(&Set{Fields: vft.paths}, &env{n: n, fields: vft.paths})
	return got, r.Native(), vm, vmErr
}

// TestVMEnvMissingParentIsNil: when a rule reads a field and a
// sub-field of it (a and a.b), runVM's environment (setPath, rules.go)
// replaces a missing or null parent with a map to hold the sub-field, so on
// the VM `a == nil` is false and `a != nil` true for an event without a.
// No VM error is involved. Expected: a missing or null field is nil on the
// VM as natively and in expr (doc.go: "a missing field is nil").
func TestVMEnvMissingParentIsNil(t *testing.T) {

	for _, tc := range []struct {
		src, ev string
		want    bool
	}{
		{`a != nil and a.b == nil`, `{}`, false},           // native false, VM true
		{`a != nil and a.b == nil`, `{"a":null}`, false},   // native false, VM true
		{`a == nil or a.b == "x"`, `{}`, true},             // native true, VM false
		{`user == nil or user.name == "root"`, `{}`, true}, // native true, VM false
		{`a.b == nil and a.b.c == nil`, `{"a":{}}`, true},  // native true, VM false
	} {
		got, native, vm, vmErr := evalBoth(t, tc.src, tc.ev)
		if !native {
			t.Fatalf("%s: expected a native rule", tc.src)
		}
		if got != tc.want {
			t.Errorf("%s on %s: native %v, want %v", tc.src, tc.ev, got, tc.want)
		}
		if vmErr != nil || vm != got {
			t.Errorf("%s on %s: native %v, VM %v (error %v)", tc.src, tc.ev, got, vm, vmErr)
		}
		if plain, err := plainExpr(t, tc.src, tc.ev); err == nil && plain != tc.want {
			t.Errorf("%s on %s: plain expr %v, want %v", tc.src, tc.ev, plain, tc.want)
		}
	}
	// The same environment misroutes a rule that needs the VM (lower() is
	// outside the native subset): an event without a user should match,
	// as it does in expr.
	src, ev := `user == nil or lower(user.name) == "root"`, `{}`
	got, native, _, _ := evalBoth(t, src, ev)
	plain, err := plainExpr(t, src, ev)
	if native || err != nil {
		t.Fatalf("%s: native %v, plain expr error %v", src, native, err)
	}
	if got != plain {
		t.Errorf("VM rule %s on %s: logrouter %v, expr %v", src, ev, got, plain)
	}
}

// TestVMMemberOfNonObjectIsNil: doc.go promises "Field access never
// fails: every member access is optional", and setPath's comment says a
// scalar parent's fields are "nil, as natively". But optionalMembers
// (rules.go) sets MemberNode.Optional without a ChainNode, which expr's
// compiler ignores (compiler.go: `node.Optional && len(c.chains) > 0`), so
// the VM raises an error ("invalid operation: int(string)" for a string or
// array parent, "cannot fetch b from <nil>" for a missing one) whenever the
// rule also reads the parent (setPath keeps the scalar, or sets the nil
// parent after having made a map for the sub-path) and the whole rule is
// false. Natively the sub-field is nil and these rules match. Expected: no
// VM error, same answer as native. (TestVMEnvKeepsScalarParent's second
// check has this very case but skips it because the VM errs.)
func TestVMMemberOfNonObjectIsNil(t *testing.T) {

	for _, tc := range []struct {
		src, ev string
		want    bool
	}{
		// README's example of a field whose type varies by source.
		{`service != nil and service.serviceName == nil`, `{"service":"web"}`, true},
		{`a != nil and a.b == nil`, `{"a":[1]}`, true},
		{`a.b == nil and a == nil`, `{}`, true},
		{`a.b.c == nil and a.b == nil`, `{"a":{}}`, true},
	} {
		got, native, vm, vmErr := evalBoth(t, tc.src, tc.ev)
		if !native {
			t.Fatalf("%s: expected a native rule", tc.src)
		}
		if got != tc.want {
			t.Errorf("%s on %s: native %v, want %v", tc.src, tc.ev, got, tc.want)
		}
		if vmErr != nil || vm != got {
			t.Errorf("%s on %s: native %v, VM %v (error %v)", tc.src, tc.ev, got, vm, vmErr)
		}
	}
}

// TestBracketKeyWithDot: `$env["id.orig_h"]` and `a["b.c"]` name a key
// that contains a dot. Natively they are the path id.orig_h (fieldPath,
// lower.go, joins the segments), read as every dotted path is: the literal
// key first, else the nested member (by design, rules/README.md). The VM's
// environment used to split the path on dots and had no literal key, so the
// VM said nil for the literal key. Now the VM reads the path as one key of a
// flat environment (flatFields): native and VM agree on every case.
func TestBracketKeyWithDot(t *testing.T) {
	for _, tc := range []struct {
		src, ev string
		want    bool
	}{
		{`$env["id.orig_h"] == "10.0.0.1"`, `{"id.orig_h":"10.0.0.1"}`, true},
		{`$env["id.orig_h"] == "10.0.0.1"`, `{"id":{"orig_h":"10.0.0.1"}}`, true}, // the path, by design
		{`a["b.c"] == "x"`, `{"a":{"b.c":"x"}}`, true},
		{`a["b.c"] == "x"`, `{"a":{"b":{"c":"x"}}}`, true},    // the path, by design
		{`lower(a["b.c"]) == "x"`, `{"a":{"b.c":"X"}}`, true}, // on the VM (lower)
	} {
		got, native, vm, vmErr := evalBoth(t, tc.src, tc.ev)
		if got != tc.want {
			t.Errorf("%s on %s: logrouter (native=%v) %v, want %v", tc.src, tc.ev, native, got, tc.want)
		}
		if vmErr != nil || vm != tc.want {
			t.Errorf("%s on %s: VM %v (error %v), want %v as natively", tc.src, tc.ev, vm, vmErr, tc.want)
		}
	}
}

// TestDottedPathReadsLiteralDottedKey: rules/README.md says "Keys
// that contain dots, such as Zeek's id.orig_h, cannot be addressed
// (id.orig_h means field orig_h of object id)", as in expr. But rules read
// fields through normalize.LookupPath, whose CompilePath/findPath
// (pipeline/normalize/normalize.go) try the whole path as a literal root
// key first: natively `id.orig_h` matches a literal "id.orig_h" key, and
// when an event has both a literal "a.b" key and an object a with member
// b, `a.b` reads the literal key, not the member expr reads. (runVM's
// environment is filled from the same lookups, so logrouter's VM path
// agrees with native here; expr run on the event does not.) Expected: `a.b`
// is member b of object a, as in expr and the README.
func TestDottedPathReadsLiteralDottedKey(t *testing.T) {
	t.Skip("by design (rules/README.md): a dotted path also reads a literal dotted key, the literal key first, unlike plain expr")

	for _, tc := range []struct {
		src, ev string
		want    bool
	}{
		// README: cannot be addressed. (expr: id is nil, so id?.orig_h is nil.)
		{`id.orig_h == "10.0.0.1"`, `{"id.orig_h":"10.0.0.1"}`, false},
		// expr reads the object's member; natively the literal key wins.
		{`a.b == "obj"`, `{"a":{"b":"obj"},"a.b":"lit"}`, true},
		{`a.b == "lit"`, `{"a":{"b":"obj"},"a.b":"lit"}`, false},
	} {
		if plain, err := plainExpr(t, tc.src, tc.ev); err == nil && plain != tc.want {
			t.Fatalf("%s on %s: expr itself says %v, test expects %v", tc.src, tc.ev, plain, tc.want)
		}
		got, native, _, _ := evalBoth(t, tc.src, tc.ev)
		if !native {
			t.Fatalf("%s: expected a native rule", tc.src)
		}
		if got != tc.want {
			t.Errorf("%s on %s: native %v, expr %v", tc.src, tc.ev, got, tc.want)
		}
	}
}
