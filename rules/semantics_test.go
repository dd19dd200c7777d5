package rules

import (
	"encoding/json"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// nativeAndVM evaluates src on ev natively and, compiled for the VM, on
// expr's VM.
func nativeAndVM(t *testing.T, src, ev string) (native, vm bool, vmErr error) {
	t.Helper()
	c, _ := normalize.Compile(normalize.DefaultConfig())
	n := c.New()
	var p fastjson.Parser
	buildEvent(t, n, &p, ev)
	ft := &fieldTable{ids: map[string]int{}}
	nat, err := compileRule(src, ft)
	if err != nil || !nat.Native() {
		t.Fatalf("%s: not native (%v)", src, err)
	}
	vft := &fieldTable{ids: map[string]int{}}
	vr, _ := compileRuleMode(src, vft, true)
	vm, vmErr = vr.runVM(&Set{Fields: vft.paths}, &env{n: n, fields: vft.paths})
	return nat.native(&env{n: n, fields: ft.paths}), vm, vmErr
}

// TestInListWithEmptyStringMatchesVM: expr turns an all-string literal list
// into a set and looks a nil needle up as "", so a missing or null field is
// `in ["", ...]` on its VM; the native matcher said false (no VM error
// involved), so a rule changed meaning when an edit moved it to the VM.
func TestInListWithEmptyStringMatchesVM(t *testing.T) {
	for _, tc := range []struct{ src, ev string }{
		{`user.name in ["", "-"]`, `{"user":{"id":"1"}}`},
		{`user.name in ["", "-"]`, `{"user":{"name":null}}`},
		{`user.name not in ["", "-"]`, `{"x":1}`},
	} {
		nat, vm, err := nativeAndVM(t, tc.src, tc.ev)
		if err == nil && nat != vm {
			t.Errorf("%s on %s: native %v, VM %v", tc.src, tc.ev, nat, vm)
		}
	}
}

// TestVMEnvKeepsScalarParent: runVM's environment replaced a scalar parent
// with a map when the rule read both `service` and `service.serviceName`.
func TestVMEnvKeepsScalarParent(t *testing.T) {
	src := `lower(service) == "web" or service.serviceName == "guardduty"`
	ev := `{"service":"WEB"}`
	ft := &fieldTable{ids: map[string]int{}}
	r, err := compileRule(src, ft)
	if err != nil || r.Native() {
		t.Fatal("want a VM rule", err)
	}
	c, _ := normalize.Compile(normalize.DefaultConfig())
	n := c.New()
	var p fastjson.Parser
	buildEvent(t, n, &p, ev)
	got, vmErr := r.runVM(&Set{Fields: ft.paths}, &env{n: n, fields: ft.paths})
	var raw map[string]any
	json.Unmarshal([]byte(ev), &raw)
	prog, _ := expr.Compile(src, expr.AllowUndefinedVariables(), expr.AsBool())
	want, _ := expr.Run(prog, raw)
	if got != want.(bool) {
		t.Errorf("%s on %s: runVM %v (err %v), expr on the event %v", src, ev, got, vmErr, want)
	}
	// Same effect, native vs forced VM, no error on either side:
	nat, vm, err := nativeAndVM(t, `service == "web" and service.serviceName == nil`, `{"service":"web"}`)
	if err == nil && nat != vm {
		t.Errorf("native %v, VM %v", nat, vm)
	}
}

// 3. doc.go: "The two differ only under negation" - they differ under `or` too.
