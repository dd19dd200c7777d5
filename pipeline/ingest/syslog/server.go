// Package syslog is the syslog input: UDP, TCP and TLS listeners, RFC 6587
// framing (octet counting or newline, detected per connection), and the
// parsers of package parse (RFC 5424, RFC 3164 and the payloads devices
// embed in them).
//
// Syslog has no acknowledgement in its protocol, so "accepted" means: handed
// to every routed destination's durable queue. A connection's messages are
// batched (batch_events, batch_wait) and the connection is not read again
// until its batch is accepted, so when queues are full TCP senders are slowed
// by their own socket buffers, never answered with loss. UDP cannot be slowed:
// a batch the destinations refuse is dropped and counted, as are the kernel's
// receive-buffer drops (SO_RXQ_OVFL).
//
// Connections are bounded three ways, each refusal closed at once and
// counted: max_connections established TCP+TLS connections, as many TLS
// handshakes in progress (each within tls.handshake_timeout, so a peer that
// never completes one holds no slot of the senders that did), and
// max_connections_per_ip connections of one source address, handshakes
// included.
package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/backoff"
	"github.com/logrouter/logrouter/internal/connlimit"
	"github.com/logrouter/logrouter/internal/promreg"
	"github.com/logrouter/logrouter/internal/tlsconf"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
)

// Server is one syslog input with its listeners.
type Server struct {
	cfg Config
	eng *engine.Engine
	log *slog.Logger
	loc *time.Location
	m   *metrics
	// appST is cfg.AppSourceTypes as bytes (no conversion per message).
	appST map[string][]byte

	udp     []*net.UDPConn // udp.readers sockets on one address
	tcp     net.Listener
	tlsLn   net.Listener // plain TCP: handshake() runs TLS over what it accepts
	tlsConf *tls.Config

	conns      chan struct{} // established connection slots (max_connections)
	handshakes chan struct{} // TLS handshakes in progress (max_connections too)
	// handshaking is cancelled when the listeners close: it ends the
	// handshakes in progress.
	handshaking     context.Context
	stopHandshakes  context.CancelFunc
	lastRefusalWarn atomic.Int64 // unix ns of the last refusal warning

	mu       sync.Mutex
	active   map[net.Conn]struct{}
	perIP    map[netip.Addr]int // open connections by source address, handshakes included
	closing  atomic.Bool
	stop     chan struct{}
	wg       sync.WaitGroup
	shutdown context.Context
	cancel   context.CancelFunc
	hardStop atomic.Bool // the shutdown deadline passed: stop draining
	// inflight is what the streams' batches hold together (stream.charge),
	// bounded by max_inflight_bytes. retrying is the part of it held by
	// batches the destinations refused, re-sent by waitPrev until taken:
	// it does not free by waiting (awaitBudget).
	inflight, retrying atomic.Int64
	drainEnd           atomic.Int64 // unix ns: half the time to the shutdown deadline (0: none), set before closing
}

// drainIdle is how long a connection may stay silent while the router
// drains it at shutdown before it is closed. A drain also ends at half the
// time to the shutdown's deadline (drainUntil): a sender that never pauses
// would otherwise hold the shutdown until its deadline, leaving the queues
// no time. (Not sooner: a sender held back by a slow destination has
// megabytes in socket buffers that it counts as sent.)
const drainIdle = 200 * time.Millisecond

