package parse

import (
	"encoding/json"
	"testing"
	"time"
)

// A year-less devTimeFormat with a zone letter, on an input with
// syslog.timezone set to a zone that defines the abbreviation (America/
// New_York, EST): Go resolves EST to loc at year 0, where New York's
// offset is LMT (-4:56:02), so the wall clock nearestYear copies is
// 23:03:58, and the event comes out 4 min 2 s late.
func TestLEEFYearlessZoneInLocation(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	p := New(Options{Location: ny, Now: func() time.Time { return now }})
	line := "<134>Jan  1 10:00:00 qr LEEF:2.0|IBM|QRadar|1.0|41|^|src=10.0.0.1^devTime=Dec 31 23:00:00 EST^devTimeFormat=MMM dd HH:mm:ss z^usrName=bob"
	out, _ := p.AppendJSON(nil, []byte(line))
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := m["timestamp"], "2026-01-01T04:00:00.000Z"; got != want {
		t.Errorf("timestamp %v, want %s\n%s", got, want, out)
	}
}

// syslog.timezone Europe/Lisbon (or Atlantic/Canary, Atlantic/Faroe): the
// devTime's "WET" is that location's own zero-offset abbreviation, which Go
// resolves (10:00 WET = 10:00Z). The new check takes any offset-0 name but
// "UTC" for an unknown abbreviation and, timeparse not knowing WET, drops
// the device's time for the header's.
func TestLEEFLocationZeroOffsetAbbrev(t *testing.T) {
	lis, err := time.LoadLocation("Europe/Lisbon")
	if err != nil {
		t.Skip(err)
	}
	now := time.Date(2026, 1, 6, 0, 0, 0, 0, time.UTC)
	p := New(Options{Location: lis, Now: func() time.Time { return now }})
	line := "<134>Jan  5 12:00:00 qr LEEF:1.0|Vendor|Product|1.0|100|src=10.0.0.1\tdevTime=Jan 05 2026 10:00:00 WET\tusrName=bob"
	out, _ := p.AppendJSON(nil, []byte(line))
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	if got, want := m["timestamp"], "2026-01-05T10:00:00.000Z"; got != want {
		t.Errorf("timestamp %v, want %s\n%s", got, want, out)
	}
}
