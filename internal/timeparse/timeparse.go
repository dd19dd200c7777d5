// Package timeparse parses and formats log timestamps without allocating.
//
// It is used on the hot path of the log normalizer: every successful Parse,
// ParseEpoch, FromEpoch and every AppendRFC3339 (into a buffer with enough
// capacity) performs zero heap allocations. Parsing is hand-written byte
// scanning; time.Parse, regexp and reflection are never used.
//
// Supported Parse layouts (leading/trailing spaces, tabs, CR and LF are
// ignored, and one pair of surrounding square brackets is stripped):
//
//  1. RFC 3339 / ISO 8601: 2006-01-02T15:04:05Z; 'T', 't' or ' ' between
//     date and time; optional fraction after '.' or ',' (1-9 digits, further
//     digits are truncated); zone Z, z, ±hh:mm, ±hhmm, ±hh, or after a space
//     any zone accepted by layout 4 (" UTC", " -0700", ...); no zone means
//     UTC. Date only (2006-01-02) is midnight UTC.
//  2. Numeric epoch: see ParseEpoch.
//  3. Common/combined log format: 02/Jan/2006:15:04:05 -0700, optionally
//     as [02/Jan/2006:15:04:05 -0700]. The zone is required.
//  4. RFC 1123 / 1123Z / 822: Mon, 02 Jan 2006 15:04:05 MST or -0700. The
//     weekday is optional, the day may have one digit, the zone may be
//     omitted (UTC). Zone abbreviations (fixed offsets, see zoneOffsets):
//     UTC, GMT, UT, Z, the US zones (EST, EDT, CST, CDT, MST, MDT, PST, PDT,
//     AKST, AKDT, HST), Europe's (WET, WEST, CET, CEST, MET, MEST, EET,
//     EEST, BST, MSK) and Asia-Pacific's (JST, KST, HKT, SGT, AWST, ACST,
//     ACDT, AEST, AEDT, NZST, NZDT); any other abbreviation fails. CST,
//     CDT, PST and BST, which the tz database also uses elsewhere (China,
//     Taiwan, Cuba, the Philippines, Bangladesh), take that meaning in
//     ParseIn when its default zone has exactly that offset (see
//     altZones): set the syslog input's timezone, or the source's
//     event.timezone, to the site's zone.
//  5. ANSIC / UnixDate / RubyDate: Mon Jan _2 15:04:05 [MST|-0700] 2006.
//  6. RFC 3164 syslog: Jan _2 15:04:05 or Jan 02 15:04:05, optional
//     fraction, optional zone, optional trailing year (Jan 2 15:04:05 2006)
//     or a year before the clock (Cisco: Jan  2 2006 15:04:05). Without a
//     year, the latest year that is not more than a month ahead is chosen
//     (see Parse).
//  7. 2006/01/02 15:04:05[.000] and Python logging 2006-01-02 15:04:05,000
//     (the same rules as layout 1 apply after the date).
//
// Month, weekday and zone names are case-insensitive; weekday names are
// accepted but not checked against the date. Seconds may be 60 (leap
// second), which normalizes to the next minute.
package timeparse

import (
	"math"
	"strconv"
	"time"
	"unsafe"
)

const (
	minEpochNs int64 = 31536000 * 1e9     // 1971-01-01T00:00:00Z
	maxEpochNs int64 = 7289654400*1e9 - 1 // 2200-12-31T23:59:59.999999999Z
	maxSecs    int64 = 9223372036         // math.MaxInt64 / 1e9
	minSecs    int64 = -9223372036        // (math.MinInt64 + 999999999) / 1e9
	nsPerSec   int64 = 1e9
	secsPerDay int64 = 86400
)

