package httpin

import (
	"bytes"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestOTLPJSONTokenRecordParsedWhole: e4e6dbe fixed "a record over
// max_event_bytes was converted (and OTLP/JSON parsed whole: 350 MiB of
// heap for a 5 MB body) before the size check: now refused unconverted"
// (TestOTLPRecordOverMaxEventBytesIsParsed). But recordJSON hands the
// too_large record to stripTokenJSON first, which parses it WHOLE with a
// fresh fastjson.Parser (and re-marshals it) whenever its text contains
// "com.splunk.hec.access_token" - which every record does that carries the
// attribute the splunk_hec exporter's users set (or that any sender adds on
// purpose). The same 5 MB record as in that test, with the token attribute,
// again grows the heap by ~250 MiB, 50x the body and 6x max_body_bytes +
// max_normalized_bytes, none of it counted against max_inflight_bytes;
// 128 concurrent requests take tens of GiB. The fix of the earlier fault is
// bypassed by one attribute.
// Expected: a record over max_event_bytes is not parsed whole to remove
// the token (scan for the attribute, or keep the record's first
// max_event_bytes and strip from that only): the request's heap stays
// within max_body_bytes + max_normalized_bytes, as without the attribute.
func TestOTLPJSONTokenRecordParsedWhole(t *testing.T) {
	cfg := Config{MaxBodyBytes: 8 << 20, MaxNormalizedBytes: 32 << 20, MaxEventBytes: 64 << 10}
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	lr.Body().SetStr("scan finished")
	lr.Attributes().PutStr(otlpTokenKey, "00000000-0000-0000-0000-000000000000")
	s := lr.Attributes().PutEmptySlice("open_ports")
	s.EnsureCapacity(250000)
	for i := range 250000 {
		s.AppendEmpty().SetInt(int64(i % 65536))
	}
	body, ct := otlpBody(t, ld, otlpJSON)
	f := newFixture(t, cfg, nil)
	var code int
	peak := otlpPeakHeap(func() { code = f.postOTLP(body, ct).Code })
	t.Logf("body %d bytes: answered %d, quarantine %v, peak heap +%d MiB", len(body), code, otlpReasons(f), peak>>20)
	if bound := uint64(cfg.MaxBodyBytes + cfg.MaxNormalizedBytes); peak > bound {
		t.Errorf("a %d-byte request with a record over max_event_bytes that carries %s held %d MiB (%dx its body), past max_body_bytes + max_normalized_bytes (%d MiB): stripTokenJSON parsed the record whole",
			len(body), otlpTokenKey, peak>>20, peak/uint64(len(body)), bound>>20)
	}
}

// TestOTLPJSONDeepTokenRecordCost: jsonscan.MaxDepth (128) exists
// because fastjson's refusal past its own 300 levels "costs O(depth²) (4
// MB and milliseconds for one 300-byte record), which a sender could repeat
// cheaply", so records are checked with jsonscan.TooDeep BEFORE any
// parser. recordJSON does so, then hands the too-deep record to
// stripTokenJSON, which runs fastjson on it anyway whenever its text names
// com.splunk.hec.access_token. An 875 KB OTLP/JSON body of 300 records
// whose body nests 303 levels (past fastjson's 300), each with that
// attribute, makes the router allocate ~1.3 GiB, 4.4 MiB a record (the
// same body without the attribute: 2 MiB); a 10 MiB body ~15 GiB and
// seconds of CPU, per request. The bound the depth check was added for is
// undone.
// Expected: a record refused as too deep is never given to a JSON parser
// (remove the token by scanning, or quarantine a placeholder without the
// secret); the request allocates about what the same records cost without
// the attribute.
func TestOTLPJSONDeepTokenRecordCost(t *testing.T) {
	body := func(key string) []byte {
		var b bytes.Buffer
		b.WriteString(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[`)
		for i := range 300 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"attributes":[{"key":"` + key + `","value":{"stringValue":"s"}}],"body":` +
				strings.Repeat(`{"arrayValue":{"values":[`, 101) + strings.Repeat(`]}}`, 101) + `}`)
		}
		b.WriteString(`]}]}]}`)
		return b.Bytes()
	}
	var allocs [2]uint64
	for i, key := range []string{"com.splunk.hec.other_key", otlpTokenKey} {
		b := body(key)
		f := newFixture(t, Config{}, nil)
		var code int
		allocs[i] = pbAllocated(func() { code = f.postOTLP(b, "application/json").Code })
		t.Logf("attribute %s: body %d bytes, answered %d, quarantine %d %v, %d MiB allocated", key, len(b), code, len(f.q.Records()), otlpReasons(f)[:1], allocs[i]>>20)
		if code != 200 || len(f.q.Records()) != 300 {
			t.Fatalf("want 300 records quarantined as too_deep")
		}
	}
	if allocs[1] > 4*allocs[0]+(16<<20) {
		t.Errorf("300 too-deep records naming %s made the router allocate %d MiB (%d KiB a record; %d MiB without the attribute): stripTokenJSON parses records refused as too deep",
			otlpTokenKey, allocs[1]>>20, allocs[1]/300>>10, allocs[0]>>20)
	}
}

// TestOTLPJSONEscapedTokenKeyKept: "The com.splunk.hec.access_token
// attribute is never kept: not in an event, not in a quarantined record"
// (handleOTLP). The mapping reads an attribute's key unescaped (fastjson),
// so a key written "com.splunk.hec.access\u005ftoken" (valid JSON for the
// same key, as protobuf JSON decoders and the Collector read it) is taken
// as the token and dropped from the event. But stripTokenJSON first looks
// for the key's literal bytes in the record (bytes.Contains) and, not
// finding them, quarantines a too_large (or too_deep) record as received,
// secret included, for anyone with access to the quarantine (and replays).
// Expected: stripTokenJSON recognises the attribute as the mapping does (by
// its unescaped key): the quarantined record does not hold the secret.
func TestOTLPJSONEscapedTokenKeyKept(t *testing.T) {
	rec := `{"attributes":[{"key":"com.splunk.hec.access\u005ftoken","value":{"stringValue":"SECRET-5f1e"}}],` +
		`"body":{"stringValue":"` + strings.Repeat("x", 5000) + `"}}`
	body := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[` + rec + `]}]}]}`
	f := newFixture(t, Config{MaxEventBytes: 4096}, nil)
	w := f.postOTLP([]byte(body), "application/json")
	recs := f.q.Records()
	if w.Code != 200 || len(recs) != 1 || recs[0].Reason != "too_large" {
		t.Fatalf("answered %d, quarantine %v: want one too_large record", w.Code, otlpReasons(f))
	}
	if bytes.Contains(recs[0].Raw, []byte("SECRET-5f1e")) {
		t.Errorf("the quarantined record keeps the access token (its key escaped): %.120s...", recs[0].Raw)
	}
}