// drainUntil returns when the drain that Shutdown began ends; zero when
// the shutdown has no deadline.
func (s *Server) drainUntil() time.Time {
	if ns := s.drainEnd.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

type metrics struct {
	messages   *prometheus.CounterVec        // {input, transport, sender, status}
	oversize   *prometheus.CounterVec        // {input, action}
	conns      *prometheus.GaugeVec          // {input, transport}
	refused    map[string]prometheus.Counter // by refusal reason
	handshake  *prometheus.CounterVec        // TLS handshake failures {input, reason}
	kernelDrop prometheus.Counter
	// kernelLost is the same count in the engine's dropped counter, so
	// the ledger's dropped section (router stats) lists it too.
	kernelLost prometheus.Counter
	dropped    *prometheus.CounterVec // engine's {stage, reason}
	bytes      prometheus.Counter

	mu      sync.Mutex
	senders map[string]bool
	max     int
}

// New prepares the listeners' configuration; Start binds them.
func New(cfg Config, eng *engine.Engine, log *slog.Logger) (*Server, error) {
	cfg.SetDefaults()
	if err := cfg.Validate("inputs.syslog"); err != nil {
		return nil, err
	}
	loc, _ := time.LoadLocation(cfg.Timezone)
	if log == nil {
		log = slog.Default()
	}
	reg := eng.Metrics().Registry
	m := &metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_syslog_messages_total",
			Help: "Syslog messages by sender and how they parsed (rfc5424, rfc3164, raw): which devices send garbage."}, []string{"input", "transport", "sender", "status"}),
		oversize: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_syslog_oversize_total",
			Help: "Messages longer than max_message_bytes, by action (truncate, quarantine)."}, []string{"input", "action"}),
		conns: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "logrouter_syslog_connections",
			Help: "Open syslog connections."}, []string{"input", "transport"}),
		dropped: eng.Metrics().Dropped,
		senders: map[string]bool{}, max: cfg.MaxSenders,
	}
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_syslog_connections_refused_total",
		Help: "Connections closed at once, by reason: max_connections (every slot taken), max_connections_per_ip (the source address holds that many), handshakes (max_connections TLS handshakes in progress), relp (the peer opened a RELP session: rsyslog omrelp, not supported)."},
		[]string{"input", "reason"})
	hs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_syslog_tls_handshake_failures_total",
		Help: "TLS connections closed because their handshake failed, by reason: timeout (not completed within tls.handshake_timeout), certificate (client certificate missing or not verified), peer_alert (the sender ended it with an alert: most often it does not trust the router's certificate), closed (the peer left), protocol (anything else: not TLS, no common version or cipher)."},
		[]string{"input", "reason"})
	kd := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "logrouter_syslog_udp_kernel_drops_total",
		Help: "UDP datagrams the kernel dropped because the receive buffer was full (SO_RXQ_OVFL)."}, []string{"input"})
	// A second syslog input shares the vectors (told apart by the input
	// label): the collectors registered first are the ones to count on.
	var err error
	if m.messages, err = promreg.Register(reg, m.messages); err != nil {
		return nil, err
	}
	if m.oversize, err = promreg.Register(reg, m.oversize); err != nil {
		return nil, err
	}
	if m.conns, err = promreg.Register(reg, m.conns); err != nil {
		return nil, err
	}
	if refused, err = promreg.Register(reg, refused); err != nil {
		return nil, err
	}
	if hs, err = promreg.Register(reg, hs); err != nil {
		return nil, err
	}
	if kd, err = promreg.Register(reg, kd); err != nil {
		return nil, err
	}
	m.refused = map[string]prometheus.Counter{}
	for _, reason := range []string{refusedMax, refusedPerIP, refusedHandshakes, refusedRELP} {
		m.refused[reason] = refused.WithLabelValues(cfg.Name, reason)
	}
	m.handshake = hs
	m.kernelDrop = kd.WithLabelValues(cfg.Name)
	m.kernelLost = eng.Metrics().Dropped.WithLabelValues("syslog_udp", "kernel_receive_buffer")
	// At 0 from the start, as the alerts' increase() needs (see queue.New).
	eng.Metrics().Dropped.WithLabelValues("syslog_udp", "destinations_refused")
	eng.Metrics().Dropped.WithLabelValues("syslog", "shutdown_deadline")
	m.bytes = eng.Metrics().InputBytes.WithLabelValues(cfg.Name)
	s := &Server{cfg: cfg, eng: eng, log: log.With("input", cfg.Name), loc: loc, m: m,
		conns: make(chan struct{}, cfg.MaxConnections), handshakes: make(chan struct{}, cfg.MaxConnections),
		active: map[net.Conn]struct{}{}, perIP: map[netip.Addr]int{}, stop: make(chan struct{})}
	s.shutdown, s.cancel = context.WithCancel(context.Background())
	s.handshaking, s.stopHandshakes = context.WithCancel(context.Background())
	if len(cfg.AppSourceTypes) > 0 {
		s.appST = make(map[string][]byte, len(cfg.AppSourceTypes))
		for app, st := range cfg.AppSourceTypes {
			s.appST[app] = []byte(st)
		}
	}
	return s, nil
}

// sender returns the label for a sender, bounded to max distinct values.
func (m *metrics) sender(ip string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.senders[ip] {
		return ip
	}
	if len(m.senders) >= m.max {
		return "other"
	}
	m.senders[ip] = true
	return ip
}

// Start binds every configured listener and serves in the background.
func (s *Server) Start() error {
	c := s.cfg
	if c.UDP != nil {
		pcs, err := listenUDP(c.UDP.Address, c.UDP.Readers)
		if err != nil {
			return err
		}
		s.udp = pcs
		for _, pc := range pcs {
			s.tuneUDP(pc)
			s.wg.Add(1)
			go s.serveUDP(pc)
		}
		s.log.Info("syslog UDP listening", "address", pcs[0].LocalAddr().String(), "readers", len(pcs))
	}
	if c.TCP != nil {
		ln, err := net.Listen("tcp", c.TCP.Address)
		if err != nil {
			s.Close()
			return fmt.Errorf("inputs.syslog.tcp: listen on %s: %w (change inputs.syslog.tcp.address)", c.TCP.Address, err)
		}
		s.tcp = ln
		s.wg.Add(1)
		go s.accept(ln, "tcp")
		s.log.Info("syslog TCP listening", "address", ln.Addr().String())
	}
	if c.TLS != nil && c.TLS.CertFile != "" {
		tc, err := s.tlsConfig()
		if err != nil {
			s.Close()
			return err
		}
		// Not tls.Listen: its connections would handshake on their first
		// Read, under idle_timeout, holding a slot meanwhile.
		ln, err := net.Listen("tcp", c.TLS.Address)
		if err != nil {
			s.Close()
			return fmt.Errorf("inputs.syslog.tls: listen on %s: %w (change inputs.syslog.tls.address)", c.TLS.Address, err)
		}
		s.tlsLn, s.tlsConf = ln, tc
		s.wg.Add(1)
		go s.accept(ln, "tls")
		s.log.Info("syslog TLS listening", "address", ln.Addr().String(),
			"client_certs", c.TLS.ClientCAFile != "", "require_client_cert", c.TLS.RequireClientCert)
		if c.TLS.ClientCAFile != "" && !c.TLS.RequireClientCert {
			s.log.Warn("inputs.syslog.tls.client_ca_file is set without require_client_cert: clients that send no certificate are accepted; set inputs.syslog.tls.require_client_cert: true to refuse them")
		}
	}
	return nil
}

func (s *Server) tlsConfig() (*tls.Config, error) {
	t := s.cfg.TLS
	// The pair is loaded again when its files change (a renewal).
	kp, err := tlsconf.LoadKeyPair(t.CertFile, t.KeyFile, s.log)
	if err != nil {
		return nil, fmt.Errorf("inputs.syslog.tls: load cert_file/key_file: %w", err)
	}
	tc := kp.Server()
	// No session tickets: over TLS 1.3 the server sends them after the
	// handshake, and a syslog sender only writes (loggen, syslog-ng,
	// anything on OpenSSL): the unread ticket bytes make its kernel answer
	// the close with a reset, and ours then discards every message it had
	// not read yet, acknowledged by TCP and lost uncounted (a review
	// measured 11265 of 20000). Resumption buys nothing on connections
	// that live for hours.
	tc.SessionTicketsDisabled = true
	if t.ClientCAFile != "" {
		// Loaded again when the file changes (a rotated client CA).
		ca, err := tlsconf.LoadCAPool(t.ClientCAFile, s.log)
		if err != nil {
			return nil, fmt.Errorf("inputs.syslog.tls.client_ca_file: %w", err)
		}
		auth := tls.VerifyClientCertIfGiven
		if t.RequireClientCert {
			auth = tls.RequireAndVerifyClientCert
		}
		ca.VerifyClients(tc, auth)
	}
	return tc, nil
}