// Parse parses b as a timestamp and returns unix nanoseconds UTC. now is used
// only to infer the year for layouts that have none (RFC 3164 syslog
// "Jan _2 15:04:05"): of the years before, of and after now's UTC year, the
// latest that puts the result no more than a month after now is chosen,
// so a message stamped Dec 31 23:59 received at Jan 1 00:01 gets the
// previous year, and "May 14" received on Nov 30 this year's. ok is false
// when b matches no supported layout (see the package documentation), a
// field is out of range (month 1-12, day valid for the month and year,
// hour < 24, minute < 60, second <= 60), anything but spaces follows the
// timestamp, or the result does not fit in an int64 (years 1677..2262).
// An input of digits with an optional '.' fraction is a numeric epoch and
// follows ParseEpoch (unit heuristics, years 1971..2200). Parse does not
// allocate.
func Parse(b []byte, now time.Time) (ns int64, ok bool) {
	return ParseIn(b, now, 0)
}

// ParseIn is Parse for a time whose layout may lack a zone: one without
// is read at offset def, in seconds east of UTC (a device's wall clock in
// the zone its shipper reports, Filebeat's event.timezone), where Parse
// reads UTC. A time with a zone, and an epoch, are the same as for Parse.
// It does not allocate.
func ParseIn(b []byte, now time.Time, def int64) (ns int64, ok bool) {
	b = trim(b)
	if len(b) >= 2 && b[0] == '[' && b[len(b)-1] == ']' {
		b = trim(b[1 : len(b)-1])
	}
	if len(b) == 0 {
		return 0, false
	}
	if !isDigit(b[0]) {
		return parseNamed(b, now, def)
	}
	switch {
	case len(b) >= 10 && (b[4] == '-' || b[4] == '/'):
		return parseISO(b, def)
	case len(b) >= 3 && b[2] == '/':
		return parseCLF(b)
	case len(b) >= 3 && (b[1] == ' ' || b[2] == ' '):
		return parseDayFirst(b, def)
	}
	return ParseEpoch(b)
}

// ParseNumber reads a JSON number's text (or a string holding one) as an
// epoch time: exactly as ParseEpoch does when it can (digits and a
// fraction), else through the correctly rounded float of the text (an
// exponent form, as Java's Double.toString writes epoch seconds:
// 1.717789607696E9) and FromEpoch. It does not allocate.
func ParseNumber(b []byte) (ns int64, ok bool) {
	if ns, ok := ParseEpoch(b); ok {
		return ns, true
	}
	if len(b) == 0 || len(b) > 64 {
		return 0, false
	}
	// A view, not a copy: ParseFloat's error, the only thing that could
	// keep it, is dropped here.
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil {
		return 0, false
	}
	return FromEpoch(v)
}

// FromEpoch converts a numeric epoch value of unknown unit to unix
// nanoseconds: |v| < 1e11 is seconds (fraction allowed), < 1e14
// milliseconds, < 1e17 microseconds, otherwise nanoseconds. ok is false for
// 0, negatives, NaN/Inf, and results outside years 1971..2200.
//
// Integral values are converted exactly. A fractional value is converted as
// its shortest decimal representation (strconv 'f', -1), so 1700000000.123
// yields exactly 1700000000123000000 rather than the binary float's
// 1700000000122999906; digits below a nanosecond are truncated. FromEpoch
// does not allocate.
func FromEpoch(v float64) (ns int64, ok bool) {
	if !(v > 0) || v >= 1e19 { // also rejects NaN and ±Inf
		return 0, false
	}
	if v == math.Trunc(v) {
		return epochNanos(uint64(v), 0)
	}
	var buf [32]byte
	return ParseEpoch(strconv.AppendFloat(buf[:0], v, 'f', -1, 64))
}

// ParseEpoch parses a decimal number in b (digits with an optional fraction,
// e.g. "1700000000", "1700000000.123", "1700000000123") with the same unit
// heuristics and range as FromEpoch, without float rounding: the integer
// part and the fraction are handled with integer arithmetic, and fraction
// digits below a nanosecond are truncated. Signs, exponents, spaces and an
// empty integer part or fraction make ok false. ParseEpoch does not
// allocate.
func ParseEpoch(b []byte) (ns int64, ok bool) {
	var v uint64
	i, nd := 0, 0
	for ; i < len(b) && isDigit(b[i]); i++ {
		if v == 0 && b[i] == '0' {
			continue // leading zero
		}
		if nd == 19 {
			return 0, false // >= 1e19, beyond any valid value
		}
		v = v*10 + uint64(b[i]-'0')
		nd++
	}
	if i == 0 {
		return 0, false
	}
	var frac int64
	if i < len(b) {
		if b[i] != '.' {
			return 0, false
		}
		var n int
		frac, n = parseFrac(b, i+1)
		if n == i+1 || n != len(b) {
			return 0, false
		}
	}
	return epochNanos(v, frac)
}

