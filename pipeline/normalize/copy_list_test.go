package normalize

import (
	"strings"
	"testing"
)

// TestCopyFromList: a copy's from with a number segment after the first
// indexes a list (Google Workspace's events.0.name); an object member
// named by digits is still read first; an index past the list, a value
// that is no string or number, or a from that is no list copies nothing.
func TestCopyFromList(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "gw",
		Copy: OrderedMap{Keys: []string{"events.0.name", "events.1.n", "events.0.o"}, Values: []string{"event.action", "x.n", "x.o"}},
	}}
	for _, tc := range []struct{ in, want, not string }{
		{`{"events":[{"name":"login_failure","type":"login"},{"n":7}]}`, `"action":"login_failure"`, ``},
		{`{"events":[{"name":"a"},{"n":7}]}`, `"x":{"n":"7"}`, ``},
		{`{"events":[{"name":"a\"b"}]}`, `"action":"a\"b"`, `"x"`},
		{`{"events":{"0":{"name":"member"}}}`, `"action":"member"`, ``},
		{`{"events":[]}`, `"dataset":"gw"`, `"action"`},
		{`{"events":[{"name":{"x":1},"o":true}]}`, `"dataset":"gw"`, `"action"`},
		{`{"events":"login"}`, `"dataset":"gw"`, `"action"`},
		{`{"events":[{"name":"b"}],"event":{"action":"own"}}`, `"action":"own"`, `"action":"b"`},
	} {
		out, _ := faultAppend(t, cfg, tc.in, &EventMeta{SourceType: []byte("gw")})
		if !strings.Contains(out, tc.want) || tc.not != "" && strings.Contains(out, tc.not) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s, not %s", tc.in, out, tc.want, tc.not)
		}
	}
}

// TestMapFromList: a map's field may index a list too (Windows'
// winlog.keywords.0); a map into the list element itself does nothing.
func TestMapFromList(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "w",
		Map: []MapSpec{
			{Field: "kw.0", To: "event.outcome", Values: OrderedMap{Keys: []string{"Audit Failure"}, Values: []string{"failure"}}},
			{Field: "kw.1", Values: OrderedMap{Keys: []string{"x"}, Values: []string{"y"}}},
		},
	}}
	for _, tc := range []struct{ in, want, not string }{
		{`{"kw":["Audit Failure","x"]}`, `"outcome":"failure"`, `"y"`},
		{`{"kw":["Audit Success"]}`, `"kw":["Audit Success"]`, `"outcome"`},
		{`{"kw":{"0":"Audit Failure"}}`, `"outcome":"failure"`, ``},
	} {
		out, _ := faultAppend(t, cfg, tc.in, &EventMeta{SourceType: []byte("w")})
		if !strings.Contains(out, tc.want) || tc.not != "" && strings.Contains(out, tc.not) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s, not %s", tc.in, out, tc.want, tc.not)
		}
	}
}
