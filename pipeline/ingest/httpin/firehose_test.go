package httpin

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"

	"github.com/logrouter/logrouter/internal/testutil"
)

// firehoseBody is a Firehose HTTP endpoint request carrying payloads.
func firehoseBody(payloads ...[]byte) string {
	var b strings.Builder
	b.WriteString(`{"requestId":"ed4acda5-034f-9f42-bba1-f29aea6d7d8f","timestamp":1578090901599,"records":[`)
	for i, p := range payloads {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"data":"` + base64.StdEncoding.EncodeToString(p) + `"}`)
	}
	b.WriteString("]}")
	return b.String()
}

func gz(t *testing.T, s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// firehoseAnswer checks an answer's body: the request's id, a timestamp,
// and an errorMessage exactly when it is not a 200.
func firehoseAnswer(t *testing.T, code int, body []byte) {
	t.Helper()
	var a struct {
		RequestID    string `json:"requestId"`
		Timestamp    int64  `json:"timestamp"`
		ErrorMessage *string
	}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	if a.RequestID != "ed4acda5-034f-9f42-bba1-f29aea6d7d8f" || a.Timestamp < 1.7e12 || (a.ErrorMessage != nil) != (code != http.StatusOK) {
		t.Errorf("answer %d %s: want the request's id, a timestamp in ms, errorMessage only on errors", code, body)
	}
}

const fhID = "ed4acda5-034f-9f42-bba1-f29aea6d7d8f"

func TestFirehose(t *testing.T) {
	const cwl = `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/aws/vpc/flowlogs","logStream":"eni-0a1b2c3d","subscriptionFilters":["all"],` +
		`"logEvents":[{"id":"1","timestamp":1764410400000,"message":"2 111122223333 eni-0a1b2c3d 10.0.0.5 203.0.113.9 50123 443 6 10 840 1764410390 1764410400 ACCEPT OK"},` +
		`{"id":"2","timestamp":1764410401000,"message":"{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-11-29T10:00:00Z\",\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"CreateUser\",\"awsRegion\":\"eu-west-1\"}"}]}`
	const guardduty = `{"version":"0","id":"e1","detail-type":"GuardDuty Finding","source":"aws.guardduty","account":"111122223333","time":"2026-11-29T10:00:00Z","region":"eu-west-1","detail":{"type":"Recon:EC2/PortProbeUnprotectedPort","severity":5}}`
	cfg := Config{Tokens: []Token{{Name: "fh", Token: "s3cret"}}}
	hdr := []string{firehoseRequestID, fhID, "X-Amz-Firehose-Access-Key", "s3cret", "Content-Type", "application/json"}

	t.Run("cloudwatch logs and ndjson", func(t *testing.T) {
		f := newFixture(t, cfg, nil)
		body := firehoseBody(gz(t, cwl), []byte(guardduty+"\n"+`{"app":"x","msg":"hi"}`+"\n"), gz(t, `{"messageType":"CONTROL_MESSAGE","logEvents":[{"id":"","timestamp":1,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}`))
		w := f.do("POST", "/firehose", "", body, hdr...)
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		firehoseAnswer(t, w.Code, w.Body.Bytes())
		evs := f.rec.Events()
		if len(evs) != 4 {
			t.Fatalf("%d events, want 4 (two log events, two lines; the control message none)", len(evs))
		}
		flow := string(evs[0].Raw)
		for _, want := range []string{`"message":"2 111122223333 eni-0a1b2c3d`, `"@timestamp":"2025-11-29T10:00:00.000Z"`, `"log_stream":"eni-0a1b2c3d"`, `"cloud_account_id":"111122223333"`, `"/aws/vpc/flowlogs"`} {
			if !strings.Contains(flow, want) {
				t.Errorf("text log event lacks %s: %s", want, flow)
			}
		}
		if ct := string(evs[1].Raw); !strings.Contains(ct, `"CreateUser"`) || !strings.Contains(ct, `"@timestamp":"2026-11-29T10:00:00.000Z"`) {
			t.Errorf("JSON log event (its own time kept): %s", ct)
		}
		if !strings.Contains(string(evs[2].Raw), `"GuardDuty Finding"`) || !strings.Contains(string(evs[3].Raw), `"app":"x"`) {
			t.Errorf("ndjson records: %s / %s", evs[2].Raw, evs[3].Raw)
		}
	})
	t.Run("stream attributes", func(t *testing.T) {
		f := newFixture(t, cfg, nil)
		w := f.do("POST", "/firehose", "", firehoseBody([]byte(`{"a":1}`)), append(hdr, "X-Amz-Firehose-Common-Attributes", `{"commonAttributes":{"sourcetype":"aws.vpcflow","index":"net"}}`)...)
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if evs := f.rec.Events(); len(evs) != 1 || evs[0].SourceType != "aws.vpcflow" || !strings.Contains(string(evs[0].Raw), `"index":"net"`) {
			t.Fatalf("events %+v", evs)
		}
	})
	t.Run("bad records are quarantined alone", func(t *testing.T) {
		f := newFixture(t, cfg, nil)
		body := strings.Replace(firehoseBody([]byte(`{"a":1}`), []byte("x"), []byte(`{"b":2}`)), `"eA=="`, `"not base64!"`, 1)
		body = strings.Replace(body, `]}`, `,{"nodata":1},{"data":"`+base64.StdEncoding.EncodeToString([]byte{0x1f, 0x8b, 1, 2})+`"}]}`, 1)
		w := f.do("POST", "/firehose", "", body, hdr...)
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if n := len(f.rec.Events()); n != 2 {
			t.Errorf("%d events, want the 2 good records", n)
		}
		var reasons []string
		for _, r := range f.q.Records() {
			reasons = append(reasons, r.Reason)
		}
		if strings.Join(reasons, ",") != "invalid_base64,invalid_record,invalid_gzip" {
			t.Errorf("quarantined %v", reasons)
		}
	})
	t.Run("errors", func(t *testing.T) {
		f := newFixture(t, cfg, nil)
		for _, c := range []struct {
			name, body string
			hdr        []string
			code       int
		}{
			{"no access key", firehoseBody([]byte(`{"a":1}`)), []string{firehoseRequestID, fhID}, http.StatusUnauthorized},
			{"wrong access key", firehoseBody([]byte(`{"a":1}`)), []string{firehoseRequestID, fhID, "X-Amz-Firehose-Access-Key", "nope"}, http.StatusUnauthorized},
			{"not json", "hello", hdr, http.StatusBadRequest},
			{"no records", `{"requestId":"x","timestamp":1}`, hdr, http.StatusBadRequest},
		} {
			w := f.do("POST", "/firehose", "", c.body, c.hdr...)
			if w.Code != c.code {
				t.Errorf("%s: %d %s, want %d", c.name, w.Code, w.Body, c.code)
			}
			firehoseAnswer(t, w.Code, w.Body.Bytes())
		}
		if n := len(f.rec.Events()); n != 0 {
			t.Errorf("%d events delivered from refused requests", n)
		}
		g := newFixture(t, cfg, &testutil.RecordSink{SinkName: "all", Err: errors.New("disk on fire")})
		w := g.do("POST", "/firehose", "", firehoseBody([]byte(`{"a":1}`)), hdr...)
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("delivery failure: %d %s, want 503 (Firehose retries)", w.Code, w.Body)
		}
		firehoseAnswer(t, w.Code, w.Body.Bytes())
	})
}

