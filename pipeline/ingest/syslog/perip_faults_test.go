package syslog

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"log/slog"
	"net/netip"
	"testing"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
)

// TestPerIPBoundIPv6Rotation: input: one untrusted IPv6 host opens
// plain TCP syslog connections from many addresses of its own /64 (every
// IPv6 host or SLAAC/privacy-address client gets a whole /64; choosing a new
// source address per connection is free). What happens: holdIP counts per
// exact address, so every new address starts at 0 and each one gets
// max_connections_per_ip connections: one host takes every
// max_connections slot, and the TLS senders are locked out, which is exactly
// what max_connections_per_ip ("bounds each address", docs/configuration.md)
// is there to prevent. What should happen: IPv6 peers are counted per /64
// (the smallest block one host is given), IPv4 per address, so the 65th
// connection of the /64 is refused at the default bound. Why it matters: the
// syslog port is reachable from untrusted hosts (plain TCP is
// unauthenticated), and on any dual-stack network the per-address bound is
// a no-op against an IPv6 attacker.
func TestPerIPBoundIPv6Rotation(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	eng := testengine.New(t, testengine.P1EDR, &testutil.RecordSink{SinkName: "all"}, &testutil.MemQuarantine{}, log)
	srv, err := New(Config{MaxConnections: 1024, MaxConnectionsPerIP: 4, TCP: &TCPConfig{Address: "127.0.0.1:0"}}, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	base := netip.MustParseAddr("2001:db8:1:2::").As16()
	held := 0
	for i := 0; i < 64; i++ {
		a := base
		a[14], a[15] = byte(i>>8), byte(i) // same /64, new interface identifier
		if !srv.holdIP(netip.AddrFrom16(a)) {
			break
		}
		held++
	}
	if held > 4 {
		t.Errorf("one IPv6 /64 (2001:db8:1:2::/64) held %d connections past max_connections_per_ip 4: each rotated source address is counted apart, so one host takes every max_connections slot", held)
	}
}
