package syslog

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// TestDiscardQueuedCounts: what the kernel still holds for a UDP socket when
// its shutdown drain ran out of time is read without waiting and counted
// (closeUDP adds it to the dropped counter, reason shutdown), message by
// message as serveUDP splits datagrams; an empty socket returns at once.
func TestDiscardQueuedCounts(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("Linux only")
	}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, d := range []string{"<14>a", "<14>b\n<14>c\n", "\n", "<14>d\r\n", "<14>e"} {
		if _, err := c.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond) // loopback delivery
	buf := make([]byte, 65536)
	if n := discardQueued(pc, buf, time.Second); n != 5 {
		t.Errorf("counted %d messages left, want 5 (a, b, c, d, e; the empty datagram holds none)", n)
	}
	start := time.Now()
	if n := discardQueued(pc, buf, time.Second); n != 0 || time.Since(start) > 500*time.Millisecond {
		t.Errorf("empty socket: counted %d in %s, want 0 at once", n, time.Since(start))
	}
}

func TestMessagesIn(t *testing.T) {
	// A datagram is one message: a line break splits it only before a
	// PRI (a sender that packed several).
	for in, want := range map[string]int{"": 0, "a": 1, "a\n": 1, "a\nb": 1, "<1>a\n<2>b": 2, "<1>a\r\n\r\n<1>b\n": 2,
		"<1>a\n\tat x\n<1>b": 2, "\n\n": 0, "<1>a\n<x>": 1} {
		if got := messagesIn([]byte(in)); got != want {
			t.Errorf("messagesIn(%q) = %d, want %d", in, got, want)
		}
	}
}
