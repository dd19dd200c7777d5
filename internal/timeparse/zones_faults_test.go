package timeparse

import (
	"testing"
	"time"
)

// Fault a review proved: zoneOffsets read CST, CDT and PST as the US zones
// everywhere, though the tz database also uses them for +08:00 (China,
// Taiwan: Java's Date.toString() on a server there writes "CST"), -05:00
// and -04:00 (Cuba) and +08:00 (the Philippines): such a time was accepted
// 14 or 16 hours off, with nothing to show it. Fixed: read in a zone of
// exactly one of those offsets (ParseIn's def: a syslog input's timezone,
// an event's event.timezone), the abbreviation takes that meaning;
// elsewhere it keeps its US meaning (Java's parser reads CST so too).
func TestAmbiguousZoneAbbrevTakesTheSiteMeaning(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	const h = 3600
	for _, c := range []struct {
		in   string
		def  int64
		want string
	}{
		{"Tue Jan 02 15:04:05 CST 2024", 8 * h, "2024-01-02T07:04:05Z"},  // Asia/Shanghai JVM
		{"2024-01-02 15:04:05 CST", 8 * h, "2024-01-02T07:04:05Z"},       // PostgreSQL, log_timezone=PRC
		{"Jan  2 15:04:05 CST 2024", 8 * h, "2024-01-02T07:04:05Z"},      // RFC 3164 5.4, Taipei
		{"Tue Jan 02 15:04:05 PST 2024", 8 * h, "2024-01-02T07:04:05Z"},  // Asia/Manila JVM
		{"Tue Jan 02 15:04:05 CST 2024", -5 * h, "2024-01-02T20:04:05Z"}, // Havana, winter
		{"Tue Jul 02 15:04:05 CDT 2024", -4 * h, "2024-07-02T19:04:05Z"}, // Havana, summer
		{"Tue Jan 02 15:04:05 BST 2024", 6 * h, "2024-01-02T09:04:05Z"},  // Dhaka
		// Elsewhere the common meaning holds.
		{"Tue Jan 02 15:04:05 CST 2024", 0, "2024-01-02T21:04:05Z"},
		{"Tue Jan 02 15:04:05 CST 2024", -6 * h, "2024-01-02T21:04:05Z"},
		{"Tue Jan 02 15:04:05 CST 2024", 9 * h, "2024-01-02T21:04:05Z"},
		{"Tue Jul 02 15:04:05 BST 2024", 1 * h, "2024-07-02T14:04:05Z"},
		{"Tue Jan 02 15:04:05 EST 2024", 8 * h, "2024-01-02T20:04:05Z"}, // no other meaning
	} {
		ns, ok := ParseIn([]byte(c.in), now, c.def)
		if !ok {
			t.Errorf("ParseIn(%q, def %+d s): not parsed", c.in, c.def)
			continue
		}
		if got := time.Unix(0, ns).UTC().Format(time.RFC3339); got != c.want {
			t.Errorf("ParseIn(%q, def %+d s) = %s, want %s", c.in, c.def, got, c.want)
		}
	}
	if a := testing.AllocsPerRun(100, func() { ParseIn([]byte("Tue Jan 02 15:04:05 CST 2024"), now, 8*h) }); a != 0 {
		t.Errorf("ParseIn allocates %v times", a)
	}
}
