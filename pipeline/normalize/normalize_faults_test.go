package normalize

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found), except
// TestLoneSurrogateKeepsNextChar, skipped: the fault is in fastjson.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// faultAppend normalizes one JSON event with cfg and returns the output.
func faultAppend(t *testing.T, cfg Config, in string, m *EventMeta) (string, *Normalizer) {
	t.Helper()
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	v, err := p.Parse(in)
	if err != nil {
		t.Fatalf("parse %s: %v", in, err)
	}
	out, _, err := n.Append(nil, v, nil, testMeta(), m)
	if err != nil {
		t.Fatalf("normalize %s: %v", in, err)
	}
	return string(out), n
}

// exampleRenames are the global renames of config.example.yaml (the same as
// TestStarterProfilesGolden uses).
func exampleRenames() map[string]string {
	return map[string]string{"src_ip": "source.ip", "srcip": "source.ip", "src_port": "source.port", "srcport": "source.port",
		"dst_ip": "destination.ip", "dstip": "destination.ip", "dest_ip": "destination.ip", "dst_port": "destination.port",
		"dstport": "destination.port", "dest_port": "destination.port", "msg": "message", "hostname": "host.name"}
}

// TestConvertFloatKeepsValidJSON: a profile's `convert: float` parses
// the value with strconv.ParseFloat, which accepts "NaN", "Inf", "infinity"
// (and fastjson accepts a bare NaN token, as Python's json.dumps
// writes for a missing float), and writes strconv.AppendFloat's "NaN" /
// "+Inf" / "-Inf" as a raw literal (profile.go convFloat). The output is then
// not JSON at all ("score":{"base":NaN}); OpenSearch rejects the document.
// The starter profile vuln.scanner converts vulnerability.score.base
// (cvss3_base_score) to float. Expected: the output is always valid JSON
// (escape.go/normalize.go promise it); a value that does not convert to a
// finite JSON number is set aside as a string (docs/schema.md: moved to
// logrouter.unconverted).
func TestConvertFloatKeepsValidJSON(t *testing.T) {
	cfg := testConfig()
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	for _, score := range []string{`NaN`, `"NaN"`, `"infinity"`, `"-Inf"`, `"Infinity"`} {
		in := `{"plugin_id":51192,"plugin_name":"SSL Certificate Cannot Be Trusted","cvss3_base_score":` + score +
			`,"asset":{"hostname":"jenkins-prod-01"},"last_found":"2026-11-28T00:00:00.021Z"}`
		out, _ := faultAppend(t, cfg, in, &EventMeta{SourceType: []byte("tenable.vuln")})
		if !json.Valid([]byte(out)) {
			t.Errorf("cvss3_base_score %s: output is not valid JSON: %s", score, out)
		}
	}
}

// TestConvertIntExact: `convert: int` falls back to ParseFloat for a
// value with a fraction and accepts it when the float64 is integral, so a
// decimal integer above 2^53 written with ".0" is rounded to another integer
// (9007199254740993.0 -> 9007199254740992): the field's value is silently
// changed. Expected: either the exact integer or the value as it was (set
// aside under logrouter.unconverted).
func TestConvertIntExact(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "acme", Convert: OrderedMap{Keys: []string{"bytes"}, Values: []string{"int"}}}}
	out, _ := faultAppend(t, cfg, `{"bytes":"9007199254740993.0"}`, &EventMeta{SourceType: []byte("acme")})
	if !strings.Contains(out, `"bytes":9007199254740993`) && !strings.Contains(out, `"bytes":"9007199254740993.0"`) {
		t.Errorf("convert int changed the value: %s", out)
	}
}

// TestRenameIntoScalarKeepsBoth: a rename whose target path runs
// through a field that holds a scalar (global rename hostname: host.name from
// config.example.yaml, event with a string "host") replaces the scalar by an
// object (normalize.go set/setH, the "*nd = node{...}" replacement, reached
// from walk's setPath(a.target)); with the other key order the scalar replaces
// the renamed object. Either way one of the two values vanishes without a
// trace. docs/schema.md: "so nothing is lost"; the synthesized host.name
// (setMissing) already refuses to clobber such a scalar. Expected: both
// values are still in the output, whatever the key order.
func TestRenameIntoScalarKeepsBoth(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Rename = exampleRenames()
	for _, in := range []string{
		`{"host":"fw01","hostname":"fw01.corp.example.com","msg":"x"}`,
		`{"hostname":"fw01.corp.example.com","host":"fw01","msg":"x"}`,
	} {
		out, _ := faultAppend(t, cfg, in, nil)
		if !strings.Contains(out, `"fw01"`) || !strings.Contains(out, `"fw01.corp.example.com"`) {
			t.Errorf("%s\n a value was dropped: %s", in, out)
		}
	}
}

