package httpin

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
)

// The tests build their requests with the OpenTelemetry Collector's own
// pdata (what its otlphttp exporter marshals, in both encodings), and one
// test sends through the OpenTelemetry Go SDK's otlploghttp exporter, a
// real OTLP/HTTP client.

var (
	otlpT0   = time.Date(2026, 11, 30, 10, 0, 0, 123456789, time.UTC)
	otlpT0ms = time.Date(2026, 11, 30, 10, 0, 0, 123000000, time.UTC) // as the exporter sends it: milliseconds
	otlpSeen = time.Date(2026, 11, 30, 10, 0, 5, 0, time.UTC)
)

// otlpLogs is a request of three records from one resource: a text line
// with a time, severity, trace context and attributes; a map body (a
// detection); and a record without a body (an event of attributes).
func otlpLogs() plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	ra := rl.Resource().Attributes()
	ra.PutStr("host.name", "ws-042")
	ra.PutStr("service.name", "auth")
	ra.PutStr("com.splunk.hec.access_token", "secret-must-not-leak")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("filelog")

	lr := sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(otlpSeen))
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.SetSeverityText("WARN")
	lr.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	lr.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, 8})
	lr.Body().SetStr("Failed password for root from 198.51.100.23 port 41234 ssh2")
	lr.Attributes().PutStr("log.file.path", "/var/log/auth.log")
	lr.Attributes().PutInt("attempt", 3)
	hm := lr.Attributes().PutEmptyMap("http")
	hm.PutStr("method", "POST")
	hm.PutEmptyMap("response").PutInt("status_code", 401)
	lr.Attributes().PutEmptySlice("tags").FromRaw([]any{"ssh", "auth"})
	lr.Attributes().PutEmptySlice("hops").FromRaw([]any{map[string]any{"ip": "10.0.0.1"}})
	lr.Attributes().PutStr("com.splunk.sourcetype", "linux_secure")

	lr = sl.LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	m := lr.Body().SetEmptyMap()
	m.PutStr("DetectName", "CredentialDumping")
	m.PutInt("Severity", 4)
	m.PutDouble("Confidence", 0.97)
	m.PutBool("Blocked", true)
	tags := m.PutEmptySlice("Tags")
	tags.AppendEmpty().SetStr("T1003")
	tags.AppendEmpty().SetStr("lsass")
	m.PutEmptyMap("Host").PutStr("Name", "ws-042")
	m.PutEmptyBytes("Hash").FromRaw([]byte{0xde, 0xad, 0xbe, 0xef})
	lr.Attributes().PutStr("com.splunk.sourcetype", "crowdstrike:events:sensor")

	lr = sl.LogRecords().AppendEmpty()
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(otlpSeen))
	lr.SetEventName("user.login")
	lr.Attributes().PutStr("user.name", "alice")
	lr.Attributes().PutStr("event.outcome", "success")
	return ld
}

// otlpBody marshals ld as an ExportLogsServiceRequest in enc.
func otlpBody(t testing.TB, ld plog.Logs, enc otlpEnc) (body []byte, ct string) {
	t.Helper()
	req := plogotlp.NewExportRequestFromLogs(ld)
	var err error
	if enc == otlpJSON {
		body, err = req.MarshalJSON()
		ct = "application/json"
	} else {
		body, err = req.MarshalProto()
		ct = "application/x-protobuf"
	}
	if err != nil {
		t.Fatal(err)
	}
	return body, ct
}

// otlpAnswer reads a 200 answer's partial success.
func otlpAnswer(t testing.TB, w *httptest.ResponseRecorder, enc otlpEnc) (rejected int64, msg string) {
	t.Helper()
	resp := plogotlp.NewExportResponse()
	var err error
	if enc == otlpJSON {
		err = resp.UnmarshalJSON(w.Body.Bytes())
	} else {
		err = resp.UnmarshalProto(w.Body.Bytes())
	}
	if err != nil {
		t.Fatalf("answer %q is not an ExportLogsServiceResponse: %v", w.Body, err)
	}
	ps := resp.PartialSuccess()
	return ps.RejectedLogRecords(), ps.ErrorMessage()
}

