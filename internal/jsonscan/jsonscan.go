// Package jsonscan skips over JSON values without parsing them: a byte
// scanner that tracks only strings and nesting, for code that edits or
// reads one member of a document it knows to be valid (the normalizer's
// output). It does not validate and does not allocate.
package jsonscan

import "bytes"

// SkipWS returns the index of the first non-whitespace byte at or after i.
func SkipWS(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\n' || d[i] == '\t' || d[i] == '\r') {
		i++
	}
	return i
}

// StringEnd returns the index after the string that starts at d[i] == '"',
// or -1 when it is unterminated.
func StringEnd(d []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(d[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		// the quote is escaped when an odd number of backslashes precede it
		n := 0
		for p := q - 1; p > i && d[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q + 1
		}
		j = q + 1
	}
}

// ValueEnd returns the index after the value that starts at d[i], or -1.
// A scalar must be followed by a delimiter (',', '}', ']' or whitespace):
// a document never ends inside a member.
func ValueEnd(d []byte, i int) int {
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"':
		return StringEnd(d, i)
	case '{', '[':
		depth := 0
		for i < len(d) {
			switch d[i] {
			case '"':
				e := StringEnd(d, i)
				if e < 0 {
					return -1
				}
				i = e
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	default: // number, true, false, null
		j := i
		for j < len(d) {
			switch d[j] {
			case ',', '}', ']', ' ', '\n', '\t', '\r':
				if j == i {
					return -1
				}
				return j
			}
			j++
		}
		return -1
	}
}
