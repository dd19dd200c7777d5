package siem

// Fault tests from a review: each failed before the fix of the bug it
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
	"github.com/logrouter/logrouter/sinks/siem/hecfake"
)

// TestHECEmpty200NotDelivered: every Splunk HEC answer is a JSON
// object ({"text":"Success","code":0} at least). A 200 with an empty body is
// no HEC answer: something in the way answered it (nginx "return 200;", a
// load balancer's fixed response), and the events reached no indexer. Like
// the HTML page of TestHECProxyPage, it must be a retryable error, never
// "delivered", and in ack mode it must not switch the destination to no-ack
// mode for good. hec.go only treats a *non-empty* non-JSON 200 body as "no
// HEC answer"; an empty one is counted delivered (the events are lost) and,
// with ack on, turns acknowledgement off.
func TestHECEmpty200NotDelivered(t *testing.T) {
	for _, ack := range []bool{false, true} {
		var mu sync.Mutex
		got := 0
		page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			mu.Lock()
			got++
			mu.Unlock()
			w.WriteHeader(http.StatusOK) // no body at all
		}))
		t.Cleanup(page.Close)
		fake := newFake(t, hecfake.Config{})
		h := newTestHEC(t, fake, func(c *HECConfig) {
			c.URL = page.URL
			c.Ack.Enabled = ack
		})
		b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
		err := h.Write(context.Background(), b)
		b.Release()
		mu.Lock()
		n := got
		mu.Unlock()
		if n == 0 {
			t.Fatalf("ack %v: the request never reached the test server", ack)
		}
		if err == nil || pipeline.IsPermanent(err) {
			t.Errorf("ack %v: a 200 with an empty body (no HEC answer) gave %v; want a retryable error: the events reached no indexer", ack, err)
		}
		if h.ackOff.Load() {
			t.Errorf("ack %v: an empty 200 switched the destination to no-ack mode", ack)
		}
	}
}

// TestHECRedirectNotFollowed: doc.go's table says "other (1xx, 3xx)
// retryable". The HEC client is a plain http.Client with the default
// redirect policy, so a 301/302/303 (a load balancer's http->https redirect,
// a maintenance redirect) is followed as a GET *without the body*, and
// whatever answers that GET decides the events' fate:
//   - a 200 JSON answer: Write returns nil although not one event was sent
//     anywhere (silent loss);
//   - the answer HEC gives a request without data (400 code 5, "No data"):
//     every event is quarantined as permanent, where the table promises a
//     retry.
//
// Expected in both cases: the 3xx itself is the answer, and it is retryable
// (the events stay queued). (A 307/308 is already not followed: the request
// body has no GetBody, so the client returns the 3xx.)
func TestHECRedirectNotFollowed(t *testing.T) {
	for _, target := range []struct {
		name   string
		status int
		body   string
	}{
		{"200 success", http.StatusOK, `{"text":"Success","code":0}`},
		{"400 no data", http.StatusBadRequest, `{"text":"No data","code":5}`},
	} {
		t.Run(target.name, func(t *testing.T) {
			var mu sync.Mutex
			var redirected []string // what the redirect target saw
			mux := http.NewServeMux()
			mux.HandleFunc("/services/collector/event", func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				http.Redirect(w, r, "/moved", http.StatusMovedPermanently)
			})
			mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				redirected = append(redirected, fmt.Sprintf("%s with %d body bytes", r.Method, len(body)))
				mu.Unlock()
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(target.status)
				_, _ = io.WriteString(w, target.body)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			fake := newFake(t, hecfake.Config{})
			h := newTestHEC(t, fake, func(c *HECConfig) { c.URL = srv.URL })
			b := makeBatch(idRange(0, 3, "ws"), pipeline.P1)
			defer b.Release()
			err := h.Write(context.Background(), b)
			mu.Lock()
			t.Logf("redirect target saw: %v", redirected)
			mu.Unlock()
			var be *pipeline.BatchError
			if err == nil || pipeline.IsPermanent(err) || errors.As(err, &be) {
				t.Errorf("301 from the HEC url: got %v; want a plain retryable error (3xx is retryable, and the events were never posted)", err)
			}
		})
	}
}

// restartingHEC is a minimal Splunk HEC with indexer acknowledgement whose
// ack state can be wiped, as an indexer restart (or an expired channel)
// wipes it: ackIds then start again from 0 on the same channel.
type restartingHEC struct {
	mu      sync.Mutex
	next    int64
	acks    map[int64]bool // id -> ready
	indexed map[string]int // event id -> times indexed
	mode    string         // "ok", "lose" (answer 200+ackId, never index), "slow" (index, ack, answer late)
	seen    int            // event requests
	srv     *httptest.Server
}

