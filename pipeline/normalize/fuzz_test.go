package normalize

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fastjson"
)

// FuzzNormalize feeds arbitrary bytes through parse + normalize and checks
// that nothing panics and every accepted event is valid JSON.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		`{"a":1}`, `{"src_ip":"1.2.3.4","ts":1700000000}`, `{"a":{"b":[{"c":null}]},"a":2}`,
		`{"time":"Nov 28 10:00:00","msg":"x"}`, `{"n":1.2.3}`, `{"@timestamp":"x","id.orig_h":"y"}`,
	} {
		f.Add([]byte(s))
	}
	c, err := Compile(testConfig())
	if err != nil {
		f.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := p.ParseBytes(in)
		if err != nil {
			return
		}
		out, _, err := n.Append(nil, v, nil, testMeta(), nil)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON output for %q: %s", in, out)
		}
	})
}

// FuzzParseColumns: a profile's parse over any text (quotes, separators,
// '-', too few or many columns) never panics, writes valid JSON, and either
// removes the parsed field or leaves the event whole.
func FuzzParseColumns(f *testing.F) {
	for _, s := range []string{
		"2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 180 1699265700 1699265760 ACCEPT OK",
		`h2 2026-11-29T10:00:00Z app/lb "GET http://x/ HTTP/1.1" "curl/8" - -`, `"`, `"a" "b`, "- - -", "a\tb\tc", "",
	} {
		f.Add(s, byte(' '))
		f.Add(s, byte('\t'))
	}
	f.Fuzz(func(t *testing.T, text string, sep byte) {
		if sep == '"' || sep >= 0x80 {
			return
		}
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{{Name: "p", Parse: &ParseSpec{Separator: string(sep), Columns: []string{"a", "", "b.c", "b.d", "source.port"}},
			Convert: OrderedMap{Keys: []string{"source.port"}, Values: []string{"int"}}}}
		c, err := Compile(cfg)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := c.New().Append(nil, nil, []byte(text), testMeta(), &EventMeta{SourceType: []byte("p")})
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON output for %q: %s", text, out)
		}
	})
}
