package normalize

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// TestCopySelector: copy and map read an element of a list of name/value
// objects by a member's value (Google Workspace's parameters, Microsoft
// 365's ExtendedProperties), wherever the list is: at the root, under an
// object, inside another list's element.
func TestCopySelector(t *testing.T) {
	spec := ProfileSpec{
		Name: "gw",
		Copy: OrderedMap{
			Keys: []string{
				"events.0.parameters[name=is_suspicious].boolValue",
				"events.parameters[name=is_suspicious].boolValue",
				"events.0.parameters[name=login_type].value",
				"events.parameters[name=login_type].value",
				"events.0.parameters[name=login_timestamp].intValue",
				"events.0.parameters[name=login_challenge_method].multiValue.0",
				"ExtendedProperties[Name=UserAgent].Value",
			},
			Values: []string{
				"gw.login.is_suspicious", "gw.login.is_suspicious", "gw.login.type", "gw.login.type",
				"gw.login.timestamp", "gw.login.challenge_method", "user_agent.original",
			},
		},
		Map: []MapSpec{{Field: "events.0.parameters[name=login_challenge_status].value", To: "event.outcome",
			Values: OrderedMap{Keys: []string{"Challenge Passed*", "passed"}, Values: []string{"success", "success"}}, Default: "failure"}},
	}
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{spec}
	m := &EventMeta{SourceType: []byte("gw")}
	for _, c := range []struct {
		name, in string
		want     []string
		not      []string
	}{
		{"the Reports API's list of events", `{"events":[{"name":"login_success","parameters":[{"name":"login_type","value":"google_password"},{"name":"is_suspicious","boolValue":true},{"name":"login_challenge_method","multiValue":["password","totp"]}]}]}`,
			[]string{`"login":{"is_suspicious":true,"type":"google_password","challenge_method":"password"}`}, nil},
		{"Elastic's collector: one event, an object", `{"events":{"name":"login_success","parameters":[{"name":"is_suspicious","boolValue":false},{"name":"login_type","value":"exchange"}]}}`,
			[]string{`"login":{"is_suspicious":false,"type":"exchange"}`}, nil},
		{"a number as its text", `{"events":[{"parameters":[{"name":"login_timestamp","intValue":1593695305123456}]}]}`,
			[]string{`"timestamp":"1593695305123456"`}, nil},
		{"the last element of that name", `{"events":[{"parameters":[{"name":"login_type","value":"a"},{"name":"login_type","value":"b"}]}]}`,
			[]string{`"type":"b"`}, []string{`"type":"a"`}},
		{"elements that are no objects, names that are no strings: passed over", `{"events":[{"parameters":[1,"login_type",{"name":["login_type"],"value":"x"},{"name":"login_type","value":"y"}]}]}`,
			[]string{`"type":"y"`}, []string{`"type":"x"`}},
		{"no element of that name", `{"events":[{"parameters":[{"name":"other","value":"x"}]}]}`,
			nil, []string{`"gw":`}},
		{"the element without the value member", `{"events":[{"parameters":[{"name":"is_suspicious"}]}]}`,
			nil, []string{`"gw":`}},
		{"a name's case matters", `{"events":[{"parameters":[{"name":"IS_SUSPICIOUS","boolValue":true}]}]}`,
			nil, []string{`"gw":`}},
		{"an object, not a list", `{"events":[{"parameters":{"name":"is_suspicious","boolValue":true}}]}`,
			nil, []string{`"gw":`}},
		{"at the root (Microsoft 365)", `{"ExtendedProperties":[{"Name":"ResultStatusDetail","Value":"Success"},{"Name":"UserAgent","Value":"Mozilla/5.0"}]}`,
			[]string{`"user_agent":{"original":"Mozilla/5.0"}`}, nil},
		{"map from a selected element", `{"events":[{"parameters":[{"name":"login_challenge_status","value":"Challenge Passed."}]}]}`,
			[]string{`"outcome":"success"`}, nil},
		{"map's default", `{"events":[{"parameters":[{"name":"login_challenge_status","value":"Challenge Failed."}]}]}`,
			[]string{`"outcome":"failure"`}, nil},
		{"the sender's own value stays", `{"gw":{"login":{"type":"own"}},"events":[{"parameters":[{"name":"login_type","value":"x"}]}]}`,
			[]string{`"type":"own"`}, []string{`"type":"x"`}},
	} {
		out, _ := faultAppend(t, cfg, c.in, m)
		for _, w := range c.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: want %s in\n%s", c.name, w, out)
			}
		}
		for _, w := range c.not {
			if strings.Contains(out, w) {
				t.Errorf("%s: did not want %s in\n%s", c.name, w, out)
			}
		}
	}
}

// TestCopyBoolean: copy writes a boolean as a boolean, from a field as from
// a list element; numbers and strings stay strings.
func TestCopyBoolean(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "b", Copy: OrderedMap{Keys: []string{"flag", "off", "n"}, Values: []string{"x.flag", "x.off", "x.n"}}}}
	out, _ := faultAppend(t, cfg, `{"flag":true,"off":false,"n":7}`, &EventMeta{SourceType: []byte("b")})
	if !strings.Contains(out, `"x":{"flag":true,"off":false,"n":"7"}`) {
		t.Errorf("copied booleans:\n%s", out)
	}
}

