package siem

// Fault tests from a review of the HEC indexer-acknowledgement path (hec.go
// awaitAcks, hec_ack.go ackTracker): each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// reviewAckHEC is a minimal Splunk HEC with indexer acknowledgement, as
// Splunk documents it: every 200 carries {"text":"Success","code":0,
// "ackId":N} with N increasing per channel; POST /services/collector/ack
// with {"acks":[...]} answers {"acks":{"N":true|false}}, and an ackId
// reported true is forgotten. The acks of requests holding an event named in
// held stay false until release.
type reviewAckHEC struct {
	mu        sync.Mutex
	next      int64
	acks      map[int64]*reviewAck
	held      map[string]bool
	indexed   map[string]int // event id -> times indexed
	requests  int
	confirmed int // acks reported true
	srv       *httptest.Server
}

type reviewAck struct {
	ready  bool
	events []string
}

func newReviewAckHEC(t *testing.T) *reviewAckHEC {
	t.Helper()
	s := &reviewAckHEC{acks: map[int64]*reviewAck{}, held: map[string]bool{}, indexed: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/services/collector/event", s.event)
	mux.HandleFunc("/services/collector/ack", s.ack)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *reviewAckHEC) event(w http.ResponseWriter, r *http.Request) {
	var rd io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		rd = zr
	}
	body, _ := io.ReadAll(rd)
	var ids []string
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		var env struct {
			Event struct {
				ID string `json:"id"`
			} `json:"event"`
		}
		if dec.Decode(&env) != nil {
			break
		}
		ids = append(ids, env.Event.ID)
	}
	s.mu.Lock()
	s.requests++
	id := s.next
	s.next++
	a := &reviewAck{ready: true, events: ids}
	for _, e := range ids {
		s.indexed[e]++
		if s.held[e] {
			a.ready = false
		}
	}
	s.acks[id] = a
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"text":"Success","code":0,"ackId":%d}`, id)
}

func (s *reviewAckHEC) ack(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Acks []int64 `json:"acks"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	out := map[string]bool{}
	s.mu.Lock()
	for _, id := range req.Acks {
		ok := false
		if a := s.acks[id]; a != nil && a.ready {
			ok = true
			delete(s.acks, id) // reported true once, then forgotten
			s.confirmed++
		}
		out[strconv.FormatInt(id, 10)] = ok
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"acks": out})
}

// hold keeps the acks of requests with these events false (until release).
func (s *reviewAckHEC) hold(events ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		s.held[e] = true
	}
}

// release makes the held acks of requests with event e true.
func (s *reviewAckHEC) release(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.held, e)
	for _, a := range s.acks {
		for _, x := range a.events {
			if x == e {
				a.ready = true
			}
		}
	}
}

// heldAckID returns the ackId of a request whose ack is held.
func (s *reviewAckHEC) heldAckID() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, a := range s.acks {
		if !a.ready {
			return id, true
		}
	}
	return 0, false
}

func (s *reviewAckHEC) setNext(n int64) {
	s.mu.Lock()
	s.next = n
	s.mu.Unlock()
}

func (s *reviewAckHEC) snapshot() (requests, confirmed int, indexed map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	indexed = make(map[string]int, len(s.indexed))
	for k, v := range s.indexed {
		indexed[k] = v
	}
	return s.requests, s.confirmed, indexed
}