// Addrs returns the bound addresses ("" for transports not listening).
func (s *Server) Addrs() (udp, tcp, tlsAddr string) {
	if len(s.udp) > 0 {
		udp = s.udp[0].LocalAddr().String()
	}
	if s.tcp != nil {
		tcp = s.tcp.Addr().String()
	}
	if s.tlsLn != nil {
		tlsAddr = s.tlsLn.Addr().String()
	}
	return
}

// Reasons a connection is refused (logrouter_syslog_connections_refused_total).
const (
	refusedMax        = "max_connections"
	refusedPerIP      = "max_connections_per_ip"
	refusedHandshakes = "handshakes"
	refusedRELP       = "relp" // rsyslog omrelp: a protocol the input does not speak
)

// refusalWarnEvery spaces the warnings about refused connections: a flood
// of them is counted, not logged.
const refusalWarnEvery = time.Minute

// accept serves the connections of ln: over "tcp" at once, over "tls" once
// handshake has completed. Each first passes max_connections_per_ip.
func (s *Server) accept(ln net.Listener, transport string) {
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if s.closing.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			s.log.Warn("syslog accept failed", "transport", transport, "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		ip := addrOf(c.RemoteAddr())
		if !s.holdIP(ip) {
			s.refuse(c, ip, refusedPerIP)
			continue
		}
		if transport == "tls" {
			select {
			case s.handshakes <- struct{}{}:
			default:
				s.releaseIP(ip)
				s.refuse(c, ip, refusedHandshakes)
				continue
			}
			s.wg.Add(1)
			go s.handshake(c, ip)
			continue
		}
		if !s.open(c, ip) {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serve(c, ip, transport)
		}()
	}
}

// handshake runs the TLS handshake of raw, just accepted from ip, within
// tls.handshake_timeout, and then serves it. A handshake that fails, times
// out or is cut short by Shutdown closes the connection; failures are
// counted by reason and logged at debug level (peers choose how often).
// Until the handshake completes, raw holds a handshake slot, not a
// max_connections one.
func (s *Server) handshake(raw net.Conn, ip netip.Addr) {
	defer s.wg.Done()
	c := tls.Server(raw, s.tlsConf)
	ctx, cancel := context.WithTimeout(s.handshaking, s.cfg.TLS.HandshakeTimeout)
	err := c.HandshakeContext(ctx)
	cancel()
	<-s.handshakes
	if err != nil {
		_ = raw.Close()
		s.releaseIP(ip)
		if s.handshaking.Err() != nil {
			return // shutting down: not the peer's failure
		}
		reason := handshakeFailure(err)
		s.m.handshake.WithLabelValues(s.cfg.Name, reason).Inc()
		s.log.Debug("syslog TLS handshake failed; connection closed", "peer", ip.String(), "reason", reason, "err", err)
		return
	}
	if s.open(c, ip) {
		s.serve(c, ip, "tls")
	}
}

// handshakeFailure is the metric reason of a failed TLS handshake.
func handshakeFailure(err error) string {
	var verr *tls.CertificateVerificationError
	var oe *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return "timeout"
	case errors.As(err, &oe) && oe.Op == "remote error":
		// The sender ended the handshake with an alert: most often it does
		// not trust the router's certificate ("remote error: tls: unknown
		// certificate authority"), which is no client certificate problem.
		return "peer_alert"
	case errors.As(err, &verr) || strings.Contains(err.Error(), "certificate"):
		// crypto/tls has no error type for a missing or unparsable client
		// certificate; its messages all name it.
		return "certificate"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET):
		return "closed"
	}
	return "protocol"
}

// open takes a max_connections slot for c, accepted from ip, and registers
// it for Shutdown. It reports false, having closed c, released ip and
// counted the refusal, when every slot is taken.
func (s *Server) open(c net.Conn, ip netip.Addr) bool {
	select {
	case s.conns <- struct{}{}:
	default:
		s.releaseIP(ip)
		s.refuse(c, ip, refusedMax)
		return false
	}
	s.mu.Lock()
	s.active[c] = struct{}{}
	s.mu.Unlock()
	return true
}

// serve reads c until it ends, then closes it and releases what open and
// holdIP took.
func (s *Server) serve(c net.Conn, ip netip.Addr, transport string) {
	gauge := s.m.conns.WithLabelValues(s.cfg.Name, transport)
	gauge.Inc()
	defer func() {
		s.mu.Lock()
		delete(s.active, c)
		s.mu.Unlock()
		gauge.Dec()
		<-s.conns
		s.releaseIP(ip)
	}()
	s.serveConn(c, transport)
}

// holdIP counts one more connection of ip; false when ip already holds
// max_connections_per_ip of them. Every true is paired with a releaseIP.
func (s *Server) holdIP(ip netip.Addr) bool {
	if s.cfg.MaxConnectionsPerIP < 0 {
		return true
	}
	ip = connlimit.KeyOf(ip) // an IPv6 host has a whole /64 to take addresses from
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[ip] >= s.cfg.MaxConnectionsPerIP {
		return false
	}
	s.perIP[ip]++
	return true
}

// releaseIP undoes one holdIP. The map keeps only addresses with open
// connections.
func (s *Server) releaseIP(ip netip.Addr) {
	if s.cfg.MaxConnectionsPerIP < 0 {
		return
	}
	ip = connlimit.KeyOf(ip) // an IPv6 host has a whole /64 to take addresses from
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.perIP[ip] <= 1 {
		delete(s.perIP, ip)
		return
	}
	s.perIP[ip]--
}

