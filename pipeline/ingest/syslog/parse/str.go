package parse

import (
	"encoding/binary"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// appendStr appends s as a JSON string exactly as normalize.AppendString
// does. Strings of plain printable ASCII (no control character, '"', '\\'
// or byte >= 0x80), found with a word-at-a-time scan, are copied at once;
// anything else goes through normalize.AppendString.
func appendStr(dst, s []byte) []byte {
	if !plainASCII(s) {
		return normalize.AppendString(dst, s)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// plainASCII reports whether every byte of s is in 0x20..0x7f and neither
// '"' nor '\\'.
func plainASCII(s []byte) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for len(s) >= 8 {
		x := binary.LittleEndian.Uint64(s)
		q := x ^ (lo * '"')
		b := x ^ (lo * '\\')
		// Per byte: < 0x20, == '"', == '\\' (the classic has-zero / has-less
		// tests; no false positive unless a true one exists), or >= 0x80.
		if ((x-lo*0x20)&^x|(q-lo)&^q|(b-lo)&^b|x)&hi != 0 {
			return false
		}
		s = s[8:]
	}
	for _, c := range s {
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
