package httpin

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// TestFirehoseLimitAnswerIs413: when a Firehose request is over one of
// the per-request limits (max_events_per_request, max_normalized_bytes,
// max_body_bytes), /firehose answers 413.
//
// AWS's "HTTP Endpoint Delivery Request and Response Specifications" treat
// 413 like no other status: "Response code 413 (size exceeded) is
// considered as a permanent failure and the record batch is not sent to
// error bucket if configured". Every other non-200 status is retried for
// the stream's retry duration and then written to the S3 backup.
// handleFirehose's own doc comment promises that ("Firehose retries the
// whole request ... then writes it to its S3 backup"), but q.refuse and
// readBody answer 413. So Firehose drops the batch: no retry, no S3 backup,
// nothing in quarantine. The user gets no error, just missing
// GuardDuty/CloudTrail/VPC Flow Log events.
//
// Default settings reach these limits. A CloudWatch Logs subscription
// record is gzip'd (often 10x or more), and each log event counts as a
// record. So a 5 MiB Firehose buffer (the default buffer size) of VPC Flow
// Logs expands well past the default max_events_per_request (104857) and
// max_normalized_bytes (40 MiB).
//
// Correct: an answer that Firehose retries and then backs up (a 5xx, or
// 429, with the Firehose error body), never 413, and nothing delivered.
func TestFirehoseLimitAnswerIs413(t *testing.T) {
	hdr := []string{firehoseRequestID, fhID, "Content-Type", "application/json"}
	small := []byte(`{"app":"x","msg":"hello"}`)
	for _, c := range []struct {
		name string
		cfg  Config
		body string
	}{
		{"max_events_per_request", Config{MaxEventsPerRequest: 2}, firehoseBody(small, small, small)},
		{"max_normalized_bytes", Config{MaxNormalizedBytes: 256}, firehoseBody(small, small, small, small, small, small)},
		{"max_body_bytes", Config{MaxBodyBytes: 64}, firehoseBody(small, small, small)},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, c.cfg, nil)
			w := f.do("POST", "/firehose", "", c.body, hdr...)
			if w.Code == http.StatusOK {
				t.Fatalf("request over %s accepted: %d %s", c.name, w.Code, w.Body)
			}
			firehoseAnswer(t, w.Code, w.Body.Bytes())
			if w.Code == http.StatusRequestEntityTooLarge {
				t.Errorf("request over %s answered 413 (%s): Firehose treats 413 as a permanent failure and does not write the batch to its S3 backup; the records are lost. Answer a status Firehose retries.", c.name, w.Body)
			}
			if n := len(f.rec.Events()); n != 0 {
				t.Errorf("%d events delivered from a refused request", n)
			}
		})
	}
}

// TestFirehoseCloudWatchJSONMessageLosesLogEventTime: a CloudWatch
// Logs log event whose message is JSON is normalized without the log
// event's "timestamp" (firehose.go, cloudWatch: q.em.Time is only set for
// text messages). If the JSON has no time field the normalizer recognizes,
// the event gets the router's ingest time.
//
// Example: API Gateway access logs in the documented JSON format
// ($context.requestTime is "29/Nov/2025:10:00:00 +0000", not one of
// normalize.DefaultTimestampFields). Firehose buffers for up to 900 s and
// retries a failed delivery for up to 2 h, so @timestamp can be minutes to
// hours after the request happened. SIEM time windows, correlations and
// timelines are then wrong. CloudWatch always sends the log event's
// timestamp (epoch ms), and that time is correct.
//
// Correct: a JSON message with no time of its own takes the log event's
// timestamp, as a text message does.
func TestFirehoseCloudWatchJSONMessageLosesLogEventTime(t *testing.T) {
	const cwl = `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"API-Gateway-Execution-Logs_abc/prod","logStream":"s1","subscriptionFilters":["all"],` +
		`"logEvents":[{"id":"1","timestamp":1764410400000,"message":"{\"requestId\":\"c0ffee\",\"ip\":\"203.0.113.9\",\"requestTime\":\"29/Nov/2025:10:00:00 +0000\",\"httpMethod\":\"POST\",\"resourcePath\":\"/login\",\"status\":\"401\"}"}]}`
	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/firehose", "", firehoseBody(gz(t, cwl)), firehoseRequestID, fhID)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	evs := f.rec.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	raw := string(evs[0].Raw)
	if !strings.Contains(raw, `"@timestamp":"2025-11-29T10:00:00.000Z"`) {
		t.Errorf("the JSON log event lost CloudWatch's timestamp (2025-11-29T10:00:00Z) and got the ingest time: %s", raw)
	}
}

// TestFirehoseCloudWatchJSONMessageDepthUnchecked: CloudWatch log
// event messages are parsed with fh.msgs.ParseBytes directly. They skip
// q.parse, so they skip the jsonscan.MaxDepth (128) check that every other
// JSON record on every input goes through (server.go, parse; kafkain
// addJSON; syslog). Two effects:
//
//   - a message nested 129..300 levels becomes a JSON event, where /ingest,
//     HEC and Kafka quarantine it as too_deep and syslog keeps it as text;
//   - a message nested past fastjson's 300 reaches the parser. MaxDepth
//     exists to stop exactly that: fastjson builds that error in O(depth²)
//     ("4 MB and milliseconds for one 300-byte record"). A gzip'd
//     CloudWatch record repeats such messages cheaply, so this 2.6 KB
//     request allocates ~440 MiB and takes ~170 ms of CPU. The same 100
//     objects on /ingest cost nothing. Anyone holding a stream's access key
//     (or anyone at all, with no tokens configured) can use this to make
//     the router run out of memory or CPU.
//
// Correct: check the depth before parsing a message (too_deep, or a text
// event as syslog does), like any other record.
func TestFirehoseCloudWatchJSONMessageDepthUnchecked(t *testing.T) {
	cwl := func(depth, n int) string {
		msg := strings.ReplaceAll(strings.Repeat(`{"a":`, depth)+"1"+strings.Repeat("}", depth), `"`, `\"`)
		var b strings.Builder
		b.WriteString(`{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/aws/lambda/app","logStream":"s","subscriptionFilters":["all"],"logEvents":[`)
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"id":"1","timestamp":1764410400000,"message":"` + msg + `"}`)
		}
		b.WriteString("]}")
		return b.String()
	}
	t.Run("past MaxDepth becomes a JSON event", func(t *testing.T) {
		f := newFixture(t, Config{}, nil)
		w := f.do("POST", "/firehose", "", firehoseBody(gz(t, cwl(200, 1))), firehoseRequestID, fhID)
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		for _, e := range f.rec.Events() {
			if strings.Contains(string(e.Raw), `{"a":{"a":{"a":{"a":`) {
				t.Errorf("a message nested 200 levels (past jsonscan.MaxDepth %d) was parsed into the event", 128)
			}
		}
	})
	t.Run("past fastjson's depth costs O(depth²)", func(t *testing.T) {
		f := newFixture(t, Config{}, nil)
		body := firehoseBody(gz(t, cwl(310, 100)))
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		w := f.do("POST", "/firehose", "", body, firehoseRequestID, fhID)
		runtime.ReadMemStats(&m1)
		if a := m1.TotalAlloc - m0.TotalAlloc; a > 64<<20 {
			t.Errorf("a %d-byte Firehose request (%d) allocated %d MiB parsing over-deep messages that MaxDepth should refuse unparsed", len(body), w.Code, a>>20)
		}
	})
}
