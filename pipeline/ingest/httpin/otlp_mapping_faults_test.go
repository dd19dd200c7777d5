package httpin

import (
	"net/http"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// The splunk_hec exporter referred to below is the OpenTelemetry
// Collector's (contrib), pkg/translator/splunk LogToSplunkEvent (the code
// the exporter calls for each log record):
//
//	fields := make(map[string]any, ...)
//	... fields[toHecAttrs.SeverityNumber] = lr.SeverityNumber()  // a number
//	for k, v := range res.Attributes().All() {
//	    switch k {
//	    case toOtelAttrs.Host: host = v.Str()    // whatever the type: "" if not a string
//	    ... default: mergeValue(fields, k, v)     // fields[k] = v (a map: later keys win)
//	    }
//	}
//	for k, v := range lr.Attributes().All() { ...the same... }
//	ts := lr.Timestamp()
//	if ts == 0 { ts = lr.ObservedTimestamp() }
//	return &Event{Time: nanoToEpochSeconds(ts), Host: host, ..., Event: body, Fields: fields}
//
// The OTLP endpoint promises (otlp.go, handleOTLP) that "switching
// exporters changes no event, hash or rule". Each test below builds the
// HEC envelope that exporter sends for a record, posts it to the HEC
// endpoint, and compares the content hash with the OTLP endpoint's event.

// otlpHECEvent returns the event the HEC event endpoint makes of env.
func otlpHECEvent(t *testing.T, env string) (hash uint64, raw string, ts int64) {
	t.Helper()
	ref := newFixture(t, Config{}, nil)
	if w := ref.do("POST", "/services/collector/event", "", env); w.Code != http.StatusOK {
		t.Fatalf("HEC: %d %s", w.Code, w.Body)
	}
	evs := ref.rec.Events()
	if len(evs) != 1 {
		t.Fatalf("HEC: %d events", len(evs))
	}
	return evs[0].Hash, string(evs[0].Raw), evs[0].Time
}

// otlpEvent posts body to /v1/logs and returns its one event.
func otlpEvent(t *testing.T, body []byte, ct string) (hash uint64, raw string, ts int64) {
	t.Helper()
	f := newFixture(t, Config{}, nil)
	w := f.postOTLP(body, ct)
	if w.Code != http.StatusOK {
		t.Fatalf("OTLP: %d %s", w.Code, w.Body)
	}
	evs := f.rec.Events()
	if len(evs) != 1 {
		t.Fatalf("OTLP: %d events (quarantine %+v)", len(evs), f.q.Records())
	}
	return evs[0].Hash, string(evs[0].Raw), evs[0].Time
}

// TestOTLPRecordAttributeOverridesResource: a record attribute with
// the same key as a resource attribute is written to "fields" twice (the
// resource's member first, then the record's: a JSON object with a
// duplicate key), and the normalizer keeps both values, so the label
// becomes the array ["prod","dev"]. The splunk_hec exporter puts the
// attributes in a Go map, resource first, then the record's: the
// record's value replaces the resource's and only "dev" is sent. A user
// who sets deployment.environment=dev on one record of a prod service
// gets a label that is neither (a rule on deployment.environment ==
// "dev" does not match an array), an event whose type changed from
// string to array, and another _id than the same record sent through
// the splunk_hec exporter (the same happens to a map attribute "http"
// flattened next to a literal "http.method").
// Expected: the record's value, as the exporter sends it (same hash).
func TestOTLPRecordAttributeOverridesResource(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "ws-042")
	rl.Resource().Attributes().PutStr("deployment.environment", "prod")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	lr.Body().SetStr("user alice logged in")
	lr.Attributes().PutStr("deployment.environment", "dev")

	wantHash, wantRaw, _ := otlpHECEvent(t,
		`{"time":1796032800.123,"host":"ws-042","fields":{"deployment.environment":"dev"},"event":"user alice logged in"}`)
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			body, ct := otlpBody(t, ld, e.enc)
			h, raw, _ := otlpEvent(t, body, ct)
			if h != wantHash {
				t.Errorf("the record's attribute did not replace the resource's:\n otlp %s\n hec  %s", raw, wantRaw)
			}
		})
	}
}

