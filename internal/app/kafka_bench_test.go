package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/internal/config"
	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline/ingest/kafkain"
)

// BenchmarkKafkaConsume measures consuming a topic of realistic events
// (4 partitions, in-process kfake broker sharing the same 2 cores):
//   - fetch: kafka-go readers alone, one per partition (the input's ceiling);
//   - pipeline: the Kafka input through normalize + classify (starter
//     rules) + durable queues into destinations that discard, committing
//     offsets.
//
// MB/s is record bytes. Each iteration consumes the whole topic once.
func BenchmarkKafkaConsume(b *testing.B) {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) == runtime.NumCPU() {
		before, _ := TuneGOMAXPROCS()
		defer runtime.GOMAXPROCS(before)
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "logs"))
	if err != nil {
		b.Fatal(err)
	}
	defer cluster.Close()
	broker := cluster.ListenAddrs()[0]
	const n = 100000
	m := loadgen.New(loadgen.Options{Seed: 11})
	msgs := make([]kafka.Message, 0, n)
	size := 0
	for i := 0; i < n; i++ {
		ev, _ := m.Next(nil)
		msgs = append(msgs, kafka.Message{Value: ev})
		size += len(ev)
	}
	tr := &kafka.Transport{}
	w := &kafka.Writer{Addr: kafka.TCP(broker), Topic: "logs", Balancer: &kafka.RoundRobin{}, BatchSize: 5000, BatchBytes: 16 << 20, BatchTimeout: time.Millisecond, Transport: tr}
	for i := 0; i < n; i += 5000 {
		if err := w.WriteMessages(context.Background(), msgs[i:i+5000]...); err != nil {
			b.Fatal(err)
		}
	}
	_ = w.Close()
	tr.CloseIdleConnections()

	b.Run("fetch", func(b *testing.B) {
		b.SetBytes(int64(size))
		for i := 0; i < b.N; i++ {
			var wg sync.WaitGroup
			for p := 0; p < 4; p++ {
				wg.Add(1)
				go func(p int) {
					defer wg.Done()
					r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{broker}, Topic: "logs", Partition: p, MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 100 * time.Millisecond})
					defer r.Close()
					for got := 0; got < n/4; got++ {
						if _, err := r.FetchMessage(context.Background()); err != nil {
							b.Error(err)
							return
						}
					}
				}(p)
			}
			wg.Wait()
		}
	})
	b.Run("pipeline", func(b *testing.B) {
		b.SetBytes(int64(size))
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			cfg, err := config.Parse("config.example.yaml", logrouter.ExampleConfig)
			if err != nil {
				b.Fatal(err)
			}
			dir := b.TempDir()
			cfg.Inputs.HTTP, cfg.Inputs.Syslog = nil, nil
			cfg.Inputs.Kafka = &kafkain.Config{Brokers: []string{broker}, GroupID: fmt.Sprintf("bench-%d-%d", i, time.Now().UnixNano()), Topics: []kafkain.Topic{{Name: "logs"}}}
			cfg.Inputs.Kafka.SetDefaults()
			cfg.Admin.Address = "127.0.0.1:0"
			cfg.Queue.Dir, cfg.Quarantine.Dir = filepath.Join(dir, "queue"), filepath.Join(dir, "quarantine")
			var opts []Option
			for _, d := range cfg.Destinations {
				opts = append(opts, WithSink(d.Name, tu.DiscardSink{SinkName: d.Name}))
			}
			a, err := New(cfg, RulesSource{FS: logrouter.StarterRules, Dir: "rules"}, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
			if err != nil {
				b.Fatal(err)
			}
			events := a.eng.Metrics().InputEvents.WithLabelValues("kafka")
			b.StartTimer()
			if err := a.Start(); err != nil {
				b.Fatal(err)
			}
			for counterValue(events) < n {
				time.Sleep(time.Millisecond)
			}
			b.StopTimer()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_ = a.Shutdown(ctx)
			cancel()
			b.StartTimer()
		}
		b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
	})
}
