package rules

import (
	"bytes"
	"math/bits"
	"regexp/syntax"
	"slices"
	"sort"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// A rule set of a SOC team grows to hundreds or thousands of rules, most of
// them about one source (`event.dataset == "okta.system" and ...`), often
// with a fallback on a field only that vendor emits (`... or
// metadata.eventType in ["DetectionSummaryEvent"]`, as the starter rules
// are written). Evaluating all of them in order for every event costs ~17 ns
// a rule; the index skips, per event, every rule that cannot match.
//
// An atom is a comparison `F == "s"` or `F in ["s1", "s2"]` (without "",
// which a missing field is "in"), which holds only when field F is one of
// those strings; `F startsWith "p"` or `F matches "^p..."` (a pattern
// anchored at the start whose every match begins with the literal p),
// which holds only when F is a string beginning with p; `F endsWith "s"`,
// only when F is a string ending with s; or one that holds
// only when F is present (neither missing nor null): `F != nil`, `F == 5`,
// `F > 3`, `F contains "x"` (and other patterns), as the native
// matcher evaluates them. (`event.dataset startsWith "zeek."` as a
// presence atom made its rule a candidate for every event.) A guard of an expression is a set of atoms at
// least one of which holds whenever the expression does:
//
//   - an atom is its own guard;
//   - `A and B` has the guards of A and those of B (each is one);
//   - `A or B` has, for a guard of A and one of B, their union;
//   - anything else (not, !=, a number, a function) has none.
//
// Each native rule, and each VM rule reading fields as the native matcher
// does (Rule.indexable), is indexed by its most selective guard (fewest
// presence atoms, then fewest atoms, then on the fields most rules share),
// over at most maxIndexFields fields. For each of those fields the index
// maps every value its atoms name to the set of rules (a bitset) that
// value lets match, and keeps the set of rules its presence lets match;
// rules without a guard, and VM rules with let variables, are in every
// event's set. Eval looks up
// the indexed fields of the event (each once: rules read them through the
// same per-event cache), takes the union of its values' sets and evaluates
// those rules in rule order, returning the first match. So the answer is
// the linear walk's, exactly: a rule left out has no atom of its guard
// holding, so its guard, and the rule, is false.

// minIndexed is how many guarded rules make an index worth its lookups.
const minIndexed = 8

// maxIndexFields bounds the fields looked up per event for the index; a
// rule whose guards all need another field is evaluated for every event.
const maxIndexFields = 128

// maxGuards and maxAtoms bound the guards of one expression and the atoms
// of one guard (an `or` multiplies guards).
const (
	maxGuards = 16
	maxAtoms  = 16
)

// atom holds when the field at path is one of values or, with present, when
// it is neither missing nor null.
type atom struct {
	path     string
	values   []string
	prefixes []string
	suffixes []string
	present  bool
}

// guard is a set of atoms (on distinct paths) at least one of which holds
// whenever its expression does.
type guard []atom

// guards returns the guards an expression implies (see above).
func guards(n ast.Node) []guard {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return nil
	}
	switch b.Operator {
	case "and", "&&":
		out := append(guards(b.Left), guards(b.Right)...)
		if len(out) > maxGuards {
			out = smallest(out, maxGuards)
		}
		return out
	case "or", "||":
		right := guards(b.Right)
		if len(right) == 0 {
			return nil
		}
		var out []guard
		for _, l := range guards(b.Left) {
			for _, r := range right {
				if u := union(l, r); len(u) <= maxAtoms {
					out = append(out, u)
				}
			}
		}
		if len(out) > maxGuards {
			out = smallest(out, maxGuards)
		}
		return out
	case "==", "!=", "<", "<=", ">", ">=", "startsWith", "endsWith", "contains", "matches":
		path, c, ok := fieldConst(b)
		if !ok {
			return nil
		}
		switch {
		case b.Operator == "==" && c.kind == cString:
			return []guard{{{path: path, values: []string{string(c.str)}}}}
		case b.Operator == "==" && c.kind == cNil, b.Operator == "!=" && c.kind != cNil:
			return nil // holds for a missing field
		}
		if p, ok := stringPrefix(b); ok {
			return []guard{{{path: path, prefixes: []string{p}}}}
		}
		if s, ok := stringSuffix(b); ok {
			return []guard{{{path: path, suffixes: []string{s}}}}
		}
		// Every other comparison the native matcher makes holds only for
		// a value of the constant's kind (!= nil: any value).
		return []guard{{{path: path, present: true}}}
	case "in":
		path, ok := fieldPath(b.Left)
		arr, aok := b.Right.(*ast.ArrayNode)
		if !ok || !aok || len(arr.Nodes) == 0 {
			return nil
		}
		a := atom{path: path}
		for _, e := range arr.Nodes {
			s, ok := e.(*ast.StringNode)
			if !ok {
				return nil // a non-string element could match a non-string value
			}
			if s.Value == "" {
				// A missing or null field is in a list of strings
				// holding "" (expr looks nil up as ""; the native
				// matcher does the same): no guard.
				return nil
			}
			a.values = append(a.values, s.Value)
		}
		return []guard{{a}}
	}
	return nil
}

