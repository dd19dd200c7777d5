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
