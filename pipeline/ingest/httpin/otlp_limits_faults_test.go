package httpin

import (
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// TestOTLPQuarantineAmplification: every log record's envelope
// carries all of its resource's attributes (as "fields"), written afresh
// for each record, and an envelope that is quarantined is kept whole in
// otlpRequest.env.buf (add keeps the buffer when the record was
// refused). A refused record's envelope is counted by no per-request
// limit: max_normalized_bytes counts the batch's arena only, and
// max_inflight_bytes never refuses a request that is alone ("a request
// alone is never refused by it (its own limits bound it)"). So one small
// request, a resource with one large attribute and many empty records (2
// bytes each in protobuf; each refused as otlp_empty_record), makes the
// router hold, and write to the quarantine, records x resource bytes: here
// 1000 x 64 KiB = 64 MiB from a ~70 KiB body, with max_body_bytes 1 MiB,
// max_normalized_bytes 4 MiB and max_inflight_bytes 8 MiB. At the
// defaults (10 MiB bodies, 104857 records) one request of a 5 MiB
// attribute and 100k empty records asks for ~500 GiB: an unauthenticated
// (or any token holder's) request takes the router down (OOM) and fills
// the quarantine's disk. No other endpoint lets a record refused into
// quarantine cost more than its own bytes in the body.
// Expected: what a request holds, quarantined envelopes included, stays
// within its limits (here: refused with 413/429, or quarantining at most
// about max_body_bytes + max_normalized_bytes).
func TestOTLPQuarantineAmplification(t *testing.T) {
	cfg := Config{MaxBodyBytes: 1 << 20, MaxNormalizedBytes: 4 << 20, MaxInflightBytes: 8 << 20}
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "ws-042")
	rl.Resource().Attributes().PutStr("k8s.pod.annotations", strings.Repeat("a", 64<<10))
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	for range 1000 {
		lrs.AppendEmpty() // neither a body nor attributes: otlp_empty_record
	}
	body, ct := otlpBody(t, ld, otlpProtobuf)
	f := newFixture(t, cfg, nil)
	w := f.postOTLP(body, ct)
	var held int64
	for _, r := range f.q.Records() {
		held += int64(len(r.Raw))
	}
	t.Logf("body %d bytes: answered %d, %d records quarantined, %d bytes", len(body), w.Code, len(f.q.Records()), held)
	if w.Code == http.StatusRequestEntityTooLarge || w.Code == http.StatusTooManyRequests {
		return
	}
	if bound := cfg.MaxBodyBytes + cfg.MaxNormalizedBytes; held > bound {
		t.Errorf("a %d-byte request made the router hold and quarantine %d bytes (%dx), past max_body_bytes + max_normalized_bytes (%d) and max_inflight_bytes (%d)",
			len(body), held, held/int64(len(body)), bound, cfg.MaxInflightBytes)
	}
}

// TestOTLPJSONDeepRecordRefusesWholeRequest: OTLP/JSON spends four
// JSON levels on each level of a map or array value
// ({"kvlistValue":{"values":[{"key":..,"value":{...}}]}}) and seven on
// the envelope of the request, and walkJSON parses the whole body with
// q.parse, which refuses anything nested past jsonscan.MaxDepth (128).
// So a log record whose body is a map nested 32 deep (an event of depth
// 33, which the HEC endpoint and the protobuf encoding take) makes the
// WHOLE request a 400 "too_deep": every other record of the batch is
// refused with it, the exporter drops the batch (400 is not retryable),
// and the body is quarantined whole as OTLP/JSON, which the HEC replay
// (admin_cmds.go: protocol otlp is replayed as HEC envelopes) cannot take
// either. The same request in protobuf delivers both records: the commit
// says nesting is bounded with "a deeper record quarantined alone".
// Expected: as in protobuf: 200, both events delivered (or at worst the
// deep record quarantined alone and the other one delivered).
func TestOTLPJSONDeepRecordRefusesWholeRequest(t *testing.T) {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("host.name", "ws-042")
	lrs := rl.ScopeLogs().AppendEmpty().LogRecords()
	ok := lrs.AppendEmpty()
	ok.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	ok.Body().SetStr("Failed password for root from 198.51.100.23")
	deep := lrs.AppendEmpty()
	deep.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	m := deep.Body().SetEmptyMap()
	m.PutStr("kind", "Pod")
	for range 32 {
		m = m.PutEmptyMap("spec")
	}
	m.PutStr("image", "nginx")

	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			body, ct := otlpBody(t, ld, e.enc)
			w := f.postOTLP(body, ct)
			if w.Code != http.StatusOK {
				t.Fatalf("%d %s: the whole request refused for one record's nesting (quarantine: %d records, reason %q)",
					w.Code, w.Body, len(f.q.Records()), otlpReasons(f))
			}
			if got := len(f.rec.Events()); got == 0 {
				t.Errorf("no event delivered")
			}
		})
	}
}

func otlpReasons(f *fixture) []string {
	var rs []string
	for _, r := range f.q.Records() {
		rs = append(rs, r.Reason)
	}
	return rs
}
