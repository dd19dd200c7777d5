package httpin

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/internal/testutil"
)

// BenchmarkOTLP: one request of 500 loadgen events (the SOC mix) through
// the HTTP input to a discarding destination, as HEC envelopes and as the
// same records over OTLP (each body a map, the source type and host as
// attributes), side by side. MB/s is of each request's own body; events/s
// compares them.
func BenchmarkOTLP(b *testing.B) {
	const n = 500
	mix := loadgen.New(loadgen.Options{Seed: 1})
	var hec, ev []byte
	_ = ev
	ld := plog.NewLogs()
	sl := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty()
	for range n {
		var k loadgen.Kind
		ev, k = mix.Next(ev[:0])
		one := mix.HECEnvelope(nil, ev, k)
		hec = append(hec, one...)
		var env struct {
			Time  float64        `json:"time"`
			Host  string         `json:"host"`
			Event map[string]any `json:"event"`
		}
		if err := json.Unmarshal(one, &env); err != nil {
			b.Fatal(err)
		}
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(0, int64(env.Time*1e9))))
		lr.Attributes().PutStr("host.name", env.Host)
		lr.Attributes().PutStr("com.splunk.sourcetype", k.SourceType())
		if err := lr.Body().SetEmptyMap().FromRaw(env.Event); err != nil {
			b.Fatal(err)
		}
	}
	pb, _ := otlpBody(b, ld, otlpProtobuf)
	js, _ := otlpBody(b, ld, otlpJSON)
	for _, c := range []struct {
		name, path, ct string
		body           []byte
	}{
		{"hec", "/services/collector/event", "application/json", hec},
		{"otlp-protobuf", "/v1/logs", "application/x-protobuf", pb},
		{"otlp-json", "/v1/logs", "application/json", js},
	} {
		b.Run(c.name, func(b *testing.B) {
			f := newFixture(b, Config{}, testutil.DiscardSink{SinkName: "all"})
			body := string(c.body)
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest("POST", c.path, strings.NewReader(body))
				req.Header.Set("Content-Type", c.ct)
				w := httptest.NewRecorder()
				f.h.ServeHTTP(w, req)
				if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "partial") {
					b.Fatalf("%d %s", w.Code, w.Body)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
