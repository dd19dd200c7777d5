package rules

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestDetectExpr: a profile's detect.expr selects it, after present and
// equals, with rules' expression language (native and VM-fallback forms).
func TestDetectExpr(t *testing.T) {
	for _, tc := range []struct {
		expr   string
		native bool
	}{
		{`vendor == "acme" and code startsWith "4"`, true},
		{`vendor == "acme" and len(code) == 4 and code[0:1] == "4"`, false}, // slicing: the VM
	} {
		cfg := normalize.DefaultConfig()
		cfg.CompileMatcher = CompileMatcher
		cfg.Profiles = []normalize.ProfileSpec{{Name: "acme.fw",
			Detect: &normalize.DetectSpec{Present: []string{"code"}, Expr: tc.expr},
			Rename: normalize.OrderedMap{Keys: []string{"code"}, Values: []string{"event.code"}}}}
		c, err := normalize.Compile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := CompileMatcher(tc.expr)
		if got := m.(*matcher).rule.Native(); got != tc.native {
			t.Errorf("%s: native %v, want %v", tc.expr, got, tc.native)
		}
		n := c.New()
		var p fastjson.Parser
		meta := &pipeline.Meta{Input: "t", IngestTime: 1764331200e9}
		for in, want := range map[string]string{
			`{"vendor":"acme","code":"4625"}`:  "acme.fw",
			`{"vendor":"acme","code":"5001"}`:  "unknown",
			`{"vendor":"other","code":"4625"}`: "unknown",
			`{"vendor":"acme"}`:                "unknown",
		} {
			v, _ := p.Parse(in)
			if err := n.Build(v, nil, meta, nil); err != nil {
				t.Fatal(err)
			}
			if got := string(n.SourceType()); got != want {
				t.Errorf("%s on %s: source type %q, want %q", tc.expr, in, got, want)
			}
		}
		if tc.native {
			v, _ := p.Parse(`{"vendor":"acme","code":"4625"}`)
			if a := testing.AllocsPerRun(200, func() { _ = n.Build(v, nil, meta, nil) }); a != 0 {
				t.Errorf("%s: %.1f allocations per event", tc.expr, a)
			}
		}
	}
	cfg := normalize.DefaultConfig()
	cfg.CompileMatcher = CompileMatcher
	cfg.Profiles = []normalize.ProfileSpec{{Name: "x", Detect: &normalize.DetectSpec{Expr: `a ==`}}}
	if _, err := normalize.Compile(cfg); err == nil {
		t.Error("an invalid detect.expr compiled")
	}
}
