package rules

import (
	"github.com/expr-lang/expr/ast"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// A rule set of a SOC team grows to hundreds or thousands of rules, most of
// them guarded by the source they are about (`event.dataset == "okta.system"
// and ...`). Evaluating all of them in order for every event costs ~17 ns a
// rule; the index skips, per event, every rule whose guard cannot hold.
//
// A guard is a conjunct of a rule's top-level `and` chain of the form
// `F == "s"` or `F in ["s1", "s2"]` (an `or` of such comparisons on the same
// F counts too). Such a rule can only match an event whose field F is one of
// those strings. The set indexes the field that guards the most rules: for
// each guard value it precomputes the list of rules, in rule order, that can
// match an event with that value (the rules guarded by it plus every rule
// without a guard on F); every other event (F missing, not a string, or
// another value) gets the list of unguarded rules. Eval walks one list and
// returns the first match, so the answer is the linear walk's, exactly: a
// skipped rule's guard is false, so the rule is.
//
// Only natively lowered rules are indexed (the VM's comparison rules are
// expr's; a VM rule is always in every list).

// minIndexed is how many guarded rules make an index worth its lookup.
const minIndexed = 8

type ruleIndex struct {
	field   int                // field id of F
	byValue map[string][]int32 // guard value -> candidate rules, in order
	rest    []int32            // rules without a guard on F
}

// guard is a set of strings a field must be one of.
type guard struct {
	path   string
	values []string
}

// guards returns the guards a rule's expression implies.
func guards(n ast.Node) []guard {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return nil
	}
	switch b.Operator {
	case "and", "&&":
		return append(guards(b.Left), guards(b.Right)...)
	case "or", "||":
		// F in A or F in B: F in A∪B, for fields guarded on both sides.
		var out []guard
		right := guards(b.Right)
		for _, l := range guards(b.Left) {
			for _, r := range right {
				if l.path == r.path {
					out = append(out, guard{l.path, append(append([]string(nil), l.values...), r.values...)})
				}
			}
		}
		return out
	case "==":
		path, ok := fieldPath(b.Left)
		s, sok := b.Right.(*ast.StringNode)
		if !ok || !sok {
			path, ok = fieldPath(b.Right)
			s, sok = b.Left.(*ast.StringNode)
		}
		if ok && sok {
			return []guard{{path, []string{s.Value}}}
		}
	case "in":
		path, ok := fieldPath(b.Left)
		arr, aok := b.Right.(*ast.ArrayNode)
		if !ok || !aok || len(arr.Nodes) == 0 {
			return nil
		}
		g := guard{path: path}
		for _, e := range arr.Nodes {
			s, ok := e.(*ast.StringNode)
			if !ok {
				return nil // a non-string element could match a non-string value
			}
			g.values = append(g.values, s.Value)
		}
		return []guard{g}
	}
	return nil
}

// buildIndex indexes s on the field that guards the most native rules, when
// at least minIndexed rules are guarded. ruleGuards[i] are rule i's guards.
func buildIndex(s *Set, ft *fieldTable, ruleGuards [][]guard) *ruleIndex {
	count := map[string]int{}
	for i, gs := range ruleGuards {
		if s.Rules[i].native == nil {
			continue
		}
		seen := map[string]bool{}
		for _, g := range gs {
			if !seen[g.path] {
				seen[g.path] = true
				count[g.path]++
			}
		}
	}
	best, bestN := "", 0
	for p, n := range count {
		if n > bestN || (n == bestN && p < best) {
			best, bestN = p, n
		}
	}
	if bestN < minIndexed {
		return nil
	}
	id, ok := ft.ids[best]
	if !ok {
		return nil
	}
	// allowed[i]: the values rule i's guards on best allow (the
	// intersection of its guards on best); nil: no guard on best.
	allowed := make([]map[string]bool, len(s.Rules))
	values := map[string]bool{}
	for i, gs := range ruleGuards {
		if s.Rules[i].native == nil {
			continue
		}
		for _, g := range gs {
			if g.path != best {
				continue
			}
			set := map[string]bool{}
			for _, v := range g.values {
				if allowed[i] == nil || allowed[i][v] {
					set[v] = true
				}
			}
			allowed[i] = set
		}
		for v := range allowed[i] {
			values[v] = true
		}
	}
	ix := &ruleIndex{field: id, byValue: make(map[string][]int32, len(values))}
	for i := range s.Rules {
		if allowed[i] == nil {
			ix.rest = append(ix.rest, int32(i))
		}
	}
	for v := range values {
		var list []int32
		for i := range s.Rules {
			if allowed[i] == nil || allowed[i][v] {
				list = append(list, int32(i))
			}
		}
		ix.byValue[v] = list
	}
	return ix
}

// candidates returns the rules, in order, that can match the event.
func (ix *ruleIndex) candidates(env Env) []int32 {
	v := env.Field(ix.field)
	if v.Kind == normalize.String {
		if l, ok := ix.byValue[string(v.Str)]; ok {
			return l
		}
	}
	return ix.rest
}

// IndexedField returns the field path the set's index is on and how many
// distinct values it maps, or "" when the set is not indexed.
func (s *Set) IndexedField() (string, int) {
	if s.index == nil {
		return "", 0
	}
	return s.Fields[s.index.field], len(s.index.byValue)
}