// TestOTLPJSONSeverityNumberEnumName: recordJSON accepts an enum
// name for severityNumber ("SEVERITY_NUMBER_WARN", as protobuf JSON
// parsers do, and as the Collector's pdata reads it: severity 13) but
// writes the NAME, as a JSON string, into otel.log.severity.number. The
// exporter sends the number (fields[...] = lr.SeverityNumber(), 13). The
// same record in OTLP/JSON and in protobuf thus becomes two different
// events (another label value and type, another _id): a rule on
// otel.log.severity.number >= 13 misses every JSON record that named its
// severity, and dedup across encodings fails. Any string at all
// ("pwned") is taken as a severity number too.
// Expected: the enum's number, 13, the event the protobuf request gives.
func TestOTLPJSONSeverityNumberEnumName(t *testing.T) {
	pb := plog.NewLogs()
	lr := pb.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	lr.SetSeverityNumber(plog.SeverityNumberWarn)
	lr.Body().SetStr("disk almost full")
	body, ct := otlpBody(t, pb, otlpProtobuf)
	wantHash, wantRaw, _ := otlpEvent(t, body, ct)

	js := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1796032800123456789","severityNumber":"SEVERITY_NUMBER_WARN","body":{"stringValue":"disk almost full"}}]}]}]}`
	h, raw, _ := otlpEvent(t, []byte(js), "application/json")
	if h != wantHash {
		t.Errorf("severityNumber as its enum name is not severity 13:\n json     %s\n protobuf %s", raw, wantRaw)
	}
}

// TestOTLPJSONTraceIDNotNormalized: OTLP/JSON trace and span ids are
// "case-insensitive hex-encoded strings" (OTLP spec, JSON Protobuf
// Encoding), and an all-zero id is an invalid (absent) id. recordJSON
// copies the strings as sent: an upper-case traceId becomes an upper-case
// trace_id label, and an all-zero spanId is kept, where the protobuf path
// (and the exporter: hex.EncodeToString of the decoded id, omitted when
// IsEmpty) writes lower case and drops the zero id. The same record in
// the two encodings gives different events and _ids, and a search or
// trace correlation by trace_id (always lower case from every other
// source) misses the JSON records.
// Expected: the event of the same record sent as protobuf.
func TestOTLPJSONTraceIDNotNormalized(t *testing.T) {
	pb := plog.NewLogs()
	lr := pb.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	lr.SetTraceID(pcommon.TraceID{0xab, 0xcd, 0xef, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})
	lr.Body().SetStr("checkout failed")
	body, ct := otlpBody(t, pb, otlpProtobuf)
	wantHash, wantRaw, _ := otlpEvent(t, body, ct)

	js := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1796032800123456789","traceId":"ABCDEF0405060708090A0B0C0D0E0F10","spanId":"0000000000000000","body":{"stringValue":"checkout failed"}}]}]}]}`
	h, raw, _ := otlpEvent(t, []byte(js), "application/json")
	if h != wantHash {
		t.Errorf("OTLP/JSON ids kept as sent, not as the ids they are:\n json     %s\n protobuf %s", raw, wantRaw)
	}
}

// TestOTLPNonStringHostName: host.name (and com.splunk.*) are HEC
// metadata whatever their type for the splunk_hec exporter: it assigns
// host = v.Str() ("" for an int) and never writes the attribute to
// "fields". otlpEnvelope.meta takes only a string value and otherwise
// returns false, so an int host.name is written to "fields" and becomes
// the label host.name, and a non-string host.name on the record does not
// override the resource's (string) host as it does in the exporter. The
// event is not the one the exporter sends (another _id; a label
// "host.name" no HEC sender would have).
// Expected: the exporter's envelope: host empty (the record's, last),
// no host.name field.
func TestOTLPNonStringHostName(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "ws-042")
	rl.Resource().Attributes().PutStr("service.name", "auth")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	lr.Body().SetStr("session opened")
	lr.Attributes().PutInt("host.name", 42)

	wantHash, wantRaw, _ := otlpHECEvent(t,
		`{"time":1796032800.123,"host":"","fields":{"service.name":"auth"},"event":"session opened"}`)
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			body, ct := otlpBody(t, ld, e.enc)
			h, raw, _ := otlpEvent(t, body, ct)
			if h != wantHash {
				t.Errorf("a non-string host.name is not HEC metadata as the exporter takes it:\n otlp %s\n hec  %s", raw, wantRaw)
			}
		})
	}
}

