package httpin

import (
	"encoding/json"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestFirehoseCloudWatchDenseMessage: 46bb6b6 says a record over
// 64 KiB with a value every 16 bytes or less "is quarantined as
// too_many_values on every path". A CloudWatch Logs log event's message
// that is JSON is parsed by LogEventBody (cloudwatch.go) with fh.msgs,
// with no density check and nothing charged to max_inflight_bytes
// (q.parsed is not noted); the parser is pooled again afterwards whatever
// it grew to (firehoseRequest.release). A gzip'd Firehose request of a few
// KiB therefore makes the router hold ~200 MiB per request, outside every
// limit - the exact bomb 46bb6b6 closed on /ingest, HEC and _bulk.
func TestFirehoseCloudWatchDenseMessage(t *testing.T) {
	msg := denseRecord(1<<20-64, "0") // {"a":[0,0,...]}, within max_event_bytes
	m, _ := json.Marshal(msg)
	cw := `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/app","logStream":"s","subscriptionFilters":["all"],"logEvents":[` +
		`{"id":"1","timestamp":1764410400000,"message":` + string(m) + `},` +
		`{"id":"2","timestamp":1764410400000,"message":"{\"user\":\"bob\",\"action\":\"login\"}"}]}`
	hdr := []string{firehoseRequestID, fhID, "Content-Type", "application/json"}
	f := newFixture(t, Config{}, nil)
	body := firehoseBody(gz(t, cw))

	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	w := f.do("POST", "/firehose", "", body, hdr...)
	runtime.ReadMemStats(&b)
	t.Logf("request of %d bytes: answered %d, allocated %d MiB", len(body), w.Code, (b.TotalAlloc-a.TotalAlloc)>>20)
	if w.Code != http.StatusOK {
		t.Fatalf("/firehose: %d %s", w.Code, w.Body)
	}
	recs := f.q.Records()
	reason := ""
	if len(recs) == 1 {
		reason = recs[0].Reason
	}
	if len(f.rec.Events()) != 1 || reason != "too_many_values" {
		t.Errorf("a CloudWatch log event whose message is 1 MiB of {\"a\":[0,0,...]} and a plain one: delivered %d events, quarantined %d (reason %q); want the plain one delivered and the dense message quarantined as too_many_values (it was parsed unguarded by LogEventBody: ~%d MiB allocated, none of it charged to max_inflight_bytes)",
			len(f.rec.Events()), len(recs), reason, (b.TotalAlloc-a.TotalAlloc)>>20)
	}
}

// TestOTLPDenseBody: the same shape through OTLP. A log record whose
// body is an array of 240,000 zeros (protobuf: 4 bytes an element, 960 KB;
// the HEC envelope written for it: "0," 2 bytes an element, 480 KB; both
// within max_event_bytes) is parsed by addEnvelope (otlp.go, o.p.ParseBytes) with
// no density check and nothing charged; over OTLP/JSON the record itself
// is parsed first by recordJSON (o.q.p.ParseBytes), unguarded as well.
// Want: quarantined as too_many_values like the same record on /ingest
// (the plain record delivered); got: parsed and delivered, ~130 MiB
// (protobuf) / ~90 MiB (OTLP/JSON: 58,000 {"intValue":"0"} elements)
// allocated for requests that gzip to 1-3 KiB, none of it charged.
func TestOTLPDenseBody(t *testing.T) {
	const n = 240_000                              // 960 KB of protobuf: within max_event_bytes
	el := pbBytesField(nil, 1, []byte{0x18, 0x00}) // ArrayValue.values: AnyValue{int_value: 0}
	arr := make([]byte, 0, n*len(el))
	for range n {
		arr = append(arr, el...)
	}
	denseBody := pbBytesField(nil, 5, arr) // AnyValue{array_value}
	dense := pbBytesField(nil, 5, denseBody)
	plain := pbRecord(`{"user":"bob","action":"login"}`, nil)
	pbReq := pbRequest(nil, [][]byte{dense, plain})

	jsonVals := strings.Repeat(`{"intValue":"0"},`, 58_000) + `{"intValue":"0"}`
	jsonReq := `{"resourceLogs":[{"resource":{},"scopeLogs":[{"logRecords":[` +
		`{"body":{"arrayValue":{"values":[` + jsonVals + `]}}},` +
		`{"body":{"stringValue":"{\"user\":\"bob\",\"action\":\"login\"}"}}]}]}]}`

	for _, c := range []struct {
		name, ct string
		body     []byte
	}{
		{"protobuf", "application/x-protobuf", pbReq},
		{"json", "application/json", []byte(jsonReq)},
	} {
		f := newFixture(t, Config{}, nil)
		var w *http.Response
		alloc := pbAllocated(func() { w = f.postOTLP(gz(t, string(c.body)), c.ct, "Content-Encoding", "gzip").Result() })
		recs := f.q.Records()
		reason := ""
		if len(recs) == 1 {
			reason = recs[0].Reason
		}
		t.Logf("%s: request of %d bytes gzip'd: answered %d, allocated %d MiB, delivered %d, quarantined %d (%q)",
			c.name, len(gz(t, string(c.body))), w.StatusCode, alloc>>20, len(f.rec.Events()), len(recs), reason)
		if len(f.rec.Events()) != 1 || reason != "too_many_values" {
			t.Errorf("%s: a log record whose body is a long array of zeros (%d in protobuf) and a plain one: delivered %d events, quarantined %d (reason %q), %d MiB allocated; want the plain one delivered and the dense one quarantined as too_many_values, as on /ingest",
				c.name, n, len(f.rec.Events()), len(recs), reason, alloc>>20)
		}
	}
}
