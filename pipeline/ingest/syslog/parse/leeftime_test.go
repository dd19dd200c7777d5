package parse

import (
	"testing"
	"time"
)

// TestJavaLayout: LEEF's devTimeFormat patterns (Java SimpleDateFormat)
// read as Java reads them.
func TestJavaLayout(t *testing.T) {
	for _, c := range []struct{ pattern, value, want string }{
		{"MMM dd yyyy HH:mm:ss", "Nov 28 2026 08:25:00", "2026-11-28T08:25:00Z"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSZ", "2026-11-28T08:25:00.123+0100", "2026-11-28T07:25:00.123Z"},
		{"yyyy-MM-dd'T'HH:mm:ss.SSSXXX", "2026-11-28T08:25:00.123+01:00", "2026-11-28T07:25:00.123Z"},
		{"dd/MM/yy hh:mm:ss a", "28/11/26 08:25:00 PM", "2026-11-28T20:25:00Z"},
		{"EEE MMM d HH:mm:ss z yyyy", "Sat Nov 28 08:25:00 UTC 2026", "2026-11-28T08:25:00Z"},
	} {
		l, ok := javaLayout(c.pattern)
		if !ok {
			t.Errorf("%q refused", c.pattern)
			continue
		}
		tm, err := time.ParseInLocation(l, c.value, time.UTC)
		if err != nil || tm.UTC().Format(time.RFC3339Nano) != c.want {
			t.Errorf("%q (%q) on %q: %v %v, want %s", c.pattern, l, c.value, tm.UTC().Format(time.RFC3339Nano), err, c.want)
		}
	}
	if _, ok := javaLayout("yyyy-MM-dd qq"); ok {
		t.Error("an unknown pattern letter was accepted")
	}
}
