package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter/internal/yamlerr"
)

// TestCase is one case of a rule test file (*_test.yaml next to the rules):
// an input event and what the rules must make of it.
type TestCase struct {
	Name string `yaml:"name"`
	// SourceType is applied as if the event arrived with this HEC sourcetype.
	SourceType string `yaml:"sourcetype"`
	// Event is the raw event as the vendor sends it: a YAML/JSON mapping, or a
	// string holding JSON (or plain text, which becomes "message").
	Event yaml.Node `yaml:"event"`
	// Syslog, instead of Event, is one syslog message as a device sends it
	// (RFC 5424 or 3164, with its payload: CEF, LEEF, key=value, JSON...),
	// parsed as the syslog input parses it (default source type syslog,
	// times without a zone in UTC).
	Syslog yaml.Node `yaml:"syslog"`
	// Expect is what must come out.
	Expect Expect `yaml:"expect"`
	// ExpectEach, for an event that holds several (a batch envelope's
	// records, a Google Workspace activity's events: each routed as its
	// own event), is what each must come out as, in order, besides
	// Expect; the event must hold exactly that many.
	ExpectEach []Expect `yaml:"expect_each"`

	// File and Line locate the case.
	File string `yaml:"-"`
	Line int    `yaml:"-"`
	// JSON is Event rendered as JSON (or the text for a plain string).
	JSON []byte `yaml:"-"`
	// Text reports that JSON holds plain text, not a JSON object.
	Text bool `yaml:"-"`
}

// Expect is the expected outcome of a TestCase; empty fields are not checked.
type Expect struct {
	Priority     string   `yaml:"priority"`
	Rule         string   `yaml:"rule"`
	Destinations []string `yaml:"destinations"`
	// SourceType is the source type the event must come out with (its
	// event.dataset: a profile's name, the sourcetype given, or detected).
	SourceType string `yaml:"source_type"`
	// Fields maps a field of the normalized event, by its dotted path as
	// rules name it, to the value it must have (compared as JSON: 3 and
	// "3" differ, key order does not): what a profile must make of a
	// vendor's fields. A path the event lacks fails.
	Fields map[string]yaml.Node `yaml:"fields"`
	// Absent lists fields the normalized event must not have (dropped or
	// renamed away).
	Absent []string `yaml:"absent"`

	// FieldsJSON is Fields with each value rendered as JSON.
	FieldsJSON map[string][]byte `yaml:"-"`
}

// empty reports whether e names nothing to check.
func (e *Expect) empty() bool {
	return e.Priority == "" && e.Rule == "" && e.Destinations == nil && e.SourceType == "" &&
		len(e.Fields) == 0 && len(e.Absent) == 0
}

// compile renders Fields as JSON and checks the paths.
func (e *Expect) compile() error {
	for p, n := range e.Fields {
		if strings.Trim(p, ".") != p || strings.Contains(p, "..") {
			return fmt.Errorf("expect.fields: %q is not a field path (dotted, as rules name fields)", p)
		}
		var buf bytes.Buffer
		if err := nodeJSON(&buf, &n); err != nil {
			return fmt.Errorf("expect.fields.%s: %v", p, err)
		}
		if e.FieldsJSON == nil {
			e.FieldsJSON = map[string][]byte{}
		}
		e.FieldsJSON[p] = buf.Bytes()
	}
	for _, p := range e.Absent {
		if p == "" || strings.Trim(p, ".") != p || strings.Contains(p, "..") {
			return fmt.Errorf("expect.absent: %q is not a field path", p)
		}
		if _, ok := e.Fields[p]; ok {
			return fmt.Errorf("expect: %s is in both fields and absent", p)
		}
	}
	return nil
}

type testFile struct {
	Tests []TestCase `yaml:"tests"`
}

// LoadTests reads every *_test.yaml in dir, in file-name order.
func LoadTests(fsys fs.FS, dir string) ([]TestCase, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("rules: read directory %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && IsTestFile(e.Name()) {
			names = append(names, path.Join(dir, e.Name()))
		}
	}
	sort.Strings(names)
	var all []TestCase
	var errs []error
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cases, err := ParseTests(name, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		all = append(all, cases...)
	}
	return all, errors.Join(errs...)
}

// testCaseLines returns the line of each case of a test file's tests list.
func testCaseLines(data []byte) []int {
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "tests" && m.Content[i+1].Kind == yaml.SequenceNode {
			var lines []int
			for _, c := range m.Content[i+1].Content {
				lines = append(lines, c.Line)
			}
			return lines
		}
	}
	return nil
}

