// Package queue puts a durable queue in front of every destination, so that
// an acknowledgement means "fsynced" and one slow or dead destination never
// delays another.
//
// Invariants:
//
//  1. Write returns nil only once every event of the view is appended to the
//     destination's write-ahead log and, under fsync "always", fsynced (group
//     commit: concurrent writers share one fsync). Events dropped by an
//     explicit on_full policy are the exception, and they are counted.
//  2. Each priority has its own log (Dir/<destination>/p1, p2, p3) and its
//     own cursor, the position of the first record not yet confirmed by the
//     destination. The forwarder reads batches in log order and keeps up to
//     max_in_flight deliveries going at once; each free slot goes to P1
//     first, then P2, then P3. No new delivery starts while one is backing
//     off after a failure, so a destination that is down is retried by the
//     (at most max_in_flight) deliveries already under way, each with its
//     own backoff, not by the whole queue.
//  3. A record is removed from the queue only after the destination
//     confirmed every event of it or each failed one went to the
//     destination's quarantine. Failures are retried with jittered
//     exponential backoff for as long as it takes; a retry is never a drop.
//     Deliveries may finish out of order; the cursor only moves over a
//     prefix of the log whose deliveries all finished.
//  4. The cursor is persisted (atomic rename) at least every 200ms of activity and at
//     close; segments wholly before a persisted cursor are deleted. After a
//     crash, delivery resumes from the last persisted cursor: at-least-once,
//     duplicates bounded by 200ms of deliveries plus those confirmed behind
//     a delivery still in flight (the event Hash lets destinations make them
//     idempotent).
//  5. On start, everything after the cursors is counted (recovered); damaged
//     records are skipped and counted exactly as lost (so is a record that
//     was whole at start and is found damaged later), and the queue reports
//     itself degraded; start-up never fails because of damaged data. A
//     cursor past the end of its log, or in a segment removed by hand, is
//     moved to the end (the oldest segment left) and saved at once.
package queue

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/backoff"
	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// cursorInterval bounds how often a cursor is persisted (an fsync and a rename),
// and so the deliveries repeated after a crash.
const cursorInterval = 200 * time.Millisecond

// Queue is a pipeline.Sink that makes a destination durable: Write appends
// to the log, a forwarder goroutine delivers to the destination.
type Queue struct {
	name string
	cfg  Config
	// refusedAt is when the queue last refused a batch for want of room
	// (monoNow; 0: never), for Full.
	refusedAt   atomic.Int64
	refusedNeed atomic.Int64 // what the last refused batch needed
	// volumeFull: the last append was refused with ENOSPC, and no append
	// has succeeded nor segment been deleted since (for Full).
	volumeFull atomic.Bool
	volChecked atomic.Int64 // when Full last asked the volume for room (monoNow)
	fs         wal.FS
	dir        string
	sink       pipeline.Sink
	dlq        pipeline.Quarantine
	log        *slog.Logger

	subs [pipeline.NumPriorities]*sub

	pendingBytes atomic.Int64
	backingOff   atomic.Int32 // deliveries waiting out a retry backoff
	wake         chan struct{}
	closeMu      sync.RWMutex // Write holds it shared; Close exclusively
	closed       bool
	draining     atomic.Bool
	drained      chan struct{} // closed when draining starts: wakes deliveries asleep in a backoff
	cancel       context.CancelFunc
	done         chan struct{}

	mu       sync.Mutex
	degraded []string

	accepted, recovered, delivered, retries prometheus.Counter
	dropped                                 prometheus.Counter
	queuedBytes, degradedG, inFlightG       prometheus.Gauge
	mx                                      *Metrics

	scratch sync.Pool
	holds   sync.Pool // *hold
}

type sub struct {
	p      pipeline.Priority
	log    *wal.Log
	reader *wal.Reader
	cursor wal.Pos // after the last confirmed record
	saved  wal.Pos // last persisted cursor
	skips  *skipSet
	// startDamage holds where the damaged regions found at start begin:
	// counted then, and skipped without counting again. Damage found later
	// (a record valid at start and damaged since, or one appended since)
	// is counted when the forwarder meets it.
	startDamage map[wal.Pos]bool
	// startUndecodable holds the records an earlier start of a release
	// that cannot decode them counted lost (skipUndecodable) and that this
	// one cannot decode either: left out of what waits at start, and
	// passed by the forwarder without counting again.
	startUndecodable map[wal.Pos]bool
	// undec holds the records fill found undecodable since the last
	// saveCursors, which records them in the skip file (one write for
	// all) and only then counts them lost: counted before the write, a
	// crash in between counted them again at the next start; written one
	// by one, a run of them rewrote the file for each.
	undec      []undecodable
	cursorPath string
	pending    atomic.Int64
	queued     prometheus.Gauge

	// window holds the deliveries read from this log and not yet retired,
	// in log order; window[0] has ticket first. Only the forwarder's
	// goroutine touches it, cursor, first, next, read and lastStart.
	window      []slot
	first, next uint64

	// appended counts the events and payload bytes put in the log (writers
	// add after each append; recovery sets what it found), read those the
	// forwarder has read: their difference tells the forwarder whether a
	// full batch is waiting (batch_wait).
	appendedEvents, appendedBytes atomic.Int64
	readEvents, readBytes         int64
	lastStart                     time.Time // when the last delivery of this log started
}

// slot is one delivery's place in its log: where the cursor goes once it and
// every delivery before it finished.
type slot struct {
	end  wal.Pos
	done bool // its delivery returned...
	ok   bool // ...with every event confirmed or quarantined
}

// flight is one delivery on its way: a batch read from s, with the ticket of
// its slot. The forwarder owns max_in_flight of them.
type flight struct {
	b      *pipeline.Batch
	s      *sub
	ticket uint64
	bytes  int64 // payload bytes of its records
	booked int64 // events booked delivered or quarantined (set by the delivery goroutine)
	ok     bool  // set by the delivery goroutine before it hands f back
}

// Open opens (or creates) the queue of destination name and starts
// delivering to sink. dlq receives events the destination refuses
// permanently. Damaged data is reported by Degraded, never as an error.
func Open(name string, cfg Config, sink pipeline.Sink, dlq pipeline.Quarantine, m *Metrics, log *slog.Logger) (*Queue, error) {
	var fs wal.FS = wal.OS
	if cfg.Mode == "memory" {
		fs = wal.NewVolatileFS()
	}
	return open(name, cfg, fs, sink, dlq, m, log)
}

