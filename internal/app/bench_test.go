package app

import (
	"context"

	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/internal/config"
	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// BenchmarkPipeline measures the spine end to end without HTTP: parse,
// normalize, classify with the starter rules, fan out to three destination
// queues (archive gets everything) and wait for the Ack, with 4 concurrent
// producers of 200-event batches, the destinations discarding. It compares
// durable queues (fsync always) with in-memory queues and with no queue: the
// cost of durability is the ratio of the first two. MB/s is input bytes.
//
// The router raises GOMAXPROCS on small machines (see TuneGOMAXPROCS); so
// does this benchmark, unless -cpu or GOMAXPROCS says otherwise.
func BenchmarkPipeline(b *testing.B) {
	m := loadgen.New(loadgen.Options{Seed: 5})
	var events, sts [][]byte
	size := 0
	for i := 0; i < 200; i++ {
		ev, k := m.Next(nil)
		events = append(events, ev)
		sts = append(sts, []byte(k.SourceType()))
		size += len(ev)
	}
	for _, mode := range []string{"disk", "disk-interval", "memory", "none"} {
		b.Run("queue="+mode, func(b *testing.B) {
			if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) == runtime.NumCPU() {
				before, _ := TuneGOMAXPROCS()
				defer runtime.GOMAXPROCS(before)
			}
			cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			cfg.Dedup.Enabled = false // the benchmark replays the same events
			cfg.Queue.Dir, cfg.Queue.Mode = filepath.Join(dir, "queue"), mode
			if mode == "disk-interval" {
				cfg.Queue.Mode, cfg.Queue.Fsync = "disk", "interval"
			}
			cfg.Quarantine.Dir = filepath.Join(dir, "quarantine")
			for i := range cfg.Destinations {
				d := &cfg.Destinations[i]
				if d.ArchiveDir != nil {
					d.ArchiveDir.Dir = filepath.Join(dir, "archive")
				}
				if d.File != nil {
					d.File.Dir = filepath.Join(dir, d.Name)
				}
			}
			var opts []Option
			for _, d := range cfg.Destinations {
				opts = append(opts, WithSink(d.Name, tu.DiscardSink{SinkName: d.Name}))
			}
			a, err := New(cfg, RulesSource{FS: logrouter.StarterRules, Dir: "rules"}, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
			if err != nil {
				b.Fatal(err)
			}
			eng := a.Engine()
			producers := benchProducers
			per := (b.N + producers - 1) / producers
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := 0; w < producers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					wk := eng.Worker()
					defer eng.PutWorker(wk)
					var p fastjson.Parser
					done := make(chan error, 1)
					var em normalize.EventMeta
					for i := 0; i < per; i++ {
						bt := pipeline.NewBatch()
						bt.Meta = pipeline.Meta{Input: "bench", Protocol: "hec", IngestTime: time.Now().UnixNano()}
						bt.Grow(size * 2)
						for j, ev := range events {
							v, err := p.ParseBytes(ev)
							if err != nil {
								b.Error(err)
								return
							}
							em.SourceType = sts[j]
							if err := wk.Add(bt, v, nil, &em); err != nil {
								b.Error(err)
								return
							}
						}
						bt.Ack = pipeline.NewAck(func(err error) { done <- err })
						_ = eng.Emit(context.Background(), bt)
						if err := <-done; err != nil {
							b.Error(err)
							return
						}
						bt.Release()
					}
				}()
			}
			wg.Wait()
			for _, q := range a.queues {
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				_ = q.WaitIdle(ctx)
				cancel()
			}
			b.StopTimer()
			b.ReportMetric(float64(per*producers*len(events))/b.Elapsed().Seconds(), "events/s")
			if err := eng.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// benchProducers is the number of concurrent batch producers (HTTP requests
// in flight); LOGROUTER_BENCH_PRODUCERS changes it.
var benchProducers = func() int {
	if v := os.Getenv("LOGROUTER_BENCH_PRODUCERS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			return n
		}
	}
	return 4
}()