// epochNanos applies the unit heuristics to integer part v and fraction
// frac (in units of 1e-9 of v's unit).
func epochNanos(v uint64, frac int64) (int64, bool) {
	var ns int64
	switch {
	case v < 1e11:
		if v > uint64(maxEpochNs/1e9) {
			return 0, false
		}
		ns = int64(v)*1e9 + frac
	case v < 1e14:
		if v > uint64(maxEpochNs/1e6) {
			return 0, false
		}
		ns = int64(v)*1e6 + frac/1e3
	case v < 1e17:
		if v > uint64(maxEpochNs/1e3) {
			return 0, false
		}
		ns = int64(v)*1e3 + frac/1e6
	default:
		if v > uint64(maxEpochNs) {
			return 0, false
		}
		ns = int64(v)
	}
	if ns < minEpochNs || ns > maxEpochNs {
		return 0, false
	}
	return ns, true
}

// AppendRFC3339 appends ns as RFC 3339 in UTC with a 'Z': milliseconds
// ("2006-01-02T15:04:05.000Z") when ns is a whole millisecond, microseconds
// (6 digits) when a whole microsecond, else 9 digits. Always fixed width for
// a given precision (24, 27 or 30 bytes). Every int64 is representable
// (years 1677..2262) and Parse reads the output back to the same ns.
// AppendRFC3339 does not allocate when dst has 30 bytes of spare capacity.
func AppendRFC3339(dst []byte, ns int64) []byte {
	secs, frac := ns/nsPerSec, ns%nsPerSec
	if frac < 0 {
		frac += nsPerSec
		secs--
	}
	days, sod := secs/secsPerDay, secs%secsPerDay
	if sod < 0 {
		sod += secsPerDay
		days--
	}
	y, mo, d := civilFromDays(days)
	var buf [30]byte
	put4(buf[0:], y)
	buf[4] = '-'
	put2(buf[5:], mo)
	buf[7] = '-'
	put2(buf[8:], d)
	buf[10] = 'T'
	put2(buf[11:], sod/3600)
	buf[13] = ':'
	put2(buf[14:], sod/60%60)
	buf[16] = ':'
	put2(buf[17:], sod%60)
	buf[19] = '.'
	digits := 9
	switch {
	case frac%1e6 == 0:
		digits, frac = 3, frac/1e6
	case frac%1e3 == 0:
		digits, frac = 6, frac/1e3
	}
	for i := 19 + digits; i > 19; i-- {
		buf[i] = byte('0' + frac%10)
		frac /= 10
	}
	buf[20+digits] = 'Z'
	return append(dst, buf[:21+digits]...)
}

func put2(b []byte, v int64) {
	b[0] = byte('0' + v/10)
	b[1] = byte('0' + v%10)
}

func put4(b []byte, v int64) {
	put2(b, v/100)
	put2(b[2:], v%100)
}

// parseISO parses layouts 1 and 7: yyyy-mm-dd or yyyy/mm/dd, then optional
// time, fraction and zone (def when none: see ParseIn).
func parseISO(b []byte, def int64) (int64, bool) {
	sep := b[4]
	year, ok1 := num(b, 0, 4)
	month, ok2 := num(b, 5, 2)
	day, ok3 := num(b, 8, 2)
	if !ok1 || !ok2 || !ok3 || b[7] != sep {
		return 0, false
	}
	if len(b) == 10 {
		return build(year, month, day, 0, 0, 0, 0, def)
	}
	if c := b[10]; c != 'T' && c != 't' && c != ' ' {
		return 0, false
	}
	h, m, s, frac, i, ok := parseClock(b, 11)
	if !ok {
		return 0, false
	}
	off := def
	if rest := b[i:]; len(rest) > 0 {
		off = 0
		switch rest[0] {
		case 'Z', 'z':
			ok = len(rest) == 1
		case '+', '-':
			off, ok = parseOffset(rest)
		case ' ':
			off, ok = parseZoneIn(trim(rest), def)
		default:
			ok = false
		}
		if !ok {
			return 0, false
		}
	}
	return build(year, month, day, h, m, s, frac, off)
}

