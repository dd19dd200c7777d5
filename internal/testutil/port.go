package testutil

import (
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePort returns a loopback TCP address ("127.0.0.1:port") nobody listens
// on right now, for a listener (a subprocess, a receiver a test restarts)
// to bind a moment later or again later. It picks below the kernel's
// ephemeral range: a port from that range (what listening on port 0 gives)
// can be taken in between by any outgoing connection of a test running in
// parallel, while ports below it are only ever taken by an explicit bind.
// Where the range leaves no room below it, it falls back to port 0.
func FreePort() (string, error) {
	if lo := EphemeralLow(); lo > 10000 {
		for range 50 {
			port := 10000 + rand.IntN(lo-10000)
			ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				continue // taken: try another
			}
			addr := ln.Addr().String()
			return addr, ln.Close()
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// EphemeralLow returns the first port of the kernel's ephemeral range
// (Linux), or 0 when it cannot tell.
func EphemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0
	}
	lo, err := strconv.Atoi(f[0])
	if err != nil {
		return 0
	}
	return lo
}
