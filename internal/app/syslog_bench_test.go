package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/internal/config"
	tu "github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
)

// BenchmarkSyslogTCP measures end-to-end syslog ingest over loopback TCP:
// one connection sends octet-counted RFC 5424 messages carrying the
// realistic mix (JSON payloads), the router frames, parses, normalizes,
// classifies with the starter rules and queues durably (fsync always) into
// three destinations that discard. MB/s is bytes on the wire; the timer
// stops once every message was accepted by the queues.
func BenchmarkSyslogTCP(b *testing.B) {
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
	cfg.Inputs.HTTP = nil
	cfg.Inputs.Syslog = &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}
	cfg.Inputs.Syslog.SetDefaults()
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
	if err := a.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}()
	// 1000 distinct messages, sent round-robin.
	m := loadgen.New(loadgen.Options{Seed: 9})
	var msgs [][]byte
	size := 0
	for i := 0; i < 1000; i++ {
		ev, k := m.Next(nil)
		body := fmt.Sprintf("<14>1 2026-11-28T10:00:00.000Z host%d %s - - - %s", i%50, k.String(), ev)
		frame := fmt.Appendf(nil, "%d %s", len(body), body)
		msgs = append(msgs, frame)
		size += len(frame)
	}
	_, tcp, _ := a.SyslogAddrs()
	c, err := net.Dial("tcp", tcp)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(c, 256<<10)
	events := a.eng.Metrics().InputEvents.WithLabelValues("syslog")
	start := counterValue(events)
	b.SetBytes(int64(size / len(msgs)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.Write(msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
	}
	_ = w.Flush()
	for counterValue(events)-start < float64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	_ = c.Close()
}
