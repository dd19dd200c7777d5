package normalize

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/pipeline"
)

var update = flag.Bool("update", false, "rewrite golden files")

func starterProfiles(t testing.TB) []ProfileSpec {
	t.Helper()
	specs, err := LoadProfiles(os.DirFS("../../rules"), "profiles")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) < 12 {
		t.Fatalf("only %d starter profiles", len(specs))
	}
	return specs
}

// TestStarterProfilesGolden: one realistic event per starter source, with
// and without its source type (detection by fields), normalized with the
// starter profiles and the example's global renames; outputs compared with
// testdata/profiles/<kind>.json (go test -update rewrites them).
func TestStarterProfilesGolden(t *testing.T) {
	cfg := testConfig()
	cfg.Rename = map[string]string{"src_ip": "source.ip", "srcip": "source.ip", "src_port": "source.port", "srcport": "source.port",
		"dst_ip": "destination.ip", "dstip": "destination.ip", "dest_ip": "destination.ip", "dst_port": "destination.port",
		"dstport": "destination.port", "dest_port": "destination.port", "msg": "message", "hostname": "host.name"}
	cfg.Drop = nil
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	m := loadgen.New(loadgen.Options{Seed: 42})
	seen := map[loadgen.Kind]bool{}
	for i := 0; i < 5000 && len(seen) < len(loadgen.Kinds); i++ {
		ev, k := m.Next(nil)
		if seen[k] {
			continue
		}
		seen[k] = true
		var outs []string
		for _, st := range []string{k.SourceType(), ""} {
			v, err := p.ParseBytes(ev)
			if err != nil {
				t.Fatal(err)
			}
			out, e, err := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte(st)})
			if err != nil {
				t.Fatal(err)
			}
			if !json.Valid(out) {
				t.Fatalf("%s: invalid JSON %s", k, out)
			}
			if st == "" && e.SourceType != k.SourceType() && k != loadgen.KindApp && k != loadgen.KindLinuxAuth {
				t.Errorf("%s without a sourcetype was detected as %q", k, e.SourceType)
			}
			outs = append(outs, string(out))
		}
		golden := filepath.Join("testdata", "profiles", k.String()+".json")
		got := strings.Join(outs, "\n") + "\n"
		if *update {
			_ = os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update once)", err)
		}
		if got != string(want) {
			t.Errorf("%s: normalized output differs from %s:\n got: %s\nwant: %s", k, golden, got, want)
		}
	}
}