// refuse closes c, from ip, counts it under reason and warns at most once
// per refusalWarnEvery, saying what to change.
func (s *Server) refuse(c net.Conn, ip netip.Addr, reason string) {
	defer c.Close() // last: once the peer sees it, the refusal is counted and logged
	s.m.refused[reason].Inc()
	var hint string
	switch reason {
	case refusedMax:
		hint = "every inputs.syslog.max_connections slot is taken: raise it, or find the peers holding them (logrouter_syslog_connections)"
	case refusedPerIP:
		hint = "this address holds inputs.syslog.max_connections_per_ip connections already: raise it if the address is a relay or NAT gateway many senders share"
	case refusedHandshakes:
		hint = "inputs.syslog.max_connections TLS handshakes are in progress: peers that do not complete theirs are closed after inputs.syslog.tls.handshake_timeout"
	}
	s.warnRefused(ip.String(), reason, hint)
}

// warnRefused logs a refused connection at most once per refusalWarnEvery
// (peers choose how often they are refused; the metric counts each).
func (s *Server) warnRefused(peer, reason, hint string) {
	now := time.Now().UnixNano()
	last := s.lastRefusalWarn.Load()
	if now-last < int64(refusalWarnEvery) || !s.lastRefusalWarn.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn("syslog connection refused (further refusals are only counted for a while: logrouter_syslog_connections_refused_total)",
		"peer", peer, "reason", reason, "hint", hint)
}

// addrOf is the source address of a connection, IPv4-mapped IPv6
// addresses unmapped (the zero Addr for a non-TCP one).
func addrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// stream turns frames of one connection (or one UDP socket) into batches.
type stream struct {
	s         *Server
	transport string
	mp        route.SyslogParser
	w         *route.Worker
	b         *pipeline.Batch
	rejected  []pipeline.Rejected
	first     time.Time
	defST     []byte
	ctrs      map[counterKey]prometheus.Counter
	sender    []byte // b.Meta.Peer's bytes (EventMeta.Sender)

	// One batch may be in flight while the next one is read and parsed, so
	// parsing overlaps the queues' fsync.
	prev     *pipeline.Batch
	prevDone chan error

	// What the stream holds of Server.inflight: its batch's events and
	// refused messages, and the batch in flight (prevBytes).
	charged, rejBytes, prevBytes int64
	// budgetWaited: an awaitBudget found no room in its time; no other
	// wait until a flush sees the budget with room.
	budgetWaited bool
	lastFrame    time.Time // the last message's arrival (idle shrink)
}

type counterKey struct {
	sender string
	status parse.Status
}

func (s *Server) newStream(transport string) *stream {
	st := &stream{s: s, transport: transport, w: s.eng.Worker(), defST: []byte(s.cfg.SourceType),
		ctrs: map[counterKey]prometheus.Counter{},
		mp:   route.SyslogParser{Parser: parse.New(parse.Options{Location: s.loc, KeepOriginal: s.cfg.KeepOriginal})}}
	st.reset()
	return st
}

func (st *stream) reset() {
	if st.b == nil {
		st.b = pipeline.NewBatch()
	}
	st.b.Reset()
	st.rejected = st.rejected[:0]
	st.b.Meta = pipeline.Meta{Input: st.s.cfg.Name, Protocol: "syslog-" + st.transport, IngestTime: time.Now().UnixNano()}
	st.first = time.Time{}
}

func (st *stream) pending() bool { return len(st.b.Events) > 0 || len(st.rejected) > 0 }

// full reports whether the batch has batch_events records, refused ones
// included: each keeps a copy of its message (up to max_message_bytes) until
// the flush, so they count toward the bound as events do; or whether the
// input's max_inflight_bytes is spent, so that the batch is handed over at
// once and the connection waits for the one before it (backpressure).
func (st *stream) full() bool {
	st.chargeStep()
	return len(st.b.Events)+len(st.rejected) >= st.s.cfg.BatchEvents || st.s.inflight.Load() > st.s.cfg.MaxInflightBytes
}

// charge brings what the stream holds of Server.inflight up to date.
func (st *stream) charge() { st.chargeBy(0) }

// chargeStep is charge for a message added: the shared counter moves by
// chargeStepBytes at least (one atomic add per message would be contended
// by every connection).
func (st *stream) chargeStep() { st.chargeBy(chargeStepBytes) }

const chargeStepBytes = 64 << 10

func (st *stream) chargeBy(step int64) {
	n := st.prevBytes + st.rejBytes
	if st.b != nil {
		n += int64(len(st.b.Arena()))
	}
	if d := n - st.charged; d != 0 && (d >= step || d <= -step) {
		st.s.inflight.Add(d)
		st.charged = n
	}
}

