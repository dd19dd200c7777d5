package parse

import (
	"testing"
	"time"
)

// TestOriginIDTakesProgramWithTimestampedMessage
//
// Fault: b7ec879 takes any "<PRI>TOKEN: " followed by something
// parseTimestamp3164 accepts as a Cisco IOS "logging origin-id" host,
// whether or not the rest is IOS's shape (timestamp, ": ", %MNEMONIC).
// RFC 3164 lines with no header timestamp whose TAG is a bare program name
// and whose message starts with the application's own timestamp are
// common: Python's logging.handlers.SysLogHandler sends "<PRI>" + ident +
// formatted record (no header time or hostname), and the usual formatter
// starts with %(asctime)s ("2026-11-28 10:00:00,123"). The program name
// becomes host.hostname (or, worse, the next word of the message, the log
// level, does: the HOSTNAME step after the timestamp takes "INFO"), and
// process.name disappears.
//
// Sequence: parse "<14>myapp: 2026-11-28 10:00:00,123 INFO Started worker 3"
// (SysLogHandler, ident "myapp: ", format "%(asctime)s %(levelname)s
// %(message)s") and "<14>myapp: Nov 28 10:00:00 job finished".
//
// Expected: as before b7ec879: process.name "myapp", no host.hostname
// (the event keeps the sender's address), the application's text as the
// message.
//
// Actual: no process.name; host.hostname "INFO" (first line) and "job"
// (second); the message loses its first words.
func TestOriginIDTakesProgramWithTimestampedMessage(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := New(Options{Now: func() time.Time { return now }})
	for _, msg := range []string{
		"<14>myapp: 2026-11-28 10:00:00,123 INFO Started worker 3",
		"<14>myapp: Nov 28 10:00:00 job finished",
	} {
		out, res := p.AppendJSON(nil, []byte(msg))
		if res.Status != StatusRFC3164 {
			t.Fatalf("%q: status %v, want rfc3164: %s", msg, res.Status, out)
		}
		if got := faults3Get(t, out, "process", "name"); got != `"myapp"` {
			t.Errorf("%q: process.name %q, want \"myapp\" (the TAG)\n%s", msg, got, out)
		}
		if got := faults3Get(t, out, "host", "hostname"); got != "" {
			t.Errorf("%q: host.hostname %s: a program name or a word of the message taken as the origin-id\n%s", msg, got, out)
		}
	}
}