func TestProfileOperations(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "fw", SourceTypes: []string{"fwalias", "fwx.*"},
		Detect:    &DetectSpec{Present: []string{"devid"}, Equals: OrderedMap{Keys: []string{"type"}, Values: []string{"traffic"}}},
		Timestamp: &TimestampSpec{Join: []string{"date", "time", "tz"}},
		Rename:    OrderedMap{Keys: []string{"srcip", "sport", "vendor"}, Values: []string{"source.ip", "source.port", "observer"}},
		Convert:   OrderedMap{Keys: []string{"source.port", "source.ip", "ok", "n"}, Values: []string{"int", "ip", "bool", "float"}},
		Drop:      []string{"junk"},
		Set:       OrderedMap{Keys: []string{"observer.vendor", "event.kind", "x.n"}, Values: []string{"Acme", "event", "3"}},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	in := `{"type":"traffic","devid":"FG1","date":"2026-11-28","time":"10:00:00","tz":"+0100","srcip":"::ffff:10.0.0.1","sport":"443","ok":"yes","n":"1.5","junk":1,"vendor":{"vendor":"Other","model":"X"}}`
	for _, st := range []string{"", "fwalias", "fwx.edge"} {
		v, _ := p.Parse(in)
		out, ev, err := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte(st)})
		if err != nil {
			t.Fatal(err)
		}
		want := `{"@timestamp":"2026-11-28T09:00:00.000Z","type":"traffic","devid":"FG1","source":{"ip":"10.0.0.1","port":443},"ok":true,"n":1.5,"observer":{"vendor":"Other","model":"X"},"event":{"kind":"event","dataset":"` +
			map[string]string{"": "fw", "fwalias": "fwalias", "fwx.edge": "fwx.edge"}[st] + `","ingested":"2026-11-28T12:00:00.000Z"},"x":{"n":3},` + meta + `}`
		if string(out) != want {
			t.Errorf("source type %q:\n got: %s\nwant: %s", st, out, want)
		}
		if st == "" && ev.SourceType != "fw" {
			t.Errorf("detected source type %q", ev.SourceType)
		}
	}
	// An input's default source type selects its profile in one walk, unless
	// the event names its own event.dataset.
	for _, tc := range []struct{ in, want string }{
		{`{"srcip":"10.0.0.2"}`, `"source":{"ip":"10.0.0.2"}`},
		{`{"srcip":"10.0.0.2","event":{"dataset":"other"}}`, `"srcip":"10.0.0.2"`},
		{`{"srcip":"10.0.0.2","event":{"dataset":"fwx.b"}}`, `"source":{"ip":"10.0.0.2"}`},
	} {
		v, _ := p.Parse(tc.in)
		out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{DefaultSourceType: []byte("fwalias")})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("default source type, %s:\n got: %s\nwant it to contain %s", tc.in, out, tc.want)
		}
	}
	// A placeholder for none ("-", blank) where a number, address or boolean
	// is wanted removes the field (an ip or long mapping would refuse the
	// document); any other value that does not convert is set aside, as a
	// string, under logrouter.unconverted (left in place, the mapping would
	// refuse the whole document; removed, it would be lost).
	for _, tc := range []struct{ in, want string }{
		{`{"srcip":"-","sport":"-","ok":" ","n":"","vendor":"-"}`, `"2026-11-28T12:00:00.000Z","observer":"-","event"`}, // source emptied: not written
		{`{"srcip":"host-a","sport":"x-1","ok":"maybe","n":"--"}`, `"logrouter":{"unconverted":{"source.port":"x-1","source.ip":"host-a","ok":"maybe","n":"--"},"input":`},
		{`{"srcip":"a\"b","sport":4.5,"ok":7,"n":1e400}`, `"logrouter":{"unconverted":{"source.port":"4.5","source.ip":"a\"b","ok":"7","n":"1e400"},"input":`},
		{`{"srcip":"10.0.0.1","sport":"x","n":"12"}`, `"logrouter":{"unconverted":{"source.port":"x"},"input":`},
	} {
		v, _ := p.Parse(tc.in)
		out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte("fwalias")})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), tc.want) || (strings.Contains(tc.in, `"ok":" "`) && strings.Contains(string(out), `"ok"`)) {
			t.Errorf("placeholders, %s:\n got: %s\nwant it to contain %s", tc.in, out, tc.want)
		}
		// What converted stays; nothing set aside stays in its place.
		if strings.Contains(tc.in, `"10.0.0.1"`) && !strings.Contains(string(out), `"source":{"ip":"10.0.0.1"}`) {
			t.Errorf("placeholders, %s: the address that converted is gone: %s", tc.in, out)
		}
		if strings.Contains(tc.in, `"12"`) && !strings.Contains(string(out), `"n":12`) {
			t.Errorf("placeholders, %s: the number that converted is gone: %s", tc.in, out)
		}
		if strings.Contains(string(out), `"port":`) {
			t.Errorf("placeholders, %s: a port that did not convert stayed in place: %s", tc.in, out)
		}
	}
	// Not detected: no profile applies.
	v, _ := p.Parse(`{"type":"utm","devid":"FG1","srcip":"x"}`)
	out, _, _ := n.Append(nil, v, nil, testMeta(), nil)
	if strings.Contains(string(out), `"source":{"ip":"x"}`) || strings.Contains(string(out), `"vendor":"Acme"`) {
		t.Errorf("profile applied without detection: %s", out)
	}
}

func TestProfileErrors(t *testing.T) {
	bad := [][]ProfileSpec{
		{{Name: ""}},
		{{Name: "a", Rename: OrderedMap{Keys: []string{"x"}, Values: []string{"@timestamp"}}}},
		{{Name: "a", Convert: OrderedMap{Keys: []string{"x"}, Values: []string{"uuid"}}}},
		{{Name: "a"}, {Name: "b", SourceTypes: []string{"a"}}},
		{{Name: "a", Detect: &DetectSpec{}}},
		// A rename source must name the field as it arrives.
		{{Name: "a", Rename: OrderedMap{Keys: []string{"event", "vendor.event.id"}, Values: []string{"vendor.event", "event.id"}}}},
	}
	for i, specs := range bad {
		cfg := DefaultConfig()
		cfg.Profiles = specs
		if _, err := Compile(cfg); err == nil {
			t.Errorf("case %d: expected an error", i)
		}
	}
}

func TestProfilesZeroAllocs(t *testing.T) {
	cfg := testConfig()
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	m := loadgen.New(loadgen.Options{Seed: 1})
	var evs [][]byte
	for i := 0; i < 200; i++ {
		ev, _ := m.Next(nil)
		evs = append(evs, ev)
	}
	meta := &pipeline.Meta{Input: "t", IngestTime: ingest}
	dst := make([]byte, 0, 1<<20)
	for _, em := range []*EventMeta{nil, {SourceType: []byte("_json")}} { // detection, also behind a catch-all source type
		run := func() {
			dst = dst[:0]
			for _, ev := range evs {
				v, _ := p.ParseBytes(ev)
				dst, _, _ = n.Append(dst, v, nil, meta, em)
			}
		}
		run()
		run()
		if a := testing.AllocsPerRun(10, run); a != 0 && !raceEnabled {
			t.Errorf("%.1f allocations per 200 events with profiles (meta %+v)", a, em)
		}
	}
}

