package normalize

import (
	"strings"
	"testing"
)

// TestWildcardSegment: a rename or drop source whose segment ends in '*'
// names the members whose key begins with the rest (a Juniper SD-ID's
// platform number, junos@2636.1.1.1.2.129); members that do not match keep
// their keys; the written key of a member that is not renamed is its own;
// two members matching one wildcard that both carry a renamed field rank
// by their keys (the lower wins; the other stays where it was: nothing is
// lost, and the members' order changes nothing).
func TestWildcardSegment(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "srx",
		Rename: OrderedMap{
			Keys:   []string{"sd.junos@*.source-address", "sd.junos@*.source-port", "sd.x*.y"},
			Values: []string{"source.ip", "source.port", "z"},
		},
		Drop: []string{"sd.junos@*.roles"},
	}}
	for _, tc := range []struct{ in, want, not string }{
		{`{"sd":{"junos@2636.1.1.1.2.129":{"source-address":"10.0.0.1","source-port":"51234","roles":"N/A","policy-name":"allow"}}}`,
			`"sd":{"junos@2636.1.1.1.2.129":{"policy-name":"allow"}},"source":{"ip":"10.0.0.1","port":"51234"}`, `"roles"`},
		{`{"sd":{"junos@67.43.156.15":{"source-address":"10.0.0.2","source-port":"1"}}}`,
			`"source":{"ip":"10.0.0.2","port":"1"}`, `"junos@67`},
		{`{"sd":{"juniper@1":{"source-address":"10.0.0.3"},"x":{"y":1},"xx":{"y":2}}}`,
			`"sd":{"juniper@1":{"source-address":"10.0.0.3"},"xx":{"y":2}},"z":1`, `"source"`},
		{`{"sd":{"xx":{"y":2},"x":{"y":1}}}`, `"sd":{"xx":{"y":2}},"z":1`, `"source"`},
		{`{"junos@2636.1":{"source-address":"10.0.0.4"}}`, `"junos@2636.1":{"source-address":"10.0.0.4"}`, `"source"`},
	} {
		out, _ := faultAppend(t, cfg, tc.in, &EventMeta{SourceType: []byte("srx")})
		if !strings.Contains(out, tc.want) || strings.Contains(out, tc.not) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s, not %s", tc.in, out, tc.want, tc.not)
		}
	}
}

func TestWildcardRefused(t *testing.T) {
	for _, tc := range []struct {
		rename, to, drop, want string
	}{
		{rename: "junos@*.a", to: "b", want: "first segment"},
		{rename: "sd.*.a", to: "b", want: "ends a segment after a prefix"},
		{rename: "sd.a*b.c", to: "b", want: "ends a segment after a prefix"},
		{rename: "sd.a*.c", to: "b.x*", want: "only in a rename or drop source"},
		{rename: "sd.a*", to: "b", want: "rename those"},
		{rename: "sd.junos@*.a", to: "b", drop: "sd.junos@2636.1.c", want: "write the path with the wildcard"},
		{drop: "sd.*", want: "ends a segment after a prefix"},
		{rename: "sd.junos@2636*.a", to: "b", drop: "sd.junos@*.c", want: "overlap"},
	} {
		sp := ProfileSpec{Name: "p"}
		if tc.rename != "" {
			sp.Rename = OrderedMap{Keys: []string{tc.rename}, Values: []string{tc.to}}
		}
		if tc.drop != "" {
			sp.Drop = []string{tc.drop}
		}
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{sp}
		_, err := Compile(cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want it to say %q", tc, err, tc.want)
		}
	}
	cfg := DefaultConfig()
	cfg.Rename = map[string]string{"a.b*.c": "d"}
	if _, err := Compile(cfg); err != nil {
		t.Errorf("global rename with a wildcard segment: %v", err)
	}
	cfg.Rename = map[string]string{"a*.c": "d"}
	if _, err := Compile(cfg); err == nil {
		t.Error("global rename with a wildcard first segment accepted")
	}
}

// TestNoneValues: a field a rename wrote whose value is one of the
// profile's none_values is removed; a field the event had under its own
// name, or an object, is left alone.
func TestNoneValues(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:       "srx",
		Rename:     OrderedMap{Keys: []string{"sd.app", "sd.user", "sd.o"}, Values: []string{"x.app", "x.user", "x.o"}},
		NoneValues: []string{"N/A", "None"},
	}}
	out, _ := faultAppend(t, cfg, `{"sd":{"app":"None","user":"N/A","o":{"a":"N/A"}},"own":"N/A","x":{"z":"None"}}`,
		&EventMeta{SourceType: []byte("srx")})
	for _, want := range []string{`"own":"N/A"`, `"z":"None"`, `"o":{"a":"N/A"}`} {
		if !strings.Contains(out, want) {
			t.Errorf("%s removed: %s", want, out)
		}
	}
	for _, not := range []string{`"app"`, `"user"`} {
		if strings.Contains(out, not) {
			t.Errorf("%s kept: %s", not, out)
		}
	}
}

// TestNestedWildcardRefused: one wildcard per path (members below two would
// rank by the inner one's key only, so their order would decide).
func TestNestedWildcardRefused(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "p", Rename: OrderedMap{Keys: []string{"a.x*.y*.c"}, Values: []string{"t"}}}}
	if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "one wildcard") {
		t.Errorf("nested wildcards: %v", err)
	}
}
