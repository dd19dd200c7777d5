package syslog

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestListenUDPReaders: udp.readers sockets share one address (port 0
// resolved once), each one receives, and a failed bind closes the others.
func TestListenUDPReaders(t *testing.T) {
	pcs, err := listenUDP("127.0.0.1:0", 3)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, pc := range pcs {
			pc.Close()
		}
	}()
	want := 3
	if !reusePortSpreads {
		want = 1
	}
	if len(pcs) != want {
		t.Fatalf("%d sockets, want %d", len(pcs), want)
	}
	addr := pcs[0].LocalAddr().String()
	for _, pc := range pcs[1:] {
		if pc.LocalAddr().String() != addr {
			t.Fatalf("sockets on %s and %s, want one address", addr, pc.LocalAddr())
		}
	}
	// Senders on many source ports reach every socket (the kernel hashes
	// the sender's address and port): 64 senders over 3 sockets leave
	// none empty but with a chance of about 3·(2/3)^64, 2e-11.
	for i := range 64 {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte("<14>1 - h app - - - m" + strings.Repeat("x", i)))
		c.Close()
	}
	buf := make([]byte, 2048)
	total := 0
	for i, pc := range pcs {
		n := 0
		for {
			_ = pc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			if _, _, err := pc.ReadFrom(buf); err != nil {
				break
			}
			n++
		}
		if n == 0 {
			t.Errorf("socket %d received nothing of 64 datagrams", i)
		}
		total += n
	}
	if total != 64 {
		t.Errorf("received %d datagrams, want 64", total)
	}
	// An address held by a socket without SO_REUSEPORT cannot be shared:
	// the readers fail whole.
	busy, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if got, err := listenUDP(busy.LocalAddr().String(), 3); err == nil {
		for _, pc := range got {
			pc.Close()
		}
		t.Fatal("bound an address a socket without SO_REUSEPORT holds")
	}
}

func TestUDPReadersValidate(t *testing.T) {
	for _, n := range []int{-1, maxUDPReaders + 1} {
		c := Config{UDP: &UDPConfig{Readers: n}}
		c.SetDefaults()
		c.UDP.Readers = n
		if err := c.Validate("inputs.syslog"); err == nil || !strings.Contains(err.Error(), "udp.readers") {
			t.Errorf("readers %d: %v", n, err)
		}
	}
	c := Config{UDP: &UDPConfig{}}
	c.SetDefaults()
	if c.UDP.Readers < 1 || c.UDP.Readers > 8 {
		t.Errorf("default readers %d, want 1..8", c.UDP.Readers)
	}
	if err := c.Validate("inputs.syslog"); err != nil {
		t.Error(err)
	}
}
