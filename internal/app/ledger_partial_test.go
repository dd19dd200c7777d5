package app

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/sinks/file"
)

// partialSink confirms all but the first event of the first Write, then
// refuses (retryably) everything until healed.
type partialSink struct {
	calls  atomic.Int64
	healed atomic.Bool
}

func (s *partialSink) Name() string { return "siem" }
func (s *partialSink) Write(ctx context.Context, b *pipeline.Batch) error {
	if s.healed.Load() {
		return nil
	}
	if s.calls.Add(1) == 1 {
		return &pipeline.BatchError{Items: []pipeline.ItemError{{Index: 0, Status: 429, Err: errors.New("busy")}}}
	}
	return errors.New("destination down")
}
func (s *partialSink) Close(context.Context) error { return nil }

// TestLedgerBalancesWhileRetryingPartialDelivery: events a destination
// confirmed were counted delivered at once but left queued only when the
// whole batch was done, so router stats showed the queue unbalanced for as
// long as the rest was retried (hours of an outage).
func TestLedgerBalancesWhileRetryingPartialDelivery(t *testing.T) {
	data := t.TempDir()
	cfg := &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{HTTP: &httpin.Config{Address: "127.0.0.1:0"}},
		Destinations: []config.Destination{
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}},
		},
		Routing: config.Routing{All: []string{"siem"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sink := &partialSink{}
	a := startApp(t, cfg, WithSink("siem", sink))
	res, err := http.Post("http://"+a.HTTPAddr()+"/ingest", "application/x-ndjson",
		strings.NewReader("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("ingest: %d", res.StatusCode)
	}
	// The first delivery has confirmed two events and the rest is being
	// retried (the destination stays down: nothing is being "booked").
	for deadline := time.Now().Add(30 * time.Second); sink.calls.Load() < 2; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries in 30s, want the partial one and a retry", sink.calls.Load())
		}
	}
	l, err := BuildLedger(a.Engine().Metrics().Registry)
	if err != nil {
		t.Fatal(err)
	}
	row := l.Destinations[0]
	if !row.Balanced {
		t.Errorf("ledger unbalanced while the destination is down: accepted %v = delivered %v + queued %v (in motion %v)",
			row.Accepted, row.Delivered, row.Queued, row.InMotion)
	}
	sink.healed.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
}
