package route_test

import "testing"

// An RFC 5424 line (host and app set) whose JSON payload is an ECS event
// with its own log, host and process (Beats / Elastic Agent events relayed
// over syslog): the parser writes the header's "timestamp" and then only
// the payload's members (its log/host/process suppress the header's), so
// headerTime/headerFirst (bf64a48: a header member must follow) no longer
// see the header's time: it is taken as the payload's own "timestamp",
// ahead of the payload's "time". Passed before bf64a48.
func TestHeaderTimeWithECSPayload(t *testing.T) {
	res := vendorSyslog(t, `<14>1 2026-11-30T10:00:00Z relay beats - - - {"agent":{"type":"filebeat"},"log":{"level":"info"},"host":{"name":"h"},"process":{"pid":1},"time":"2026-11-30T09:59:00.5Z","message":"x"}`)
	if got := res.str("@timestamp"); got != "2026-11-30T09:59:00.500Z" {
		t.Errorf("@timestamp %s, want the payload's own time 2026-11-30T09:59:00.500Z\n%s", got, res.raw)
	}
}
