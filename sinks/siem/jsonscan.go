package siem

import (
	"bytes"

	"github.com/logrouter/logrouter/internal/jsonscan"
)

// lookupRaw returns the bytes of the JSON value at path (nested object
// keys) in doc, a JSON object, without parsing the rest: values before the
// key are skipped by a byte scanner that only tracks strings and nesting.
// A string value is returned with its quotes and escapes, exactly as in doc.
// It returns nil when the path is absent or doc is malformed on the way.
// Keys are compared byte for byte, so a key written with escapes never
// matches (normalized documents write plain keys). It does not allocate.
func lookupRaw(doc []byte, path ...string) []byte {
	i := skipWS(doc, 0)
	for depth, key := range path {
		if i >= len(doc) || doc[i] != '{' {
			return nil
		}
		i++
		for {
			i = skipWS(doc, i)
			if i >= len(doc) || doc[i] != '"' {
				return nil // '}' (not found), or malformed
			}
			ke := stringEnd(doc, i)
			if ke < 0 {
				return nil
			}
			k := doc[i+1 : ke-1]
			i = skipWS(doc, ke)
			if i >= len(doc) || doc[i] != ':' {
				return nil
			}
			i = skipWS(doc, i+1)
			if string(k) == key { // a key written with escapes never equals the plain key's bytes
				if depth == len(path)-1 {
					end := valueEnd(doc, i)
					if end < 0 {
						return nil
					}
					return doc[i:end]
				}
				break // descend into the value at i
			}
			if i = valueEnd(doc, i); i < 0 {
				return nil
			}
			i = skipWS(doc, i)
			if i >= len(doc) || doc[i] != ',' {
				return nil
			}
			i++
		}
	}
	return nil
}

var (
	skipWS    = jsonscan.SkipWS
	stringEnd = jsonscan.StringEnd
	valueEnd  = jsonscan.ValueEnd
)

// plainString returns the contents of the JSON string literal lit when it
// holds no escapes (the common case), else ok is false.
func plainString(lit []byte) (s []byte, ok bool) {
	if len(lit) < 2 || lit[0] != '"' || lit[len(lit)-1] != '"' {
		return nil, false
	}
	s = lit[1 : len(lit)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	return s, true
}
