package siem

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/backoff"
	"github.com/logrouter/logrouter/internal/tlsconf"
	"github.com/logrouter/logrouter/pipeline"
)

// writeAttempts bounds the connections one Write tries before it returns a
// retryable error (the queue then backs off).
const writeAttempts = 3

// Syslog is a syslog destination over TCP or TLS. It implements
// pipeline.Sink; concurrent Writes share one connection, one batch at a
// time.
type Syslog struct {
	name   string
	cfg    SyslogConfig
	enc    *syslogEncoder
	log    *slog.Logger
	m      *destMetrics
	now    func() time.Time
	tls    *tlsconf.Client // transport: tls (nil: tcp)
	dialer net.Dialer

	// mu is a one-slot semaphore (so that waiting for it honors ctx); it
	// guards everything below.
	mu          chan struct{}
	conn        *sconn
	window      []*frameBuf // batches written on conn recently, oldest first
	windowBytes int
	replay      bool // the window must be resent on the next connection
	backoff     time.Duration
	nextDial    time.Time
	lastBreak   time.Time // when a connection last broke (dropConn)

	warn      rateLimit
	closed    atomic.Bool
	closeOnce sync.Once
	life      context.Context
	stop      context.CancelFunc
	repairing atomic.Bool    // a repair goroutine is running
	repairs   sync.WaitGroup // repair goroutines, waited for by Close
}

var _ pipeline.Sink = (*Syslog)(nil)

// sconn is a connection and the goroutine that watches it: receivers send
// nothing, so a Read that returns means the receiver closed or reset it.
type sconn struct {
	c        net.Conn
	brokenAt atomic.Int64 // unix ns, 0 while healthy
	done     chan struct{}
	onBreak  func() // called once the break is recorded
	readErr  error  // what ended watch (read after done)
	// lastWrite is when a write on the connection last completed (unix
	// ns): a clean close that soon after it may be a receiver that closed
	// before it read the write (see dropConn).
	lastWrite atomic.Int64
}

// cleanCloseAfter is how long after the last write a receiver's clean
// close (EOF) shows it read everything: a load balancer without a backend
// closes at once, before it reads (its kernel then resets the rest).
const cleanCloseAfter = 100 * time.Millisecond

func (sc *sconn) watch() {
	defer close(sc.done)
	var buf [512]byte
	for {
		if _, err := sc.c.Read(buf[:]); err != nil {
			sc.readErr = err
			if sc.brokenAt.CompareAndSwap(0, time.Now().UnixNano()) && sc.onBreak != nil {
				sc.onBreak()
			}
			return
		}
	}
}

// newConn wraps c and starts its watcher, which starts a repair (see
// repair) when the receiver breaks the connection.
func (s *Syslog) newConn(c net.Conn) *sconn {
	sc := &sconn{c: c, done: make(chan struct{}), onBreak: s.startRepair}
	go sc.watch()
	return sc
}

// startRepair starts a repair goroutine unless one is running or the
// destination is closed.
func (s *Syslog) startRepair() {
	if s.closed.Load() || !s.repairing.CompareAndSwap(false, true) {
		return
	}
	s.repairs.Add(1)
	go s.repair()
}

// repair reconnects and resends the replay window after the receiver broke
// the connection, without waiting for the next Write: a quiet destination
// (the P1 SIEM at night) must not hold batches it reported delivered until
// an unrelated event comes. It retries with the reconnect backoff until
// the window is resent or empty, a Write repaired the connection first, or
// the destination closes.
func (s *Syslog) repair() {
	defer s.repairs.Done()
	s.repairLoop()
	s.repairing.Store(false)
	// A break seen while the flag was still set (a receiver that accepts
	// and closes at once while it restarts) started no repair: look again.
	select {
	case s.mu <- struct{}{}:
	case <-s.life.Done():
		return
	}
	again := !s.closed.Load() && s.conn != nil && s.conn.brokenAt.Load() != 0
	<-s.mu
	if again {
		s.startRepair()
	}
}

