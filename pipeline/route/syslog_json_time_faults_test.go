package route_test

// Review (normalized output vs docs/schema.md): the event time of a JSON
// payload that arrives over syslog.

import "testing"

// TestSyslogJSONPayloadTimeLosesToHeader
//
// An application that logs JSON over syslog (Go's log/slog JSONHandler,
// logrus, pino... through rsyslog/journald forwarding) carries its own,
// zoned, sub-second event time in "time" or "ts". The syslog input writes
// the HEADER's time as "timestamp" next to the payload's members, and
// normalize.timestamp_fields tries "timestamp" before "time"/"ts", so the
// header's time becomes @timestamp and the payload's own time is left as a
// plain field:
//
//   - RFC 3164 header (a host whose syslog clock is local time, CET, no
//     zone; read as UTC): @timestamp is off by the zone offset (one hour)
//     and loses the milliseconds;
//   - RFC 5424 header stamped when the relay forwarded the line: @timestamp
//     is the forwarding time, not the event time.
//
// It is also inconsistent: the same payload with an unparseable "timestamp"
// member of its own ({"timestamp":"not a time","ts":...}) gets the
// payload's ts as @timestamp (rules/49-syslog-timestamp_test.yaml), and a
// profile's time field (zeek ts) wins over the header
// (rules/49-syslog-json-timestamp-faults_test.yaml).
//
// Expected (docs/schema.md "Fields logrouter always writes": @timestamp is
// "the event's own time"): the payload's own time.
func TestSyslogJSONPayloadTimeLosesToHeader(t *testing.T) {
	for _, c := range []struct{ name, line, want string }{
		{"rfc3164 local-time header, slog time with offset",
			`<14>Jan  1 10:00:00 web-1 checkout: {"time":"2026-01-01T10:00:00.250+01:00","level":"INFO","msg":"login ok","user":"alice"}`,
			"2026-01-01T09:00:00.250Z"},
		{"rfc5424 relay header, zap ts",
			`<14>1 2026-01-01T10:00:05Z web-1 checkout - - - {"ts":"2026-01-01T10:00:00.250Z","level":"info","msg":"login ok"}`,
			"2026-01-01T10:00:00.250Z"},
	} {
		res := vendorSyslog(t, c.line)
		if got := res.str("@timestamp"); got != c.want {
			t.Errorf("%s:\n  @timestamp %s, want %s (the payload's own time; the syslog header's time won)\n  %s",
				c.name, got, c.want, res.raw)
		}
	}
}
