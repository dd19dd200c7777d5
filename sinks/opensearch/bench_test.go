package opensearch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/opensearch/osfake"
)

const benchBatch = 1000

// benchBatches returns n batches of benchBatch realistic loadgen events
// (about 700 bytes each), P2, over two days.
func benchBatches(n int) []*pipeline.Batch {
	m := loadgen.New(loadgen.Options{Seed: 1})
	t := baseTime.UnixNano()
	bs := make([]*pipeline.Batch, n)
	for i := range bs {
		b := pipeline.NewBatch()
		for range benchBatch {
			ev, kind := m.Next(nil)
			t += int64(50 * time.Millisecond)
			b.Commit(append(b.Arena(), ev...), pipeline.Event{Priority: pipeline.P2, SourceType: kind.SourceType(), Time: t, Ingest: t, Hash: xxhash.Sum64(ev), Rule: -1})
		}
		bs[i] = b
	}
	return bs
}

func release(bs []*pipeline.Batch) {
	for _, b := range bs {
		b.Release()
	}
}

// BenchmarkEncode measures building the bulk bodies of a 1000-event batch
// (index names, action lines, documents, the split into requests), without
// and with gzip (level 1, every request body). MB/s is event bytes
// (Event.Raw) per second.
func BenchmarkEncode(b *testing.B) {
	for _, level := range []int{0, 1, 2, -2} {
		gz := level != 0
		name := "plain"
		if gz {
			name = fmt.Sprintf("gzip-level=%d", level)
		}
		b.Run(name, func(b *testing.B) {
			bs := benchBatches(8)
			defer release(bs)
			nm := testNamer(b, DefaultIndex)
			e := new(encoder)
			b.SetBytes(int64(bs[0].Bytes()))
			b.ReportAllocs()
			events, in, out := 0, 0, 0
			i := 0
			for b.Loop() {
				batch := bs[i%len(bs)]
				i++
				e.encode(nm, OpCreate, batch)
				spans := e.split(DefaultBulkBytes, DefaultMaxConcurrentRequests)
				if gz {
					for _, s := range spans {
						body := e.bodyOf(s.lo, s.hi)
						g, z := compress(body, level)
						in, out = in+len(body), out+len(z)
						putGzipper(g)
					}
				}
				events += len(batch.Events)
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			if gz {
				b.ReportMetric(float64(in)/float64(out), "ratio")
			}
		})
	}
}

// BenchmarkWriteToFake measures Write end to end against the in-process
// fake cluster (which acknowledges without storing): encoding, gzip, HTTP,
// the fake's parsing of the bulk body and the sink's parsing of its answer.
// The fake shares the CPUs, so this is a lower bound of the sink's rate.
func BenchmarkWriteToFake(b *testing.B) {
	for _, gz := range []bool{false, true} {
		name := "plain"
		if gz {
			name = "gzip"
		}
		b.Run(name, func(b *testing.B) {
			srv := osfake.New()
			defer srv.Close()
			srv.SetDiscard(true)
			e := newEnvOn(b, srv, Config{Gzip: &gz})
			bs := benchBatches(8)
			defer release(bs)
			ctx := context.Background()
			b.SetBytes(int64(bs[0].Bytes()))
			b.ReportAllocs()
			docs := 0
			i := 0
			for b.Loop() {
				batch := bs[i%len(bs)]
				i++
				if err := e.sink.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				docs += len(batch.Events)
			}
			b.ReportMetric(float64(docs)/b.Elapsed().Seconds(), "docs/s")
		})
	}
}