func (s *Syslog) repairLoop() {
	for {
		select {
		case s.mu <- struct{}{}:
		case <-s.life.Done():
			return
		}
		if s.closed.Load() {
			<-s.mu
			return
		}
		err := s.repairLocked(s.life)
		wait := time.Until(s.nextDial)
		<-s.mu
		if err == nil {
			return
		}
		if wait > 0 && !backoff.Sleep(s.life, wait) {
			return
		}
	}
}

// errRepairWait: the reconnect backoff has not passed yet.
var errRepairWait = errors.New("waiting out the reconnect backoff")

// repairLocked (s.mu held) drops a broken connection and, when batches wait
// for replay, connects once (not before the backoff has passed:
// errRepairWait) and resends them. Nil means nothing waits for replay.
func (s *Syslog) repairLocked(ctx context.Context) error {
	if s.conn != nil && s.conn.brokenAt.Load() != 0 {
		s.dropConn(errReceiverClosed)
	}
	if s.conn != nil || !s.replay || len(s.window) == 0 {
		return nil
	}
	if time.Until(s.nextDial) > 0 {
		return errRepairWait
	}
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	s.conn = s.newConn(c)
	if err := s.replayWindow(ctx); err != nil {
		s.m.requests[outNetwork].Inc()
		s.dropConn(err)
		return err
	}
	s.settled()
	return nil
}

// unsettled reports whether a connection broke within replay_age: the
// receiver may break the next one too (it accepts and resets while it
// restarts, a load balancer has no backend, a TLS 1.3 server refuses the
// client's certificate after the client's handshake completed), so
// nothing written since is known to have been read.
func (s *Syslog) unsettled() bool {
	return !s.lastBreak.IsZero() && time.Since(s.lastBreak) < s.cfg.ReplayAge
}

// settled resets the reconnect backoff after a successful write, once no
// connection broke within replay_age (so that a receiver that breaks every
// connection is not dialled every reconnect_backoff_min).
func (s *Syslog) settled() {
	if !s.unsettled() {
		s.backoff = 0
	}
}

// errReceiverClosed: the watcher saw the receiver end the connection.
var errReceiverClosed = errors.New("the receiver closed the connection")

// errUnsettled: Write refused a batch that the replay window could not
// keep while the receiver is unsettled.
var errUnsettled = errors.New("the receiver broke a connection within replay_age and the replay window (replay_bytes) is full: the batch waits in the queue until a connection lasts replay_age")

// frameBuf is a batch rendered as framed messages.
type frameBuf struct {
	buf     []byte
	events  int   // messages in buf
	perm    []int // indices of events refused as too large (not in buf)
	at      time.Time
	scratch []byte
}

var frameBufPool = sync.Pool{New: func() any { return new(frameBuf) }}

func releaseFrameBuf(f *frameBuf) {
	if cap(f.buf) > maxPooledBuf {
		f.buf = nil
	}
	frameBufPool.Put(f)
}

var syslogParsers fastjson.ParserPool