// TestDatasetDoesNotClobberEventScalar: structlog (Python) and many
// app loggers write the message as a top-level string "event". With a known
// source type (HEC sourcetype) Build writes event.dataset with setPath
// (normalize.go, "c = n.setPath(segDataset, kStr, 0)"), which replaces that
// string by an object: the log message is silently lost. Without a source
// type the string is kept, but then event.dataset and event.ingested are
// not written at all, although docs/schema.md lists them under "Fields
// logrouter always writes". Expected: the event's own value survives and
// event.dataset / event.ingested are written, in both cases.
func TestDatasetDoesNotClobberEventScalar(t *testing.T) {
	in := `{"event":"user alice logged in from 203.0.113.7","level":"info","timestamp":"2026-11-28T10:00:00Z"}`
	for _, m := range []*EventMeta{{SourceType: []byte("app.web")}, nil} {
		out, _ := faultAppend(t, DefaultConfig(), in, m)
		if !strings.Contains(out, "user alice logged in from 203.0.113.7") {
			t.Errorf("source type %v: the event's own \"event\" value was dropped: %s", m != nil, out)
		}
		v, err := fastjson.Parse(out)
		if err != nil {
			t.Fatal(err)
		}
		if v.Get("event", "dataset") == nil || v.Get("event", "ingested") == nil {
			t.Errorf("source type %v: event.dataset / event.ingested missing: %s", m != nil, out)
		}
	}
}

// TestLabelsDoNotClobberEventScalar: HEC indexed fields become labels.*
// through setPath(segLabels) (normalize.go), which replaces an event's own
// scalar "labels" value by the object: the event's value is lost. Expected:
// the event's own value is still in the output.
func TestLabelsDoNotClobberEventScalar(t *testing.T) {
	var p fastjson.Parser
	fields, _ := p.Parse(`{"env":"prod"}`)
	out, _ := faultAppend(t, DefaultConfig(), `{"labels":"pci-scope","msg":"x"}`, &EventMeta{Fields: fields})
	if !strings.Contains(out, "pci-scope") {
		t.Errorf("the event's own labels value was dropped: %s", out)
	}
}

// TestUnparseableOwnTimestampKept: an unparseable time field is kept
// (TestNormalizeGolden "unparseable time field kept, ingest time used"),
// except when that field is the event's own @timestamp: Build rewrites node
// 1 in place with the ingest time (normalize.go, "*tn = node{key:
// segTimestamp[0], ...}"), so the sender's value vanishes and the event is
// filed at the ingest time with no trace of its real time. Expected: the
// original value stays visible somewhere in the output.
func TestUnparseableOwnTimestampKept(t *testing.T) {
	const own = "28.11.2026 10:00:00"
	out, _ := faultAppend(t, testConfig(), `{"@timestamp":"`+own+`","message":"login failed"}`, nil)
	if !strings.Contains(out, own) {
		t.Errorf("unparseable @timestamp %q replaced without a trace: %s", own, out)
	}
}

// TestEpochZeroTimestamp: 0 is used as "no time found" (Build's
// n.time == 0 checks, findTime/profileTime return 0), but 0 is also what a
// timestamp at exactly 1970-01-01T00:00:00Z parses to (a device whose clock
// was reset). findTime accepts it, removes the source field and returns 0,
// so Build falls back to the ingest time: the event's own time is gone from
// the output and @timestamp is the ingest time. Expected: @timestamp is
// 1970-01-01T00:00:00.000Z, or the field is left in place.
func TestEpochZeroTimestamp(t *testing.T) {
	out, _ := faultAppend(t, testConfig(), `{"timestamp":"1970-01-01T00:00:00Z","message":"boot"}`, nil)
	if !strings.Contains(out, `"@timestamp":"1970-01-01T00:00:00.000Z"`) && !strings.Contains(out, `"timestamp":"1970-01-01T00:00:00Z"`) {
		t.Errorf("the event's own time was removed and replaced by the ingest time: %s", out)
	}
}