// stringPrefix returns the literal prefix p of a comparison `F startsWith
// "p"` or `F matches "^p..."` (the field on the left, p not empty): the
// comparison holds only for a string beginning with p.
func stringPrefix(b *ast.BinaryNode) (string, bool) {
	if _, ok := fieldPath(b.Left); !ok {
		return "", false
	}
	s, ok := b.Right.(*ast.StringNode)
	if !ok {
		return "", false
	}
	switch b.Operator {
	case "startsWith":
		return s.Value, s.Value != ""
	case "matches":
		p := anchoredPrefix(s.Value)
		return p, p != ""
	}
	return "", false
}

// stringSuffix returns the s of a comparison `F endsWith "s"` (the field on
// the left, s not empty): it holds only for a string ending with s.
func stringSuffix(b *ast.BinaryNode) (string, bool) {
	if _, ok := fieldPath(b.Left); !ok || b.Operator != "endsWith" {
		return "", false
	}
	s, ok := b.Right.(*ast.StringNode)
	return s.Value, ok && s.Value != ""
}

// anchoredPrefix returns the literal text every match of the regular
// expression re begins with when re is anchored at the start of the text
// (`^abc(d|e)`, not `^a|b`, `(?m)^a` or `(?i)^a`), or "".
func anchoredPrefix(re string) string {
	r, err := syntax.Parse(re, syntax.Perl)
	if err != nil {
		return ""
	}
	r = r.Simplify()
	if r.Op != syntax.OpConcat || len(r.Sub) < 2 || r.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	var p []rune
	for _, sub := range r.Sub[1:] {
		if sub.Op != syntax.OpLiteral || sub.Flags&syntax.FoldCase != 0 {
			break
		}
		for _, c := range sub.Rune {
			if c == utf8.RuneError {
				// Go's regexp reads each invalid byte of the text as
				// U+FFFD: "\xffabc" matches ^\x{FFFD}abc, and no byte
				// prefix says so.
				return string(p)
			}
			p = append(p, c)
		}
	}
	return string(p)
}

// fieldConst returns the field and the constant of a comparison written
// either way round (`F op c` or `c op F`).
func fieldConst(b *ast.BinaryNode) (string, constant, bool) {
	if path, ok := fieldPath(b.Left); ok {
		if c, ok := constOf(b.Right); ok {
			return path, c, true
		}
	}
	if path, ok := fieldPath(b.Right); ok {
		if c, ok := constOf(b.Left); ok {
			return path, c, true
		}
	}
	return "", constant{}, false
}

// union is the guard holding when l or r does: their atoms, those on one
// path merged (presence covers any value).
func union(l, r guard) guard {
	out := make(guard, 0, len(l)+len(r))
	out = append(out, l...)
	for _, a := range r {
		if i := slices.IndexFunc(out, func(b atom) bool { return b.path == a.path }); i >= 0 {
			if a.present || out[i].present {
				out[i] = atom{path: a.path, present: true}
				continue
			}
			out[i] = atom{path: a.path, values: merge(out[i].values, a.values),
				prefixes: merge(out[i].prefixes, a.prefixes), suffixes: merge(out[i].suffixes, a.suffixes)}
			continue
		}
		out = append(out, a)
	}
	return out
}

