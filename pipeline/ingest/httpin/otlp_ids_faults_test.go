package httpin

import (
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// TestOTLPProtoWrongLengthIDKept
//
// Fault: recordProto (otlp.go) keeps a LogRecord's trace_id only when it
// is exactly 16 bytes (span_id: 8) and otherwise drops it without a word:
// the request is answered 200 with no partial_success, the event has no
// trace_id/span_id label, and nothing is quarantined. A sender that writes
// the id's hex text into the bytes field (32 ASCII bytes: what a shipper
// that copies a "trace_id" string field into the record does) loses the
// trace correlation of every record, silently.
//
// Sequence: POST /v1/logs, binary protobuf, one LogRecord with a string
// body, trace_id = the 32 bytes "0102...0f10" and span_id = the 16 bytes
// "0102030405060708".
//
// Expected: the OpenTelemetry Collector's own receiver (pdata, whose
// otlp receiver this endpoint stands in for) refuses such a request
// ("unmarshal: invalid TraceID length": HTTP 400, as the OTLP/HTTP spec
// says for "data that cannot be decoded"), and logrouter's own OTLP/JSON
// walker refuses a malformed id too (jID's length check, "traceId: 31 hex
// digits, want 32" -> 400 invalid_otlp, the body quarantined whole). So
// the ids must not vanish under a full-success answer: either the request
// is refused/quarantined, or the record is counted in partial_success, or
// the ids are kept in the event. The project's promise: "bad input
// quarantined ... never silent loss".
// Actual: 200, empty ExportLogsServiceResponse, an event without
// trace_id/span_id, quarantine empty; the same record in OTLP/JSON is a 400.
// Severity: low-medium (silent loss of trace correlation fields; the two
// encodings of one record disagree on whether it is valid).
func TestOTLPProtoWrongLengthIDKept(t *testing.T) {
	traceHex := "0102030405060708090a0b0c0d0e0f10"
	spanHex := "0102030405060708"
	var rec []byte
	rec = pbBytesField(rec, 5, pbStr("user alice logged in"))
	rec = pbBytesField(rec, 9, []byte(traceHex)) // 32 bytes, not 16
	rec = pbBytesField(rec, 10, []byte(spanHex)) // 16 bytes, not 8
	body := pbRequest(nil, [][]byte{rec})

	// The Collector's decoder refuses this request.
	if err := plogotlp.NewExportRequest().UnmarshalProto(body); err == nil {
		t.Fatal("premise: pdata accepts the request")
	}

	f := newFixture(t, Config{}, nil)
	w := f.postOTLP(body, "application/x-protobuf")
	if w.Code != http.StatusOK {
		return // refused: not silent
	}
	if n, _ := otlpAnswer(t, w, otlpProtobuf); n > 0 {
		return // counted in partial_success: not silent
	}
	evs := f.rec.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events (quarantine %+v)", len(evs), f.q.Records())
	}
	raw := string(evs[0].Raw)
	if !strings.Contains(raw, traceHex) || !strings.Contains(raw, spanHex) {
		t.Errorf("trace_id/span_id silently dropped: answered 200 with no partial_success, quarantine %d records, event %s", len(f.q.Records()), raw)
	}

	// The same malformed id over OTLP/JSON is refused by logrouter itself.
	js := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"traceId":"0102030405060708090a0b0c0d0e0f1","body":{"stringValue":"user alice logged in"}}]}]}]}`
	g := newFixture(t, Config{}, nil)
	if w := g.postOTLP([]byte(js), "application/json"); w.Code == http.StatusOK {
		t.Logf("JSON: %d %s", w.Code, w.Body)
	} else {
		t.Logf("the same kind of malformed id in OTLP/JSON: %d (quarantined %d)", w.Code, len(g.q.Records()))
	}
}
