package loadgen

import (
	"strconv"
	"time"
)

const hexDigits = "0123456789abcdef"

// appendQ appends s as a JSON string, escaping what JSON requires.
func appendQ(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendEsc(b, s)
	return append(b, '"')
}

// appendEsc appends s escaped for use inside a JSON string.
func appendEsc(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	return append(b, s[start:]...)
}

// appendHex appends the low n*4 bits of v as n lowercase hex digits.
func appendHex(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(uint(i)*4))&0xf])
	}
	return b
}

// appendUUID appends a version 4 UUID made of hi and lo.
func appendUUID(b []byte, hi, lo uint64) []byte {
	hi = hi&^0xf000 | 0x4000     // version 4
	lo = lo&^(0xc<<60) | 0x8<<60 // variant 10
	b = appendHex(b, hi>>32, 8)  // time_low
	b = append(b, '-')           //
	b = appendHex(b, hi>>16, 4)  // time_mid
	b = append(b, '-')           //
	b = appendHex(b, hi, 4)      // time_hi_and_version
	b = append(b, '-')           //
	b = appendHex(b, lo>>48, 4)  // clock_seq
	b = append(b, '-')           //
	return appendHex(b, lo, 12)  // node
}

// appendPad appends v zero-padded to width digits.
func appendPad(b []byte, v, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for v >= 10 || width > 1 {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		width--
	}
	i--
	buf[i] = byte('0' + v)
	return append(b, buf[i:]...)
}

// appendIPv4 appends a dotted quad.
func appendIPv4(b []byte, a, b2, c, d int) []byte {
	b = strconv.AppendInt(b, int64(a), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(b2), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(c), 10)
	b = append(b, '.')
	return strconv.AppendInt(b, int64(d), 10)
}

// zone styles for appendTS.
const (
	zoneZ       = iota // "Z" (the offset must be 0)
	zoneColon          // "+01:00"
	zoneNoColon        // "+0100"
	zoneNone           // nothing: a local time without offset
)

// wall returns the wall clock at ns shifted by off minutes.
func wall(ns int64, off int) time.Time {
	return time.Unix(0, ns+int64(off)*int64(time.Minute)).UTC()
}

// appendTS appends an RFC 3339 timestamp of ns in the zone off minutes east
// of UTC, with frac fractional digits (0..9) and the zone written as style.
func appendTS(b []byte, ns int64, frac, off, style int) []byte {
	t := wall(ns, off)
	b = appendDate(b, t, '-')
	b = append(b, 'T')
	b = appendClock(b, t)
	if frac > 0 {
		b = append(b, '.')
		b = appendFrac(b, t.Nanosecond(), frac)
	}
	return appendZone(b, off, style)
}

func appendZone(b []byte, off, style int) []byte {
	switch style {
	case zoneZ:
		return append(b, 'Z')
	case zoneNone:
		return b
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	b = append(b, sign)
	b = appendPad(b, off/60, 2)
	if style == zoneColon {
		b = append(b, ':')
	}
	return appendPad(b, off%60, 2)
}

// appendDate appends YYYY<sep>MM<sep>DD.
func appendDate(b []byte, t time.Time, sep byte) []byte {
	y, mo, d := t.Date()
	b = appendPad(b, y, 4)
	b = append(b, sep)
	b = appendPad(b, int(mo), 2)
	b = append(b, sep)
	return appendPad(b, d, 2)
}

// appendClock appends hh:mm:ss.
func appendClock(b []byte, t time.Time) []byte {
	hh, mm, ss := t.Clock()
	b = appendPad(b, hh, 2)
	b = append(b, ':')
	b = appendPad(b, mm, 2)
	b = append(b, ':')
	return appendPad(b, ss, 2)
}

// appendFrac appends the first digits digits of a nanosecond count.
func appendFrac(b []byte, nsec, digits int) []byte {
	for i := digits; i < 9; i++ {
		nsec /= 10
	}
	return appendPad(b, nsec, digits)
}

// appendEpochMillis appends ns as integer epoch milliseconds.
func appendEpochMillis(b []byte, ns int64) []byte {
	return strconv.AppendInt(b, ns/int64(time.Millisecond), 10)
}

// appendEpochSec appends ns as integer epoch seconds.
func appendEpochSec(b []byte, ns int64) []byte {
	return strconv.AppendInt(b, ns/int64(time.Second), 10)
}

// appendEpochFrac appends ns as epoch seconds with digits fractional digits.
func appendEpochFrac(b []byte, ns int64, digits int) []byte {
	b = strconv.AppendInt(b, ns/int64(time.Second), 10)
	b = append(b, '.')
	return appendFrac(b, int(ns%int64(time.Second)), digits)
}

// appendFloat appends v with prec decimals.
func appendFloat(b []byte, v float64, prec int) []byte {
	return strconv.AppendFloat(b, v, 'f', prec, 64)
}

// appendInt appends v in decimal.
func appendInt(b []byte, v int) []byte {
	return strconv.AppendInt(b, int64(v), 10)
}

// base62 is the alphabet of Zeek uids and Okta ids.
const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const base64Std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// appendAlpha appends n characters of alphabet drawn from m.
func (m *Mix) appendAlpha(b []byte, alphabet string, n int) []byte {
	var v uint64
	for i := 0; i < n; i++ {
		if i%8 == 0 {
			v = m.u64()
		}
		b = append(b, alphabet[int((v&0xff)*uint64(len(alphabet))>>8)])
		v >>= 8
	}
	return b
}

// appendCommunityID appends a Community ID flow hash ("1:" and the base64 of
// a SHA-1). It is random rather than computed: nothing here checks it.
func (m *Mix) appendCommunityID(b []byte) []byte {
	b = append(b, "1:"...)
	b = m.appendAlpha(b, base64Std, 26)
	b = append(b, base64Std[m.n(16)*4])
	return append(b, '=')
}
