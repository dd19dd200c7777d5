package parse

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"testing"
	"time"
	_ "time/tzdata"
)

// TestRFC5424ZonelessTimestampMarkedZoned
//
// Input (Options.Location America/New_York): an RFC 5424 header whose
// TIMESTAMP has no TIME-OFFSET, "2026-07-04T12:00:00", carrying a FortiGate
// key=value payload without tz: date=2026-07-04 time=13:00:00.
//
// What the code does: parse5424 sets h.zoned = true for every TIMESTAMP it
// accepts, including one without an offset (timeparse reads it as UTC). The
// FortiGate code (detectKV) then believes the header time carries its own
// zone and keeps it: the event is stamped 2026-07-04T12:00:00Z, the
// header's offset-less wall clock taken as UTC.
//
// What it should do: detectKV's documented rule is "without tz they
// [date/time] are in Options.Location and replace only a header timestamp
// that has no zone either". This header timestamp has no zone (RFC 5424
// 6.2.3 makes TIME-OFFSET mandatory; the parser accepts its absence
// leniently), so FortiGate's date/time in Location must win:
// 13:00 EDT = 2026-07-04T17:00:00Z. h.zoned should only be true when the
// token carried Z or an offset (and such a zone-less header time should, like
// an offset-less ISO time in an RFC 3164 header, be read in
// Options.Location rather than UTC).
//
// Why it matters: the event time is off by the zone offset (5 hours here),
// which breaks correlation windows and timelines in the SIEM.
func TestRFC5424ZonelessTimestampMarkedZoned(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2026, 7, 4, 18, 0, 0, 0, time.UTC)
	p := New(Options{Location: loc, Now: func() time.Time { return now }})
	msg := `<189>1 2026-07-04T12:00:00 fw01 - - - date=2026-07-04 time=13:00:00 devname="FGT" devid="FG100E" logid="0000000013" srcip=1.2.3.4`
	out, res := p.AppendJSON(nil, []byte(msg))
	if res.Format != FormatKV || field(t, out, "event.dataset") != `"fortinet.fortigate"` {
		t.Fatalf("not FortiGate kv: %s", out)
	}
	if got, want := field(t, out, "timestamp"), `"2026-07-04T17:00:00.000Z"`; got != want {
		t.Errorf("timestamp %s, want %s (FortiGate date/time in Location replace a header time without zone)\n%s", got, want, out)
	}
}