// parseCLF parses layout 3: 02/Jan/2006:15:04:05 -0700.
func parseCLF(b []byte) (int64, bool) {
	if len(b) < 20 || b[6] != '/' || b[11] != ':' {
		return 0, false
	}
	day, ok1 := num(b, 0, 2)
	month, ok2 := monthNum(b[3:6])
	year, ok3 := num(b, 7, 4)
	h, m, s, frac, i, ok4 := parseClock(b, 12)
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return 0, false
	}
	zone, rest, ok := field(b[i:])
	if !ok || len(zone) == 0 || len(rest) != 0 {
		return 0, false
	}
	off, ok := parseZone(zone)
	if !ok {
		return 0, false
	}
	return build(year, month, day, h, m, s, frac, off)
}

// parseNamed parses layouts that start with a weekday or month name.
func parseNamed(b []byte, now time.Time, def int64) (int64, bool) {
	if len(b) < 4 {
		return 0, false
	}
	if !isWeekday(b[:3]) {
		return parseMonthFirst(b, now, def)
	}
	i := 3
	if b[i] == ',' {
		i++
	}
	j := skipSpaces(b, i)
	if j == i || j == len(b) {
		return 0, false
	}
	if isDigit(b[j]) {
		return parseDayFirst(b[j:], def)
	}
	return parseMonthFirst(b[j:], now, def)
}

// parseDayFirst parses layout 4 after the weekday: 02 Jan 2006 15:04:05 MST.
func parseDayFirst(b []byte, def int64) (int64, bool) {
	day, i, ok := num12(b, 0)
	if !ok {
		return 0, false
	}
	f, rest, ok := field(b[i:])
	if !ok || len(f) != 3 {
		return 0, false
	}
	month, ok := monthNum(f)
	if !ok {
		return 0, false
	}
	f, rest, ok = field(rest)
	if !ok || len(f) != 4 {
		return 0, false
	}
	year, ok := num(f, 0, 4)
	if !ok {
		return 0, false
	}
	j := skipSpaces(rest, 0)
	if j == 0 {
		return 0, false
	}
	h, m, s, frac, k, ok := parseClock(rest, j)
	if !ok {
		return 0, false
	}
	zone, rest, ok := field(rest[k:])
	if !ok || len(rest) != 0 {
		return 0, false
	}
	off := def
	if len(zone) > 0 {
		if off, ok = parseZoneIn(zone, def); !ok {
			return 0, false
		}
	}
	return build(year, month, day, h, m, s, frac, off)
}

