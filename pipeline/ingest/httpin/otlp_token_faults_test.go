package httpin

import (
	"bytes"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestOTLPAccessTokenInQuarantine: the endpoint promises that the
// com.splunk.hec.access_token attribute is "never kept" ("the access
// token is dropped whatever its value: a secret, never a field"); it is
// the Splunk HEC token the Collector's splunkhec receiver passes through
// (access_token_passthrough) as a resource attribute. But two refusal
// paths store the request's own bytes instead of the envelope the
// attribute was dropped from:
//   - a binary protobuf record nested too deep (recordProto) is
//     quarantined as its raw LogRecord bytes, attributes included;
//   - an OTLP/JSON request refused whole (here for one deep record, see
//     TestOTLPJSONDeepRecordRefusesWholeRequest; equally for any
//     invalid_otlp body) is quarantined whole, resource attributes
//     included.
//
// The secret then sits in the quarantine files, is shown by `router
// quarantine list`, and goes wherever quarantined records are copied:
// anyone who can read the quarantine can send to the Splunk index the
// token opens.
// Expected: no quarantined record holds the access token's value.
func TestOTLPAccessTokenInQuarantine(t *testing.T) {
	const secret = "11111111-2222-3333-4444-555555555555"
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "ws-042")
	rl.Resource().Attributes().PutStr("com.splunk.hec.access_token", secret)
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	ok := lrs.AppendEmpty()
	ok.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	ok.Body().SetStr("Accepted publickey for deploy")
	deep := lrs.AppendEmpty()
	deep.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	// A record can carry it too (a processor copying resource attributes).
	deep.Attributes().PutStr("com.splunk.hec.access_token", secret)
	deep.Body().SetEmptyMap()
	depth := map[otlpEnc]int{otlpProtobuf: 200, otlpJSON: 40}
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			ld2 := plog.NewLogs()
			ld.CopyTo(ld2)
			m2 := ld2.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(1).Body().Map()
			for range depth[e.enc] {
				m2 = m2.PutEmptyMap("d")
			}
			f := newFixture(t, Config{}, nil)
			body, ct := otlpBody(t, ld2, e.enc)
			w := f.postOTLP(body, ct)
			recs := f.q.Records()
			if len(recs) == 0 {
				t.Fatalf("%d %s: nothing quarantined", w.Code, w.Body)
			}
			for _, r := range recs {
				if bytes.Contains(r.Raw, []byte(secret)) {
					t.Errorf("quarantined record (%s, %d bytes, answer %d) holds the HEC access token", r.Reason, len(r.Raw), w.Code)
				}
			}
			for _, ev := range f.rec.Events() {
				if bytes.Contains(ev.Raw, []byte(secret)) {
					t.Errorf("event holds the HEC access token: %s", ev.Raw)
				}
			}
		})
	}
}
