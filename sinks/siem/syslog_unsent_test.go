package siem

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestSyslogKeepsWhatNeverLeftTheHost: a receiver that stops reading (a
// SIEM collector hung under load) with its receive buffer full leaves what
// the sink writes next in this host's send queue, every Write succeeding
// until that is full. When the receiver is then restarted, the connection
// breaks; the sink replayed only the batches written within replay_age
// before the break, and the older ones, which had never left this host,
// were lost though counted delivered. Now batches the receiver's TCP never
// acknowledged (Linux SIOCOUTQ, read at each write and at the break) are
// kept for replay whatever their age. (What the receiver's kernel took and
// its process never read is still lost past replay_age: syslog has no
// acknowledgement of its own; the package documentation says so.)
func TestSyslogKeepsWhatNeverLeftTheHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("SIOCOUTQ is Linux's")
	}
	ln := smallBufferListener(t)
	defer ln.Close()
	var mu sync.Mutex
	got := map[string]int{}
	restart := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c1, err := ln.Accept()
		if err != nil {
			return
		}
		<-restart // hung: reads nothing; then its process is restarted
		_ = c1.(*net.TCPConn).SetLinger(0)
		_ = c1.Close()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := &receiver{octet: true}
				br := bufio.NewReaderSize(c, 1<<20)
				for {
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
		Address: ln.Addr().String(), ReplayAge: 200 * time.Millisecond, WriteTimeout: 2 * time.Second,
		DialTimeout: time.Second, ReconnectBackoffMin: 10 * time.Millisecond, ReconnectBackoffMax: 50 * time.Millisecond,
	})
	defer func() {
		_ = s.Close(context.Background())
		_ = ln.Close()
		wg.Wait()
	}()
	ctx := context.Background()
	const n = 12
	for i := range n { // each Write succeeds: into the receiver's small buffer, then this host's send queue
		b := makeBatch([]string{testEvent(i, "ws-1", `"pad":"`+strings.Repeat("p", 1000)+`"`)}, pipeline.P1)
		if err := s.Write(ctx, b); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		b.Release()
		time.Sleep(50 * time.Millisecond)
	}
	unsent := unsentBytes(s.conn.c)
	t.Logf("bytes the receiver's TCP had not acknowledged before its restart: %d", unsent)
	time.Sleep(300 * time.Millisecond) // every batch now older than replay_age
	close(restart)
	time.Sleep(100 * time.Millisecond)
	last := makeBatch([]string{testEvent(n, "ws-1", "")}, pipeline.P1)
	defer last.Release()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for s.Write(wctx, last) != nil && wctx.Err() == nil { // the first may fail on the broken connection
		time.Sleep(20 * time.Millisecond)
	}
	waitFor(t, "the last event at the restarted receiver", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got[fmt.Sprintf("e%06d", n)] > 0
	})
	mu.Lock()
	defer mu.Unlock()
	var lost []string
	for i := range n {
		if id := fmt.Sprintf("e%06d", i); got[id] == 0 {
			lost = append(lost, id)
		}
	}
	t.Logf("lost (taken by the hung receiver's kernel, never read): %v", lost)
	// What the receiver's 2 KiB buffer took is at most a few events; the
	// rest never left this host and must all arrive.
	if unsent <= 0 || len(lost) > 4 {
		t.Errorf("%d of %d events lost (%v), %d bytes unacknowledged before the break: batches that never left this host were not replayed", len(lost), n, lost, unsent)
	}
}

// smallBufferListener listens on loopback with a 2 KiB receive buffer
// (inherited by accepted connections): a receiver that stops reading
// leaves the rest in the sender's send queue, unacknowledged.
func smallBufferListener(t *testing.T) net.Listener {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 2048) })
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
