package route_test

import "testing"

// A JSON line sent to the syslog port without a syslog header (parse_status
// raw) whose own first member is "timestamp": before fd86425..HEAD that
// member (first in normalize.timestamp_fields) was @timestamp. headerTime
// now takes it, by position, for a syslog header's time and tries it after
// every other time field, so an unrelated "created_at" wins.
func TestHeaderlessJSONOwnTimestampDemoted(t *testing.T) {
	line := `{"timestamp":"2026-01-01T10:00:00.250Z","msg":"user updated","created_at":"2020-03-04T05:06:07Z"}`
	res := vendorSyslog(t, line)
	if got := res.str("@timestamp"); got != "2026-01-01T10:00:00.250Z" {
		t.Errorf("@timestamp %s, want the payload's own timestamp 2026-01-01T10:00:00.250Z\n%s", got, res.raw)
	}
}
