package normalize

// Fault tests from a second review of e3abf0e (profiles: lift) and
// 67c392a (format windows parses only an event that is its text alone).
// Each failed before the fix of the fault it describes (the comments
// describe the code as it was found).

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

func faultsNormalize(t *testing.T, specs []ProfileSpec, in, st string) string {
	t.Helper()
	cfg := DefaultConfig()
	cfg.NewTextParser = testTextParser
	cfg.CompileMatcher = testMatcher
	cfg.Profiles = specs
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	v, err := p.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte(st)})
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestLiftParamNumbering: lift names an unnamed member paramN "as
// Winlogbeat names unnamed event data" (ProfileSpec.Lift, docs/schema.md),
// but paramKey counts the unnamed members only. Winlogbeat
// (winlogbeat/sys/winevent AddPairs) names an unnamed Data by its place
// among all the event's Data: fmt.Sprintf("param%d", i+1). What I did: an
// OpenTelemetry windowseventlog event (event_data_format array) whose data
// is an unnamed value, a named one, and another unnamed one, through the
// starter windows.eventlog profile. What happens: the third is param2.
// What should happen: param3, as Winlogbeat (and the Elastic windows
// integration's searches and dashboards built on it) names it. Why it
// matters: lift exists so that one rule or search serves every shipper;
// with mixed named and unnamed data the same value has another name from
// OpenTelemetry than from Winlogbeat, and a param2 that exists in both
// holds different values (the XML parser of 5562fd6, winxml.go appendWin,
// numbers the same way and has the same divergence).
func TestLiftParamNumbering(t *testing.T) {
	cfg := DefaultConfig()
	cfg.NewTextParser = testTextParser
	cfg.CompileMatcher = testMatcher
	cfg.Profiles = starterProfiles(t)
	n := mustCompile(t, cfg).New()
	var p fastjson.Parser
	v, err := p.Parse(`{"channel":"Application","computer":"WS01","event_id":{"id":1000,"qualifiers":0},"provider":{"name":"Application Error"},` +
		`"event_data":{"data":[{"":"app.exe"},{"Version":"1.0.0.0"},{"":"ntdll.dll"}]}}`)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte("windows.eventlog")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"param3":"ntdll.dll"`) || strings.Contains(string(out), `"param2"`) {
		t.Errorf("unnamed data numbered unlike Winlogbeat (param1, Version, param3):\n%s", out)
	}
}

// TestNestedLiftResetsParamCount: lift saves and restores
// n.liftParent around a nested lift but not n.liftParams, and sets it to
// 0 on entry: a lifted list inside an element of another restarts the
// numbering of the outer one. What I did: a profile lifting
// event_data.data, and a list whose second element holds a list at the
// same path. What happens: the inner list's unnamed value is param1 again
// and replaces the outer param1 ("a" is gone); the outer list's next
// unnamed value is param2. What should happen: each value kept under its
// own name (param1 "a", the rest numbered after it). Why it matters: an
// event's value silently disappears from the event (and from its content
// hash, so the dedup of two such events differing only there treats them
// as one).
func TestNestedLiftResetsParamCount(t *testing.T) {
	out := faultsNormalize(t, []ProfileSpec{{Name: "otel", Lift: []string{"event_data.data"}}},
		`{"event_data":{"data":[{"":"a"},{"data":[{"":"b"}]},{"":"c"}]}}`, "otel")
	for _, want := range []string{`"a"`, `"b"`, `"c"`} {
		if !strings.Contains(out, want) {
			t.Errorf("value %s lost:\n%s", want, out)
		}
	}
}

// TestVariantDoesNotLift: a profile's parse is inherited by its
// variants ("the variant was detected on the text its base parsed"), its
// lift is not, though the variant is detected the same way, on the tree
// as the base walked it, lifted. What I did: a base profile that lifts
// event_data.data and renames event_data.TargetUserName to
// winlog.event_data.TargetUserName (as windows.eventlog does), and a
// variant (detect.dataset: the base) that maps that field to user.name,
// without a lift of its own: the documented way to add a variant for
// another event id, which the starter windows.eventlog.* happen to avoid
// only by each repeating lift: *windows_lift. What happens: the variant's
// detect holds on winlog.event_data.TargetUserName (lifted by the base);
// rebuilt with the variant, event_data.data stays a list, so neither
// user.name nor winlog.event_data.TargetUserName is set: the event has
// fewer fields than with the base alone. What should happen: the variant
// selected for a lifted event sees the event lifted (user.name "jdoe").
// Why it matters: a site-specific Windows variant (4663 object access,
// 4698 scheduled task...) silently strips every OpenTelemetry event it
// matches of the event data the base gave it.
func TestVariantDoesNotLift(t *testing.T) {
	specs := []ProfileSpec{{
		Name:   "win",
		Lift:   []string{"event_data.data"},
		Rename: OrderedMap{Keys: []string{"event_data.TargetUserName"}, Values: []string{"winlog.event_data.TargetUserName"}},
	}, {
		Name:   "win.logon",
		Detect: &DetectSpec{Expr: `winlog.event_data.TargetUserName != nil and event_id == 4625`, Dataset: "win"},
		Rename: OrderedMap{Keys: []string{"winlog.event_data.TargetUserName", "event_data.TargetUserName"}, Values: []string{"user.name", "user.name"}},
	}}
	out := faultsNormalize(t, specs, `{"event_id":4625,"event_data":{"data":[{"TargetUserName":"jdoe"},{"IpAddress":"10.0.0.1"}]}}`, "win")
	if !strings.Contains(out, `"user":{"name":"jdoe"}`) {
		t.Errorf("the variant detected on the lifted event does not lift it: no user.name\n%s", out)
	}
}

// TestWindowsParseNestedField: format windows parses the field
// "only when it is the whole event" (alone: no root member but the field
// and @timestamp). alone compares the root's members with the field's
// node, so a parse whose field is a nested path (ParseSpec.Field, accepted
// for format windows) never parses: the root member holding the field is
// never the field. What I did: a profile with parse {format: windows,
// field: event.original} and an event that is nothing but that field,
// a Windows event's XML. What happens: the XML stays in event.original, no
// winlog.*. What should happen: the event is parsed (it is that text
// alone), or the configuration refused. Why it matters: the field option
// compiles and silently does nothing; every such event goes unparsed,
// undetected by the Windows variants and rules.
func TestWindowsParseNestedField(t *testing.T) {
	xml := `<Event><System><EventID>4625</EventID><Channel>Security</Channel></System><EventData><Data Name=\"TargetUserName\">jdoe</Data></EventData></Event>`
	out := faultsNormalize(t, []ProfileSpec{{Name: "win", Parse: &ParseSpec{Format: "windows", Field: "event.original"}}},
		`{"event":{"original":"`+xml+`"}}`, "win")
	if !strings.Contains(out, `"winlog"`) {
		t.Errorf("an event that is only its Windows XML (in the parse's field) is not parsed:\n%s", out)
	}
}
