package app

// Randomized property test and fuzz target for the engine's core promise:
// an acknowledged batch is durably accepted by every destination its events
// route to (or quarantined / dropped with a counted reason), nothing
// acknowledged is lost across an orderly Close and a reopen of the disk
// queues, nothing is misrouted, duplicates appear only where the documented
// at-least-once bound allows them, and the conservation ledger
// (BuildLedger) balances.
//
// The harness drives the real engine (pipeline/engine) over real disk
// queues (pipeline/queue, t.TempDir) with the real normalizer, rules and
// dedup, and fake destinations that succeed, fail whole batches retryably,
// fail items retryably or permanently (*pipeline.BatchError,
// pipeline.Permanent), lose the answer of a write they took, block or are
// slow, or are down for a while (so that queues of 1 MiB fill and refuse,
// or drop P3 / P2+P3 by their on_full policy). A "source" emulates the HTTP
// input: records over max_event_bytes or that are not JSON are quarantined
// at the input, the rest normalized into a batch that is emitted; a refused
// batch is sent again, whole, as a sender would.
//
// Each event carries an id ("rid", part of its content); the fakes count
// per id and destination what they hold, so the checks are per event, not
// just totals.
//
//   go test -run 'Property' ./internal/app/                       (seeds 1..N)
//   LOGROUTER_PROP_SEED=17 go test -v -run 'Property' ./internal/app/   (one seed)
//   LOGROUTER_PROP_SEEDS=200 go test -run 'Property' ./internal/app/    (more seeds)
//   go test -run '^$' -fuzz FuzzPropertyEngineQueues -fuzztime 60s -fuzzminimizetime 2s ./internal/app/

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"
	"unsafe"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/valyala/fastjson"
	"go.uber.org/goleak"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/pipeline/route"
	"github.com/logrouter/logrouter/rules"
)

// ---------------------------------------------------------------- choices

// prChooser is where a plan's choices come from: a seeded PRNG (property
// test) or the fuzzer's bytes.
type prChooser interface{ Intn(n int) int }

type prRand struct{ r *rand.Rand }

func (c prRand) Intn(n int) int {
	if n <= 1 {
		return 0
	}
	return c.r.IntN(n)
}

// prBytes reads choices from data; past its end every choice is 0 (the
// smallest plan).
type prBytes struct {
	data []byte
	i    int
}

func (c *prBytes) Intn(n int) int {
	if n <= 1 {
		return 0
	}
	v := 0
	for k := 0; k < 2 && (k == 0 || n > 256); k++ {
		if c.i >= len(c.data) {
			return v % n
		}
		v = v<<8 | int(c.data[c.i])
		c.i++
	}
	return v % n
}

// ---------------------------------------------------------------- the plan

type prOpKind int

const (
	prEmit prOpKind = iota
	prOutage
	prHeal
	prPause
	prFlood // several heavy batches back to back (fills a queue behind a destination that is down)
)

type prOp struct {
	kind                       prOpKind
	fresh, dups, invalid, over int
	inBatchDup                 bool
	big                        int // 0 small events, 1 some KiB-sized, 2 mostly KiB-sized
	dest                       int
	dur                        time.Duration
	seed                       uint64
}

type prPlan struct {
	dests       []string
	masks       []int // per destination: bit 0 P1, bit 1 P2, bit 2 P3
	qc          []queue.Config
	flaky       []int // per destination: 0 reliable .. 3 very flaky
	dd          dedup.Config
	engInflight int
	emitters    int
	resends     int // how often a source sends a refused batch again
	dlqFail     bool
	epochs      [][]prOp
	// closeMode per epoch: 0 Close once every source is done, 1 Close
	// while the sources still send (after closeDelay), 2 Close with a
	// deadline of closeDelay (shutdown_timeout) once they are done.
	closeMode  []int
	closeDelay []time.Duration
	sinkSeed   uint64
}

