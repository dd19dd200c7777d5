package queue

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/bench/loadgen"
	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// realisticBatch returns a batch of n loadgen events with their priorities.
func realisticBatch(n int) *pipeline.Batch {
	m := loadgen.New(loadgen.Options{Seed: 3})
	b := pipeline.NewBatch()
	for i := 0; i < n; i++ {
		ev, k := m.Next(nil)
		p, _ := pipeline.ParsePriority(k.Priority())
		b.Commit(append(b.Arena(), ev...), pipeline.Event{Priority: p, Time: int64(i), Hash: uint64(i), SourceType: k.SourceType(), Rule: -1})
	}
	return b
}

// BenchmarkQueue measures Write (encode + append + group fsync) plus the
// forwarder draining to a destination that discards, for batches of 200
// realistic events (~150 KB, the lane of one HTTP request), with 1, 8 and 64
// concurrent writers, on disk (fsync always) and in memory.
func BenchmarkQueue(b *testing.B) {
	batch := realisticBatch(200)
	defer batch.Release()
	for _, mode := range []string{"disk", "memory"} {
		for _, writers := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%s/writers=%d", mode, writers), func(b *testing.B) {
				var fs wal.FS = wal.OS
				if mode == "memory" {
					fs = wal.NewVolatileFS()
				}
				cfg := Config{Dir: b.TempDir(), MaxBytes: 8 << 30}
				q, err := open("bench", cfg, fs, tu.DiscardSink{SinkName: "bench"}, &tu.MemQuarantine{}, NewMetrics(prometheus.NewRegistry()), quiet)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(batch.Bytes()))
				b.ReportAllocs()
				b.ResetTimer()
				var wg sync.WaitGroup
				per := (b.N + writers - 1) / writers
				for w := 0; w < writers; w++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := 0; i < per; i++ {
							if err := q.Write(context.Background(), batch); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				_ = q.WaitIdle(ctx)
				cancel()
				b.StopTimer()
				b.ReportMetric(float64(per*writers*len(batch.Events))/b.Elapsed().Seconds(), "events/s")
				_ = q.Close(context.Background())
			})
		}
	}
}

// slowSink takes a fixed time per Write, like a destination whose
// confirmation is a round trip (a Splunk indexer acknowledgement, a large
// OpenSearch bulk request), and discards.
type slowSink struct{ rtt time.Duration }

func (s slowSink) Name() string { return "slow" }
func (s slowSink) Write(ctx context.Context, b *pipeline.Batch) error {
	select {
	case <-time.After(s.rtt):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (s slowSink) Close(context.Context) error { return nil }

// BenchmarkQueueSlowDestination: how fast a queue drains into a destination
// that takes 20ms per delivery, with 1 and 4 deliveries in flight. The
// batches are there already (written before the clock starts), so the
// figure is delivery throughput alone: about max_in_flight x batch_bytes
// per round trip.
func BenchmarkQueueSlowDestination(b *testing.B) {
	batch := realisticBatch(200)
	defer batch.Release()
	for _, inFlight := range []int{1, 4} {
		b.Run(fmt.Sprintf("max_in_flight=%d", inFlight), func(b *testing.B) {
			cfg := Config{Dir: b.TempDir(), MaxBytes: 8 << 30, BatchEvents: 1000, MaxInFlight: inFlight}
			gate := make(chan struct{})
			sink := gatedSink{slowSink{20 * time.Millisecond}, gate}
			q, err := open("bench", cfg, wal.NewVolatileFS(), sink, &tu.MemQuarantine{}, NewMetrics(prometheus.NewRegistry()), quiet)
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < b.N; i++ {
				if err := q.Write(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(batch.Bytes()))
			b.ResetTimer()
			close(gate)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			_ = q.WaitIdle(ctx)
			cancel()
			b.StopTimer()
			b.ReportMetric(float64(b.N*len(batch.Events))/b.Elapsed().Seconds(), "events/s")
			_ = q.Close(context.Background())
		})
	}
}

// gatedSink holds every Write until gate is closed.
type gatedSink struct {
	slowSink
	gate chan struct{}
}

func (g gatedSink) Write(ctx context.Context, b *pipeline.Batch) error {
	select {
	case <-g.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.slowSink.Write(ctx, b)
}
