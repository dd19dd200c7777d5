package jsonscan

import "strconv"

// Path is a dotted field path (dedup.count) as JSON-encoded member names:
// `"dedup"`, `"count"`.
type Path [][]byte

// NewPath returns the Path of segs, which must be printable ASCII without
// quotes or backslashes (they are written as they are).
func NewPath(segs ...string) Path {
	p := make(Path, len(segs))
	for i, s := range segs {
		p[i] = strconv.AppendQuote(nil, s)
	}
	return p
}

// AppendWith appends event (one JSON object) with the number n at path p: inside
// the objects of p's leading members the event already has, as new members
// for the rest, at the end of the innermost existing object. When the
// field is already there (a batch emitted again after a refusal: the first
// attempt added it) it is set to n if it holds a smaller number, else left
// as it is; the event is appended unchanged when a member on the path is
// not an object.
func (p Path) AppendWith(dst, event []byte, n uint64) []byte {
	at, have, end, ok := p.insertPoint(event)
	if !ok {
		return append(dst, event...)
	}
	if end > 0 {
		// The field exists: event[at:end] is its value.
		if old, err := strconv.ParseUint(string(event[at:end]), 10, 64); err != nil || old >= n {
			return append(dst, event...)
		}
		dst = append(dst, event[:at]...)
		dst = strconv.AppendUint(dst, n, 10)
		return append(dst, event[end:]...)
	}
	dst = append(dst, event[:at]...)
	if prev := lastNonSpace(event[:at]); prev != '{' {
		dst = append(dst, ',')
	}
	for i := have; i < len(p); i++ {
		if i > have {
			dst = append(dst, '{')
		}
		dst = append(dst, p[i]...)
		dst = append(dst, ':')
	}
	dst = strconv.AppendUint(dst, n, 10)
	for i := have; i < len(p)-1; i++ {
		dst = append(dst, '}')
	}
	return append(dst, event[at:]...)
}

// insertPoint finds where the count goes: the offset of the closing brace
// of the innermost object on the path that event has, and how many of p's
// members exist (so many objects deep); or, the whole path existing, its
// value's bounds event[at:end] (end > 0). ok is false when a member on the
// path is not an object (or event is no object).
func (p Path) insertPoint(event []byte) (at, have, end int, ok bool) {
	i := SkipWS(event, 0)
	if i >= len(event) || event[i] != '{' {
		return 0, 0, 0, false
	}
	for have = 0; ; {
		// event[i] is the '{' of the object at depth have.
		found := -1
		i = SkipWS(event, i+1)
		for i < len(event) && event[i] != '}' {
			k := i
			if event[i] != '"' {
				return 0, 0, 0, false
			}
			if i = StringEnd(event, i); i < 0 {
				return 0, 0, 0, false
			}
			key := event[k:i]
			if i = SkipWS(event, i); i >= len(event) || event[i] != ':' {
				return 0, 0, 0, false
			}
			v := SkipWS(event, i+1)
			if string(key) == string(p[have]) {
				found = v
			}
			if i = ValueEnd(event, v); i < 0 {
				return 0, 0, 0, false
			}
			if i = SkipWS(event, i); i < len(event) && event[i] == ',' {
				i = SkipWS(event, i+1)
			}
			if found >= 0 {
				break
			}
		}
		if found < 0 {
			if i >= len(event) {
				return 0, 0, 0, false
			}
			return i, have, 0, true // before this object's '}'
		}
		if have == len(p)-1 {
			e := ValueEnd(event, found)
			if e < 0 {
				return 0, 0, 0, false
			}
			return found, have, e, true // already there
		}
		if event[found] != '{' {
			return 0, 0, 0, false // a scalar in the way
		}
		i, have = found, have+1
	}
}

func lastNonSpace(b []byte) byte {
	for i := len(b) - 1; i >= 0; i-- {
		if c := b[i]; c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
	}
	return 0
}
