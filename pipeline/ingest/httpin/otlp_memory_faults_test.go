package httpin

import (
	"runtime"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
)

// otlpPeakHeap runs fn and returns the most heap it saw in use above
// what was in use before (sampled every millisecond: a lower bound).
func otlpPeakHeap(fn func()) uint64 {
	runtime.GC()
	var m0 runtime.MemStats
	runtime.ReadMemStats(&m0)
	stop, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var mx uint64
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				peak <- mx
				return
			default:
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > m0.HeapAlloc {
				mx = max(mx, ms.HeapAlloc-m0.HeapAlloc)
			}
			time.Sleep(time.Millisecond)
		}
	}()
	fn()
	close(stop)
	return <-peak
}

// TestOTLPRecordOverMaxEventBytesIsParsed: max_event_bytes exists
// because "parsing costs memory in proportion to a record's values (tens
// of times its size for a long array)": a longer record "is not parsed
// but quarantined as too_large". The OTLP endpoint checks the size only
// of the finished envelope (addEnvelope: q.oversized). Before that,
// OTLP/JSON parses the WHOLE body into one fastjson tree (walkJSON:
// q.parse(body), in a pooled parser), every attribute value is written
// out (o.tmp) and parsed once more to be flattened (field: o.fp), and the
// envelope is written whole (env.buf); binary protobuf does the last two.
// None of this is counted against max_inflight_bytes (body, arena and
// the envelope buffer only), so the limits that bound every other
// endpoint's memory are bypassed: one log record with an attribute that
// is an array of 250k integers (5 MiB of OTLP/JSON, 1.4 MiB of
// protobuf), with max_event_bytes 64 KiB, grows the router's heap by
// ~350 MiB (JSON) or ~120 MiB (protobuf), 70-90x the body, for a record
// it then quarantines as too_large; 128 concurrent such
// requests (max_concurrent_requests) at the 10 MiB default body take
// tens of GiB: an OOM kill. The same data as an HEC envelope is refused
// unparsed.
// Expected: a record is not parsed or expanded past max_event_bytes, so a
// request's heap stays within its limits: here at most max_body_bytes +
// max_normalized_bytes (40 MiB; the heap is sampled, so the peak
// measured is a lower bound).
func TestOTLPRecordOverMaxEventBytesIsParsed(t *testing.T) {
	cfg := Config{MaxBodyBytes: 8 << 20, MaxNormalizedBytes: 32 << 20, MaxEventBytes: 64 << 10}
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
	lr.Body().SetStr("scan finished")
	s := lr.Attributes().PutEmptySlice("open_ports")
	s.EnsureCapacity(250000)
	for i := range 250000 {
		s.AppendEmpty().SetInt(int64(i % 65536))
	}
	for _, e := range otlpEncodings {
		t.Run(e.name, func(t *testing.T) {
			body, ct := otlpBody(t, ld, e.enc)
			f := newFixture(t, cfg, nil)
			var code int
			peak := otlpPeakHeap(func() { code = f.postOTLP(body, ct).Code })
			t.Logf("body %d bytes: answered %d, quarantine %v, peak heap +%d MiB", len(body), code, otlpReasons(f), peak>>20)
			if bound := uint64(cfg.MaxBodyBytes + cfg.MaxNormalizedBytes); peak > bound {
				t.Errorf("a %d-byte request held %d MiB (%dx its body) for a record over max_event_bytes, past max_body_bytes + max_normalized_bytes (%d MiB)",
					len(body), peak>>20, peak/uint64(len(body)), bound>>20)
			}
		})
	}
}