// ParseTests decodes one test file strictly.
func ParseTests(name string, data []byte) ([]TestCase, error) {
	var f testFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, errors.New(yamlerr.Format(name, err))
	}
	if err := yamlerr.NoFurtherDocument(name, dec, "a rule test file"); err != nil {
		return nil, err
	}
	caseLines := testCaseLines(data)
	for i := range f.Tests {
		tc := &f.Tests[i]
		tc.File = name
		tc.Line = tc.Event.Line
		if tc.Line == 0 && i < len(caseLines) {
			tc.Line = caseLines[i] // no event: the case's own line
		}
		where := fmt.Sprintf("%s:%d", name, tc.Line)
		if tc.Name == "" {
			return nil, fmt.Errorf("%s: test #%d has no name", where, i+1)
		}
		// A case is known by its file and name (a reload tells a test
		// that failed before from one a change broke by them).
		for j := range f.Tests[:i] {
			if f.Tests[j].Name == tc.Name {
				return nil, fmt.Errorf("%s: test %q: the name is taken by the test at line %d; give each test of a file its own name", where, tc.Name, f.Tests[j].Line)
			}
		}
		if tc.Syslog.Kind != 0 {
			tc.Line = tc.Syslog.Line
			where = fmt.Sprintf("%s:%d", name, tc.Line)
			if tc.Syslog.Kind != yaml.ScalarNode || tc.Syslog.Value == "" {
				return nil, fmt.Errorf("%s: test %q: syslog must be one message as a string", where, tc.Name)
			}
			if tc.Event.Kind != 0 {
				return nil, fmt.Errorf("%s: test %q: give event or syslog, not both", where, tc.Name)
			}
			if err := tc.compileExpect(); err != nil {
				return nil, fmt.Errorf("%s: test %q: %v", where, tc.Name, err)
			}
			continue
		}
		switch tc.Event.Kind {
		case yaml.MappingNode:
			var buf bytes.Buffer
			if err := nodeJSON(&buf, &tc.Event); err != nil {
				return nil, fmt.Errorf("%s: test %q: event: %v", where, tc.Name, err)
			}
			tc.JSON = buf.Bytes()
		case yaml.ScalarNode:
			tc.JSON = []byte(tc.Event.Value)
			// A string that starts like an object is one: when it does not
			// parse the case fails (the router would refuse it as
			// invalid_json), rather than run as a message.
			tc.Text = !strings.HasPrefix(strings.TrimSpace(tc.Event.Value), "{")
		default:
			return nil, fmt.Errorf("%s: test %q: event must be a mapping or a JSON string (or give syslog: a syslog line)", where, tc.Name)
		}
		if err := tc.compileExpect(); err != nil {
			return nil, fmt.Errorf("%s: test %q: %v", where, tc.Name, err)
		}
	}
	return f.Tests, nil
}

// compileExpect checks that tc expects something and compiles its
// expectations.
func (tc *TestCase) compileExpect() error {
	none := tc.Expect.empty()
	for i := range tc.ExpectEach {
		if tc.ExpectEach[i].empty() {
			return fmt.Errorf("expect_each[%d]: %s", i, errNothingExpected)
		}
		none = false
	}
	if none {
		return errors.New(errNothingExpected)
	}
	if err := tc.Expect.compile(); err != nil {
		return err
	}
	for i := range tc.ExpectEach {
		if err := tc.ExpectEach[i].compile(); err != nil {
			return fmt.Errorf("expect_each[%d]: %v", i, err)
		}
	}
	return nil
}

const errNothingExpected = "expect names nothing to check (priority, rule, destinations, source_type, fields or absent)"

// nodeJSON renders a YAML node as JSON, keeping key order and duplicates.
// mergedPairs returns mapping n's key/value pairs with YAML merge keys
// resolved ("<<: *base" or "<<: [*a, *b]"): the merged mappings' pairs
// that n does not set itself, first, then n's own, in order.
func mergedPairs(n *yaml.Node) [][2]*yaml.Node {
	own := map[string]bool{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0 && k.Tag != "!!str") {
			merges = append(merges, n.Content[i+1])
			continue
		}
		own[n.Content[i].Value] = true
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	var add func(m *yaml.Node)
	add = func(m *yaml.Node) {
		for m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		switch m.Kind {
		case yaml.SequenceNode:
			for _, c := range m.Content {
				add(c)
			}
		case yaml.MappingNode:
			for _, kv := range mergedPairs(m) {
				if k := kv[0].Value; !own[k] && !seen[k] {
					seen[k] = true
					out = append(out, kv)
				}
			}
		}
	}
	for _, m := range merges {
		add(m)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0 && k.Tag != "!!str") {
			continue
		}
		out = append(out, [2]*yaml.Node{n.Content[i], n.Content[i+1]})
	}
	return out
}

func nodeJSON(w *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			w.WriteString("null")
			return nil
		}
		return nodeJSON(w, n.Content[0])
	case yaml.AliasNode:
		return nodeJSON(w, n.Alias)
	case yaml.MappingNode:
		w.WriteByte('{')
		for i, kv := range mergedPairs(n) {
			if i > 0 {
				w.WriteByte(',')
			}
			k, _ := json.Marshal(kv[0].Value)
			w.Write(k)
			w.WriteByte(':')
			if err := nodeJSON(w, kv[1]); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	case yaml.SequenceNode:
		w.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := nodeJSON(w, c); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			w.WriteString("null")
		case "!!bool":
			b, err := strconv.ParseBool(strings.ToLower(n.Value))
			if err != nil {
				return fmt.Errorf("line %d: invalid boolean %q", n.Line, n.Value)
			}
			w.WriteString(strconv.FormatBool(b))
		case "!!int", "!!float":
			if json.Valid([]byte(n.Value)) {
				w.WriteString(n.Value)
				return nil
			}
			if n.Tag == "!!int" {
				// YAML 1.2's other integer forms (0x17, 0o17, +5, 1_000)
				// as the decimal number they are.
				v := strings.ReplaceAll(n.Value, "_", "")
				if i, err := strconv.ParseInt(v, 0, 64); err == nil {
					w.WriteString(strconv.FormatInt(i, 10))
					return nil
				}
				if u, err := strconv.ParseUint(strings.TrimPrefix(v, "+"), 0, 64); err == nil {
					w.WriteString(strconv.FormatUint(u, 10))
					return nil
				}
			}
			f, err := strconv.ParseFloat(n.Value, 64)
			if err != nil {
				return fmt.Errorf("line %d: invalid number %q", n.Line, n.Value)
			}
			w.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		default:
			s, _ := json.Marshal(n.Value)
			w.Write(s)
		}
	}
	return nil
}
