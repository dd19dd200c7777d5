package siem

import (
	"bytes"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/bench/loadgen"
)

// TestLookupRawMatchesFastjson: the scanner finds what fastjson finds, on
// hand-made edge cases and on realistic events.
func TestLookupRawMatchesFastjson(t *testing.T) {
	docs := []string{
		`{"host":{"name":"a"}}`,
		`{"x":"he said \"host\":{\"name\":\"no\"}","host":{"name":"yes"}}`,
		`{"a":{"host":{"name":"nested"}},"host":{"ip":"1.2.3.4","name":"srv-1"}}`,
		`{"arr":[{"host":{"name":"in array"}},"]}",[1,2,{}]],"host":{"name":"x\\"}}`,
		`{ "host" : { "name" : "spaced" } }`,
		`{"host":{"name":"caf\u00e9 \"q\""}}`,
		`{"host":"flat"}`,
		`{"host":{"name":42}}`,
		`{"host":{"name":null}}`,
		`{"host":{"hostname":"h"}}`,
		`{"n":-1.5e3,"t":true,"f":false,"z":null,"host":{"name":"after scalars"}}`,
		`{"k\\":"v","host":{"name":"after escaped key"}}`,
		`{"emptyo":{},"emptya":[],"host":{"name":""}}`,
		`{}`,
		`[]`,
		`{"host":{"name":"unterminated`,
		`{"a":1 "host":{"name":"missing comma"}}`,
	}
	m := loadgen.New(loadgen.Options{Seed: 7})
	for i := 0; i < 500; i++ {
		ev, _ := m.Next(nil)
		docs = append(docs, string(ev))
	}
	var p, p2 fastjson.Parser
	for _, d := range docs {
		for _, path := range [][]string{{"host", "name"}, {"event", "dataset"}, {"host"}, {"metadata", "offset"}, {"alert", "signature"}} {
			got := lookupRaw([]byte(d), path...)
			v, err := p.Parse(d)
			if err != nil {
				// malformed: the scanner must not find anything past the damage
				if got != nil && bytes.Contains([]byte(d), []byte("missing comma")) {
					t.Errorf("%s: found %s in a malformed document", d, got)
				}
				continue
			}
			want := v.Get(path...)
			switch {
			case want == nil && got != nil:
				t.Errorf("%s %v: scanner found %s, fastjson nothing", d, path, got)
			case want != nil && got == nil:
				t.Errorf("%s %v: scanner found nothing, fastjson %s", d, path, want)
			case want != nil:
				w, _ := p2.Parse(string(got))
				if w == nil || w.String() != want.String() {
					t.Errorf("%s %v: scanner %s, fastjson %s", d, path, got, want)
				}
			}
		}
	}
}

func TestLookupRawNoAllocs(t *testing.T) {
	doc := []byte(testEvent(1, "ws-1", `"process":{"command_line":"a \"b\" c","args":["x","y"]}`))
	if n := testing.AllocsPerRun(100, func() { _ = lookupRaw(doc, "host", "name") }); n != 0 {
		t.Fatalf("lookupRaw allocates %v times", n)
	}
}

// FuzzLookupRaw: wherever fastjson parses a document, the scanner agrees
// with it on host.name (keys written with \u escapes excepted: the scanner
// compares raw key bytes, as documented).
func FuzzLookupRaw(f *testing.F) {
	for _, s := range []string{
		`{"host":{"name":"a"}}`, `{"x":[1,{"y":"}"}],"host":{"ip":1,"name":"b\"c"}}`,
		`{"host":{"name":1.5e3}}`, `{"host":[{"name":"no"}]}`, `{"a":"\\","host":{"name":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if bytes.Contains(doc, []byte(`\u`)) {
			return
		}
		var p, p2 fastjson.Parser
		v, err := p.ParseBytes(doc)
		if err != nil || v.Type() != fastjson.TypeObject {
			return
		}
		want := v.Get("host", "name")
		got := lookupRaw(doc, "host", "name")
		switch {
		case want == nil && got == nil:
		case want == nil || got == nil:
			t.Fatalf("%q: scanner %q, fastjson %v", doc, got, want)
		default:
			w, err := p2.ParseBytes(got)
			if err != nil || w.String() != want.String() {
				t.Fatalf("%q: scanner %q, fastjson %s", doc, got, want)
			}
		}
	})
}
