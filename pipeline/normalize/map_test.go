package normalize

import (
	"strings"
	"testing"
)

// TestProfileMap: map writes its target from a table, ignoring ASCII case,
// with the default for an unlisted value, never over a value the sender
// set, and in place when to is the field itself.
func TestProfileMap(t *testing.T) {
	outcome := MapSpec{Field: "res", To: "event.outcome",
		Values: OrderedMap{Keys: []string{"SUCCESS", "DENY", "0"}, Values: []string{"success", "failure", "success"}}}
	withDefault := outcome
	withDefault.Default = "unknown"
	inPlace := MapSpec{Field: "res", Values: OrderedMap{Keys: []string{"deny"}, Values: []string{"failure"}}}
	for _, tc := range []struct {
		name string
		spec MapSpec
		in   string
		want []string // substrings of the output
		not  []string
	}{
		{"listed", outcome, `{"res":"DENY"}`, []string{`"res":"DENY"`, `"event":{"outcome":"failure"`}, nil},
		{"case ignored", outcome, `{"res":"success"}`, []string{`"outcome":"success"`}, nil},
		{"number", outcome, `{"res":0}`, []string{`"outcome":"success"`}, nil},
		{"unlisted, no default", outcome, `{"res":"CHALLENGE"}`, []string{`"res":"CHALLENGE"`}, []string{"outcome"}},
		{"unlisted, default", withDefault, `{"res":"CHALLENGE"}`, []string{`"outcome":"unknown"`}, nil},
		{"sender's value kept", withDefault, `{"res":"DENY","event":{"outcome":"failed"}}`, []string{`"outcome":"failed"`}, []string{`"outcome":"failure"`}},
		{"object not mapped", withDefault, `{"res":{"x":1}}`, nil, []string{"outcome"}},
		{"absent", withDefault, `{"x":1}`, nil, []string{"outcome"}},
		{"in place", inPlace, `{"res":"Deny"}`, []string{`"res":"failure"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := faultsNormalize(t, []ProfileSpec{{Name: "m", Map: []MapSpec{tc.spec}}}, tc.in, "m")
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("want %s in %s", w, out)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(out, w) {
					t.Errorf("did not want %s in %s", w, out)
				}
			}
		})
	}
}

// TestProfileMapRefused: a map without values, or one writing what
// logrouter writes itself, is refused when the profiles load.
func TestProfileMapRefused(t *testing.T) {
	for _, tc := range []struct {
		spec MapSpec
		want string
	}{
		{MapSpec{Field: "res", To: "event.outcome"}, "needs values"},
		{MapSpec{Field: "res", To: "@timestamp", Values: OrderedMap{Keys: []string{"a"}, Values: []string{"b"}}}, "written by logrouter"},
		{MapSpec{Field: "", To: "x", Values: OrderedMap{Keys: []string{"a"}, Values: []string{"b"}}}, "map[0]"},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{{Name: "m", Map: []MapSpec{tc.spec}}}
		_, err := Compile(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: got %v, want an error with %q", tc.spec, err, tc.want)
		}
	}
}
