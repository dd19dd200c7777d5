package parse

// Tests from a third review of the syslog parsers against what real
// senders write. Each failed on the code as it was found, because of the
// fault its comment describes.

import (
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// faults3Get returns the JSON text of path in out ("" when absent).
func faults3Get(t *testing.T, out []byte, path ...string) string {
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

// TestOpenSSHSessionIsLinuxAuth
//
// What is wrong: since OpenSSH 9.8 (July 2024) authentication is logged by
// the per-connection sshd-session binary, whose syslog TAG is
// "sshd-session" (OpenSSH 10.0 adds "sshd-auth"): on current Debian,
// Ubuntu, Fedora and Arch, "Failed password" / "Accepted publickey" lines
// read "sshd-session[1234]: ...". parse.appDataset types the TAGs of Linux
// authentication as linux.auth (package doc: "linux.auth from the APP-NAME
// or TAG (sshd, sudo, su, ...)") but its list has "sshd" only, so these
// lines get no event.dataset: they take the input's default source type
// ("syslog"), and the linux.auth profile (event.category authentication,
// event.module system) never applies to them. The project knows the name:
// rules/20-p2-security-telemetry.yaml's os-linux-auth rule lists
// "sshd-session" and "sshd-auth" ("OpenSSH 9.8 logs authentication from
// sshd-session (and 10.0 from sshd-auth)"). The same message from "sshd"
// is typed linux.auth.
//
// Expected: sshd-session and sshd-auth are typed linux.auth like sshd
// (payload.go appDataset).
func TestOpenSSHSessionIsLinuxAuth(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	for _, tag := range []string{"sshd", "sshd-session", "sshd-auth"} {
		for _, msg := range []string{
			"<38>Nov 28 10:00:00 host1 " + tag + "[4242]: Failed password for root from 203.0.113.9 port 52100 ssh2",
			"<38>1 2026-11-28T10:00:00Z host1 " + tag + " 4242 - - Accepted publickey for alice from 203.0.113.9 port 52101 ssh2",
		} {
			out, _ := p.AppendJSON(nil, []byte(msg))
			if got := faults3Get(t, out, "process", "name"); got != `"`+tag+`"` {
				t.Fatalf("process.name %s, want %q: %s", got, tag, out)
			}
			if got := faults3Get(t, out, "event", "dataset"); got != `"linux.auth"` {
				t.Errorf("%s: event.dataset %s, want \"linux.auth\" (as for sshd)\n%s", tag, got, out)
			}
		}
	}
}

// TestCiscoIOSSequenceNumber
//
// What is wrong: Cisco IOS with `service sequence-numbers` (common: it
// makes gaps visible) and `service timestamps log datetime msec
// show-timezone` sends "<189>000123: Nov 28 10:00:00.123 UTC:
// %SYS-5-CONFIG_I: ..." (Cisco's format "seq no:timestamp:
// %facility-severity-MNEMONIC:description"; rsyslog ships pmciscoios for
// it). parse3164 finds no timestamp right after <PRI>, so it takes
// "000123:" as the TAG: every message gets a different process.name (the
// counter), which app_source_types and the linux.auth/auditd detection
// then match on, and the device's own time, here with an explicit zone,
// is lost (the event is stamped with its arrival time); the whole
// "Nov 28 ... UTC: %SYS-5-..." line, timestamp included, is the message.
//
// Expected: a leading all-digit "NNN: " before an RFC 3164 timestamp is a
// sequence number, not a program name: the timestamp after it is the
// event's time (2026-11-28T10:00:00.123Z) and there is no process.name
// (or, at most, the sequence number kept in a field of its own).
func TestCiscoIOSSequenceNumber(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	msg := "<189>000123: Nov 28 10:00:00.123 UTC: %SYS-5-CONFIG_I: Configured from console by admin on vty0 (10.0.0.5)"
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
}