// open is Open on a given file system (tests use wal.MemFS and wal.ErrorFS).
func open(name string, cfg Config, fs wal.FS, sink pipeline.Sink, dlq pipeline.Quarantine, m *Metrics, log *slog.Logger) (*Queue, error) {
	cfg.SetDefaults()
	if err := cfg.Validate("queue"); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	if mfs, ok := fs.(*wal.MemFS); ok {
		// In memory a segment's buffer is what the queue holds: sized to
		// the segment, not doubled past it.
		mfs.SetFileCapHint(cfg.SegmentBytes)
	}
	q := &Queue{
		name: name, cfg: cfg, sink: sink, dlq: dlq, log: log.With("destination", name),
		dir:  filepath.Join(cfg.Dir, name),
		wake: make(chan struct{}, 1), done: make(chan struct{}), drained: make(chan struct{}), mx: m,
		accepted:    m.Accepted.WithLabelValues(name),
		recovered:   m.Recovered.WithLabelValues(name),
		delivered:   m.Delivered.WithLabelValues(name),
		retries:     m.Retries.WithLabelValues(name),
		dropped:     m.Dropped.WithLabelValues(name, "queue_full"),
		queuedBytes: m.QueuedBytes.WithLabelValues(name),
		degradedG:   m.Degraded.WithLabelValues(name),
		inFlightG:   m.InFlight.WithLabelValues(name),
	}
	m.MaxBytes.WithLabelValues(name).Set(float64(cfg.MaxBytes))
	// The series alerts read with increase() exist at 0 from the start:
	// created by their first event, already holding its count, they showed
	// no increase (Prometheus takes no absent series for 0), and the first
	// quarantine or loss after each start went unalerted.
	m.Quarantined.WithLabelValues(name, "destination_rejected")
	for _, reason := range []string{"corrupt_record", "undecodable_record", "memory_queue_shutdown"} {
		m.Lost.WithLabelValues(name, reason)
	}
	q.scratch.New = func() any { return new(writeScratch) }
	q.holds.New = func() any { return new(hold) }
	q.fs = fs
	if err := wal.EnsureDir(q.fs, q.dir); err != nil { // the new entries fsynced, not only made
		return nil, fmt.Errorf("queue %s: create %s: %w", name, q.dir, err)
	}
	opts := wal.Options{SegmentBytes: cfg.SegmentBytes, Sync: wal.SyncAlways}
	if cfg.Fsync == "interval" {
		opts.Sync, opts.SyncInterval = wal.SyncInterval, cfg.FsyncInterval
	}
	for _, p := range pipeline.Priorities {
		s, err := q.openSub(p, opts)
		if err != nil {
			q.closeLogs()
			return nil, err
		}
		q.subs[p] = s
	}
	q.queuedBytes.Set(float64(q.pendingBytes.Load()))
	ctx, cancel := context.WithCancel(context.Background())
	q.cancel = cancel
	go q.run(ctx)
	return q, nil
}

func (q *Queue) openSub(p pipeline.Priority, opts wal.Options) (*sub, error) {
	dir := filepath.Join(q.dir, lower(p))
	l, rec, err := wal.Open(q.fs, dir, opts)
	if err != nil {
		return nil, fmt.Errorf("queue %s: open %s: %w", q.name, dir, err)
	}
	s := &sub{p: p, log: l, cursorPath: dir + ".cursor", queued: q.mx.Queued.WithLabelValues(q.name, p.String())}
	for _, d := range rec.Details {
		q.log.Warn("queue recovery", "priority", p.String(), "detail", d)
	}
	cur, err := loadCursor(q.fs, s.cursorPath)
	if err != nil {
		q.markDegraded(fmt.Sprintf("%s cursor unreadable (%v): redelivering %s from the start of its log", p, err, p))
	}
	moved := false
	if end := l.End(); end.Less(cur) {
		// Under fsync "interval" a cursor can be persisted past records a
		// power loss then took (they were delivered: it moved over them);
		// or the segments were removed by hand. Everything before the end
		// was delivered, and new records go after it: start there, or
		// they would lie before the cursor and never be delivered.
		q.markDegraded(fmt.Sprintf("%s cursor %d:%d is past the end of its log (%d:%d), which lost its tail (power loss under fsync interval?) or segments; starting at the end",
			p, cur.Seg, cur.Off, end.Seg, end.Off))
		cur, moved = end, true
	}
	// Records withdrawn by a failed Write before the restart stay withdrawn;
	// damage counted lost by an earlier start is not counted again.
	sk, err := loadSkips(q.fs, dir+".skip", cur, l)
	if err != nil {
		q.markDegraded(fmt.Sprintf("%s skip file unreadable (%v): records withdrawn before the restart may be delivered (at least once), damage counted again", p, err))
		sk = &skipSet{path: dir + ".skip", m: map[wal.Pos]skipEntry{}}
	}
	s.skips = sk
	for at, en := range sk.m {
		if en.kind == skipWithdrawn {
			l.Skip(at)
		}
	}
	// Count what waits after the cursor; damaged records are lost exactly.
	// Damaged events count as recovered and then lost, so the ledger of
	// this process balances: accepted + recovered = ... + lost + queued.
	var events, damaged, bytes int64
	s.startDamage = map[wal.Pos]bool{}
	s.startUndecodable = map[wal.Pos]bool{}
	r := l.NewReader(cur)
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var ce *wal.CorruptError
		if errors.As(err, &ce) {
			s.startDamage[ce.At] = true
			dmg := skipEntry{kind: skipDamaged, check: uint64(ce.Bytes)}
			if sk.get(ce.At) == dmg {
				continue // counted by an earlier start
			}
			if ce.Unsynced {
				// An unfinished write a power loss kept part of (past the
				// log's durable mark): never acknowledged, not lost.
				// Recorded as counted: the next start's mark is past it.
				q.log.Info("queue skipped an unfinished write damaged by a power loss (never acknowledged)", "priority", p.String(), "at", ce.At, "bytes", ce.Bytes, "events", ce.Events)
				if err := sk.add(q.fs, ce.At, dmg); err != nil {
					q.log.Warn("queue: cannot record an unfinished write as skipped; the next start counts it lost", "priority", p.String(), "err", err)
				}
				continue
			}
			q.lost(p, ce, "corrupt_record")
			damaged += ce.Events
			if err := sk.add(q.fs, ce.At, dmg); err != nil {
				q.log.Warn("queue: cannot record that damage was counted; the next start counts it again", "priority", p.String(), "err", err)
			}
			continue
		}
		if errors.Is(err, os.ErrNotExist) && events+damaged == 0 {
			// The cursor's segment is gone (deleted by hand to free
			// disk, with later ones left): what it held is unknown;
			// deliver everything that is left.
			q.markDegraded(fmt.Sprintf("%s cursor %d:%d is in a segment that was removed; delivering from the oldest segment left (the events of the removed ones are unknown)",
				p, cur.Seg, cur.Off))
			cur, moved = wal.Pos{}, true
			r = l.NewReader(cur)
			continue
		}
		if err != nil {
			_ = l.Close()
			return nil, fmt.Errorf("queue %s: scan %s: %w", q.name, dir, err)
		}
		if sk.get(rec.At).kind == skipUndecodable && !decodes(rec, p) {
			s.startUndecodable[rec.At] = true // counted lost by an earlier start
			continue
		}
		events += int64(rec.Count)
		bytes += int64(len(rec.Payload))
	}
	missing := false
	if f, err := q.fs.OpenFile(s.cursorPath, os.O_RDONLY, 0); err == nil {
		f.Close()
	} else if errors.Is(err, os.ErrNotExist) {
		// The cursor file exists from the first open on, so that a full
		// volume can still move it (overwriteCursor) and free segments.
		missing, moved = true, true
	}
	if moved {
		// Persist the corrected cursor now: left on disk, the old one would
		// skip, at the next start, every record acknowledged from here on
		// that is not delivered by then.
		err := saveCursor(q.fs, s.cursorPath, cur)
		if err != nil && !missing && errors.Is(err, syscall.ENOSPC) {
			err = overwriteCursor(q.fs, s.cursorPath, cur) // a full volume: in place
		}
		switch {
		case err != nil && missing:
			// No file reads as {0,0}, which skips nothing: the queue can
			// start (a full volume written by a release that created cursor
			// files lazily must still drain); the save is tried again with
			// the next delivery.
			q.log.Warn("queue cursor file not created; it is written with the next delivery", "priority", p.String(), "err", err)
		case err != nil:
			_ = l.Close()
			return nil, fmt.Errorf("queue %s: save the corrected cursor %s: %w", q.name, s.cursorPath, err)
		}
	}
	s.cursor, s.saved = cur, cur
	s.reader = l.NewReader(cur)
	s.pending.Store(events)
	s.appendedEvents.Store(events)
	s.appendedBytes.Store(bytes)
	s.queued.Set(float64(events))
	q.pendingBytes.Add(bytes)
	if events+damaged > 0 {
		q.recovered.Add(float64(events + damaged))
		q.log.Info("queue recovered events waiting for delivery", "priority", p.String(), "events", events, "bytes", bytes)
	}
	if rec.TornTailBytes > 0 {
		q.log.Info("queue cut an unfinished write at the end of its log (never acknowledged)", "priority", p.String(), "bytes", rec.TornTailBytes)
	}
	return s, nil
}

