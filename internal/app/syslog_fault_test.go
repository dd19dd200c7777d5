package app

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/conservation"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/s3"
)

func syslogApp(t *testing.T, sl *syslog.Config, slow *slowSink, maxQueue int64) (*App, string) {
	t.Helper()
	data := t.TempDir()
	cfg := &config.Config{
		Log:    config.Log{Level: "error", Format: "text"},
		Admin:  config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Syslog: sl},
		Destinations: []config.Destination{
			{Name: "archive", Type: "archive_dir", ArchiveDir: &s3.Config{Dir: filepath.Join(data, "archive")}},
			{Name: "siem", Type: "file", File: &file.Config{Dir: filepath.Join(data, "siem")}, Queue: &queue.Config{BatchEvents: 100}},
		},
		Routing: config.Routing{All: []string{"archive", "siem"}},
	}
	cfg.Quarantine.Dir = filepath.Join(data, "quarantine")
	cfg.Queue.Dir = filepath.Join(data, "queue")
	cfg.Queue.MaxBytes = maxQueue
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var opts []Option
	if slow != nil {
		opts = append(opts, WithSink("siem", slow))
	}
	a := startApp(t, cfg, opts...)
	return a, data
}

// TestSyslogTCPBackpressureLosesNothing: a TCP sender much faster than a
// destination is slowed by its socket, not answered with loss: once the
// destination catches up, every message sent has arrived.
func TestSyslogTCPBackpressureLosesNothing(t *testing.T) {
	slow := &slowSink{name: "siem"}
	slow.pause.Store(int64(100 * time.Millisecond))
	a, data := syslogApp(t, &syslog.Config{TCP: &syslog.TCPConfig{Address: "127.0.0.1:0"}}, slow, 1<<20)
	_, tcp, _ := a.SyslogAddrs()
	c, err := net.Dial("tcp", tcp)
	if err != nil {
		t.Fatal(err)
	}
	const n = 10000 // ~40 MB: far more than socket buffers and the queue hold
	var written atomic.Int64
	done := make(chan error, 1)
	go func() {
		for i := 0; i < n; i++ {
			msg := fmt.Sprintf(`<14>1 2026-11-28T10:00:00Z host app - - - {"run":"bp","seq":%d,"pad":"%s"}`, i, strings.Repeat("x", 4000))
			if _, err := fmt.Fprintf(c, "%d %s", len(msg), msg); err != nil {
				done <- err
				return
			}
			written.Add(1)
		}
		done <- c.Close()
	}()
	// The SIEM takes 1000 events/s (4 MB/s) and its queue holds 1 MiB:
	// unthrottled, 40 MB cross loopback in well under a second; held back
	// by the router's reads, the sender is still writing after 2 s.
	time.Sleep(2 * time.Second)
	if w := written.Load(); w >= n {
		t.Fatalf("the sender was never held back (wrote all %d messages in 2 s)", n)
	}
	t.Logf("after 2 s the sender had written %d of %d messages", written.Load(), n)
	slow.pause.Store(0)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The shutdown delivers what is still queued (about 4 s here under
	// -race, unloaded): leave ample room for a loaded machine.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := a.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := conservation.Count(filepath.Join(data, "archive"), "bp")
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for i := 0; i < n; i++ {
		if got[uint64(i)] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d messages missing from the archive", missing, n)
	}
	if slow.got.Load() < n {
		t.Errorf("the SIEM got %d of %d", slow.got.Load(), n)
	}
}

// TestSyslogUDPKernelDropsCounted: when the UDP reader is held up and the
// (deliberately small) receive buffer overflows, the kernel's drops are
// counted from SO_RXQ_OVFL, and the per-sender parse quality is reported.
func TestSyslogUDPKernelDropsCounted(t *testing.T) {
	slow := &slowSink{name: "siem"}
	slow.pause.Store(int64(300 * time.Millisecond))
	a, _ := syslogApp(t, &syslog.Config{UDP: &syslog.UDPConfig{Address: "127.0.0.1:0", ReceiveBufferBytes: 4096}, BatchEvents: 10}, slow, 1<<30)
	defer func() {
		slow.pause.Store(0)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}()
	udp, _, _ := a.SyslogAddrs()
	c, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(c, `<14>1 2026-11-28T10:00:00Z host app - - - {"run":"udp","seq":%d}`, i)
		if i%100 == 0 {
			fmt.Fprintf(c, "garbage without any syslog header %d", i)
		}
	}
	slow.pause.Store(0)
	m := scrapeRegistry(t, a)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(m, "logrouter_syslog_udp_kernel_drops_total{input=\"syslog\"}") || strings.Contains(m, `logrouter_syslog_udp_kernel_drops_total{input="syslog"} 0`) {
		if time.Now().After(deadline) {
			t.Fatalf("kernel drops not counted:\n%s", grep(m, "syslog"))
		}
		time.Sleep(50 * time.Millisecond)
		fmt.Fprintf(c, `<14>1 2026-11-28T10:00:00Z host app - - - {"run":"udp","seq":-1}`) // carries the counter
		m = scrapeRegistry(t, a)
	}
	for _, want := range []string{`status="rfc5424"`, `status="raw"`, `sender="127.0.0.1"`} {
		if !strings.Contains(grep(m, "logrouter_syslog_messages_total"), want) {
			t.Errorf("per-sender parse quality lacks %s:\n%s", want, grep(m, "logrouter_syslog_messages_total"))
		}
	}
}

func scrapeRegistry(t *testing.T, a *App) string {
	t.Helper()
	var b strings.Builder
	mfs, err := a.eng.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", lp.GetName(), lp.GetValue()))
			}
			fmt.Fprintf(&b, "%s{%s} %v\n", mf.GetName(), strings.Join(labels, ","), value(m))
		}
	}
	return b.String()
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
