package siem

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/backoff"
)

type ackOutcome uint8

const (
	ackConfirmed ackOutcome = iota + 1
	ackTimedOut
	ackUnsupported
)

// maxIssuedIDs bounds the ackIds remembered to notice one handed out again.
const maxIssuedIDs = 1 << 16

// maxAcksPerPoll bounds the ackIds of one poll request.
const maxAcksPerPoll = 1000

// ackWaiter is one request waiting for its ackId; res receives exactly one
// outcome.
type ackWaiter struct {
	id       int64
	deadline time.Time // zero: kept late (keep), never expires
	res      chan ackOutcome
	gen      uint64 // the tracker's generation at add
	// notify, set by keep, is signalled (without blocking) once res
	// holds the outcome of a copy kept late, so that the Write waiting
	// for another copy of the same events wakes at its confirmation.
	notify chan struct{}
}

// settle hands w its outcome; the tracker's lock is held.
func (w *ackWaiter) settle(o ackOutcome) {
	w.res <- o
	if w.notify != nil {
		select {
		case w.notify <- struct{}{}:
		default:
		}
	}
}

// ackTracker polls /services/collector/ack for every pending ackId of the
// destination's channel (one poller for all Writes).
type ackTracker struct {
	h       *HEC
	mu      sync.Mutex
	pending map[int64]*ackWaiter
	// issued holds the ackIds Splunk handed out on the channel recently
	// (from maxIssued-maxIssuedIDs on), to notice one handed out again.
	issued    map[int64]struct{}
	maxIssued int64
	wake      chan struct{}
	done      chan struct{}
	parser    fastjson.Parser
	body      []byte
	ids       []int64
	warn      rateLimit
	// gen counts the times Splunk numbered a channel's ackIds from 0
	// again: a waiter of an earlier generation cannot be kept (keep).
	gen uint64
}

func newAckTracker(h *HEC) *ackTracker {
	return &ackTracker{
		h: h, pending: map[int64]*ackWaiter{}, issued: map[int64]struct{}{},
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		warn: rateLimit{every: 10 * time.Second},
	}
}

// add registers a request's ackId; its deadline starts now.
func (t *ackTracker) add(id int64) *ackWaiter {
	w := &ackWaiter{id: id, deadline: time.Now().Add(t.h.cfg.Ack.Timeout), res: make(chan ackOutcome, 1)}
	t.mu.Lock()
	w.gen = t.gen
	if t.h.ackOff.Load() {
		t.mu.Unlock()
		w.res <- ackUnsupported
		return w
	}
	_, again := t.issued[id]
	// An id below the ones kept (trimmed: the channel carried more than
	// maxIssuedIDs requests) was handed out before too: ids on a channel
	// only grow, and answers never arrive that far out of order.
	again = again || id < t.maxIssued-maxIssuedIDs/2
	if again {
		// Splunk handed out an ackId it had handed out before: it
		// restarted or the channel expired, and numbers its requests from
		// 0 again. Any id still waited for may now be confirmed by a new
		// request's ack, so none of them can be: each is sent again.
		for pid, old := range t.pending {
			delete(t.pending, pid)
			old.settle(ackTimedOut)
		}
		clear(t.issued)
		t.maxIssued = id
		t.gen++
		w.gen = t.gen
		t.h.log.Warn("splunk_hec: an ackId was handed out again (Splunk restarted or the channel expired); requests waiting for their acknowledgement are sent again", "ack_id", id)
	}
	t.issued[id] = struct{}{}
	t.maxIssued = max(t.maxIssued, id)
	if len(t.issued) > maxIssuedIDs { // ids grow: keep the recent ones
		for old := range t.issued {
			if old < t.maxIssued-maxIssuedIDs/2 {
				delete(t.issued, old)
			}
		}
	}
	t.pending[id] = w
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return w
}

// keep registers w again after its ack timed out and its request was sent
// again, to be polled with no deadline until cancelled: Splunk may still
// confirm it (an ack late past ack.timeout), which confirms the events of
// that copy; notify is signalled when it resolves. It reports false when
// w cannot be kept: Splunk numbered the channel's ackIds anew since w was
// handed out (its id may now be another request's).
func (t *ackTracker) keep(w *ackWaiter, notify chan struct{}) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if w.gen != t.gen || t.h.ackOff.Load() || t.pending[w.id] != nil {
		return false
	}
	select {
	case <-w.res: // the timeout already taken; drained to be sure
	default:
	}
	w.deadline = time.Time{}
	w.notify = notify
	t.pending[w.id] = w
	// The poller stops once nothing is pending, as after the timeout
	// that removed w: it must poll w again.
	select {
	case t.wake <- struct{}{}:
	default:
	}
	return true
}

