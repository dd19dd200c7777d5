package normalize

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestDottedOwnLogrouterSpoof: a dotted root key "logrouter.token" passed
// the root-key check:
// rules reading logrouter.token saw the sender's value, not the ingest one.
func TestDottedOwnLogrouterSpoof(t *testing.T) {
	n := mustCompile(t, DefaultConfig()).New()
	var p fastjson.Parser
	v, _ := p.Parse(`{"msg":"x","logrouter.token":"spoofed","logrouter.index":"edr"}`)
	out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("out: %s", out)
	tok := CompilePath("logrouter.token")
	if got := n.LookupPath(&tok); string(got.Str) != "fw" {
		t.Errorf("rules see logrouter.token = %q, want the ingest token fw", got.Str)
	}
	idx := CompilePath("logrouter.index")
	if got := n.LookupPath(&idx); got.Kind != 0 {
		t.Errorf("rules see logrouter.index = %q (sender-supplied)", got.Str)
	}
}