func (f *fixture) postOTLP(body []byte, ct string, hdr ...string) *httptest.ResponseRecorder {
	return f.do("POST", "/v1/logs", "", string(body), append([]string{"Content-Type", ct}, hdr...)...)
}

var otlpEncodings = []struct {
	name string
	enc  otlpEnc
}{{"protobuf", otlpProtobuf}, {"json", otlpJSON}}

// TestOTLPMatchesSplunkHECExporter: every record of an OTLP request is the
// event the Collector's splunk_hec exporter would have made of it (the
// same content hash as the HEC envelope it sends), in both encodings; the
// HEC access token attribute is never kept.
func TestOTLPMatchesSplunkHECExporter(t *testing.T) {
	// What the splunk_hec exporter sends for the first two records
	// (logdata_to_splunk.go: host.name and com.splunk.* as metadata, the
	// other attributes, trace and span ids and severity as fields).
	hec := `{"time":1796032800.123,"host":"ws-042","sourcetype":"linux_secure","fields":{"service.name":"auth","trace_id":"0102030405060708090a0b0c0d0e0f10","span_id":"0102030405060708","otel.log.severity.text":"WARN","otel.log.severity.number":13,"log.file.path":"/var/log/auth.log","attempt":3,"http.method":"POST","http.response.status_code":401,"tags":["ssh","auth"],"hops":"[{\"ip\":\"10.0.0.1\"}]"},"event":"Failed password for root from 198.51.100.23 port 41234 ssh2"}` +
		`{"time":1796032800.123,"host":"ws-042","sourcetype":"crowdstrike:events:sensor","fields":{"service.name":"auth"},"event":{"DetectName":"CredentialDumping","Severity":4,"Confidence":0.97,"Blocked":true,"Tags":["T1003","lsass"],"Host":{"Name":"ws-042"},"Hash":"3q2+7w=="}}`
	ref := newFixture(t, Config{}, nil)
	if w := ref.do("POST", "/services/collector/event", "", hec); w.Code != http.StatusOK {
		t.Fatalf("HEC: %d %s", w.Code, w.Body)
	}
	want := ref.rec.Events()
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			body, ct := otlpBody(t, otlpLogs(), e.enc)
			w := f.postOTLP(body, ct)
			if w.Code != http.StatusOK || w.Header().Get("Content-Type") != ct {
				t.Fatalf("%d %s %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			if n, msg := otlpAnswer(t, w, e.enc); n != 0 {
				t.Fatalf("partial success: %d rejected (%s)", n, msg)
			}
			evs := f.rec.Events()
			if len(evs) != 3 {
				t.Fatalf("%d events, want 3", len(evs))
			}
			for i := range want {
				if evs[i].Hash != want[i].Hash {
					t.Errorf("record %d:\n otlp %s\n hec  %s\nnot the same event", i, evs[i].Raw, want[i].Raw)
				}
				if evs[i].Time != otlpT0ms.UnixNano() {
					t.Errorf("record %d: time %v, want the record's %v", i, time.Unix(0, evs[i].Time).UTC(), otlpT0ms)
				}
			}
			for i, ev := range evs {
				if bytes.Contains(ev.Raw, []byte("secret-must-not-leak")) {
					t.Errorf("event %d keeps the HEC access token: %s", i, ev.Raw)
				}
				if !bytes.Contains(ev.Raw, []byte(`"protocol":"otlp"`)) {
					t.Errorf("event %d does not name its protocol: %s", i, ev.Raw)
				}
			}
			// A record without a body is its attributes; its observed time
			// stands in for the time it does not have.
			// (Attribute names are kept as written: literal dotted keys,
			// which rules read as their paths.)
			v := fastjson.MustParseBytes(evs[2].Raw)
			if got := string(v.GetStringBytes("user.name")); got != "alice" {
				t.Errorf("body-less record: user.name %q, want alice: %s", got, evs[2].Raw)
			}
			if got := string(v.GetStringBytes("event.outcome")); got != "success" {
				t.Errorf("body-less record: event.outcome %q: %s", got, evs[2].Raw)
			}
			if evs[2].Time != otlpSeen.UnixNano() {
				t.Errorf("body-less record: time %v, want its observed time %v", time.Unix(0, evs[2].Time).UTC(), otlpSeen)
			}
		})
	}
}

