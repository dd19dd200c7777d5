package httpin

import (
	"net/http"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// TestOTLPJSONEscapedFramingKeyDropped: the streaming walker
// (objMembers) compares each member's key "as written (between its
// quotes)", so a key the JSON text spells with an escape,
// "resource\u004cogs" or "log\u0052ecords" - the same key to any JSON
// decoder - is not recognised and its records are skipped without a
// word: 200 with no partial_success, nothing delivered, nothing
// quarantined. The sender drops its data as delivered. The Collector's own
// OTLP/JSON decoder (pdata's plogotlp, the otlp receiver) reads both
// spellings alike, as protobuf JSON requires; the record's own members
// (read by fastjson) are unescaped already, only the framing is not.
// Expected: keys are compared unescaped (the 2 records become events), or
// at least a key that cannot be compared is refused (400), never a 200
// that loses the records.
func TestOTLPJSONEscapedFramingKeyDropped(t *testing.T) {
	body := []byte(`{"resource\u004cogs":[{"scopeLogs":[{"log\u0052ecords":[` +
		`{"body":{"stringValue":"Failed password for root"}},{"body":{"stringValue":"Accepted publickey for bob"}}]}]}]}`)
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalJSON(body); err != nil {
		t.Fatal(err)
	}
	want := req.Logs().LogRecordCount()
	f := newFixture(t, Config{}, nil)
	w := f.postOTLP(body, "application/json")
	n, msg := otlpAnswer(t, w, otlpJSON)
	got := len(f.rec.Events())
	t.Logf("Collector's decoder: %d records; router: %d %s, %d events, %d rejected %q, quarantine %v", want, w.Code, w.Body, got, n, msg, otlpReasons(f))
	if w.Code == http.StatusOK && got+int(n) != want {
		t.Errorf("answered 200 for a request of %d log records (as the Collector's decoder reads it) and took %d, quarantined %d: the records under escaped keys were dropped silently",
			want, got, n)
	}
}