// TestSelectorRefused: selectors are checked when profiles load.
func TestSelectorRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		spec ProfileSpec
		want string
	}{
		{"no member", ProfileSpec{Name: "x", Copy: OrderedMap{Keys: []string{"p[=a].v"}, Values: []string{"y"}}}, "member name and a value"},
		{"no value", ProfileSpec{Name: "x", Copy: OrderedMap{Keys: []string{"p[name=].v"}, Values: []string{"y"}}}, "member name and a value"},
		{"no list name", ProfileSpec{Name: "x", Copy: OrderedMap{Keys: []string{"[name=a].v"}, Values: []string{"y"}}}, "after the list's name"},
		{"text after the bracket", ProfileSpec{Name: "x", Copy: OrderedMap{Keys: []string{"p[name=a]x.v"}, Values: []string{"y"}}}, "after the list's name"},
		{"two selectors in a segment", ProfileSpec{Name: "x", Copy: OrderedMap{Keys: []string{"p[name=a][b=c].v"}, Values: []string{"y"}}}, "member name and a value"},
		{"a selector as the target", ProfileSpec{Name: "x", Copy: OrderedMap{Keys: []string{"p[name=a].v"}, Values: []string{"y[name=b]"}}}, "a target is a field path"},
		{"map in place", ProfileSpec{Name: "x", Map: []MapSpec{{Field: "p[name=a].v", Values: OrderedMap{Keys: []string{"a"}, Values: []string{"b"}}}}}, "not mapped in place"},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{c.spec}
		_, err := Compile(cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error with %q", c.name, err, c.want)
		}
	}
}

// TestSelectorZeroAllocs: reading list elements by selector allocates
// nothing per event.
func TestSelectorZeroAllocs(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "gw",
		Copy: OrderedMap{Keys: []string{"events.0.parameters[name=is_suspicious].boolValue", "events.0.parameters[name=login_type].value"},
			Values: []string{"gw.is_suspicious", "gw.type"}},
	}}
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	in := []byte(`{"events":[{"name":"login_success","parameters":[{"name":"login_type","value":"google_password"},{"name":"is_suspicious","boolValue":true}]}]}`)
	meta := &pipeline.Meta{Input: "t", IngestTime: ingest}
	em := &EventMeta{SourceType: []byte("gw")}
	dst := make([]byte, 0, 1<<16)
	run := func() {
		v, _ := p.ParseBytes(in)
		dst, _, _ = n.Append(dst[:0], v, nil, meta, em)
	}
	run()
	if !strings.Contains(string(dst), `"gw":{"is_suspicious":true,"type":"google_password"}`) {
		t.Fatalf("precondition: %s", dst)
	}
	if a := testing.AllocsPerRun(100, run); a != 0 && !raceEnabled {
		t.Errorf("%.1f allocations per event", a)
	}
}

// TestStarterNameValueZeroAllocs: the starter profiles' reads of vendors'
// key=value and name/value texts (Okta's debugData.risk level, Google
// Workspace's parameters, Microsoft 365's Parameters) allocate nothing per
// event.
func TestStarterNameValueZeroAllocs(t *testing.T) {
	cfg := testConfig()
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	meta := &pipeline.Meta{Input: "t", IngestTime: ingest}
	for _, c := range []struct{ in, want string }{
		{`{"uuid":"u1","published":"2026-11-30T10:00:00.000Z","eventType":"user.risk.detect","actor":{"alternateId":"Okta System"},"outcome":{"result":"SUCCESS"},"debugContext":{"debugData":{"risk":"{previousLevel=LOW, level=HIGH, detectionName=Session Influenced User Risk, reasons=x, issuer=OKTA}"}}}`,
			`"risk_level":"HIGH"`},
		{`{"kind":"admin#reports#activity","id":{"time":"2026-11-30T10:00:00Z","uniqueQualifier":"1","applicationName":"login","customerId":"C1"},"actor":{"email":"a@b.c","profileId":"1"},"events":[{"type":"login","name":"login_success","parameters":[{"name":"is_suspicious","boolValue":true},{"name":"login_challenge_method","multiValue":["password","security_key"]}]}]}`,
			`"is_suspicious":true`},
		{`{"CreationTime":"2023-11-06T10:15:39","Id":"1","Operation":"New-InboxRule","OrganizationId":"o","RecordType":1,"ResultStatus":"True","Workload":"Exchange","UserId":"j@c.com","Parameters":[{"Name":"ForwardTo","Value":"x@evil.example"}]}`,
			`"ForwardTo":"x@evil.example"`},
	} {
		in := []byte(c.in)
		dst := make([]byte, 0, 1<<16)
		run := func() {
			v, _ := p.ParseBytes(in)
			dst, _, _ = n.Append(dst[:0], v, nil, meta, nil)
		}
		run()
		if !strings.Contains(string(dst), c.want) {
			t.Fatalf("precondition: %s not in %s", c.want, dst)
		}
		if a := testing.AllocsPerRun(50, run); a != 0 && !raceEnabled {
			t.Errorf("%.1f allocations per event: %s", a, c.in)
		}
	}
}
