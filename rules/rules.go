package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/valyala/fastjson"
	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter/internal/yamlerr"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// Rule is one compiled rule.
type Rule struct {
	Name        string
	Description string
	Priority    pipeline.Priority
	Expr        string
	// File and Line locate the rule's expression for error messages.
	File string
	Line int

	native pred
	prog   *vm.Program
	refs   []int // field ids the VM program reads
	flat   bool  // the program reads each field path as one key (flatFields)
}

// Native reports whether the rule runs on the native matcher (else on the VM).
func (r *Rule) Native() bool { return r.native != nil }

// Set is an ordered, compiled rule set. It is immutable and safe for
// concurrent use; per-event state lives in the caller's Env.
type Set struct {
	Rules   []Rule
	Default pipeline.Priority
	// Fields lists every field path the rules read; a field's id is its index.
	Fields []string
	// OnError, when set before the set is used (it is read without
	// synchronization), is called each time a rule that runs on expr's VM
	// fails on an event (lower() of a missing field, a number compared
	// with a string): the rule then counts as not matching, and the
	// caller counts and logs the failure.
	OnError func(rule int, err error)

	index *ruleIndex // nil: walk every rule (see index.go)
}

// VMRules returns how many rules run on expr's VM instead of natively.
func (s *Set) VMRules() int {
	n := 0
	for i := range s.Rules {
		if s.Rules[i].native == nil {
			n++
		}
	}
	return n
}

// Eval returns the index of the first rule that matches, or -1. Errors of VM
// rules count as no match (and are passed to OnError).
func (s *Set) Eval(env Env) int {
	if s.index != nil {
		return s.index.eval(s, env)
	}
	return s.evalLinear(env)
}

// match evaluates rule i.
func (s *Set) match(i int, env Env) bool {
	r := &s.Rules[i]
	if r.native != nil {
		return r.native(env)
	}
	return s.runVM(i, env)
}

// runVM runs rule i on expr's VM, passing an error to OnError.
func (s *Set) runVM(i int, env Env) bool {
	ok, err := s.Rules[i].runVM(s, env)
	if err != nil && s.OnError != nil {
		s.OnError(i, err)
	}
	return ok
}

// evalLinear is Eval without the index: every rule in order.
func (s *Set) evalLinear(env Env) int {
	for i := range s.Rules {
		r := &s.Rules[i]
		if r.native != nil {
			if r.native(env) {
				return i
			}
			continue
		}
		if s.runVM(i, env) {
			return i
		}
	}
	return -1
}

// Priority returns the priority for an Eval result.
func (s *Set) Priority(idx int) pipeline.Priority {
	if idx < 0 {
		return s.Default
	}
	return s.Rules[idx].Priority
}

// DefaultRuleName names the outcome of no rule matching; no rule may take it.
const DefaultRuleName = "default"

// RuleName returns the rule name for an Eval result, DefaultRuleName for -1.
func (s *Set) RuleName(idx int) string {
	if idx < 0 {
		return DefaultRuleName
	}
	return s.Rules[idx].Name
}

// indexable reports whether the rule index may leave r out by its guards:
// a native rule, or a VM rule reading each field path as the native
// matcher looks it up (not one with let variables, which reads the
// nested environment).
func (r *Rule) indexable() bool { return r.native != nil || r.flat }

func (r *Rule) runVM(s *Set, env Env) (bool, error) {
	m := make(map[string]any, len(r.refs))
	for _, id := range r.refs {
		if r.flat {
			// The program reads every field path as one key ($env["a.b"],
			// see flatFields), each looked up as the native matcher does.
			m[s.Fields[id]] = toAny(env.Field(id))
			continue
		}
		setPath(m, s.Fields[id], toAny(env.Field(id)))
	}
	out, err := expr.Run(r.prog, m)
	if err != nil {
		return false, err
	}
	b, _ := out.(bool)
	return b, nil
}

func setPath(m map[string]any, p string, v any) {
	for {
		i := strings.IndexByte(p, '.')
		if i < 0 {
			if _, exists := m[p].(map[string]any); exists && v != nil {
				if mv, ok := v.(map[string]any); ok {
					for k, x := range mv { // merge, explicit sub-paths win
						if _, set := m[p].(map[string]any)[k]; !set {
							m[p].(map[string]any)[k] = x
						}
					}
					return
				}
			}
			m[p] = v
			return
		}
		sub, ok := m[p[:i]].(map[string]any)
		if !ok {
			if m[p[:i]] != nil {
				// A scalar or array parent (service:"web" while the rule
				// also reads service.serviceName): its fields are nil, as
				// natively; replacing it with a map would change the
				// parent's own value.
				return
			}
			sub = map[string]any{}
			m[p[:i]] = sub
		}
		m, p = sub, p[i+1:]
	}
}

