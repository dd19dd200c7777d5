package rules

import (
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// CompileMatcher compiles one expression (same language and lowering as a
// rule's expr) into a normalize.Matcher, for normalization profiles'
// detect.expr. It plugs into normalize.Config.CompileMatcher.
func CompileMatcher(src string) (normalize.Matcher, error) {
	ft := &fieldTable{ids: map[string]int{}}
	r, err := compileRule(src, ft)
	if err != nil {
		return nil, err
	}
	m := &matcher{rule: r, set: &Set{Fields: ft.paths}}
	for _, p := range ft.paths {
		m.paths = append(m.paths, normalize.CompilePath(p))
	}
	return m, nil
}

// matcher is immutable after CompileMatcher; per-event state lives in a
// matchEnv kept by each Normalizer (Normalizer.Scratch), so Match allocates
// nothing in steady state (a rule that falls back to expr's VM still builds
// its environment map).
type matcher struct {
	rule  Rule
	set   *Set // Fields, for the VM fallback
	paths []normalize.Path
}

type matchEnv struct {
	m    *matcher
	n    *normalize.Normalizer
	vals []normalize.Value
	seen []bool
}

func (e *matchEnv) Field(id int) *normalize.Value {
	if !e.seen[id] {
		e.seen[id] = true
		e.n.LookupInto(&e.m.paths[id], &e.vals[id])
	}
	return &e.vals[id]
}

// Match reports whether the event n has just built satisfies the expression.
func (m *matcher) Match(n *normalize.Normalizer) bool {
	e := n.Scratch(m, func() any {
		return &matchEnv{m: m, vals: make([]normalize.Value, len(m.paths)), seen: make([]bool, len(m.paths))}
	}).(*matchEnv)
	e.n = n
	clear(e.seen)
	var ok bool
	if m.rule.native != nil {
		ok = m.rule.native(e)
	} else {
		ok, _ = m.rule.runVM(m.set, e)
	}
	e.n = nil
	return ok
}
