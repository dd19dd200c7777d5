package normalize

// Fault tests from a review of the content hash: each failed on the code
// as it was found; the comments describe that code.

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/valyala/fastjson"
)

// faultHash normalizes one JSON event and returns the output and its
// content hash.
func faultHash(t *testing.T, cfg Config, in string, m *EventMeta) (string, uint64) {
	t.Helper()
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	v, err := p.Parse(in)
	if err != nil {
		t.Fatalf("parse %s: %v", in, err)
	}
	out, ev, err := n.Append(nil, v, nil, testMeta(), m)
	if err != nil {
		t.Fatalf("normalize %s: %v", in, err)
	}
	return string(out), ev.Hash
}

// faultGateway normalizes the edge's output again as the gateway does
// with a record read from Kafka (EventMeta.Normalized, KeepOwnLogrouter)
// and returns the gateway's output and hash.
func faultGateway(t *testing.T, cfg Config, edgeOut string) (string, uint64) {
	t.Helper()
	return faultHash(t, cfg, edgeOut, &EventMeta{Normalized: true, KeepOwnLogrouter: true})
}

// TestRenameCollisionIndependentOfKeyOrder
//
// What is wrong: when a rename's target is a field the event also has
// (config.example.yaml's global renames: src_ip -> source.ip, msg ->
// message, hostname -> host.name), the two scalars land on one node and
// walk/setH keep whichever came last in the input's text ("*nd = node{...}"
// in setH: a rename target and the event's own member are not "a repeated
// key within one JSON object", but are treated as one). So the same JSON
// object with its members in another order normalizes to another value
// (source.ip 10.0.0.2 vs 10.0.0.1) and another content hash, and one of
// the two values vanishes without a trace.
//
// Expected: docs/architecture.md (Deduplication): "The key is the
// event's content hash (... key order, whitespace and ingest metadata do not
// change it)"; README's dedup row: "content hash (key order/whitespace/ingest
// metadata ignored)". The same object sent by two shippers that order keys
// differently (Go maps, Python dicts, jq) must give one output and one
// hash: whichever value wins (the event's own, the renamed one, or both
// kept), it must not depend on member order.
//
// Why it matters: a repeat from another collector escapes dedup and gets a
// second OpenSearch _id; which source.ip a detection sees depends on key
// order.
func TestRenameCollisionIndependentOfKeyOrder(t *testing.T) {
	cfg := testConfig()
	cfg.Rename = exampleRenames()
	for _, c := range [][2]string{
		{`{"ts":1700000000,"src_ip":"10.0.0.1","source":{"ip":"10.0.0.2"},"action":"deny"}`,
			`{"ts":1700000000,"source":{"ip":"10.0.0.2"},"action":"deny","src_ip":"10.0.0.1"}`},
		{`{"ts":1700000000,"msg":"login failed","message":"sshd[811]: login failed"}`,
			`{"ts":1700000000,"message":"sshd[811]: login failed","msg":"login failed"}`},
		{`{"ts":1700000000,"host":{"name":"filebeat-7"},"hostname":"web-01"}`,
			`{"ts":1700000000,"hostname":"web-01","host":{"name":"filebeat-7"}}`},
		// Two renamed sources of one field (src_ip, srcip -> source.ip).
		{`{"ts":1700000000,"src_ip":"10.0.0.1","srcip":"10.0.0.3"}`,
			`{"ts":1700000000,"srcip":"10.0.0.3","src_ip":"10.0.0.1"}`},
	} {
		oa, ha := faultHash(t, cfg, c[0], nil)
		ob, hb := faultHash(t, cfg, c[1], nil)
		// The same value of every field (member order in the output
		// follows the input's, which JSON does not count).
		if ha != hb || !sameJSON(t, oa, ob) {
			t.Errorf("same object, other key order: hashes %#x / %#x\n in  %s\n out %s\n in  %s\n out %s", ha, hb, c[0], oa, c[1], ob)
		}
	}
}

// TestGatewayHashInvalidUTF8
//
// What is wrong: AppendString (escape.go) writes an invalid UTF-8 byte as
// the six characters \ufffd, but a real U+FFFD as its three UTF-8 bytes;
// the member's hash is over the written bytes. A Latin-1 syslog line
// ("m\xfcller", any European Windows or Linux host) normalized at an edge
// is written "m\ufffdller"; the gateway reads it back from Kafka (fastjson
// unescapes it to a real U+FFFD) and writes "m<EF BF BD>ller": the same
// string, other bytes, another content hash. (Equally, the same event sent
// raw and sent by a shipper that already replaced the byte, as Go's
// encoding/json does, hash differently although their outputs decode to
// the same document.)
//
// Expected: docs/architecture.md ("An edge's events at the gateway"):
// "... its event.ingested stays out of the content hash, so an event has
// the same _id whether it came through an edge or straight to a gateway."
// The gateway's hash of the edge's output equals the edge's hash.
//
// Why it matters: every event with a non-UTF-8 byte gets one _id straight
// to a gateway and another through an edge (indexed twice, not
// deduplicated across the two paths).
func TestGatewayHashInvalidUTF8(t *testing.T) {
	cfg := testConfig()
	cfg.Rename = exampleRenames()
	in := "{\"ts\":1700000000,\"user\":\"m\xfcller\",\"msg\":\"Failed password for m\xfcller from 203.0.113.9\"}"
	edge, he := faultHash(t, cfg, in, nil)
	gw, hg := faultGateway(t, cfg, edge)
	if he != hg {
		t.Errorf("edge hash %#x, gateway hash %#x for the same event\n edge    %s\n gateway %s", he, hg, edge, gw)
	}
}

// TestGatewayHashMergedLabels
//
// What is wrong: when an event's own label and a HEC indexed field of the
// same name differ, keepBoth (normalize.go) stores the pair as one JSON
// literal "[...]" (kLit), which writeObject hashes as one leaf
// `"env":["dev","prod"]`. Read back (at a gateway, from Kafka) the same
// member is an array, hashed element by element (writeValue): the same
// output, another content hash.
//
// Expected: docs/architecture.md: "so an event has the same _id whether it
// came through an edge or straight to a gateway"; docs/schema.md:
// "labels.* HEC indexed fields ... with a different value the two become
// an array". An array is hashed as an array wherever it came from.
//
// Why it matters: HEC senders (Splunk forwarders moved over, OTel's
// splunk_hec exporter) set indexed fields on every event; each such event
// whose own labels overlap gets a different _id through an edge.
func TestGatewayHashMergedLabels(t *testing.T) {
	cfg := testConfig()
	var p fastjson.Parser
	fields, err := p.Parse(`{"env":"prod","team":"soc"}`)
	if err != nil {
		t.Fatal(err)
	}
	edge, he := faultHash(t, cfg, `{"ts":1700000000,"labels":{"env":"dev"},"msg":"x"}`, &EventMeta{Fields: fields})
	gw, hg := faultGateway(t, cfg, edge)
	if he != hg {
		t.Errorf("edge hash %#x, gateway hash %#x for the same event\n edge    %s\n gateway %s", he, hg, edge, gw)
	}
}

// sameJSON reports whether a and b decode to the same value.
func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}