// parseMonthFirst parses layouts 5 and 6 after the weekday:
// Jan _2 [2006] 15:04:05[.frac] [zone] [2006].
func parseMonthFirst(b []byte, now time.Time, def int64) (int64, bool) {
	if len(b) < 4 {
		return 0, false
	}
	month, ok := monthNum(b[:3])
	if !ok {
		return 0, false
	}
	i := skipSpaces(b, 3)
	if i == 3 {
		return 0, false
	}
	day, i, ok := num12(b, i)
	if !ok {
		return 0, false
	}
	j := skipSpaces(b, i)
	if j == i {
		return 0, false
	}
	year := int64(-1)
	if j+4 < len(b) && b[j+4] == ' ' {
		if year, ok = num(b, j, 4); !ok {
			return 0, false
		}
		j = skipSpaces(b, j+4)
	}
	h, m, s, frac, k, ok := parseClock(b, j)
	if !ok {
		return 0, false
	}
	f, rest, ok := field(b[k:])
	if !ok {
		return 0, false
	}
	off := def
	if len(f) > 0 && !(len(f) == 4 && isDigit(f[0])) {
		if off, ok = parseZoneIn(f, def); !ok {
			return 0, false
		}
		if f, rest, ok = field(rest); !ok {
			return 0, false
		}
	}
	if len(f) > 0 {
		if year >= 0 || len(f) != 4 || len(rest) != 0 {
			return 0, false
		}
		if year, ok = num(f, 0, 4); !ok {
			return 0, false
		}
	}
	if year >= 0 {
		return build(year, month, day, h, m, s, frac, off)
	}
	// No year: the latest candidate that is not more than a month ahead
	// of now. Logs come from the past (a backfill, a replay, a device's
	// buffer) far more than from the future: "May 14" read on Nov 30 is
	// this year's, not next year's, although next May is nearer; a sender
	// whose clock runs a little ahead over New Year still gets the new
	// year. (syslog-ng and rsyslog infer the year the same way.)
	nowSecs := now.Unix()
	ny := int64(now.UTC().Year())
	best, found := int64(0), false
	for y := ny - 1; y <= ny+1; y++ {
		if !valid(y, month, day, h, m, s) {
			continue
		}
		secs := clockSecs(y, month, day, h, m, s, off)
		if secs <= nowSecs+yearAhead && (!found || secs > best) {
			best, found = secs, true
		}
	}
	if !found {
		return 0, false
	}
	return toNanos(best, frac)
}

// yearAhead is how far in the future a timestamp without a year may lie
// (see Parse): a month.
const yearAhead = 31 * 24 * 3600

// parseClock parses hh:mm:ss with an optional fraction ('.' or ',' and 1+
// digits) at b[i:], returning the index after it.
func parseClock(b []byte, i int) (h, m, s, frac int64, next int, ok bool) {
	if i+8 > len(b) || b[i+2] != ':' || b[i+5] != ':' {
		return 0, 0, 0, 0, 0, false
	}
	h, ok1 := num(b, i, 2)
	m, ok2 := num(b, i+3, 2)
	s, ok3 := num(b, i+6, 2)
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, 0, 0, 0, false
	}
	next = i + 8
	if next < len(b) && (b[next] == '.' || b[next] == ',') {
		var n int
		frac, n = parseFrac(b, next+1)
		if n == next+1 {
			return 0, 0, 0, 0, 0, false
		}
		next = n
	}
	return h, m, s, frac, next, true
}

// parseFrac reads the digits at b[i:] as a fraction in nanoseconds (digits
// beyond 9 are truncated) and returns the index after the last digit.
func parseFrac(b []byte, i int) (int64, int) {
	var frac int64
	n := 0
	for ; i < len(b) && isDigit(b[i]); i++ {
		if n < 9 {
			frac = frac*10 + int64(b[i]-'0')
			n++
		}
	}
	for ; n < 9; n++ {
		frac *= 10
	}
	return frac, i
}

// parseOffset parses ±hh, ±hhmm or ±hh:mm (the whole of z) into seconds
// east of UTC.
func parseOffset(z []byte) (int64, bool) {
	var h, m int64
	ok1, ok2 := true, true
	switch len(z) {
	case 3:
		h, ok1 = num(z, 1, 2)
	case 5:
		h, ok1 = num(z, 1, 2)
		m, ok2 = num(z, 3, 2)
	case 6:
		h, ok1 = num(z, 1, 2)
		m, ok2 = num(z, 4, 2)
		ok2 = ok2 && z[3] == ':'
	default:
		return 0, false
	}
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	switch z[0] {
	case '+':
		return off, true
	case '-':
		return -off, true
	}
	return 0, false
}

// ParseZone parses a zone as a shipper reports it (Filebeat's
// event.timezone: "+05:30", "-0500", "Z", "UTC", "EST"...): a numeric
// offset or a zone abbreviation Parse knows, into seconds east of UTC.
// Zone names (Europe/Berlin) are not supported. It does not allocate.
func ParseZone(z []byte) (int64, bool) {
	z = trim(z)
	if len(z) == 1 && (z[0] == 'Z' || z[0] == 'z') {
		return 0, true
	}
	return parseZone(z)
}

