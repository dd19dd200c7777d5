package normalize

// Fault tests from a review of 12f05ad ("normalize: a value that does
// not convert is set aside"). Each fails on the code as found; the comments
// describe that code.

import (
	"strings"
	"testing"
)

// TestSetAsideValueInContentHash
//
// What is wrong: setAside (profile.go, "n.nodes[c].kind = kRemoved" and
// the value written under logrouter.unconverted, whose node has
// skip = true) takes a value that did not convert out of the content hash
// altogether: it is no longer at its path, and everything under logrouter
// is skipped by writeObject's hash. Before the commit the value stayed at
// source.ip and was hashed. So two events that differ only in a value that
// does not convert (srcip "N/A-proxy" vs "host-b", a FortiGate's srcport
// "49538/tcp" vs "50000/tcp") get the same content hash.
//
// How to reproduce: a profile converting source.ip to ip; normalize
// {"srcip":"host-a",...} and {"srcip":"host-b",...}; compare Event.Hash.
//
// Expected: different hashes. The hash is the OpenSearch _id and the dedup
// key (hash.go: "it becomes the OpenSearch _id and the deduplication
// key"); README's dedup row and normalize.go's package doc exclude only
// ingest metadata ("so the same event sent twice hashes the same"). The
// set-aside value is the event's own content, not ingest metadata
// (docs/schema.md, logrouter.unconverted.*: "excluded from the content
// hash, as all of logrouter" is exactly the fault).
//
// Why it matters: the second event is dropped by dedup as a repeat of the
// first (or overwrites it under the same _id): the value the commit meant
// to keep ("removed, the value would be lost") is lost with its whole event.
func TestSetAsideValueInContentHash(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:    "fw",
		Rename:  OrderedMap{Keys: []string{"srcip", "srcport"}, Values: []string{"source.ip", "source.port"}},
		Convert: OrderedMap{Keys: []string{"source.ip", "source.port"}, Values: []string{"ip", "int"}},
	}}
	m := &EventMeta{SourceType: []byte("fw")}
	for _, c := range [][2]string{
		{`{"ts":1700000000,"srcip":"host-a","action":"deny"}`, `{"ts":1700000000,"srcip":"host-b","action":"deny"}`},
		{`{"ts":1700000000,"srcip":"10.0.0.1","srcport":"49538/tcp"}`, `{"ts":1700000000,"srcip":"10.0.0.1","srcport":"50000/tcp"}`},
	} {
		oa, ha := faultHash(t, cfg, c[0], m)
		ob, hb := faultHash(t, cfg, c[1], m)
		if !strings.Contains(oa, `"unconverted"`) || !strings.Contains(ob, `"unconverted"`) {
			t.Fatalf("precondition: the values are set aside:\n%s\n%s", oa, ob)
		}
		if ha == hb {
			t.Errorf("two different events, one content hash %#x (dedup drops the second; one _id):\n %s\n %s", ha, oa, ob)
		}
	}
}

// TestSetAsideHashAtGateway: a gateway reading an edge's output (the set
// aside value under logrouter.unconverted, kept as the edge's metadata)
// hashes it as the edge did, so a repeat seen at both is one event.
func TestSetAsideHashAtGateway(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:    "fw",
		Rename:  OrderedMap{Keys: []string{"srcip"}, Values: []string{"source.ip"}},
		Convert: OrderedMap{Keys: []string{"source.ip"}, Values: []string{"ip"}},
	}}
	edgeOut, edgeHash := faultHash(t, cfg, `{"ts":1700000000,"srcip":"host-a"}`, &EventMeta{SourceType: []byte("fw")})
	if !strings.Contains(edgeOut, `"unconverted":{"source.ip":"host-a"}`) {
		t.Fatalf("precondition: set aside: %s", edgeOut)
	}
	out, gwHash := faultGateway(t, cfg, edgeOut)
	if gwHash != edgeHash {
		t.Errorf("gateway hash %#x, edge hash %#x:\n edge    %s\n gateway %s", gwHash, edgeHash, edgeOut, out)
	}
}
