package syslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
)

// obsLogCounter is a slog handler that keeps the WARN+ messages.
type obsLogCounter struct {
	mu   sync.Mutex
	msgs []string
}

func (h *obsLogCounter) Enabled(_ context.Context, l slog.Level) bool { return true }
func (h *obsLogCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.mu.Lock()
		h.msgs = append(h.msgs, r.Message)
		h.mu.Unlock()
	}
	return nil
}
func (h *obsLogCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *obsLogCounter) WithGroup(string) slog.Handler      { return h }

func (h *obsLogCounter) count(sub string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if strings.Contains(m, sub) {
			n++
		}
	}
	return n
}

// reviewStart starts a syslog server on an engine delivering to sink.
func obsStart(t *testing.T, cfg Config, sink pipeline.Sink, h slog.Handler) (*Server, prometheus.Gatherer) {
	t.Helper()
	log := slog.New(h)
	eng := testengine.New(t, testengine.P1EDR, sink, &testutil.MemQuarantine{}, log)
	srv, err := New(cfg, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv, eng.Metrics().Registry
}

// obsSeries reads one counter series as a scrape would: value, and
// whether the series exists.
func obsSeries(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			return m.GetCounter().GetValue(), true
		}
	}
	return 0, false
}

// Fault: logrouter_dropped_events_total{stage="syslog_udp",
// reason="destinations_refused"} (UDP datagrams dropped because the
// destinations refused their batch: a full queue) is created only by the
// first drop (server.go waitPrev: WithLabelValues at the drop), with the
// whole burst as its first value. The critical alert LogrouterEventsDropped
// is increase(logrouter_dropped_events_total[15m]) > 0; PromQL never takes
// an absent series for 0, so the first burst of UDP drops in a process's
// life is no increase and the alert stays silent. (The server pre-creates
// its kernel_receive_buffer drop series for exactly this reason, not this
// one.)
//
// Sequence: a UDP syslog input runs (scraped); its destination refuses
// (queue full); 20 datagrams arrive and are dropped and counted; the
// destination recovers; Prometheus scrapes twice more.
//
// Expected: alerts.yaml, LogrouterEventsDropped (critical): "Events were
// dropped without delivery (UDP syslog refused while the queues were
// full, a shutdown deadline...). Every drop is counted with its reason".
// The series must exist at 0 from the input's start so the first drop is
// an increase.
//
// Actual: absent before, 20 on every scrape after: increase() = 0; the
// critical "events are being lost" alert does not fire for the first loss
// episode after every start (only a second episode within 15 minutes
// shows).
//
// Severity: medium-high (silent loss of security events: the alert meant
// for it does not fire).
func TestFirstUDPDropIsAnIncrease(t *testing.T) {
	sink := &testutil.RecordSink{SinkName: "all", Err: fmt.Errorf("%w: queue full", pipeline.ErrOverloaded)}
	srv, reg := obsStart(t, Config{UDP: &UDPConfig{Address: "127.0.0.1:0"}}, sink, &obsLogCounter{})
	udp, _, _ := srv.Addrs()
	name := "logrouter_dropped_events_total"
	lbl := map[string]string{"stage": "syslog_udp", "reason": "destinations_refused"}
	var vals []float64
	var pres []bool
	scrape := func() {
		v, ok := obsSeries(t, reg, name, lbl)
		vals, pres = append(vals, v), append(pres, ok)
	}
	scrape()
	c, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 20; i++ {
		fmt.Fprintf(c, "<134>Oct 11 22:14:15 fw1 app: review drop %d", i)
	}
	// A refused UDP batch is counted when the reader's next batch is
	// flushed (see TestUDPDropCountedWhileSenderQuiet): one more
	// datagram after the burst makes it count.
	time.Sleep(500 * time.Millisecond)
	fmt.Fprintf(c, "<134>Oct 11 22:14:16 fw1 app: review drop trailer")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, _ := obsSeries(t, reg, name, lbl); v >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("premise: the UDP drops were not counted in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	scrape()
	scrape()
	var got []float64
	for i := range vals {
		if pres[i] {
			got = append(got, vals[i])
		}
	}
	if len(got) < 2 || got[len(got)-1]-got[0] <= 0 {
		t.Errorf("UDP datagrams were dropped (destinations refused); scrapes of %s%v: values %v, present %v: "+
			"PromQL increase() sees no increase, so the critical LogrouterEventsDropped never fires for the first drops; "+
			"the series must exist at 0 from the start", name, lbl, vals, pres)
	}
}

// Fault: a RELP session offer on the syslog TCP port is refused with one
// WARN line per connection (server.go serve: s.log.Warn("syslog connection
// refused: "+err.Error(), ...)), with no rate limit, while every other
// peer-caused refusal (max_connections, max_connections_per_ip,
// handshakes) warns at most once per refusalWarnEvery and the TLS
// handshake failures only at debug ("peers choose how often"). Any peer
// that reaches the plain TCP port writes the router's WARN log at will,
// 41 bytes per line, without authentication.
//
// Sequence: 30 connections each send "1 open 86 relp_version=0\n..." and
// are refused.
//
// Expected: the refusal is counted
// (logrouter_syslog_connections_refused_total{reason="relp"}) and warned
// about as the other refusals are: "syslog connection refused (further
// refusals are only counted for a while: ...)" – at most a line or two.
//
// Actual: 30 WARN lines, one per connection.
//
// Severity: low (log flooding by an unauthenticated peer; a relay
// misconfigured with omrelp reconnects forever and fills the log too).
func TestRELPRefusalWarnsOncePerMinute(t *testing.T) {
	h := &obsLogCounter{}
	srv, reg := obsStart(t, Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}}, &testutil.RecordSink{SinkName: "all"}, h)
	_, tcp, _ := srv.Addrs()
	const conns = 30
	open := "1 open 86 relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n"
	for i := 0; i < conns; i++ {
		c, err := net.Dial("tcp", tcp)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte(open))
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b [1]byte
		_, rerr := c.Read(b[:]) // the server closes it
		c.Close()
		if rerr == nil || errors.Is(rerr, context.DeadlineExceeded) {
			t.Fatalf("premise: connection %d not closed by the server (%v)", i, rerr)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if v, _ := obsSeries(t, reg, "logrouter_syslog_connections_refused_total", map[string]string{"reason": "relp"}); v >= conns {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("premise: the RELP refusals were not all counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := h.count("RELP"); n > 2 {
		t.Errorf("%d RELP connections wrote %d WARN lines: a peer-triggered line without the rate limit the other refusals have", conns, n)
	}
}

// Fault: a UDP batch the destinations refuse is counted dropped only when
// the same reader flushes its next batch. serveUDP's read timeout calls
// st.flush(), which returns at once for an empty batch, before waitPrev;
// settlePrev, which the TCP path calls on its timeouts, is never called
// for UDP. So the batch's drop waits, uncounted, in st.prev until another
// datagram reaches that reader (with udp.readers > 1, SO_REUSEPORT sends a
// sender's datagrams to one reader: a sender that goes quiet after a burst
// leaves its drop uncounted indefinitely).
//
// Sequence: a UDP syslog input; the destination refuses (queue full); a
// firewall sends 20 messages and then nothing; 3 s pass (batch_wait is
// 100 ms by default; reads time out every 250 ms).
//
// Expected: README "UDP cannot be slowed, so refused batches and the
// kernel's receive-buffer drops are counted
// (logrouter_dropped_events_total{stage=\"syslog_udp\"})"; the engine has
// already counted the 20 events input and refused, and the ledger says
// refused UDP events "are also in Dropped".
//
// Actual: logrouter_dropped_events_total{stage="syslog_udp",
// reason="destinations_refused"} stays absent (0) while
// logrouter_input_refused_events_total shows the 20: the loss is in
// neither the drop counter nor LogrouterEventsDropped until the next
// datagram arrives on that socket.
//
// Severity: medium (a loss of security events that the critical alert and
// `router stats` DROPPED do not show).
func TestUDPDropCountedWhileSenderQuiet(t *testing.T) {
	sink := &testutil.RecordSink{SinkName: "all", Err: fmt.Errorf("%w: queue full", pipeline.ErrOverloaded)}
	srv, reg := obsStart(t, Config{UDP: &UDPConfig{Address: "127.0.0.1:0"}}, sink, &obsLogCounter{})
	udp, _, _ := srv.Addrs()
	c, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 20; i++ {
		fmt.Fprintf(c, "<134>Oct 11 22:14:15 fw1 app: review burst %d", i)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, _ := obsSeries(t, reg, "logrouter_input_refused_events_total", map[string]string{"input": srv.cfg.Name}); v >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("premise: the engine did not refuse the 20 events")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(3 * time.Second)
	v, ok := obsSeries(t, reg, "logrouter_dropped_events_total", map[string]string{"stage": "syslog_udp", "reason": "destinations_refused"})
	if v < 20 {
		t.Errorf("20 UDP messages refused by the destinations 3 s ago (logrouter_input_refused_events_total = 20) but "+
			"logrouter_dropped_events_total{stage=\"syslog_udp\",reason=\"destinations_refused\"} = %v (series present: %v): "+
			"the drop is counted only when the next datagram reaches the reader", v, ok)
	}
}