// parseZone parses a numeric offset or a supported zone abbreviation (the
// whole of z) into seconds east of UTC.
func parseZone(z []byte) (int64, bool) { return parseZoneIn(z, 0) }

// parseZoneIn is parseZone in a place whose zone is def (seconds east of
// UTC): an abbreviation with another meaning at exactly that offset (see
// altZones) takes it.
func parseZoneIn(z []byte, def int64) (int64, bool) {
	if len(z) == 0 {
		return 0, false
	}
	if z[0] == '+' || z[0] == '-' {
		return parseOffset(z)
	}
	if len(z) > 4 {
		return 0, false
	}
	var buf [4]byte
	for i, c := range z {
		c &^= 0x20 // upper case
		if c < 'A' || c > 'Z' {
			return 0, false
		}
		buf[i] = c
	}
	if def != 0 {
		for _, alt := range altZones[string(buf[:len(z)])] {
			if int64(alt)*60 == def {
				return def, true
			}
		}
	}
	off, ok := zoneOffsets[string(buf[:len(z)])]
	return int64(off) * 60, ok
}

// altZones are the other meanings, in minutes east of UTC, that the tz
// database gives abbreviations zoneOffsets reads one way: CST is also
// China's and Taiwan's +08:00 (Java's Date.toString() on a server there
// writes it) and Cuba's -05:00, CDT Cuba's -04:00, PST the Philippines'
// +08:00, BST Bangladesh's +06:00. One is taken only where the time is
// read in a zone of exactly that offset (ParseIn's def: a syslog input's
// timezone, an event's event.timezone), where zoneOffsets's meaning would
// be hours off; elsewhere zoneOffsets's meaning holds.
var altZones = map[string][]int16{
	"CST": {480, -300}, "CDT": {-240}, "PST": {480}, "BST": {360},
}

// zoneOffsets are the zone abbreviations Parse knows, in minutes east of
// UTC, each in its most common meaning in logs: CST is US Central (as
// Java's parser reads it) unless the time is read in a zone where it means
// something else (altZones); IST (India, Ireland, Israel), with no meaning
// common enough to assume, is left out.
var zoneOffsets = map[string]int32{
	"Z": 0, "UT": 0, "UTC": 0, "GMT": 0,
	"EST": -5 * 60, "EDT": -4 * 60, "CST": -6 * 60, "CDT": -5 * 60,
	"MST": -7 * 60, "MDT": -6 * 60, "PST": -8 * 60, "PDT": -7 * 60,
	"AKST": -9 * 60, "AKDT": -8 * 60, "HST": -10 * 60,
	"WET": 0, "WEST": 60, "CET": 60, "CEST": 120, "MET": 60, "MEST": 120,
	"EET": 120, "EEST": 180, "BST": 60, "MSK": 180,
	"JST": 540, "KST": 540, "HKT": 480, "SGT": 480,
	"AWST": 480, "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660,
	"NZST": 720, "NZDT": 780,
}

// IsZoneAbbrev reports whether b (upper case) is a zone abbreviation
// Parse knows.
func IsZoneAbbrev(b []byte) bool {
	if len(b) == 0 || len(b) > 4 {
		return false
	}
	_, ok := zoneOffsets[string(b)]
	return ok
}

// lower3 packs three ASCII letters, lowercased, into a uint32.
func lower3(b []byte) (uint32, bool) {
	var k uint32
	for _, c := range b[:3] {
		c |= 0x20
		if c < 'a' || c > 'z' {
			return 0, false
		}
		k = k<<8 | uint32(c)
	}
	return k, true
}