// TestOTLPDoubleNotJSONNumber: appendDouble writes a double with
// strconv 'g' (1.5e+06, 1e-07) where the exporter's JSON encoder writes
// 1500000 and 1e-7 (encoding/json's, which goccy/go-json copies: 'f' for
// exponents in [-6, 21)). The number's text is kept in the event, so a
// double attribute or body member (a byte count, a duration, a price)
// gives an event unlike the one the exporter sends: another _id, and a
// value that reads 1.5e+06 in every destination.
// Expected: the exporter's event for the same record (same hash).
func TestOTLPDoubleNotJSONNumber(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "ws-042")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	m := lr.Body().SetEmptyMap()
	m.PutStr("msg", "upload done")
	m.PutDouble("bytes", 1500000)
	lr.Attributes().PutDouble("duration_s", 0.0000001)

	wantHash, wantRaw, _ := otlpHECEvent(t,
		`{"time":1796032800.123,"host":"ws-042","fields":{"duration_s":1e-7},"event":{"msg":"upload done","bytes":1500000}}`)
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			body, ct := otlpBody(t, ld, e.enc)
			h, raw, _ := otlpEvent(t, body, ct)
			if h != wantHash {
				t.Errorf("doubles not written as the exporter writes them:\n otlp %s\n hec  %s", raw, wantRaw)
			}
		})
	}
}

// TestOTLPObservedTimeIsTheEnvelopeTime: for a record without a
// time (time_unix_nano 0) the exporter sends the observed time as the
// envelope's "time" (ts := lr.Timestamp(); if ts == 0 { ts =
// lr.ObservedTimestamp() }), which the HEC endpoint applies over a time
// in the event. The OTLP endpoint only passes the observed time as a
// default, so a body with a time field of its own (here a stale or
// client-controlled "timestamp") dates the event instead: the event is
// not the one the exporter sends (other @timestamp, other _id), and a
// record whose body carries a bogus time is filed at that time, not when
// the collector saw it.
// Expected: the event's time is the observed time, as with the exporter.
func TestOTLPObservedTimeIsTheEnvelopeTime(t *testing.T) {
	seen := otlpSeen
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "ws-042")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(seen))
	m := lr.Body().SetEmptyMap()
	m.PutStr("msg", "job finished")
	m.PutStr("timestamp", "2020-01-01T00:00:00Z")

	wantHash, wantRaw, wantTime := otlpHECEvent(t,
		`{"time":1796032805,"host":"ws-042","event":{"msg":"job finished","timestamp":"2020-01-01T00:00:00Z"}}`)
	if wantTime != seen.UnixNano() {
		t.Fatalf("reference: HEC time %v", time.Unix(0, wantTime).UTC())
	}
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			body, ct := otlpBody(t, ld, e.enc)
			h, raw, ts := otlpEvent(t, body, ct)
			if ts != seen.UnixNano() || h != wantHash {
				t.Errorf("time %v, want the observed time %v (the exporter's envelope time):\n otlp %s\n hec  %s",
					time.Unix(0, ts).UTC(), seen, raw, wantRaw)
			}
		})
	}
}

// TestOTLPArrayOfMapsText: an attribute holding an array of maps is
// sent by the exporter as the JSON text of the array (mergeValue:
// json.Marshal(v.Slice().AsRaw())), and a Go map marshals with its keys
// SORTED (encoding/json, and goccy/go-json which the exporter uses, both
// sort map keys). otlpRequest.flatten writes the members in the order
// they came (fastjson MarshalTo), so the label's text differs from the
// exporter's whenever a map's keys are not already sorted: another label
// value (a search or rule on the exact text misses) and another _id than
// the same record sent through the splunk_hec exporter.
// Expected: "[{\"ip\":\"10.0.0.1\",\"port\":22}]", as the exporter sends it.
func TestOTLPArrayOfMapsText(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "ws-042")
	lr := rl.ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	lr.Body().SetStr("connection relayed")
	hop := lr.Attributes().PutEmptySlice("hops").AppendEmpty().SetEmptyMap()
	hop.PutInt("port", 22)
	hop.PutStr("ip", "10.0.0.1")

	wantHash, wantRaw, _ := otlpHECEvent(t,
		`{"time":1796032800.123,"host":"ws-042","fields":{"hops":"[{\"ip\":\"10.0.0.1\",\"port\":22}]"},"event":"connection relayed"}`)
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			body, ct := otlpBody(t, ld, e.enc)
			h, raw, _ := otlpEvent(t, body, ct)
			if h != wantHash {
				t.Errorf("array of maps not the exporter's JSON text:\n otlp %s\n hec  %s", raw, wantRaw)
			}
		})
	}
}
