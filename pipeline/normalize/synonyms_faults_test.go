package normalize

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// TestSynonymAlsoSourceTypeErrorHasFileLine
//
// What I did: two profiles loaded from files (File/Line set as
// LoadProfiles sets them), one listing "x" in synonyms, the other in
// source_types.
//
// What happened: Compile refuses it with "profile "a": synonym "x" is also
// a source type of profile "b": ..." and no file:line: the check runs after
// the loop and uses only the profile's name. Every other profile error
// (including the other synonym errors: claimed twice, catch-all name, bad
// name) starts with "file:line: profile ...".
//
// What should happen: the error names the file and line of the profile
// that lists the synonym, as the others do.
//
// Why it matters: operators add synonyms to dozens of profiles in several
// files (the starters list them in six files, with YAML anchors); a
// startup or reload error without a location has to be searched for by
// hand while the router refuses the configuration.
func TestSynonymAlsoSourceTypeErrorHasFileLine(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{
		{Name: "a", Synonyms: []string{"x"}, File: "rules/profiles/10-a.yaml", Line: 3},
		{Name: "b", SourceTypes: []string{"x"}, File: "rules/profiles/20-b.yaml", Line: 7},
	}
	_, err := Compile(cfg)
	if err == nil {
		t.Fatal("expected an error")
	}
	if !strings.Contains(err.Error(), "10-a.yaml:3") && !strings.Contains(err.Error(), "20-b.yaml:7") {
		t.Errorf("error without file:line: %v", err)
	}
}

// TestSynonymOfVariantWithoutBaseSelectsNothing
//
// What I did: two profiles for parts of one source, as detect.dataset's
// doc describes ("profiles that map parts of one source differently (by
// event id) name one source type"): win.logon (EventID 4624) and
// win.failed (EventID 4625), both detect.dataset win.security, no profile
// named win.security. win.logon lists Splunk's "WinEventLog:Security" in
// synonyms. Compile accepts it.
//
// What happened: an event sent with sourcetype WinEventLog:Security is
// renamed to win.security (as the docs say, "a variant's synonym names its
// base"), but no profile is named win.security: the source type is
// explicit, so detection does not run either. No profile applies:
// TargetUserName is not mapped to user.name. The same event without a
// source type is detected and mapped.
//
// What should happen: the event is mapped by win.logon (detection among
// the profiles that share the dataset), or Compile refuses a synonym that
// can select no profile. A synonym must not make an event less mapped
// than no source type at all.
//
// Why it matters: sending Splunk's source type (what a Splunk forwarder
// or HEC client moved over sends) silently disables the mapping the
// synonym was added for; rules on user.name (failed/successful logons)
// miss every such event.
func TestSynonymOfVariantWithoutBaseSelectsNothing(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{
		{Name: "win.logon", Synonyms: []string{"WinEventLog:Security"},
			Detect: &DetectSpec{Equals: OrderedMap{Keys: []string{"EventID"}, Values: []string{"4624"}}, Dataset: "win.security"},
			Rename: OrderedMap{Keys: []string{"TargetUserName"}, Values: []string{"user.name"}}},
		{Name: "win.failed",
			Detect: &DetectSpec{Equals: OrderedMap{Keys: []string{"EventID"}, Values: []string{"4625"}}, Dataset: "win.security"},
			Rename: OrderedMap{Keys: []string{"TargetUserName"}, Values: []string{"user.name"}}},
	}
	c, err := Compile(cfg)
	if err != nil {
		t.Skipf("refused at compile time (acceptable): %v", err)
	}
	n := c.New()
	v := fastjson.MustParse(`{"EventID":"4624","TargetUserName":"bob","LogonType":"3"}`)
	// Without a source type: detected, mapped.
	out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"user":{"name":"bob"}`) {
		t.Fatalf("reference (detected) event not mapped: %s", out)
	}
	// With the synonym: should be at least as mapped.
	out, ev, err := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte("WinEventLog:Security")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"user":{"name":"bob"}`) {
		t.Errorf("sent with the synonym WinEventLog:Security: source type %q, no profile applied: %s", ev.SourceType, out)
	}
}
