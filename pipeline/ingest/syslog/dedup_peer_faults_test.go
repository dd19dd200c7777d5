package syslog

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline/dedup"
	"github.com/logrouter/logrouter/pipeline/engine"
)

// TestDedupTwoDevicesOneEvent (review of deduplication)
//
// Sequence: dedup on as config.example.yaml sets it (content hash, 10m
// window). Two different Cisco ASAs (127.0.0.2 and 127.0.0.3), at their
// default logging settings (no `logging device-id`, so no HOSTNAME in the
// RFC 3164 header, as on most ASA/IOS installs), log the same scan: the
// same attacker address and source port (masscan uses one), the same
// internal destination (branch offices reuse 10.0.0.0/24), in the same
// second. Each sends its message over UDP syslog.
//
// What happens: the only thing in the event that says which device logged
// it is logrouter.peer, and the content hash leaves logrouter.* out. Both
// events hash alike; the second device's is dropped as a repeat of the
// first's (counted in logrouter_input_deduplicated_events_total) and never
// reaches the SIEM or the archive.
//
// Expected: deduplication drops repeats of an event (a resend, a second
// collector of the same file), not the same kind of log line from another
// device. Syslog receivers attribute a message without HOSTNAME to its
// sender (rsyslog's and syslog-ng's HOST is the peer), so two devices'
// messages are two events.
//
// Why it matters: the SOC sees the scan against one branch only; the
// second device's record is gone from the archive too.
func TestDedupTwoDevicesOneEvent(t *testing.T) {
	cfg := Config{UDP: &UDPConfig{Address: "127.0.0.1:0", Readers: 1}, BatchWait: 10 * time.Millisecond}
	cfg.SetDefaults()
	rec, eng, srv := startDedupServer(t, cfg, dedup.Config{Enabled: true, CountField: "dedup.count"})
	addr, _, _ := srv.Addrs()
	msg := `<164>Nov 28 2026 10:00:00: %ASA-4-106023: Deny tcp src outside:198.51.100.23/61000 dst inside:10.0.0.5/22 by access-group "outside_in" [0x0, 0x0]`
	for i, from := range []string{"127.0.0.2", "127.0.0.3"} {
		raddr, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(from)}, raddr)
		if err != nil {
			t.Skipf("cannot send from %s: %v", from, err)
		}
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		c.Close()
		want := i + 1
		deadline := time.Now().Add(3 * time.Second)
		for len(rec.Events()) < want && counter(eng.Metrics().InputDedup.WithLabelValues(cfg.Name)) == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	}
	time.Sleep(100 * time.Millisecond)
	evs := rec.Events()
	var peers []string
	for _, ev := range evs {
		for _, p := range []string{"127.0.0.2", "127.0.0.3"} {
			if strings.Contains(string(ev.Raw), `"peer":"`+p+`"`) {
				peers = append(peers, p)
			}
		}
	}
	if len(evs) != 2 {
		t.Errorf("two ASAs (127.0.0.2, 127.0.0.3) each logged a deny in the same second: %d event(s) delivered (from %v), %v dropped as duplicates (logrouter_input_deduplicated_events_total); want one event per device",
			len(evs), peers, counter(eng.Metrics().InputDedup.WithLabelValues(cfg.Name)))
		for _, ev := range evs {
			t.Logf("delivered: %s", ev.Raw)
		}
	}
}

// startDedupServer starts a syslog input with cfg on an engine with no
// rules, deduplication dc and one recording destination; it is shut down
// when the test ends.
func startDedupServer(t *testing.T, cfg Config, dc dedup.Config) (*testutil.RecordSink, *engine.Engine, *Server) {
	t.Helper()
	rec := &testutil.RecordSink{SinkName: "all"}
	log := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	eng := testengine.New(t, "", rec, &testutil.MemQuarantine{}, log)
	dc.SetDefaults()
	if err := dc.Validate(); err != nil {
		t.Fatal(err)
	}
	eng.EnableDedup(dc)
	srv, err := New(cfg, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return rec, eng, srv
}
