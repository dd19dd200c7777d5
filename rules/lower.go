package rules

import (
	"bytes"
	"fmt"
	"regexp"

	"github.com/expr-lang/expr/ast"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// Env gives a rule access to the current event's fields by field id (an index
// into Set.Fields). Implementations look fields up lazily and cache them for
// the duration of one event.
type Env interface {
	Field(id int) *normalize.Value
}

// pred is a lowered expression.
type pred func(env Env) bool

// fieldTable assigns ids to field paths shared by all rules of a set.
type fieldTable struct {
	ids   map[string]int
	paths []string
}

func (t *fieldTable) id(path string) int {
	if id, ok := t.ids[path]; ok {
		return id
	}
	id := len(t.paths)
	t.ids[path] = id
	t.paths = append(t.paths, path)
	return id
}

// fieldPath returns the dotted path of a member chain rooted at an identifier
// ("a.b.c", `a["b-c"]`, `$env["x"].y`), and whether n is such a chain.
func fieldPath(n ast.Node) (string, bool) {
	switch n := n.(type) {
	case *ast.IdentifierNode:
		if n.Value == "$env" {
			return "", false
		}
		return n.Value, true
	case *ast.ChainNode:
		return fieldPath(n.Node)
	case *ast.MemberNode:
		if n.Method {
			return "", false
		}
		prop, ok := n.Property.(*ast.StringNode)
		if !ok {
			return "", false
		}
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "$env" {
			return prop.Value, true
		}
		base, ok := fieldPath(n.Node)
		if !ok {
			return "", false
		}
		return base + "." + prop.Value, true
	}
	return "", false
}

type constKind uint8

const (
	cString constKind = iota + 1
	cNumber
	cBool
	cNil
)

type constant struct {
	kind constKind
	str  []byte
	num  float64
	b    bool
}

func constOf(n ast.Node) (constant, bool) {
	switch n := n.(type) {
	case *ast.StringNode:
		return constant{kind: cString, str: []byte(n.Value)}, true
	case *ast.IntegerNode:
		return constant{kind: cNumber, num: float64(n.Value)}, true
	case *ast.FloatNode:
		return constant{kind: cNumber, num: n.Value}, true
	case *ast.BoolNode:
		return constant{kind: cBool, b: n.Value}, true
	case *ast.NilNode:
		return constant{kind: cNil}, true
	case *ast.UnaryNode:
		if n.Operator == "-" {
			if c, ok := constOf(n.Node); ok && c.kind == cNumber {
				c.num = -c.num
				return c, true
			}
		}
	}
	return constant{}, false
}

func (c constant) equal(v *normalize.Value) bool {
	switch c.kind {
	case cString:
		return v.Kind == normalize.String && bytes.Equal(v.Str, c.str)
	case cNumber:
		return v.Kind == normalize.Number && v.Num == c.num
	case cBool:
		return v.Kind == normalize.Bool && v.Bool == c.b
	case cNil:
		return v.Kind == normalize.Missing || v.Kind == normalize.Null
	}
	return false
}

// lowerer turns an expr AST into a pred, or reports that it cannot.
type lowerer struct {
	fields *fieldTable
}

type errNotLowered struct{ what string }

func (e errNotLowered) Error() string { return "not lowered: " + e.what }

func (l *lowerer) lower(n ast.Node) (pred, error) {
	switch n := n.(type) {
	case *ast.BoolNode:
		v := n.Value
		return func(Env) bool { return v }, nil
	case *ast.IdentifierNode, *ast.MemberNode, *ast.ChainNode:
		path, ok := fieldPath(n)
		if !ok {
			return nil, errNotLowered{"member access"}
		}
		id := l.fields.id(path)
		return func(env Env) bool {
			v := env.Field(id)
			return v.Kind == normalize.Bool && v.Bool
		}, nil
	case *ast.UnaryNode:
		if n.Operator != "not" && n.Operator != "!" {
			return nil, errNotLowered{"unary " + n.Operator}
		}
		inner, err := l.lower(n.Node)
		if err != nil {
			return nil, err
		}
		return func(env Env) bool { return !inner(env) }, nil
	case *ast.BinaryNode:
		return l.binary(n)
	case *ast.BuiltinNode:
		return l.quantifier(n)
	}
	return nil, errNotLowered{fmt.Sprintf("%T", n)}
}

// quantifier lowers any(F, P), all(F, P) and none(F, P) over a field F
// that holds an array of strings, for a predicate P that compares the
// element (#) with a string constant: # == "s", # startsWith "s",
// # endsWith "s", # contains "s" (ASFF's Types, a list of tags). Elements
// are tested in order and the call ends as expr's VM ends it (any at the
// first hit, all at the first miss, none at the first hit); where the VM
// fails (a missing or null field, a value that is no array, an element
// reached that is no string under a string test: errors the rule counts
// as no match), the call is false. Guard the field (F != nil) before negating one.
func (l *lowerer) quantifier(n *ast.BuiltinNode) (pred, error) {
	if (n.Name != "any" && n.Name != "all" && n.Name != "none") || len(n.Arguments) != 2 {
		return nil, errNotLowered{"builtin " + n.Name}
	}
	path, ok := fieldPath(n.Arguments[0])
	if !ok {
		return nil, errNotLowered{n.Name + " over a non-field"}
	}
	pn, ok := n.Arguments[1].(*ast.PredicateNode)
	if !ok {
		return nil, errNotLowered{n.Name + " without a predicate"}
	}
	b, ok := pn.Node.(*ast.BinaryNode)
	if !ok {
		return nil, errNotLowered{n.Name + " predicate"}
	}
	if p, ok := b.Left.(*ast.PointerNode); !ok || p.Name != "" {
		return nil, errNotLowered{n.Name + " predicate on something else than #"}
	}
	c, ok := constOf(b.Right)
	if !ok || c.kind != cString {
		return nil, errNotLowered{n.Name + " predicate with a non-string constant"}
	}
	var test func(a, b []byte) bool
	switch b.Operator {
	case "==":
		test = bytes.Equal
	case "startsWith":
		test = bytes.HasPrefix
	case "endsWith":
		test = bytes.HasSuffix
	case "contains":
		test = bytes.Contains
	default:
		return nil, errNotLowered{n.Name + " predicate " + b.Operator}
	}
	id, s, name, eq := l.fields.id(path), c.str, n.Name, b.Operator == "=="
	return func(env Env) bool {
		v := env.Field(id)
		if v.Kind == normalize.String {
			// The VM walks a string's bytes: none in "", and a byte is
			// never equal to a string and fails a string test.
			switch {
			case len(v.Str) == 0:
				return name != "any"
			case eq:
				return name == "none"
			}
			return false
		}
		if v.Kind == normalize.Object && v.Raw != nil {
			// An empty object is walked as nothing; another one fails.
			if o, _ := v.Raw.Object(); o != nil && o.Len() == 0 {
				return name != "any"
			}
			return false
		}
		if v.Kind != normalize.Array || v.Raw == nil {
			return false
		}
		arr, _ := v.Raw.Array()
		for _, e := range arr {
			var hit bool
			switch {
			case e.Type() == fastjson.TypeString:
				hit = test(e.GetStringBytes(), s)
			case eq || e.Type() == fastjson.TypeNull:
				// == compares any element (false), a string test takes
				// null for false; a string test fails on the VM for any
				// other element that is no string.
			default:
				return false
			}
			switch {
			case name == "any" && hit:
				return true
			case name == "all" && !hit, name == "none" && hit:
				return false
			}
		}
		return name != "any"
	}, nil
}

func (l *lowerer) binary(n *ast.BinaryNode) (pred, error) {
	switch n.Operator {
	case "and", "&&", "or", "||":
		a, err := l.lower(n.Left)
		if err != nil {
			return nil, err
		}
		b, err := l.lower(n.Right)
		if err != nil {
			return nil, err
		}
		if n.Operator == "and" || n.Operator == "&&" {
			return func(env Env) bool { return a(env) && b(env) }, nil
		}
		return func(env Env) bool { return a(env) || b(env) }, nil
	}

	// field OP constant (or constant OP field for the symmetric ones)
	left, right := n.Left, n.Right
	op := n.Operator
	path, ok := fieldPath(left)
	c, cok := constOf(right)
	if !ok || !cok {
		if p2, ok2 := fieldPath(right); ok2 {
			if c2, cok2 := constOf(left); cok2 {
				switch op {
				case "==", "!=":
					path, c, ok, cok = p2, c2, true, true
				case "<", "<=", ">", ">=":
					path, c, ok, cok = p2, c2, true, true
					op = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
				}
			}
		}
	}
	if op == "in" {
		return l.in(n)
	}
	if !ok || !cok {
		return nil, errNotLowered{"operator " + op + " on non-field/constant operands"}
	}
	id := l.fields.id(path)
	switch op {
	case "==":
		return func(env Env) bool { return c.equal(env.Field(id)) }, nil
	case "!=":
		return func(env Env) bool { return !c.equal(env.Field(id)) }, nil
	case "<", "<=", ">", ">=":
		return compare(id, op, c)
	case "startsWith", "endsWith", "contains":
		if c.kind != cString {
			return nil, errNotLowered{op + " with a non-string constant"}
		}
		s := c.str
		var f func(a, b []byte) bool
		switch op {
		case "startsWith":
			f = bytes.HasPrefix
		case "endsWith":
			f = bytes.HasSuffix
		default:
			f = bytes.Contains
		}
		return func(env Env) bool {
			v := env.Field(id)
			return v.Kind == normalize.String && f(v.Str, s)
		}, nil
	case "matches":
		if c.kind != cString {
			return nil, errNotLowered{"matches with a non-string pattern"}
		}
		re, err := regexp.Compile(string(c.str))
		if err != nil {
			return nil, fmt.Errorf("invalid regular expression %q: %w", c.str, err)
		}
		return func(env Env) bool {
			v := env.Field(id)
			return v.Kind == normalize.String && re.Match(v.Str)
		}, nil
	}
	return nil, errNotLowered{"operator " + op}
}

func compare(id int, op string, c constant) (pred, error) {
	switch c.kind {
	case cNumber:
		x := c.num
		var f func(a float64) bool
		switch op {
		case "<":
			f = func(a float64) bool { return a < x }
		case "<=":
			f = func(a float64) bool { return a <= x }
		case ">":
			f = func(a float64) bool { return a > x }
		default:
			f = func(a float64) bool { return a >= x }
		}
		return func(env Env) bool {
			v := env.Field(id)
			return v.Kind == normalize.Number && f(v.Num)
		}, nil
	case cString:
		s := c.str
		var f func(r int) bool
		switch op {
		case "<":
			f = func(r int) bool { return r < 0 }
		case "<=":
			f = func(r int) bool { return r <= 0 }
		case ">":
			f = func(r int) bool { return r > 0 }
		default:
			f = func(r int) bool { return r >= 0 }
		}
		return func(env Env) bool {
			v := env.Field(id)
			return v.Kind == normalize.String && f(bytes.Compare(v.Str, s))
		}, nil
	}
	return nil, errNotLowered{"ordering against a non-number, non-string constant"}
}

// in lowers `field in [c1, c2, ...]`.
func (l *lowerer) in(n *ast.BinaryNode) (pred, error) {
	path, ok := fieldPath(n.Left)
	if !ok {
		return nil, errNotLowered{"in with a non-field left operand"}
	}
	arr, ok := n.Right.(*ast.ArrayNode)
	if !ok {
		return nil, errNotLowered{"in with a non-literal list"}
	}
	consts := make([]constant, 0, len(arr.Nodes))
	for _, e := range arr.Nodes {
		c, ok := constOf(e)
		if !ok {
			return nil, errNotLowered{"in list with a non-constant element"}
		}
		consts = append(consts, c)
	}
	// expr turns a list of strings into a set and looks a nil needle up
	// as "": on its VM a missing or null field is `in ["", "-"]`. Do the
	// same, so a rule means one thing whichever way it runs.
	allStrings, hasEmpty := true, false
	for _, c := range consts {
		allStrings = allStrings && c.kind == cString
		hasEmpty = hasEmpty || (c.kind == cString && len(c.str) == 0)
	}
	nilIn := allStrings && hasEmpty
	id := l.fields.id(path)
	return func(env Env) bool {
		v := env.Field(id)
		if nilIn && (v.Kind == normalize.Missing || v.Kind == normalize.Null) {
			return true
		}
		for i := range consts {
			if consts[i].equal(v) {
				return true
			}
		}
		return false
	}, nil
}

// literalIndex reports whether n is a literal array index: 2, or -1 (the
// last element), which the parser gives as a minus over 1.
func literalIndex(n ast.Node) bool {
	if u, ok := n.(*ast.UnaryNode); ok && u.Operator == "-" {
		n = u.Node
	}
	_, ok := n.(*ast.IntegerNode)
	return ok
}

// refs collects every field path an expression reads, for the VM fallback,
// and rejects dynamic member access, which could not be supplied.
func refs(n ast.Node) (paths []string, err error) {
	var visit func(n ast.Node, scope map[string]bool)
	visit = func(n ast.Node, scope map[string]bool) {
		if err != nil || n == nil {
			return
		}
		if id, ok := n.(*ast.IdentifierNode); ok && id.Value == "$env" {
			// The VM is given the fields a rule names, never the whole
			// event: "x" in $env would be false for every event.
			err = fmt.Errorf("$env (the whole event) is not supported; name the field: x != nil, or a[\"b-c\"] for a name that is no identifier")
			return
		}
		if p, ok := fieldPath(n); ok {
			root := p
			for i := 0; i < len(p); i++ {
				if p[i] == '.' {
					root = p[:i]
					break
				}
			}
			if !scope[root] {
				paths = append(paths, p)
			}
			return
		}
		switch n := n.(type) {
		case *ast.MemberNode:
			if _, ok := n.Property.(*ast.StringNode); !ok {
				if !literalIndex(n.Property) {
					err = fmt.Errorf("dynamic field access is not supported; name fields with literal paths such as a.b or a[\"b-c\"]")
					return
				}
			}
			visit(n.Node, scope)
		case *ast.ChainNode:
			visit(n.Node, scope)
		case *ast.UnaryNode:
			visit(n.Node, scope)
		case *ast.BinaryNode:
			visit(n.Left, scope)
			visit(n.Right, scope)
		case *ast.ConditionalNode:
			visit(n.Cond, scope)
			visit(n.Exp1, scope)
			visit(n.Exp2, scope)
		case *ast.ArrayNode:
			for _, e := range n.Nodes {
				visit(e, scope)
			}
		case *ast.MapNode:
			for _, p := range n.Pairs {
				visit(p, scope)
			}
		case *ast.PairNode:
			visit(n.Key, scope)
			visit(n.Value, scope)
		case *ast.CallNode:
			if m, ok := n.Callee.(*ast.MemberNode); ok {
				// A method of a builtin's result (checkCalls allows no
				// other): date(login.when).Hour() reads login.when.
				visit(m.Node, scope)
			}
			for _, a := range n.Arguments {
				visit(a, scope)
			}
		case *ast.BuiltinNode:
			for _, a := range n.Arguments {
				visit(a, scope)
			}
		case *ast.PredicateNode:
			visit(n.Node, scope)
		case *ast.SliceNode:
			visit(n.Node, scope)
			visit(n.From, scope)
			visit(n.To, scope)
		case *ast.VariableDeclaratorNode:
			visit(n.Value, scope)
			inner := map[string]bool{n.Name: true}
			for k := range scope {
				inner[k] = true
			}
			visit(n.Expr, inner)
		case *ast.SequenceNode:
			for _, e := range n.Nodes {
				visit(e, scope)
			}
		}
	}
	visit(n, map[string]bool{})
	return paths, err
}
