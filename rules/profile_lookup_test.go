package rules

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// TestConvertedFieldIsNumberForRules: a profile's convert {event.severity:
// int} writes a number, and rules must see one; converted and set values
// used to reach rules as strings, so `event.severity <= 2` never matched.
func TestConvertedFieldIsNumberForRules(t *testing.T) {
	cfg := normalize.DefaultConfig()
	cfg.Profiles = []normalize.ProfileSpec{{Name: "suricata.eve",
		Rename:  normalize.OrderedMap{Keys: []string{"alert.severity"}, Values: []string{"event.severity"}},
		Convert: normalize.OrderedMap{Keys: []string{"event.severity", "flag"}, Values: []string{"int", "bool"}}}}
	c, err := normalize.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	v, _ := p.Parse(`{"alert":{"severity":"1"},"flag":"yes"}`)
	if err := n.Build(v, nil, &pipeline.Meta{Input: "t"}, &normalize.EventMeta{SourceType: []byte("suricata.eve")}); err != nil {
		t.Fatal(err)
	}
	out, _ := n.AppendTo(nil)
	if !strings.Contains(string(out), `"severity":1`) {
		t.Fatalf("normalized: %s", out)
	}
	for _, src := range []string{`event.severity == 1`, `event.severity <= 2`, `flag == true`, `flag`} {
		ft := &fieldTable{ids: map[string]int{}}
		r, err := compileRule(src, ft)
		if err != nil {
			t.Fatal(err)
		}
		if !r.native(&env{n: n, fields: ft.paths}) {
			t.Errorf("%s: false on the converted event (Lookup kind %v)", src, n.Lookup(ft.paths[0]).Kind)
		}
	}
}

// TestConvertedAndSetStringsUnescaped: string literals the normalizer wrote
// (a string convert, a set) reach rules unescaped, as input strings do.
func TestConvertedAndSetStringsUnescaped(t *testing.T) {
	cfg := normalize.DefaultConfig()
	cfg.Profiles = []normalize.ProfileSpec{{Name: "acme",
		Convert: normalize.OrderedMap{Keys: []string{"path"}, Values: []string{"string"}},
		Set:     normalize.OrderedMap{Keys: []string{"observer.product", "event.risk"}, Values: []string{`Acme "NG" FW`, `3`}}}}
	c, err := normalize.Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	v, _ := p.Parse(`{"path":"C:\\Temp\\a.exe"}`)
	if err := n.Build(v, nil, &pipeline.Meta{Input: "t"}, &normalize.EventMeta{SourceType: []byte("acme")}); err != nil {
		t.Fatal(err)
	}
	for _, src := range []string{`path == "C:\\Temp\\a.exe"`, `observer.product == "Acme \"NG\" FW"`, `event.risk == 3`} {
		ft := &fieldTable{ids: map[string]int{}}
		r, _ := compileRule(src, ft)
		if !r.native(&env{n: n, fields: ft.paths}) {
			t.Errorf("%s: false; rule sees %q", src, n.Lookup(ft.paths[0]).Str)
		}
	}
}
