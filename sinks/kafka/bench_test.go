package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/pipeline"
)

const benchBatch = 1000

// benchBatches returns n batches of benchBatch realistic events (about 700
// bytes each), with the priorities and source types the starter rules give
// the loadgen kinds.
func benchBatches(n int) []*pipeline.Batch {
	m := loadgen.New(loadgen.Options{Seed: 1})
	var raw []byte
	bs := make([]*pipeline.Batch, n)
	var seq uint64
	for i := range bs {
		b := pipeline.NewBatch()
		for range benchBatch {
			var kind loadgen.Kind
			raw, kind = m.Next(raw[:0])
			p, _ := pipeline.ParsePriority(kind.Priority())
			seq++
			a := b.Arena()
			a = append(a, raw...)
			b.Commit(a, pipeline.Event{
				Time:       time.Now().UnixNano(),
				Hash:       seq * 0x9e3779b97f4a7c15,
				SourceType: kind.SourceType(),
				Priority:   p,
				Rule:       -1,
			})
		}
		bs[i] = b
	}
	return bs
}

// BenchmarkWrite writes batches of 1000 loadgen events with zstd to an
// in-process kfake broker (which discards the records) and topic
// "logs-{priority}" (4 partitions each). serial is one Write at a time;
// parallel is what the engine does, many Writes at once sharing the
// transport's connections (each Write sends its own produce requests, one
// per partition).
func BenchmarkWrite(b *testing.B) {
	for _, mode := range []string{"serial", "parallel"} {
		b.Run(mode, func(b *testing.B) {
			c := newCluster(b, kfake.BlackholeProduce())
			s := newSink(b, c, Config{Topic: "logs-{priority}", Compression: "zstd"})
			batches := benchBatches(16)
			defer func() {
				for _, bt := range batches {
					bt.Release()
				}
			}()
			b.SetBytes(int64(batches[0].Bytes()))
			b.ReportAllocs()
			ctx := context.Background()
			// Warm up: connections, metadata, pools.
			if err := s.Write(ctx, batches[0]); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			if mode == "serial" {
				for i := 0; i < b.N; i++ {
					if err := s.Write(ctx, batches[i%len(batches)]); err != nil {
						b.Fatal(err)
					}
				}
			} else {
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					i := 0
					for pb.Next() {
						if err := s.Write(ctx, batches[i%len(batches)]); err != nil {
							panic(fmt.Sprint(err))
						}
						i++
					}
				})
			}
			el := time.Since(start).Seconds()
			b.ReportMetric(float64(b.N*benchBatch)/el, "events/s")
		})
	}
}
