package harness

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// TestOTLPBatch: a batch framed for ProtoOTLP is an ExportLogsServiceRequest
// the Collector's own decoder reads: one record per event, its body the
// event as a map (the bench fields numbers), its time and attributes.
func TestOTLPBatch(t *testing.T) {
	g := newGen(1, 0, "run1", false)
	var b batch
	g.fill(&b, ProtoOTLP, 5)
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(b.body); err != nil {
		t.Fatalf("not a request: %v", err)
	}
	lrs := req.Logs().ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	if lrs.Len() != 5 {
		t.Fatalf("%d records, want 5", lrs.Len())
	}
	for i := range lrs.Len() {
		lr := lrs.At(i)
		if lr.Timestamp() == 0 || lr.Body().Type() != pcommon.ValueTypeMap {
			t.Fatalf("record %d: time %d, body %s", i, lr.Timestamp(), lr.Body().Type())
		}
		seq, ok := lr.Body().Map().Get("bench_seq")
		if !ok || seq.Type() != pcommon.ValueTypeInt || seq.Int() != int64(b.seqs[i]) {
			t.Errorf("record %d: bench_seq %v, want %d", i, seq.AsRaw(), b.seqs[i])
		}
		if st, ok := lr.Attributes().Get("com.splunk.sourcetype"); !ok || st.Str() == "" {
			t.Errorf("record %d: no source type", i)
		}
	}
	// The next batch starts afresh.
	g.fill(&b, ProtoOTLP, 2)
	req = plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(b.body); err != nil || req.Logs().LogRecordCount() != 2 {
		t.Fatalf("second batch: %v, %d records", err, req.Logs().LogRecordCount())
	}
}