// TestProfileParse: a profile's parse splits a delimited text field into
// columns before convert and the timestamp read them; a line that does not
// fit the format is left whole.
func TestProfileParse(t *testing.T) {
	spec := func(ps *ParseSpec) ProfileSpec {
		return ProfileSpec{
			Name: "alb", Parse: ps, Timestamp: &TimestampSpec{Fields: []string{"t"}},
			Convert: OrderedMap{Keys: []string{"source.port", "n"}, Values: []string{"int", "int"}},
		}
	}
	for _, c := range []struct {
		name string
		ps   ParseSpec
		in   string
		want string
	}{
		{"columns, quotes, skipped and '-' columns", ParseSpec{Columns: []string{"t", "", "source.ip", "source.port", "http.request", "n"}},
			`{"message":"2026-11-29T10:00:00Z lb1 10.0.0.5 5000 \"GET http://x/ HTTP/1.1\" -"}`,
			`{"@timestamp":"2026-11-29T10:00:00.000Z","source":{"ip":"10.0.0.5","port":5000},"http":{"request":"GET http://x/ HTTP/1.1"},`},
		{"extra columns at the end are ignored", ParseSpec{Columns: []string{"t", "a"}},
			`{"message":"2026-11-29T10:00:00Z x y z"}`, `{"@timestamp":"2026-11-29T10:00:00.000Z","a":"x",`},
		{"too few columns: left whole", ParseSpec{Columns: []string{"t", "a", "b"}},
			`{"message":"2026-11-29T10:00:00Z x"}`, `{"@timestamp":"2026-11-28T12:00:00.000Z","message":"2026-11-29T10:00:00Z x",`},
		{"keep_field, tab separator, another field", ParseSpec{Field: "log.line", Separator: "\t", Columns: []string{"a", "b"}, KeepField: true},
			`{"log":{"line":"x y\tz"}}`, `{"@timestamp":"2026-11-28T12:00:00.000Z","log":{"line":"x y\tz"},"a":"x y","b":"z",`},
		{"unclosed quote: up to the separator", ParseSpec{Columns: []string{"a", "b"}},
			`{"message":"\"x y"}`, `{"@timestamp":"2026-11-28T12:00:00.000Z","a":"\"x","b":"y",`},
		{"not a string", ParseSpec{Columns: []string{"a"}}, `{"message":{"a":1}}`, `"message":{"a":1}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Profiles = []ProfileSpec{spec(&c.ps)}
			comp, err := Compile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			var p fastjson.Parser
			v, err := p.Parse(c.in)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := comp.New().Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte("alb")})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(out), c.want) {
				t.Errorf("\n got: %s\nwant it to contain %s", out, c.want)
			}
		})
	}
	for _, bad := range []ParseSpec{
		{Columns: nil},
		{Columns: []string{"", ""}},
		{Columns: []string{"a..b"}},
		{Columns: []string{"message"}},
		{Columns: []string{"a"}, Separator: "ab"},
		{Columns: []string{"a"}, Separator: `"`},
		{Columns: []string{"event.ingested"}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{{Name: "x", Parse: &bad}}
		if _, err := Compile(cfg); err == nil {
			t.Errorf("parse %+v accepted", bad)
		}
	}
}

// TestProfileSynonyms: a synonym (another name of the same source, as
// Splunk's add-ons name it) selects the profile and is replaced by the
// profile's name, whether it came as the event's source type or as the
// input's default; the sender's name is kept in logrouter.sourcetype. A
// source type in source_types keeps its own name, and a variant's synonym
// names its base.
func TestProfileSynonyms(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{
		{Name: "aws.cloudtrail", SourceTypes: []string{"aws.ct_alias"}, Synonyms: []string{"aws:cloudtrail", "ct:*"},
			Rename: OrderedMap{Keys: []string{"eventName"}, Values: []string{"event.action"}}},
		{Name: "win.logon", Synonyms: []string{"WinLogon"},
			Detect: &DetectSpec{Present: []string{"LogonType"}, Dataset: "win"},
			Rename: OrderedMap{Keys: []string{"TargetUserName"}, Values: []string{"user.name"}}},
		{Name: "win", Detect: &DetectSpec{Present: []string{"EventID"}}},
	}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	for _, tc := range []struct {
		in             string
		st, def        string
		wantST, wantAs string // wantAs "": no logrouter.sourcetype
		contains       string
	}{
		{`{"eventName":"ConsoleLogin"}`, "aws:cloudtrail", "", "aws.cloudtrail", "aws:cloudtrail", `"action":"ConsoleLogin"`},
		{`{"eventName":"ConsoleLogin"}`, "", "aws:cloudtrail", "aws.cloudtrail", "aws:cloudtrail", `"action":"ConsoleLogin"`},
		{`{"eventName":"ConsoleLogin"}`, "ct:trail:x", "", "aws.cloudtrail", "ct:trail:x", `"action":"ConsoleLogin"`},
		{`{"eventName":"ConsoleLogin"}`, "aws.ct_alias", "", "aws.ct_alias", "", `"action":"ConsoleLogin"`},
		{`{"eventName":"ConsoleLogin"}`, "aws.cloudtrail", "", "aws.cloudtrail", "", `"action":"ConsoleLogin"`},
		// The event's own event.dataset wins over the input's default (and
		// a default that was a synonym leaves no trace then).
		{`{"eventName":"x","event":{"dataset":"other"}}`, "", "aws:cloudtrail", "other", "", `"eventName":"x"`},
		// A variant's synonym names the source type its detect.dataset gives.
		{`{"EventID":4624,"LogonType":3,"TargetUserName":"bob"}`, "WinLogon", "", "win", "WinLogon", `"user":{"name":"bob"}`},
		// Case matters, as in Splunk.
		{`{"eventName":"x"}`, "AWS:CloudTrail", "", "AWS:CloudTrail", "", `"eventName":"x"`},
	} {
		v, _ := p.Parse(tc.in)
		out, ev, err := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte(tc.st), DefaultSourceType: []byte(tc.def)})
		if err != nil {
			t.Fatal(err)
		}
		got := fastjson.MustParseBytes(out)
		if ev.SourceType != tc.wantST || string(got.GetStringBytes("event", "dataset")) != tc.wantST {
			t.Errorf("%s st=%q default=%q: source type %q, event.dataset %q, want %q", tc.in, tc.st, tc.def,
				ev.SourceType, got.GetStringBytes("event", "dataset"), tc.wantST)
		}
		if as := string(got.GetStringBytes("logrouter", "sourcetype")); as != tc.wantAs {
			t.Errorf("%s st=%q default=%q: logrouter.sourcetype %q, want %q", tc.in, tc.st, tc.def, as, tc.wantAs)
		}
		if !strings.Contains(string(out), tc.contains) {
			t.Errorf("%s st=%q: %s does not contain %s", tc.in, tc.st, out, tc.contains)
		}
	}

	for i, specs := range [][]ProfileSpec{
		{{Name: "a", Synonyms: []string{"x"}}, {Name: "b", Synonyms: []string{"x"}}},    // claimed twice
		{{Name: "a", Synonyms: []string{"x"}}, {Name: "b", SourceTypes: []string{"x"}}}, // also a source type
		{{Name: "a", Synonyms: []string{"b"}}, {Name: "b"}},                             // another profile's name
		{{Name: "a", Synonyms: []string{"_json"}}},                                      // names no source
		{{Name: "a", Synonyms: []string{"*"}}},
		{{Name: "a", Synonyms: []string{"a b"}}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = specs
		if _, err := Compile(cfg); err == nil {
			t.Errorf("case %d: expected an error", i)
		} else if !strings.Contains(err.Error(), "synonym") {
			t.Errorf("case %d: %v does not say which synonym", i, err)
		}
	}
}

// TestProfileParseSyslog: a parse with format syslog runs the syslog
// input's parser on the field and walks its fields into the event under the
// profile's renames; the event's own fields win, objects merge, plain text
// and events the syslog input parsed are left alone.
func TestProfileParseSyslog(t *testing.T) {
	if testTextParser == nil {
		t.Skip("no text parser (matcher_ext_test.go)")
	}
	cfg := DefaultConfig()
	cfg.NewTextParser = testTextParser
	cfg.Profiles = []ProfileSpec{{
		Name:   "fw",
		Parse:  &ParseSpec{Format: "syslog"},
		Rename: OrderedMap{Keys: []string{"srcip", "action", "agent"}, Values: []string{"source.ip", "event.action", "user_agent.original"}},
		// A Beat's agent object stays; the device's agent= pair moves.
		ValuesOnly: []string{"agent"},
	}, {
		Name:  "kept",
		Parse: &ParseSpec{Format: "syslog", Field: "raw", KeepField: true},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	for _, tc := range []struct {
		name, st, in string
		want, not    []string
	}{
		{"a kv line over HEC", "fw", `"date=2026-11-28 time=10:00:00 srcip=10.0.0.5 action=deny agent=\"curl/8\""`,
			[]string{`"source":{"ip":"10.0.0.5"}`, `"action":"deny"`, `"user_agent":{"original":"curl/8"}`}, []string{`"message"`, `srcip`}},
		{"a Beat's event: own fields win, objects merge", "fw",
			`{"message":"<189>date=2026-11-28 time=10:00:00 srcip=10.0.0.5 action=deny devname=x","event":{"dataset":"fw","module":"fortinet"},"agent":{"type":"filebeat"},"host":{"name":"beat-1"}}`,
			[]string{`"event":{"dataset":"fw","module":"fortinet","action":"deny"`, `"agent":{"type":"filebeat"}`, `"host":{"name":"beat-1"}`, `"source":{"ip":"10.0.0.5"}`, `"devname":"x"`},
			[]string{`"message"`, `user_agent`}},
		{"plain text stays", "fw", `"session opened for user root"`, []string{`"message":"session opened for user root"`}, []string{`"source"`}},
		{"parsed by the syslog input already", "fw", `{"message":"srcip=10.9.9.9 action=allow","logrouter":{"parse_status":"rfc3164"}}`,
			[]string{`"message":"srcip=10.9.9.9 action=allow"`}, []string{`"10.9.9.9"}`}},
		{"keep_field and another field", "kept", `{"raw":"CEF:0|V|P|1|100|Blocked|5|src=10.0.0.7 act=block"}`,
			[]string{`"raw":"CEF:0|V|P|1|100|Blocked|5|src=10.0.0.7 act=block"`, `"cef":{`, `"src":"10.0.0.7"`}, nil},
	} {
		v, err := p.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		em := &EventMeta{SourceType: []byte(tc.st), KeepOwnLogrouter: strings.Contains(tc.in, "parse_status")}
		var out []byte
		if v.Type() == fastjson.TypeString {
			out, _, err = n.Append(nil, nil, v.GetStringBytes(), testMeta(), em)
		} else {
			out, _, err = n.Append(nil, v, nil, testMeta(), em)
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s:\n got: %s\nwant it to contain %s", tc.name, out, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(string(out), w) {
				t.Errorf("%s:\n got: %s\nwant no %s", tc.name, out, w)
			}
		}
		if !fastjson.Exists(out) && fastjson.ValidateBytes(out) != nil {
			t.Errorf("%s: invalid JSON %s", tc.name, out)
		}
	}

	// Steady state: no allocation per event.
	line := []byte(`<189>date=2026-11-28 time=10:00:00 devname="FGT" srcip=10.0.0.5 dstip=10.0.0.6 action="deny" agent="x"`)
	em := &EventMeta{SourceType: []byte("fw")}
	dst, bm := make([]byte, 0, 4096), testMeta()
	run := func() { dst, _, _ = n.Append(dst[:0], nil, line, bm, em) }
	run()
	if a := testing.AllocsPerRun(100, run); a != 0 && !raceEnabled {
		t.Errorf("%.1f allocations per event parsed with format syslog", a)
	}

	for i, ps := range []*ParseSpec{
		{Format: "syslog", Columns: []string{"a"}},
		{Format: "syslog", Separator: ","},
		{Format: "xml"},
	} {
		cfg := DefaultConfig()
		cfg.NewTextParser = testTextParser
		cfg.Profiles = []ProfileSpec{{Name: "a", Parse: ps}}
		if _, err := Compile(cfg); err == nil {
			t.Errorf("parse case %d: expected an error", i)
		}
	}
	for _, f := range []string{"syslog", "windows"} {
		cfg = DefaultConfig() // no parser given
		cfg.Profiles = []ProfileSpec{{Name: "a", Parse: &ParseSpec{Format: f}}}
		if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "syslog parser") {
			t.Errorf("format %s without a text parser: %v", f, err)
		}
	}
	cfg = DefaultConfig()
	cfg.Profiles = []ProfileSpec{{Name: "a", ValuesOnly: []string{"agent"}}}
	if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "values_only") {
		t.Errorf("values_only of no rename: %v", err)
	}
}