// NewSyslog validates cfg, reads the TLS files and returns the
// destination. It connects at the first Write.
func NewSyslog(name string, cfg SyslogConfig, opts ...Option) (*Syslog, error) {
	if name == "" {
		return nil, errors.New("syslog: destination name must not be empty")
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.SetDefaults()
	o := buildOptions(name, opts)
	s := &Syslog{
		name: name, cfg: cfg,
		enc:    newSyslogEncoder(&cfg),
		log:    o.log.With("destination", name, "type", TypeSyslog),
		m:      o.metrics.forDestination(name),
		now:    o.now,
		dialer: net.Dialer{KeepAlive: 30 * time.Second},
		mu:     make(chan struct{}, 1),
		warn:   rateLimit{every: 10 * time.Second},
	}
	if cfg.Transport == "tls" {
		t := cfg.TLS
		if t == nil {
			t = &TLSConfig{} // the system roots, verified against the address's host
		}
		tc, err := t.build(o.log)
		if err != nil {
			return nil, err
		}
		s.tls = tc
	}
	if cfg.MaxMessageBytes == 0 {
		// Receivers cut what is longer than their own limit (rsyslog's
		// default is 8 KiB; RFC 5424 asks only for 2048 octets) and keep
		// the pieces as separate records, broken JSON or CEF, which this
		// sink cannot see: counted delivered.
		s.log.Warn("syslog destination without max_message_bytes: events longer than the receiver's own limit are split by it into broken records; set max_message_bytes to that limit (rsyslog's default 8192, syslog-ng's 65536) so that such events are quarantined whole instead", "address", cfg.Address)
	}
	s.life, s.stop = context.WithCancel(context.Background())
	return s, nil
}

// Name returns the destination name.
func (s *Syslog) Name() string { return s.name }

func (s *Syslog) encode(b *pipeline.Batch) *frameBuf {
	f := frameBufPool.Get().(*frameBuf)
	f.buf, f.events, f.perm = f.buf[:0], 0, f.perm[:0]
	if need := b.Bytes() + len(b.Events)*160; cap(f.buf) < need {
		f.buf = make([]byte, 0, need)
	}
	p := syslogParsers.Get()
	for i := range b.Events {
		var ok bool
		if f.buf, ok = s.enc.appendFrame(f.buf, &b.Events[i], p, &f.scratch); ok {
			f.events++
		} else {
			f.perm = append(f.perm, i)
		}
	}
	syslogParsers.Put(p)
	return f
}

// Write frames every event of b and writes the batch with one write to the
// connection (reconnecting, replaying and resending as the package
// documentation says). Nil means every message was written to the socket
// (with confirm_with_close: read by the receiver). Events larger than
// max_message_bytes fail permanently (a *pipeline.BatchError); any other
// failure is retryable. Write does not retain b. After Close it returns
// pipeline.ErrClosed.
func (s *Syslog) Write(ctx context.Context, b *pipeline.Batch) error {
	if s.closed.Load() {
		return pipeline.ErrClosed
	}
	if b == nil || len(b.Events) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	f := s.encode(b)
	var perm []int // f is given away below: copy what is needed after
	if len(f.perm) > 0 {
		perm = append(perm, f.perm...)
	}
	var err error
	if f.events > 0 {
		err = s.writeBatch(ctx, f) // f belongs to the replay window now, or was released
		if err != nil {
			s.m.retryable.Add(float64(len(b.Events) - len(perm)))
		}
	} else {
		releaseFrameBuf(f)
	}
	s.m.permanent.Add(float64(len(perm)))
	if err == nil {
		delivered := len(b.Events) - len(perm)
		s.m.delivered.Add(float64(delivered))
		now := s.now().UnixNano()
		if len(perm) == 0 {
			s.m.observeAges(b.Events, now)
		} else {
			j := 0
			for i := range b.Events {
				if j < len(perm) && perm[j] == i {
					j++
					continue
				}
				s.m.observeAges(b.Events[i:i+1], now)
			}
		}
	}
	if len(perm) == 0 {
		return err
	}
	items := make([]pipeline.ItemError, 0, len(b.Events))
	permErr := pipeline.Permanentf("syslog %s: the message is larger than max_message_bytes (%d)", s.name, s.cfg.MaxMessageBytes)
	j := 0
	for i := range b.Events {
		switch {
		case j < len(perm) && perm[j] == i:
			items = append(items, pipeline.ItemError{Index: i, Err: permErr})
			j++
		case err != nil:
			items = append(items, pipeline.ItemError{Index: i, Err: err})
		}
	}
	return &pipeline.BatchError{Items: items}
}

// writeBatch writes f, taking ownership of it.
func (s *Syslog) writeBatch(ctx context.Context, f *frameBuf) error {
	select {
	case s.mu <- struct{}{}:
	case <-ctx.Done():
		releaseFrameBuf(f)
		return ctx.Err()
	case <-s.life.Done():
		releaseFrameBuf(f)
		return pipeline.ErrClosed
	}
	defer func() { <-s.mu }()
	if s.closed.Load() {
		releaseFrameBuf(f)
		return pipeline.ErrClosed
	}
	ctx, cancel := mergeCtx(ctx, s.life)
	defer cancel()
	start := time.Now()
	var err error
	if s.cfg.ConfirmWithClose {
		err = s.writeConfirmed(ctx, f)
		releaseFrameBuf(f)
	} else {
		err = s.writePersistent(ctx, f)
	}
	s.m.reqSeconds.Observe(time.Since(start).Seconds())
	return err
}

func (s *Syslog) writePersistent(ctx context.Context, f *frameBuf) error {
	// While the receiver is unsettled, the window is the only copy of
	// what was written since (the queue deleted it as delivered): it is
	// not trimmed to replay_bytes then (see remember), and a batch that
	// would take it past replay_bytes is refused, retryably, before it is
	// written. Otherwise an outage that shows up as broken connections
	// would lose all but the last replay_bytes.
	if s.cfg.ReplayBytes >= 0 && len(s.window) > 0 && s.windowBytes+len(f.buf) > s.cfg.ReplayBytes && s.unsettled() {
		releaseFrameBuf(f)
		s.m.requests[outNetwork].Inc()
		if ok, suppressed := s.warn.allow(); ok {
			s.log.Warn("syslog receiver keeps breaking connections; holding new events in the queue until the recent ones are resent and a connection lasts replay_age",
				"address", s.cfg.Address, "replay_batches", len(s.window), "replay_bytes", s.windowBytes, "suppressed", suppressed)
		}
		return fmt.Errorf("syslog %s: %w", s.name, errUnsettled)
	}
	var lastErr error
	for attempt := 0; attempt < writeAttempts; attempt++ {
		if ctx.Err() != nil {
			break
		}
		if s.conn != nil && s.conn.brokenAt.Load() != 0 {
			s.dropConn(errReceiverClosed)
		}
		if s.conn == nil {
			c, err := s.dial(ctx)
			if err != nil {
				lastErr = err
				continue
			}
			s.conn = s.newConn(c)
			if err := s.replayWindow(ctx); err != nil {
				s.m.requests[outNetwork].Inc()
				s.dropConn(err)
				lastErr = err
				continue
			}
		}
		n, err := s.writeConn(ctx, s.conn.c, f.buf)
		if err == nil {
			s.conn.lastWrite.Store(time.Now().UnixNano())
			s.m.requests[outOK].Inc()
			s.settled()
			s.remember(f)
			return nil
		}
		s.m.requests[outNetwork].Inc()
		if n > 0 {
			s.m.resentBroken.Add(float64(f.events)) // the receiver may have a part; all of it is sent again
		}
		s.dropConn(err)
		lastErr = err
	}
	releaseFrameBuf(f)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("syslog %s: %w", s.name, lastErr)
}

// dial connects, after the backoff since the last failure.
func (s *Syslog) dial(ctx context.Context) (net.Conn, error) {
	if wait := time.Until(s.nextDial); wait > 0 && !backoff.Sleep(ctx, wait) {
		return nil, ctx.Err()
	}
	dctx, cancel := context.WithTimeout(ctx, s.cfg.DialTimeout)
	defer cancel()
	var c net.Conn
	var err error
	if s.tls != nil {
		c, err = s.tls.Dial(dctx, s.dialer.DialContext, "tcp", s.cfg.Address)
	} else {
		c, err = s.dialer.DialContext(dctx, "tcp", s.cfg.Address)
	}
	if err != nil {
		s.m.requests[outDialError].Inc()
		s.failed()
		if ok, suppressed := s.warn.allow(); ok {
			s.log.Warn("syslog receiver unreachable; events stay queued and are retried", "address", s.cfg.Address, "err", err, "suppressed", suppressed)
		}
		return nil, fmt.Errorf("connect %s: %w", s.cfg.Address, err)
	}
	return c, nil
}

// failed grows the reconnect backoff.
func (s *Syslog) failed() {
	switch {
	case s.backoff == 0:
		s.backoff = s.cfg.ReconnectBackoffMin
	default:
		s.backoff = min(2*s.backoff, s.cfg.ReconnectBackoffMax)
	}
	s.nextDial = time.Now().Add(backoff.Jitter(s.backoff))
}

// writeConn writes buf with the write timeout, aborted when ctx ends.
func (s *Syslog) writeConn(ctx context.Context, c net.Conn, buf []byte) (int, error) {
	deadline := time.Now().Add(s.cfg.WriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.SetWriteDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.SetWriteDeadline(time.Unix(1, 0)) })
	n, err := c.Write(buf)
	stop()
	if err != nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	return n, err
}

