package syslog

// A fault a review proved; the test failed before the fix.

import (
	"net"
	"runtime"
	"testing"
	"time"
)

// TestDiscardQueuedAfterDrainDeadline
//
// What is wrong: serveUDP ends a shutdown drain that ran out of time (a
// sender that never paused) when a read with the deadline drainUntil times
// out, and then calls closeUDP on that socket, whose read deadline is still
// in the past. discardQueued reads through RawConn.Read, which checks the
// read deadline before it calls the function: with the deadline passed it
// returns at once and discardQueued counts 0 while the kernel holds
// datagrams, which the close then discards uncounted.
//
// Expected: closeUDP's comment: "the datagrams the kernel still holds for
// it are read without waiting (for at most udpDiscardMax) and counted
// dropped, reason shutdown"; README: "Every dropped event is counted with a
// reason". discardQueued counts what is queued whatever deadline the drain
// left on the socket.
func TestDiscardQueuedAfterDrainDeadline(t *testing.T) {
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
	for _, d := range []string{"<14>a", "<14>b", "<14>c"} {
		if _, err := c.Write([]byte(d)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond) // loopback delivery
	// As serveUDP leaves it: its last read's deadline (drainUntil) passed.
	_ = pc.SetReadDeadline(time.Now().Add(-time.Millisecond))
	buf := make([]byte, 65536)
	if n := discardQueued(pc, buf, time.Second); n != 3 {
		t.Errorf("counted %d messages left on a socket whose drain deadline passed, want 3", n)
	}
}