func lower(p pipeline.Priority) string {
	return [...]string{"none", "p1", "p2", "p3"}[p]
}

func (q *Queue) lost(p pipeline.Priority, ce *wal.CorruptError, reason string) {
	q.mx.Lost.WithLabelValues(q.name, reason).Add(float64(ce.Events))
	q.markDegraded(fmt.Sprintf("%s queue: %d damaged records (%d events, %d bytes) skipped at %v: %s",
		p, ce.Records, ce.Events, ce.Bytes, ce.At, ce.Reason))
}

func (q *Queue) markDegraded(msg string) {
	q.mu.Lock()
	q.degraded = append(q.degraded, msg)
	q.mu.Unlock()
	q.degradedG.Set(1)
	q.log.Error("queue degraded", "detail", msg)
}

// Degraded lists the damage found in this queue (empty when healthy).
func (q *Queue) Degraded() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]string(nil), q.degraded...)
}

// Name implements pipeline.Sink.
func (q *Queue) Name() string { return q.name }

// Pending returns the events waiting for delivery.
func (q *Queue) Pending() int64 {
	var n int64
	for _, p := range pipeline.Priorities {
		n += q.subs[p].pending.Load()
	}
	return n
}

type writeScratch struct {
	evs [pipeline.NumPriorities][]pipeline.Event
	buf [pipeline.NumPriorities][]byte
}

// dropsP reports whether the on_full policy drops priority p.
func (q *Queue) dropsP(p pipeline.Priority) bool {
	switch q.cfg.OnFull {
	case "drop_p3":
		return p == pipeline.P3
	case "drop_p2_p3":
		return p == pipeline.P3 || p == pipeline.P2
	}
	return false
}

// fullErr is the error refusing a batch for want of room; it notes the
// refusal for Full.
func (q *Queue) fullErr(need int64) error {
	q.noteRefused(need)
	return fmt.Errorf("%w: destination %q: its queue is full (%d of %d bytes waiting, %d more needed); "+
		"the destination is slower than the input or down: fix it, or raise destinations[].queue.max_bytes",
		pipeline.ErrOverloaded, q.name, q.pendingBytes.Load(), q.cfg.MaxBytes, need)
}

// noteRefused records a refusal for want of room for Full: need more
// bytes than max_bytes leaves, or (need 0) no room on the volume.
func (q *Queue) noteRefused(need int64) {
	q.refusedNeed.Store(need)
	q.refusedAt.Store(monoNow())
}

// monoStart and monoNow read Go's monotonic clock: a refusal's age must
// not follow the wall clock (a step back of an hour, NTP correcting a
// clock that ran fast, kept an empty queue "full" for the hour).
var monoStart = time.Now()

func monoNow() int64 { return int64(time.Since(monoStart)) + 1 }

// Admit implements pipeline.Admitter: it refuses a batch the queue could
// not take, before any destination wrote anything.
func (q *Queue) Admit(b *pipeline.Batch) error {
	var need int64
	var seen [pipeline.NumPriorities]bool
	for i := range b.Events {
		p := b.Events[i].Priority
		if p == pipeline.PriorityNone {
			p = pipeline.P3 // as Write files it
		}
		if !q.dropsP(p) {
			// What Write will reserve for it, exactly (or a byte more):
			// an estimate below it would let a batch through here that
			// Write then refuses, after the other destinations took it.
			need += encodedSize(&b.Events[i])
			if !seen[p] {
				seen[p] = true
				need++ // the record's version byte
			}
		}
	}
	// Nothing that must be kept (P3 only, and dropped when full): Write
	// drops and counts it, even when the queue is over max_bytes.
	if need == 0 {
		return nil
	}
	// Reserve the room now, so that two batches admitted at once cannot
	// both count on it (see pipeline.Admitter); Write takes it.
	if !q.reserve(need) {
		return q.fullErr(need)
	}
	b.SetReserved(need)
	q.queuedBytes.Set(float64(q.pendingBytes.Load()))
	return nil
}

// fullFor is how long after refusing a batch for want of room the queue
// reports itself full (pipeline.FullReporter).
const fullFor = 2 * time.Second

// fullMargin is the room below which a queue that refused nothing yet
// counts as full (Full): less than one small request's batch.
const fullMargin = 64 << 10

// Full implements pipeline.FullReporter: the queue refused a batch for
// want of room (max_bytes, or a full volume: ENOSPC) within the last
// fullFor, or it still has no room for the last batch it refused: under
// max_bytes, or on the volume (no append succeeded and no segment was
// deleted since the ENOSPC). It reports the state, not only the last
// refusal, so that a load balancer that stopped sending does not see it
// healthy again while it is as full as before. A queue that drops instead (on_full drop_p3,
// drop_p2_p3) refuses nothing of what it drops, and is not full for it.
func (q *Queue) Full() bool {
	// As reserveOwn decides: an empty queue takes any batch.
	pending := q.pendingBytes.Load()
	t := q.refusedAt.Load()
	if t == 0 {
		// Nothing refused yet (since the start): a queue that blocks is
		// full when a batch of fullMargin would not fit (one recovered
		// full from disk is full before its first refusal); one that
		// drops refuses nothing of what it drops.
		return !q.dropsP(pipeline.P3) && pending > 0 && pending+fullMargin > q.cfg.MaxBytes
	}
	now := monoNow()
	if time.Duration(now-t) < fullFor {
		return true
	}
	// The volume first: an empty queue takes any batch as far as max_bytes
	// goes, but not on a volume without room (filled by another queue, a
	// log file, by hand), where it refuses every append.
	if q.volumeFull.Load() {
		q.recheckVolume(now)
		if q.volumeFull.Load() {
			return true
		}
	}
	return pending > 0 && pending+q.refusedNeed.Load() > q.cfg.MaxBytes
}

