package normalize

import (
	"testing"

	"github.com/valyala/fastjson"
)

// FuzzHashKeyOrder: the content hash does not depend on the order of an
// event's members (README: "content hash (key order/whitespace/ingest
// metadata ignored)"), renames into one field included: an event and the
// same event with its top-level members reversed hash alike. Events with
// a repeated key at the top level (last wins: order matters there by
// definition) are skipped.
func FuzzHashKeyOrder(f *testing.F) {
	for _, s := range []string{
		`{"src_ip":"10.0.0.1","source":{"ip":""}}`, `{"src_ip":"","id.orig_h":"10.0.0.2","msg":"x"}`,
		`{"source":{"ip":null},"src_ip":"10.0.0.1","user":{"name":"a"},"user.name":"b"}`,
		`{"msg":"a","message":"b","src_port":1,"source":{"port":""}}`, `{"a":1,"b":{"c":2}}`,
	} {
		f.Add([]byte(s))
	}
	c, err := Compile(testConfig())
	if err != nil {
		f.Fatal(err)
	}
	n := c.New()
	var p1, p2 fastjson.Parser
	var a fastjson.Arena
	f.Fuzz(func(t *testing.T, in []byte) {
		v, err := p1.ParseBytes(in)
		if err != nil || v.Type() != fastjson.TypeObject {
			return
		}
		o, _ := v.Object()
		seen := map[string]bool{}
		var keys []string
		var vals []*fastjson.Value
		dup := false
		o.Visit(func(k []byte, x *fastjson.Value) {
			for _, c := range k {
				// fastjson writes such keys unescaped (Object.MarshalTo):
				// the reversed text would not be the same event.
				dup = dup || c < 0x20 || c == '"' || c == '\\' || c >= 0x7f
			}
			// Keys written alike (searchableKey: "" and "_") are
			// repeated keys too: the last one wins.
			w := string(searchableKey(k, true))
			dup = dup || seen[w]
			seen[w] = true
			keys = append(keys, string(k))
			vals = append(vals, x)
		})
		if dup || len(keys) < 2 {
			return
		}
		a.Reset()
		rev := a.NewObject()
		for i := len(keys) - 1; i >= 0; i-- {
			rev.Set(keys[i], vals[i])
		}
		revJSON := rev.MarshalTo(nil)
		w, err := p2.ParseBytes(revJSON)
		if err != nil {
			t.Fatalf("reversed %s does not parse: %v", revJSON, err)
		}
		out1, ev1, err1 := n.Append(nil, v, nil, testMeta(), nil)
		out1 = append([]byte(nil), out1...)
		out2, ev2, err2 := n.Append(nil, w, nil, testMeta(), nil)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("one order refused, the other not: %v / %v\n in: %s\nrev: %s", err1, err2, in, revJSON)
		}
		if err1 == nil && ev1.Hash != ev2.Hash {
			t.Fatalf("the hash depends on member order:\n in: %s\nout: %s\nrev: %s\nout: %s", in, out1, revJSON, out2)
		}
	})
}