func newRestartingHEC(t *testing.T) *restartingHEC {
	s := &restartingHEC{acks: map[int64]bool{}, indexed: map[string]int{}, mode: "ok"}
	mux := http.NewServeMux()
	mux.HandleFunc("/services/collector/event", s.event)
	mux.HandleFunc("/services/collector/ack", s.ack)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

func (s *restartingHEC) event(w http.ResponseWriter, r *http.Request) {
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(zr)
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
	s.seen++
	mode := s.mode
	id := s.next
	s.next++
	if mode != "lose" {
		for _, e := range ids {
			s.indexed[e]++
		}
		s.acks[id] = true
	} else {
		s.acks[id] = false // accepted, in flight in the indexer; the restart loses it
	}
	s.mu.Unlock()
	if mode == "slow" {
		time.Sleep(400 * time.Millisecond) // the answer travels slowly; the indexer is done already
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"text":"Success","code":0,"ackId":%d}`, id)
}

func (s *restartingHEC) ack(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Acks []int64 `json:"acks"`
	}
	_ = json.NewDecoder(r.Body).Decode(&req)
	out := map[string]bool{}
	s.mu.Lock()
	for _, id := range req.Acks {
		ok := s.acks[id]
		if ok {
			delete(s.acks, id) // reported true once, then forgotten, as Splunk does
		}
		out[strconv.FormatInt(id, 10)] = ok
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"acks": out})
}

// restart wipes the channel's ack state: ids start again from 0.
func (s *restartingHEC) restart() {
	s.mu.Lock()
	s.next, s.acks = 0, map[int64]bool{}
	s.mu.Unlock()
}

func (s *restartingHEC) set(mode string) {
	s.mu.Lock()
	s.mode = mode
	s.mu.Unlock()
}

// TestHECAckIDReusedAfterRestart: doc.go says Write returns nil in
// ack mode "only once every request's ackId is confirmed", and an ack that
// never comes must not count as delivered. After an indexer restart (or an
// expired channel) Splunk hands out ackIds from 0 again on the same channel,
// so a request of the old incarnation still waiting for ackId 3 can be
// "confirmed" by the new incarnation's request 3. hec_ack.go guards against
// that only when the new request's ackId is registered (add) before the
// poller asks about the id; if the poll comes first (the answer of request 3
// is still on its way while the indexer already acknowledged it), resolve
// confirms the old waiter, and the old request's events, lost in the
// restart, are reported delivered.
//
// Here the client had already seen ackIds 0..2 confirmed before the restart,
// and sees 0..2 handed out again afterwards: proof that the channel was
// reset and that the old ackId 3 can never be confirmed. Expected: the old
// request is timed out and sent again (so its event is indexed before its
// Write returns nil), or its Write returns an error; never nil with the
// event lost.
func TestHECAckIDReusedAfterRestart(t *testing.T) {
	s := newRestartingHEC(t)
	cfg := HECConfig{URL: s.srv.URL, Token: Secret(testToken), DefaultHost: "router-1", Timeout: 5 * time.Second,
		MaxBatchBytes: 64, MaxConcurrentRequests: 1,
		Ack: HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: 3 * time.Second}}
	h, err := NewHEC("splunk", cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = h.Close(context.Background()) }()
	write := func(ctx context.Context, from, to int) error {
		b := makeBatch(idRange(from, to, "ws"), pipeline.P1)
		defer b.Release()
		return h.Write(ctx, b)
	}

	// incarnation 1: ackIds 0, 1, 2 confirmed
	if err := write(context.Background(), 0, 3); err != nil {
		t.Fatal(err)
	}
	// request A (event 100) gets ackId 3; the indexer restarts before
	// indexing it
	s.set("lose")
	aDone := make(chan error, 1)
	go func() { aDone <- write(context.Background(), 100, 101) }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		s.mu.Lock()
		n := s.seen
		s.mu.Unlock()
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("request A never arrived")
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // A is registered and polled (false)
	s.restart()
	s.set("ok")

	// incarnation 2: ackIds 0, 1, 2 again
	if err := write(context.Background(), 200, 203); err != nil {
		t.Fatal(err)
	}
	// request C gets ackId 3 of the new incarnation, indexed and
	// acknowledged at once, its answer slow
	s.set("slow")
	cctx, cancel := context.WithCancel(context.Background())
	cDone := make(chan error, 1)
	go func() { cDone <- write(cctx, 300, 301) }()

	var aErr error
	select {
	case aErr = <-aDone:
	case <-time.After(20 * time.Second):
		t.Fatal("Write A did not return")
	}
	cancel()
	<-cDone
	s.mu.Lock()
	n := s.indexed["e000100"]
	s.mu.Unlock()
	if aErr == nil && n == 0 {
		t.Errorf("Write A returned nil (acknowledged) but its event was never indexed: its ackId 3 was lost in the restart and the new incarnation's ackId 3 confirmed it")
	}
}
