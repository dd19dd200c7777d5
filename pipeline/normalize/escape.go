package normalize

import (
	"encoding/binary"
	"unicode/utf8"
)

// safeASCII[c] is true for ASCII bytes that appear unescaped inside a JSON
// string. Bytes >= 0x80 are checked for valid UTF-8 separately.
var safeASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = true
	}
	t['"'] = false
	t['\\'] = false
	return t
}()

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain8 reports whether all eight bytes packed in x appear unescaped in a
// JSON string: ASCII (high bit clear), at least 0x20, neither '"' nor '\\'.
// The classic SWAR tests: for a byte b with the high bit clear, b-k borrows
// into the high bit exactly when b < k, so (x - ones*0x20) flags control
// characters and ((x ^ ones*c) - ones) flags bytes equal to c. A borrow only
// leaves a flagged byte, so "any flag set" is exact; bytes with the high bit
// set are flagged by x itself.
func plain8(x uint64) bool {
	t := (x - ones*0x20) | ((x ^ ones*'"') - ones) | ((x ^ ones*'\\') - ones)
	return (t|x)&highs == 0
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a quoted JSON string. Control characters are
// escaped, invalid UTF-8 bytes become U+FFFD (as encoding/json does; written
// as its UTF-8 bytes, as a real U+FFFD is, so that the written text, which
// the content hash is taken over, has one spelling of it), so the
// output is always valid JSON and valid UTF-8 whatever the input was. It does
// not allocate when dst has room.
func AppendString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Fast path: eight plain bytes at once (most log text is ASCII
		// without quotes, backslashes or control characters).
		if i+8 <= len(s) && plain8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if safeASCII[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, "\xef\xbf\xbd"...) // U+FFFD as its bytes, as a real one is written (one spelling, one hash)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript consumers.
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// validNumber reports whether b is a number in strict JSON grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// fastjson accepts looser forms ("1.2.3", "+1", "NaN", "inf") that would make
// the output invalid JSON; those are written as strings instead.
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return false
	}
	if b[i] == '0' {
		i++
	} else if b[i] >= '1' && b[i] <= '9' {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	} else {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(b)
}

// plainKey reports whether every byte of k appears unescaped in a JSON
// string (printable ASCII other than '"' and '\\'): such a key is written
// between quotes as it is, without AppendString's scan (most keys are
// plain; a key is written once per event it is in).
func plainKey(k []byte) bool {
	i := 0
	for ; i+8 <= len(k); i += 8 {
		if !plain8(binary.LittleEndian.Uint64(k[i:])) {
			return false
		}
	}
	for ; i < len(k); i++ {
		if !safeASCII[k[i]] {
			return false
		}
	}
	return true
}

// appendKey appends key k as a quoted JSON string: as it is when plain
// (see plainKey), else through AppendString.
func appendKey(dst, k []byte, plain bool) []byte {
	if !plain {
		return AppendString(dst, k)
	}
	dst = append(dst, '"')
	dst = append(dst, k...)
	return append(dst, '"')
}

// plainKeyDot is plainKey that also reports whether k holds a '.', in the
// same pass (walk needs both for every member; see searchableKey).
func plainKeyDot(k []byte) (plain, dot bool) {
	plain = true
	i := 0
	for ; i+8 <= len(k); i += 8 {
		x := binary.LittleEndian.Uint64(k[i:])
		if !plain8(x) {
			plain = false
		}
		if d := x ^ ones*'.'; (d-ones)&^d&highs != 0 {
			dot = true
		}
	}
	for ; i < len(k); i++ {
		if !safeASCII[k[i]] {
			plain = false
		}
		if k[i] == '.' {
			dot = true
		}
	}
	return plain, dot
}