// add parses one message into the batch; peer must be set in b.Meta.
func (st *stream) add(frame []byte, cut frameCut) {
	st.s.m.bytes.Add(float64(len(frame)))
	now := time.Now()
	st.lastFrame = now
	if st.first.IsZero() {
		// The batch's ingest time is its first message's arrival, not
		// the previous flush (a quiet device's next message would be
		// stamped when the last batch left).
		st.first = now
		st.b.Meta.IngestTime = st.first.UnixNano()
		st.w = st.s.eng.Refresh(st.w) // rules reloaded since the last batch: this one uses them
	}
	if cut == frameIncomplete {
		// Half a message: parsed, it would pass for a whole one.
		st.reject(frame, "incomplete_frame", errors.New("the connection closed inside an octet-counted frame (RFC 6587): these are the bytes that arrived; the sender never finished the message"))
		return
	}
	if cut == frameTruncated {
		if st.s.cfg.OnOversize == "quarantine" {
			st.s.m.oversize.WithLabelValues(st.s.cfg.Name, "quarantine").Inc()
			st.reject(frame, "too_large", fmt.Errorf("message longer than inputs.syslog.max_message_bytes (%d); these are its first bytes", st.s.cfg.MaxMessageBytes))
			return
		}
		st.s.m.oversize.WithLabelValues(st.s.cfg.Name, "truncate").Inc()
	}
	em := normalize.EventMeta{DefaultSourceType: st.defST, KeepOwnLogrouter: true} // the parser's parse_status; a payload's own logrouter is refused
	v, res, err := st.mp.Parse(frame, &em)
	if c := st.mp.Cost(); c > 0 {
		// A large JSON payload's parse (up to ~70 times its size) is
		// memory the connection holds until the event is made: the
		// others see it in the budget meanwhile, and the parser lets it
		// go after (an idle connection would keep it).
		st.s.inflight.Add(c)
		defer func() {
			st.s.inflight.Add(-c)
			st.mp.Done()
		}()
	}
	st.count(res.Status)
	if err != nil { // the parser promises valid JSON: keep the message anyway
		st.reject(frame, "parse_error", err)
		return
	}
	if ast, ok := st.s.appST[string(res.App)]; ok {
		em.SourceType = ast
	}
	if len(res.Hostname) == 0 {
		// Without a HOSTNAME (a Cisco ASA by default) only the sender
		// tells two devices' identical messages apart: it joins the
		// content hash, so that deduplication does not merge them.
		if string(st.sender) != st.b.Meta.Peer {
			st.sender = append(st.sender[:0], st.b.Meta.Peer...)
		}
		em.Sender = st.sender
	}
	// An event without a time of its own gets its message's arrival, not
	// the batch's first (identical timeless messages of one batch stay two
	// events: the content hash includes @timestamp).
	em.DefaultTime = now.UnixNano()
	// A payload that holds several events (a Google Workspace activity,
	// a batch envelope) is split as the HTTP and Kafka inputs split it,
	// all or none: the frame is quarantined whole.
	if err := st.w.AddAll(st.b, v, nil, &em); err != nil {
		st.reject(frame, normalize.Reason(err), err)
	}
}

func (st *stream) count(status parse.Status) {
	k := counterKey{st.b.Meta.Peer, status}
	c, ok := st.ctrs[k]
	if !ok {
		c = st.s.m.messages.WithLabelValues(st.s.cfg.Name, st.transport, st.s.m.sender(k.sender), status.String())
		if len(st.ctrs) < 4096 {
			st.ctrs[k] = c
		}
	}
	c.Inc()
}

func (st *stream) reject(raw []byte, reason string, err error) {
	st.rejBytes += int64(len(raw))
	st.rejected = append(st.rejected, pipeline.Rejected{Raw: append([]byte(nil), raw...), Reason: reason, Detail: err.Error(),
		Input: st.s.cfg.Name, Protocol: st.b.Meta.Protocol, Peer: st.b.Meta.Peer, Time: time.Now().UnixNano()})
}

// flush hands the batch to the destinations without waiting, after the
// previous batch of this stream was accepted (see waitPrev): at most one
// batch is in flight per connection.
func (st *stream) flush() {
	if !st.pending() {
		return
	}
	s := st.s
	for attempt := 0; len(st.rejected) > 0; attempt++ {
		if err := s.eng.Quarantine(s.shutdown, st.rejected); err == nil {
			break
		} else if s.shutdown.Err() != nil {
			s.m.dropped.WithLabelValues("syslog", "quarantine_unavailable").Add(float64(len(st.rejected)))
			// Received and given up on: the input's ledger row counts
			// them as refused, as it does a batch refused at shutdown.
			s.eng.Refuse(s.cfg.Name, len(st.rejected))
			break
		}
		backoff.Sleep(s.shutdown, retryDelay(attempt))
	}
	st.rejected = st.rejected[:0]
	st.rejBytes = 0
	if len(st.b.Events) == 0 {
		st.reset()
		st.charge()
		return
	}
	st.waitPrev()
	cur := st.b
	st.prev, st.prevDone, st.prevBytes = cur, make(chan error, 1), int64(len(cur.Arena()))
	st.emit(cur, st.prevDone)
	st.b = nil
	st.reset()
	st.charge()
}

// idle lets go of the capacity of the connection's empty batch once it has
// been quiet for idleShrinkAfter: a batch comes from the pool at the size
// its last user grew it to (a burst's, or a queue forwarder's of several
// MiB), and an idle connection would hold it for as long as it lives.
// Not at each flush: under load that dropped every large pooled batch and
// cost ~5% CPU and ~50 MiB more heap in churn.
func (st *stream) idle(now time.Time) {
	if st.prev == nil && !st.pending() && now.Sub(st.lastFrame) >= idleShrinkAfter {
		st.b.Shrink(idleBatchBytes)
	}
}

// idleBatchBytes is the most a quiet connection's empty batch keeps.
const idleBatchBytes = 1 << 20

// idleShrinkAfter is how long a quiet connection keeps a larger empty
// batch before letting it go.
const idleShrinkAfter = time.Second

func (st *stream) emit(b *pipeline.Batch, done chan error) {
	b.Ack = pipeline.NewAck(func(err error) { done <- err })
	_ = st.s.eng.Emit(st.s.shutdown, b)
}

