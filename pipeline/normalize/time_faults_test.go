package normalize

// Fault tests from a review of event times: each failed before the fix of
// the bug it describes (the comments describe the code as it was found).

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestExponentEpochFloatMisrounded
//
// Fault: parseTimeNode and findTime (normalize.go) first try ParseEpoch on
// a JSON number's text, which takes only digits and '.', and otherwise fall
// back to timeparse.FromEpoch(nd.val.GetFloat64()). fastjson's GetFloat64
// is fastfloat.ParseBestEffort, which for exponent notation computes
// mantissa / 10^k * 10^exp: two roundings, not the float nearest to the
// decimal. FromEpoch then converts that wrong float's shortest decimal
// exactly, so the error becomes visible: 1.717789607696E9 (what Java's
// Double.toString, hence Jackson and Gson, write for the epoch seconds
// 1717789607.696) becomes 2024-06-07T19:46:47.695999900Z; stored at
// OpenSearch's millisecond precision that is .695, the wrong millisecond.
// About one such value in four (seconds or milliseconds with a sub-unit
// fraction, in E notation) is off by 100-200 ns.
//
// Correct: the number's text denotes exactly 1717789607.696 s
// (RFC 8259 section 6: a number is a decimal with an optional exponent);
// FromEpoch documents that a fractional value is converted as its shortest
// decimal, which only holds if the float is the correctly rounded one
// (strconv.ParseFloat), or better, the exponent is applied to the decimal
// digits exactly. Expected @timestamp: 2024-06-07T19:46:47.696Z.
func TestExponentEpochFloatMisrounded(t *testing.T) {
	n := mustCompile(t, testConfig()).New()
	for _, in := range []string{
		`{"ts":1.717789607696E9,"event":{"action":"login"}}`,  // global timestamp_fields (findTime)
		`{"@timestamp":1.717789607696E9,"message":"login"}`,   // findTime, @timestamp
		`{"time":1.71927304896387E12,"event":{"action":"x"}}`, // ms with a microsecond fraction
	} {
		out, _ := normalizeOne(t, n, in, nil)
		v := fastjson.MustParse(out)
		got := string(v.GetStringBytes("@timestamp"))
		want := "2024-06-07T19:46:47.696Z"
		if in[2] == 't' && in[3] == 'i' { // "time"
			want = "2024-06-24T23:50:48.963870Z"
		}
		if got != want {
			t.Errorf("%s: @timestamp %s, want %s", in, got, want)
		}
	}
	// A profile's timestamp field goes through parseTimeNode: same fault.
	cfg := testConfig()
	cfg.Profiles = []ProfileSpec{{Name: "acme.auth", Timestamp: &TimestampSpec{Fields: []string{"created"}}}}
	n = mustCompile(t, cfg).New()
	in := `{"created":1.717789607696E9,"user":"alice"}`
	out, _ := normalizeOne(t, n, in, &EventMeta{SourceType: []byte("acme.auth")})
	if got, want := string(fastjson.MustParse(out).GetStringBytes("@timestamp")), "2024-06-07T19:46:47.696Z"; got != want {
		t.Errorf("%s (profile field): @timestamp %s, want %s", in, got, want)
	}
}