// dropConn closes the connection after a failure and marks the recent
// batches for replay.
func (s *Syslog) dropConn(cause error) {
	sc := s.conn
	s.conn = nil
	// Before Close: what the receiver's TCP never acknowledged (Linux
	// still counts it after a reset).
	unsent := unsentBytes(sc.c)
	_ = sc.c.Close()
	<-sc.done
	brokenAt := time.Unix(0, sc.brokenAt.Load())
	// A receiver that closes a connection with data unread resets it (TCP
	// sends RST then); one that closes it cleanly (EOF: an idle timeout,
	// TLS close_notify) cleanCloseAfter or more after the last write had
	// read everything: only the former unsettles the destination (see
	// unsettled), or a receiver with an idle timeout shorter than
	// replay_age would keep it unsettled for ever.
	clean := errors.Is(cause, errReceiverClosed) && errors.Is(sc.readErr, io.EOF) &&
		brokenAt.Sub(time.Unix(0, sc.lastWrite.Load())) >= cleanCloseAfter
	if !clean {
		s.lastBreak = time.Now()
	}
	s.m.reconnects.Inc()
	s.failed()
	// Keep what was written within replay_age before the break. When the
	// connection that broke was still replaying the window (the receiver
	// accepts and resets while it restarts, or a load balancer has no
	// backend), none of the window is known to have reached a receiver that
	// lasted: keep all of it (remember bounds it by replay_bytes), or an
	// outage that shows up as resets would lose what one that shows up as
	// refused connections keeps.
	cut := brokenAt.Add(-s.cfg.ReplayAge)
	if s.replay {
		cut = time.Time{}
	}
	// And what the receiver's TCP never acknowledged, whatever its age
	// (remember kept it): it never reached the receiver.
	keepFrom := s.unsentFrom(unsent)
	i := 0
	for i < len(s.window) && i < keepFrom && s.window[i].at.Before(cut) {
		s.windowBytes -= len(s.window[i].buf)
		releaseFrameBuf(s.window[i])
		s.window[i] = nil
		i++
	}
	s.window = s.window[i:]
	s.replay = len(s.window) > 0
	if ok, suppressed := s.warn.allow(); ok {
		s.log.Warn("syslog connection broken; reconnecting and resending recent batches (possible duplicates, counted)",
			"address", s.cfg.Address, "err", cause, "replay_batches", len(s.window), "suppressed", suppressed)
	}
}

