package httpin

import (
	"net/http"
	"strings"
	"testing"
)

// TestOTLPJSONBytesValue: an OTLP/JSON bytesValue (base64 by proto3's JSON
// mapping: standard or URL-safe, padded or not) becomes the same string as
// the protobuf encoding's bytes (standard base64, padded), so one record
// sent either way is one event; a value that is not base64 makes the
// request malformed, as the Collector's unmarshaling does. Before,
// the JSON text was kept as it came, so "aGk" and "aGk=" were two events
// and any text passed for bytes.
func TestOTLPJSONBytesValue(t *testing.T) {
	// The protobuf encoding's event: the control.
	ld := otlpLogs()
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes().PutEmptyBytes("blob").FromRaw([]byte{0xfb, 0xff, 0x68, 0x69})
	f := newFixture(t, Config{}, nil)
	body, ct := otlpBody(t, ld, otlpProtobuf)
	if w := f.postOTLP(body, ct); w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	want := `"blob":"+/9oaQ=="`
	if evs := f.rec.Events(); len(evs) == 0 || !strings.Contains(string(evs[0].Raw), want) {
		t.Fatalf("control (protobuf): %s lacks %s", evs[0].Raw, want)
	}
	rec := func(v string) string {
		return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1764410400000000000","body":{"stringValue":"x"},"attributes":[{"key":"blob","value":{"bytesValue":"` + v + `"}}]}]}]}]}`
	}
	for _, v := range []string{"+/9oaQ==", "+/9oaQ", "-_9oaQ==", "-_9oaQ"} {
		f := newFixture(t, Config{}, nil)
		if w := f.postOTLP([]byte(rec(v)), "application/json"); w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", v, w.Code, w.Body)
		}
		if evs := f.rec.Events(); len(evs) != 1 || !strings.Contains(string(evs[0].Raw), want) {
			t.Errorf("bytesValue %q: events %v, want one holding %s", v, evs, want)
		}
	}
	// Not base64: the request is malformed, as a JSON body the Collector
	// cannot unmarshal is: 400, the body quarantined whole.
	f = newFixture(t, Config{}, nil)
	w := f.postOTLP([]byte(rec("not base64!")), "application/json")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "bytesValue is not base64") {
		t.Errorf("%d %s; want 400 naming the bytesValue", w.Code, w.Body)
	}
	if recs := f.q.Records(); len(f.rec.Events()) != 0 || len(recs) != 1 || recs[0].Reason != "invalid_otlp" {
		t.Errorf("%d events, quarantined %v; want the body quarantined as invalid_otlp", len(f.rec.Events()), recs)
	}
}
