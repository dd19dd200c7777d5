package app

// Fault tests from a review of observability: each failed before the fix of
// the bug it describes (the comments describe the code as it was found).

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
)

// TestWrittenReplayNotCountedAsDefaultRule:
// logrouter_rule_matches_total{rule} (and logrouter_rule_bytes_total) is
// "Events classified by each rule ("default" when none matched)": the
// series an operator reads to see how much traffic no rule recognises. POST
// /admin/replay/written sends a destination's refusals back as they were
// written, NOT classified again: addWritten (admin.go) commits them with
// Rule: -1, and engine.count files Rule -1 under "default" (ruleCtr[0]).
// Every refused event replayed as written (after a SIEM outage: thousands
// of P1 detections that the edr rule classified when they came in) is
// counted again as an event no rule matched: the "default" series jumps by
// the size of the replay, and the per-rule series no longer add up to what
// the rules classified.
//
// Expected: events replayed as written are not counted as matches of the
// "default" rule (leave them out of the rule series, or count them under a
// label of their own such as rule="replay").
func TestWrittenReplayNotCountedAsDefaultRule(t *testing.T) {
	h := newAdminHarness(t, testAdminToken)
	defer h.stop()
	m := h.app.Engine().Metrics()
	def := m.RuleMatches.WithLabelValues("default")
	defBytes := m.RuleBytes.WithLabelValues("default")
	edr := m.RuleMatches.WithLabelValues("edr")

	// An EDR detection comes in and the edr rule classifies it (P1).
	got := h.post("/ingest", "Bearer s3cret", "", `{"event":{"dataset":"edr"},"message":"detection A"}`)
	expect(t, "ingest", got, 200, `"accepted":1`)
	if !h.siemHas("detection A", 10*time.Second) {
		t.Fatal("the detection did not reach the SIEM")
	}
	if testutil.ToFloat64(edr) != 1 || testutil.ToFloat64(def) != 0 {
		t.Fatalf("precondition: rule edr %v, default %v", testutil.ToFloat64(edr), testutil.ToFloat64(def))
	}

	// The SIEM refused a copy of it; the refusal is replayed as written.
	now := time.Now()
	key := appSealKey(t, h.data)
	const written = `{"@timestamp":"2026-11-29T08:00:00Z","event":{"dataset":"edr"},"message":"REPLAYED detection","logrouter":{"input":"http"}}`
	rec := pipeline.Rejected{Raw: []byte(written), Reason: "destination_rejected", Destination: "siem",
		Event: &pipeline.RejectedEvent{Hash: 0xfeedface, Time: now.UnixNano(), Ingest: now.UnixNano(), SourceType: "edr", Priority: pipeline.P1}}
	body := string(key.AppendRecord(nil, &rec, now))
	r := h.adminDo(http.MethodPost, "/admin/replay/written?destination=siem", "Bearer "+testAdminToken, strings.NewReader(body))
	if r.status != http.StatusOK || !strings.Contains(r.body, `"replayed":1`) || !strings.Contains(r.body, `"renormalized":0`) {
		t.Fatalf("replay as written: %d %s", r.status, r.body)
	}
	if !h.siemHas("REPLAYED detection", 10*time.Second) {
		t.Fatal("the replayed event was not delivered")
	}
	if d := testutil.ToFloat64(def); d != 0 {
		t.Errorf("logrouter_rule_matches_total{rule=\"default\"} = %v (bytes %v) after one P1 detection, classified by rule edr, "+
			"was replayed as written: the replay, which no rule classified, is counted as an event no rule matched",
			d, testutil.ToFloat64(defBytes))
	}
}

// gateSink blocks every Write until open is closed (or the Write's
// context ends), then accepts.
type gateSink struct {
	name string
	open chan struct{}
	once sync.Once
}

