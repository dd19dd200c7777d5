package syslog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
)

var syslogST = []byte("syslog")

// splitCheck normalizes a message both ways: through AppendJSON's whole
// object (the reference) and through route.SyslogParser, which parses a JSON payload
// once and hands the header's members around it to the normalizer.
type splitCheck struct {
	ref  *parse.Parser
	jp   fastjson.Parser
	mp   route.SyslogParser
	norm *normalize.Normalizer
	meta pipeline.Meta
}

func newSplitCheck(t testing.TB, keepOriginal bool) *splitCheck {
	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }
	opts := parse.Options{Now: now, KeepOriginal: keepOriginal}
	return &splitCheck{
		ref:  parse.New(opts),
		mp:   route.SyslogParser{Parser: parse.New(opts)},
		norm: c.New(),
		meta: pipeline.Meta{Input: "syslog", Protocol: "syslog-tcp", Peer: "10.0.0.1", IngestTime: now().UnixNano()},
	}
}

// check fails t when the two ways normalize msg differently. They may
// differ in one documented way: fastjson takes some payloads that
// AppendJSON's strict validator leaves as text (then the split path's
// result is only required to normalize), and invalid UTF-8 is spelled
// differently (see sameJSON). The event hash is compared for
// valid UTF-8 only: with invalid bytes in a key, AppendJSON's replaced key
// and fastjson's raw one hash differently, as they do on the HTTP inputs.
func (c *splitCheck) check(t *testing.T, msg []byte) {
	t.Helper()
	refObj, refRes := c.ref.AppendJSON(nil, msg)
	rv, err := c.jp.ParseBytes(refObj)
	if err != nil {
		t.Fatalf("AppendJSON wrote invalid JSON for %q: %v", msg, err)
	}
	dsRef := normalize.EventMeta{DefaultSourceType: syslogST, KeepOwnLogrouter: true}
	want, wantEv, wantErr := c.norm.Append(nil, rv, nil, &c.meta, &dsRef)

	em := normalize.EventMeta{DefaultSourceType: syslogST, KeepOwnLogrouter: true}
	v, res, err := c.mp.Parse(msg, &em)
	if err != nil {
		t.Fatalf("split path: %q: %v", msg, err)
	}
	got, gotEv, gotErr := c.norm.Append(nil, v, nil, &c.meta, &em)

	if res.Format == parse.FormatJSON && refRes.Format != parse.FormatJSON {
		if gotErr == nil && !fastjson.Exists(got, "@timestamp") {
			t.Errorf("split path, lenient JSON %q: no @timestamp in %s", msg, got)
		}
		return
	}
	if res.Status != refRes.Status || res.Format != refRes.Format || !bytes.Equal(res.Hostname, refRes.Hostname) || !bytes.Equal(res.App, refRes.App) {
		t.Errorf("%q: result %+v, AppendJSON's %+v", msg, res, refRes)
	}
	if (gotErr == nil) != (wantErr == nil) {
		t.Fatalf("%q: normalize error %v, through AppendJSON %v", msg, gotErr, wantErr)
	}
	if !bytes.Equal(got, want) && (utf8.Valid(msg) || !sameJSON(got, want)) {
		t.Errorf("%q:\nsplit       %s\nAppendJSON  %s", msg, got, want)
	}
	if utf8.Valid(msg) && gotEv.Hash != wantEv.Hash {
		t.Errorf("%q: hash %x, through AppendJSON %x", msg, gotEv.Hash, wantEv.Hash)
	}
}

// sameJSON reports whether a and b decode to the same value. Invalid UTF-8
// in a payload is spelled differently by the two ways (AppendJSON writes
// U+FFFD into the object, which the normalizer then writes as is; the
// normalizer writes "\ufffd" for the raw bytes) and means the same.
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}

// splitSeeds are the parser corpus plus messages around JSON payloads: every
// reserved key, escapes, white space, duplicates and renamed fields.
func splitSeeds(t testing.TB) [][]byte {
	files, err := filepath.Glob("parse/testdata/corpus/*.log")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var seeds [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bytes.Split(data, []byte{'\n'}) {
			if len(l) > 0 {
				seeds = append(seeds, l)
			}
		}
	}
	for _, s := range []string{
		`<14>1 2026-11-28T10:00:00Z app01 api 77 ID1 [ex@32473 a="1"] {"log":{"level":"info"},"process":{"name":"x"}}`,
		`<14>1 2026-11-28T10:00:00Z app01 api 77 ID1 - {"log\u0072outer":1}`,
		`<14>1 2026-11-28T10:00:00Z app01 api 77 ID1 - {"logrouter.token":"spoof","a":1}`,
		`<14>1 2026-11-28T10:00:00Z app01 api 77 ID1 - {"a":1,"a":{"b":2},"a":{"c":3}}`,
		`<14>1 2026-11-28T10:00:00Z app01 api 77 ID1 - {"src_ip":"10.0.0.1","dst_port":443,"event":{"dataset":"fortinet.fortigate"}}`,
		`<14>1 2026-11-28T10:00:00Z app01 api 77 ID1 - {"host":{"name":"h"},"message":"m"}` + "\t \r\n",
		`<14>Nov 28 10:00:00 app01 node[321]: 	 {"time":"2026-11-28T10:00:00Z","msg":"x"}`,
		`<14>Nov 28 10:00:00 app01 node[321]: {"a":"` + "\xff\xfe" + `","` + "k\xc3" + `":{"x":1}}`,
		`<14>Nov 28 10:00:00 app01 node[321]: {"a":"` + "\x01" + `"}`,
		`{"a":nan}`,
		`{}`,
		`{"a":1}}`,
		` {"a":[1,2,{"b":null}]} `,
	} {
		seeds = append(seeds, []byte(s))
	}
	return seeds
}

// TestSplitMatchesAppendJSON: the single-parse path of JSON payloads
// normalizes every seed as AppendJSON's object does.
func TestSplitMatchesAppendJSON(t *testing.T) {
	for _, keep := range []bool{false, true} {
		c := newSplitCheck(t, keep)
		for _, msg := range splitSeeds(t) {
			c.check(t, msg)
		}
	}
}

func FuzzSplitMatchesAppendJSON(f *testing.F) {
	for _, s := range splitSeeds(f) {
		f.Add(s)
	}
	c := newSplitCheck(f, true)
	f.Fuzz(func(t *testing.T, msg []byte) { c.check(t, msg) })
}
