package app

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
)

type downSink struct{}

func (downSink) Name() string                                 { return "siem" }
func (downSink) Write(context.Context, *pipeline.Batch) error { return errors.New("down") }
func (downSink) Close(context.Context) error                  { return nil }

// TestMemoryQueueShutdownLossCounted: a memory queue cannot keep anything
// for "the next start": what is left at
// shutdown is gone and must be counted as lost, not left as queued (it
// used to vanish uncounted, the ledger showing it queued).
func TestMemoryQueueShutdownLossCounted(t *testing.T) {
	data := t.TempDir()
	cfg := &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0"}},
		Destinations: []config.Destination{
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}, Queue: &queue.Config{Mode: "memory"}},
		},
		Routing: config.Routing{All: []string{"siem"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	a := startApp(t, cfg, WithSink("siem", downSink{}))
	res, err := http.Post("http://"+a.HTTPAddr()+"/ingest", "application/x-ndjson", strings.NewReader("{\"n\":1}\n{\"n\":2}\n"))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("ingest: %v %v", res, err)
	}
	res.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second) // the queue retries until then
	defer cancel()
	_ = a.Shutdown(ctx)
	l, _ := BuildLedger(a.Engine().Metrics().Registry)
	row := l.Destinations[0]
	if row.Lost != 2 || row.Queued != 0 {
		t.Errorf("2 acknowledged events vanished with the memory queue; lost=%v dropped=%v queued=%v", row.Lost, row.Dropped, row.Queued)
	}
	if !row.Balanced {
		t.Errorf("ledger row unbalanced after the shutdown: %+v", row)
	}
}
