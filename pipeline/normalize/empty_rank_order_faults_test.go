package normalize

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestEmptyOwnValueRankIsKeyOrderFree
//
// What is wrong: 81b869c made a null/"" value rank below any other value
// of the same field "whatever their sources" (Normalizer.keeps), but only
// where a rename arrives second (setRenamed). When the event's own empty
// value of the target comes after the renamed real value, the walk sets it
// with setH, which moves the renamed value back under its source key
// (moveBack) and then drops the empty own value as empty: the field ends
// up missing and the real value stays under its source name. With the
// members the other way round, keeps lets the renamed value take the
// empty one's place. So {"srcip":"10.0.0.1","source":{"ip":""}} and
// {"source":{"ip":""},"srcip":"10.0.0.1"} (the same content, key order
// aside) normalize to different documents and different content hashes.
// Before 81b869c (b55c36c and 3e653e7) both orders gave the same output.
//
// Reproduce: global renames srcip -> source.ip (config.example.yaml),
// normalize both orders.
//
// Expected: the same output fields and the same Event.Hash (pipeline/event.go:
// Hash "identifies the event's content independent of key order";
// docs/schema.md: a renamed null/"" "yields to any other source's value
// of its new name, whatever their rank", and Normalizer.keeps: "a value
// keeps its place against an empty one, and takes an empty one's,
// whatever their sources").
func TestEmptyOwnValueRankIsKeyOrderFree(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rename = exampleRenames()
	norm := func(in string) (string, uint64) {
		n := mustCompile(t, cfg).New()
		out, ev, err := n.Append(nil, fastjson.MustParse(in), nil, testMeta(), &EventMeta{})
		if err != nil {
			t.Fatal(err)
		}
		return string(out), ev.Hash
	}
	for _, c := range [][2]string{
		{`{"srcip":"10.0.0.1","source":{"ip":""}}`, `{"source":{"ip":""},"srcip":"10.0.0.1"}`},
		{`{"srcip":"10.0.0.1","source":{"ip":null}}`, `{"source":{"ip":null},"srcip":"10.0.0.1"}`},
		{`{"hostname":"web-1","host":{"name":""}}`, `{"host":{"name":""},"hostname":"web-1"}`}, // host.name
	} {
		out1, h1 := norm(c[0])
		out2, h2 := norm(c[1])
		ip1 := fastjson.MustParse(out1).GetStringBytes("source", "ip")
		ip2 := fastjson.MustParse(out2).GetStringBytes("source", "ip")
		if len(ip1)+len(ip2) == 0 {
			ip1 = fastjson.MustParse(out1).GetStringBytes("host", "name")
			ip2 = fastjson.MustParse(out2).GetStringBytes("host", "name")
		}
		if h1 != h2 || string(ip1) != string(ip2) {
			t.Errorf("the same event in two key orders normalizes differently:\n%s\n  -> target %q hash %x\n  %s\n%s\n  -> target %q hash %x\n  %s",
				c[0], ip1, h1, out1, c[1], ip2, h2, out2)
		}
	}
}
