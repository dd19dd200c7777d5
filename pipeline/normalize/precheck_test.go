package normalize

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

// FuzzConvertPrecheck: convert's pre-checks (decimalText, integerText,
// addrText), which spare it the allocating errors of parses that cannot
// succeed, never refuse a text the parse takes: a decimal number
// ParseFloat reads (hex floats, inf and NaN aside, on purpose), an integer
// ParseInt reads, an address ParseAddr reads.
func FuzzConvertPrecheck(f *testing.F) {
	for _, s := range []string{"42", "-1.5e3", "1_000", "2_500.5", ".5", "5.", "+7", "4.2e1", "10.0.0.1", "::1",
		"::ffff:10.0.0.1", "fe80::1%eth0", "2001:db8::1", "1024-65535", "10.0.0.1:51234", "cafe", "49538/tcp", "0x1p4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := []byte(s)
		if _, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "xXpPiInN") && !decimalText(b) {
			t.Errorf("ParseFloat takes %q, decimalText refuses it", s)
		}
		if _, err := strconv.ParseInt(s, 10, 64); err == nil && !integerText(b) {
			t.Errorf("ParseInt takes %q, integerText refuses it", s)
		}
		if _, err := netip.ParseAddr(s); err == nil && !addrText(b) {
			t.Errorf("ParseAddr takes %q, addrText refuses it", s)
		}
	})
}
