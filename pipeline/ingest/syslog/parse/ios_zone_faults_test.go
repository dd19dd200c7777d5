package parse

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

func detectGet(t *testing.T, out []byte, path ...string) string {
	t.Helper()
	v, err := fastjson.ParseBytes(out)
	if err != nil {
		t.Fatalf("invalid output %s: %v", out, err)
	}
	if v = v.Get(path...); v == nil {
		return ""
	}
	return v.String()
}

// TestCiscoIOSEuropeanZone (review: what a detection engineer's
// content sees)
//
// Fault: a Cisco IOS header whose zone is not one of the twelve US/UTC
// abbreviations the parser knows (`clock timezone CET 1` with `service
// timestamps log datetime msec localtime show-timezone`, the usual setup
// in Europe) is misparsed: the zone "CET" is taken as the syslog TAG
// (process.name "CET") and the wall-clock time is read as if it had no
// zone (UTC by default), an hour late.
//
// Sequence: "<189>123: *Nov 28 10:00:00.123 CET: %SEC_LOGIN-4-LOGIN_FAILED:
// Login failed [user: admin] [Source: 198.51.100.23] ..." (an IOS login
// failure; "*" = clock not synchronized).
//
// Expected: as for the same line with "UTC" or "EST" (TestCiscoIOSSequenceNumber,
// fixed earlier): no process.name taken from the header's zone, and the
// device's time in its stated zone, 2026-11-28T09:00:00.123Z.
//
// Actual: process.name "CET", timestamp 2026-11-28T10:00:00.123Z.
//
// Severity: low (network-device logins mis-timed by the zone offset
// against every other source; a bogus process.name).
func TestCiscoIOSEuropeanZone(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	msg := "<189>123: *Nov 28 10:00:00.123 CET: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 198.51.100.23] [localport: 22] [Reason: Login Authentication Failed] at 10:00:00 CET Sat Nov 28 2026"
	out, _ := p.AppendJSON(nil, []byte(msg))
	if got := detectGet(t, out, "process", "name"); got != "" {
		t.Errorf("process.name %s: the header's zone taken as the program name\n%s", got, out)
	}
	if got, want := detectGet(t, out, "timestamp"), `"2026-11-28T09:00:00.123Z"`; got != want {
		t.Errorf("timestamp %s, want %s (10:00:00.123 CET)\n%s", got, want, out)
	}
}