// TestProfileParseWindows: format windows parses a Windows event sent as
// text (XML, Splunk's classic rendering) and nothing else, before the
// profile's variants are detected, and a variant detected on the parsed
// fields parses the text again as its own (it inherits the base's parse).
func TestProfileParseWindows(t *testing.T) {
	if testTextParser == nil {
		t.Skip("no text parser (matcher_ext_test.go)")
	}
	cfg := DefaultConfig()
	cfg.NewTextParser = testTextParser
	cfg.CompileMatcher = testMatcher
	cfg.Profiles = []ProfileSpec{{
		Name:  "win",
		Parse: &ParseSpec{Format: "windows"},
	}, {
		Name:   "win.logon",
		Detect: &DetectSpec{Expr: `winlog.event_id == "4625"`, Dataset: "win"},
		Rename: OrderedMap{Keys: []string{"winlog.event_data.TargetUserName"}, Values: []string{"user.name"}},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	xml := `<Event><System><EventID>4625</EventID><Channel>Security</Channel></System><EventData><Data Name="TargetUserName">jdoe</Data></EventData></Event>`
	for _, tc := range []struct {
		name, text string
		want, not  []string
	}{
		{"XML: the variant's rename applies to the parsed field", xml,
			[]string{`"user":{"name":"jdoe"}`, `"event_id":"4625"`}, []string{`"message"`, `TargetUserName`}},
		{"XML of another event: the base's parse, no variant", strings.Replace(xml, "4625", "4624", 1),
			[]string{`"TargetUserName":"jdoe"`, `"event_id":"4624"`}, []string{`"message"`, `"user"`}},
		{"classic rendering", "LogName=Security\nEventCode=4625\nMessage=An account failed to log on.\n\nAccount For Which Logon Failed:\n\tAccount Name:\tjdoe\n",
			[]string{`"user":{"name":"jdoe"}`, `"message":"An account failed to log on.`}, []string{`TargetUserName`}},
		{"other text, even a syslog line, stays the message", "<13>Nov 28 10:00:00 h app: srcip=10.0.0.1",
			[]string{`"message":"<13>Nov 28 10:00:00 h app: srcip=10.0.0.1"`}, []string{`"winlog"`, `"source"`, `"log"`}},
	} {
		out, _, err := n.Append(nil, nil, []byte(tc.text), testMeta(), &EventMeta{SourceType: []byte("win")})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s:\n got: %s\nwant it to contain %s", tc.name, out, w)
			}
		}
		for _, w := range tc.not {
			if strings.Contains(string(out), w) {
				t.Errorf("%s:\n got: %s\nwant no %s", tc.name, out, w)
			}
		}
	}
}