// TestOTLPPartialSuccess: a record that cannot be taken is quarantined
// alone, as the HEC envelope it was made into (so that a replay through
// /admin/replay/hec takes it as the endpoint did), and the answer's
// partial_success counts it; the other records are delivered.
func TestOTLPPartialSuccess(t *testing.T) {
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			f := newFixture(t, Config{MaxEventBytes: 4096}, nil)
			ld := otlpLogs()
			lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
			lrs.At(0).Body().SetStr(strings.Repeat("x", 5000)) // over max_event_bytes
			empty := lrs.AppendEmpty()                         // neither body nor attributes
			empty.SetObservedTimestamp(pcommon.NewTimestampFromTime(otlpSeen))
			body, ct := otlpBody(t, ld, e.enc)
			w := f.postOTLP(body, ct)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			n, msg := otlpAnswer(t, w, e.enc)
			if n != 2 || !strings.Contains(msg, "too_large") {
				t.Errorf("partial success %d %q, want 2 rejected, the first too_large", n, msg)
			}
			if got := len(f.rec.Events()); got != 2 {
				t.Errorf("%d events delivered, want the 2 good records", got)
			}
			recs := f.q.Records()
			if len(recs) != 2 {
				t.Fatalf("%d quarantined, want 2", len(recs))
			}
			if recs[0].Reason != "too_large" || recs[1].Reason != "otlp_empty_record" {
				t.Errorf("reasons %q %q", recs[0].Reason, recs[1].Reason)
			}
			for _, r := range recs {
				if r.Protocol != ProtoOTLP {
					t.Errorf("protocol %q, want %q", r.Protocol, ProtoOTLP)
				}
			}
			// The record without a time has its observed time as the
			// envelope's (as the exporter sends it).
			env := fastjson.MustParseBytes(recs[1].Raw)
			if env.Get("event") == nil || env.GetInt64("time") != otlpSeen.UnixNano() {
				t.Errorf("quarantined record %s: want its HEC envelope, with its observed time", recs[1].Raw)
			}
		})
	}
}

// TestOTLPRefusals: a body that is not a request is quarantined whole and
// answered 400 with a google.rpc.Status; a Content-Type OTLP has not is
// 415; without a token 401; each in the request's encoding.
func TestOTLPRefusals(t *testing.T) {
	for _, c := range []struct {
		name, ct, body string
		status         int
		reason         string
	}{
		{"protobuf garbage", "application/x-protobuf", "\x0a\xff\xff\xff\xff\x0f", http.StatusBadRequest, "invalid_otlp"},
		{"truncated protobuf", "application/x-protobuf", "\x0a\x10\x12\x05", http.StatusBadRequest, "invalid_otlp"},
		{"json not a request", "application/json", `{"resourceLogs":{"a":1}}`, http.StatusBadRequest, "invalid_otlp"},
		{"json body is not an AnyValue", "application/json", `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":"text"}]}]}]}`, http.StatusBadRequest, "invalid_otlp"},
		{"json invalid", "application/json", `{"resourceLogs":[`, http.StatusBadRequest, "invalid_otlp"},
		{"text", "text/plain", "hello", http.StatusUnsupportedMediaType, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			w := f.postOTLP([]byte(c.body), c.ct)
			if w.Code != c.status {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, c.status)
			}
			if c.status == http.StatusBadRequest {
				var st struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				}
				if c.ct == "application/json" {
					if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil || st.Code != 3 || st.Message == "" {
						t.Errorf("status %s (%v): want google.rpc.Status code 3 with a message", w.Body, err)
					}
				} else if !bytes.HasPrefix(w.Body.Bytes(), []byte{0x08, 0x03, 0x12}) {
					t.Errorf("status %x: want a protobuf google.rpc.Status, code 3, then its message", w.Body.Bytes())
				}
				recs := f.q.Records()
				if len(recs) != 1 || recs[0].Reason != c.reason || string(recs[0].Raw) != c.body {
					t.Errorf("quarantine %+v: want the whole body, reason %s", recs, c.reason)
				}
			}
			if len(f.rec.Events()) != 0 {
				t.Errorf("events delivered from a refused body")
			}
		})
	}
	t.Run("token", func(t *testing.T) {
		f := newFixture(t, Config{Tokens: []Token{{Name: "otel", Token: "s3cret-token-value"}}}, nil)
		body, ct := otlpBody(t, otlpLogs(), otlpProtobuf)
		if w := f.postOTLP(body, ct); w.Code != http.StatusUnauthorized {
			t.Fatalf("no token: %d %s", w.Code, w.Body)
		}
		if w := f.postOTLP(body, ct, "Authorization", "Bearer s3cret-token-value"); w.Code != http.StatusOK {
			t.Fatalf("bearer token: %d %s", w.Code, w.Body)
		}
	})
}

