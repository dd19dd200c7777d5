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

// FuzzParseSyslogField: a profile's parse with format syslog over any text
// in a message next to the event's own fields never panics, writes valid
// JSON, and never loses or changes one of the event's own fields.
func FuzzParseSyslogField(f *testing.F) {
	for _, s := range []string{
		`<189>date=2026-11-28 time=10:00:00 devname="FGT" srcip=10.0.0.5 action="deny" agent="x" own=no`,
		`1,2026/11/28 10:00:00,007200001056,TRAFFIC,end,2305,2026/11/28 10:00:00,10.0.0.5,203.0.113.9`,
		`%ASA-4-106023: Deny tcp src inside:10.0.0.5/51234 dst outside:203.0.113.9/443 by access-group "x" [0x0, 0x0]`,
		`CEF:0|V|P|1|100|Blocked|5|src=10.0.0.7 act=block own=x`,
		`Nov 28 10:00:00 host sshd[1]: {"own":"json","logrouter":{"x":1},"event":{"dataset":"evil"}}`,
		"plain text", "", `<13>1 - - - - - [a b="c"] own=1`,
	} {
		f.Add(s)
	}
	if testTextParser == nil {
		f.Skip("no text parser (matcher_ext_test.go)")
	}
	cfg := DefaultConfig()
	cfg.NewTextParser = testTextParser
	cfg.Profiles = []ProfileSpec{{Name: "p", Parse: &ParseSpec{Format: "syslog"},
		Rename: OrderedMap{Keys: []string{"srcip", "agent"}, Values: []string{"source.ip", "user_agent.original"}}, ValuesOnly: []string{"agent"}}}
	c, err := Compile(cfg)
	if err != nil {
		f.Fatal(err)
	}
	n := c.New()
	f.Fuzz(func(t *testing.T, text string) {
		in, _ := json.Marshal(map[string]any{"message": text, "own": "mine", "agent": map[string]any{"type": "beat"}, "event": map[string]any{"dataset": "p"}})
		v, err := fastjson.ParseBytes(in)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte("p")})
		if err != nil {
			return // too many fields and the like: refused, with a reason
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON output for %q: %s", text, out)
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatal(err)
		}
		ag, _ := m["agent"].(map[string]any)
		ev, _ := m["event"].(map[string]any)
		if m["own"] != "mine" || ag == nil || ag["type"] != "beat" || ev == nil || ev["dataset"] != "p" {
			t.Fatalf("the event's own fields changed for %q: %s", text, out)
		}
	})
}
