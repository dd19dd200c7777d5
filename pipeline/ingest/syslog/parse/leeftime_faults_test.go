package parse

// Review (normalized output vs docs): a LEEF event's devTime as @timestamp.

import (
	"encoding/json"
	"testing"
	"time"
)

// leefTimestamp parses one syslog line as the syslog input does and
// returns the "timestamp" it writes (what becomes @timestamp).
func leefTimestamp(t *testing.T, line string) string {
	t.Helper()
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	out, _ := p.AppendJSON(nil, []byte(line))
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("parser output is not JSON: %v\n%s", err, out)
	}
	s, _ := m["timestamp"].(string)
	return s
}

// TestLEEFDevTimeZoneAbbreviation
//
// devTime in a devTimeFormat with a zone letter (z, zzz: the LEEF 2.0
// spec's own example format "MMM dd yyyy HH:mm:ss.SSS zzz") is parsed by
// leefTime with time.ParseInLocation(layout, v, loc) where loc is UTC (or
// the header's fixed zone). Go gives an abbreviation that loc does not
// define a fabricated zone with offset 0, so "EST", "PST", "CET" are read
// as UTC: the event is dated 5, 8 or 1 hours off, silently. The same happens
// with LEEF's default layouts ("Jan 02 2006 15:04:05 MST") without a
// devTimeFormat. timeparse knows EST/PST/CST... as fixed offsets everywhere
// else (docs/schema.md: "EST"; internal/timeparse layout 4).
//
// Expected: README (Syslog: "LEEF (its devTime in devTimeFormat as the
// event's time ...)"): 23:00 EST is 04:00Z the next day; 15:00 PST is
// 23:00Z; a zone that cannot be read should not be read as UTC.
func TestLEEFDevTimeZoneAbbreviation(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{"<134>Jan  1 10:00:00 sep01 LEEF:1.0|Symantec|Endpoint Protection|14.3|virus|src=10.0.0.1\tdevTime=Dec 31 2025 23:00:00.000 EST\tdevTimeFormat=MMM dd yyyy HH:mm:ss.SSS zzz\tusrName=bob",
			"2026-01-01T04:00:00.000Z"},
		{"<134>Jan  1 10:00:00 qr LEEF:2.0|Lancope|StealthWatch|7.4|41|^|src=10.0.0.1^devTime=Dec 31 2025 15:00:00 PST^devTimeFormat=MMM dd yyyy HH:mm:ss z^usrName=bob",
			"2025-12-31T23:00:00.000Z"},
		{"<134>Jan  1 10:00:00 qr LEEF:1.0|Vendor|Product|1.0|100|src=10.0.0.1\tdevTime=Dec 31 2025 15:00:00 PST\tusrName=bob", // LEEF's default layout, no devTimeFormat
			"2025-12-31T23:00:00.000Z"},
	} {
		if got := leefTimestamp(t, c.line); got != c.want {
			t.Errorf("%q:\n  timestamp %s, want %s (the zone abbreviation was read as UTC)", c.line, got, c.want)
		}
	}
}

// TestLEEFDevTimeWithoutYear
//
// A devTimeFormat without a year (syslog's own "MMM dd HH:mm:ss", as
// devices that reuse their syslog clock write it) makes time.ParseInLocation
// return year 0; leefTime takes t.UnixNano() of it, which overflows int64,
// and the event is dated 1754-08-30T21:43:41.128654848Z: the wrong
// OpenSearch daily index (and a document in an index named for 1754), the
// archive partition dt=1754-08-30, and a SIEM event 270 years old.
//
// Expected: the year inferred as for an RFC 3164 header (README: "the year
// inferred as syslog-ng does: across New Year"), 2025-12-31T23:00:00Z for
// "Dec 31 23:00:00" received on 2026-01-02; at the very least not a time
// centuries away (the header's time or the ingest time).
func TestLEEFDevTimeWithoutYear(t *testing.T) {
	line := "<134>Jan  1 10:00:00 qr LEEF:2.0|IBM|QRadar|1.0|41|^|src=10.0.0.1^devTime=Dec 31 23:00:00^devTimeFormat=MMM dd HH:mm:ss^usrName=bob"
	if got, want := leefTimestamp(t, line), "2025-12-31T23:00:00.000Z"; got != want {
		t.Errorf("timestamp %s, want %s (devTime without a year)", got, want)
	}
}