// TestOTLPTooDeep: a value nested past the bound refuses its record alone
// (binary protobuf: nothing bounds nesting before the walk does).
func TestOTLPTooDeep(t *testing.T) {
	f := newFixture(t, Config{}, nil)
	ld := otlpLogs()
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1)
	m := lr.Body().Map()
	for range 300 {
		m = m.PutEmptyMap("d")
	}
	body, ct := otlpBody(t, ld, otlpProtobuf)
	w := f.postOTLP(body, ct)
	if w.Code != http.StatusOK {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if n, _ := otlpAnswer(t, w, otlpProtobuf); n != 1 {
		t.Errorf("%d rejected, want the deep record", n)
	}
	if got := len(f.rec.Events()); got != 2 {
		t.Errorf("%d events, want the 2 others", got)
	}
	if recs := f.q.Records(); len(recs) != 1 || recs[0].Reason != "too_deep" {
		t.Errorf("quarantine %+v", recs)
	}
}

// TestOTLPSDKExporter: the OpenTelemetry Go SDK's OTLP/HTTP log exporter
// (gzip, a bearer token, a resource) delivers through the endpoint.
func TestOTLPSDKExporter(t *testing.T) {
	f := newFixture(t, Config{Tokens: []Token{{Name: "otel", Token: "s3cret-token-value", SourceType: "app.auth"}}}, nil)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx,
		otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"),
		otlploghttp.WithCompression(otlploghttp.GzipCompression),
		otlploghttp.WithHeaders(map[string]string{"Authorization": "Bearer s3cret-token-value"}),
		otlploghttp.WithRetry(otlploghttp.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	var rec otellog.Record
	rec.SetSeverity(otellog.SeverityWarn)
	rec.SetSeverityText("WARN")
	rec.SetBody(attribute.MapValue(attribute.String("msg", "login failed"), attribute.String("user", "bob"), attribute.Int("attempt", 5)))
	rec.AddAttributes(attribute.String("source.ip", "203.0.113.9"))
	sdkEmit(t, exp, rec)
	evs := f.rec.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	v := fastjson.MustParseBytes(evs[0].Raw)
	for _, c := range []struct {
		path []string
		want string
	}{
		{[]string{"host", "name"}, "app-7"},
		{[]string{"event", "dataset"}, "app.auth"},
		{[]string{"labels", "service.name"}, "auth"},
		{[]string{"labels", "source.ip"}, "203.0.113.9"},
		{[]string{"user"}, "bob"},
	} {
		if got := v.Get(c.path...); got == nil || string(got.GetStringBytes()) != c.want {
			t.Errorf("%v = %v, want %q: %s", c.path, got, c.want, evs[0].Raw)
		}
	}
	if evs[0].Time != otlpT0ms.UnixNano() {
		t.Errorf("time %v, want %v", time.Unix(0, evs[0].Time).UTC(), otlpT0ms)
	}
}

// sdkEmit sends rec, at otlpT0, through the OpenTelemetry Go SDK with
// exporter exp and a resource (host.name app-7, service.name auth), and
// shuts the SDK down (which flushes).
func sdkEmit(t *testing.T, exp sdklog.Exporter, rec otellog.Record) {
	t.Helper()
	ctx := context.Background()
	lp := sdklog.NewLoggerProvider(
		sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)),
		sdklog.WithResource(resource.NewSchemaless(attribute.String("host.name", "app-7"), attribute.String("service.name", "auth"))))
	rec.SetTimestamp(otlpT0)
	lp.Logger("auth").Emit(ctx, rec)
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}

