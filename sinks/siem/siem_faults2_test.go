package siem

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/siem/hecfake"
)

// Fault tests from a second review, of the late-ack and unacknowledged-
// bytes changes (each failed before its fix). Fixed: dropConn reads the
// unacknowledged count at the break only (Linux still reports it after a
// reset; a count kept from the last write was stale and replayed what an
// idle close had seen read); a copy confirmed while a round waits, or
// before a resend fails or the Write ends, delivers its spans.

// TestSyslogIdleCloseReplaysReadBatches: syslog.go dropConn takes
// unsent = max(unsentBytes(conn), s.lastUnsent), where lastUnsent is the
// send queue read right after the last write (remember). That count is
// stale: bytes in flight at the moment of a write (any RTT > 0, or a
// receiver briefly behind) are acknowledged soon after, yet at any later
// break, even a clean idle-timeout close long after everything was read,
// the batches covering lastUnsent are kept "whatever their age" and
// replayed: duplicates at every idle close. Expected (as before the
// commit): a receiver that read everything and closed cleanly long past
// replay_age gets each event exactly once; no replay.
func TestSyslogIdleCloseReplaysReadBatches(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIOCOUTQ is Linux's")
	}
	ln := smallBufferListener(t)
	defer ln.Close()
	var mu sync.Mutex
	got := map[string]int{}
	conns := 0
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns++
			first := conns == 1
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if first {
					time.Sleep(300 * time.Millisecond) // briefly behind: its buffer full
				}
				r := &receiver{octet: true}
				br := bufio.NewReader(c)
				for {
					// a healthy receiver with an idle timeout: reads all, closes when idle
					_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
					m, err := r.frame(br)
					if err != nil {
						return
					}
					if i := strings.Index(m, `"id":"`); i >= 0 {
						mu.Lock()
						got[m[i+6:i+13]]++
						mu.Unlock()
					}
				}
			}()
		}
	}()
	s := newTestSyslog(t, SyslogConfig{
		Address: ln.Addr().String(), ReplayAge: 100 * time.Millisecond, WriteTimeout: 2 * time.Second,
		DialTimeout: time.Second, ReconnectBackoffMin: 10 * time.Millisecond, ReconnectBackoffMax: 50 * time.Millisecond,
	})
	defer func() {
		_ = s.Close(context.Background())
		_ = ln.Close()
		wg.Wait()
	}()
	const n = 8
	for i := range n {
		b := makeBatch([]string{testEvent(i, "ws-1", `"pad":"`+strings.Repeat("p", 1000)+`"`)}, pipeline.P1)
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		b.Release()
	}
	// The receiver reads everything at 300 ms and closes the idle
	// connection ~300 ms later; leave time for a repair to replay.
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	var dup []string
	for id, k := range got {
		if k > 1 {
			dup = append(dup, id)
		}
	}
	if len(got) != n || len(dup) > 0 {
		t.Errorf("receiver read every byte and closed an idle connection cleanly, long past replay_age: got %d distinct events over %d connections, duplicated %v (the batches covering the send queue counted at the last write were replayed though acknowledged and read)", len(got), conns, dup)
	}
}