// TestFirehoseWholeDocumentAndBodyID: a record holding one pretty-printed
// JSON document is one event (not one junk event per line), and the answer
// names the body's requestId when the header is missing.
func TestFirehoseWholeDocumentAndBodyID(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	doc := "{\n  \"detail-type\": \"GuardDuty Finding\",\n  \"detail\": {\"severity\": 8}\n}\n"
	w := f.do("POST", "/firehose", "", firehoseBody([]byte(doc)))
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	firehoseAnswer(t, w.Code, w.Body.Bytes())
	if evs := f.rec.Events(); len(evs) != 1 || !strings.Contains(string(evs[0].Raw), `"severity":8`) {
		t.Fatalf("events %d: want the document as one event", len(evs))
	}
}

// TestFirehoseRefusedLogEventKeepsItsMessage: a CloudWatch log event that
// normalization refuses is quarantined in its subscription message,
// reduced to it (protocol firehose-cloudwatch), so that a replay has its
// log group, stream, account and time; the stream's source type is kept
// as the source type it overrode with.
func TestFirehoseRefusedLogEventKeepsItsMessage(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	cwl := `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/aws/lambda/pay","logStream":"2026/11/29/[$LATEST]ab","subscriptionFilters":["all"],` +
		`"logEvents":[{"id":"1","timestamp":1764410400000,"message":"ok"},{"id":"2","timestamp":1764410401000,"message":""}]}`
	w := f.do("POST", "/firehose", "", firehoseBody(gz(t, cwl)), "X-Amz-Firehose-Common-Attributes", `{"commonAttributes":{"sourcetype":"aws.lambda","index":"payments"}}`)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	rs := f.q.Records()
	if len(rs) != 1 {
		t.Fatalf("%d records quarantined, want the blank log event", len(rs))
	}
	r := rs[0]
	want := `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/aws/lambda/pay","logStream":"2026/11/29/[$LATEST]ab","subscriptionFilters":["all"],"logEvents":[{"id":"2","timestamp":1764410401000,"message":""}]}`
	if r.Protocol != ProtoCloudWatch || string(r.Raw) != want {
		t.Errorf("quarantined %s %s, want %s %s", r.Protocol, r.Raw, ProtoCloudWatch, want)
	}
	if r.SourceType != "aws.lambda" || r.DefaultIndex != "payments" {
		t.Errorf("record keeps source type %q index %q, want the stream's aws.lambda, payments", r.SourceType, r.DefaultIndex)
	}
}