// recheckVolume clears the full-volume state when the volume has room
// again, asked at most once per fullFor: room freed elsewhere (another
// queue on the volume, files deleted by hand, the volume grown) is not
// seen by this queue's own appends, which a load balancer that took the
// replica out never sends.
func (q *Queue) recheckVolume(now int64) {
	sfs, ok := q.fs.(wal.SpaceFS)
	if !ok {
		return
	}
	last := q.volChecked.Load()
	if time.Duration(now-last) < fullFor || !q.volChecked.CompareAndSwap(last, now) {
		return
	}
	if free, err := sfs.FreeBytes(q.dir); err == nil && free >= min(q.cfg.SegmentBytes, volumeRoom) {
		q.noteRoom()
	}
}

// volumeRoom is the free space at which a volume that refused an append
// counts as having room again (or a segment's size, if smaller): a few
// large requests' batches, so that a volume with a little room does not
// flap the replica in and out of its load balancer.
const volumeRoom = 4 << 20

// noteRoom clears the full-volume state: an append succeeded, or segments
// were deleted.
func (q *Queue) noteRoom() {
	if q.volumeFull.Load() {
		q.volumeFull.Store(false)
	}
}

// Unadmit implements pipeline.Admitter: it gives back the room Admit
// reserved for b, which will not be written.
func (q *Queue) Unadmit(b *pipeline.Batch) {
	if n := b.Reserved(); n > 0 {
		b.SetReserved(0)
		q.give(n)
	}
}

// Write implements pipeline.Sink: it appends b's events to the log of their
// priority and returns once they are durable (see the package invariants).
func (q *Queue) Write(ctx context.Context, b *pipeline.Batch) error {
	_, err := q.write(b, false)
	return err
}

// WriteHeld is Write for a batch the caller commits or aborts once its other
// destinations took it or refused it (pipeline.Holder).
func (q *Queue) WriteHeld(ctx context.Context, b *pipeline.Batch) (pipeline.Hold, error) {
	h, err := q.write(b, true)
	if err != nil {
		return nil, err
	}
	return h, nil
}

// hold is a Write's records on hold in their logs (pipeline.Hold), and what
// it accepts and drops once committed.
type hold struct {
	q                 *Queue
	at                [pipeline.NumPriorities]wal.Pos
	payload, count    [pipeline.NumPriorities]int // count 0: no record of that priority
	accepted, dropped int
	held              bool // the records were appended held (else they are visible already)
}

// Commit makes the records deliverable and counts the batch accepted.
func (h *hold) Commit() {
	q := h.q
	if h.held {
		for _, p := range pipeline.Priorities {
			if h.count[p] > 0 {
				q.subs[p].queued.Add(float64(h.count[p]))
				q.subs[p].log.Release(h.at[p])
			}
		}
		q.poke()
	}
	if h.dropped > 0 {
		q.dropped.Add(float64(h.dropped))
	}
	q.accepted.Add(float64(h.accepted))
	q.holds.Put(h)
}

// Abort withdraws the records: nothing is accepted, dropped or delivered.
func (h *hold) Abort() {
	q := h.q
	for _, p := range pipeline.Priorities {
		if h.count[p] > 0 {
			q.withdraw(p, h.at[p], h.payload[p], h.count[p])
		}
	}
	q.poke()
	q.holds.Put(h)
}

// write appends b (see Write). held: the records stay on hold and the
// returned hold (never nil when err is nil) must be committed or aborted;
// otherwise the batch is committed before write returns and the hold is nil.
func (q *Queue) write(b *pipeline.Batch, held bool) (*hold, error) {
	// What Admit reserved for b: this Write takes it, whatever it returns.
	res := b.Reserved()
	b.SetReserved(0)
	q.closeMu.RLock()
	defer q.closeMu.RUnlock()
	if q.closed {
		q.give(res)
		return nil, pipeline.ErrClosed
	}
	sc := q.scratch.Get().(*writeScratch)
	defer q.scratch.Put(sc)
	for _, p := range pipeline.Priorities {
		clear(sc.evs[p])
		sc.evs[p] = sc.evs[p][:0]
	}
	for i := range b.Events {
		p := b.Events[i].Priority
		if p == pipeline.PriorityNone {
			p = pipeline.P3
		}
		sc.evs[p] = append(sc.evs[p], b.Events[i])
	}
	// Each record is encoded after room for the log's record header, so
	// that the log writes it without copying it (wal.AppendRecord);
	// sizes count the payload only.
	var total int64
	for _, p := range pipeline.Priorities {
		sc.buf[p] = sc.buf[p][:0]
		if len(sc.evs[p]) > 0 {
			sc.buf[p] = appendEvents(append(sc.buf[p], headerRoom[:]...), sc.evs[p])
			total += int64(len(sc.buf[p]) - wal.HeaderRoom)
		}
	}
	// Full: drop what the policy allows (lowest priority first), else refuse.
	// The room reserved for b (res) is b's own, not another writer's.
	var droppedEvents int
	if cur := q.pendingBytes.Load() - res; cur > 0 && cur+total > q.cfg.MaxBytes {
		for _, p := range []pipeline.Priority{pipeline.P3, pipeline.P2} {
			if q.pendingBytes.Load()-res+total <= q.cfg.MaxBytes {
				break
			}
			if q.dropsP(p) && len(sc.evs[p]) > 0 {
				total -= int64(len(sc.buf[p]) - wal.HeaderRoom)
				droppedEvents += len(sc.evs[p])
				sc.evs[p] = sc.evs[p][:0]
				sc.buf[p] = sc.buf[p][:0]
			}
		}
	}
	// Reserve the room atomically so concurrent writers never overshoot
	// max_bytes (beyond what Admit reserved); a failed append gives its
	// share back.
	for {
		need := total - res
		if need <= 0 {
			if need < 0 {
				q.give(-need) // Admit's estimate is at most a byte per record over
			}
			break
		}
		if q.reserveOwn(need, res) {
			break
		}
		// Full since the check above (another writer took the room): drop
		// what the policy allows, lowest priority first, and try again. A
		// refusal here, after the batch's other destinations took it,
		// would make the sender's resend duplicate it there.
		dropped := false
		for _, p := range []pipeline.Priority{pipeline.P3, pipeline.P2} {
			if q.dropsP(p) && len(sc.evs[p]) > 0 {
				total -= int64(len(sc.buf[p]) - wal.HeaderRoom)
				droppedEvents += len(sc.evs[p])
				sc.evs[p] = sc.evs[p][:0]
				sc.buf[p] = sc.buf[p][:0]
				dropped = true
				break
			}
		}
		if !dropped {
			q.give(res)
			return nil, q.fullErr(total) // nothing accepted, nothing dropped: the sender retries all
		}
	}
	// Append each priority's record; several priorities in parallel so their
	// fsyncs overlap. A batch is accepted whole or not at all: with records
	// in several logs, each is held (invisible to the forwarder) until every
	// one is durable, then released, or withdrawn if another failed, so
	// that a refused batch, which the sender resends, was never delivered.
	h := q.holds.Get().(*hold)
	*h = hold{q: q, dropped: droppedEvents, accepted: droppedEvents}
	parts := 0
	for _, p := range pipeline.Priorities {
		if len(sc.evs[p]) > 0 {
			h.payload[p] = len(sc.buf[p]) - wal.HeaderRoom
			h.count[p] = len(sc.evs[p])
			h.accepted += h.count[p]
			parts++
		}
	}
	external := held
	held = held || parts > 1
	h.held = held
	var errs [pipeline.NumPriorities]error
	var wg sync.WaitGroup
	for _, p := range pipeline.Priorities {
		if h.count[p] == 0 {
			continue
		}
		if parts == 1 {
			h.at[p], errs[p] = q.append(p, sc.buf[p], h.count[p], held)
			break
		}
		wg.Add(1)
		go func(p pipeline.Priority, held bool) { // held as an argument: captured, it would escape
			defer wg.Done()
			h.at[p], errs[p] = q.append(p, sc.buf[p], h.count[p], held)
		}(p, held)
	}
	wg.Wait()
	var firstErr error
	for _, p := range pipeline.Priorities {
		if errs[p] != nil {
			h.count[p] = 0 // nothing to withdraw: append gave its room back
			if firstErr == nil {
				firstErr = errs[p]
			}
		}
	}
	switch {
	case firstErr != nil:
		// Nothing accepted, nothing dropped: the sender retries the whole
		// batch (what the policy dropped comes again).
		if errors.Is(firstErr, syscall.ENOSPC) {
			// Refused for want of room on the volume, as surely as for
			// max_bytes: Full says so (HEC health 503 code 18, so that a
			// load balancer sends elsewhere).
			q.noteRefused(0)
			q.volumeFull.Store(true)
		}
		if held {
			h.Abort()
		} else {
			q.holds.Put(h)
		}
		return nil, fmt.Errorf("queue %s: %w", q.name, firstErr)
	case external:
		q.noteRoom()
		return h, nil
	}
	q.noteRoom()
	h.Commit()
	return nil, nil
}