// TestProfileLift: a lifted list's objects' members join the object that
// holds the list, under the profile's renames; anything else stays.
func TestProfileLift(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name:   "otel",
		Lift:   []string{"event_data.data"},
		Rename: OrderedMap{Keys: []string{"event_data.TargetUserName"}, Values: []string{"user.name"}},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	for _, tc := range []struct{ name, in, want string }{
		{"members move up, renamed", `{"event_data":{"data":[{"TargetUserName":"jdoe"},{"LogonType":"3"}],"binary":"00"}}`,
			`"event_data":{"LogonType":"3","binary":"00"},"user":{"name":"jdoe"}`},
		{"unnamed members are named by their position", `{"event_data":{"data":[{"":"a"},{"x":"b"},{"":"c"}]}}`,
			`"event_data":{"param1":"a","x":"b","param3":"c"}`},
		{"a list with a scalar stays", `{"event_data":{"data":[{"x":"b"},"c"]}}`,
			`"event_data":{"data":[{"x":"b"},"c"]}`},
		{"not a list stays", `{"event_data":{"data":{"x":"b"}}}`,
			`"event_data":{"data":{"x":"b"}}`},
		{"an empty key elsewhere is not a param (it is \"_\", as OpenSearch refuses empty names)", `{"event_data":{"data":[{"x":{"":"y"}}]},"":"z"}`,
			`"event_data":{"x":{"_":"y"}},"_":"z"`},
	} {
		if out := appendAs(t, n, &p, tc.in, "otel"); !strings.Contains(out, tc.want) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s", tc.name, out, tc.want)
		}
	}
	for _, sp := range []ProfileSpec{
		{Name: "a", Lift: []string{"data"}},
		{Name: "a", Lift: []string{"event_data.data"}, Drop: []string{"event_data.data"}},
		{Name: "a", Lift: []string{"event_data.data"}, Rename: OrderedMap{Keys: []string{"event_data.data"}, Values: []string{"x"}}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{sp}
		if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "lift") {
			t.Errorf("%+v: %v, want a lift error", sp, err)
		}
	}
}