// TestFirehoseRefusedPartKeepsItsMessage: one event of several that a
// CloudWatch log event's message holds (a Google Workspace activity, a
// batch envelope), refused, is quarantined in the subscription message
// with only that log event and it as the message (ProtoCloudWatch), as a
// whole log event refused is, so that a replay keeps the log group,
// stream, account and time; the other events are delivered.
func TestFirehoseRefusedPartKeepsItsMessage(t *testing.T) {
	var wide strings.Builder
	wide.WriteString(`{"name":"WIDE"`)
	for i := range 2100 {
		fmt.Fprintf(&wide, `,"p%d":%d`, i, i)
	}
	wide.WriteString(`}`)
	activity := `{"kind":"admin#reports#activity","id":{"applicationName":"admin"},"events":[{"name":"A"},` + wide.String() + `]}`
	msg, _ := json.Marshal(activity)
	cwl := `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/gws/admin","logStream":"s1","subscriptionFilters":["all"],` +
		`"logEvents":[{"id":"1","timestamp":1764410400000,"message":` + string(msg) + `}]}`
	f := newFixture(t, Config{}, nil)
	if w := f.do("POST", "/firehose", "", firehoseBody(gz(t, cwl))); w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if evs := f.rec.Events(); len(evs) != 1 || !strings.Contains(string(evs[0].Raw), `"events":{"name":"A"}`) {
		t.Fatalf("%d events delivered, want event A", len(evs))
	}
	rs := f.q.Records()
	if len(rs) != 1 {
		t.Fatalf("%d records quarantined, want the wide event", len(rs))
	}
	r := rs[0]
	if r.Protocol != ProtoCloudWatch || !strings.HasPrefix(string(r.Raw), `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/gws/admin","logStream":"s1"`) {
		t.Fatalf("quarantined %s %.200s, want its subscription message (%s)", r.Protocol, r.Raw, ProtoCloudWatch)
	}
	var back struct {
		LogEvents []struct {
			Timestamp int64  `json:"timestamp"`
			Message   string `json:"message"`
		} `json:"logEvents"`
	}
	if err := json.Unmarshal(r.Raw, &back); err != nil || len(back.LogEvents) != 1 {
		t.Fatalf("not a subscription message of one log event: %v", err)
	}
	if le := back.LogEvents[0]; le.Timestamp != 1764410400000 || !strings.Contains(le.Message, `"events":{"name":"WIDE"`) || strings.Contains(le.Message, `"name":"A"`) {
		t.Errorf("log event %d %.200s, want its time and the activity holding only the wide event", le.Timestamp, le.Message)
	}
}

// TestCloudWatchLogEventIDs: two log events of one stream with the same
// message in the same millisecond are two events (CloudWatch gave them two
// ids); a Firehose retry of a delivery (the same ids) is the same events,
// which dedup drops. Before, the id was dropped and the two had one
// content hash.
func TestCloudWatchLogEventIDs(t *testing.T) {
	const line = `Failed password for root from 203.0.113.9 port 50123 ssh2`
	msg := func(ids ...string) string {
		var evs []string
		for _, id := range ids {
			evs = append(evs, `{"id":"`+id+`","timestamp":1764410400000,"message":"`+line+`"}`)
		}
		return `{"messageType":"DATA_MESSAGE","owner":"111122223333","logGroup":"/var/log/secure","logStream":"i-0abc","subscriptionFilters":["all"],"logEvents":[` + strings.Join(evs, ",") + `]}`
	}
	cfg := Config{Tokens: []Token{{Name: "fh", Token: "s3cret"}}}
	hdr := []string{firehoseRequestID, fhID, "X-Amz-Firehose-Access-Key", "s3cret", "Content-Type", "application/json"}
	f := newFixture(t, cfg, nil)
	const a, b = "37920593719212360513302745496612405226532118932484358144", "37920593719212360513302745496612405226532118932484358145"
	for _, body := range []string{firehoseBody(gz(t, msg(a, b))), firehoseBody(gz(t, msg(a))), firehoseBody(gz(t, msg(b, "")))} {
		if w := f.do("POST", "/firehose", "", body, hdr...); w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	}
	evs := f.rec.Events()
	if len(evs) != 5 {
		t.Fatalf("%d events recorded, want 5 (this fixture does not dedup)", len(evs))
	}
	for i, want := range []string{a, b, a, b} {
		if raw := string(evs[i].Raw); !strings.Contains(raw, `"log_event_id":"`+want+`"`) || !strings.Contains(raw, `"log_stream":"i-0abc"`) {
			t.Errorf("event %d lacks its log_event_id %s: %s", i, want, raw)
		}
	}
	if strings.Contains(string(evs[4].Raw), "log_event_id") {
		t.Errorf("a log event without an id took another's: %s", evs[5].Raw)
	}
	if evs[0].Hash == evs[1].Hash {
		t.Error("two log events with one message and time have one content hash: dedup would drop the second")
	}
	if evs[0].Hash != evs[2].Hash || evs[1].Hash != evs[3].Hash {
		t.Error("a retried delivery's log events hash differently: dedup would keep the copies")
	}
}