// withdraw aborts a held record of a Write that failed (another priority's
// append did) and takes back what append counted for it. The record stays
// in the log until its segment is trimmed, unread; the skip file keeps it
// unread across a restart (a crash before that file is written delivers it:
// at least once).
func (q *Queue) withdraw(p pipeline.Priority, at wal.Pos, payload, count int) {
	s := q.subs[p]
	crc, held := s.log.HeldCRC(at)
	s.log.Abort(at)
	var err error
	if held {
		err = s.skips.add(q.fs, at, skipEntry{kind: skipWithdrawn, check: withdrawnCheck(crc, payload)})
	}
	if err != nil {
		q.log.Warn("queue: cannot record a withdrawn record; a restart before the cursor passes it delivers it (at least once)", "priority", p.String(), "err", err)
	}
	s.pending.Add(-int64(count))
	s.appendedEvents.Add(-int64(count))
	s.appendedBytes.Add(-int64(payload))
	q.give(int64(payload))
}

// poke wakes the forwarder if it waits.
func (q *Queue) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// reserve takes n bytes of the queue's capacity, or reports that it is full.
// An empty queue takes any batch, even one larger than max_bytes: refusing it
// would refuse it forever.
func (q *Queue) reserve(n int64) bool { return q.reserveOwn(n, 0) }

// reserveOwn is reserve for a writer that already holds own bytes of the
// capacity (what Admit reserved for its batch): a queue that holds nothing
// else is empty for it.
func (q *Queue) reserveOwn(n, own int64) bool {
	for {
		cur := q.pendingBytes.Load()
		if cur-own > 0 && cur+n > q.cfg.MaxBytes {
			return false
		}
		if q.pendingBytes.CompareAndSwap(cur, cur+n) {
			return true
		}
	}
}

// give returns n bytes of the capacity (a reservation not used, an append
// that failed) and updates the gauge, which shows pendingBytes.
func (q *Queue) give(n int64) {
	if n != 0 {
		q.pendingBytes.Add(-n)
		q.queuedBytes.Set(float64(q.pendingBytes.Load()))
	}
}

// headerRoom is the room Write leaves before each record's payload.
var headerRoom [wal.HeaderRoom]byte

// append writes one record whose payload size was reserved: rec is
// wal.HeaderRoom bytes of room and the payload; held: the record stays
// invisible to the forwarder until released or withdrawn (wal.AppendHeld).
func (q *Queue) append(p pipeline.Priority, rec []byte, count int, held bool) (wal.Pos, error) {
	s := q.subs[p]
	payload := rec[wal.HeaderRoom:]
	var at wal.Pos
	var err error
	if held {
		at, _, err = s.log.AppendHeld(rec, uint32(count))
	} else {
		at, _, err = s.log.AppendRecord(rec, uint32(count))
	}
	if err != nil {
		q.give(int64(len(payload)))
		return wal.Pos{}, err
	}
	if !held {
		s.queued.Add(float64(count)) // held: once committed, with accepted (the ledger)
	}
	s.pending.Add(int64(count))
	s.appendedEvents.Add(int64(count))
	s.appendedBytes.Add(int64(len(payload)))
	// The gauge shows pendingBytes (reservations of appends under way
	// included), which reserve keeps within max_bytes: adding to it here
	// and setting it elsewhere would count an append twice.
	q.queuedBytes.Set(float64(q.pendingBytes.Load()))
	if !held {
		q.poke()
	}
	return at, nil
}

// run is the forwarder. It reads batches in log order, P1 before P2 before
// P3 for every free slot, hands each to a goroutine that delivers it, and
// retires finished deliveries (see settle). It returns once ctx ended or,
// while draining, the queue is empty or a delivery gave up, and only after
// every delivery it started has returned.
func (q *Queue) run(ctx context.Context) {
	defer close(q.done)
	free := make([]*flight, q.cfg.MaxInFlight)
	for i := range free {
		free[i] = &flight{b: pipeline.NewBatch()}
	}
	defer func() {
		for _, f := range free {
			f.b.Release()
		}
	}()
	finished := make(chan *flight, q.cfg.MaxInFlight)
	inFlight := 0
	stopping := false // a delivery gave up, or ctx ended: start nothing new
	d := &decoder{interned: map[string]string{}}
	tick := time.NewTicker(cursorInterval)
	defer tick.Stop()
	lastSave := time.Now()
	// linger fires when a partial batch held back by batch_wait is due.
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	defer linger.Stop()
	settle := func(f *flight) {
		inFlight--
		q.inFlightG.Set(float64(inFlight))
		if !f.ok {
			stopping = true
		}
		q.settle(f)
		free = append(free, f)
	}
	for {
		started, emptied := false, false
		if !stopping && len(free) > 0 && q.backingOff.Load() == 0 {
			f := free[len(free)-1]
			ok, due, err := q.start(f, d, time.Now())
			if !due.IsZero() {
				linger.Reset(time.Until(due))
			}
			switch {
			case err != nil:
				q.log.Error("queue read failed; retrying", "err", err)
				if !backoff.Sleep(ctx, q.cfg.RetryInitial) {
					stopping = true
				}
			case ok:
				free = free[:len(free)-1]
				inFlight++
				q.inFlightG.Set(float64(inFlight))
				started = true
				go func() {
					f.ok = q.deliverChunks(ctx, f.b, func(n float64) {
						f.s.queued.Sub(n)
						f.booked += int64(n)
					})
					finished <- f
				}()
			default:
				emptied = due.IsZero() // not when batch_wait holds records back
			}
		}
		if time.Since(lastSave) >= cursorInterval {
			q.saveCursors()
			lastSave = time.Now()
		}
		if stopping || ctx.Err() != nil {
			// Let every delivery return (a cancelled ctx makes them quick),
			// then keep the cursors of what was confirmed.
			for inFlight > 0 {
				settle(<-finished)
			}
			q.saveCursors()
			return
		}
		if started {
			continue
		}
		if emptied && inFlight == 0 && q.draining.Load() {
			q.saveCursors()
			return
		}
		select {
		case f := <-finished:
			settle(f)
		case <-q.wake:
		case <-tick.C:
		case <-linger.C:
		case <-ctx.Done():
		}
	}
}

