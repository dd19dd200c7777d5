package harness

import (
	"testing"

	"github.com/valyala/fastjson"
)

func TestTimeLike(t *testing.T) {
	for s, want := range map[string]bool{
		"2026-11-28T01:00:00.993079+0100": true,
		"2026/11/28 10:00:00":             true,
		"1795824000.0008910":              true,
		"1795824000":                      true,
		"":                                false,
		"10.0.0.5":                        false, // an address: kept verbatim
		"GET /index.html":                 false,
		"2026 was a year":                 false,
		"ws-042":                          false,
	} {
		if got := timeLike([]byte(s)); got != want {
			t.Errorf("timeLike(%q) = %v, want %v", s, got, want)
		}
	}
}

// A bench_sum is of the longest string value that is not a time; a
// received event holds if any string value, renamed or moved, still has it.
func TestSumHolds(t *testing.T) {
	var p fastjson.Parser
	raw := `{"ts":"2026-11-28T01:00:00.993079+01:00:00.000","a":{"msg":"connection from 10.0.0.5 refused"},"b":["x"]}`
	sum := appendSum(nil, &p, []byte(raw))
	if len(sum) == 0 {
		t.Fatal("no sum for an event with strings")
	}
	ev := func(body string) *fastjson.Value {
		v, err := new(fastjson.Parser).Parse(`{"bench_seq":0` + string(sum) + `,` + body + `}`)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		body string
		want bool
	}{
		{`"message":"connection from 10.0.0.5 refused"`, true},             // renamed
		{`"x":{"y":["connection from 10.0.0.5 refused"]}`, true},           // moved
		{`"message":"connection from 10.0.0.5 refuse"`, false},             // truncated
		{`"@timestamp":"2026-11-28T00:00:00.993Z","host":"ws-042"`, false}, // emptied
	} {
		if got := sumHolds(ev(c.body)); got != c.want {
			t.Errorf("%s: sumHolds = %v, want %v", c.body, got, c.want)
		}
	}
}
