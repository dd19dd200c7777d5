package app

import (
	"context"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/conservation"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/s3"
)

// slowSink accepts about one event in every hundred the senders offer: it
// sleeps per batch.
type slowSink struct {
	name  string
	pause atomic.Int64 // nanoseconds per batch
	got   atomic.Int64
}

func (s *slowSink) Name() string { return s.name }
func (s *slowSink) Write(ctx context.Context, b *pipeline.Batch) error {
	select {
	case <-time.After(time.Duration(s.pause.Load())):
	case <-ctx.Done():
		return ctx.Err()
	}
	s.got.Add(int64(len(b.Events)))
	return nil
}
func (s *slowSink) Close(context.Context) error { return nil }

// TestSlowDestinationBackpressures: a SIEM that takes a trickle must not
// make memory grow or events vanish: its queue fills to max_bytes, senders
// get 429 with Retry-After naming the setting, the other destinations keep
// their pace, and everything acknowledged is delivered once it catches up.
func TestSlowDestinationBackpressures(t *testing.T) {
	data := t.TempDir()
	cfg := &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0"}},
		Destinations: []config.Destination{
			{Name: "archive", Type: "archive_dir", ArchiveDir: &s3.Config{Dir: filepath.Join(data, "archive")}},
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}, Queue: &queue.Config{BatchEvents: 100}},
		},
		Routing: config.Routing{P1: []string{"siem"}, All: []string{"archive"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.Queue.MaxBytes = 2 << 20
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	slow := &slowSink{name: "siem"}
	slow.pause.Store(int64(200 * time.Millisecond)) // 500 events/s
	a := startApp(t, cfg, WithSink("siem", slow))
	sender := conservation.NewSender("slow")
	var throttled atomic.Int64
	var firstMsg atomic.Value
	var peakHeap, peakQueue atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				body, ids := sender.Body(200, `"kind":"detection"`) // P1: siem + archive
				res, err := http.Post("http://"+a.HTTPAddr()+"/ingest", "application/x-ndjson", strings.NewReader(string(body)))
				if err != nil {
					t.Error(err)
					return
				}
				msg := make([]byte, 512)
				n, _ := res.Body.Read(msg)
				res.Body.Close()
				switch res.StatusCode {
				case 200:
					sender.Ack(ids)
				case 429:
					throttled.Add(1)
					if res.Header.Get("Retry-After") == "" {
						t.Error("429 without Retry-After")
					}
					firstMsg.CompareAndSwap(nil, string(msg[:n]))
					time.Sleep(5 * time.Millisecond)
				default:
					t.Errorf("unexpected %d %s", res.StatusCode, msg[:n])
				}
			}
		}()
	}
	var ms runtime.MemStats
	// ~2 s of overload, longer until the senders have been throttled: on a
	// loaded machine under -race they may need more than 2 s to fill the
	// 2 MiB queue faster than the SIEM drains it.
	overload := time.Now().Add(60 * time.Second)
	for i := 0; i < 40 || (throttled.Load() == 0 && time.Now().Before(overload)); i++ {
		time.Sleep(50 * time.Millisecond)
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peakHeap.Load() {
			peakHeap.Store(ms.HeapInuse)
		}
		qb := uint64(queuedBytes(t, a, "siem"))
		if qb > peakQueue.Load() {
			peakQueue.Store(qb)
		}
	}
	close(stop)
	wg.Wait()
	if throttled.Load() == 0 {
		t.Fatal("senders were never backpressured")
	}
	if msg, _ := firstMsg.Load().(string); !strings.Contains(msg, "queue.max_bytes") {
		t.Errorf("429 does not name the setting: %s", msg)
	}
	if pq := peakQueue.Load(); pq > uint64(cfg.Queue.MaxBytes) {
		t.Errorf("siem queue held %d bytes, over max_bytes %d", pq, cfg.Queue.MaxBytes)
	}
	if ph := peakHeap.Load(); ph > 256<<20 {
		t.Errorf("heap in use peaked at %d MiB", ph>>20)
	}
	// Let the SIEM catch up, then every acknowledged event must be there.
	slow.pause.Store(0)
	deadline := time.Now().Add(60 * time.Second)
	for queuedBytes(t, a, "siem") > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got, acked := slow.got.Load(), int64(len(sender.Acked())); got < acked {
		t.Errorf("SIEM got %d events, %d were acknowledged", got, acked)
	}
	t.Logf("acknowledged %d events, %d requests throttled, peak heap %d MiB, peak siem queue %d KiB",
		len(sender.Acked()), throttled.Load(), peakHeap.Load()>>20, peakQueue.Load()>>10)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	arch, err := conservation.Count(filepath.Join(data, "archive"), "slow")
	if err != nil {
		t.Fatal(err)
	}
	if r := conservation.Check(sender.Acked(), arch); len(r.Missing) > 0 {
		t.Errorf("archive: %s", r)
	}
}

func queuedBytes(t *testing.T, a *App, dest string) float64 {
	t.Helper()
	mfs, err := a.Engine().Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "logrouter_queue_bytes" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetValue() == dest {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	t.Fatalf("no logrouter_queue_bytes for %s", dest)
	return 0
}
