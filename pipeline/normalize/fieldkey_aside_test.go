package normalize

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// TestFieldKeyObjectIncludesSetAside: dedup.key_fields naming an object
// (source) keys it by its content as sent, set-aside values included: two
// events whose only difference is a source.ip that does not convert (moved
// to logrouter.unconverted) keep different keys, so dedup does not drop
// the second as a repeat of the first; the same event keys alike at an edge
// and at a gateway reading the edge's output.
func TestFieldKeyObjectIncludesSetAside(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "fw", Convert: OrderedMap{Keys: []string{"source.ip"}, Values: []string{"ip"}}}}
	n := mustCompile(t, cfg).New()
	src := CompilePath("source")
	key := func(in string, m *EventMeta) string { return fieldKeyOf(t, n, &src, in, m) }
	fw := &EventMeta{SourceType: []byte("fw")}
	a := key(`{"source":{"ip":"host-a","port":1}}`, fw)
	b := key(`{"source":{"ip":"host-b","port":1}}`, fw)
	a2 := key(`{"source":{"port":1,"ip":"host-a"}}`, fw)
	if a == b {
		t.Errorf("source with set-aside ips host-a and host-b: the same key")
	}
	if a != a2 {
		t.Errorf("the same source in another member order: different keys")
	}
	// The edge's output read at a gateway keys alike.
	var p fastjson.Parser
	v, _ := p.Parse(`{"source":{"ip":"host-a","port":1}}`)
	edge, _, err := n.Append(nil, v, nil, &pipeline.Meta{Input: "t", IngestTime: ingest}, fw)
	if err != nil {
		t.Fatal(err)
	}
	g := key(string(edge), &EventMeta{SourceType: []byte("fw"), Normalized: true, KeepOwnLogrouter: true}) // as kafkain reads an edge
	if g != a {
		t.Errorf("gateway key %x, edge key %x", g, a)
	}
}

// fieldKeyOf builds event in with n and returns FieldKey of path p.
func fieldKeyOf(t *testing.T, n *Normalizer, p *Path, in string, m *EventMeta) string {
	t.Helper()
	var fp fastjson.Parser
	v, err := fp.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Build(v, nil, &pipeline.Meta{Input: "t", IngestTime: ingest}, m); err != nil {
		t.Fatal(err)
	}
	return string(n.FieldKey(nil, p))
}
