package parse

import (
	"testing"
	"time"
)

// TestIOSOriginIDIPv6: IOS's "logging origin-id ipv6" puts the
// device's IPv6 address where b7ec879/52e925b read an origin-id, but
// originID stopped at the first ':' (hostname or IPv4 only): the message
// kept no host (the event went to the relay's address) and lost the
// device's zoned time, the whole header left in the message.
func TestIOSOriginIDIPv6(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	for _, msg := range []string{
		"<188>180: 2001:db8::1: Nov 28 10:00:00.123 UTC: %SYS-5-CONFIG_I: Configured from console",
		"<188>2001:db8::1: Nov 28 10:00:00.123 UTC: %SYS-5-CONFIG_I: Configured from console",
	} {
		out, _ := p.AppendJSON(nil, []byte(msg))
		if got, want := faults3Get(t, out, "host", "hostname"), `"2001:db8::1"`; got != want {
			t.Errorf("%s\nhost.hostname %q, want %s\n%s", msg, got, want, out)
		}
		if got, want := faults3Get(t, out, "timestamp"), `"2026-11-28T10:00:00.123Z"`; got != want {
			t.Errorf("%s\ntimestamp %q, want %s\n%s", msg, got, want, out)
		}
	}
	// Not an address, or not IOS's shape (no time and ": %" after it): the
	// header stays in the message.
	for _, msg := range []string{
		"<188>2001:db8::zz: Nov 28 10:00:00.123 UTC: %SYS-5-CONFIG_I: Configured from console",
		"<14>fe80::1: hello from a program named by its address",
	} {
		out, _ := p.AppendJSON(nil, []byte(msg))
		if got := faults3Get(t, out, "host", "hostname"); got != "" {
			t.Errorf("%s\nhost.hostname %s, want none\n%s", msg, got, out)
		}
	}
}