// review2Front is a Splunk HEC in front of fake that sends event requests
// with body containing e000001 first time late (250 ms, so that its ackId
// is handed out later than e000000's), and answers the second request of
// e000000 (its resend) with failResend, or forwards it.
func review2Front(t *testing.T, fake *hecfake.Server, failResend bool) (url string, copiesA func() int) {
	u, err := neturl.Parse(fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	seenA, seenB := 0, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/services/collector/event") {
			rp.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		mu.Lock()
		isA, isB := bytes.Contains(body, []byte("e000000")), bytes.Contains(body, []byte("e000001"))
		if isA {
			seenA++
		}
		if isB {
			seenB++
		}
		a, b := seenA, seenB
		mu.Unlock()
		switch {
		case isB && b == 1:
			time.Sleep(250 * time.Millisecond)
		case isA && a == 2 && failResend:
			time.Sleep(250 * time.Millisecond) // the first copy is confirmed meanwhile
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"text":"Server is busy","code":9}`)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int { mu.Lock(); defer mu.Unlock(); return seenA }
}

func review2HEC(t *testing.T, url string, m *Metrics) *HEC {
	no := false
	h, err := NewHEC("splunk", HECConfig{
		URL: url, Token: Secret(testToken), DefaultHost: "router-1", Timeout: 5 * time.Second,
		Gzip: &no, MaxBatchBytes: 1, // one request per event
		Ack: HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond},
	}, WithMetrics(m), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close(context.Background()) })
	return h
}

// TestHECResendsWhatALateAckConfirmed: awaitAcks decides to resend
// a part (take, ackTimedOut: resend = append(...)) at its timeout, then
// goes on waiting for the round's other parts, and sends the resends only
// after the whole round: a kept copy confirmed meanwhile (late[i].w.res
// holds ackConfirmed) is not looked at again before sendAll(resend), so
// events Splunk confirmed are indexed again (and counted in
// resent{reason="ack_timeout"}). Here: e000000's ack (timeout 200 ms,
// Splunk confirms at 300 ms) times out at ~200 ms, is confirmed at ~300 ms
// while the round waits for e000001 (answered 250 ms later, times out at
// ~450 ms), and is resent at ~450 ms anyway. Expected: a part whose kept
// copy was confirmed before the resends go out is delivered, not resent:
// e000000 indexed once.
func TestHECResendsWhatALateAckConfirmed(t *testing.T) {
	_, m, copiesA, err, got := lateAckWrite(t, false)
	t.Logf("Write: %v; indexed %v; sent e000000 %d times; resent(ack_timeout) %v", err, got, copiesA(),
		counterValue(t, m.Resent.WithLabelValues("splunk", "ack_timeout")))
	if got["e000000"] > 1 {
		t.Errorf("e000000 indexed %d times: resent after its first copy's ack had been confirmed (the round went on waiting for e000001 before sending the resends)", got["e000000"])
	}
}

// TestHECLateConfirmationIgnoredWhenResendFails: awaitAcks
// consults the kept copies (late, confirmedLate) only for parts whose own
// ack timed out, or that still wait at ctx.Done. A part whose resend was
// answered with anything else (503 busy, a network error, a 5xx, 401) is
// returned partRetry as it is, though a kept copy of its events was
// confirmed by Splunk before the Write returned: the events are counted
// retryable and the queue sends them once more (a duplicate), against the
// commit's rule "the first confirmation of any copy delivers". (The same
// holds on the ctx.Done path for a part whose resend was not made yet:
// q.kind == partRetry && q.err == nil gets ctx.Err() without
// confirmedLate.) Expected: e000000's copy 1, confirmed at ~300 ms, before
// its resend's 503 and before Write returned, delivers it: Write nil.
func TestHECLateConfirmationIgnoredWhenResendFails(t *testing.T) {
	fake, _, copiesA, err, got := lateAckWrite(t, true)
	t.Logf("Write: %v; indexed %v; sent e000000 %d times; acks confirmed %d", err, got, copiesA(), fake.Stats().AcksConfirmed)
	if copiesA() != 2 || got["e000000"] != 1 {
		t.Skipf("setup: e000000 sent %d times, indexed %d", copiesA(), got["e000000"])
	}
	var be *pipeline.BatchError
	if errors.As(err, &be) {
		for _, it := range be.Items {
			if it.Index == 0 {
				t.Errorf("e000000 reported not delivered (%v) though Splunk had confirmed its first copy (indexed once) before Write returned: the queue sends it again", it.Err)
			}
		}
	} else if err != nil {
		t.Errorf("Write: %v, though Splunk confirmed e000000's first copy before Write returned", err)
	}
}

// lateAckWrite writes events e000000 and e000001 through review2Front
// to a fake Splunk that confirms each ackId 300 ms after its request, and
// returns what Splunk indexed (countIDs) and how often e000000 was sent.
// With failResend it writes e000000 alone, so that its resend goes out at
// its ack timeout (~200 ms; no other part holds the round) and is answered
// 503 at ~450 ms, after the first copy's confirmation (~300 ms).
func lateAckWrite(t *testing.T, failResend bool) (fake *hecfake.Server, m *Metrics, copiesA func() int, err error, got map[string]int) {
	t.Helper()
	fake = newFake(t, hecfake.Config{Ack: true})
	fake.SetAckDelay(300 * time.Millisecond)
	url, copiesA := review2Front(t, fake, failResend)
	m = NewMetrics(nil)
	h := review2HEC(t, url, m)
	n := 2
	if failResend {
		n = 1
	}
	b := makeBatch(idRange(0, n, "ws"), pipeline.P1)
	defer b.Release()
	err = h.Write(context.Background(), b)
	return fake, m, copiesA, err, countIDs(t, fake.Events())
}

// TestHECLateConfirmationEndsTheWait: once Splunk confirms a copy kept
// late (its ack timed out and it was sent again), the Write waiting for
// the resend's ack returns at that confirmation, not at the resend's own
// timeout. Here the ack timeout is 1 s and Splunk confirms every ackId
// 1.5 s after its request: the first copy times out at ~1 s and is sent
// again, is confirmed at ~1.5 s, and the resend's ack would time out at
// ~2 s. Before, the Write waited for that timeout.
func TestHECLateConfirmationEndsTheWait(t *testing.T) {
	fake := newFake(t, hecfake.Config{Ack: true})
	fake.SetAckDelay(1500 * time.Millisecond)
	no := false
	m := NewMetrics(nil)
	h, err := NewHEC("splunk", HECConfig{
		URL: fake.URL(), Token: Secret(testToken), DefaultHost: "router-1", Timeout: 5 * time.Second,
		Gzip: &no, Ack: HECAckConfig{Enabled: true, PollInterval: 20 * time.Millisecond, Timeout: time.Second},
	}, WithMetrics(m), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(context.Background())
	b := makeBatch(idRange(0, 1, "ws"), pipeline.P1)
	defer b.Release()
	start := time.Now()
	err = h.Write(context.Background(), b)
	took := time.Since(start)
	got := countIDs(t, fake.Events())
	t.Logf("Write: %v after %v; indexed %v", err, took, got)
	if err != nil {
		t.Fatalf("Write: %v, though Splunk confirmed the first copy", err)
	}
	if got["e000000"] != 2 {
		t.Skipf("setup: e000000 indexed %d times, want 2 (sent again at the first timeout)", got["e000000"])
	}
	if took > 1850*time.Millisecond {
		t.Errorf("Write returned after %v: it waited for the resend's ack timeout (~2 s), not for the first copy's late confirmation (~1.5 s)", took)
	}
}