func newReviewAckSink(t *testing.T, s *reviewAckHEC, opts ...Option) *HEC {
	t.Helper()
	gz := false
	h, err := NewHEC("splunk", HECConfig{
		URL: s.srv.URL, Token: Secret(testToken), DefaultHost: "router-1", Timeout: 5 * time.Second, Gzip: &gz,
		MaxBatchBytes: 64, MaxConcurrentRequests: 2, // one request per event
		Ack: HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: 10 * time.Second},
	}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

// reviewWaitFor polls cond every 5 ms for up to 5 s.
func reviewWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAckConfirmedEventsNotReportedFailedOnCancel
//
// Fault: awaitAcks (hec.go) takes the outcomes of a Write's requests one by
// one, in request order, blocking on each. When the Write's context ends
// (the queue's shutdown, or Close whose deadline expired: Close cancels the
// Writes it no longer waits for) while it is blocked on a request whose ack
// is still false, the ctx.Done branch marks every request still in
// partAckWait as retryable, without looking at the outcomes that are
// already sitting in their waiters' channels. A request that Splunk
// acknowledged (the poller read {"acks":{"1":true}} and resolved it) is then
// reported undelivered: Write returns a plain retryable error for the whole
// batch, the queue keeps the event and sends it again: a duplicate of an
// event Splunk confirmed as indexed. doc.go says ack timeouts "are the only
// source of duplicates in ack mode besides connection errors", and a
// *pipeline.BatchError can name exactly the events that were not
// confirmed; here neither an ack timed out nor a connection failed.
//
// Sequence: a batch of two events sent as two requests (max_batch_bytes
// tiny); the first request's ack stays false, the second's is true at once.
// Once the poller has confirmed the second (only the first is pending),
// the Write is aborted: by its context, and by Close with an expired
// deadline.
//
// Expected: Write reports only event 0 as failed (retryable), in a
// *pipeline.BatchError; event 1, whose ack was confirmed, is delivered.
// Fix: in awaitAcks' ctx.Done branch, take every outcome that is already
// available (a non-blocking receive on q.ack.res: ackConfirmed and
// ackUnsupported are delivered, ackTimedOut retryable) before cancelling the
// waiters that have none (and prefer an available outcome to ctx.Done in
// the blocking select).
func TestAckConfirmedEventsNotReportedFailedOnCancel(t *testing.T) {
	for _, how := range []string{"write context cancelled", "close deadline"} {
		t.Run(how, func(t *testing.T) {
			s := newReviewAckHEC(t)
			s.hold("e000000")
			h := newReviewAckSink(t, s)
			b := makeBatch(idRange(0, 2, "ws"), pipeline.P1)
			defer b.Release()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- h.Write(ctx, b) }()

			// event 1's ack was reported true and resolved by the poller; only
			// event 0's request is still waited for
			reviewWaitFor(t, "the ack of event 1's request to be confirmed", func() bool {
				req, confirmed, _ := s.snapshot()
				held, ok := s.heldAckID()
				if req != 2 || confirmed != 1 || !ok {
					return false
				}
				h.acks.mu.Lock()
				defer h.acks.mu.Unlock()
				_, waiting := h.acks.pending[held]
				return len(h.acks.pending) == 1 && waiting
			})
			switch how {
			case "write context cancelled":
				cancel()
			case "close deadline":
				cctx, ccancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
				defer ccancel()
				_ = h.Close(cctx)
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("Write did not return after it was aborted")
			}
			if err == nil {
				t.Fatal("Write returned nil although the ack of event 0 never came")
			}
			var be *pipeline.BatchError
			if !errors.As(err, &be) {
				t.Fatalf("Write returned %v: the whole batch is retried, event 1 too, although Splunk acknowledged it (a duplicate no ack timeout explains); want a *pipeline.BatchError naming event 0 only", err)
			}
			for _, it := range be.Items {
				if it.Index == 1 {
					t.Errorf("event 1 reported failed (%v) although its ack was confirmed", it.Err)
				}
			}
			if len(be.Items) != 1 || be.Items[0].Index != 0 || pipeline.IsPermanent(be.Items[0].Err) {
				t.Errorf("items %+v, want event 0 alone, retryable", be.Items)
			}
		})
	}
}

