package siem

import (
	"context"
	"testing"
	"time"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/pipeline"
)

// benchBatch returns a batch of n realistic events (the loadgen mix, all
// routed P1) and their total Raw size.
func benchBatch(n int) (*pipeline.Batch, int64) {
	m := loadgen.New(loadgen.Options{Seed: 1})
	b := pipeline.NewBatch()
	var size int64
	for i := 0; i < n; i++ {
		ev, kind := m.Next(nil)
		t := time.Now().UnixNano()
		b.Commit(append(b.Arena(), ev...), pipeline.Event{
			Priority: pipeline.P1, SourceType: kind.SourceType(), Time: t, Ingest: t, Hash: uint64(i), Rule: -1,
		})
		size += int64(len(ev))
	}
	return b, size
}

// BenchmarkHECEncode: rendering a 1000-event batch as HEC envelopes (host
// extraction included); MB/s is event bytes on one core.
func BenchmarkHECEncode(b *testing.B) {
	batch, size := benchBatch(1000)
	defer batch.Release()
	h, err := NewHEC("bench", HECConfig{URL: "http://127.0.0.1:1", Token: "t", Index: "security",
		Fields: map[string]string{"priority": "P1"}})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close(context.Background())
	b.Run("envelopes", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			releaseHECBuf(h.encode(batch))
		}
	})
	b.Run("envelopes+gzip", func(b *testing.B) {
		b.SetBytes(size)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			e := h.encode(batch)
			g := gzPool.Get().(*gzBuf)
			_ = g.compress(e.buf)
			gzPool.Put(g)
			releaseHECBuf(e)
		}
	})
}

func benchSyslogEncode(b *testing.B, cfg SyslogConfig) {
	batch, size := benchBatch(1000)
	defer batch.Release()
	cfg.Address = "127.0.0.1:1"
	s, err := NewSyslog("bench", cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		releaseFrameBuf(s.encode(batch))
	}
}

// BenchmarkCEFEncode: rendering a 1000-event batch as octet-counted RFC
// 5424 CEF messages with the default mapping (one fastjson parse per
// event); MB/s is event bytes on one core.
func BenchmarkCEFEncode(b *testing.B) {
	b.Run("default-mapping", func(b *testing.B) { benchSyslogEncode(b, SyslogConfig{Format: "cef"}) })
	// a mapping that finds fields in the vendors' own shapes
	b.Run("vendor-mapping", func(b *testing.B) {
		benchSyslogEncode(b, SyslogConfig{Format: "cef", CEF: CEFConfig{
			SignatureIDFields: []string{"alert.signature_id", "type", "eventName", "event_simpleName"},
			NameFields:        []string{"alert.signature", "title", "event.DetectName", "message", "msg"},
			Extension: map[string]string{
				"src": "src_ip", "dst": "dest_ip", "spt": "src_port", "dpt": "dest_port",
				"suser": "event.UserName", "shost": "event.ComputerName", "msg": "description", "rt": "timestamp",
			},
		}})
	})
}

// BenchmarkSyslogJSONEncode: the same batch as RFC 5424 JSON messages.
func BenchmarkSyslogJSONEncode(b *testing.B) { benchSyslogEncode(b, SyslogConfig{}) }

// BenchmarkP1Latency sends P1 events at 2000/s for a second per iteration
// through the durable queue into hecfake and reports the age histogram's
// p50/p99 (ingest to Splunk's 200) and the fake-side p99.
func BenchmarkP1Latency(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ages, m := latencyRun(b, 2000, 1, 20, nil)
		_, q := histQuantiles(b, m.EventAge.WithLabelValues("splunk", "P1"), 0.5, 0.99)
		b.ReportMetric(q[0]*1e3, "p50-ms")
		b.ReportMetric(q[1]*1e3, "p99-ms")
		b.ReportMetric(quantile(ages, 0.99)*1e3, "fake-p99-ms")
	}
}
