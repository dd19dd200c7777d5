package normalize

import (
	"fmt"
	"strings"
	"testing"
	"testing/fstest"
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

// TestDetectDatasetConstant: a detect.dataset without a field names the
// source type of every event the profile detects (profiles for parts of one
// source, by event id, share one source type).
func TestDetectDatasetConstant(t *testing.T) {
	cfg := testConfig()
	cfg.Profiles = []ProfileSpec{
		{Name: "win.logon", Detect: &DetectSpec{Equals: OrderedMap{Keys: []string{"id"}, Values: []string{"4625"}}, Dataset: "win.eventlog"},
			Rename: OrderedMap{Keys: []string{"target"}, Values: []string{"user.name"}}},
		{Name: "win.eventlog", Detect: &DetectSpec{Present: []string{"id"}}},
	}
	for _, c := range []struct{ in, want, field string }{
		{`{"id":"4625","target":"bob"}`, "win.eventlog", `"user":{"name":"bob"}`},
		{`{"id":"4688","target":"bob"}`, "win.eventlog", `"target":"bob"`},
	} {
		out, n := faultAppend(t, cfg, c.in, nil)
		if got := string(n.SourceType()); got != c.want || !strings.Contains(out, c.field) {
			t.Errorf("%s: source type %q, want %q; output %s, want it to contain %s", c.in, got, c.want, out, c.field)
		}
		// Sent with the source type: the variant still applies.
		out, n = faultAppend(t, cfg, c.in, &EventMeta{SourceType: []byte("win.eventlog")})
		if got := string(n.SourceType()); got != c.want || !strings.Contains(out, c.field) {
			t.Errorf("%s with its source type: source type %q, want %q; output %s, want it to contain %s", c.in, got, c.want, out, c.field)
		}
	}
}

// TestProfileMergeKeys: profiles share mappings through YAML anchors and
// merge keys; a profile's own key overrides a merged one in its place.
func TestProfileMergeKeys(t *testing.T) {
	load := func(y string) ([]ProfileSpec, error) {
		return LoadProfiles(fstest.MapFS{"p/m.yaml": {Data: []byte(y)}}, "p")
	}
	specs, err := load(`shared:
  base: &base
    a: x.a
    b: x.b
profiles:
  - name: one
    rename:
      <<: *base
      b: y.b
      c: y.c
  - name: two
    rename: *base
`)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(specs[0].Rename.Keys, specs[0].Rename.Values); got != "[a b c] [x.a y.b y.c]" {
		t.Errorf("merged and overridden: %s", got)
	}
	if got := fmt.Sprint(specs[1].Rename.Keys, specs[1].Rename.Values); got != "[a b] [x.a x.b]" {
		t.Errorf("alias: %s", got)
	}
	if _, err := load("profiles:\n  - name: x\n    rename: {a: b, <<: {c: d}, a: e}\n"); err == nil {
		t.Error("a key written twice beside a merge key was accepted")
	}
}

// TestGenericSourceTypeDetects: Splunk's catch-all JSON source types
// ("_json", what a forwarder migrated from Splunk sends) do not switch
// detection off: the source's profile is found by its fields, and an event
// no profile knows keeps the generic name.
func TestGenericSourceTypeDetects(t *testing.T) {
	cfg := testConfig()
	cfg.Profiles = []ProfileSpec{{Name: "win.eventlog", Detect: &DetectSpec{Present: []string{"id"}},
		Rename: OrderedMap{Keys: []string{"target"}, Values: []string{"user.name"}}}}
	for _, c := range []struct{ in, st, want, field string }{
		{`{"id":"4625","target":"bob"}`, "_json", "win.eventlog", `"user":{"name":"bob"}`},
		{`{"other":1}`, "_json", "_json", `"other":1`},
		{`{"id":"4625","target":"bob"}`, "mine", "mine", `"target":"bob"`}, // an explicit one still wins
	} {
		out, n := faultAppend(t, cfg, c.in, &EventMeta{SourceType: []byte(c.st)})
		if got := string(n.SourceType()); got != c.want || !strings.Contains(out, c.field) {
			t.Errorf("%s as %s: source type %q, want %q; output %s, want it to contain %s", c.in, c.st, got, c.want, out, c.field)
		}
	}
}
