package normalize

import (
	"strings"
	"testing"
)

// A time whose zone abbreviation has another meaning in the event's zone
// (event.timezone) takes it: CST from a host in China (+08:00) is not US
// Central (14 hours off before). Without event.timezone, or with a zone
// given as the abbreviation itself, the US meaning holds (documented).
func TestAmbiguousZoneAbbrevFollowsEventTimezone(t *testing.T) {
	n := mustCompile(t, testConfig()).New()
	for _, c := range []struct{ in, want string }{
		{`{"timestamp":"Tue Jan 02 15:04:05 CST 2024","event":{"timezone":"+08:00"},"message":"login failed"}`, `"@timestamp":"2024-01-02T07:04:05.000Z"`},
		{`{"timestamp":"Tue Jan 02 15:04:05 CST 2024","message":"login failed"}`, `"@timestamp":"2024-01-02T21:04:05.000Z"`},
		{`{"timestamp":"Tue Jan 02 15:04:05 CST 2024","event":{"timezone":"-06:00"},"message":"login failed"}`, `"@timestamp":"2024-01-02T21:04:05.000Z"`},
	} {
		out, _ := normalizeOne(t, n, c.in, nil)
		if !strings.Contains(out, c.want) {
			t.Errorf("%s\n  => %s\n  want %s", c.in, out, c.want)
		}
	}
}
