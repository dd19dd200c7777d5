package normalize

import (
	"strings"
	"testing"
)

// TestEmptyRenamedValueYields: a field a rename targets that arrives
// null or "" (left out of the output anyway) takes no part in the rename:
// another source of that field, ranked after it, or a copy into it, gives
// the field its value. An o365.audit record with an empty top-level
// UserAgent kept ExtendedProperties' user agent out of
// user_agent.original.
func TestEmptyRenamedValueYields(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "p",
		Rename: OrderedMap{
			Keys:   []string{"UserAgent", "ua", "Agent2"},
			Values: []string{"user_agent.original", "user_agent.original", "user_agent.name"},
		},
		Copy: OrderedMap{Keys: []string{"ExtendedProperties[Name=UserAgent].Value"}, Values: []string{"user_agent.original"}},
	}}
	for _, c := range []struct {
		in, want string
		loser    bool // a real value that lost the rank stays under its own name (docs/schema.md)
	}{
		{`{"UserAgent":"","ExtendedProperties":[{"Name":"UserAgent","Value":"Mozilla/5.0"}]}`, `"user_agent":{"original":"Mozilla/5.0"}`, false},
		{`{"UserAgent":null,"ExtendedProperties":[{"Name":"UserAgent","Value":"Mozilla/5.0"}]}`, `"user_agent":{"original":"Mozilla/5.0"}`, false},
		{`{"UserAgent":"","ua":"curl/8"}`, `"user_agent":{"original":"curl/8"}`, false},
		{`{"ua":"curl/8","UserAgent":""}`, `"user_agent":{"original":"curl/8"}`, false},
		{`{"UserAgent":"Edge","ua":"curl/8"}`, `"user_agent":{"original":"Edge"}`, true}, // a value still ranks
		{`{"UserAgent":"","Agent2":""}`, `,"event":{"dataset":"p"`, false},               // nothing left
	} {
		out, _ := faultAppend(t, cfg, c.in, &EventMeta{SourceType: []byte("p")})
		if !strings.Contains(out, c.want) || strings.Contains(out, `"UserAgent":`) || (strings.Contains(out, `"ua":`) && !c.loser) {
			t.Errorf("in: %s\nout: %s\nwant it to hold %s, and no source name", c.in, out, c.want)
		}
	}
	// With keep_empty the empty value is kept, and ranks, as before.
	cfg.KeepEmpty = true
	out, _ := faultAppend(t, cfg, `{"UserAgent":"","ua":"curl/8"}`, &EventMeta{SourceType: []byte("p")})
	if !strings.Contains(out, `"user_agent":{"original":""`) {
		t.Errorf("keep_empty: %s", out)
	}
}

// TestRenamedValueMeetsObject: a value renamed into a field that the
// event also has as an object (its own, in the same object) is kept inside
// it as "value", whichever comes first, as values and objects of one field
// from two sources are (docs/schema.md). Before, within one input object,
// the later replaced the earlier: {"msg":"hello","message":{"a":1}} lost
// "hello", and {"message":{"a":1},"msg":"hello"} lost message.a.
func TestRenamedValueMeetsObject(t *testing.T) {
	cfg := testConfig()
	for _, in := range []string{
		`{"msg":"hello","message":{"a":1}}`,
		`{"message":{"a":1},"msg":"hello"}`,
	} {
		out, _ := faultAppend(t, cfg, in, nil)
		if !strings.Contains(out, `"value":"hello"`) || !strings.Contains(out, `"a":1`) {
			t.Errorf("in: %s\nout: %s\nwant message.a and message.value hello", in, out)
		}
	}
}
