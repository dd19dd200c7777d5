package normalize

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

var ingest = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC).UnixNano()

func testMeta() *pipeline.Meta {
	return &pipeline.Meta{Input: "http", Protocol: "ndjson", Peer: "10.0.0.9", Token: "fw", IngestTime: ingest}
}

func mustCompile(t testing.TB, cfg Config) *Compiled {
	t.Helper()
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func testConfig() Config {
	c := DefaultConfig()
	c.Rename = map[string]string{
		"src_ip":    "source.ip",
		"src_port":  "source.port",
		"dst_ip":    "destination.ip",
		"id.orig_h": "source.ip",
		"msg":       "message",
		"user.name": "user.id",
	}
	c.Drop = []string{"@version", "agent.ephemeral_id"}
	return c
}

func normalizeOne(t testing.TB, n *Normalizer, in string, m *EventMeta) (string, pipeline.Event) {
	t.Helper()
	var p fastjson.Parser
	var obj *fastjson.Value
	var text []byte
	if len(in) > 0 && in[0] == '{' {
		v, err := p.Parse(in)
		if err != nil {
			t.Fatalf("parse %s: %v", in, err)
		}
		obj = v
	} else {
		text = []byte(in)
	}
	out, ev, err := n.Append(nil, obj, text, testMeta(), m)
	if err != nil {
		t.Fatalf("normalize %s: %v", in, err)
	}
	if !json.Valid(out) {
		t.Fatalf("output is not valid JSON: %s", out)
	}
	return string(out), ev
}

const meta = `"logrouter":{"input":"http","protocol":"ndjson","peer":"10.0.0.9","token":"fw"}`

func TestNormalizeGolden(t *testing.T) {
	n := mustCompile(t, testConfig()).New()
	tests := []struct {
		name string
		in   string
		m    *EventMeta
		want string
	}{
		{
			name: "epoch seconds, rename into new object, drop",
			in:   `{"ts":1700000000,"src_ip":"10.1.1.1","src_port":443,"@version":"1","action":"allow"}`,
			want: `{"@timestamp":"2023-11-14T22:13:20.000Z","source":{"ip":"10.1.1.1","port":443},"action":"allow","event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			// The event's own source.ip outranks the renamed src_ip, in
			// either order, and src_ip stays where it was.
			name: "rename merges into an existing object, the event's own value wins",
			in:   `{"source":{"ip":"1.1.1.1","geo":"NL"},"src_ip":"2.2.2.2","time":"2026-11-28T10:00:00.5+01:00"}`,
			want: `{"@timestamp":"2026-11-28T09:00:00.500Z","source":{"ip":"1.1.1.1","geo":"NL"},"src_ip":"2.2.2.2","event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "duplicate keys: last wins in the first position",
			in:   `{"a":1,"b":2,"a":3,"o":{"x":1},"o":{"y":2}}`,
			want: `{"@timestamp":"2026-11-28T12:00:00.000Z","a":3,"b":2,"o":{"y":2},"event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "null and empty values removed, objects emptied by that too",
			in:   `{"a":null,"b":"","c":[],"d":{},"e":{"f":null},"g":0,"h":false,"i":[null,""]}`,
			want: `{"@timestamp":"2026-11-28T12:00:00.000Z","g":0,"h":false,"i":[null,""],"event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "zeek dotted key renamed, nested path renamed, msg to message",
			in:   `{"id.orig_h":"192.0.2.1","user":{"name":"alice"},"msg":"hi"}`,
			want: `{"@timestamp":"2026-11-28T12:00:00.000Z","source":{"ip":"192.0.2.1"},"user":{"id":"alice"},"message":"hi","event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "existing @timestamp is rewritten canonically in front",
			in:   `{"message":"x","@timestamp":"2026-11-28T11:00:00Z"}`,
			want: `{"@timestamp":"2026-11-28T11:00:00.000Z","message":"x","event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "unparseable time field kept, ingest time used",
			in:   `{"time":"yesterday","x":1}`,
			want: `{"@timestamp":"2026-11-28T12:00:00.000Z","time":"yesterday","x":1,"event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "strings re-escaped, invalid numbers become strings",
			in:   "{\"s\":\"tab\\there \\u00e9 \\\"q\\\"\",\"n\":1.2.3,\"bad\":\"\\x\"}",
			want: `{"@timestamp":"2026-11-28T12:00:00.000Z","s":"tab\there é \"q\"","n":"1.2.3","bad":"\\x","event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "envelope metadata: time, sourcetype, host, index, fields",
			in:   `{"message":"m","host":{"ip":"1.2.3.4"},"event":{"kind":"alert"}}`,
			m: &EventMeta{Time: 1700000000123000000, SourceType: []byte("crowdstrike.falcon"), Host: []byte("ws1"),
				Index: []byte("main"), Source: []byte("api")},
			want: `{"@timestamp":"2023-11-14T22:13:20.123Z","message":"m","host":{"ip":"1.2.3.4","name":"ws1"},"event":{"kind":"alert","dataset":"crowdstrike.falcon","ingested":"2026-11-28T12:00:00.000Z"},"logrouter":{"input":"http","protocol":"ndjson","peer":"10.0.0.9","token":"fw","index":"main","source":"api"}}`,
		},
		{
			name: "event.dataset in the event wins over the default",
			in:   `{"event":{"dataset":"okta.system"}}`,
			m:    &EventMeta{DefaultSourceType: []byte("generic")},
			want: `{"@timestamp":"2026-11-28T12:00:00.000Z","event":{"dataset":"okta.system","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "host scalar blocks host.name: kept as is",
			in:   `{"host":"fw01"}`,
			m:    &EventMeta{Host: []byte("other")},
			want: `{"@timestamp":"2026-11-28T12:00:00.000Z","host":"fw01","event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "text event",
			in:   "plain line with \x01 control",
			want: `{"@timestamp":"2026-11-28T12:00:00.000Z","message":"plain line with \u0001 control","event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
		{
			name: "objects inside arrays: duplicates and nulls resolved, no renames",
			in:   `{"arr":[{"k":1,"k":2,"z":null,"src_ip":"x"}]}`,
			want: `{"@timestamp":"2026-11-28T12:00:00.000Z","arr":[{"k":2,"src_ip":"x"}],"event":{"dataset":"unknown","ingested":"2026-11-28T12:00:00.000Z"},` + meta + `}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := normalizeOne(t, n, tt.in, tt.m)
			if got != tt.want {
				t.Errorf("\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestHashIgnoresOrderWhitespaceAndIngestMetadata(t *testing.T) {
	n := mustCompile(t, testConfig()).New()
	_, a := normalizeOne(t, n, `{"a":1,"b":{"c":"x","d":[1,2]},"ts":1700000000}`, nil)
	_, b := normalizeOne(t, n, "{ \"b\" : { \"d\" : [1, 2], \"c\":\"x\" },\n \"ts\":1700000000, \"a\" : 1 }", nil)
	if a.Hash != b.Hash {
		t.Fatalf("reordered event hashes differ: %x vs %x", a.Hash, b.Hash)
	}
	// different ingest metadata, same content
	var p fastjson.Parser
	v, _ := p.Parse(`{"a":1,"b":{"c":"x","d":[1,2]},"ts":1700000000}`)
	m := testMeta()
	m.Peer, m.IngestTime = "192.0.2.99", ingest+int64(time.Hour)
	_, c, err := n.Append(nil, v, nil, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash != a.Hash {
		t.Fatalf("ingest metadata changed the hash")
	}
	for _, other := range []string{
		`{"a":2,"b":{"c":"x","d":[1,2]},"ts":1700000000}`,
		`{"a":1,"b":{"c":"x","d":[2,1]},"ts":1700000000}`,
		`{"a":1,"b":{"c":"x","e":[1,2]},"ts":1700000000}`,
		`{"a":1,"b":{"c":"x","d":[1,2]},"ts":1700000001}`,
		`{"a":1,"b":{"c":"x","d":[1,2]},"ts":1700000000,"f":true}`,
	} {
		if _, o := normalizeOne(t, n, other, nil); o.Hash == a.Hash {
			t.Errorf("%s hashes like the original", other)
		}
	}
}

func TestLookup(t *testing.T) {
	n := mustCompile(t, testConfig()).New()
	var p fastjson.Parser
	v, _ := p.Parse(`{"src_ip":"10.0.0.1","n":5,"b":true,"z":null,"arr":[1],"id.orig_h":"x","o":{"k":"v"}}`)
	if err := n.Build(v, nil, testMeta(), &EventMeta{SourceType: []byte("zeek.conn")}); err != nil {
		t.Fatal(err)
	}
	cases := map[string]Value{
		"source.ip":     {Kind: String, Str: []byte("x")}, // of two renamed sources, the path that sorts first (id.orig_h) wins
		"n":             {Kind: Number, Num: 5},
		"b":             {Kind: Bool, Bool: true},
		"z":             {Kind: Null},
		"missing":       {},
		"o.k":           {Kind: String, Str: []byte("v")},
		"event.dataset": {Kind: String, Str: []byte("zeek.conn")},
		"src_ip":        {Kind: String, Str: []byte("10.0.0.1")}, // outranked: kept under its own key
	}
	for path, want := range cases {
		got := n.Lookup(path)
		if got.Kind != want.Kind || string(got.Str) != string(want.Str) || got.Num != want.Num || got.Bool != want.Bool {
			t.Errorf("Lookup(%q) = %+v, want %+v", path, got, want)
		}
	}
	if got := n.Lookup("arr"); got.Kind != Array || got.Raw == nil {
		t.Errorf("Lookup(arr) = %+v", got)
	}
}

func TestRejects(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxFields = 3
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	v, _ := p.Parse(`{"a":1,"b":2,"c":3,"d":4}`)
	if err := n.Build(v, nil, testMeta(), nil); err != ErrTooManyFields || Reason(err) != "too_many_fields" {
		t.Fatalf("got %v", err)
	}
	v, _ = p.Parse(`[1,2]`)
	if err := n.Build(v, nil, testMeta(), nil); err != ErrNotObject {
		t.Fatalf("got %v", err)
	}
	if err := n.Build(nil, nil, testMeta(), nil); Reason(err) != "empty_event" {
		t.Fatalf("got %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{Rename: map[string]string{"a": "@timestamp"}},
		{Rename: map[string]string{"a": "logrouter.x"}},
		{Rename: map[string]string{"a..b": "c"}},
		{Rename: map[string]string{"a": "b"}, Drop: []string{"a"}},
		{TimestampFields: []string{""}},
		{MaxFields: -1},
	}
	for i, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("case %d: expected an error for %+v", i, c)
		}
	}
}

func TestZeroAllocsSteadyState(t *testing.T) {
	n := mustCompile(t, testConfig()).New()
	var p fastjson.Parser
	in := []byte(`{"ts":"2026-11-28T10:00:00Z","src_ip":"10.1.1.1","user":{"name":"bob"},"arr":[{"a":1}],"msg":"hello \"world\"","n":1.5}`)
	m := testMeta()
	em := &EventMeta{SourceType: []byte("fortinet.fortigate"), Host: []byte("h")}
	dst := make([]byte, 0, 4096)
	run := func() {
		v, err := p.ParseBytes(in)
		if err != nil {
			t.Fatal(err)
		}
		dst, _, err = n.Append(dst[:0], v, nil, m, em)
		if err != nil {
			t.Fatal(err)
		}
	}
	run()
	if a := testing.AllocsPerRun(200, run); a != 0 {
		t.Fatalf("%.1f allocations per event, want 0", a)
	}
}

// TestOwnLogrouterDropped: a sender's own "logrouter" member used to be
// merged with the ingest metadata, so logrouter.token, .index, .source or
// any extra member could be spoofed (only non-empty metadata overwrote it).
// It is dropped unless the input owns it (KeepOwnLogrouter: syslog, Kafka).
func TestOwnLogrouterDropped(t *testing.T) {
	n := mustCompile(t, DefaultConfig()).New()
	in := `{"msg":"x","logrouter":{"token":"fw-token","index":"edr","source":"crowdstrike","extra":"y"}}`
	for _, keep := range []bool{false, true} {
		var p fastjson.Parser
		v, _ := p.Parse(in)
		out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{KeepOwnLogrouter: keep})
		if err != nil {
			t.Fatal(err)
		}
		var op fastjson.Parser
		ov, _ := op.ParseBytes(out)
		lr := ov.Get("logrouter")
		spoofed := lr.Get("extra") != nil || string(lr.GetStringBytes("index")) == "edr" || string(lr.GetStringBytes("source")) == "crowdstrike"
		if spoofed == !keep {
			t.Errorf("keep %v: logrouter %s", keep, lr)
		}
		if string(lr.GetStringBytes("input")) != "http" {
			t.Errorf("keep %v: ingest metadata lost: %s", keep, lr)
		}
	}
}