// monthNum returns 1..12 for a case-insensitive three-letter month name.
func monthNum(b []byte) (int64, bool) {
	if len(b) < 3 {
		return 0, false
	}
	k, ok := lower3(b)
	if !ok {
		return 0, false
	}
	switch k {
	case 'j'<<16 | 'a'<<8 | 'n':
		return 1, true
	case 'f'<<16 | 'e'<<8 | 'b':
		return 2, true
	case 'm'<<16 | 'a'<<8 | 'r':
		return 3, true
	case 'a'<<16 | 'p'<<8 | 'r':
		return 4, true
	case 'm'<<16 | 'a'<<8 | 'y':
		return 5, true
	case 'j'<<16 | 'u'<<8 | 'n':
		return 6, true
	case 'j'<<16 | 'u'<<8 | 'l':
		return 7, true
	case 'a'<<16 | 'u'<<8 | 'g':
		return 8, true
	case 's'<<16 | 'e'<<8 | 'p':
		return 9, true
	case 'o'<<16 | 'c'<<8 | 't':
		return 10, true
	case 'n'<<16 | 'o'<<8 | 'v':
		return 11, true
	case 'd'<<16 | 'e'<<8 | 'c':
		return 12, true
	}
	return 0, false
}

// isWeekday reports whether b is a case-insensitive three-letter weekday.
func isWeekday(b []byte) bool {
	k, ok := lower3(b)
	if !ok {
		return false
	}
	switch k {
	case 'm'<<16 | 'o'<<8 | 'n', 't'<<16 | 'u'<<8 | 'e', 'w'<<16 | 'e'<<8 | 'd',
		't'<<16 | 'h'<<8 | 'u', 'f'<<16 | 'r'<<8 | 'i', 's'<<16 | 'a'<<8 | 't',
		's'<<16 | 'u'<<8 | 'n':
		return true
	}
	return false
}

// field requires b to be empty or to start with a space; it returns the
// next space-delimited token (nil at the end) and what follows it.
func field(b []byte) (tok, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, true
	}
	if b[0] != ' ' {
		return nil, nil, false
	}
	i := skipSpaces(b, 0)
	j := i
	for j < len(b) && b[j] != ' ' {
		j++
	}
	return b[i:j], b[j:], true
}

func skipSpaces(b []byte, i int) int {
	for i < len(b) && b[i] == ' ' {
		i++
	}
	return i
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trim(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// num parses exactly n digits at b[i:].
func num(b []byte, i, n int) (int64, bool) {
	if i+n > len(b) {
		return 0, false
	}
	var v int64
	for _, c := range b[i : i+n] {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	return v, true
}

// num12 parses one or two digits at b[i:] and returns the index after them.
func num12(b []byte, i int) (int64, int, bool) {
	if i >= len(b) || !isDigit(b[i]) {
		return 0, 0, false
	}
	v := int64(b[i] - '0')
	i++
	if i < len(b) && isDigit(b[i]) {
		v = v*10 + int64(b[i]-'0')
		i++
	}
	return v, i, true
}

func isLeap(y int64) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysIn(month, year int64) int64 {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func valid(year, month, day, h, m, s int64) bool {
	return month >= 1 && month <= 12 && day >= 1 && day <= daysIn(month, year) &&
		h < 24 && m < 60 && s <= 60
}

// clockSecs returns unix seconds for a validated civil time at offset off
// (seconds east of UTC).
func clockSecs(year, month, day, h, m, s, off int64) int64 {
	return daysFromCivil(year, month, day)*secsPerDay + h*3600 + m*60 + s - off
}

func build(year, month, day, h, m, s, frac, off int64) (int64, bool) {
	if !valid(year, month, day, h, m, s) {
		return 0, false
	}
	return toNanos(clockSecs(year, month, day, h, m, s, off), frac)
}

// toNanos returns secs*1e9+frac (0 <= frac < 1e9), failing on int64
// overflow.
func toNanos(secs, frac int64) (int64, bool) {
	if secs < 0 && frac > 0 {
		secs++
		frac -= nsPerSec
	}
	if secs < minSecs || secs > maxSecs {
		return 0, false
	}
	ns := secs * nsPerSec
	if frac > 0 && ns > math.MaxInt64-frac || frac < 0 && ns < math.MinInt64-frac {
		return 0, false
	}
	return ns + frac, true
}

// daysFromCivil returns days since 1970-01-01 for a proleptic Gregorian
// date (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int64) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int64) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}