// merge returns the strings of a and b, each once (a new slice).
func merge(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, v := range b {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// smallest keeps the n guards with the fewest atoms (stable).
func smallest(gs []guard, n int) []guard {
	sort.SliceStable(gs, func(i, j int) bool { return len(gs[i]) < len(gs[j]) })
	return gs[:n]
}

// ruleIndex is the index of a Set (see above).
type ruleIndex struct {
	fields []indexField
	always []uint64 // rules in every event's set
	// order is fields by their lowest rule: eval looks them up in this
	// order and tries the rules below the next field's lowest before it,
	// so an event that matches an early rule never looks up the fields
	// only later rules are indexed on.
	order []int
	// masks[j] is the root filter mask of fields[order[j]]'s path (see
	// normalize.Path.RootMask), kept together so that the fields an event
	// lacks are passed over without touching their entries or the env.
	masks [][4]uint64
	lows  []int // lows[j] is fields[order[j]].low, with the masks
}

// rootFilterEnv is an Env that has a filter of the event's root keys
// (route.Worker): a field whose mask shares no bit with it is missing.
type rootFilterEnv interface {
	RootFilter() *[4]uint64
}

// rootFilter returns env's root key filter, or nil when it has none.
func rootFilter(env Env) *[4]uint64 {
	if rf, ok := env.(rootFilterEnv); ok {
		return rf.RootFilter()
	}
	return nil
}

// absent reports whether filter shows that no candidate root key of a path
// with mask m is in the event (false without a filter).
func absent(filter *[4]uint64, m *[4]uint64) bool {
	return filter != nil && m[0]&filter[0]|m[1]&filter[1]|m[2]&filter[2]|m[3]&filter[3] == 0
}

type indexField struct {
	id       int                 // field id
	byValue  map[string][]uint64 // value -> the rules it lets match
	prefixes []affixSet          // a string's prefix -> the rules it lets match
	suffixes []affixSet          // a string's suffix -> the rules it lets match
	present  []uint64            // the rules its presence lets match; nil if none
	low      int                 // the lowest rule any of its sets holds
}

// affixSet is the rules a string beginning (or ending) with p lets match.
type affixSet struct {
	p   []byte
	set []uint64
}

// addAffix adds rule i to the set of affix p in sets.
func addAffix(sets []affixSet, p string, i, words int) []affixSet {
	j := slices.IndexFunc(sets, func(as affixSet) bool { return string(as.p) == p })
	if j < 0 {
		j = len(sets)
		sets = append(sets, affixSet{p: []byte(p), set: make([]uint64, words)})
	}
	sets[j].set[i/64] |= 1 << (i % 64)
	return sets
}

// buildIndex indexes s, or returns nil when fewer than minIndexed native
// rules have a guard. ruleGuards[i] are rule i's guards.
func buildIndex(s *Set, ft *fieldTable, ruleGuards [][]guard) *ruleIndex {
	// How many rules have a guard on each path: the shared fields.
	rulesOn := map[string]int{}
	guarded := 0
	for i, gs := range ruleGuards {
		if !s.Rules[i].indexable() || len(gs) == 0 {
			continue
		}
		guarded++
		seen := map[string]bool{}
		for _, g := range gs {
			for _, a := range g {
				if !seen[a.path] {
					seen[a.path] = true
					rulesOn[a.path]++
				}
			}
		}
	}
	if guarded < minIndexed {
		return nil
	}
	// Each rule's guard: the most selective (fewest presence atoms, then
	// fewest atoms, then on the most shared fields) among those on usable
	// fields. First every field the table knows is usable; if the chosen
	// guards need more than maxIndexFields fields, only the fields most
	// chosen guards use stay usable, and the rules choose again.
	usable := map[string]bool{}
	for p := range rulesOn {
		if _, ok := ft.ids[p]; ok {
			usable[p] = true
		}
	}
	chosen := chooseGuards(s, ruleGuards, usable, rulesOn)
	if need := guardFields(chosen); len(need) > maxIndexFields {
		paths := make([]string, 0, len(need))
		for p := range need {
			paths = append(paths, p)
		}
		sort.Slice(paths, func(i, j int) bool {
			if need[paths[i]] != need[paths[j]] {
				return need[paths[i]] > need[paths[j]]
			}
			return paths[i] < paths[j]
		})
		clear(usable)
		for _, p := range paths[:maxIndexFields] {
			usable[p] = true
		}
		chosen = chooseGuards(s, ruleGuards, usable, rulesOn)
	}
	words := (len(s.Rules) + 63) / 64
	ix := &ruleIndex{always: make([]uint64, words)}
	fieldOf := map[string]int{}
	for i, g := range chosen {
		if g == nil {
			ix.always[i/64] |= 1 << (i % 64)
			continue
		}
		for _, a := range g {
			k, ok := fieldOf[a.path]
			if !ok {
				k = len(ix.fields)
				fieldOf[a.path] = k
				ix.fields = append(ix.fields, indexField{id: ft.ids[a.path], byValue: map[string][]uint64{}})
			}
			f := &ix.fields[k]
			if a.present {
				if f.present == nil {
					f.present = make([]uint64, words)
				}
				f.present[i/64] |= 1 << (i % 64)
				continue
			}
			for _, v := range a.values {
				set := f.byValue[v]
				if set == nil {
					set = make([]uint64, words)
					f.byValue[v] = set
				}
				set[i/64] |= 1 << (i % 64)
			}
			for _, p := range a.prefixes {
				f.prefixes = addAffix(f.prefixes, p, i, words)
			}
			for _, p := range a.suffixes {
				f.suffixes = addAffix(f.suffixes, p, i, words)
			}
		}
	}
	// The most shared field first: IndexedField names it.
	sort.SliceStable(ix.fields, func(i, j int) bool {
		return rulesOn[ft.paths[ix.fields[i].id]] > rulesOn[ft.paths[ix.fields[j].id]]
	})
	for k := range ix.fields {
		f := &ix.fields[k]
		f.low = len(s.Rules)
		f.low = min(f.low, lowestRule(f.present))
		for _, set := range f.byValue {
			f.low = min(f.low, lowestRule(set))
		}
		for _, as := range append(slices.Clip(f.prefixes), f.suffixes...) {
			f.low = min(f.low, lowestRule(as.set))
		}
		ix.order = append(ix.order, k)
	}
	sort.SliceStable(ix.order, func(i, j int) bool { return ix.fields[ix.order[i]].low < ix.fields[ix.order[j]].low })
	for _, k := range ix.order {
		p := normalize.CompilePath(ft.paths[ix.fields[k].id])
		ix.masks = append(ix.masks, p.RootMask())
		ix.lows = append(ix.lows, ix.fields[k].low)
	}
	return ix
}

// lowestRule returns the lowest rule in set, or a number past every rule.
func lowestRule(set []uint64) int {
	for w, x := range set {
		if x != 0 {
			return w*64 + bits.TrailingZeros64(x)
		}
	}
	return 1 << 30
}

// hit returns the sets of rules field f lets match for the event in env:
// its presence's and its value's (nil when none), and the string value
// whose prefixes and suffixes (see or) let more match.
func (f *indexField) hit(env Env) (present, value []uint64, str []byte) {
	v := env.Field(f.id)
	if v.Kind == normalize.Missing || v.Kind == normalize.Null {
		return nil, nil, nil
	}
	if v.Kind == normalize.String {
		value = f.byValue[string(v.Str)]
		str = v.Str
	}
	return f.present, value, str
}

// or adds to x the rules a string value s lets match by its prefixes and
// suffixes.
func (f *indexField) or(x []uint64, s []byte) {
	for i := range f.prefixes {
		if as := &f.prefixes[i]; bytes.HasPrefix(s, as.p) {
			for w := range x {
				x[w] |= as.set[w]
			}
		}
	}
	for i := range f.suffixes {
		if as := &f.suffixes[i]; bytes.HasSuffix(s, as.p) {
			for w := range x {
				x[w] |= as.set[w]
			}
		}
	}
}

// or64 is or for sets of one word.
func (f *indexField) or64(s []byte) (x uint64) {
	for i := range f.prefixes {
		if as := &f.prefixes[i]; bytes.HasPrefix(s, as.p) {
			x |= as.set[0]
		}
	}
	for i := range f.suffixes {
		if as := &f.suffixes[i]; bytes.HasSuffix(s, as.p) {
			x |= as.set[0]
		}
	}
	return x
}

// eval returns the first rule of s, in order, that matches, or -1.
//
// It ORs the sets of the fields' values into the candidates as it looks the
// fields up, in order of their lowest rule. Before looking up a field whose
// lowest rule is L, the candidates below L are final (no field left can add
// one), so it tries them, in rule order: the first match among them is the
// answer, and the fields left are never looked up.
func (ix *ruleIndex) eval(s *Set, env Env) int {
	if len(ix.always) == 1 {
		return ix.eval64(s, env)
	}
	var xbuf [maxLazyWords]uint64
	if len(ix.always) > len(xbuf) {
		return ix.evalEager(s, env)
	}
	x := xbuf[:len(ix.always)]
	copy(x, ix.always)
	filter := rootFilter(env)
	done := 0 // every candidate below it was tried
	for j, k := range ix.order {
		if low := ix.lows[j]; low > done {
			if i := tryRange(s, env, x, done, low); i >= 0 {
				return i
			}
			done = low
		}
		if absent(filter, &ix.masks[j]) {
			continue
		}
		f := &ix.fields[k]
		p, v, str := f.hit(env)
		for w := range x {
			if p != nil {
				x[w] |= p[w]
			}
			if v != nil {
				x[w] |= v[w]
			}
		}
		if len(str) > 0 {
			f.or(x, str)
		}
	}
	return tryRange(s, env, x, done, len(s.Rules))
}

// maxLazyWords bounds the rules (64 a word) eval handles on the stack;
// larger sets take evalEager.
const maxLazyWords = 64

// tryRange tries the candidates in x from rule from up to (not including)
// rule to, in order, and returns the first that matches, or -1.
func tryRange(s *Set, env Env, x []uint64, from, to int) int {
	to = min(to, len(x)*64)
	for w := from / 64; w*64 < to; w++ {
		c := x[w]
		if lo := from - w*64; lo > 0 {
			c &^= 1<<lo - 1
		}
		if hi := to - w*64; hi < 64 {
			c &= 1<<hi - 1
		}
		for ; c != 0; c &= c - 1 {
			if i := w*64 + bits.TrailingZeros64(c); s.match(i, env) {
				return i
			}
		}
	}
	return -1
}

// evalEager is eval for sets of more than maxLazyWords*64 rules: every
// indexed field looked up first.
func (ix *ruleIndex) evalEager(s *Set, env Env) int {
	// A value's set, the presence set and the matching prefixes' sets per
	// field (past the buffer, append grows it: many prefixes matching).
	var hitBuf [4 * maxIndexFields][]uint64
	hits := hitBuf[:0]
	filter := rootFilter(env)
	for j, k := range ix.order {
		if absent(filter, &ix.masks[j]) {
			continue
		}
		f := &ix.fields[k]
		p, v, str := f.hit(env)
		if p != nil {
			hits = append(hits, p)
		}
		if v != nil {
			hits = append(hits, v)
		}
		for i := 0; len(str) > 0 && i < len(f.prefixes); i++ {
			if as := &f.prefixes[i]; bytes.HasPrefix(str, as.p) {
				hits = append(hits, as.set)
			}
		}
		for i := 0; len(str) > 0 && i < len(f.suffixes); i++ {
			if as := &f.suffixes[i]; bytes.HasSuffix(str, as.p) {
				hits = append(hits, as.set)
			}
		}
	}
	for w, x := range ix.always {
		for _, h := range hits {
			x |= h[w]
		}
		for ; x != 0; x &= x - 1 {
			i := w*64 + bits.TrailingZeros64(x)
			if s.match(i, env) {
				return i
			}
		}
	}
	return -1
}

// eval64 is eval for sets of at most 64 rules: one word.
func (ix *ruleIndex) eval64(s *Set, env Env) int {
	x := ix.always[0]
	var tried uint64
	filter := rootFilter(env)
	for j, k := range ix.order {
		if below := uint64(1)<<ix.lows[j] - 1; below&^tried != 0 {
			for c := x & below &^ tried; c != 0; c &= c - 1 {
				if i := bits.TrailingZeros64(c); s.match(i, env) {
					return i
				}
			}
			tried = below
		}
		if absent(filter, &ix.masks[j]) {
			continue
		}
		f := &ix.fields[k]
		p, v, str := f.hit(env)
		if p != nil {
			x |= p[0]
		}
		if v != nil {
			x |= v[0]
		}
		if len(str) > 0 {
			x |= f.or64(str)
		}
	}
	for c := x &^ tried; c != 0; c &= c - 1 {
		if i := bits.TrailingZeros64(c); s.match(i, env) {
			return i
		}
	}
	return -1
}

// IndexedField returns the field path the set's index shares most and how
// many distinct values it maps, or "" when the set is not indexed.
func (s *Set) IndexedField() (string, int) {
	if s.index == nil || len(s.index.fields) == 0 {
		return "", 0
	}
	f := s.index.fields[0]
	return s.Fields[f.id], len(f.byValue)
}

// chooseGuards returns, per rule, its most selective guard among those whose
// fields are all usable (nil: none, or not an indexable rule).
func chooseGuards(s *Set, ruleGuards [][]guard, usable map[string]bool, rulesOn map[string]int) []guard {
	chosen := make([]guard, len(s.Rules))
	for i, gs := range ruleGuards {
		if !s.Rules[i].indexable() {
			continue
		}
		best, bestPresent, bestShare := -1, 0, 0
		for j, g := range gs {
			share, present, ok := 0, 0, true
			for _, a := range g {
				ok = ok && usable[a.path]
				share += rulesOn[a.path]
				if a.present {
					present++
				}
			}
			better := best < 0 || present < bestPresent ||
				present == bestPresent && (len(g) < len(gs[best]) || len(g) == len(gs[best]) && share > bestShare)
			if ok && better {
				best, bestPresent, bestShare = j, present, share
			}
		}
		if best >= 0 {
			chosen[i] = gs[best]
		}
	}
	return chosen
}

// guardFields counts, per field, the chosen guards that use it.
func guardFields(chosen []guard) map[string]int {
	need := map[string]int{}
	for _, g := range chosen {
		for _, a := range g {
			need[a.path]++
		}
	}
	return need
}
