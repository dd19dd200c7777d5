package parse

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// TestPipesStealAuditdRecord: a Linux audit record forwarded over
// syslog (audisp-syslog) whose EXECVE argument holds '|' and key=value
// text (a0="curl" a1="http://x/?a=1|time=2|c=3": auditd does not hex-encode
// '|', only blanks, quotes and control bytes).
//
// What happens: parseCheckPointPipes, which now runs before detectKV,
// splits the whole record on '|': pieces "type=EXECVE msg=audit(...)...a1=\"http://x/?a=1",
// "time=2", "c=3\"" are three "pairs" with a time key, so the record is
// taken as Check Point's Splunk format: format checkpoint, the type value
// swallows the whole record, and event.dataset linux.auditd is gone (the
// record goes from the os-linux-auditd rule, P2, to the default P3 route;
// before 1a200f9 it was linux.auditd, format kv).
//
// What should happen: the record is still a key=value audit record
// (linux.auditd). Why it matters: the command line is the attacker's
// choice, so any user can keep their own EXECVE records out of the SIEM.
func TestPipesStealAuditdRecord(t *testing.T) {
	p := newTestParser()
	msg := `<14>Nov 28 10:00:00 host audit: type=EXECVE msg=audit(1795946405.123:42): argc=2 a0="curl" a1="http://x/?a=1|time=2|c=3"`
	out, res := p.AppendJSON(nil, []byte(msg))
	if got := fastjson.GetString(out, "event", "dataset"); got != "linux.auditd" || res.Format != FormatKV {
		t.Errorf("audit record with '|' in an argument: format %q, event.dataset %q; want kv, linux.auditd\n%s", res.Format, got, out)
	}
}

// TestPipesStealFortiGateLine: a FortiGate web filter line whose url
// (the requested URL: chosen by whoever browses) holds "|time=1|b=2".
//
// What happens: the new pipe-format check runs before detectKV; the line
// has no RFC 3164 tag, so it is taken as Check Point's Splunk format AND
// named checkpoint.firewall (no header = Log Exporter): srcip, dstip,
// action... are lost inside the first "pair" (date=...), the event goes to
// the fw-checkpoint rule as a Check Point event. Before 1a200f9 it was
// fortinet.fortigate, format kv, with its addresses.
//
// What should happen: a FortiGate line stays FortiGate key=value whatever
// its url contains. Why it matters: one crafted URL relabels and strips a
// firewall's block event (source.ip, action) for every detection on it.
func TestPipesStealFortiGateLine(t *testing.T) {
	p := newTestParser()
	msg := `<189>date=2026-11-28 time=10:00:00 devname="fw01" devid="FG100E" logid="0316013056" type="utm" subtype="webfilter" level="warning" srcip=10.0.0.5 srcport=50000 dstip=93.184.216.34 dstport=80 action="blocked" url="/search?q=a|time=1|b=2" msg="URL belongs to a denied category in policy"`
	out, res := p.AppendJSON(nil, []byte(msg))
	if got := fastjson.GetString(out, "event", "dataset"); got != "fortinet.fortigate" || res.Format != FormatKV {
		t.Errorf("FortiGate line with '|' in url: format %q, event.dataset %q; want kv, fortinet.fortigate\n%s", res.Format, got, out)
	}
}

// TestPipesStealGenericKV: a generic key=value line (space
// separated) with one value holding '|': "time=2026-11-28 user=bob
// src=10.0.0.1 dst=10.0.0.2 msg=x|y=1|z=2".
//
// What happens: taken as the pipe format: "time" becomes
// "2026-11-28 user=bob src=10.0.0.1 dst=10.0.0.2 msg=x" and user, src, dst
// are no longer fields (before 1a200f9: kv, with user, src and dst).
// What should happen: the pipe format only when the pieces are the pairs
// (a piece's value holding " key=" means the line is space-separated kv).
func TestPipesStealGenericKV(t *testing.T) {
	p := newTestParser()
	msg := `<189>Nov 28 10:00:00 host app: time=2026-11-28 user=bob src=10.0.0.1 dst=10.0.0.2 msg=x|y=1|z=2`
	out, res := p.AppendJSON(nil, []byte(msg))
	if fastjson.GetString(out, "src") != "10.0.0.1" || fastjson.GetString(out, "user") != "bob" {
		t.Errorf("space-separated kv with '|' in a value: format %q, src %q, user %q; want kv's src 10.0.0.1, user bob\n%s",
			res.Format, fastjson.GetString(out, "src"), fastjson.GetString(out, "user"), out)
	}
}

// TestFTDSecurityEventQuadratic: ftdSecurityEvent looks for the end
// of a value by running bytes.Index(b[k:], ": ") from every ", " in it,
// each to the end of the line: O(n^2) in the value's ", " count. A
// 430002 message whose value (a UserAgent, a URL, a user name: sent by the
// client) holds many ", " costs time growing with the square of its
// length: measured here 12 KB 0.9 ms, 24 KB 3 ms, 48 KB 12 ms, 96 KB 39 ms
// (max_message_bytes is 64 KiB by default and may be set to 16 MiB, where
// one message takes minutes). What should happen: linear, like every other
// payload parser (each ", " candidate needs only the next key's bytes).
// Why it matters: one UDP sender (or one crafted HTTP header) pins a syslog
// parser goroutine. The test compares the best of 3 runs at n and 4n
// ", " pieces: linear is ~4x, this is ~16x; it fails above 8x.
func TestFTDSecurityEventQuadratic(t *testing.T) {
	mk := func(n int) []byte {
		return []byte("<164>Nov 28 2026 10:00:01 ftd : %FTD-4-430002: SrcIP: 10.0.0.1, DstIP: 10.0.0.2, UserAgent: " +
			strings.Repeat("a, ", n) + "Client: x")
	}
	p := newTestParser()
	best := func(msg []byte) time.Duration {
		var b time.Duration
		var dst []byte
		for i := 0; i < 3; i++ {
			st := time.Now()
			dst, _ = p.AppendJSON(dst[:0], msg)
			if d := time.Since(st); i == 0 || d < b {
				b = d
			}
		}
		return b
	}
	small, large := mk(5000), mk(20000)
	ts, tl := best(small), best(large)
	if ratio := float64(tl) / float64(ts); ratio > 8 {
		t.Errorf("FTD security event parse: %d bytes %v, %d bytes %v (x%.1f for 4x the input); want linear (~x4)",
			len(small), ts, len(large), tl, ratio)
	}
}
