package harness

import (
	"strconv"

	"github.com/cespare/xxhash/v2"
	"github.com/valyala/fastjson"
)

// Content check. Receivers know an event by its bench fields; to see that
// the rest arrived too, one event in sumEvery (by bench_seq) carries
// "bench_sum": the xxhash, in 16 hex digits, of the longest string value of
// the loadgen event (a message, command line, user agent or URL: what
// normalization renames but keeps verbatim). A receiver parses such an
// event in full and counts it corrupt unless one of its string values has
// that hash: an event emptied, truncated or garbled by the router. It is a
// sample and one value, not a byte-for-byte comparison: it catches an
// event whose content is lost or damaged, not a single field dropped.
const sumEvery = 64

var keySum = []byte(`"bench_sum":"`)

// longestString returns the longest string value in v, at any depth, that
// is not a time (which normalization rewrites as @timestamp).
func longestString(v *fastjson.Value) []byte {
	var best []byte
	eachString(v, "", func(s []byte) bool {
		if len(s) > len(best) && !timeLike(s) {
			best = s
		}
		return true
	})
	return best
}

// eachString calls f with every string value in v, at any depth, but for
// the values of members named skip, until f returns false.
func eachString(v *fastjson.Value, skip string, f func([]byte) bool) bool {
	switch v.Type() {
	case fastjson.TypeString:
		return f(v.GetStringBytes())
	case fastjson.TypeObject:
		o, _ := v.Object()
		more := true
		o.Visit(func(k []byte, x *fastjson.Value) {
			if more && (skip == "" || string(k) != skip) {
				more = eachString(x, skip, f)
			}
		})
		return more
	case fastjson.TypeArray:
		a, _ := v.Array()
		for _, x := range a {
			if !eachString(x, skip, f) {
				return false
			}
		}
	}
	return true
}

// appendSum appends `,"bench_sum":"<hex>"` for the loadgen event raw
// (parsed with p), or nothing when it has no string value.
func appendSum(dst []byte, p *fastjson.Parser, raw []byte) []byte {
	v, err := p.ParseBytes(raw)
	if err != nil {
		return dst
	}
	s := longestString(v)
	if len(s) == 0 {
		return dst
	}
	dst = append(dst, ',')
	dst = append(dst, keySum...)
	h := xxhash.Sum64(s)
	for i := 60; i >= 0; i -= 4 {
		dst = append(dst, "0123456789abcdef"[h>>uint(i)&0xF])
	}
	return append(dst, '"')
}

// sumHolds reports whether received event v, which carries bench_sum,
// still has a string value of that hash (false too for a malformed sum).
func sumHolds(v *fastjson.Value) bool {
	want, err := strconv.ParseUint(string(v.GetStringBytes("bench_sum")), 16, 64)
	if err != nil {
		return false
	}
	return !eachString(v, "bench_sum", func(s []byte) bool { return xxhash.Sum64(s) != want })
}

// timeLike reports whether s reads as a time: a date first (2026-11-28,
// 2026/11/28) or a number (epoch seconds in a string, not an address).
func timeLike(s []byte) bool {
	digits := 0
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	if digits == 4 && len(s) > 4 && (s[4] == '-' || s[4] == '/') {
		return true
	}
	dots := 0
	for _, c := range s[digits:] {
		switch {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return false
		}
	}
	return digits > 0 && dots <= 1
}