// start reads the next batch of the highest priority with records into f.
// It reports false when every log is read to its end or holds back (see
// below). A read error after some records goes with what was read (the
// reader is past those, so dropping them would skip them); the error comes
// back on the next read.
//
// batch_wait: a log whose unread records do not make a full batch is left
// alone until batch_wait has passed since its last delivery started, so
// that under a steady load deliveries are full batches (larger bulk
// requests, larger archive frames: less CPU per byte) while a lone event
// still goes at once. due is the earliest time a log held back this way
// becomes due (zero: none). While the queue drains for Close nothing is
// held back.
func (q *Queue) start(f *flight, d *decoder, now time.Time) (ok bool, due time.Time, err error) {
	for _, p := range pipeline.Priorities {
		s := q.subs[p]
		if w := q.cfg.BatchWait; w > 0 && now.Sub(s.lastStart) < w && !q.draining.Load() {
			events := s.appendedEvents.Load() - s.readEvents
			bytes := s.appendedBytes.Load() - s.readBytes
			if events <= 0 || bytes <= 0 {
				continue // nothing unread (a record may be read before it is counted: it is, by then)
			}
			if events < int64(q.cfg.BatchEvents) && bytes < q.cfg.BatchBytes {
				if at := s.lastStart.Add(w); due.IsZero() || at.Before(due) {
					due = at
				}
				continue
			}
		}
		f.b.Reset()
		end, records, bytes, rerr := q.fill(f.b, s, d)
		if rerr != nil && records == 0 {
			return false, due, fmt.Errorf("%s: %w", p, rerr)
		}
		if records == 0 {
			s.passOver(end)
			continue
		}
		s.lastStart = now
		f.s, f.bytes, f.ok, f.booked = s, bytes, false, 0
		f.ticket = s.next
		s.next++
		s.window = append(s.window, slot{end: end})
		return true, time.Time{}, nil
	}
	return false, due, nil
}

// passOver moves s's cursor to end, past records that need no delivery
// (withdrawn ones): at once when no delivery is under way, else as a slot
// that is done already, retired with those before it.
func (s *sub) passOver(end wal.Pos) {
	last := s.cursor
	if n := len(s.window); n > 0 {
		last = s.window[n-1].end
	}
	if !last.Less(end) {
		return
	}
	if len(s.window) == 0 {
		s.cursor = end
		return
	}
	s.window = append(s.window, slot{end: end, done: true, ok: true})
	s.next++
}

// settle records that f's delivery returned: its events leave the queue's
// counts if it succeeded, and the cursor of its log moves over every
// delivery at the head of the window that finished successfully. A failed
// delivery (the queue is stopping) holds the cursor where it is.
func (q *Queue) settle(f *flight) {
	s := f.s
	sl := &s.window[f.ticket-s.first]
	sl.done, sl.ok = true, f.ok
	if !f.ok {
		// Stopped with part of it booked: those are no longer pending
		// (a memory queue counts what is left at Close as lost); the
		// records stay in the log, so a disk queue delivers them again
		// after a restart (at least once).
		s.pending.Add(-f.booked)
	}
	if f.ok {
		n := int64(len(f.b.Events)) // they left queued as deliver booked them
		s.pending.Add(-n)
		// Never below zero: a damaged region without valid headers gives
		// back an estimate of its payload (wal.CorruptError.PayloadBytes).
		q.queuedBytes.Set(float64(q.givePending(f.bytes)))
	}
	k := 0
	for k < len(s.window) && s.window[k].done && s.window[k].ok {
		s.cursor = s.window[k].end
		k++
	}
	if k > 0 {
		n := copy(s.window, s.window[k:])
		s.window = s.window[:n]
		s.first += uint64(k)
	}
}

// givePending gives n bytes of capacity back, never going below zero, and
// returns what is left.
func (q *Queue) givePending(n int64) int64 {
	for {
		cur := q.pendingBytes.Load()
		v := max(cur-n, 0)
		if q.pendingBytes.CompareAndSwap(cur, v) {
			return v
		}
	}
}

// fill reads records of s into b up to the batch limits. It returns the
// position after the last record read, how many records and payload bytes.
func (q *Queue) fill(b *pipeline.Batch, s *sub, d *decoder) (end wal.Pos, records int, bytes int64, err error) {
	end = s.cursor
	for len(b.Events) < q.cfg.BatchEvents && int64(b.Bytes()) < q.cfg.BatchBytes {
		rec, err := s.reader.Next()
		if err == io.EOF {
			// Past what the reader passed over since the last record too
			// (records withdrawn by a failed Write, damage counted): the
			// cursor must not stay before them, or a restart reads them
			// again.
			if p := s.reader.Pos(); end.Less(p) {
				end = p
			}
			return end, records, bytes, nil
		}
		var ce *wal.CorruptError
		if errors.As(err, &ce) {
			// Damage found at start was counted (and never queued) then,
			// as was a record an earlier start could not decode (left out
			// of what waits), damaged since; an unfinished write is no loss.
			if !s.startDamage[ce.At] && !s.startUndecodable[ce.At] && !ce.Unsynced {
				// What was reserved for it is payload bytes, not the
				// region (headers included); never below zero, where
				// max_bytes would stop limiting.
				pb := ce.PayloadBytes()
				s.readEvents += ce.Events
				s.readBytes += pb
				q.lost(s.p, ce, "corrupt_record")
				s.pending.Add(-ce.Events)
				s.queued.Sub(float64(ce.Events))
				q.queuedBytes.Set(float64(q.givePending(pb)))
				// As openSub does for damage found at start: a restart
				// before the cursor passes it must not count it again.
				s.startDamage[ce.At] = true
				if err := s.skips.add(q.fs, ce.At, skipEntry{kind: skipDamaged, check: uint64(ce.Bytes)}); err != nil {
					q.log.Warn("queue: cannot record that damage was counted; the next start counts it again", "priority", s.p.String(), "err", err)
				}
			}
			continue
		}
		if err != nil {
			return end, records, bytes, err
		}
		if s.startUndecodable[rec.At] {
			// Counted lost by an earlier start, and left out of what
			// waited at this one: passed, counted nowhere again.
			end = rec.Next
			continue
		}
		before := len(b.Events)
		if derr := d.decodeInto(b, rec.Payload, rec.Count, s.p); derr != nil {
			b.Events = b.Events[:before]
			// A record whose CRC holds but does not decode was written by a
			// different version: skipped, and counted lost by saveCursors
			// once its skip entry is written (see undecodable).
			s.undec = append(s.undec, undecodable{
				ce:    wal.CorruptError{At: rec.At, Records: 1, Events: int64(rec.Count), Bytes: int64(len(rec.Payload)), Reason: derr.Error()},
				entry: skipEntry{kind: skipUndecodable, check: withdrawnCheck(crc32.Checksum(rec.Payload, crcTable), len(rec.Payload))},
			})
		}
		records++
		bytes += int64(len(rec.Payload))
		s.readEvents += int64(rec.Count)
		s.readBytes += int64(len(rec.Payload))
		end = rec.Next
	}
	return end, records, bytes, nil
}

