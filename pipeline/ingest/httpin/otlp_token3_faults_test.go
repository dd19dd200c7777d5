package httpin

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// TestOTLPProtoTooLargeTokenAfterBadField: a binary protobuf record over
// max_event_bytes is quarantined unconverted, "as received (without an
// access token)" (recordProto, stripToken: "a record kept as received
// never keeps the secret"). stripToken looks for the token attribute with
// a pbIter that stops at the first field it cannot read, and returns the
// record as it is when it found none before that field: a too-large record
// is never validated (it is not parsed), so one whose token attribute comes
// after an unreadable field (here a stray end-group tag) is accepted (200,
// partial_success) and quarantined with com.splunk.hec.access_token's value
// in it, readable by `router quarantine list` and wherever quarantined
// records are copied. (A decoder such as the Collector's refuses the whole
// request.) Expected: the quarantined bytes never hold the token's value:
// cut what cannot be read (keep the readable head without the token), or
// refuse the record/request as invalid without keeping its bytes.
func TestOTLPProtoTooLargeTokenAfterBadField(t *testing.T) {
	const secret = "99999999-8888-7777-6666-555555555555"
	// An unreadable field (a stray end-group tag), the token attribute,
	// then a body that makes the record too large: the token is within
	// the first max_event_bytes kept.
	rec := protowire.AppendTag(nil, 15, protowire.EndGroupType)
	rec = pbBytesField(rec, 6, pbKV(otlpTokenKey, pbStr(secret)))
	rec = pbBytesField(rec, 5, pbStr(strings.Repeat("x", 4096)))
	body := pbRequest(nil, [][]byte{rec})
	f := newFixture(t, Config{MaxEventBytes: 1024}, nil)
	w := f.postOTLP(body, "application/x-protobuf")
	t.Logf("answer %d %s quarantine %v", w.Code, w.Body, otlpReasons(f))
	for _, r := range f.q.Records() {
		if bytes.Contains(r.Raw, []byte(secret)) {
			t.Errorf("quarantined record (%s, %d bytes, answer %d) holds the HEC access token's value", r.Reason, len(r.Raw), w.Code)
		}
	}
}

// TestOTLPJSONDuplicateKeyMemberLeaksToken: an OTLP/JSON KeyValue whose
// "key" member is written twice is read by attrsJSON with fastjson's Get,
// which returns the FIRST member; the AnyValue beside it is read "last
// member wins" (appendJSONAny, jLastValue), as protobuf JSON decoders
// (pdata's, used by the Collector's otlp receiver) read every repeated
// member: for them the attribute below is com.splunk.hec.access_token, which
// the splunk_hec exporter never sends and this endpoint promises never to
// keep. Here it becomes the event field "note" holding the token's value:
// the secret is indexed and routed with the event. (stripTokenJSON, the
// quarantine path, already treats either "key" as the token's.)
// Expected: the repeated "key" is read as the value it ends with (last),
// so the token attribute is dropped and its value is in no event.
func TestOTLPJSONDuplicateKeyMemberLeaksToken(t *testing.T) {
	const secret = "12121212-3434-5656-7878-909090909090"
	body := `{"resourceLogs":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"ws-042"}}]},` +
		`"scopeLogs":[{"logRecords":[{"timeUnixNano":"1764496800123456789","body":{"stringValue":"login ok"},` +
		`"attributes":[{"key":"note","key":"` + otlpTokenKey + `","value":{"stringValue":"` + secret + `"}}]}]}]}]}`
	f := newFixture(t, Config{}, nil)
	w := f.postOTLP([]byte(body), "application/json")
	if w.Code != 200 {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	evs := f.rec.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1 (quarantine %v)", len(evs), otlpReasons(f))
	}
	if bytes.Contains(evs[0].Raw, []byte(secret)) {
		t.Errorf("event holds the HEC access token's value: %s", evs[0].Raw)
	}
}