// TestProfileSplit: a split sets both parts or nothing.
func TestProfileSplit(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "s",
		Split: []SplitSpec{
			{Field: "ev.User", Separator: `\`, Into: []string{"user.domain", "user.name"}},
			{Field: "tun", Separator: "@", Into: []string{"tun", "realm"}},
		},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	for _, tc := range []struct{ name, in, want string }{
		{"both parts where absent, the field stays", `{"ev":{"User":"CORP\\jdoe"}}`,
			`"ev":{"User":"CORP\\jdoe"},"user":{"domain":"CORP","name":"jdoe"}`},
		{"a part already there with the same value", `{"ev":{"User":"CORP\\jdoe"},"user":{"name":"jdoe"}}`,
			`"user":{"name":"jdoe","domain":"CORP"}`},
		{"another value there: nothing split", `{"ev":{"User":"CORP\\jdoe"},"user":{"name":"admin"}}`,
			`"ev":{"User":"CORP\\jdoe"},"user":{"name":"admin"},"event"`},
		{"a value on the path: nothing split", `{"ev":{"User":"CORP\\jdoe"},"user":"x"}`,
			`"ev":{"User":"CORP\\jdoe"},"user":"x"`},
		{"no separator", `{"ev":{"User":"jdoe"}}`, `"ev":{"User":"jdoe"},"event"`},
		{"an empty part", `{"ev":{"User":"CORP\\"}}`, `"ev":{"User":"CORP\\"},"event"`},
		{"the field is one of the parts", `{"tun":"jdoe@CORP.EXAMPLE"}`, `"tun":"jdoe","realm":"CORP.EXAMPLE"`},
		{"a number is no string", `{"tun":5}`, `"tun":5,`},
	} {
		if out := appendAs(t, n, &p, tc.in, "s"); !strings.Contains(out, tc.want) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s", tc.name, out, tc.want)
		}
	}
	for _, sl := range []SplitSpec{
		{Field: "a", Separator: "", Into: []string{"b", "c"}},
		{Field: "a", Separator: "@", Into: []string{"b"}},
		{Field: "a", Separator: "@", Into: []string{"b", "b"}},
		{Field: "a", Separator: "@", Into: []string{"a.x", "c"}},
		{Field: "a", Separator: "@", Into: []string{"logrouter.x", "c"}},
		{Field: "", Separator: "@", Into: []string{"b", "c"}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{{Name: "s", Split: []SplitSpec{sl}}}
		if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "split") {
			t.Errorf("%+v: %v, want a split error", sl, err)
		}
	}
}

func TestProfileSplitRegex(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "s",
		Split: []SplitSpec{
			{Field: "src", Regex: `^(.+):([0-9]+)(?::([^:]*))?$`, Into: []string{"source.address", "source.port", "zone"}},
			{Field: "msg", Regex: `Action: ([A-Za-z]+)`, Into: []string{"event.action"}},
			{Field: "pair", Regex: `^(\w+)/(\w+)$`, Into: []string{"", "pair"}},
		},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	for _, tc := range []struct{ name, in, want string }{
		{"every group", `{"src":"10.0.0.1:5000:X1"}`, `"src":"10.0.0.1:5000:X1","source":{"address":"10.0.0.1","port":"5000"},"zone":"X1"`},
		{"greedy: an IPv6 address keeps its colons", `{"src":"2001:db8::1:5000:X1"}`, `"source":{"address":"2001:db8::1","port":"5000"},"zone":"X1"`},
		{"an optional group that matched nothing sets nothing", `{"src":"10.0.0.1:5000"}`, `"source":{"address":"10.0.0.1","port":"5000"},"event"`},
		{"no match: left alone", `{"src":"10.0.0.1"}`, `"src":"10.0.0.1","event"`},
		{"unanchored", `{"msg":"TCP request. Action: Deny. Rule: x"}`, `"event":{"action":"Deny"`},
		{"another value there: nothing written", `{"src":"10.0.0.1:5000:X1","zone":"X2"}`, `"src":"10.0.0.1:5000:X1","zone":"X2","event"`},
		{"a skipped group; the field is a part", `{"pair":"a/b"}`, `"pair":"b"`},
	} {
		if out := appendAs(t, n, &p, tc.in, "s"); !strings.Contains(out, tc.want) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s", tc.name, out, tc.want)
		}
	}
	for _, sl := range []SplitSpec{
		{Field: "a", Regex: `(x`, Into: []string{"b"}},
		{Field: "a", Regex: `x`, Into: []string{"b"}},
		{Field: "a", Regex: `(x)(y)`, Into: []string{"b"}},
		{Field: "a", Regex: `(x)`, Separator: "@", Into: []string{"b"}},
		{Field: "a", Regex: `(x)(y)`, Into: []string{"b", "b"}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{{Name: "s", Split: []SplitSpec{sl}}}
		if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "split") {
			t.Errorf("%+v: %v, want a split error", sl, err)
		}
	}
}

func TestProfileSplitPatternAndCopy(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "s",
		Split: []SplitSpec{
			{Field: "message", Pattern: "%{ev} %{m} for invalid user %{user.name} from %{source.address} port %{source.port} "},
			{Field: "message", Pattern: "%{ev} %{m} for %{user.name} from %{source.address} port %{source.port} "},
			{Field: "sudo", Pattern: "%{user.name} : %{?skipped}USER=%{user.effective.name} ;"},
			{Field: "n", Pattern: "%{x}5"},
		},
		Copy: OrderedMap{Keys: []string{"id", "host.computer"}, Values: []string{"event.code", "host.name"}},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	for _, tc := range []struct{ name, in, want string }{
		{"keys up to their literals; text after the last ignored", `{"message":"Failed password for root from 10.0.0.1 port 22 ssh2"}`,
			`"ev":"Failed","m":"password","user":{"name":"root"},"source":{"address":"10.0.0.1","port":"22"}`},
		{"the first pattern wins; the second would take another user name: nothing", `{"message":"Failed password for invalid user pi from 10.0.0.1 port 22 ssh2"}`,
			`"user":{"name":"pi"}`},
		{"a literal missing: left alone", `{"message":"Received disconnect from 10.0.0.1 port 22"}`, `"message":"Received disconnect from 10.0.0.1 port 22","event"`},
		{"parts trimmed; a skipped key", `{"sudo":"   jdoe : TTY=pts/0 ; USER=root ; COMMAND=/bin/ls"}`, `"user":{"name":"jdoe","effective":{"name":"root"}}`},
		{"a number's digits", `{"n":12345}`, `"x":"1234"`},
		{"copy: a number as a string, a string where absent", `{"id":4625,"host":{"computer":"DC01"}}`, `"event":{"code":"4625"`},
		{"copy: the value there stays", `{"id":4625,"event":{"code":"x"}}`, `"event":{"code":"x"`},
	} {
		out := appendAs(t, n, &p, tc.in, "s")
		if tc.name == "copy: a number as a string, a string where absent" && !strings.Contains(out, `"host":{"computer":"DC01","name":"DC01"}`) {
			t.Errorf("%s: host.name not copied: %s", tc.name, out)
		}
		if !strings.Contains(out, tc.want) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s", tc.name, out, tc.want)
		}
	}
	for _, sl := range []SplitSpec{
		{Field: "a", Pattern: "%{b}%{c}"},
		{Field: "a", Pattern: "no keys"},
		{Field: "a", Pattern: "%{b"},
		{Field: "a", Pattern: "%{b} x", Into: []string{"b"}},
		{Field: "a", Pattern: "%{b} x", Regex: "(b)"},
		{Field: "a", Pattern: "%{b} %{b}"},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{{Name: "s", Split: []SplitSpec{sl}}}
		if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "split") {
			t.Errorf("%+v: %v, want a split error", sl, err)
		}
	}
	for _, cp := range []OrderedMap{
		{Keys: []string{"a"}, Values: []string{"a.b"}},
		{Keys: []string{"a"}, Values: []string{"logrouter.x"}},
		{Keys: []string{""}, Values: []string{"b"}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{{Name: "s", Copy: cp}}
		if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "copy") {
			t.Errorf("%+v: %v, want a copy error", cp, err)
		}
	}
}

func TestProfileSplitPatternsTypedAlternatives(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Profiles = []ProfileSpec{{
		Name: "s",
		Split: []SplitSpec{
			{Field: "message", Patterns: []string{
				"%{ev} %{m} for invalid user %{user.name} from %{source.address:token} port %{source.port:digits} ssh2",
				"%{ev} %{m} for %{user.name} from %{source.address:token} port %{source.port:digits} ssh2",
				"Invalid user %{user.name} from %{source.address:token} port %{source.port:digits}",
			}},
			{Field: "ip", Patterns: []string{"[%{a}]:%{p:digits}", "%{a:ipv4}:%{p:digits}"}},
		},
	}}
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	var p fastjson.Parser
	for _, tc := range []struct{ name, in, want, not string }{
		{"an empty invalid user name: the first pattern matched, the next is not tried",
			`{"message":"Failed none for invalid user  from 10.0.0.1 port 22 ssh2"}`, `"source":{"address":"10.0.0.1","port":"22"}`, `"user"`},
		{"a user name holding from/port: the address is the connection's",
			`{"message":"Invalid user a from 10.0.0.1 port 1 b from 89.160.20.156 port 29160"}`,
			`"user":{"name":"a from 10.0.0.1 port 1 b"},"source":{"address":"89.160.20.156","port":"29160"}`, ""},
		{"the same before ssh2", `{"message":"Failed password for invalid user x from 10.0.0.1 port 1 y from 89.160.20.156 port 29160 ssh2"}`,
			`"source":{"address":"89.160.20.156","port":"29160"}`, ""},
		{"a port that is no number: no match", `{"message":"Invalid user a from 10.0.0.1 port x"}`, `"message":"Invalid user a from 10.0.0.1 port x","event"`, `"source"`},
		{"bracketed IPv6 and port", `{"ip":"[2001:db8::1]:443"}`, `"a":"2001:db8::1","p":"443"`, ""},
		{"IPv4 and port", `{"ip":"10.0.0.1:443"}`, `"a":"10.0.0.1","p":"443"`, ""},
		{"a bare IPv6 address is not taken apart", `{"ip":"2001:db8::1"}`, `"ip":"2001:db8::1","event"`, `"p"`},
		{"many literals: bounded, no match", `{"message":"Invalid user ` + strings.Repeat("x from y port z ", 200) + `"}`, `"message"`, `"source"`},
	} {
		out := appendAs(t, n, &p, tc.in, "s")
		if !strings.Contains(out, tc.want) || tc.not != "" && strings.Contains(out, tc.not) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s and not %q", tc.name, out, tc.want, tc.not)
		}
	}
	for _, sl := range []SplitSpec{
		{Field: "a", Pattern: "%{b:float} x"},
		{Field: "a", Pattern: "%{b} x", Patterns: []string{"%{b} y"}},
	} {
		cfg := DefaultConfig()
		cfg.Profiles = []ProfileSpec{{Name: "s", Split: []SplitSpec{sl}}}
		if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "split") {
			t.Errorf("%+v: %v, want a split error", sl, err)
		}
	}
}

// appendAs normalizes the JSON event in as sent with source type st.
func appendAs(t *testing.T, n *Normalizer, p *fastjson.Parser, in, st string) string {
	t.Helper()
	v, err := p.Parse(in)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := n.Append(nil, v, nil, testMeta(), &EventMeta{SourceType: []byte(st)})
	if err != nil {
		t.Fatalf("%s: %v", in, err)
	}
	return string(out)
}