// deliverChunks delivers b in pieces of at most batch_events events and
// batch_bytes bytes (one record can hold more: a big HTTP request or syslog
// batch), so that destinations get the request sizes they were configured
// for. The cursor still moves only once the whole of b is delivered.
func (q *Queue) deliverChunks(ctx context.Context, b *pipeline.Batch, book func(events float64)) bool {
	var view pipeline.Batch
	for start := 0; start < len(b.Events); {
		end, bytes := start, int64(0)
		for end < len(b.Events) && end-start < q.cfg.BatchEvents &&
			(end == start || bytes+int64(len(b.Events[end].Raw)) <= q.cfg.BatchBytes) {
			bytes += int64(len(b.Events[end].Raw))
			end++
		}
		chunk := b
		if start > 0 || end < len(b.Events) {
			chunk = b.View(&view, b.Events[start:end])
		}
		if !q.deliver(ctx, chunk, book) {
			return false
		}
		start = end
	}
	return true
}

// deliver writes b to the destination until every event is confirmed or
// quarantined. It returns false when ctx ended (or, while draining for a
// shutdown, at the first failure) with events still undelivered. book is
// called with the events booked delivered or quarantined as it goes: they
// leave queued (the priority's gauge) at once, so the ledger balances while
// the rest of a partly delivered batch is retried.
func (q *Queue) deliver(ctx context.Context, b *pipeline.Batch, book func(events float64)) bool {
	if len(b.Events) == 0 {
		return true
	}
	view := b
	var retry pipeline.Batch
	var retryEvents []pipeline.Event
	for attempt := 0; ; attempt++ {
		err := q.sink.Write(ctx, view)
		if err == nil {
			q.delivered.Add(float64(len(view.Events)))
			book(float64(len(view.Events)))
			return true
		}
		var be *pipeline.BatchError
		switch {
		case errors.As(err, &be):
			var perm []pipeline.ItemError
			next := retryEvents[:0:0]
			seen := make([]bool, len(view.Events)) // a sink naming an event twice must not book it twice
			for _, it := range be.Items {
				if it.Index < 0 || it.Index >= len(view.Events) || seen[it.Index] {
					continue
				}
				seen[it.Index] = true
				if pipeline.IsPermanent(it.Err) {
					perm = append(perm, it)
				} else {
					next = append(next, view.Events[it.Index])
				}
			}
			ok := float64(len(view.Events) - len(perm) - len(next))
			q.delivered.Add(ok)
			book(ok)
			if !q.quarantine(ctx, view, perm, book) {
				return false
			}
			if len(next) == 0 {
				return true
			}
			retryEvents = next
			view = b.View(&retry, retryEvents)
		case pipeline.IsPermanent(err):
			items := make([]pipeline.ItemError, len(view.Events))
			for i := range items {
				items[i] = pipeline.ItemError{Index: i, Err: err}
			}
			return q.quarantine(ctx, view, items, book)
		}
		if ctx.Err() != nil {
			return false
		}
		q.retries.Inc()
		if attempt == 0 || attempt%10 == 0 {
			q.log.Warn("destination write failed; retrying with backoff", "events", len(view.Events), "attempt", attempt+1, "err", err)
		}
		if q.draining.Load() && q.cfg.Mode != "memory" {
			return false // shutting down: leave the rest queued for the next start
		}
		// A memory queue has no next start: it keeps trying until Close's
		// deadline cancels ctx, then counts what is left as lost.
		q.backingOff.Add(1)
		slept := q.sleep(ctx, q.backoff(attempt))
		q.backingOff.Add(-1)
		if !slept {
			return false
		}
	}
}

// sleep waits d for a retry; false when ctx ends or, for a disk queue,
// when draining starts: a delivery asleep in a long backoff (a
// destination down for minutes: up to retry_max) left the drain waiting
// for it, the whole shutdown_timeout, and the destinations closed after
// it were cancelled undrained. What it holds stays queued for the next
// start. A memory queue has no next start: it sleeps on (see deliver).
func (q *Queue) sleep(ctx context.Context, d time.Duration) bool {
	if q.cfg.Mode == "memory" {
		return backoff.Sleep(ctx, d)
	}
	return backoff.SleepOr(ctx, d, q.drained)
}

// quarantine stores the permanently failed items of view in the
// destination's quarantine, retrying the quarantine itself until it works.
func (q *Queue) quarantine(ctx context.Context, view *pipeline.Batch, items []pipeline.ItemError, book func(events float64)) bool {
	if len(items) == 0 {
		return true
	}
	now := time.Now().UnixNano()
	recs := make([]pipeline.Rejected, 0, len(items))
	for _, it := range items {
		ev := &view.Events[it.Index]
		reason := "destination_rejected"
		r := pipeline.Rejected{
			Raw: ev.Raw, Reason: reason, Detail: it.Err.Error(), Destination: q.name,
			Status: it.Status, Time: now,
			Event: &pipeline.RejectedEvent{Hash: ev.Hash, Time: ev.Time, Ingest: ev.Ingest, SourceType: ev.SourceType, Priority: ev.Priority},
		}
		if ownKey(ev) {
			r.Event.Key = ev.Key
		}
		if ev.Replayed {
			// Refused again after a replay: its record says so, and
			// replay does not send it once more unless asked (no loop).
			r.Input, r.Protocol = "replay", "replay"
		}
		recs = append(recs, r)
	}
	for attempt := 0; ; attempt++ {
		err := q.dlq.Put(ctx, recs)
		if err == nil {
			q.mx.Quarantined.WithLabelValues(q.name, "destination_rejected").Add(float64(len(recs)))
			book(float64(len(recs)))
			return true
		}
		q.log.Error("quarantine write failed; retrying (events stay queued)", "events", len(recs), "err", err)
		if q.draining.Load() && q.cfg.Mode != "memory" {
			return false // shutting down: they stay queued for the next start, as deliver leaves them
		}
		if !q.sleep(ctx, q.backoff(attempt)) {
			return false
		}
	}
}

func (q *Queue) backoff(attempt int) time.Duration {
	d := q.cfg.RetryInitial
	for i := 0; i < attempt && d < q.cfg.RetryMax; i++ {
		d *= 2
	}
	return backoff.Jitter(min(d, q.cfg.RetryMax))
}