// replayWindow resends the batches kept from the broken connection.
func (s *Syslog) replayWindow(ctx context.Context) error {
	if !s.replay {
		return nil
	}
	for _, f := range s.window {
		if n, err := s.writeConn(ctx, s.conn.c, f.buf); err != nil {
			if n > 0 { // the receiver may have a part, and gets all of it again on the next connection
				s.m.resentRepl.Add(float64(f.events))
			}
			return err
		}
		s.m.resentRepl.Add(float64(f.events))
		f.at = time.Now()
		s.conn.lastWrite.Store(f.at.UnixNano())
	}
	s.replay = false
	return nil
}

// remember keeps f for replay (or releases it when replay is off).
func (s *Syslog) remember(f *frameBuf) {
	if s.cfg.ReplayBytes < 0 {
		releaseFrameBuf(f)
		return
	}
	now := time.Now()
	f.at = now
	s.window = append(s.window, f)
	s.windowBytes += len(f.buf)
	cut := now.Add(-s.cfg.ReplayAge)
	// Batches the receiver's TCP has not acknowledged are kept whatever
	// their age: a receiver that stopped reading (hung under load) leaves
	// them in this host's send queue, every write succeeding until it is
	// full, and dropped by age they were lost at the break though never
	// sent.
	keep := s.unsentFrom(unsentBytes(s.conn.c))
	overBytes := !s.unsettled() // unsettled: writePersistent bounds the window
	for len(s.window) > 1 && ((overBytes && s.windowBytes > s.cfg.ReplayBytes) || (s.window[0].at.Before(cut) && keep > 0)) {
		keep--
		s.windowBytes -= len(s.window[0].buf)
		releaseFrameBuf(s.window[0])
		s.window[0] = nil
		s.window = s.window[1:]
	}
}

