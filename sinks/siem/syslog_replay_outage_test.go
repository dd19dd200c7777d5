package siem

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// modalReceiver is a TCP receiver whose behaviour the test switches:
//
//	modeDiscard: reads and drops everything (a receiver that crashes later
//	             loses what it had not processed yet);
//	modeReset:   accepts, reads nothing and resets the connection after a
//	             short pause (a load balancer without a healthy backend, a
//	             receiver that is still starting);
//	modeRecord:  reads everything and keeps the bytes;
//	modeClose:   accepts and closes at once, reading nothing (a clean
//	             close: FIN, then resets what arrives after it).
type modalReceiver struct {
	ln   net.Listener
	mode atomic.Int32
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]bool
	rec   bytes.Buffer
}

const (
	modeDiscard = iota
	modeReset
	modeRecord
	modeClose
)

func newModalReceiver(t *testing.T) *modalReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &modalReceiver{ln: ln, conns: map[net.Conn]bool{}}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			r.conns[c] = true
			r.mu.Unlock()
			r.wg.Add(1)
			go r.serve(c, r.mode.Load())
		}
	}()
	t.Cleanup(r.close)
	return r
}

func (r *modalReceiver) serve(c net.Conn, mode int32) {
	defer r.wg.Done()
	defer func() {
		r.mu.Lock()
		delete(r.conns, c)
		r.mu.Unlock()
		_ = c.Close()
	}()
	switch mode {
	case modeDiscard:
		_, _ = io.Copy(io.Discard, c)
	case modeReset:
		time.Sleep(30 * time.Millisecond)
		_ = c.(*net.TCPConn).SetLinger(0)
	case modeClose:
	case modeRecord:
		b, _ := io.ReadAll(c)
		r.mu.Lock()
		r.rec.Write(b)
		r.mu.Unlock()
	}
}

// killConns resets every open connection (a crash).
func (r *modalReceiver) killConns() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c := range r.conns {
		_ = c.(*net.TCPConn).SetLinger(0)
		_ = c.Close()
	}
}

func (r *modalReceiver) recorded() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rec.String()
}

func (r *modalReceiver) close() {
	_ = r.ln.Close()
	r.killConns()
	r.wg.Wait()
}

// TestReplayWindowSurvivesFailedReplays: the package documentation
// promises that after a break the destination "resends the batches it wrote
// during replay_age before the break", so that "a receiver restart loses
// nothing that it had not read for longer than replay_age". Batch A is
// written (Write returns nil) right before the receiver crashes, so A must
// be resent once a receiver takes data again, however long the restart
// takes: while the receiver is down and connections are refused, the window
// is kept. But when the restart instead shows up as connections that are
// accepted and then reset (a load balancer in front of the receiver, a
// receiver still starting), each failed replay called dropConn, which cut
// the window again at (this new break - replay_age) using the batches' old
// write times. After replay_age of such failures A was silently dropped
// from the window and never resent, although Write had reported it
// delivered.
func TestReplayWindowSurvivesFailedReplays(t *testing.T) {
	rcv := newModalReceiver(t)
	const replayAge = 200 * time.Millisecond
	s := newTestSyslog(t, SyslogConfig{
		Address: rcv.ln.Addr().String(), ReplayAge: replayAge,
		ReconnectBackoffMin: time.Millisecond, ReconnectBackoffMax: 5 * time.Millisecond,
	})
	ctx := context.Background()

	// A: one event large enough (16 MiB) that it never fits in the socket
	// buffers, so that a replay to a receiver that reads nothing fails
	// deterministically.
	a := makeBatch([]string{testEvent(0, "ws", `"blob":"`+strings.Repeat("x", 16<<20)+`"`)}, pipeline.P1)
	defer a.Release()
	rcv.mode.Store(modeDiscard)
	if err := s.Write(ctx, a); err != nil {
		t.Fatalf("write A: %v", err)
	}
	// The receiver crashes right after A was written.
	rcv.mode.Store(modeReset)
	rcv.killConns()
	time.Sleep(50 * time.Millisecond) // the watcher sees the reset

	// The receiver comes back slowly: for 3*replay_age its connections are
	// accepted and reset. Writes of B go on meanwhile (the queue retries).
	b := makeBatch([]string{testEvent(1, "ws", "")}, pipeline.P1)
	defer b.Release()
	failed, ok := 0, 0
	for end := time.Now().Add(3 * replayAge); time.Now().Before(end); {
		if err := s.Write(ctx, b); err != nil {
			failed++
		} else {
			ok++
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("while the receiver resets connections: %d writes of B failed, %d returned nil", failed, ok)

	// The receiver is healthy again: B is written, and A must be resent first.
	rcv.mode.Store(modeRecord)
	time.Sleep(100 * time.Millisecond) // the last reset-mode connection is gone, and seen to be
	writeUntilSettled(t, s, b)         // refused until a connection lasts replay_age (A fills the window)
	_ = s.Close(ctx)                   // EOF at the receiver: it has read everything
	waitFor(t, "B at the receiver", 10*time.Second, func() bool { return strings.Contains(rcv.recorded(), `"id":"e000001"`) })
	if !strings.Contains(rcv.recorded(), `"id":"e000000"`) {
		t.Errorf("batch A (written just before the break, Write returned nil) was never resent: " +
			"the failed replays dropped it from the replay window, so it is lost")
	}
}