// waitPrev waits until the batch in flight is accepted. Over TCP a refused
// batch is re-sent with backoff for as long as it takes (the connection is
// not read meanwhile: backpressure); it is dropped, and counted, only when
// the router shuts down past its deadline. Over UDP a refused batch is
// dropped and counted.
func (st *stream) waitPrev() {
	if st.prev == nil {
		return
	}
	s := st.s
	b := st.prev
	var held int64 // counted in Server.retrying while re-sent
	defer func() {
		s.retrying.Add(-held)
		b.Release()
		st.prev, st.prevDone, st.prevBytes = nil, nil, 0
		st.charge()
	}()
	err := <-st.prevDone
	for attempt := 0; err != nil; attempt++ {
		// The batch's messages: its events and the repeats deduplication
		// removed from it, refused with it (Batch.RemovedEvents).
		n := len(b.Events) + b.RemovedEvents()
		if engine.NotCounted(err) && (st.transport == "udp" || s.shutdown.Err() != nil) {
			// Given up on before the engine counted it as input: the
			// ledger row counts it received and refused.
			s.eng.Refuse(s.cfg.Name, n)
		}
		if st.transport == "udp" {
			s.m.dropped.WithLabelValues("syslog_udp", "destinations_refused").Add(float64(n))
			return
		}
		if s.shutdown.Err() != nil {
			s.m.dropped.WithLabelValues("syslog", "shutdown_deadline").Add(float64(n))
			s.log.Error("syslog messages not accepted before the shutdown deadline", "events", n, "err", err)
			return
		}
		if attempt == 0 {
			s.log.Warn("destinations refused a syslog batch; holding the connection until they accept", "transport", st.transport, "events", n, "err", err)
			held = st.prevBytes
			s.retrying.Add(held)
		}
		backoff.Sleep(s.shutdown, retryDelay(attempt))
		done := make(chan error, 1)
		st.emit(b, done)
		err = <-done
	}
}

// prevPoll is how often a connection whose batch is in flight looks at its
// answer while the sender is quiet (settlePrev).
const prevPoll = 100 * time.Millisecond

// settlePrev looks, without waiting, at the batch in flight: accepted, it
// is released; refused, waitPrev re-sends it with backoff, holding the
// connection, as the next flush would have. Before, a refusal was only
// seen at the sender's next message: a quiet sender's refused batch
// waited for idle_timeout (10 minutes by default).
func (st *stream) settlePrev() {
	if st.prev == nil {
		return
	}
	select {
	case err := <-st.prevDone:
		st.prevDone <- err // waitPrev reads it (the channel holds one)
		st.waitPrev()
	default:
	}
}

// drain flushes what is pending and waits for it to be accepted.
func (st *stream) drain() {
	st.flush()
	st.waitPrev()
}

func (st *stream) close() {
	st.drain()
	st.s.eng.PutWorker(st.w)
	st.b.Release()
	st.b = nil
	st.rejBytes = 0
	st.charge() // gives back what it held
}

func retryDelay(attempt int) time.Duration {
	d := 50 * time.Millisecond << min(attempt, 6)
	return min(d, 2*time.Second)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// addRest adds what fr still holds when the connection ends without its
// sender's clean close, as a clean close would (see framer.rest): a message
// cut short is quarantined as incomplete_frame, never dropped unseen.
func (st *stream) addRest(fr *framer) {
	for {
		frame, cut, ok := fr.rest()
		if !ok {
			return
		}
		if len(frame) > 0 {
			st.add(frame, cut)
		}
	}
}

func (s *Server) serveConn(c net.Conn, transport string) {
	defer c.Close()
	st := s.newStream(transport)
	defer st.close()
	peer := peerOf(c.RemoteAddr())
	fr := newFramer(c, s.cfg.MaxMessageBytes)
	for {
		st.b.Meta.Peer = peer
		closing := s.closing.Load()
		idleAt := time.Now().Add(s.cfg.IdleTimeout)
		deadline := idleAt
		if closing {
			// Shutting down: keep reading what the sender already sent (it
			// sits in socket buffers and would be lost) until the connection
			// goes quiet, ends, the drain's end passes, or the shutdown deadline
			// does. (Checked at every frame: under a steady stream no read
			// times out.)
			drainUntil := s.drainUntil()
			if !drainUntil.IsZero() && !time.Now().Before(drainUntil) {
				st.addRest(fr)
				return
			}
			deadline = time.Now().Add(drainIdle)
			if !drainUntil.IsZero() && drainUntil.Before(deadline) {
				deadline = drainUntil
			}
		}
		if flushAt := st.first.Add(s.cfg.BatchWait); st.pending() && flushAt.Before(deadline) {
			deadline = flushAt
		}
		if shrinkAt := time.Now().Add(idleShrinkAfter); !st.pending() && st.prev == nil && cap(st.b.Arena()) > idleBatchBytes && shrinkAt.Before(deadline) {
			deadline = shrinkAt // quiet after a burst: let its batch's capacity go
		}
		if pollAt := time.Now().Add(prevPoll); st.prev != nil && pollAt.Before(deadline) {
			// A batch in flight: look at its answer soon, so that a
			// refusal is re-sent even when the sender goes quiet.
			deadline = pollAt
		}
		if s.hardStop.Load() {
			deadline = time.Now()
		}
		_ = c.SetReadDeadline(deadline)
		if !closing && s.closing.Load() {
			continue // Shutdown began: its wake-up deadline may just have been overwritten
		}
		frame, cut, err := fr.next()
		if err != nil {
			if isTimeout(err) {
				st.settlePrev()
				if st.pending() {
					st.flush()
					continue
				}
				st.idle(time.Now())
				if st.prev != nil || (!closing && time.Now().Before(idleAt)) {
					continue // woken to look at the batch in flight, not idle
				}
				if !closing && !s.closing.Load() {
					s.log.Debug("closing idle syslog connection", "peer", peer)
					st.addRest(fr)
					return
				}
				if s.closing.Load() && (closing || s.hardStop.Load()) {
					st.addRest(fr) // drained: quiet for drainIdle
					return
				}
				continue // woken by Shutdown: start draining
			}
			if errors.Is(err, errRELP) {
				st.flush()
				s.m.refused[refusedRELP].Inc()
				s.warnRefused(peer, refusedRELP, err.Error())
				return
			}
			st.addRest(fr) // a reset, a TLS stream cut short
			st.flush()
			return
		}
		if len(frame) == 0 {
			continue
		}
		st.add(frame, cut)
		if st.full() {
			over := s.inflight.Load() > s.cfg.MaxInflightBytes
			if !over {
				st.budgetWaited = false
			}
			st.flush()
			if over && !st.budgetWaited {
				st.budgetWaited = !st.awaitBudget()
			}
		}
	}
}

// awaitBudget, after a flush that max_inflight_bytes forced, waits until
// the batch is accepted and the budget has room again, not reading the
// connection meanwhile (TCP backpressure). Reading on at once handed over
// one message per batch while the input was over budget: a queue write
// each, when the input was already behind. It reports whether the budget
// had room (or the wait was cut short by the router stopping); false after
// budgetWaitMax without room, and the connection then reads on without
// waiting again until the budget has room (budgetWaited): what holds it
// then does not free by waiting, and a wait per message would throttle the
// connection to a few messages a second. Batches the destinations refused
// (retrying) are left out, as are waits once the router drains: its
// connections must be read to their end.
func (st *stream) awaitBudget() bool {
	st.waitPrev()
	s := st.s
	for deadline := time.Now().Add(budgetWaitMax); s.inflight.Load()-s.retrying.Load() > s.cfg.MaxInflightBytes; {
		if s.closing.Load() || !time.Now().Before(deadline) {
			return s.closing.Load()
		}
		if !backoff.Sleep(s.shutdown, budgetPoll) {
			return true
		}
	}
	return true
}

// budgetPoll is how often a connection waiting for max_inflight_bytes looks
// at it, and budgetWaitMax how long it waits at most.
const (
	budgetPoll    = 2 * time.Millisecond
	budgetWaitMax = 200 * time.Millisecond
)

func peerOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	h, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return h
}