// TestAckIDWindowMissesRestart
//
// Fault: ackTracker.add (hec_ack.go) notices a Splunk restart or an expired
// channel (ackIds numbered from 0 again) only when an ackId is found in
// t.issued, and t.issued is trimmed to the most recent ids once it holds
// more than maxIssuedIDs (65536): ids below maxIssued-32768 are dropped. So
// on a channel that has carried more than 65536 requests (a day of a busy
// destination), the restart is not noticed when it happens: the new
// incarnation's ackIds 0, 1, 2... are no longer in t.issued. It is
// "noticed" about 32768 requests later, when the new incarnation's ids reach
// the oldest id still remembered: add then takes the restart to be happening
// now and times out every request waiting for its ack, all of them requests
// of the new incarnation whose acks Splunk will report true. Each is sent
// again at once, without any ack timeout: duplicates, counted as ack
// timeouts (logrouter_siem_ack_timeouts_total) although none timed out.
// doc.go: "A request not confirmed within ack.timeout is sent again ... and
// they are the only source of duplicates in ack mode besides connection
// errors"; add's own comment gives the reason for the mass resend as the
// restart that is happening, not one 32768 requests old.
//
// Sequence: the client sees ackIds 0..65536 confirmed on its channel (the
// tracker is fed exactly as sendSpan and the poller feed it, add(ackId) for
// each 200 and resolve(ackId, ackConfirmed) for each true, in-process to
// keep the test fast); Splunk restarts and the client sees ackIds
// 0..32766 of the new incarnation confirmed. Then, over HTTP, Write A gets
// ackId 32767 (its ack true 300 ms later) and, while A waits, Write B gets
// ackId 32768.
//
// Expected: both Writes return nil, each event is indexed once and no ack
// timeout is counted (ack.timeout is 10 s). Found: B's ackId 32768 is taken
// for a reused id, A's request is "timed out" and sent again (event 100
// indexed twice). Fix: in add, also treat an ackId far below the highest one
// seen (id < t.maxIssued-maxIssuedIDs/2: ids on a channel only grow, and
// answers are never that far out of order) as a restart, so that the new
// incarnation's first ackId is noticed when it comes; or keep the lowest id
// ever issued on the channel rather than a trimmed set.
func TestAckIDWindowMissesRestart(t *testing.T) {
	s := newReviewAckHEC(t)
	m := NewMetrics(nil)
	h := newReviewAckSink(t, s, WithMetrics(m))

	confirm := func(from, to int64) { // what sendSpan and the poller do for each confirmed request
		for id := from; id < to; id++ {
			w := h.acks.add(id)
			h.acks.resolve(id, ackConfirmed)
			if o := <-w.res; o != ackConfirmed {
				t.Fatalf("seeding ackId %d: outcome %d", id, o)
			}
		}
	}
	confirm(0, maxIssuedIDs+1) // the first incarnation: 65537 requests confirmed
	confirm(0, 32767)          // Splunk restarted: the new incarnation numbers from 0 again
	s.setNext(32767)
	if n := counterValue(t, m.AckTimeouts); n != 0 {
		t.Fatalf("ack timeouts %v before the test proper", n)
	}

	s.hold("e000100")
	aDone := make(chan error, 1)
	go func() {
		b := makeBatch(idRange(100, 101, "ws"), pipeline.P1)
		defer b.Release()
		aDone <- h.Write(context.Background(), b)
	}()
	reviewWaitFor(t, "Write A's request to wait for its ack", func() bool {
		req, _, _ := s.snapshot()
		return req == 1 && h.acks.count() == 1
	})
	time.AfterFunc(300*time.Millisecond, func() { s.release("e000100") })

	b := makeBatch(idRange(200, 201, "ws"), pipeline.P1)
	errB := h.Write(context.Background(), b)
	b.Release()
	var errA error
	select {
	case errA = <-aDone:
	case <-time.After(8 * time.Second):
		t.Fatal("Write A did not return")
	}
	if errA != nil || errB != nil {
		t.Fatalf("Write A: %v, Write B: %v", errA, errB)
	}
	_, _, indexed := s.snapshot()
	timeouts := counterValue(t, m.AckTimeouts)
	if indexed["e000100"] != 1 || timeouts != 0 {
		t.Errorf("event 100 indexed %d times, ack timeouts %v: Write A's request, acknowledged 300 ms after it was sent (ack.timeout 10s), was resent at once because Write B's ackId 32768, of the same incarnation, was taken for one handed out again; the restart itself (ackId 0 handed out again) was never noticed",
			indexed["e000100"], timeouts)
	}
}
