package siem

import "bytes"

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

func skipWS(d []byte, i int) int {
	for i < len(d) && (d[i] == ' ' || d[i] == '\n' || d[i] == '\t' || d[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index after the string that starts at d[i] == '"',
// or -1 when it is unterminated.
func stringEnd(d []byte, i int) int {
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

// valueEnd returns the index after the value that starts at d[i], or -1.
func valueEnd(d []byte, i int) int {
	if i >= len(d) {
		return -1
	}
	switch d[i] {
	case '"':
		return stringEnd(d, i)
	case '{', '[':
		depth := 0
		for i < len(d) {
			switch d[i] {
			case '"':
				e := stringEnd(d, i)
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
		return -1 // a document never ends inside a scalar member
	}
}

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
