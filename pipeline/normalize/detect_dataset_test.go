package normalize

import (
	"strings"
	"testing"
)

// TestDetectDataset: detect.dataset names a detected event's source type
// from one of its fields (read before renames); a value that is not a
// short lower-case name falls back on the profile's name; templates
// without exactly one field, or with other characters, are refused.
func TestDetectDataset(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "zeek.conn", File: "p.yaml", Line: 1,
		Detect: &DetectSpec{Present: []string{"uid", "_path"}, Dataset: "zeek.{_path}"},
		Rename: OrderedMap{Keys: []string{"_path"}, Values: []string{"zeek.log"}}}}
	for _, c := range []struct{ in, want string }{
		{`{"uid":"C1","_path":"dns"}`, "zeek.dns"},
		{`{"uid":"C1","_path":"notice"}`, "zeek.notice"},
		{`{"uid":"C1","_path":"DNS"}`, "zeek.conn"},
		{`{"uid":"C1","_path":"a/b"}`, "zeek.conn"},
		{`{"uid":"C1","_path":"` + strings.Repeat("x", 65) + `"}`, "zeek.conn"},
		{`{"uid":"C1","_path":5}`, "zeek.conn"},
	} {
		out, n := faultAppend(t, cfg, c.in, nil)
		if got := string(n.SourceType()); got != c.want || !strings.Contains(out, `"dataset":"`+c.want+`"`) {
			t.Errorf("%s: source type %q, want %q: %s", c.in, got, c.want, out)
		}
	}
	for _, bad := range []string{"zeek.", "zeek.{_path", "{a}.{b}", "Zeek.{_path}", "zeek {_path}", "zeek.{}"} {
		cfg.Profiles[0].Detect.Dataset = bad
		if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "detect.dataset") {
			t.Errorf("detect.dataset %q: got %v, want an error naming detect.dataset", bad, err)
		}
	}
}
