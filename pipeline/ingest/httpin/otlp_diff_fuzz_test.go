package httpin

import (
	"net/http"
	"slices"
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// FuzzOTLPEncodings: a request in binary protobuf and the same request in
// OTLP/JSON (as the Collector's own pdata writes it) give the same
// answer and the same events: the two walkers are one mapping. Inputs are
// protobuf bodies pdata reads.
func FuzzOTLPEncodings(f *testing.F) {
	seed, _ := otlpBody(f, otlpLogs(), otlpProtobuf)
	f.Add(seed)
	fx := newFixture(f, Config{}, nil)
	f.Fuzz(func(t *testing.T, pb []byte) {
		req := plogotlp.NewExportRequest()
		if req.UnmarshalProto(pb) != nil {
			return
		}
		// A record without a time (or with one outside the years the
		// router takes, 1971-2200) is dated by its arrival: two posts
		// would differ there only. Give such records a time.
		rls := req.Logs().ResourceLogs()
		for i := range rls.Len() {
			sls := rls.At(i).ScopeLogs()
			for j := range sls.Len() {
				lrs := sls.At(j).LogRecords()
				for k := range lrs.Len() {
					lr := lrs.At(k)
					if t := lr.Timestamp().AsTime(); t.Year() < 1971 || t.Year() >= 2200 {
						lr.SetTimestamp(pcommon.NewTimestampFromTime(otlpT0))
					}
				}
			}
		}
		js, err := req.MarshalJSON()
		if err != nil {
			return
		}
		// pdata's own protobuf, so both bodies carry what pdata read.
		pb, err = req.MarshalProto()
		if err != nil {
			return
		}
		hashes := func(body []byte, ct string) (int, []uint64, []string) {
			w := fx.postOTLP(body, ct)
			var hs []uint64
			var raws []string
			for _, ev := range fx.rec.Drain() {
				hs = append(hs, ev.Hash)
				raws = append(raws, string(ev.Raw))
			}
			return w.Code, hs, raws
		}
		c1, h1, r1 := hashes(pb, "application/x-protobuf")
		c2, h2, r2 := hashes(js, "application/json")
		if c1 != c2 || (c1 == http.StatusOK && !slices.Equal(h1, h2)) {
			t.Fatalf("protobuf: %d, %d events; OTLP/JSON: %d, %d events\njson: %s\nprotobuf events: %q\nOTLP/JSON events: %q", c1, len(h1), c2, len(h2), js, r1, r2)
		}
	})
}