func (s *Server) serveUDP(pc *net.UDPConn) {
	defer s.wg.Done()
	st := s.newStream("udp")
	defer st.close()
	buf := make([]byte, 65536)
	oob := make([]byte, 128)
	names := map[netip.Addr]string{}
	var lastDrops uint32
	// Shutdown: the datagrams the kernel already holds for this socket
	// are read before returning (closing the socket would discard them,
	// uncounted): until none arrives for udpDrainQuiet, at most
	// udpDrainMax or the drain's end (a sender that never pauses), or the
	// shutdown deadline.
	var drainUntil time.Time
	for {
		if s.hardStop.Load() {
			st.flush()
			s.closeUDP(pc, buf)
			return
		}
		if s.closing.Load() && drainUntil.IsZero() {
			// Checked on every datagram: under a steady stream no read
			// times out, and Shutdown would wait for this reader forever.
			drainUntil = time.Now().Add(udpDrainMax)
			if end := s.drainUntil(); !end.IsZero() && end.Before(drainUntil) {
				drainUntil = end
			}
		}
		deadline := time.Now().Add(250 * time.Millisecond)
		if st.pending() {
			deadline = st.first.Add(s.cfg.BatchWait)
		}
		if !drainUntil.IsZero() {
			deadline = time.Now().Add(udpDrainQuiet)
			if deadline.After(drainUntil) {
				deadline = drainUntil
			}
		}
		_ = pc.SetReadDeadline(deadline)
		n, oobn, _, addr, err := pc.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			if isTimeout(err) {
				st.flush()
				st.settlePrev() // a refusal is counted now, not at the sender's next datagram
				// Drained when the read waited its whole quiet time (an
				// early timeout is Shutdown waking the reader). The
				// socket closes now, not at the end of the shutdown:
				// datagrams after this would be taken by the kernel
				// and discarded at close, uncounted; closed, the port
				// refuses them (ICMP) and SO_REUSEPORT peers take theirs.
				if !drainUntil.IsZero() && !time.Now().Before(deadline) {
					s.closeUDP(pc, buf)
					return
				}
				continue
			}
			st.flush()
			return
		}
		if d, ok := rxqOverflow(oob[:oobn]); ok {
			if d > lastDrops {
				s.m.kernelDrop.Add(float64(d - lastDrops))
				s.m.kernelLost.Add(float64(d - lastDrops))
			}
			lastDrops = d
		}
		ip := addr.Addr().Unmap()
		peer, ok := names[ip]
		if !ok {
			peer = ip.String()
			if len(names) < 65536 {
				names[ip] = peer
			}
		}
		st.b.Meta.Peer = peer
		// A datagram is one message (RFC 5426 3.1), which may hold line
		// breaks (a stack trace, a Windows event); some senders pack
		// several messages, each on a line of its own starting with a PRI.
		data := buf[:n]
		for len(data) > 0 {
			var line []byte
			line, data = nextDatagramMessage(data)
			line = trimEOL(line)
			if len(line) == 0 {
				continue
			}
			cut := frameWhole
			if len(line) > s.cfg.MaxMessageBytes {
				line, cut = line[:s.cfg.MaxMessageBytes], frameTruncated
			}
			st.add(line, cut)
		}
		if st.full() {
			st.flush()
		}
	}
}

// udpDrainQuiet and udpDrainMax bound a UDP reader's drain at shutdown
// (the kernel's buffer drains fast: nothing holds the reader back).
const (
	udpDrainQuiet = 50 * time.Millisecond
	udpDrainMax   = 2 * time.Second
)

// closeUDP closes a UDP socket at the end of a shutdown whose drain ran out
// of time (a sender that never paused, or the shutdown deadline): the
// datagrams the kernel still holds for it are read without waiting (for
// at most udpDiscardMax) and counted dropped, reason shutdown, as they
// would otherwise vanish uncounted at close. Those that arrive in the
// microseconds between the last read and the close are the only ones not
// counted; after it, the closed port refuses them.
func (s *Server) closeUDP(pc *net.UDPConn, buf []byte) {
	if n := discardQueued(pc, buf, udpDiscardMax); n > 0 {
		s.m.dropped.WithLabelValues("syslog_udp", "shutdown").Add(float64(n))
		s.log.Warn("syslog UDP: datagrams still queued at the end of the shutdown drain were dropped (the sender never paused, or the shutdown deadline passed)",
			"input", s.cfg.Name, "messages", n)
	}
	_ = pc.Close()
}

