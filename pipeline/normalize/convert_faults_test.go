package normalize

// A review: a fault of convert's pre-check decimalText (b31210d,
// profile.go). It fails on the code as found; the comment describes that
// code.

import (
	"strings"
	"testing"
)

// TestConvertUnderscoreDigits
//
// What is wrong: decimalText admits only digits, signs, '.', 'e' and 'E'
// and claims those are all a decimal number can hold ("Go's hex floats,
// inf and NaN are not numbers a field of a log is converted from"). But
// strconv.ParseFloat, which convert used unguarded before b31210d, also
// accepts '_' between decimal digits (strconv's underscoreOK: "1_000" is
// 1000, "2_500.5" is 2500.5). Those values converted before (convInt:
// ParseInt fails, then ParseFloat gives 1000, an integer, written as 1000;
// convFloat: 2500.5); now decimalText says false, convert returns false
// and setAside moves them to logrouter.unconverted, as strings: the field
// is gone from its ECS path (source.bytes, event.duration ...) and range
// queries and rules on it miss the event.
//
// How to reproduce: a profile converting n to int and f to float; an
// event {"n":"1_000","f":"2_500.5"}. (Checked on 12f05ad^: "n":1000,
// "f":2500.5.)
//
// Expected: "n":1000 and "f":2500.5, as before the commit (contract: a
// conversion that succeeded before these commits still succeeds; the
// pre-check exists only to skip texts that "cannot be a number", not to
// change which texts convert). decimalText should admit '_' (only
// ParseFloat's hex forms are excluded on purpose, per its comment).
func TestConvertUnderscoreDigits(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:    "p",
		Convert: OrderedMap{Keys: []string{"n", "f"}, Values: []string{"int", "float"}},
	}}
	out, _ := faultAppend(t, cfg, `{"ts":1700000000,"n":"1_000","f":"2_500.5"}`, &EventMeta{SourceType: []byte("p")})
	if !strings.Contains(out, `"n":1000`) || !strings.Contains(out, `"f":2500.5`) {
		t.Errorf("values strconv converted before the pre-check are now set aside:\n%s", out)
	}
}
