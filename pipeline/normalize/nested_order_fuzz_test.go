package normalize

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/valyala/fastjson"
)

// nestedOrderReverse appends v's JSON text with the members of every object
// reversed (recursively; lists' elements in order); ok false when some
// object repeats a key.
func nestedOrderReverse(dst []byte, v *fastjson.Value) ([]byte, bool) {
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		var keys []string
		var vals []*fastjson.Value
		seen := map[string]bool{}
		ok := true
		o.Visit(func(k []byte, x *fastjson.Value) {
			// Keys written alike are repeated keys, whose last one wins:
			// an order the reversal changes. searchableKey writes "" as
			// "_" at any level, and "_id" as "__id" at the top, but the
			// fuzzer's objects nest anywhere: both forms count.
			w1, w2 := string(searchableKey(k, false)), string(searchableKey(k, true))
			ok = ok && !seen[w1] && !seen[w2] && utf8.Valid(k)
			seen[w1], seen[w2] = true, true
			keys = append(keys, string(k))
			vals = append(vals, x)
		})
		if !ok {
			return nil, false
		}
		dst = append(dst, '{')
		for i := len(keys) - 1; i >= 0; i-- {
			if i != len(keys)-1 {
				dst = append(dst, ',')
			}
			kb, _ := json.Marshal(keys[i])
			dst = append(append(dst, kb...), ':')
			if dst, ok = nestedOrderReverse(dst, vals[i]); !ok {
				return nil, false
			}
		}
		return append(dst, '}'), true
	case fastjson.TypeArray:
		arr, _ := v.Array()
		dst = append(dst, '[')
		for i, e := range arr {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = nestedOrderReverse(dst, e); !ok {
				return nil, false
			}
		}
		return append(dst, ']'), true
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		if !utf8.Valid(b) {
			return nil, false
		}
		sb, _ := json.Marshal(string(b))
		return append(dst, sb...), true
	}
	return v.MarshalTo(dst), true
}

func nestedOrderProfilesConfig(t testing.TB) Config {
	cfg := testConfig()
	cfg.Rename = map[string]string{"src_ip": "source.ip", "srcip": "source.ip", "src_port": "source.port", "srcport": "source.port",
		"dst_ip": "destination.ip", "dstip": "destination.ip", "dest_ip": "destination.ip", "dst_port": "destination.port",
		"dstport": "destination.port", "dest_port": "destination.port", "msg": "message", "hostname": "host.name"}
	cfg.Drop = nil
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	return cfg
}

func FuzzNestedOrder(f *testing.F) {
	m := loadgen.New(loadgen.Options{Seed: 7})
	for i := 0; i < 300; i++ {
		ev, k := m.Next(nil)
		f.Add(ev, k.SourceType())
		f.Add(ev, "")
	}
	c, err := Compile(nestedOrderProfilesConfig(f))
	if err != nil {
		f.Fatal(err)
	}
	n := c.New()
	var p1, p2 fastjson.Parser
	f.Fuzz(func(t *testing.T, in []byte, st string) {
		v, err := p1.ParseBytes(in)
		if err != nil || v.Type() != fastjson.TypeObject {
			return
		}
		revJSON, ok := nestedOrderReverse(nil, v)
		if !ok {
			return
		}
		w, err := p2.ParseBytes(revJSON)
		if err != nil {
			t.Fatalf("reversed %s does not parse: %v", revJSON, err)
		}
		out1, ev1, err1 := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte(st)})
		out1 = append([]byte(nil), out1...)
		out2, ev2, err2 := n.Append(nil, w, nil, testMeta(), &EventMeta{SourceType: []byte(st)})
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("one order refused, the other not: %v / %v\n in: %s\nrev: %s", err1, err2, in, revJSON)
		}
		if err1 == nil && ev1.Hash != ev2.Hash {
			t.Fatalf("st %q: the hash depends on member order:\n in: %s\nout: %s\nrev: %s\nout: %s", st, in, out1, revJSON, out2)
		}
	})
}