// cancel forgets w (its Write gave up).
func (t *ackTracker) cancel(w *ackWaiter) {
	t.mu.Lock()
	if t.pending[w.id] == w {
		delete(t.pending, w.id)
	}
	t.mu.Unlock()
}

func (t *ackTracker) resolve(id int64, o ackOutcome) {
	t.mu.Lock()
	if w := t.pending[id]; w != nil {
		delete(t.pending, id)
		w.settle(o)
	}
	t.mu.Unlock()
}

func (t *ackTracker) failAll(o ackOutcome) {
	t.mu.Lock()
	for id, w := range t.pending {
		delete(t.pending, id)
		w.settle(o)
	}
	t.mu.Unlock()
}

func (t *ackTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// run polls while acks are pending, every ack.poll_interval.
func (t *ackTracker) run(life context.Context) {
	defer close(t.done)
	for {
		select {
		case <-life.Done():
			return // Writes still waiting see their (merged) context end
		case <-t.wake:
		}
		for t.count() > 0 {
			if !backoff.Sleep(life, t.h.cfg.Ack.PollInterval) {
				return
			}
			t.poll(life)
			t.expire(time.Now())
		}
	}
}

func (t *ackTracker) expire(now time.Time) {
	t.mu.Lock()
	for id, w := range t.pending {
		if !w.deadline.IsZero() && now.After(w.deadline) {
			delete(t.pending, id)
			w.settle(ackTimedOut)
		}
	}
	t.mu.Unlock()
}

// poll asks Splunk about every pending ackId.
func (t *ackTracker) poll(ctx context.Context) {
	t.mu.Lock()
	t.ids = t.ids[:0]
	for id := range t.pending {
		t.ids = append(t.ids, id)
	}
	t.mu.Unlock()
	slices.Sort(t.ids)
	for len(t.ids) > 0 && ctx.Err() == nil && !t.h.ackOff.Load() {
		n := min(len(t.ids), maxAcksPerPoll)
		t.pollIDs(ctx, t.ids[:n])
		t.ids = t.ids[n:]
	}
}

func (t *ackTracker) pollIDs(ctx context.Context, ids []int64) {
	h := t.h
	t.body = append(t.body[:0], `{"acks":[`...)
	for i, id := range ids {
		if i > 0 {
			t.body = append(t.body, ',')
		}
		t.body = strconv.AppendInt(t.body, id, 10)
	}
	t.body = append(t.body, "]}"...)
	res := h.post(ctx, h.ackURL, t.body, false, false)
	switch {
	case res.err != nil:
		if ctx.Err() == nil {
			t.warnf("HEC ack poll failed; retrying at the next poll", "err", h.scrub(res.err.Error()))
		}
	case res.status == http.StatusBadRequest && res.code == hecCodeAckDisabled:
		h.fallbackNoAck("the ack endpoint answered 400 code 14 (ACK is disabled)")
	case res.status == http.StatusUnauthorized || res.status == http.StatusForbidden:
		h.reloadToken()
		h.logErr(&h.authLog, "Splunk HEC refused the token for the ack poll; fix the token (token_file is re-read after every refusal)",
			&HECError{Status: res.status, Code: res.code, Text: h.scrub(res.text), InvalidEvent: -1})
	case res.status == http.StatusOK:
	default:
		t.warnf("HEC ack poll refused; retrying at the next poll", "status", res.status, "code", res.code, "text", h.scrub(res.text))
	}
	if res.status != http.StatusOK || res.raw == nil {
		return
	}
	v, err := t.parser.ParseBytes(res.raw)
	if err != nil {
		t.warnf("HEC ack poll answer is not JSON", "err", err)
		return
	}
	o := v.GetObject("acks")
	if o == nil {
		t.warnf("HEC ack poll answer has no \"acks\" object")
		return
	}
	o.Visit(func(k []byte, v *fastjson.Value) {
		if v.Type() != fastjson.TypeTrue {
			return
		}
		if id, err := strconv.ParseInt(string(k), 10, 64); err == nil {
			t.resolve(id, ackConfirmed)
		}
	})
}

func (t *ackTracker) warnf(msg string, args ...any) {
	if ok, suppressed := t.warn.allow(); ok {
		t.h.log.Warn(msg, append(args, "suppressed", suppressed)...)
	}
}