func toAny(v *normalize.Value) any {
	switch v.Kind {
	case normalize.String:
		return string(v.Str)
	case normalize.Number:
		return v.Num
	case normalize.Bool:
		return v.Bool
	case normalize.Array, normalize.Object:
		if v.Raw != nil {
			return fromJSON(v.Raw)
		}
		if v.Kind == normalize.Object {
			return map[string]any{}
		}
	}
	return nil
}

func fromJSON(v *fastjson.Value) any {
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return string(b)
	case fastjson.TypeNumber:
		return v.GetFloat64()
	case fastjson.TypeTrue:
		return true
	case fastjson.TypeFalse:
		return false
	case fastjson.TypeArray:
		a, _ := v.Array()
		out := make([]any, len(a))
		for i, e := range a {
			out[i] = fromJSON(e)
		}
		return out
	case fastjson.TypeObject:
		o, _ := v.Object()
		out := make(map[string]any, o.Len())
		o.Visit(func(k []byte, e *fastjson.Value) { out[string(k)] = fromJSON(e) })
		return out
	}
	return nil
}

// File is the YAML shape of a rule file.
type File struct {
	Rules []RuleSpec `yaml:"rules"`
}

// RuleSpec is one rule as written in YAML.
type RuleSpec struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Priority    string `yaml:"priority"`
	Expr        string `yaml:"expr"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// IsTestFile reports whether name is a rule test file (*_test.yaml).
func IsTestFile(name string) bool {
	return strings.HasSuffix(name, "_test.yaml") || strings.HasSuffix(name, "_test.yml")
}

// RuleFiles lists the rule files of dir in load order.
func RuleFiles(fsys fs.FS, dir string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("rules: read directory %s: %w", dir, err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || IsTestFile(name) || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		files = append(files, path.Join(dir, name))
	}
	sort.Strings(files)
	return files, nil
}

// Load reads every rule file in dir (see RuleFiles) and compiles the set. All
// errors are reported together, each with file, line and cause.
func Load(fsys fs.FS, dir string, def pipeline.Priority) (*Set, error) {
	files, err := RuleFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	var specs []located
	var errs []error
	for _, f := range files {
		data, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f, err))
			continue
		}
		s, err := ParseFile(f, data)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		specs = append(specs, s...)
	}
	// Compile what parsed so that one run reports every problem.
	set, err := compileSet(specs, def)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return set, nil
}

// located is a RuleSpec with its position.
type located struct {
	RuleSpec
	file     string
	line     int // of the rule
	exprLine int // of the expr value
}

// ParseFile decodes one rule file strictly (unknown keys rejected with their
// line) and records the line of each rule's expression.
func ParseFile(name string, data []byte) ([]located, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		msg := yamlerr.Format(name, err)
		if strings.Contains(msg, `unknown key "tests"`) {
			// A test file whose name the loader did not take for one
			// (12-local-test.yaml, 12-local_tests.yaml): the key is
			// right, the name is not.
			msg += fmt.Sprintf("\n%s looks like a rule test file: a test file's name must end in _test.yaml (like 12-local_test.yaml), or it is read as a rule file", name)
		}
		return nil, errors.New(msg)
	}
	if err := yamlerr.NoFurtherDocument(name, dec, "a rule file"); err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errors.New(yamlerr.Format(name, err))
	}
	items := ruleNodes(&doc)
	for _, it := range items {
		if it.Kind == yaml.ScalarNode && it.Tag == "!!null" {
			// The decoder drops a null item: the rules after it would be
			// located at the lines of those before.
			return nil, fmt.Errorf("%s:%d: an empty item in rules (a \"-\" with nothing after it): remove it, or complete the rule", name, it.Line)
		}
	}
	out := make([]located, len(f.Rules))
	for i, r := range f.Rules {
		out[i] = located{RuleSpec: r, file: name}
		if i < len(items) {
			out[i].line = items[i].Line
			out[i].exprLine = items[i].Line
			for j := 0; j+1 < len(items[i].Content); j += 2 {
				if items[i].Content[j].Value == "expr" {
					out[i].exprLine = items[i].Content[j+1].Line
				}
			}
		}
	}
	return out, nil
}

// ruleNodes returns the mapping nodes of the rules list.
func ruleNodes(doc *yaml.Node) []*yaml.Node {
	if len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "rules" && m.Content[i+1].Kind == yaml.SequenceNode {
			return m.Content[i+1].Content
		}
	}
	return nil
}

func compileSet(specs []located, def pipeline.Priority) (*Set, error) {
	s := &Set{Default: def}
	ft := &fieldTable{ids: map[string]int{}}
	seen := map[string]string{}
	var errs []error
	var ruleGuards [][]guard
	for _, sp := range specs {
		where := fmt.Sprintf("%s:%d", sp.file, sp.line)
		if !nameRE.MatchString(sp.Name) {
			errs = append(errs, fmt.Errorf("%s: rule name %q: use lower-case letters, digits, '.', '_' and '-'", where, sp.Name))
			continue
		}
		if sp.Name == DefaultRuleName {
			errs = append(errs, fmt.Errorf("%s: rule name %q is reserved: it names the outcome of no rule matching (metrics, explain, rule tests); choose another", where, sp.Name))
			continue
		}
		if prev, dup := seen[sp.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: rule %q is already defined at %s; rule names must be unique", where, sp.Name, prev))
			continue
		}
		seen[sp.Name] = where
		prio, err := pipeline.ParsePriority(sp.Priority)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: rule %q: %v", where, sp.Name, err))
			continue
		}
		r, g, err := compileRuleGuards(sp.Expr, ft)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: rule %q: %v", sp.file, sp.exprLine, sp.Name, err))
			continue
		}
		ruleGuards = append(ruleGuards, g)
		r.Name, r.Description, r.Priority = sp.Name, sp.Description, prio
		r.File, r.Line = sp.file, sp.exprLine
		s.Rules = append(s.Rules, r)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s.Fields = ft.paths
	s.index = buildIndex(s, ft, ruleGuards)
	return s, nil
}

// optionalMembers makes every member access optional, so a missing field is
// nil instead of an error, matching the native matcher.
type optionalMembers struct{}

func (optionalMembers) Visit(node *ast.Node) {
	if m, ok := (*node).(*ast.MemberNode); ok {
		m.Optional = true
	}
}

// compileRule validates src with expr's compiler and lowers it when it can.
func compileRule(src string, ft *fieldTable) (Rule, error) {
	return compileRuleMode(src, ft, false)
}

// compileRuleGuards is compileRule that also returns the rule's guards
// (index.go) when it was lowered, or runs on the VM reading every field as
// the native matcher does (flat): a guard is a property of the expression,
// and holds for either evaluation when both see the same field values.
func compileRuleGuards(src string, ft *fieldTable) (Rule, []guard, error) {
	r, err := compileRuleMode(src, ft, false)
	if err != nil || !r.indexable() {
		return r, nil, err
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return r, nil, nil
	}
	return r, guards(tree.Node), nil
}

// compileRuleMode is compileRule; forceVM skips lowering (tests compare the
// two implementations).
func compileRuleMode(src string, ft *fieldTable, forceVM bool) (Rule, error) {
	r := Rule{Expr: src}
	if strings.TrimSpace(src) == "" {
		return r, fmt.Errorf("expr is empty")
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return r, fmt.Errorf("expr does not compile: %v", err)
	}
	if err := checkCalls(tree.Node); err != nil {
		return r, err
	}
	opts := []expr.Option{expr.AllowUndefinedVariables(), expr.AsBool(), expr.Patch(optionalMembers{})}
	// Log fields are often named like expr builtins (type, date, duration,
	// count...). A builtin name used as a plain identifier, not called, is a
	// field here: disable that builtin for this expression.
	for _, name := range shadowedBuiltins(tree.Node) {
		opts = append(opts, expr.DisableBuiltin(name))
	}
	prog, err := expr.Compile(src, opts...)
	if err != nil {
		return r, fmt.Errorf("expr does not compile: %v", err)
	}
	l := &lowerer{fields: ft}
	// Lower on a scratch table first so a rule that falls back to the VM does
	// not leave half its fields behind.
	scratch := &fieldTable{ids: map[string]int{}}
	for k, v := range ft.ids {
		scratch.ids[k] = v
	}
	scratch.paths = append([]string(nil), ft.paths...)
	l.fields = scratch
	p, lerr := l.lower(tree.Node)
	if forceVM && lerr == nil {
		lerr = errNotLowered{"forced"}
	}
	var nl errNotLowered
	switch {
	case lerr == nil:
		*ft = *scratch
		r.native = p
		return r, nil
	case !errors.As(lerr, &nl):
		return r, lerr // e.g. an invalid regular expression
	}
	paths, err := refs(tree.Node)
	if err != nil {
		return r, err
	}
	r.prog = prog
	if !declaresVariables(tree.Node) {
		// Read every field path as one key of a flat environment, looked
		// up as the native matcher does: a missing parent stays nil, a
		// sub-field of a string or array is nil rather than an error, and
		// $env["a.b"] is the path a.b, so that the VM answers as natively.
		// (A rule with let variables keeps the nested environment: its
		// variables' members must not be taken for fields.)
		fopts := append(opts[:len(opts):len(opts)], expr.Patch(flatFields{}))
		if fprog, ferr := expr.Compile(src, fopts...); ferr == nil {
			r.prog, r.flat = fprog, true
		}
	}
	for _, p := range paths {
		r.refs = append(r.refs, ft.id(p))
	}
	return r, nil
}

// flatFields replaces every field path (a, a.b, a["b-c"], $env["a.b"]) by
// $env["<path>"], the path as one key of runVM's flat environment. expr's
// Walk visits children first, so a chain is rewritten from its root up,
// and fieldPath reads the rewritten $env["..."] as the path it names.
type flatFields struct{}

func (flatFields) Visit(node *ast.Node) {
	switch (*node).(type) {
	case *ast.IdentifierNode, *ast.MemberNode:
	default:
		return
	}
	p, ok := fieldPath(*node)
	if !ok {
		return
	}
	*node = &ast.MemberNode{Node: &ast.IdentifierNode{Value: "$env"}, Property: &ast.StringNode{Value: p}, Optional: true}
}

// declaresVariables reports whether n declares let variables.
func declaresVariables(n ast.Node) bool {
	found := false
	ast.Walk(&n, visitorFunc(func(node *ast.Node) {
		if _, ok := (*node).(*ast.VariableDeclaratorNode); ok {
			found = true
		}
	}))
	return found
}

type visitorFunc func(*ast.Node)

func (f visitorFunc) Visit(n *ast.Node) { f(n) }

// shadowedBuiltins returns builtin names that n uses as identifiers.
func shadowedBuiltins(n ast.Node) []string {
	var names []string
	v := identVisitor(func(id *ast.IdentifierNode) {
		if _, ok := builtinNames[id.Value]; ok && !slices.Contains(names, id.Value) {
			names = append(names, id.Value)
		}
	})
	ast.Walk(&n, v)
	return names
}

type identVisitor func(*ast.IdentifierNode)

func (f identVisitor) Visit(n *ast.Node) {
	if id, ok := (*n).(*ast.IdentifierNode); ok {
		f(id)
	}
}

// checkCalls refuses a call of anything but an expr builtin. Undefined
// names are fields here (AllowUndefinedVariables), so a misspelt or
// mis-cased function (lowr(x), Lower(x)) or a method call (x.lower())
// would compile as a call of a missing field and fail on every event: the
// rule would never match, silently.
func checkCalls(n ast.Node) error {
	var err error
	ast.Walk(&n, visitorFunc(func(node *ast.Node) {
		c, ok := (*node).(*ast.CallNode)
		if !ok || err != nil {
			return
		}
		switch callee := c.Callee.(type) {
		case *ast.IdentifierNode:
			if _, ok := builtinNames[callee.Value]; !ok {
				err = fmt.Errorf("expr calls %s(), which is not an expr-lang builtin (names are case-sensitive: lower, upper, trim, hasPrefix, len, ...; see https://expr-lang.org/docs/language-definition)", callee.Value)
			}
		case *ast.MemberNode:
			switch callee.Node.(type) {
			case *ast.CallNode, *ast.BuiltinNode:
				// A method of a builtin's result: now().Year(),
				// date("2023-08-14").Hour(), as expr documents them.
			default:
				err = fmt.Errorf("expr calls a method (%s(...)): fields have no methods; call the builtin with the field as its argument, e.g. lower(user.name) rather than user.name.lower()", callee.String())
			}
		default:
			err = fmt.Errorf("expr calls %s, which is not an expr-lang builtin", c.Callee.String())
		}
	}))
	return err
}

var builtinNames = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, b := range builtin.Builtins {
		m[b.Name] = struct{}{}
	}
	return m
}()
