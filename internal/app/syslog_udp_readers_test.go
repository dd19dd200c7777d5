package app

import (
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/config"
)

// TestSyslogUDPReaders: with udp.readers 4 the port is four sockets (one
// goroutine each parses and normalizes its share), and messages from many
// senders arrive exactly once.
func TestSyslogUDPReaders(t *testing.T) {
	h := newSyslogHarness(t, func(c *config.Config) { c.Inputs.Syslog.UDP.Readers = 4 })
	n := udpSocketsOn(t, h.udp)
	t.Logf("%d sockets on %s", n, h.udp)
	if n != 4 && n != 0 {
		t.Errorf("%d sockets on %s, want 4 (udp.readers)", n, h.udp)
	}
	const senders, each = 32, 20
	for s := range senders {
		c, err := net.Dial("udp", h.udp)
		if err != nil {
			t.Fatal(err)
		}
		for i := range each {
			seq := s*each + i
			fmt.Fprintf(c, `<14>1 2026-11-28T10:00:00Z host%d app - - - {"run":"readers","seq":%d}`, s, seq)
		}
		c.Close()
		time.Sleep(time.Millisecond) // well within the socket buffers
	}
	h.expectExactlyOnce("readers", senders*each, "syslog-udp")
}

// udpSocketsOn counts the UDP sockets bound to addr's port in this network
// namespace (/proc/net/udp); 0 where that cannot be read.
func udpSocketsOn(t *testing.T, addr string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/net/udp")
	if err != nil {
		return 0
	}
	_, p, _ := net.SplitHostPort(addr)
	var port int
	fmt.Sscan(p, &port)
	want := fmt.Sprintf(":%04X ", port)
	n := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(line); len(f) > 2 && strings.HasSuffix(f[1]+" ", want) {
			n++
		}
	}
	return n
}