// TestOktaDetection: the okta.system profile narrows detection with
// `eventType matches "^[a-z_]+[.][a-z_.]+$"` (rules/profiles/
// 60-identity-email.yaml), assuming event types are lower-case letters. Real
// Okta System Log event types contain digits and upper case
// (app.oauth2.as.consent.grant, app.oauth2.as.token.grant.access_token,
// user.authentication.auth_via_AD_agent, ..._auth_via_IDP), so such events
// arriving without a source type are not recognized: no user.name, no
// source.ip, event.dataset "unknown". Expected: detected as okta.system.
func TestOktaDetection(t *testing.T) {
	cfg := testConfig()
	cfg.Rename = exampleRenames()
	cfg.Drop = nil
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	for _, et := range []string{"user.session.start", "app.oauth2.as.consent.grant", "user.authentication.auth_via_AD_agent"} {
		in := `{"uuid":"8656f8da-f7b5-42c6-8a56-cc793dc1a0d5","published":"2026-11-28T00:00:00.000Z","eventType":"` + et +
			`","version":"0","severity":"INFO","displayMessage":"x","actor":{"id":"00uWmcYCNFAENQab3ZIB","type":"User",` +
			`"alternateId":"nancy.lee@example.com","displayName":"Nancy Lee"},"client":{"ipAddress":"198.51.100.17"},` +
			`"outcome":{"result":"SUCCESS"}}`
		n := mustCompile(t, cfg).New()
		var p fastjson.Parser
		v, _ := p.Parse(in)
		out, ev, err := n.Append(nil, v, nil, testMeta(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if ev.SourceType != "okta.system" {
			t.Errorf("eventType %s: detected as %q, want okta.system: %s", et, ev.SourceType, out)
		}
	}
}

// duplicateKeys reports the first object key that occurs twice in one
// object of the JSON document b.
func duplicateKeys(b []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.expKey {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].expKey = true
				}
				continue
			}
			k := tok.(string)
			if top.keys[k] {
				return k, nil
			}
			top.keys[k] = true
			top.expKey = false
			continue
		}
		switch d := tok.(type) {
		case json.Delim:
			switch d {
			case '{':
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expKey: true})
				continue
			case '[':
				stack = append(stack, &frame{})
				continue
			case ']':
				stack = stack[:len(stack)-1]
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].expKey = true
		}
	}
}

// TestNoDuplicateKeysAfterSanitizing: duplicate keys are resolved (last
// wins) on the raw keys, but keys are written through AppendString, which
// turns every invalid UTF-8 byte into U+FFFD. Two keys that differ only in
// an invalid byte ("user\xe4", "user\xf6": Latin-1 text) become the same key
// in the output: {"user\ufffd":..,"user\ufffd":..}. OpenSearch refuses a
// document with duplicate keys, and the hash counts both. Expected: no
// object in the output has the same key twice.
func TestNoDuplicateKeysAfterSanitizing(t *testing.T) {
	out, _ := faultAppend(t, testConfig(), "{\"user\xe4\":\"a\",\"user\xf6\":\"b\",\"o\":{\"k\xff\":1,\"k\xfe\":2}}", nil)
	if k, err := duplicateKeys([]byte(out)); err != nil || k != "" {
		t.Errorf("duplicate key %q (err %v) in %s", k, err, out)
	}
}

// TestLoneSurrogateKeepsNextChar: a lone high surrogate followed by
// another \u escape ("\ud800\u0041", e.g. a string truncated inside an
// emoji by a Java/JS encoder, then more text) is decoded as a pair by the
// parser's best-effort unescaping (fastjson unescapeStringBestEffort, which
// the normalizer writes as is via v.StringBytes()): both escapes become one
// U+FFFD and the following character ('A') is lost. The normalizer's own
// appendUnescaped (normalize.go) does it right: U+FFFD for the surrogate,
// then the next character. Expected: the 'A' survives.
func TestLoneSurrogateKeepsNextChar(t *testing.T) {
	t.Skip("fastjson v1.6.10 (the latest) unescapes a high surrogate followed by a \\u escape that is not a low one as one U+FFFD, taking the second escape with it; only malformed input (a lone surrogate) meets it. Fixing it needs the raw string, which fastjson no longer has once the value's type is read.")
	out, _ := faultAppend(t, testConfig(), `{"cmd":"x\ud800\u0041BC"}`, nil)
	v, err := fastjson.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(v.GetStringBytes("cmd")); !strings.HasSuffix(got, "ABC") {
		t.Errorf("cmd = %q, want the characters after the lone surrogate kept (...ABC): %s", got, out)
	}
}

// TestLookupDottedKeyIndependentOfWidth: an event holding a path both
// as a literal dotted key and as nested objects ({"a":{"b":..},"a.b":..})
// resolves differently depending on how many root keys it has: up to 128,
// findPath tries the literal key first; past 128 (rootMaxIndex) it falls
// back to find(0, path), which returns the first match in document order
// (normalize.go findPath). Rules, dedup key_fields, detection and timestamp
// selection then see another value for the same field because the event
// has unrelated extra keys. Expected: the same answer at any width.
func TestLookupDottedKeyIndependentOfWidth(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`{"a":{"b":"nested"}`)
	for i := 0; i < 130; i++ {
		fmt.Fprintf(&sb, `,"k%d":%d`, i, i)
	}
	sb.WriteString(`,"a.b":"literal"}`)
	var got []string
	for _, in := range []string{`{"a":{"b":"nested"},"a.b":"literal"}`, sb.String()} {
		n := mustCompile(t, DefaultConfig()).New()
		var p fastjson.Parser
		v, _ := p.Parse(in)
		if err := n.Build(v, nil, testMeta(), nil); err != nil {
			t.Fatal(err)
		}
		got = append(got, string(n.Lookup("a.b").Str))
	}
	if got[0] != got[1] {
		t.Errorf("Lookup(a.b) = %q on a narrow event, %q on a wide one", got[0], got[1])
	}
}