// unsentFrom returns the index in the window of the first batch that the
// last unsent bytes written reach into (len(window) when unsent <= 0: all
// were acknowledged; 0 when unknown, -1, is not assumed: replay_age
// decides then, as before such counts were read).
func (s *Syslog) unsentFrom(unsent int) int {
	if unsent <= 0 {
		return len(s.window)
	}
	for j, acc := len(s.window)-1, 0; j >= 0; j-- {
		if acc += len(s.window[j].buf); acc >= unsent {
			return j
		}
	}
	return 0
}

// writeConfirmed writes f on a connection of its own, half-closes it and
// waits for the receiver to close its side.
func (s *Syslog) writeConfirmed(ctx context.Context, f *frameBuf) error {
	var lastErr error
	for attempt := 0; attempt < writeAttempts && ctx.Err() == nil; attempt++ {
		c, err := s.dial(ctx)
		if err != nil {
			lastErr = err
			continue
		}
		n, err := s.writeConn(ctx, c, f.buf)
		if err == nil {
			err = s.awaitClose(ctx, c)
		}
		_ = c.Close()
		if err == nil {
			s.m.requests[outOK].Inc()
			s.backoff = 0
			return nil
		}
		s.m.requests[outNetwork].Inc()
		if n > 0 {
			s.m.resentBroken.Add(float64(f.events))
		}
		s.failed()
		lastErr = err
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("syslog %s: %w", s.name, lastErr)
}

func (s *Syslog) awaitClose(ctx context.Context, c net.Conn) error {
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.CloseWrite(); err != nil {
			return err
		}
		c = tc.NetConn()
		_ = c.(interface{ CloseWrite() error }).CloseWrite()
		c = tc // read through TLS
	} else if cw, ok := c.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(s.cfg.WriteTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.SetReadDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { _ = c.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	_, err := io.Copy(io.Discard, c)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil // closed without close_notify: still closed after reading
	}
	if tc, ok := c.(*tls.Conn); ok && err == nil {
		// close_notify says the receiver stopped writing, not that it read
		// everything: one that closes with our data unread sends
		// close_notify and then a TCP reset. Only a clean end of the TCP
		// stream under TLS confirms. (The deadline set on c is the
		// connection's under it.)
		_, err = io.Copy(io.Discard, tc.NetConn())
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return fmt.Errorf("waiting for the receiver to close (confirm_with_close): %w", err)
	}
	return nil
}

// Close closes the connection (waiting for a Write in flight, bounded by
// ctx) and releases the replay window. A window that waits for replay (the
// receiver broke the connection within replay_age of batches reported
// delivered) is resent first, with up to writeAttempts connections within
// ctx; what could not be is logged as lost. Idempotent; Write returns pipeline.ErrClosed afterwards.
func (s *Syslog) Close(ctx context.Context) error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		select {
		case s.mu <- struct{}{}:
		case <-ctx.Done():
			s.stop()
			s.mu <- struct{}{}
		}
		for attempts := 0; attempts < writeAttempts && ctx.Err() == nil; {
			err := s.repairLocked(ctx)
			if err == nil {
				break
			}
			if err != errRepairWait {
				attempts++ // a connection tried, not the backoff waited out
			}
			if wait := time.Until(s.nextDial); wait > 0 && !backoff.Sleep(ctx, wait) {
				break
			}
		}
		if s.replay && len(s.window) > 0 {
			events := 0
			for _, f := range s.window {
				events += f.events
			}
			s.log.Error("syslog destination closed before it could resend the batches the receiver may have lost when it broke the connection; they were reported delivered",
				"address", s.cfg.Address, "batches", len(s.window), "events", events)
		}
		s.stop()
		if s.conn != nil {
			_ = s.conn.c.Close()
			<-s.conn.done
			s.conn = nil
		}
		for _, f := range s.window {
			releaseFrameBuf(f)
		}
		s.window, s.windowBytes = nil, 0
		<-s.mu
		s.repairs.Wait()
	})
	return nil
}