// udpDiscardMax bounds closeUDP's count of what is left.
const udpDiscardMax = 100 * time.Millisecond

// messagesIn counts the messages of a datagram as serveUDP splits it (those
// that are not empty).
func messagesIn(data []byte) int {
	n := 0
	for len(data) > 0 {
		var line []byte
		line, data = nextDatagramMessage(data)
		if len(trimEOL(line)) > 0 {
			n++
		}
	}
	return n
}

// nextDatagramMessage splits the first message off a datagram: at a line
// break followed by a PRI ("<13>"), where a sender packed a second message,
// or the whole rest. A line break inside a message (a Java stack trace's
// "\tat ..." lines, a multi-line Windows event) is part of it.
func nextDatagramMessage(data []byte) (msg, rest []byte) {
	for j := 0; ; {
		i := indexByte(data[j:], '\n')
		if i < 0 {
			return data, nil
		}
		k := j + i
		if startsPRI(data[k+1:]) {
			return data[:k], data[k+1:]
		}
		j = k + 1
	}
}

// startsPRI reports whether b starts with a syslog PRI: '<', one to three
// digits, '>'.
func startsPRI(b []byte) bool {
	if len(b) < 3 || b[0] != '<' {
		return false
	}
	for i := 1; i < len(b) && i <= 4; i++ {
		switch c := b[i]; {
		case c == '>':
			return i > 1
		case c < '0' || c > '9':
			return false
		}
	}
	return false
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// Close stops listening at once (used on start-up failure).
func (s *Server) Close() {
	s.closing.Store(true)
	s.stopHandshakes()
	for _, pc := range s.udp {
		_ = pc.Close()
	}
	if s.tcp != nil {
		_ = s.tcp.Close()
	}
	if s.tlsLn != nil {
		_ = s.tlsLn.Close()
	}
}

// Shutdown stops accepting, drains every connection (reads what its sender
// already sent until it ends or stays quiet for 200ms) and every UDP socket
// (the datagrams the kernel holds, until none comes for 50ms, at most 2s),
// each for at most half the time to ctx's deadline (a sender that never
// pauses must leave the queues time), flushes, and waits
// within ctx; past ctx, reading stops and batches still refused are dropped
// and counted (reason shutdown_deadline). Data a sender writes after that is
// refused by the closed connection (RELP-style acknowledgement is the only
// way for syslog to do better). Idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok {
		// Before closing: readers that see it closing see this too.
		s.drainEnd.CompareAndSwap(0, time.Now().Add(time.Until(d)/2).UnixNano())
	}
	if s.closing.Swap(true) {
		return nil
	}
	if s.tcp != nil {
		_ = s.tcp.Close()
	}
	if s.tlsLn != nil {
		_ = s.tlsLn.Close()
	}
	s.stopHandshakes()
	s.mu.Lock()
	for c := range s.active {
		_ = c.SetReadDeadline(time.Now()) // wake the reader: it flushes and returns
	}
	s.mu.Unlock()
	for _, pc := range s.udp {
		_ = pc.SetReadDeadline(time.Now()) // the same for the UDP readers
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		s.hardStop.Store(true)
		s.cancel()
		s.mu.Lock()
		for c := range s.active {
			_ = c.SetReadDeadline(time.Now())
		}
		s.mu.Unlock()
		// Woken, not closed: each UDP reader sees hardStop and closes its
		// socket itself after counting what the kernel still holds
		// (closeUDP), which a socket closed under it would lose uncounted.
		for _, pc := range s.udp {
			_ = pc.SetReadDeadline(time.Now())
		}
		<-done
		err = fmt.Errorf("syslog input: connections still delivering at the shutdown deadline: %w", ctx.Err())
	}
	s.cancel()
	for _, pc := range s.udp {
		_ = pc.Close()
	}
	return err
}

// Replayer turns frames this input quarantined back into events as the
// input would have made them (a replay: "router quarantine replay"): parsed
// as syslog, app_source_types and source_type applied. One per replay
// request; not safe for concurrent use.
type Replayer struct {
	s      *Server
	mp     route.SyslogParser
	sender []byte
}

// NewReplayer returns a Replayer for this input's records.
func (s *Server) NewReplayer() *Replayer {
	return &Replayer{s: s, mp: route.SyslogParser{Parser: parse.New(parse.Options{Location: s.loc, KeepOriginal: s.cfg.KeepOriginal})}}
}

// Sender, when set, is the address of the device that sent the frames
// (their quarantine record's peer): a frame without HOSTNAME has it in its
// content hash, as stream.add gives it, so that two devices' identical
// messages replayed together stay two events. Unset, b.Meta.Peer.
func (r *Replayer) SetSender(sender string) { r.sender = []byte(sender) }

// Add adds frame's event to b with w, as stream.add does for a frame
// that arrives whole.
func (r *Replayer) Add(w *route.Worker, b *pipeline.Batch, frame []byte) error {
	em := normalize.EventMeta{DefaultSourceType: []byte(r.s.cfg.SourceType), KeepOwnLogrouter: true}
	v, res, err := r.mp.Parse(frame, &em)
	defer r.mp.Done()
	if err != nil {
		return err
	}
	if ast, ok := r.s.appST[string(res.App)]; ok {
		em.SourceType = ast
	}
	if len(res.Hostname) == 0 {
		em.Sender = r.sender // as stream.add
		if len(em.Sender) == 0 {
			em.Sender = []byte(b.Meta.Peer)
		}
	}
	return w.AddAll(b, v, nil, &em)
}
