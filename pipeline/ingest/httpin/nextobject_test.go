package httpin

import (
	"fmt"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/bench/loadgen"
)

// BenchmarkNextObject splits HEC bodies of the realistic mix into events
// (the scan every HEC request gets before parsing). A SWAR string skip
// measured no faster on this mix (short keys and values dominate), 2026-11-29.
func BenchmarkNextObject(b *testing.B) {
	m := loadgen.New(loadgen.Options{Seed: 1})
	var body []byte
	var ev []byte
	for i := 0; i < 1000; i++ {
		var k loadgen.Kind
		ev, k = m.Next(ev[:0])
		body = m.HECEnvelope(body, ev, k)
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for rest := body; len(rest) > 0; {
			n, err := nextObject(rest)
			if err != nil {
				b.Fatal(err)
			}
			rest = skipWS(rest[n:])
		}
	}
}

// splitAll splits body the way handleHEC does, until the first error, and
// describes each step.
func splitAll(body []byte, byLine bool) []string {
	var p fastjson.Parser
	var steps []string
	rest := skipWS(body)
	for len(rest) > 0 {
		raw, _, splitErr, err := nextEnvelope(&p, rest, &byLine, 1<<30)
		if splitErr != nil {
			return append(steps, "split error")
		}
		rest = skipWS(rest[len(raw):])
		if err != nil {
			return append(steps, "parse error: "+string(raw))
		}
		steps = append(steps, string(raw))
	}
	return steps
}

// FuzzNextEnvelope holds the one-envelope-per-line fast path to the
// brace-matching split: same envelopes, same errors, for any body.
func FuzzNextEnvelope(f *testing.F) {
	for _, s := range []string{
		"{\"event\":1}\n{\"event\":2}\n",
		"{\"event\":1}{\"event\":2}\n{\"event\":3}",
		"{\"event\":{\"a\":\"}\\n{\"}}\r\n{\"event\":2}  \n",
		"{\n\"event\":1\n}\n{\"event\":2}",
		"{\"event\":1} {\"event\":2}\n",
		"{\"event\":1}\n{\"event\":2\n",
		"{\"event\":1}\nnot json\n{\"event\":3}",
		"{\"a\":\"x\"}\n[1]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, slow := splitAll(body, true), splitAll(body, false)
		if len(fast) != len(slow) {
			t.Fatalf("by line %q\nby braces %q", fast, slow)
		}
		for i := range fast {
			if fast[i] != slow[i] {
				t.Fatalf("step %d: by line %q, by braces %q", i, fast[i], slow[i])
			}
		}
	})
}

// BenchmarkNextEnvelope splits and parses HEC bodies of the realistic mix,
// one envelope per line, by line (what handleHEC does) and by brace
// matching (what it does for bodies that are not one envelope per line).
func BenchmarkNextEnvelope(b *testing.B) {
	m := loadgen.New(loadgen.Options{Seed: 1})
	var body, ev []byte
	for i := 0; i < 1000; i++ {
		var k loadgen.Kind
		ev, k = m.Next(ev[:0])
		body = m.HECEnvelope(body, ev, k)
		body = append(body, '\n')
	}
	for _, byLine := range []bool{true, false} {
		b.Run(fmt.Sprintf("by-line=%v", byLine), func(b *testing.B) {
			var p fastjson.Parser
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				bl := byLine
				for rest := skipWS(body); len(rest) > 0; {
					raw, _, splitErr, err := nextEnvelope(&p, rest, &bl, 1<<30)
					if splitErr != nil || err != nil {
						b.Fatal(splitErr, err)
					}
					rest = skipWS(rest[len(raw):])
				}
			}
		})
	}
}

// FuzzArrayElems: splitting a JSON array with arrayElems and parsing each
// object element alone gives the elements parsing the whole array gives, and
// fails when that fails, except where a non-object element (rejected
// unparsed by /ingest) is itself malformed.
func FuzzArrayElems(f *testing.F) {
	for _, s := range []string{
		`[{"a":1},{"b":[1,{"c":"]}"}]}, 7 ,"x\"y",[1],null,-1.5e3,{"d":"\\"}]`,
		`[]`, ` [ ] `, `[{"a":1},]`, `[{"a":1} {"b":2}]`, `[{"a":1}] x`, `[{"a":1}`, `[`,
		`[{"a":1},tru]`, `["unterminated]`, `[{]`, `[}`, `[1 2]`, "[\n{\"a\":1}\r\n,\t{}\n]\n", `[+]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = skipWS(b)
		if len(b) == 0 || b[0] != '[' {
			return
		}
		var whole, one fastjson.Parser
		v, werr := whole.ParseBytes(b)
		var want []*fastjson.Value
		if werr == nil {
			want, werr = v.Array()
		}
		a := newArrayElems(b)
		n, objects := 0, true
		var err error
		for {
			e, ok := a.next()
			if !ok {
				err = a.err
				break
			}
			if werr == nil && n >= len(want) {
				t.Fatalf("%q: more than the %d elements of the whole parse", b, len(want))
			}
			if e[0] != '{' {
				objects = false
				n++
				continue
			}
			ev, perr := one.ParseBytes(e)
			if perr != nil {
				err = perr
				break
			}
			if werr == nil && ev.String() != want[n].String() {
				t.Fatalf("%q element %d: split %s, whole parse %s", b, n, ev, want[n])
			}
			n++
		}
		if werr == nil && (err != nil || n != len(want)) {
			t.Fatalf("%q: whole parse gives %d elements, split %d, %v", b, len(want), n, err)
		}
		if werr != nil && err == nil && objects {
			t.Fatalf("%q: split and parsed though the whole parse fails: %v", b, werr)
		}
	})
}
