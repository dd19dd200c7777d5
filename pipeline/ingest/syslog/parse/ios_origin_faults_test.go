package parse

import (
	"testing"
	"time"
)

// TestCiscoIOSOriginIDHostname
//
// Fault: Cisco IOS/IOS-XE with `logging origin-id hostname` (set so that
// a device is named in its messages behind NAT or a relay; rsyslog's
// pmciscoios has `present.origin` for it) puts its host name between the
// sequence number and the timestamp: "<189>180: edge-sw-01: Nov 28
// 10:00:00.123 UTC: %SEC_LOGIN-4-LOGIN_FAILED: ...". parse3164 skips a
// sequence number only when a timestamp follows it right away (ciscoSeq,
// fixed for TestCiscoIOSSequenceNumber), so here it takes "180:" as the
// TAG: process.name is the message counter (a different program name per
// message, which app_source_types and the linux.auth detection match on),
// there is no host.hostname (the origin-id the device was configured to
// send; the event is attributed to the relay's or NAT's address instead),
// and the device's zoned time is lost (the event gets its arrival time).
//
// Sequence: parse one IOS login failure sent with sequence numbers,
// origin-id hostname and `service timestamps log datetime msec
// show-timezone`.
//
// Expected: as without the origin-id (TestCiscoIOSSequenceNumber): no
// process.name, the timestamp 2026-11-28T10:00:00.123Z, and the origin-id
// "edge-sw-01" as host.hostname.
//
// Actual: process.name "180", no timestamp, no host.hostname; the whole
// "edge-sw-01: Nov 28 ... UTC: %SEC_LOGIN-..." text is the message.
func TestCiscoIOSOriginIDHostname(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	msg := "<188>180: edge-sw-01: Nov 28 10:00:00.123 UTC: %SEC_LOGIN-4-LOGIN_FAILED: Login failed [user: admin] [Source: 198.51.100.23] [localport: 22] [Reason: Login Authentication Failed] at 10:00:00 UTC Sat Nov 28 2026"
	out, res := p.AppendJSON(nil, []byte(msg))
	if res.Status != StatusRFC3164 {
		t.Fatalf("status %v, want rfc3164: %s", res.Status, out)
	}
	if got := faults3Get(t, out, "process", "name"); got != "" {
		t.Errorf("process.name %s: the sequence number taken as a program name\n%s", got, out)
	}
	if got, want := faults3Get(t, out, "timestamp"), `"2026-11-28T10:00:00.123Z"`; got != want {
		t.Errorf("timestamp %q, want %s (the device's own, zoned, time)\n%s", got, want, out)
	}
	if got, want := faults3Get(t, out, "host", "hostname"), `"edge-sw-01"`; got != want {
		t.Errorf("host.hostname %q, want %s (the origin-id the device sends)\n%s", got, want, out)
	}
}
