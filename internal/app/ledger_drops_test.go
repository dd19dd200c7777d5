package app

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
)

// TestStatsShowInputDrops: syslog over UDP drops (and counts in
// logrouter_dropped_events_total) what the destinations refuse; router
// stats showed no trace of it, only "refused: their senders retry them".
func TestStatsShowInputDrops(t *testing.T) {
	data := t.TempDir()
	cfg := &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Syslog: &syslog.Config{UDP: &syslog.UDPConfig{Address: "127.0.0.1:0"}}},
		Destinations: []config.Destination{
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}, Queue: &queue.Config{Mode: "none"}},
		},
		Routing: config.Routing{All: []string{"siem"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := startApp(t, cfg, WithSink("siem", downSink{}))
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}()
	udp, _, _ := a.SyslogAddrs()
	c, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var dropped float64
	for deadline := time.Now().Add(30 * time.Second); dropped == 0 && time.Now().Before(deadline); {
		_, _ = c.Write([]byte("<34>1 2024-05-01T13:00:00Z host app - - - hello"))
		time.Sleep(50 * time.Millisecond)
		mfs, _ := a.Engine().Metrics().Registry.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "logrouter_dropped_events_total" {
				for _, m := range mf.GetMetric() {
					dropped += m.GetCounter().GetValue()
				}
			}
		}
	}
	if dropped == 0 {
		t.Fatal("the UDP drop was not counted at all")
	}
	l, _ := BuildLedger(a.Engine().Metrics().Registry)
	var got float64
	for _, d := range l.Dropped {
		if d.Stage == "syslog_udp" {
			got += d.Events
		}
	}
	if got == 0 || got < dropped {
		t.Errorf("ledger drops %+v, want the %v syslog_udp drops", l.Dropped, dropped)
	}
}