func (s *gateSink) Name() string { return s.name }
func (s *gateSink) Write(ctx context.Context, _ *pipeline.Batch) error {
	select {
	case <-s.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
func (s *gateSink) Close(context.Context) error { s.release(); return nil }
func (s *gateSink) release()                    { s.once.Do(func() { close(s.open) }) }

// TestStatsShowKernelUDPDrops: the conservation ledger (`router
// stats`, GET /admin/stats, BuildLedger) lists what was "dropped before any
// destination queue took it" from logrouter_dropped_events_total only. The
// syslog UDP input counts the datagrams the kernel dropped because the
// socket's receive buffer was full (SO_RXQ_OVFL) in a separate counter,
// logrouter_syslog_udp_kernel_drops_total, which nothing in the ledger
// reads. README.md ("refused batches and the kernel's receive-buffer drops
// are counted (logrouter_syslog_udp_kernel_drops_total,
// logrouter_dropped_events_total{stage="syslog_udp"})") names both as where
// UDP loses messages, and the kernel's drops are usually the larger part
// of it (the reader stalls while its batch waits for the destinations: a
// burst overflows the buffer). `router stats` shows the router's own
// syslog_udp drops (TestStatsShowInputDrops) and not one line for these:
// messages that were sent to the router and lost are nowhere in "where
// every event went".
//
// Expected: the ledger's Dropped lists the kernel's receive-buffer drops
// (e.g. stage syslog_udp, reason kernel_receive_buffer), either because
// the syslog input also counts them in logrouter_dropped_events_total or
// because BuildLedger reads logrouter_syslog_udp_kernel_drops_total.
func TestStatsShowKernelUDPDrops(t *testing.T) {
	data := t.TempDir()
	cfg := &config.Config{
		Log:   config.Log{Level: "error", Format: "text"},
		Admin: config.Admin{Address: "127.0.0.1:0"},
		Inputs: config.Inputs{Syslog: &syslog.Config{
			UDP:         &syslog.UDPConfig{Address: "127.0.0.1:0", ReceiveBufferBytes: 4096, Readers: 1},
			BatchEvents: 1, BatchWait: 10 * time.Millisecond,
		}},
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
	sink := &gateSink{name: "siem", open: make(chan struct{})}
	a := startApp(t, cfg, WithSink("siem", sink))
	defer func() {
		sink.release()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx)
	}()
	udp, _, _ := a.SyslogAddrs()
	c, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := func(i int) []byte {
		return fmt.Appendf(nil, "<34>1 2024-05-01T13:00:00Z host app - - - burst message %d %s", i, strings.Repeat("x", 300))
	}
	// The first batch waits for the destination; the second holds the
	// reader (one batch in flight per stream). Then a burst.
	_, _ = c.Write(msg(0))
	time.Sleep(100 * time.Millisecond)
	_, _ = c.Write(msg(1))
	time.Sleep(100 * time.Millisecond)
	for i := 2; i < 2000; i++ {
		_, _ = c.Write(msg(i))
	}
	sink.release()
	reg := a.Engine().Metrics().Registry
	kernel := func() float64 {
		mfs, _ := reg.Gather()
		var n float64
		for _, mf := range mfs {
			if mf.GetName() == "logrouter_syslog_udp_kernel_drops_total" {
				for _, m := range mf.GetMetric() {
					n += m.GetCounter().GetValue()
				}
			}
		}
		return n
	}
	// The drop count arrives with the next datagram read.
	var drops float64
	for deadline := time.Now().Add(10 * time.Second); drops == 0 && time.Now().Before(deadline); {
		_, _ = c.Write(msg(9999))
		time.Sleep(50 * time.Millisecond)
		drops = kernel()
	}
	if drops == 0 {
		t.Skip("no kernel receive-buffer drop happened here (precondition)")
	}
	l, err := BuildLedger(reg)
	if err != nil {
		t.Fatal(err)
	}
	var listed float64
	for _, d := range l.Dropped {
		listed += d.Events
	}
	if listed < drops {
		t.Errorf("the kernel dropped %v syslog datagrams (logrouter_syslog_udp_kernel_drops_total) but the ledger's dropped section lists %v: %+v",
			drops, listed, l.Dropped)
	}
}
