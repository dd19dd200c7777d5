package parse

import (
	"testing"
	"time"
)

// TestIOSOriginIPv6ZeroAllocs: the hot path (AppendJSON) must not
// allocate per message; an IOS message with "logging origin-id ipv6"
// converted the origin to a string for netip.ParseAddr on every message.
func TestIOSOriginIPv6ZeroAllocs(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	dst := make([]byte, 0, 8192)
	for _, s := range []string{
		"<188>180: 2001:db8:85a3:1234:5678:8a2e:370:7334: Nov 28 10:00:00.123 UTC: %SYS-5-CONFIG_I: Configured from console",
		"<188>2001:db8::1: Nov 28 10:00:00.123 UTC: %SYS-5-CONFIG_I: Configured from console",
	} {
		msg := []byte(s)
		dst, _ = p.AppendJSON(dst[:0], msg)
		if n := testing.AllocsPerRun(200, func() { dst, _ = p.AppendJSON(dst[:0], msg) }); n != 0 {
			t.Errorf("%s: %v allocations per message, want 0", s, n)
		}
	}
}