func (p *prPlan) String() string {
	var b strings.Builder
	for i, d := range p.dests {
		qc := p.qc[i]
		fmt.Fprintf(&b, "%s: routes %s on_full=%s in_flight=%d batch=%d/%dB wait=%s fsync=%s flaky=%d\n", d, prMaskString(p.masks[i]),
			qc.OnFull, qc.MaxInFlight, qc.BatchEvents, qc.BatchBytes, qc.BatchWait, qc.Fsync, p.flaky[i])
	}
	fmt.Fprintf(&b, "dedup=%v scope=%s prios=%v engine_inflight=%d emitters=%d resends=%d dlq_fail=%v\n",
		p.dd.Enabled, p.dd.Scope, p.dd.Priorities, p.engInflight, p.emitters, p.resends, p.dlqFail)
	for k, ops := range p.epochs {
		fmt.Fprintf(&b, "epoch %d (close %s):", k, []string{"after the sources", "while sending, after", "with a deadline of"}[p.closeMode[k]]+map[bool]string{true: " " + p.closeDelay[k].String()}[p.closeMode[k] > 0])
		for _, op := range ops {
			switch op.kind {
			case prEmit:
				fmt.Fprintf(&b, " emit(f%d d%d i%d o%d b%d%s)", op.fresh, op.dups, op.invalid, op.over, op.big, map[bool]string{true: " dup"}[op.inBatchDup])
			case prOutage:
				fmt.Fprintf(&b, " down(%s %s)", p.dests[op.dest], op.dur)
			case prHeal:
				fmt.Fprintf(&b, " heal(%s)", p.dests[op.dest])
			case prPause:
				fmt.Fprintf(&b, " pause(%s)", op.dur)
			case prFlood:
				fmt.Fprintf(&b, " flood(%s down, %d batches)", p.dests[op.dest], op.fresh)
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func prMaskString(m int) string {
	var s []string
	for i, p := range pipeline.Priorities {
		if m&(1<<i) != 0 {
			s = append(s, p.String())
		}
	}
	return "[" + strings.Join(s, ",") + "]"
}

// genPlan draws a plan. small bounds it for the fuzzer.
func genPlan(c prChooser, small bool) *prPlan {
	p := &prPlan{}
	n := 2 + c.Intn(2)
	for i := 0; i < n; i++ {
		p.dests = append(p.dests, fmt.Sprintf("d%d", i))
		m := 7
		if i > 0 || c.Intn(3) == 0 {
			m = 1 + c.Intn(7)
		}
		p.masks = append(p.masks, m)
		qc := queue.Config{
			Mode:         "disk",
			MaxBytes:     1 << 20,
			SegmentBytes: 64 << 10,
			OnFull:       []string{"block", "drop_p3", "drop_p2_p3"}[c.Intn(3)],
			MaxInFlight:  1 + c.Intn(4),
			BatchEvents:  []int{1, 3, 16, 64, 2000}[c.Intn(5)],
			BatchBytes:   []int64{1 << 10, 16 << 10, 256 << 10, 4 << 20}[c.Intn(4)],
			BatchWait:    []time.Duration{0, 0, 2 * time.Millisecond}[c.Intn(3)],
			Fsync:        []string{"always", "always", "interval"}[c.Intn(3)],
			RetryInitial: time.Millisecond,
			RetryMax:     8 * time.Millisecond,
		}
		p.qc = append(p.qc, qc)
		p.flaky = append(p.flaky, c.Intn(4))
	}
	p.dd = dedup.Config{Enabled: c.Intn(5) != 0, Window: time.Hour, MaxBytes: 1 << 20,
		Scope: []string{"global", "priority"}[c.Intn(2)]}
	if c.Intn(4) == 0 {
		p.dd.Priorities = []string{"P2", "P3"}
	}
	p.engInflight = 1 + c.Intn(8)
	p.emitters = 1 + c.Intn(3)
	p.resends = c.Intn(4)
	p.dlqFail = c.Intn(3) == 0
	nEp, maxOps := 1+c.Intn(3), 30
	if small {
		nEp, maxOps = 1+c.Intn(2), 10
	}
	for k := 0; k < nEp; k++ {
		nOps := 3 + c.Intn(maxOps)
		if small {
			nOps = c.Intn(maxOps + 1)
		}
		var ops []prOp
		for i := 0; i < nOps; i++ {
			var op prOp
			switch r := c.Intn(20); {
			case r < 14:
				op = prOp{kind: prEmit, fresh: c.Intn(12), big: c.Intn(3), seed: uint64(c.Intn(1 << 16))}
				if op.big == 2 {
					op.fresh += c.Intn(24) // heavy: fills a 1 MiB queue in a few batches
				}
				if c.Intn(2) == 0 {
					op.dups = c.Intn(5)
				}
				if c.Intn(8) == 0 {
					op.invalid = 1
				}
				if c.Intn(10) == 0 {
					op.over = 1
				}
				op.inBatchDup = c.Intn(5) == 0
			case r < 16 && c.Intn(2) == 0:
				op = prOp{kind: prFlood, fresh: 3 + c.Intn(8), dest: c.Intn(n), seed: uint64(c.Intn(1 << 16))}
			case r < 17:
				op = prOp{kind: prOutage, dest: c.Intn(n), dur: time.Duration(5+c.Intn(150)) * time.Millisecond}
			case r < 18:
				op = prOp{kind: prHeal, dest: c.Intn(n)}
			default:
				op = prOp{kind: prPause, dur: time.Duration(c.Intn(20)) * time.Millisecond}
			}
			ops = append(ops, op)
		}
		p.epochs = append(p.epochs, ops)
		mode := []int{0, 0, 0, 1, 2}[c.Intn(5)]
		p.closeMode = append(p.closeMode, mode)
		p.closeDelay = append(p.closeDelay, time.Duration(c.Intn(60))*time.Millisecond)
	}
	p.sinkSeed = uint64(c.Intn(1 << 16))
	return p
}

// ---------------------------------------------------------------- model

const (
	prInput         = "prop"
	prMaxEventBytes = 12 << 10
	prRules         = "rules:\n  - name: p1\n    priority: P1\n    expr: prio == \"P1\"\n  - name: p2\n    priority: P2\n    expr: prio == \"P2\"\n"
)

// prRec is one event content (one rid): its priority and size are fixed, so
// every copy is the same bytes (the same dedup key).
type prRec struct {
	rid  uint64
	prio pipeline.Priority
	pad  int
	bad  int // 0 valid, 1 not JSON, 2 over max_event_bytes
	// batches it was sent in, acknowledged or refused
	sent, acked, refused int
	// accepted: acknowledged batches that kept it (not dropped as a repeat);
	// each is one acceptance the destinations owe a copy for.
	accepted int
	// acceptedEpochs: the epochs of those acceptances.
	acceptedEpochs []int
	inputQ         int // times it was quarantined by the input
}

func (r *prRec) line() []byte {
	if r.bad == 1 {
		return fmt.Appendf(nil, `{"rid":%d,"prio":"%s","pad":"x",`, r.rid, r.prio)
	}
	return fmt.Appendf(nil, `{"@timestamp":"2026-01-02T03:04:05Z","rid":%d,"prio":"%s","pad":"%s"}`, r.rid, r.prio, strings.Repeat("x", r.pad))
}

type prEpoch struct {
	keptAcked int // events kept (after dedup) in acknowledged batches
	unrouted  int // of those, events whose priority goes to no destination
	rejects   int // records quarantined by the input
	ok, ref   int // batches acknowledged, refused
}

type prHarness struct {
	t      testing.TB
	plan   *prPlan
	dir    string
	router *route.Router
	log    *slog.Logger

	mu       sync.Mutex
	nextRID  uint64
	recs     map[uint64]*prRec
	pool     []uint64 // valid rids of the current epoch: candidates to send again
	inflight map[uint64]bool
	eps      []*prEpoch
	viol     []string

	epoch   atomic.Int32
	closing atomic.Bool
	final   atomic.Bool // the last epoch: every destination healthy

	sinks []*prSink
	dlqs  []*prQuar
	mainQ *prQuar

	eng     *engine.Engine
	queues  []*queue.Queue
	metrics []*engine.Metrics // per epoch
	ledgers []*Ledger         // per epoch, after Close
	engAcc  [][]float64       // per epoch, per destination: the engine's accepted
}

func (h *prHarness) violate(format string, args ...any) {
	h.mu.Lock()
	h.viol = append(h.viol, fmt.Sprintf(format, args...))
	h.mu.Unlock()
}

func (h *prHarness) routes(p pipeline.Priority, d int) bool {
	for i, q := range pipeline.Priorities {
		if q == p {
			return h.plan.masks[d]&(1<<i) != 0
		}
	}
	return false
}

func (h *prHarness) unrouted(p pipeline.Priority) bool {
	for d := range h.plan.dests {
		if h.routes(p, d) {
			return false
		}
	}
	return true
}

func (h *prHarness) drops(d int, p pipeline.Priority) bool {
	switch h.plan.qc[d].OnFull {
	case "drop_p3":
		return p == pipeline.P3
	case "drop_p2_p3":
		return p == pipeline.P3 || p == pipeline.P2
	}
	return false
}

var prRIDRe = regexp.MustCompile(`"rid":(\d+)`)

func prRID(raw []byte) (uint64, bool) {
	m := prRIDRe.FindSubmatch(raw)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseUint(string(m[1]), 10, 64)
	return n, err == nil
}

// ---------------------------------------------------------------- fakes

const (
	bOK = iota
	bSlow
	bBlock
	bRetry
	bLostAnswer
	bItemsRetry
	bItemsPerm
	bItemsMixed
	bPerm
	bN
)

// prSink is a fake destination. It survives the epochs (the queue in front
// of it is closed and opened again); what it holds is counted per rid.
type prSink struct {
	h     *prHarness
	name  string
	idx   int
	flaky int

	mu        sync.Mutex
	rng       *rand.Rand
	downUntil time.Time
	healthy   bool
	closedEp  int // the epoch whose queue closed it (-1: none)

	deliv     map[uint64][]int // rid -> epochs of the copies the destination holds
	retryFail map[uint64]bool  // rid was in a delivery that failed retryably
	failClose map[int]bool     // epoch -> a delivery failed retryably while closing
	// last[epoch][copy]: whether the last attempt in that epoch to deliver
	// (or quarantine) that copy of an event there failed: the queue gave
	// that delivery up (at Close), so its record stays after the cursor.
	last      map[int]map[prCopy]bool
	confirmed map[int]int // epoch -> events confirmed to the queue
}

func (s *prSink) Name() string { return s.name }

func (s *prSink) Close(context.Context) error {
	s.mu.Lock()
	s.closedEp = int(s.h.epoch.Load())
	s.mu.Unlock()
	return nil
}

func (s *prSink) weights() [bN]int {
	w := [bN]int{bOK: 60, bSlow: 8, bBlock: 3, bRetry: 5, bLostAnswer: 2, bItemsRetry: 5, bItemsPerm: 4, bItemsMixed: 3, bPerm: 1}
	for i := bRetry; i < bN; i++ {
		w[i] *= s.flaky
	}
	return w
}

func (s *prSink) Write(ctx context.Context, b *pipeline.Batch) error {
	h := s.h
	epoch := int(h.epoch.Load())
	rids := make([]uint64, len(b.Events))
	copies := make([]prCopy, len(b.Events))
	for i := range b.Events {
		rid, ok := prRID(b.Events[i].Raw)
		if !ok {
			h.violate("%s: got an event without rid: %.120q", s.name, b.Events[i].Raw)
			return pipeline.Permanentf("no rid")
		}
		rids[i] = rid
		copies[i] = copyOf(rid, b.Events[i].Raw)
		h.mu.Lock()
		r := h.recs[rid]
		h.mu.Unlock()
		switch {
		case r == nil:
			h.violate("%s: got rid %d that was never sent", s.name, rid)
		case r.prio != b.Events[i].Priority:
			h.violate("%s: rid %d arrived as %s, classified %s", s.name, rid, b.Events[i].Priority, r.prio)
		}
	}
	s.mu.Lock()
	if s.closedEp == epoch {
		s.mu.Unlock()
		h.violate("%s: Write after its queue closed it (epoch %d)", s.name, epoch)
		return pipeline.ErrClosed
	}
	down := time.Now().Before(s.downUntil) && !s.healthy
	beh := bOK
	if !s.healthy && !down {
		w := s.weights()
		tot := 0
		for _, x := range w {
			tot += x
		}
		x := s.rng.IntN(tot)
		for beh = 0; x >= w[beh]; beh++ {
			x -= w[beh]
		}
	}
	var sleep time.Duration
	switch beh {
	case bSlow:
		sleep = time.Duration(s.rng.IntN(3000)) * time.Microsecond
	case bBlock:
		sleep = time.Duration(5+s.rng.IntN(25)) * time.Millisecond
	}
	// per-item failures: 1 retryable, 2 permanent
	var items []pipeline.ItemError
	if beh == bItemsRetry || beh == bItemsPerm || beh == bItemsMixed {
		for i := range b.Events {
			x := s.rng.IntN(10)
			var kind int
			switch beh {
			case bItemsRetry:
				if x < 3 {
					kind = 1
				}
			case bItemsPerm:
				if x < 3 {
					kind = 2
				}
			default:
				if x < 2 {
					kind = 1
				} else if x < 4 {
					kind = 2
				}
			}
			switch kind {
			case 1:
				items = append(items, pipeline.ItemError{Index: i, Status: 429, Err: errors.New("es_rejected_execution_exception")})
			case 2:
				items = append(items, pipeline.ItemError{Index: i, Status: 400, Err: pipeline.Permanentf("mapper_parsing_exception")})
			}
			if kind != 0 && s.rng.IntN(8) == 0 { // a sink naming an item twice
				items = append(items, items[len(items)-1])
			}
		}
		if len(items) == 0 {
			beh = bOK
		}
	}
	s.mu.Unlock()

	if down {
		time.Sleep(200 * time.Microsecond)
		s.failed(epoch, copies)
		return fmt.Errorf("%s is down", s.name)
	}
	if sleep > 0 {
		t := time.NewTimer(sleep)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.failed(epoch, copies)
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch beh {
	case bRetry:
		s.failedLocked(epoch, copies)
		return fmt.Errorf("%s: 503 service unavailable", s.name)
	case bLostAnswer:
		// The destination took the batch but the answer was lost.
		for _, rid := range rids {
			s.deliv[rid] = append(s.deliv[rid], epoch)
		}
		s.failedLocked(epoch, copies)
		return fmt.Errorf("%s: reading the answer: connection reset", s.name)
	case bPerm:
		return pipeline.Permanentf("%s: 400 bad request", s.name)
	case bItemsRetry, bItemsPerm, bItemsMixed:
		listed := make([]bool, len(rids))
		var retry []prCopy
		for _, it := range items {
			if !listed[it.Index] && !pipeline.IsPermanent(it.Err) {
				retry = append(retry, copies[it.Index])
			}
			listed[it.Index] = true
		}
		for i, rid := range rids {
			if !listed[i] {
				s.deliv[rid] = append(s.deliv[rid], epoch)
				s.confirmed[epoch]++
				s.outcome(epoch, false, copies[i])
			}
		}
		if len(retry) > 0 {
			s.failedLocked(epoch, retry)
		}
		return &pipeline.BatchError{Items: items}
	}
	for _, rid := range rids {
		s.deliv[rid] = append(s.deliv[rid], epoch)
	}
	s.outcome(epoch, false, copies...)
	s.confirmed[epoch] += len(rids)
	return nil
}

// prCopy names one copy of an event in the queue's hands: a batch can
// hold several copies of one rid (a source's in-batch duplicates without
// dedup), and the outcome of one must not stand for another's. A retry
// and the quarantine of an event reuse its Raw, so the address of Raw's
// first byte tells copies apart while their delivery is under way (a
// buffer is reused only by a later delivery, whose outcome is then the
// last one of that address).
type prCopy struct {
	rid uint64
	at  uintptr
}

func copyOf(rid uint64, raw []byte) prCopy {
	return prCopy{rid: rid, at: uintptr(unsafe.Pointer(unsafe.SliceData(raw)))}
}

// outcome records the last attempt's result for copies (s.mu held).
func (s *prSink) outcome(epoch int, failed bool, copies ...prCopy) {
	m := s.last[epoch]
	if m == nil {
		m = map[prCopy]bool{}
		s.last[epoch] = m
	}
	for _, c := range copies {
		m[c] = failed
	}
}

// gaveUp reports whether some delivery there ended epoch e failed.
func (s *prSink) gaveUp(e int) bool {
	for _, f := range s.last[e] {
		if f {
			return true
		}
	}
	return false
}

func (s *prSink) failed(epoch int, copies []prCopy) {
	s.mu.Lock()
	s.failedLocked(epoch, copies)
	s.mu.Unlock()
}

func (s *prSink) failedLocked(epoch int, copies []prCopy) {
	for _, c := range copies {
		s.retryFail[c.rid] = true
	}
	s.outcome(epoch, true, copies...)
	if s.h.closing.Load() {
		s.failClose[epoch] = true
	}
}

// prQuar is a quarantine that counts per rid (a destination's, or the
// input's). A destination's may fail a Put now and then (retried by the
// queue).
type prQuar struct {
	h     *prHarness
	idx   int // the destination's (-1: the input's)
	name  string
	fail  bool
	mu    sync.Mutex
	rng   *rand.Rand
	recs  map[uint64][]int // rid -> epochs
	why   map[uint64][]string
	count map[int]int // epoch -> records stored
}

func (q *prQuar) Put(_ context.Context, recs []pipeline.Rejected) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	ep := int(q.h.epoch.Load())
	if q.fail && q.rng.IntN(10) == 0 && !q.h.final.Load() {
		s := q.h.sinks[q.idx]
		s.mu.Lock()
		for _, r := range recs {
			if rid, ok := prRID(r.Raw); ok {
				s.outcome(ep, true, copyOf(rid, r.Raw))
			}
		}
		s.mu.Unlock()
		return errors.New("quarantine disk full")
	}
	if q.idx >= 0 {
		s := q.h.sinks[q.idx]
		s.mu.Lock()
		for _, r := range recs {
			if rid, ok := prRID(r.Raw); ok {
				s.outcome(ep, false, copyOf(rid, r.Raw))
			}
		}
		s.mu.Unlock()
	}
	for _, r := range recs {
		rid, ok := prRID(r.Raw)
		if !ok {
			q.h.violate("quarantine %s: record without rid: %.120q", q.name, r.Raw)
			continue
		}
		if r.Reason == "" {
			q.h.violate("quarantine %s: rid %d without a reason", q.name, rid)
		}
		if q.name != "input" && r.Destination != q.name {
			q.h.violate("quarantine %s: rid %d names destination %q", q.name, rid, r.Destination)
		}
		q.recs[rid] = append(q.recs[rid], ep)
		q.why[rid] = append(q.why[rid], r.Reason)
		q.count[ep]++
	}
	return nil
}

func (q *prQuar) Close(context.Context) error { return nil }

// ---------------------------------------------------------------- running

func newPropHarness(t testing.TB, p *prPlan) *prHarness {
	set, err := rules.Load(fstest.MapFS{"r.yaml": {Data: []byte(prRules)}}, ".", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	norm, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	byP := map[pipeline.Priority][]string{}
	for d, name := range p.dests {
		for i, pr := range pipeline.Priorities {
			if p.masks[d]&(1<<i) != 0 {
				byP[pr] = append(byP[pr], name)
			}
		}
	}
	table, err := route.NewTable(p.dests, byP, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := &prHarness{t: t, plan: p, dir: t.TempDir(), router: &route.Router{Norm: norm, Rules: set, Table: table},
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), recs: map[uint64]*prRec{}, inflight: map[uint64]bool{}, nextRID: 1}
	for i, name := range p.dests {
		h.sinks = append(h.sinks, &prSink{h: h, name: name, idx: i, flaky: p.flaky[i], closedEp: -1,
			rng:   rand.New(rand.NewPCG(p.sinkSeed, uint64(i))),
			deliv: map[uint64][]int{}, retryFail: map[uint64]bool{}, failClose: map[int]bool{}, last: map[int]map[prCopy]bool{}, confirmed: map[int]int{}})
		h.dlqs = append(h.dlqs, &prQuar{h: h, idx: i, name: name, fail: p.dlqFail, rng: rand.New(rand.NewPCG(p.sinkSeed, 100+uint64(i))),
			recs: map[uint64][]int{}, why: map[uint64][]string{}, count: map[int]int{}})
	}
	h.mainQ = &prQuar{h: h, idx: -1, name: "input", recs: map[uint64][]int{}, why: map[uint64][]string{}, count: map[int]int{}}
	return h
}

func (h *prHarness) open() {
	t := h.t
	m := engine.NewMetrics()
	qm := queue.NewMetrics(m.Registry)
	var sinks []pipeline.Sink
	h.queues = nil
	for i, name := range h.plan.dests {
		qc := h.plan.qc[i]
		qc.Dir = h.dir
		q, err := queue.Open(name, qc, h.sinks[i], h.dlqs[i], qm, h.log)
		if err != nil {
			t.Fatalf("open queue %s: %v", name, err)
		}
		h.queues = append(h.queues, q)
		sinks = append(sinks, q)
	}
	e, err := engine.New(engine.Config{MaxInflightBatches: h.plan.engInflight, WriteTimeout: 10 * time.Second}, h.router, sinks, h.mainQ, m, h.log)
	if err != nil {
		t.Fatal(err)
	}
	e.EnableDedup(h.plan.dd)
	h.eng = e
	h.metrics = append(h.metrics, m)
	h.eps = append(h.eps, &prEpoch{})
	h.mu.Lock()
	h.pool = nil
	h.mu.Unlock()
}

func (h *prHarness) close(deadline time.Duration) {
	h.closeEngine(deadline)
	h.finishClose()
}

// closeEngine closes the engine (and through it the queues).
func (h *prHarness) closeEngine(deadline time.Duration) {
	h.closing.Store(true)
	limit := 30 * time.Second
	if deadline > 0 {
		limit = deadline
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if err := h.eng.Close(ctx); err != nil && deadline == 0 {
		h.violate("epoch %d: engine Close: %v", h.epoch.Load(), err)
	}
	h.closing.Store(false)
}

// finishClose reads the epoch's ledger once the sources are done too.
func (h *prHarness) finishClose() {
	m := h.metrics[len(h.metrics)-1]
	l, err := BuildLedger(m.Registry)
	if err != nil {
		h.t.Fatal(err)
	}
	h.ledgers = append(h.ledgers, l)
	acc := make([]float64, len(h.plan.dests))
	for d, name := range h.plan.dests {
		acc[d] = promtest.ToFloat64(m.DestEvents.WithLabelValues(name, "accepted"))
	}
	h.engAcc = append(h.engAcc, acc)
	h.eng, h.queues = nil, nil
}

// send emits one batch of the given records as an input would (records it
// cannot take are quarantined first), waits for its Ack, and records the
// outcome. It returns whether the batch was acknowledged.
func (h *prHarness) send(recs []*prRec) bool {
	e := h.eng
	ep := h.eps[len(h.eps)-1]
	b := pipeline.NewBatch()
	defer b.Release()
	b.Meta = pipeline.Meta{Input: prInput, Protocol: "ndjson", Peer: "127.0.0.1", IngestTime: time.Now().UnixNano()}
	w := e.Worker()
	var p fastjson.Parser
	var rejected []pipeline.Rejected
	var valid []*prRec
	em := normalize.EventMeta{}
	for _, r := range recs {
		line := r.line()
		if len(line) > prMaxEventBytes {
			rejected = append(rejected, pipeline.Rejected{Raw: line[:prMaxEventBytes], Reason: "too_large", Detail: "over max_event_bytes", Input: prInput, Protocol: "ndjson"})
			continue
		}
		v, err := p.ParseBytes(line)
		if err != nil {
			rejected = append(rejected, pipeline.Rejected{Raw: line, Reason: "invalid_json", Detail: err.Error(), Input: prInput, Protocol: "ndjson"})
			continue
		}
		if err := w.Add(b, v, nil, &em); err != nil {
			rejected = append(rejected, pipeline.Rejected{Raw: line, Reason: normalize.Reason(err), Detail: err.Error(), Input: prInput, Protocol: "ndjson"})
			continue
		}
		valid = append(valid, r)
	}
	e.PutWorker(w)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if len(rejected) > 0 {
		if err := e.Quarantine(ctx, rejected); err != nil {
			h.violate("input quarantine: %v", err)
			return false
		}
		h.mu.Lock()
		ep.rejects += len(rejected)
		for _, rj := range rejected {
			if rid, ok := prRID(rj.Raw); ok && h.recs[rid] != nil {
				h.recs[rid].inputQ++
			}
		}
		h.mu.Unlock()
	}
	if len(b.Events) == 0 {
		return true
	}
	done := make(chan error, 1)
	b.Ack = pipeline.NewAck(func(err error) { done <- err })
	_ = e.Emit(ctx, b)
	err := <-done
	// The engine removed the repeats from b.Events in place: what is left
	// is what this batch asked the destinations to take.
	kept := map[uint64]int{}
	for i := range b.Events {
		rid, _ := prRID(b.Events[i].Raw)
		kept[rid]++
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err == nil {
		ep.ok++
		ep.keptAcked += len(b.Events)
	} else {
		ep.ref++
		if !errors.Is(err, pipeline.ErrOverloaded) && !errors.Is(err, engine.ErrShuttingDown) {
			h.viol = append(h.viol, fmt.Sprintf("batch refused for another reason than a full queue: %v", err))
		}
	}
	seen := map[uint64]bool{}
	for _, r := range valid {
		if seen[r.rid] { // in-batch copies count once per batch
			continue
		}
		seen[r.rid] = true
		r.sent++
		if err == nil {
			r.acked++
			if kept[r.rid] > 0 {
				r.accepted += kept[r.rid]
				for range kept[r.rid] {
					r.acceptedEpochs = append(r.acceptedEpochs, int(h.epoch.Load()))
				}
				if h.unrouted(r.prio) {
					ep.unrouted += kept[r.rid]
				}
			}
		} else {
			r.refused++
		}
	}
	return err == nil
}

func (h *prHarness) newRec(rng *rand.Rand, big int) *prRec {
	r := &prRec{rid: h.nextRID, prio: pipeline.Priorities[rng.IntN(3)]}
	h.nextRID++
	switch x := rng.IntN(10); {
	case big == 3:
		r.pad = 3000 + rng.IntN(8500)
	case big == 0 || big == 1 && x < 7 || big == 2 && x < 2:
		r.pad = 20 + rng.IntN(300)
	case x < 8:
		r.pad = 1000 + rng.IntN(5000)
	default:
		r.pad = 6000 + rng.IntN(5500)
	}
	h.recs[r.rid] = r
	return r
}

func (h *prHarness) runEmit(op prOp) {
	rng := rand.New(rand.NewPCG(op.seed, h.plan.sinkSeed))
	h.mu.Lock()
	var recs []*prRec
	for i := 0; i < op.fresh; i++ {
		recs = append(recs, h.newRec(rng, op.big))
	}
	for i := 0; i < op.dups && len(h.pool) > 0; i++ {
		rid := h.pool[rng.IntN(len(h.pool))]
		if h.inflight[rid] {
			continue // another source has it in flight: dedup could not know
		}
		recs = append(recs, h.recs[rid])
	}
	for _, r := range recs {
		h.inflight[r.rid] = true
	}
	if op.invalid > 0 {
		r := h.newRec(rng, 0)
		r.bad = 1
		recs = append(recs, r)
	}
	if op.over > 0 {
		r := h.newRec(rng, 0)
		r.bad, r.pad = 2, prMaxEventBytes+rng.IntN(4000)
		recs = append(recs, r)
	}
	if op.inBatchDup && len(recs) > 0 {
		recs = append(recs, recs[rng.IntN(len(recs))])
	}
	h.mu.Unlock()
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	if len(recs) == 0 {
		return
	}
	for attempt := 0; ; attempt++ {
		if h.send(recs) || attempt >= h.plan.resends {
			break
		}
		time.Sleep(time.Duration(1+rng.IntN(4)) * time.Millisecond)
	}
	h.mu.Lock()
	for _, r := range recs {
		delete(h.inflight, r.rid)
		if r.bad == 0 {
			h.pool = append(h.pool, r.rid)
		}
	}
	h.mu.Unlock()
}

func (h *prHarness) runEpoch(ops []prOp) {
	n := h.plan.emitters
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := g; i < len(ops); i += n {
				op := ops[i]
				switch op.kind {
				case prEmit:
					h.runEmit(op)
				case prOutage:
					s := h.sinks[op.dest]
					s.mu.Lock()
					s.downUntil = time.Now().Add(op.dur)
					s.mu.Unlock()
				case prHeal:
					s := h.sinks[op.dest]
					s.mu.Lock()
					s.downUntil = time.Time{}
					s.mu.Unlock()
				case prPause:
					time.Sleep(op.dur)
				case prFlood:
					s := h.sinks[op.dest]
					s.mu.Lock()
					s.downUntil = time.Now().Add(time.Duration(op.fresh*20) * time.Millisecond)
					s.mu.Unlock()
					for i := 0; i < op.fresh; i++ {
						h.runEmit(prOp{kind: prEmit, fresh: 10 + int(op.seed+uint64(i))%20, big: 3, seed: op.seed + uint64(i)})
					}
				}
			}
		}(g)
	}
	wg.Wait()
}

// run executes the plan: each epoch opens the queues and the engine, runs
// its operations, closes everything (orderly), then a last epoch with every
// destination healthy drains what is left.
func (h *prHarness) run() {
	for k, ops := range h.plan.epochs {
		h.epoch.Store(int32(k))
		h.open()
		switch h.plan.closeMode[k] {
		case 1:
			done := make(chan struct{})
			go func() { h.runEpoch(ops); close(done) }()
			time.Sleep(h.plan.closeDelay[k])
			h.closeEngine(0)
			<-done
			h.finishClose()
		case 2:
			h.runEpoch(ops)
			h.close(h.plan.closeDelay[k] + time.Millisecond)
		default:
			h.runEpoch(ops)
			h.close(0)
		}
	}
	last := len(h.plan.epochs)
	h.epoch.Store(int32(last))
	h.final.Store(true)
	for _, s := range h.sinks {
		s.mu.Lock()
		s.healthy = true
		s.mu.Unlock()
	}
	h.open()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	for i, q := range h.queues {
		if err := q.WaitIdle(ctx); err != nil {
			h.violate("drain: %s still has %d events pending", h.plan.dests[i], q.Pending())
		}
	}
	cancel()
	h.close(0)
}

// ---------------------------------------------------------------- checks

func (h *prHarness) check() []string {
	h.mu.Lock()
	viol := append([]string(nil), h.viol...)
	h.mu.Unlock()
	bad := func(format string, args ...any) { viol = append(viol, fmt.Sprintf(format, args...)) }
	nd := len(h.plan.dests)
	last := len(h.ledgers) - 1

	// (4) The ledger of every epoch.
	var queuedPrev []float64
	dropped := make([]float64, nd)
	for k, l := range h.ledgers {
		ep := h.eps[k]
		for _, in := range l.Inputs {
			if in.Input != prInput {
				bad("epoch %d: ledger has an unexpected input %q", k, in.Input)
				continue
			}
			if in.Received != in.Accepted+in.Refused+in.Quarantined {
				bad("epoch %d: input received %v != accepted %v + refused %v + quarantined %v", k, in.Received, in.Accepted, in.Refused, in.Quarantined)
			}
			if in.Accepted-in.Deduplicated != float64(ep.keptAcked) {
				bad("epoch %d: input accepted %v - deduplicated %v = %v, but the acknowledged batches kept %d events",
					k, in.Accepted, in.Deduplicated, in.Accepted-in.Deduplicated, ep.keptAcked)
			}
			if in.Quarantined != float64(ep.rejects) {
				bad("epoch %d: input quarantined %v, the source had %d records quarantined", k, in.Quarantined, ep.rejects)
			}
		}
		var noDest float64
		for _, d := range l.Dropped {
			if d.Stage == "route" && d.Reason == "no_destination" {
				noDest += d.Events
			}
		}
		if noDest != float64(ep.unrouted) {
			bad("epoch %d: ledger dropped route/no_destination %v, acknowledged unrouted events %d", k, noDest, ep.unrouted)
		}
		rows := map[string]DestinationLedger{}
		for _, r := range l.Destinations {
			rows[r.Destination] = r
		}
		queued := make([]float64, nd)
		for d, name := range h.plan.dests {
			r, ok := rows[name]
			if !ok {
				// No series at all: nothing was routed there in this
				// epoch and nothing recovered.
				if k > 0 && queuedPrev[d] > 0 {
					bad("epoch %d: no ledger row for %s though %v events were queued at the last close", k, name, queuedPrev[d])
				}
				continue
			}
			queued[d] = r.Queued
			dropped[d] += r.Dropped
			if !r.Queue {
				bad("epoch %d: %s: ledger does not see its queue", k, name)
			}
			if !r.Balanced {
				bad("epoch %d: %s: unbalanced: accepted %v + recovered %v != delivered %v + quarantined %v + dropped %v + lost %v + queued %v (in motion %v)",
					k, name, r.Accepted, r.Recovered, r.Delivered, r.Quarantined, r.Dropped, r.Lost, r.Queued, r.InMotion)
			}
			if r.Lost != 0 {
				bad("epoch %d: %s: %v events lost (no damage was injected)", k, name, r.Lost)
			}
			if r.Accepted != h.engAcc[k][d] {
				bad("epoch %d: %s: queue accepted %v, engine counted %v accepted", k, name, r.Accepted, h.engAcc[k][d])
			}
			s, q := h.sinks[d], h.dlqs[d]
			if r.Delivered != float64(s.confirmed[k]) {
				bad("epoch %d: %s: ledger delivered %v, the destination confirmed %d", k, name, r.Delivered, s.confirmed[k])
			}
			if r.Quarantined != float64(q.count[k]) {
				bad("epoch %d: %s: ledger quarantined %v, its quarantine stored %d", k, name, r.Quarantined, q.count[k])
			}
			if k > 0 {
				switch {
				case r.Recovered < queuedPrev[d]:
					bad("epoch %d: %s: recovered %v at open, but %v were queued at the last close", k, name, r.Recovered, queuedPrev[d])
				case r.Recovered > queuedPrev[d] && !s.gaveUp(k-1):
					bad("epoch %d: %s: recovered %v at open, %v were queued at the orderly close (every delivery there that failed in that epoch was retried with success)", k, name, r.Recovered, queuedPrev[d])
				}
			}
			if k == last && r.Queued != 0 {
				bad("after the drain: %s still has %v events queued", name, r.Queued)
			}
		}
		queuedPrev = queued
	}

	// (1)-(3) Per event and destination.
	rids := make([]uint64, 0, len(h.recs))
	for rid := range h.recs {
		rids = append(rids, rid)
	}
	sort.Slice(rids, func(i, j int) bool { return rids[i] < rids[j] })
	short := make([]int, nd)
	extraAt := make([]int, nd)
	for _, rid := range rids {
		r := h.recs[rid]
		for d, name := range h.plan.dests {
			s, q := h.sinks[d], h.dlqs[d]
			deliv, quar := s.deliv[rid], q.recs[rid]
			have := len(deliv) + len(quar)
			if r.bad != 0 {
				if have > 0 {
					bad("rid %d (quarantined by the input) reached %s: delivered %d, quarantined %d", rid, name, len(deliv), len(quar))
				}
				continue
			}
			routed := h.routes(r.prio, d)
			switch {
			case !routed && have > 0:
				bad("(2) misrouted: rid %d (%s) reached %s, which does not take %s: delivered %v quarantined %v", rid, r.prio, name, r.prio, deliv, quar)
			case !routed:
			case r.acked > 0 && r.accepted == 0:
				bad("(1) rid %d (%s) was acknowledged %d times but every copy was dropped as a repeat: no batch that kept it was accepted (sent %d, refused %d)",
					rid, r.prio, r.acked, r.sent, r.refused)
			case r.accepted == 0 && have > 0:
				bad("(3) rid %d (%s) was never acknowledged (sent %d, refused %d) but %s holds it: delivered %v quarantined %v (a refused batch must be written nowhere)",
					rid, r.prio, r.sent, r.refused, name, deliv, quar)
			case have < r.accepted:
				short[d] += r.accepted - have
				if !h.drops(d, r.prio) {
					bad("(1) LOST: rid %d (%s) acknowledged (accepted %d times, epochs %v) but %s has delivered %v quarantined %v (on_full %s never drops %s)",
						rid, r.prio, r.accepted, r.acceptedEpochs, name, deliv, quar, h.plan.qc[d].OnFull, r.prio)
				}
			case have > r.accepted:
				extraAt[d]++
				if !s.retryFail[rid] && !h.crossEpochAllowed(d, deliv, quar) {
					bad("(3) DUPLICATE without a failure: rid %d (%s) accepted %d times (epochs %v); %s delivered in epochs %v, quarantined in epochs %v; it never failed there and no delivery there was left failed at the close of those epochs",
						rid, r.prio, r.accepted, r.acceptedEpochs, name, deliv, quar)
				}
			}
		}
		if r.bad != 0 && r.inputQ == 0 {
			bad("rid %d: rejected by the input but never quarantined", rid)
		}
		if r.bad != 0 && len(h.mainQ.recs[rid]) != r.inputQ {
			bad("rid %d: quarantined %d times by the input, the quarantine holds %d", rid, r.inputQ, len(h.mainQ.recs[rid]))
		}
	}
	// Events missing under a drop policy are exactly the ones counted.
	for d, name := range h.plan.dests {
		switch {
		case float64(short[d]) > dropped[d]:
			bad("(1) %s: %d acknowledged events are missing but only %v were counted dropped by on_full=%s", name, short[d], dropped[d], h.plan.qc[d].OnFull)
		case float64(short[d]) < dropped[d] && extraAt[d] == 0:
			bad("(4) %s: %v events counted dropped by on_full=%s, but only %d acknowledged events are missing", name, dropped[d], h.plan.qc[d].OnFull, short[d])
		}
	}
	return viol
}

// crossEpochAllowed: copies of an event in several epochs are within the
// at-least-once bound when, in an earlier of those epochs, some delivery to
// that destination (or to its quarantine) ended on a retryable failure: a
// delivery still failing when Close drains the queue gives up there, and
// the queue keeps its cursor before it, so what was confirmed (or
// quarantined) in that record, and behind it, is delivered again after the
// restart. A failure that a later attempt in the same epoch made good does
// not count.
func (h *prHarness) crossEpochAllowed(d int, deliv, quar []int) bool {
	lo, hi := 1<<30, -1
	for _, e := range append(append([]int(nil), deliv...), quar...) {
		lo, hi = min(lo, e), max(hi, e)
	}
	s := h.sinks[d]
	for e := lo; e < hi; e++ {
		if s.gaveUp(e) {
			return true
		}
	}
	return false
}

// runPlan runs p, checks every invariant and that no goroutine outlived
// the run (5), and reports what broke; it returns the harness for stats.
func runPlan(t testing.TB, p *prPlan, rerun string) *prHarness {
	t.Helper()
	before := goleak.IgnoreCurrent()
	h := newPropHarness(t, p)
	h.run()
	viol := h.check()
	if err := goleak.Find(before); err != nil {
		viol = append(viol, fmt.Sprintf("(5) goroutines left after every queue and the engine closed: %v", err))
	}
	if len(viol) > 0 {
		const show = 15
		msg := strings.Join(viol[:min(len(viol), show)], "\n  ")
		if len(viol) > show {
			msg += fmt.Sprintf("\n  ... and %d more", len(viol)-show)
		}
		t.Errorf("%d invariant violations%s:\n  %s\nplan:\n%s", len(viol), rerun, msg, p)
	}
	return h
}

// prStats summarizes a run for the log.
func (h *prHarness) stats() (events, batches int) {
	for _, ep := range h.eps {
		batches += ep.ok + ep.ref
	}
	return len(h.recs), batches
}

// prCoverage counts what the runs went through, so that a passing run
// shows it exercised the interesting paths.
type prCoverage struct {
	refused, dedupDropped, dropped, destQuar, inputQ, recovered, dupCopies, failClose, retryFail, unrouted float64
}

func (c *prCoverage) add(h *prHarness) {
	for k, l := range h.ledgers {
		c.refused += float64(h.eps[k].ref)
		c.inputQ += float64(h.eps[k].rejects)
		c.unrouted += float64(h.eps[k].unrouted)
		for _, in := range l.Inputs {
			c.dedupDropped += in.Deduplicated
		}
		for _, r := range l.Destinations {
			c.dropped += r.Dropped
			c.destQuar += r.Quarantined
			c.recovered += r.Recovered
		}
	}
	for d, s := range h.sinks {
		for rid, ds := range s.deliv {
			if n := len(ds) + len(h.dlqs[d].recs[rid]) - h.recs[rid].accepted; n > 0 {
				c.dupCopies += float64(n)
			}
		}
		c.retryFail += float64(len(s.retryFail))
		c.failClose += float64(len(s.failClose))
	}
}

func (c prCoverage) String() string {
	return fmt.Sprintf("refused batches %v, dedup drops %v, on_full drops %v, destination quarantines %v, input quarantines %v, unrouted %v, recovered at open %v, events that failed retryably %v, epochs with a failure while closing %v, extra copies (allowed) %v",
		c.refused, c.dedupDropped, c.dropped, c.destQuar, c.inputQ, c.unrouted, c.recovered, c.retryFail, c.failClose, c.dupCopies)
}

// TestPropertyEngineQueues runs random plans (seeds 1..N; N from
// LOGROUTER_PROP_SEEDS, default 24; LOGROUTER_PROP_SEED runs one seed).
func TestPropertyEngineQueues(t *testing.T) {
	seeds := []uint64{}
	if s := os.Getenv("LOGROUTER_PROP_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, n)
	} else {
		n := 24
		if s := os.Getenv("LOGROUTER_PROP_SEEDS"); s != "" {
			n, _ = strconv.Atoi(s)
		}
		for i := 1; i <= n; i++ {
			seeds = append(seeds, uint64(i))
		}
	}
	start := time.Now()
	var ops, evs, batches int
	var cov prCoverage
	for _, seed := range seeds {
		p := genPlan(prRand{rand.New(rand.NewPCG(seed, 0x10c))}, false)
		for _, e := range p.epochs {
			ops += len(e)
		}
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			h := runPlan(t, p, fmt.Sprintf(" (rerun: LOGROUTER_PROP_SEED=%d)", seed))
			e, b := h.stats()
			evs, batches = evs+e, batches+b
			cov.add(h)
		})
	}
	t.Logf("%d seeds, %d operations, %d events, %d batches in %s; %s", len(seeds), ops, evs, batches, time.Since(start).Round(time.Millisecond), cov)
}

// FuzzPropertyEngineQueues: the fuzzer's bytes choose the plan
// (destinations, routes, queue settings, dedup, operations, how each epoch
// closes); the destinations' random behaviour is seeded from the plan too.
// Run with a short -fuzzminimizetime: every input runs real disk queues
// (~0.1-0.3s), and the default minimization of 60s per new input stalls it.
func FuzzPropertyEngineQueues(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	f.Add([]byte("\x00\x00\x01\x02\x00\x05\x01\x01\x02\x00\x03\x00\x01\x02\x09\x04\x07\x00\x01\x02\x03\x0b\x02\x00\x01\x05\x0e\x01\x02\x0f\x03\x0a"))
	for seed := uint64(1); seed <= 4; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		b := make([]byte, 96)
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 512 {
			data = data[:512]
		}
		runPlan(t, genPlan(&prBytes{data: data}, true), "")
	})
}
