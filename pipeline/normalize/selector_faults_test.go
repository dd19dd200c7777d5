package normalize

// Fault tests from a review of 21a8c5f ("profiles: read name/value lists
// by selector; Google's is_suspicious sign-ins are P1"). Each test failed
// on that code; its comment says what was wrong, how to reproduce it, what
// is expected and which source says so.

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// TestSelectorOutsideCopyMapRefused
//
// What is wrong: a selector (list[member=value]) is checked and read only
// in copy's from and map's field (checkListPaths, newListPath). Everywhere
// else a profile reads a path from the event (rename, drop, convert,
// split's field, timestamp fields, detect's present and equals) the same
// text loads without an error and is looked up as a literal key
// "ExtendedProperties[Name=UserAgent]" that no event has: the profile
// silently does nothing. The natural first try,
// rename: {"ExtendedProperties[Name=UserAgent].Value": user_agent.original},
// loads and never writes user_agent.original; detect present on a
// selector never recognizes the source.
//
// How to reproduce: Compile a profile with a selector in each of those
// places.
//
// Expected: a load error, as for a selector in a copy's or map's target:
// docs/schema.md (this commit) says "A selector may stand only in copy's
// from and map's field (with a to of its own)", and the commit message says
// a selector "is refused where it cannot apply".
func TestSelectorOutsideCopyMapRefused(t *testing.T) {
	const sel = "ExtendedProperties[Name=UserAgent].Value"
	for _, c := range []struct {
		name string
		spec ProfileSpec
	}{
		{"rename source", ProfileSpec{Name: "x", Rename: OrderedMap{Keys: []string{sel}, Values: []string{"user_agent.original"}}}},
		{"drop", ProfileSpec{Name: "x", Drop: []string{"ExtendedProperties[Name=ResultStatusDetail]"}}},
		{"convert", ProfileSpec{Name: "x", Convert: OrderedMap{Keys: []string{sel}, Values: []string{"string"}}}},
		{"split field", ProfileSpec{Name: "x", Split: []SplitSpec{{Field: sel, Separator: "/", Into: []string{"a.b", "a.c"}}}}},
		{"timestamp field", ProfileSpec{Name: "x", Timestamp: &TimestampSpec{Fields: []string{"events.0.parameters[name=login_timestamp].intValue"}}}},
		{"detect present", ProfileSpec{Name: "x", Detect: &DetectSpec{Present: []string{sel}}}},
		{"detect equals", ProfileSpec{Name: "x", Detect: &DetectSpec{Equals: OrderedMap{Keys: []string{sel}, Values: []string{"Mozilla/5.0"}}}}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{c.spec}
		if _, err := Compile(cfg); err == nil {
			t.Errorf("%s: a selector where it cannot apply loads without an error (and never applies)", c.name)
		}
	}

	// The rename above, accepted, never applies:
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "x", Rename: OrderedMap{Keys: []string{sel}, Values: []string{"user_agent.original"}}}}
	if _, err := Compile(cfg); err == nil {
		out, _ := faultAppend(t, cfg, `{"ExtendedProperties":[{"Name":"UserAgent","Value":"Mozilla/5.0"}]}`, &EventMeta{SourceType: []byte("x")})
		if strings.Contains(out, `"user_agent"`) {
			t.Fatalf("precondition: the rename was expected to do nothing: %s", out)
		}
	}
}

// TestChallengeMethodKeepsEveryMethod
//
// What is wrong: the google_workspace profile copies
// events.0.parameters[name=login_challenge_method].multiValue.0 (and the
// one-event form's) into google_workspace.login.challenge_method: only the
// FIRST method of the list. Google writes login_challenge_method as a
// multiValue listing every challenge of the sign-in in order, the password
// first and the second factor after it (["password", "security_key"]; two
// bad passwords then a key: ["password","password","security_key"]). The
// second factor (security key, TOTP, SMS, backup code...) is dropped from
// the normalized event: a search or rule on challenge_method for
// security_key / idv_* / backup_code never sees a 2-step sign-in, and every
// one of them reads as a password-only sign-in.
//
// How to reproduce: the starter profiles; a Reports API login_success
// whose login_challenge_method is {"multiValue":["password","security_key"]}.
//
// Expected: security_key in google_workspace.login.challenge_method (as a
// list, or in some field the profile writes). Sources: the profile's own
// comment ("read by name into google_workspace.login.* ... as Elastic's
// login pipeline writes them"): Elastic's login pipeline
// (elastic/integrations packages/google_workspace/data_stream/login/
// elasticsearch/ingest_pipeline/default.yml) assigns the whole multiValue
// list to google_workspace.login.challenge_method; Google's Login Audit
// activity events (developers.google.com/workspace/admin/reports/v1/
// appendix/activity/login) give login_challenge_method as a list.
func TestChallengeMethodKeepsEveryMethod(t *testing.T) {
	cfg := testConfig()
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	for _, in := range []string{
		// The Reports API's list of events.
		`{"kind":"admin#reports#activity","id":{"time":"2026-11-30T10:00:00Z","uniqueQualifier":"31","applicationName":"login","customerId":"C03az79cb"},"actor":{"callerType":"USER","email":"jdoe@example.com","profileId":"1"},"ipAddress":"203.0.113.66","events":[{"type":"login","name":"login_success","parameters":[{"name":"login_type","value":"google_password"},{"name":"login_challenge_method","multiValue":["password","security_key"]},{"name":"is_suspicious","boolValue":false}]}]}`,
		// Elastic's collector: one event, an object.
		`{"kind":"admin#reports#activity","id":{"time":"2026-11-30T10:00:00Z","uniqueQualifier":"32","applicationName":"login","customerId":"C03az79cb"},"actor":{"callerType":"USER","email":"jdoe@example.com","profileId":"1"},"ipAddress":"203.0.113.66","events":{"type":"login","name":"login_success","parameters":[{"name":"login_type","value":"google_password"},{"name":"login_challenge_method","multiValue":["password","security_key"]},{"name":"is_suspicious","boolValue":false}]}}`,
	} {
		out, _ := faultAppend(t, cfg, in, nil)
		var p fastjson.Parser
		v, err := p.Parse(out)
		if err != nil {
			t.Fatalf("output: %v", err)
		}
		gw := v.Get("google_workspace", "login")
		if gw == nil {
			t.Fatalf("precondition: google_workspace.login written: %s", out)
		}
		if !strings.Contains(string(gw.MarshalTo(nil)), "security_key") {
			t.Errorf("the second factor of login_challenge_method is lost: google_workspace.login = %s", gw.MarshalTo(nil))
		}
	}
}