func (q *Queue) saveCursors() {
	for _, p := range pipeline.Priorities {
		s := q.subs[p]
		q.countUndecodable(s)
		if s.cursor == s.saved {
			continue
		}
		before := s.log.Size()
		err := saveCursor(q.fs, s.cursorPath, s.cursor)
		if errors.Is(err, syscall.ENOSPC) {
			// The volume is full: the atomic save needs a new file's
			// block, and the segments it would let go are what fills the
			// volume. Overwriting the cursor's own 20 bytes needs none
			// (and is as safe: one sector, checked by its CRC).
			err = overwriteCursor(q.fs, s.cursorPath, s.cursor)
			if errors.Is(err, os.ErrNotExist) {
				// No cursor file yet (one that could not be created at
				// open, on a full volume): free the delivered segments
				// first, then create it. A crash in between restarts
				// from the oldest segment left: repeats, no loss.
				if terr := s.log.TrimBefore(s.cursor); terr != nil {
					q.log.Warn("queue segments not deleted", "priority", p.String(), "err", terr)
				}
				err = saveCursor(q.fs, s.cursorPath, s.cursor)
			}
		}
		if err != nil {
			if s.log.Size() < before {
				q.noteRoom() // the missing cursor's trim above
			}
			q.log.Error("queue cursor not saved (deliveries since the last save will repeat after a crash)", "priority", p.String(), "err", err)
			continue
		}
		s.saved = s.cursor
		s.skips.prune(q.fs, s.saved) // entries the saved cursor passed
		if err := s.log.TrimBefore(s.saved); err != nil {
			q.log.Warn("queue segments not deleted", "priority", p.String(), "err", err)
		}
		if s.log.Size() < before {
			q.noteRoom()
		}
	}
}

// WaitIdle blocks until the queue is empty or ctx ends (for tests and
// benchmarks).
func (q *Queue) WaitIdle(ctx context.Context) error {
	for q.Pending() > 0 {
		if !backoff.Sleep(ctx, 2*time.Millisecond) {
			return ctx.Err()
		}
	}
	return nil
}

// Close stops accepting writes, lets the forwarder deliver what it can
// while the destination keeps confirming (bounded by ctx), persists the
// cursors and closes the logs, the destination and its quarantine. Whatever
// is left stays queued for the next start. Idempotent.
func (q *Queue) Close(ctx context.Context) error {
	q.closeMu.Lock()
	if q.closed {
		q.closeMu.Unlock()
		return nil
	}
	q.closed = true
	q.closeMu.Unlock()
	q.draining.Store(true)
	close(q.drained)
	select {
	case q.wake <- struct{}{}:
	default:
	}
	select {
	case <-q.done:
	case <-ctx.Done():
		q.cancel()
		<-q.done
	}
	q.cancel()
	q.saveCursors()
	if left := q.Pending(); left > 0 && q.cfg.Mode == "memory" {
		// Nothing survives the process: count them, and leave the
		// ledger balanced (lost instead of queued).
		q.log.Error("memory queue closed with events undelivered: they are lost (the destination did not take them before the shutdown deadline; queue mode disk keeps them)", "events", left)
		q.mx.Lost.WithLabelValues(q.name, "memory_queue_shutdown").Add(float64(left))
		for _, p := range pipeline.Priorities {
			q.subs[p].pending.Store(0)
			q.subs[p].queued.Set(0)
		}
		q.pendingBytes.Store(0)
		q.queuedBytes.Set(0)
	} else if left > 0 {
		q.log.Info("queue closed with events waiting; they are delivered after the next start", "events", left)
	}
	var errs []error
	errs = append(errs, q.closeLogs())
	if err := q.sink.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("close destination %s: %w", q.name, err))
	}
	if q.dlq != nil {
		if err := q.dlq.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close quarantine of %s: %w", q.name, err))
		}
	}
	return errors.Join(errs...)
}

func (q *Queue) closeLogs() error {
	var errs []error
	for _, s := range q.subs {
		if s != nil && s.log != nil {
			if err := s.log.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Cursor file: 8-byte segment, 8-byte offset, crc32c of both; replaced
// atomically (write temp, fsync, rename, fsync directory).
var crcTable = crc32.MakeTable(crc32.Castagnoli)

func saveCursor(fs wal.FS, path string, p wal.Pos) error {
	buf := cursorBytes(p)
	return writeFileAtomic(fs, path, buf[:])
}

// cursorBytes encodes a cursor: segment, offset, CRC-32C of the two.
func cursorBytes(p wal.Pos) [20]byte {
	var buf [20]byte
	binary.LittleEndian.PutUint64(buf[0:], p.Seg)
	binary.LittleEndian.PutUint64(buf[8:], uint64(p.Off))
	binary.LittleEndian.PutUint32(buf[16:], crc32.Checksum(buf[:16], crcTable))
	return buf
}

// overwriteCursor writes p over the existing cursor file in place, for a
// full volume (saveCursors). It needs no new block: the file exists from
// the queue's first open (openSub) and keeps its 20 bytes.
func overwriteCursor(fs wal.FS, path string, p wal.Pos) error {
	f, err := fs.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	buf := cursorBytes(p)
	if _, err := f.Write(buf[:]); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeFileAtomic replaces path with data durably: a temporary file written
// and fsynced, renamed over path, the directory fsynced (the cursor and the
// skip file). A failed attempt removes its temporary file (on a full
// volume it holds blocks the queue needs).
func writeFileAtomic(fs wal.FS, path string, data []byte) (err error) {
	tmp := path + ".tmp"
	f, err := fs.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = fs.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fs.Rename(tmp, path); err != nil {
		return err
	}
	return fs.SyncDir(filepath.Dir(path))
}

func loadCursor(fs wal.FS, path string) (wal.Pos, error) {
	f, err := fs.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return wal.Pos{}, nil
	}
	if err != nil {
		return wal.Pos{}, err
	}
	defer f.Close()
	var buf [20]byte
	if _, err := io.ReadFull(f, buf[:]); err != nil {
		return wal.Pos{}, fmt.Errorf("read %s: %w", path, err)
	}
	if crc32.Checksum(buf[:16], crcTable) != binary.LittleEndian.Uint32(buf[16:]) {
		return wal.Pos{}, fmt.Errorf("%s: checksum mismatch", path)
	}
	return wal.Pos{Seg: binary.LittleEndian.Uint64(buf[0:]), Off: int64(binary.LittleEndian.Uint64(buf[8:]))}, nil
}

// decodes reports whether this release can decode rec (a start-up check of
// a record an earlier start could not decode; rare, so its scratch batch
// is not pooled).
func decodes(rec wal.Record, p pipeline.Priority) bool {
	b := pipeline.NewBatch()
	defer b.Release()
	d := decoder{interned: map[string]string{}}
	return d.decodeInto(b, rec.Payload, rec.Count, p) == nil
}

// undecodable is a record fill could not decode, waiting for saveCursors to
// record it (entry) and count it lost (ce).
type undecodable struct {
	ce    wal.CorruptError
	entry skipEntry
}

// countUndecodable records s's undecodable records in its skip file, with
// one write, so that a restart before the cursor passes them does not count
// them again (not skipped for good, Log.Skip: a release that can decode them,
// a roll-forward after a rollback, must still deliver them), then counts them
// lost. They stay pending and queued until then, so the ledger balances
// throughout. A failed write is logged; they are counted all the same.
func (q *Queue) countUndecodable(s *sub) {
	if len(s.undec) == 0 {
		return
	}
	err := s.skips.addAll(q.fs, len(s.undec), func(i int) (wal.Pos, skipEntry) { return s.undec[i].ce.At, s.undec[i].entry })
	if err != nil {
		q.log.Warn("queue: cannot record that undecodable records were counted; the next start counts them again", "priority", s.p.String(), "records", len(s.undec), "err", err)
	}
	for i := range s.undec {
		ce := &s.undec[i].ce
		q.lost(s.p, ce, "undecodable_record")
		s.pending.Add(-ce.Events)
		s.queued.Sub(float64(ce.Events))
	}
	clear(s.undec)
	s.undec = s.undec[:0]
}
