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
	prefixes := MapSpec{Field: "res", To: "event.category",
		Values: OrderedMap{Keys: []string{"group.*", "group.user_membership.*", "group.user_membership.add", "user.*"},
			Values: []string{"iam", "membership", "exact", "authentication"}}}
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
		{"prefix", prefixes, `{"res":"GROUP.lifecycle.create"}`, []string{`"category":"iam"`}, nil},
		{"longest prefix", prefixes, `{"res":"group.user_membership.remove"}`, []string{`"category":"membership"`}, nil},
		{"whole value over prefixes", prefixes, `{"res":"group.user_membership.add"}`, []string{`"category":"exact"`}, nil},
		{"prefix is not the value", prefixes, `{"res":"grou"}`, nil, []string{"category"}},
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

// TestConvertAddressAndNoneWords: convert address keeps an .address and
// writes its sibling .ip when it is an IP (not over the sender's own);
// "<null>" and the like remove a field an ip or int conversion is for, but
// stay in a string.
func TestConvertAddressAndNoneWords(t *testing.T) {
	conv := OrderedMap{Keys: []string{"source.address", "client.ip", "port", "note"}, Values: []string{"address", "ip", "int", "string"}}
	spec := []ProfileSpec{{Name: "c", Convert: conv}}
	for _, tc := range []struct{ in, want string }{
		{`{"source":{"address":"::ffff:198.51.100.12"}}`, `"source":{"address":"::ffff:198.51.100.12","ip":"198.51.100.12"}`},
		{`{"source":{"address":"ec2.amazonaws.com"}}`, `"source":{"address":"ec2.amazonaws.com"}`},
		{`{"source":{"address":"10.0.0.1","ip":"10.0.0.2"}}`, `"source":{"address":"10.0.0.1","ip":"10.0.0.2"}`},
		{`{"client":{"ip":"<null>"},"port":"N/A","note":"none","x":1}`, `"note":"none","x":1`},
	} {
		out := faultsNormalize(t, spec, tc.in, "c")
		if !strings.Contains(out, tc.want) || (strings.Contains(tc.in, "<null>") && (strings.Contains(out, "client") || strings.Contains(out, "port"))) {
			t.Errorf("%s: got %s, want %s", tc.in, out, tc.want)
		}
	}
	if _, err := Compile(Config{Profiles: []ProfileSpec{{Name: "c", Convert: OrderedMap{Keys: []string{"source.ip"}, Values: []string{"address"}}}}}); err == nil || !strings.Contains(err.Error(), ".address") {
		t.Errorf("address on a field that is no .address: %v", err)
	}
}