// FuzzOTLP: any body, in either encoding, is taken, refused or
// quarantined, never a panic, and every event is valid JSON.
func FuzzOTLP(f *testing.F) {
	for _, e := range otlpEncodings {
		body, _ := otlpBody(f, otlpLogs(), e.enc)
		f.Add(body, e.enc == otlpJSON)
	}
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"a","value":{"doubleValue":"NaN"}}]}}}]}]}]}`), true)
	fx := newFixture(f, Config{}, nil)
	f.Fuzz(func(t *testing.T, body []byte, isJSON bool) {
		ct := "application/x-protobuf"
		if isJSON {
			ct = "application/json"
		}
		w := fx.postOTLP(body, ct)
		switch w.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		for _, ev := range fx.rec.Drain() {
			if err := fastjson.ValidateBytes(ev.Raw); err != nil {
				t.Fatalf("event %q: %v", ev.Raw, err)
			}
		}
	})
}

// TestOTLPPartialSuccessCountsRecords: partial_success counts log records,
// not the events a record splits into: a record whose three parts are all
// refused is one rejected log record (three quarantined events). Here
// every event is refused for its resource's 2100 attributes (labels past
// normalize.max_fields).
func TestOTLPPartialSuccessCountsRecords(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	for i := range 2100 {
		rl.Resource().Attributes().PutStr(fmt.Sprintf("k8s.pod.label.%04d", i), "v")
	}
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	lrs.AppendEmpty().Body().SetStr("one event")
	parts := lrs.AppendEmpty().Body().SetEmptyMap().PutEmptySlice("records")
	for i := range 3 {
		parts.AppendEmpty().SetEmptyMap().PutInt("n", int64(i))
	}
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			body, ct := otlpBody(t, ld, e.enc)
			w := f.postOTLP(body, ct)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if n, msg := otlpAnswer(t, w, e.enc); n != 2 {
				t.Errorf("partial success %d (%s), want the 2 log records", n, msg)
			}
			if n := len(f.q.Records()); n != 4 {
				t.Errorf("%d quarantined, want 4 (a record, and the other's 3 parts)", n)
			}
		})
	}
}

// TestOTLPMetadataOnlyRecordRefused: a record without a body whose only
// attributes are metadata (host.name) has no content: it is quarantined as
// otlp_empty_record, not delivered as an event of metadata alone.
func TestOTLPMetadataOnlyRecordRefused(t *testing.T) {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.Attributes().PutStr("host.name", "ws-042")
	lr.Attributes().PutStr("com.splunk.sourcetype", "linux_secure")
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			body, ct := otlpBody(t, ld, e.enc)
			w := f.postOTLP(body, ct)
			if n, _ := otlpAnswer(t, w, e.enc); n != 1 || len(f.rec.Events()) != 0 {
				t.Errorf("%d rejected, %d events: want the record refused", n, len(f.rec.Events()))
			}
			if recs := f.q.Records(); len(recs) != 1 || recs[0].Reason != "otlp_empty_record" {
				t.Errorf("quarantine %+v", otlpReasons(f))
			}
		})
	}
}
