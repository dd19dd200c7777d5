package parse

import (
	"testing"
	"time"
)

// A header time with a zone abbreviation is read in the input's zone, so
// that one the zone gives another meaning takes it: "CST" from a host of
// an input whose timezone is Asia/Shanghai is +08:00, not US Central (14
// hours off before). An input in UTC (the default) or in America/Chicago
// keeps the US meaning.
func TestHeaderZoneAbbrevReadInTheInputZone(t *testing.T) {
	now := time.Date(2024, 1, 2, 8, 0, 0, 0, time.UTC)
	msg := []byte(`<34>Jan  2 15:04:05 CST 2024 host1 app: login failed`)
	for _, c := range []struct{ loc, want string }{
		{"Asia/Shanghai", `"2024-01-02T07:04:05.000Z"`},
		{"Asia/Taipei", `"2024-01-02T07:04:05.000Z"`},
		{"America/Chicago", `"2024-01-02T21:04:05.000Z"`},
		{"UTC", `"2024-01-02T21:04:05.000Z"`},
	} {
		loc, err := time.LoadLocation(c.loc)
		if err != nil {
			t.Skip(err)
		}
		p := New(Options{Location: loc, Now: func() time.Time { return now }})
		out, _ := p.AppendJSON(nil, msg)
		if got := field(t, out, "timestamp"); got != c.want {
			t.Errorf("input timezone %s: timestamp %s, want %s\n%s", c.loc, got, c.want, out)
		}
	}
}
