package jsonscan

import (
	"bytes"
	"fmt"
)

// ErrTooDeep is the inputs' refusal of a record nested deeper than MaxDepth
// (quarantined with reason "too_deep").
var ErrTooDeep = fmt.Errorf("JSON nested deeper than %d levels", MaxDepth)

// MaxDepth is the deepest nesting of objects and arrays the inputs accept in
// a record. fastjson refuses past 300, but building its error costs O(depth²)
// (4 MB and milliseconds for one 300-byte record), which a sender could
// repeat cheaply; real log events nest a few levels.
const MaxDepth = 128

// TooDeep reports whether the JSON text b nests objects and arrays deeper
// than max. It is meant to run before a parser on untrusted input: most
// records have fewer than max brackets in all, which two vectorized counts
// show; only the others are scanned, strings skipped. It does not validate.
func TooDeep(b []byte, max int) bool {
	if bytes.Count(b, open1)+bytes.Count(b, open2) <= max {
		return false
	}
	depth := 0
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '{', '[':
			if depth++; depth > max {
				return true
			}
		case '}', ']':
			depth--
		case '"':
			e := StringEnd(b, i)
			if e < 0 {
				return false // unterminated: the parser says so
			}
			i = e - 1
		}
	}
	return false
}

var open1, open2 = []byte{'{'}, []byte{'['}
