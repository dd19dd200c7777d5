package connlimit

import (
	"net"
	"testing"
)

type fakeConn struct {
	net.Conn
	addr net.Addr
}

func (c *fakeConn) RemoteAddr() net.Addr { return c.addr }

func fakeAddr(ip string) net.Conn {
	return &fakeConn{addr: &net.TCPAddr{IP: net.ParseIP(ip), Port: 1234}}
}

func TestLimiter(t *testing.T) {
	l := New(3, 2)
	a1, a2, a3 := fakeAddr("10.0.0.1"), fakeAddr("10.0.0.1"), fakeAddr("10.0.0.1")
	if _, ok := l.Acquire(a1); !ok {
		t.Fatal("first connection refused")
	}
	if _, ok := l.Acquire(a2); !ok {
		t.Fatal("second connection refused")
	}
	if r, ok := l.Acquire(a3); ok || r != ReasonPerIP {
		t.Fatalf("third connection of one address: %q %v, want refused per IP", r, ok)
	}
	l.Release(a3) // refused: no slot to free
	if _, ok := l.Acquire(fakeAddr("10.0.0.2")); !ok {
		t.Fatal("another address refused")
	}
	if r, ok := l.Acquire(fakeAddr("10.0.0.3")); ok || r != ReasonMax {
		t.Fatalf("past max: %q %v", r, ok)
	}
	l.Release(a1)
	if _, ok := l.Acquire(a3); !ok {
		t.Fatal("a freed slot was not reusable")
	}
	// An IPv6 host's /64 is one address; IPv4-mapped IPv6 is IPv4.
	l6 := New(10, 1)
	if _, ok := l6.Acquire(fakeAddr("2001:db8::1")); !ok {
		t.Fatal("v6 refused")
	}
	if _, ok := l6.Acquire(fakeAddr("2001:db8::2")); ok {
		t.Error("a second address of the same /64 was not counted with the first")
	}
	if _, ok := l6.Acquire(fakeAddr("::ffff:10.0.0.1")); !ok {
		t.Error("v4-mapped refused")
	}
	if _, ok := l6.Acquire(fakeAddr("10.0.0.1")); ok {
		t.Error("10.0.0.1 and ::ffff:10.0.0.1 counted apart")
	}
	// -1: no bound per address.
	lu := New(2, -1)
	lu.Acquire(fakeAddr("10.0.0.1"))
	if _, ok := lu.Acquire(fakeAddr("10.0.0.1")); !ok {
		t.Error("perIP -1 bounded an address")
	}
}

// TestListenerRefusesAtAccept: past the bound a connection is closed at
// accept and Accept goes on; closing an accepted one frees its slot.
func TestListenerRefusesAtAccept(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedC := make(chan string, 10)
	ln := New(1, -1).Listener(inner, func(_ net.Conn, reason string) { refusedC <- reason })
	defer ln.Close()
	accepted := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	c1, _ := net.Dial("tcp", inner.Addr().String())
	defer c1.Close()
	a1 := <-accepted
	c2, _ := net.Dial("tcp", inner.Addr().String())
	defer c2.Close()
	if r := <-refusedC; r != ReasonMax {
		t.Fatalf("second connection: %q", r)
	}
	a1.Close()
	a1.Close() // twice: released once
	c3, _ := net.Dial("tcp", inner.Addr().String())
	defer c3.Close()
	a3 := <-accepted
	a3.Close()
}
