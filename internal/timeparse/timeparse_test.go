package timeparse

import (
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixedNow is the reference "now" for tests that need year inference.
var fixedNow = time.Date(2023, 11, 20, 10, 0, 0, 0, time.UTC)

func utc(y int, mo time.Month, d, h, mi, s, ns int) int64 {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC).UnixNano()
}

func at(y int, mo time.Month, d, h, mi, s, ns int, offSec int) int64 {
	return time.Date(y, mo, d, h, mi, s, ns, time.FixedZone("", offSec)).UnixNano()
}

const hr = 3600

// layoutSamples has one representative input per supported layout; it
// drives the zero-allocation test, the benchmarks and the fuzz seed corpus.
var layoutSamples = []struct {
	name string
	in   string
	want int64
}{
	{"RFC3339", "2023-11-14T22:13:20Z", utc(2023, 11, 14, 22, 13, 20, 0)},
	{"RFC3339Nano", "2023-11-14T22:13:20.123456789+01:00", at(2023, 11, 14, 22, 13, 20, 123456789, 1*hr)},
	{"ISOSpaceOffset", "2023-11-14 22:13:20.123-0500", at(2023, 11, 14, 22, 13, 20, 123000000, -5*hr)},
	{"ISOSpaceUTC", "2023-11-14 22:13:20 UTC", utc(2023, 11, 14, 22, 13, 20, 0)},
	{"DateOnly", "2023-11-14", utc(2023, 11, 14, 0, 0, 0, 0)},
	{"EpochSeconds", "1700000000", 1700000000e9},
	{"EpochMillisFrac", "1700000000123.456", 1700000000123456000},
	{"CLF", "14/Nov/2023:22:13:20 -0700", at(2023, 11, 14, 22, 13, 20, 0, -7*hr)},
	{"CLFBracketed", "[14/Nov/2023:22:13:20 +0000]", utc(2023, 11, 14, 22, 13, 20, 0)},
	{"RFC1123", "Tue, 14 Nov 2023 22:13:20 GMT", utc(2023, 11, 14, 22, 13, 20, 0)},
	{"RFC1123Z", "Tue, 14 Nov 2023 22:13:20 -0800", at(2023, 11, 14, 22, 13, 20, 0, -8*hr)},
	{"ANSIC", "Tue Nov 14 22:13:20 2023", utc(2023, 11, 14, 22, 13, 20, 0)},
	{"UnixDate", "Tue Nov 14 22:13:20 PST 2023", at(2023, 11, 14, 22, 13, 20, 0, -8*hr)},
	{"Syslog", "Nov 14 22:13:20", utc(2023, 11, 14, 22, 13, 20, 0)},
	{"SyslogMicro", "Nov  4 22:13:20.123456", utc(2023, 11, 4, 22, 13, 20, 123456000)},
	{"SyslogCisco", "Nov  4 2023 22:13:20", utc(2023, 11, 4, 22, 13, 20, 0)},
	{"SyslogYear", "Nov 4 22:13:20 2023", utc(2023, 11, 4, 22, 13, 20, 0)},
	{"Slash", "2023/11/14 22:13:20.123", utc(2023, 11, 14, 22, 13, 20, 123000000)},
	{"PythonLogging", "2023-11-14 22:13:20,123", utc(2023, 11, 14, 22, 13, 20, 123000000)},
}

func TestParseLayouts(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		// 1. RFC 3339 / ISO 8601
		{"2006-01-02T15:04:05Z", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"2006-01-02t15:04:05z", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"2006-01-02 15:04:05Z", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"2006-01-02T15:04:05", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"2006-01-02T15:04:05.5Z", utc(2006, 1, 2, 15, 4, 5, 500000000)},
		{"2006-01-02T15:04:05,25Z", utc(2006, 1, 2, 15, 4, 5, 250000000)},
		{"2006-01-02T15:04:05.123456789Z", utc(2006, 1, 2, 15, 4, 5, 123456789)},
		{"2006-01-02T15:04:05.1234567891234Z", utc(2006, 1, 2, 15, 4, 5, 123456789)},
		{"2006-01-02T15:04:05+07:00", at(2006, 1, 2, 15, 4, 5, 0, 7*hr)},
		{"2006-01-02T15:04:05-0730", at(2006, 1, 2, 15, 4, 5, 0, -7*hr-30*60)},
		{"2006-01-02T15:04:05+05", at(2006, 1, 2, 15, 4, 5, 0, 5*hr)},
		{"2006-01-02T15:04:05.000-00:00", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"2006-01-02 15:04:05 UTC", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"2006-01-02 15:04:05.999 -0700", at(2006, 1, 2, 15, 4, 5, 999000000, -7*hr)},
		{"2006-01-02", utc(2006, 1, 2, 0, 0, 0, 0)},
		{"2016-12-31T23:59:60Z", utc(2017, 1, 1, 0, 0, 0, 0)}, // leap second
		{"2024-02-29T00:00:00Z", utc(2024, 2, 29, 0, 0, 0, 0)},
		{"2000-02-29", utc(2000, 2, 29, 0, 0, 0, 0)},
		{"  2006-01-02T15:04:05Z \t\r\n", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"[2006-01-02 15:04:05]", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"1969-12-31T23:59:59.999999999Z", -1},
		{"1677-09-21T00:12:43.145224192Z", math.MinInt64},
		{"2262-04-11T23:47:16.854775807Z", math.MaxInt64},
		// 2. epoch
		{"1700000000", 1700000000e9},
		{"1700000000.123", 1700000000123000000},
		{"1700000000123", 1700000000123000000},
		{"1700000000123456", 1700000000123456000},
		{"1700000000123456789", 1700000000123456789},
		{" 1700000000 ", 1700000000e9},
		// 3. CLF
		{"02/Jan/2006:15:04:05 -0700", at(2006, 1, 2, 15, 4, 5, 0, -7*hr)},
		{"[02/Jan/2006:15:04:05 +0530]", at(2006, 1, 2, 15, 4, 5, 0, 5*hr+30*60)},
		{"02/jan/2006:15:04:05 +0000", utc(2006, 1, 2, 15, 4, 5, 0)},
		// 4. RFC 1123 / 1123Z / 822
		{"Mon, 02 Jan 2006 15:04:05 MST", at(2006, 1, 2, 15, 4, 5, 0, -7*hr)},
		{"Mon, 02 Jan 2006 15:04:05 GMT", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"Mon, 02 Jan 2006 15:04:05 UT", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"Mon, 02 Jan 2006 15:04:05 Z", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"Mon, 02 Jan 2006 15:04:05 UTC", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"Mon, 02 Jan 2006 15:04:05 -0700", at(2006, 1, 2, 15, 4, 5, 0, -7*hr)},
		{"Mon, 2 Jan 2006 15:04:05 +0100", at(2006, 1, 2, 15, 4, 5, 0, 1*hr)},
		{"MON, 02 JAN 2006 15:04:05 est", at(2006, 1, 2, 15, 4, 5, 0, -5*hr)},
		{"Fri, 02 Jan 2006 15:04:05 EDT", at(2006, 1, 2, 15, 4, 5, 0, -4*hr)}, // weekday not checked
		{"02 Jan 2006 15:04:05 CST", at(2006, 1, 2, 15, 4, 5, 0, -6*hr)},
		{"Mon 02 Jan 2006 15:04:05 CDT", at(2006, 1, 2, 15, 4, 5, 0, -5*hr)},
		{"Mon, 02 Jan 2006 15:04:05 MDT", at(2006, 1, 2, 15, 4, 5, 0, -6*hr)},
		{"Mon, 02 Jan 2006 15:04:05 PST", at(2006, 1, 2, 15, 4, 5, 0, -8*hr)},
		{"Mon, 02 Jan 2006 15:04:05 PDT", at(2006, 1, 2, 15, 4, 5, 0, -7*hr)},
		{"Mon, 02 Jan 2006 15:04:05", utc(2006, 1, 2, 15, 4, 5, 0)},
		// 5. ANSIC / UnixDate / RubyDate
		{"Mon Jan  2 15:04:05 2006", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"Mon Jan 12 15:04:05 2006", utc(2006, 1, 12, 15, 4, 5, 0)},
		{"Mon Jan  2 15:04:05 MST 2006", at(2006, 1, 2, 15, 4, 5, 0, -7*hr)},
		{"Mon Jan  2 15:04:05 UTC 2006", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"Mon Jan 02 15:04:05 -0700 2006", at(2006, 1, 2, 15, 4, 5, 0, -7*hr)},
		// 6. RFC 3164 syslog (fixedNow is 2023-11-20)
		{"Jan  2 15:04:05", utc(2023, 1, 2, 15, 4, 5, 0)}, // 43 days ahead of fixedNow: this year's (logs come from the past)
		{"Nov 02 15:04:05", utc(2023, 11, 2, 15, 4, 5, 0)},
		{"Nov 2 15:04:05", utc(2023, 11, 2, 15, 4, 5, 0)},
		{"nov  2 15:04:05.000123", utc(2023, 11, 2, 15, 4, 5, 123000)},
		{"Jun  2 15:04:05", utc(2023, 6, 2, 15, 4, 5, 0)},
		{"Jan  2 2006 15:04:05", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"Jan 2 15:04:05 2006", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"Jan  2 15:04:05.5 2006", utc(2006, 1, 2, 15, 4, 5, 500000000)},
		{"Nov 20 10:00:00 EST", at(2023, 11, 20, 10, 0, 0, 0, -5*hr)},
		// 7. slash and Python logging
		{"2006/01/02 15:04:05", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"2006/01/02 15:04:05.123456", utc(2006, 1, 2, 15, 4, 5, 123456000)},
		{"2006-01-02 15:04:05,000", utc(2006, 1, 2, 15, 4, 5, 0)},
		{"2006-01-02 15:04:05,987", utc(2006, 1, 2, 15, 4, 5, 987000000)},
	}
	for _, s := range layoutSamples {
		tests = append(tests, struct {
			in   string
			want int64
		}{s.in, s.want})
	}
	for _, tt := range tests {
		got, ok := Parse([]byte(tt.in), fixedNow)
		if !ok || got != tt.want {
			t.Errorf("Parse(%q) = %d (%v), %v; want %d (%v)", tt.in, got, time.Unix(0, got).UTC(), ok,
				tt.want, time.Unix(0, tt.want).UTC())
		}
	}
}

func TestParseYearInference(t *testing.T) {
	tests := []struct {
		in   string
		now  time.Time
		want int64
		ok   bool
	}{
		// Sent just before midnight on Dec 31, received just after: previous year.
		{"Dec 31 23:59:00", time.Date(2024, 1, 1, 0, 1, 0, 0, time.UTC), utc(2023, 12, 31, 23, 59, 0, 0), true},
		// Stamped Jan 1 by a clock that runs fast, received on Dec 31: next year.
		{"Jan  1 00:00:30", time.Date(2023, 12, 31, 23, 59, 0, 0, time.UTC), utc(2024, 1, 1, 0, 0, 30, 0), true},
		{"Jan  1 00:00:30", time.Date(2024, 1, 1, 0, 1, 0, 0, time.UTC), utc(2024, 1, 1, 0, 0, 30, 0), true},
		{"Dec 31 23:59:00", time.Date(2023, 12, 31, 23, 59, 30, 0, time.UTC), utc(2023, 12, 31, 23, 59, 0, 0), true},
		// A non-UTC now is only a reference instant.
		{"Dec 31 23:59:00", time.Date(2023, 12, 31, 19, 1, 0, 0, time.FixedZone("", -5*hr)), utc(2023, 12, 31, 23, 59, 0, 0), true},
		{"Jan  1 00:00:30", time.Date(2024, 1, 1, 9, 0, 0, 0, time.FixedZone("", 9*hr)), utc(2024, 1, 1, 0, 0, 30, 0), true},
		{"Jul  1 00:00:00", time.Date(2024, 6, 15, 0, 0, 0, 0, time.UTC), utc(2024, 7, 1, 0, 0, 0, 0), true},
		{"Feb 29 12:00:00", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), utc(2024, 2, 29, 12, 0, 0, 0), true},
		// A year ahead is no candidate: no Feb 29 within reach.
		{"Feb 29 12:00:00", time.Date(2023, 3, 1, 0, 0, 0, 0, time.UTC), 0, false},
		// A backfill half a year old is this year's, not next year's.
		{"May 14 10:00:00", time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC), utc(2026, 5, 14, 10, 0, 0, 0), true},
		{"Feb 29 12:00:00", time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), 0, false},
	}
	for _, tt := range tests {
		got, ok := Parse([]byte(tt.in), tt.now)
		if ok != tt.ok || got != tt.want {
			t.Errorf("Parse(%q, now=%v) = %v, %v; want %v, %v", tt.in, tt.now,
				time.Unix(0, got).UTC(), ok, time.Unix(0, tt.want).UTC(), tt.ok)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	bad := []string{
		"", " ", "[]", "abc", "2006", "Z", "Mon", "Jan", "Jan 2", "2006-01", "2006-01-0",
		"2006-13-02T15:04:05Z", "2006-00-02T15:04:05Z", "2006-02-30T15:04:05Z", "2006-02-29",
		"1900-02-29", "2006-04-31", "2006-01-00", "2006-01-32",
		"2006-01-02T24:00:00Z", "2006-01-02T23:60:00Z", "2006-01-02T23:59:61Z",
		"2006-01-02T15:04:05Zjunk", "2006-01-02T15:04:05Z junk",
		"2006-01-02T15:04:05 junk", "2006-01-02junk", "2006-01-02T15:04", "2006-01-02T15:04:5",
		"2006-01-02T15:04:05.", "2006-01-02T15:04:05.Z", "2006-01-02T15:04:05+7", "2006-01-02T15:04:05+0700x",
		"2006-01-02T15:04:05+07:0", "2006-01-02T15:04:05+24:00", "2006-01-02T15:04:05+07:60",
		"2006-01-02T15:04:05 XYZ", "2006-01-02x15:04:05", "2006-01/02", "2006/01-02", "2006-0a-02",
		"2006-01-02T1a:04:05Z",
		"02/Jan/2006:15:04:05", "02/Foo/2006:15:04:05 -0700", "02/Jan/2006:15:04:05 -0700 x",
		"32/Jan/2006:15:04:05 -0700", "02/Jan/2006 15:04:05 -0700", "02/Jan/2006:15:04:05-0700",
		"Mon, 02 Jan 2006 15:04:05 IST", "Mon, 02 Jan 2006 15:04:05 XYZT", "Mon, 02 Jan 06 15:04:05 MST",
		"Mon, 02 Jan 2006 15:04:05 MST junk", "Mon, 30 Feb 2006 15:04:05 GMT", "Xyz, 02 Jan 2006 15:04:05 GMT",
		"Mon,02 Jan 2006 15:04:05 GMT x", "Mon, 002 Jan 2006 15:04:05 GMT",
		"Mon Jan  2 15:04:05 ABC 2006", "Mon Jan  2 15:04:05 2006 MST", "Mon Jan  2 15:04:05 2006 2006",
		"Mon Jan 32 15:04:05 2006", "Mon Foo  2 15:04:05 2006", "MonJan  2 15:04:05 2006",
		"Jan 2 15:04:05 20066", "Jan 2 2006 15:04:05 2006", "Jan  2 25:04:05", "Jan 0 15:04:05",
		"Jan 2 15:04:05.", "January 2 15:04:05", "Jan2 15:04:05", "Jan 2 15:04:05 junk",
		"Jan 123 15:04:05",
		"2006/01/02 15:04:05,", "2006/13/02 15:04:05",
		"-1700000000", "+1700000000", "1700000000.", "1.7e9", "0", "1700000000x", "17000000000000000000000",
		"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
		"10000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z",
		"1677-09-21T00:12:43.145224191Z", "2262-04-11T23:47:16.854775808Z",
	}
	for _, in := range bad {
		if got, ok := Parse([]byte(in), fixedNow); ok {
			t.Errorf("Parse(%q) = %d (%v), true; want false", in, got, time.Unix(0, got).UTC())
		}
	}
	if _, ok := Parse(nil, fixedNow); ok {
		t.Error("Parse(nil) ok")
	}
}

func TestParseFraction(t *testing.T) {
	base := utc(2006, 1, 2, 15, 4, 5, 0)
	tests := []struct {
		frac string
		ns   int64
	}{
		{"1", 100000000}, {"12", 120000000}, {"123", 123000000}, {"1234", 123400000},
		{"12345", 123450000}, {"123456", 123456000}, {"1234567", 123456700},
		{"12345678", 123456780}, {"123456789", 123456789}, {"1234567899", 123456789},
		{"000000001", 1}, {"0000000009999", 0}, {"999999999999", 999999999},
	}
	for _, tt := range tests {
		for _, pre := range []string{"2006-01-02T15:04:05.", "2006-01-02 15:04:05,", "2006/01/02 15:04:05.", "Jan  2 2006 15:04:05."} {
			for _, zone := range []string{"Z", "", "+00:00"} {
				if pre[0] == 'J' && zone != "" {
					continue
				}
				in := pre + tt.frac + zone
				got, ok := Parse([]byte(in), fixedNow)
				if !ok || got != base+tt.ns {
					t.Errorf("Parse(%q) = %d, %v; want %d", in, got, ok, base+tt.ns)
				}
			}
		}
	}
}

func TestParseOffsets(t *testing.T) {
	// The same instant written with many offsets must give the same ns.
	want := utc(2020, 3, 1, 0, 30, 0, 0)
	for _, in := range []string{
		"2020-03-01T00:30:00Z",
		"2020-02-29T23:30:00-01:00",
		"2020-02-29T23:30:00-0100",
		"2020-02-29T23:30:00-01",
		"2020-03-01T05:30:00+05",
		"2020-03-01T06:00:00+05:30",
		"2020-03-01T14:15:00+1345",
		"2020-02-29T12:30:00-12:00",
		"2020-02-29 19:30:00 -0500",
		"2020-02-29 19:30:00 EST",
		"29/Feb/2020:16:30:00 -0800",
		"[29/Feb/2020:16:30:00 PST]",
		"Sat, 29 Feb 2020 16:30:00 PST",
		"Sat, 29 Feb 2020 17:30:00 PDT",
		"Sat, 29 Feb 2020 17:30:00 MST",
		"Sat, 29 Feb 2020 18:30:00 MDT",
		"Sat, 29 Feb 2020 18:30:00 CST",
		"Sat, 29 Feb 2020 19:30:00 CDT",
		"Sat, 29 Feb 2020 19:30:00 EST",
		"Sat, 29 Feb 2020 20:30:00 EDT",
		"Sun, 01 Mar 2020 00:30:00 GMT",
		"Sat Feb 29 16:30:00 PST 2020",
		"Sat Feb 29 16:30:00 -0800 2020",
		"Feb 29 16:30:00 PST 2020",
	} {
		got, ok := Parse([]byte(in), fixedNow)
		if !ok || got != want {
			t.Errorf("Parse(%q) = %v, %v; want %v", in, time.Unix(0, got).UTC(), ok, time.Unix(0, want).UTC())
		}
	}
}

func TestEpoch(t *testing.T) {
	minNs := utc(1971, 1, 1, 0, 0, 0, 0)
	maxNs := utc(2201, 1, 1, 0, 0, 0, 0) - 1
	tests := []struct {
		v    float64
		s    string
		want int64
		ok   bool
	}{
		{1700000000, "1700000000", 1700000000e9, true},
		{1700000000.5, "1700000000.5", 1700000000500000000, true},
		{1700000000.123, "1700000000.123", 1700000000123000000, true},
		{1700000000.123456, "1700000000.123456", 1700000000123456000, true},
		{1700000000123, "1700000000123", 1700000000123000000, true},
		{1700000000123.5, "1700000000123.5", 1700000000123500000, true},
		{1700000000123456, "1700000000123456", 1700000000123456000, true},
		{1700000000123456789, "1700000000123456789", 1700000000123456768, true}, // float64 rounding
		{31536000, "31536000", minNs, true},
		{31535999.999, "31535999.999", 0, false},
		{7289654399, "7289654399", 7289654399e9, true},
		{7289654400, "7289654400", 0, false},
		{99999999999, "99999999999", 0, false}, // seconds, year 5138
		{1e11, "100000000000", 1e17, true},     // milliseconds from 1e11
		{99999999999999, "99999999999999", 0, false},
		{1e14, "100000000000000", 1e17, true}, // microseconds
		{1e17, "100000000000000000", 1e17, true},
		{7289654400000000000, "7289654400000000000", 0, false},
		{0, "0", 0, false},
		{-1700000000, "-1700000000", 0, false},
		{1e30, "1000000000000000000000000000000", 0, false},
	}
	for _, tt := range tests {
		got, ok := FromEpoch(tt.v)
		if ok != tt.ok || got != tt.want {
			t.Errorf("FromEpoch(%v) = %d, %v; want %d, %v", tt.v, got, ok, tt.want, tt.ok)
		}
		want := tt.want
		if tt.s == "1700000000123456789" {
			want = 1700000000123456789 // the string path is exact
		}
		got, ok = ParseEpoch([]byte(tt.s))
		if ok != tt.ok || got != want {
			t.Errorf("ParseEpoch(%q) = %d, %v; want %d, %v", tt.s, got, ok, want, tt.ok)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 5e-324} {
		if got, ok := FromEpoch(v); ok {
			t.Errorf("FromEpoch(%v) = %d, true", v, got)
		}
	}
	strs := []struct {
		s    string
		want int64
		ok   bool
	}{
		{"0001700000000", 1700000000e9, true},
		{"1700000000.1234567891", 1700000000123456789, true},
		{"1700000000123.4567891", 1700000000123456789, true},
		{"1700000000123456.7891", 1700000000123456789, true},
		{"1700000000123456789.9", 1700000000123456789, true},
		{"7289654399.999999999", maxNs, true},
		{"", 0, false}, {".", 0, false}, {".5", 0, false}, {"1700000000.", 0, false},
		{"1700000000.5.5", 0, false}, {"1e9", 0, false}, {" 1700000000", 0, false},
		{"+1700000000", 0, false}, {"1700000000x", 0, false}, {"18446744073709551616", 0, false},
		{"99999999999999999999999", 0, false},
	}
	for _, tt := range strs {
		got, ok := ParseEpoch([]byte(tt.s))
		if ok != tt.ok || got != tt.want {
			t.Errorf("ParseEpoch(%q) = %d, %v; want %d, %v", tt.s, got, ok, tt.want, tt.ok)
		}
	}
	// Random: numeric and string forms agree for every unit.
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		// From 1e17 ns (1973-03-03) on, ms and us values are above the
		// 1e11 and 1e14 unit thresholds; earlier ones are read as s or ms.
		ns := 1e17 + r.Int63n(maxNs-1e17)
		sec := ns / 1e9
		cases := []struct {
			v    float64
			s    string
			want int64
		}{
			{float64(sec), itoa(sec), sec * 1e9},
			{float64(ns / 1e6), itoa(ns / 1e6), ns / 1e6 * 1e6},
			{float64(ns / 1e3), itoa(ns / 1e3), ns / 1e3 * 1e3},
		}
		for _, c := range cases {
			if got, ok := FromEpoch(c.v); !ok || got != c.want {
				t.Fatalf("FromEpoch(%v) = %d, %v; want %d", c.v, got, ok, c.want)
			}
			if got, ok := ParseEpoch([]byte(c.s)); !ok || got != c.want {
				t.Fatalf("ParseEpoch(%q) = %d, %v; want %d", c.s, got, ok, c.want)
			}
		}
		if got, ok := ParseEpoch([]byte(itoa(ns))); !ok || got != ns {
			t.Fatalf("ParseEpoch(%d) = %d, %v", ns, got, ok)
		}
		ms := sec*1000 + r.Int63n(1000)
		s := itoa(ms/1000) + "." + itoa(1000 + ms%1000)[1:]
		if got, ok := ParseEpoch([]byte(s)); !ok || got != ms*1e6 {
			t.Fatalf("ParseEpoch(%q) = %d, %v; want %d", s, got, ok, ms*1e6)
		}
		if got, ok := FromEpoch(float64(ms) / 1000); !ok || got != ms*1e6 {
			t.Fatalf("FromEpoch(%v) = %d, %v; want %d", float64(ms)/1000, got, ok, ms*1e6)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestAppendRFC3339(t *testing.T) {
	tests := []struct {
		ns   int64
		want string
	}{
		{0, "1970-01-01T00:00:00.000Z"},
		{1, "1970-01-01T00:00:00.000000001Z"},
		{1000, "1970-01-01T00:00:00.000001Z"},
		{1e6, "1970-01-01T00:00:00.001Z"},
		{-1, "1969-12-31T23:59:59.999999999Z"},
		{-1e6, "1969-12-31T23:59:59.999Z"},
		{utc(2006, 1, 2, 15, 4, 5, 0), "2006-01-02T15:04:05.000Z"},
		{utc(2024, 2, 29, 23, 59, 59, 123456000), "2024-02-29T23:59:59.123456Z"},
		{utc(2000, 12, 31, 1, 2, 3, 120), "2000-12-31T01:02:03.000000120Z"},
		{math.MinInt64, "1677-09-21T00:12:43.145224192Z"},
		{math.MaxInt64, "2262-04-11T23:47:16.854775807Z"},
	}
	for _, tt := range tests {
		got := string(AppendRFC3339([]byte("x"), tt.ns))
		if got != "x"+tt.want {
			t.Errorf("AppendRFC3339(%d) = %q; want %q", tt.ns, got, "x"+tt.want)
		}
	}
	// Agrees with the time package at every precision.
	r := rand.New(rand.NewSource(2))
	for i := 0; i < 5000; i++ {
		ns := int64(r.Uint64())
		switch i % 3 {
		case 0:
			ns = ns / 1e6 * 1e6
		case 1:
			ns = ns / 1e3 * 1e3
		}
		got := string(AppendRFC3339(nil, ns))
		layout := "2006-01-02T15:04:05.000000000Z"
		switch {
		case ns%1e6 == 0:
			layout = "2006-01-02T15:04:05.000Z"
		case ns%1e3 == 0:
			layout = "2006-01-02T15:04:05.000000Z"
		}
		if want := time.Unix(0, ns).UTC().Format(layout); got != want {
			t.Fatalf("AppendRFC3339(%d) = %q; want %q", ns, got, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	lo, hi := utc(1971, 1, 1, 0, 0, 0, 0), utc(2201, 1, 1, 0, 0, 0, 0)
	buf := make([]byte, 0, 64)
	for i := 0; i < 20000; i++ {
		var x int64
		if i%2 == 0 {
			x = lo + r.Int63n(hi-lo)
		} else {
			x = int64(r.Uint64()) // any int64 is representable
		}
		switch i % 6 {
		case 0, 1:
			x = x / 1e6 * 1e6
		case 2, 3:
			x = x / 1e3 * 1e3
		}
		buf = AppendRFC3339(buf[:0], x)
		got, ok := Parse(buf, fixedNow)
		if !ok || got != x {
			t.Fatalf("Parse(AppendRFC3339(%d) = %q) = %d, %v", x, buf, got, ok)
		}
	}
}

// TestAgainstTimeParse formats random instants with the time package and
// checks that Parse agrees with time.Parse.
func TestAgainstTimeParse(t *testing.T) {
	type layout struct {
		name   string
		layout string
		zone   string // "utc", "offset", "us" (US abbreviation), "gmt"
		noYear bool
		prec   time.Duration
		wrap   string // "[]" to add brackets
	}
	layouts := []layout{
		{"RFC3339", time.RFC3339, "offset", false, time.Second, ""},
		{"RFC3339Nano", time.RFC3339Nano, "offset", false, 1, ""},
		{"RFC3339Micro", "2006-01-02T15:04:05.000000-0700", "offset", false, time.Microsecond, ""},
		{"RFC3339Colon", "2006-01-02T15:04:05.000Z07:00", "offset", false, time.Millisecond, ""},
		{"ISOShortOffset", "2006-01-02T15:04:05.000000000-07", "hours", false, 1, ""},
		{"ISOSpaceUTC", "2006-01-02 15:04:05 MST", "utc", false, time.Second, ""},
		{"ISOSpaceNoZone", "2006-01-02 15:04:05", "utc", false, time.Second, ""},
		{"DateOnly", time.DateOnly, "utc", false, 24 * time.Hour, ""},
		{"PythonLogging", "2006-01-02 15:04:05,000", "utc", false, time.Millisecond, ""},
		{"Slash", "2006/01/02 15:04:05", "utc", false, time.Second, ""},
		{"SlashMicro", "2006/01/02 15:04:05.000000", "utc", false, time.Microsecond, ""},
		{"CLF", "02/Jan/2006:15:04:05 -0700", "offset", false, time.Second, ""},
		{"CLFBracketed", "02/Jan/2006:15:04:05 -0700", "offset", false, time.Second, "[]"},
		{"RFC1123", time.RFC1123, "utc", false, time.Second, ""},
		{"RFC1123GMT", "Mon, 02 Jan 2006 15:04:05 GMT", "gmt", false, time.Second, ""},
		{"RFC1123US", time.RFC1123, "us", false, time.Second, ""},
		{"RFC1123Z", time.RFC1123Z, "offset", false, time.Second, ""},
		{"RFC822Z", "Mon, 2 Jan 2006 15:04:05 -0700", "offset", false, time.Second, ""},
		{"ANSIC", time.ANSIC, "utc", false, time.Second, ""},
		{"UnixDate", time.UnixDate, "utc", false, time.Second, ""},
		{"UnixDateUS", time.UnixDate, "us", false, time.Second, ""},
		{"RubyDate", time.RubyDate, "offset", false, time.Second, ""},
		{"Stamp", time.Stamp, "utc", true, time.Second, ""},
		{"Stamp02", "Jan 02 15:04:05", "utc", true, time.Second, ""},
		{"StampMicro", time.StampMicro, "utc", true, time.Microsecond, ""},
		{"SyslogYear", "Jan _2 15:04:05 2006", "utc", false, time.Second, ""},
		{"SyslogCisco", "Jan _2 2006 15:04:05", "utc", false, time.Second, ""},
		{"SyslogCiscoMilli", "Jan _2 2006 15:04:05.000", "utc", false, time.Millisecond, ""},
	}
	us := []struct {
		name string
		off  int
	}{{"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5}, {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}}
	lo := time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2250, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	r := rand.New(rand.NewSource(4))
	for _, l := range layouts {
		t.Run(l.name, func(t *testing.T) {
			for i := 0; i < 300; i++ {
				ns := (lo+r.Int63n(hi-lo))*1e9 + r.Int63n(1e9)
				ns -= ns % int64(l.prec) // a multiple of prec (truncated toward zero)
				tm := time.Unix(0, ns).UTC()
				var loc *time.Location
				switch l.zone {
				case "utc":
					loc = time.UTC
				case "gmt":
					loc = time.UTC
				case "offset":
					loc = time.FixedZone("", (r.Intn(28*4+1)-14*4)*15*60)
				case "hours":
					loc = time.FixedZone("", (r.Intn(25)-12)*hr)
				case "us":
					z := us[r.Intn(len(us))]
					loc = time.FixedZone(z.name, z.off*hr)
				}
				tm = tm.In(loc)
				s := tm.Format(l.layout)
				if l.wrap != "" {
					s = "[" + s + "]"
				}
				now := fixedNow
				if l.noYear {
					// Any now from a month before the stamp to ~10 months
					// after it infers its year (logs come from the past).
					now = tm.Add(time.Duration(r.Int63n(330*24)-30*24) * time.Hour)
				}
				got, ok := Parse([]byte(s), now)
				if !ok || got != ns {
					t.Fatalf("Parse(%q) = %v, %v; want %v", s, time.Unix(0, got).UTC(), ok, tm.UTC())
				}
				if l.zone == "us" {
					continue // time.Parse does not know US abbreviation offsets in UTC.
				}
				ref, err := time.Parse(l.layout, strings.Trim(s, "[]"))
				if err != nil {
					t.Fatalf("time.Parse(%q): %v", s, err)
				}
				if l.noYear {
					ref = time.Date(tm.Year(), ref.Month(), ref.Day(), ref.Hour(), ref.Minute(),
						ref.Second(), ref.Nanosecond(), time.UTC)
				}
				if ref.UnixNano() != got {
					t.Fatalf("Parse(%q) = %v; time.Parse = %v", s, time.Unix(0, got).UTC(), ref.UTC())
				}
			}
		})
	}
}

func TestZeroAllocs(t *testing.T) {
	for _, s := range layoutSamples {
		b := []byte(s.in)
		var got int64
		var ok bool
		allocs := testing.AllocsPerRun(200, func() { got, ok = Parse(b, fixedNow) })
		if !ok || got != s.want {
			t.Errorf("%s: Parse(%q) = %d, %v; want %d", s.name, s.in, got, ok, s.want)
		}
		if allocs != 0 {
			t.Errorf("%s: Parse(%q) allocates %v times", s.name, s.in, allocs)
		}
	}
	buf := make([]byte, 0, 64)
	for _, ns := range []int64{1700000000e9, 1700000000123456000, 1700000000123456789} {
		if a := testing.AllocsPerRun(200, func() { buf = AppendRFC3339(buf[:0], ns) }); a != 0 {
			t.Errorf("AppendRFC3339(%d) allocates %v times", ns, a)
		}
	}
	for _, v := range []float64{1700000000, 1700000000.123, 1700000000123.5} {
		var ok bool
		if a := testing.AllocsPerRun(200, func() { _, ok = FromEpoch(v) }); a != 0 || !ok {
			t.Errorf("FromEpoch(%v): ok=%v, %v allocs", v, ok, a)
		}
	}
	eb := []byte("1700000000.123456")
	var ok bool
	if a := testing.AllocsPerRun(200, func() { _, ok = ParseEpoch(eb) }); a != 0 || !ok {
		t.Errorf("ParseEpoch: ok=%v, %v allocs", ok, a)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range layoutSamples {
		f.Add([]byte(s.in))
	}
	for _, s := range []string{
		"2006-01-02T15:04:05.123456789+07:00", "Jan  2 2006 15:04:05", "Feb 29 00:00:00",
		"1677-09-21T00:12:43.145224192Z", "2262-04-11T23:47:16.854775807Z", "0000-01-01",
		"[Mon, 02 Jan 2006 15:04:05 MST]", "1700000000.1234567891",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ns, ok := Parse(b, fixedNow)
		ParseEpoch(b)
		if !ok {
			return
		}
		out := AppendRFC3339(nil, ns)
		if n := len(out); n != 24 && n != 27 && n != 30 {
			t.Fatalf("AppendRFC3339(%d) = %q: bad width", ns, out)
		}
		back, ok := Parse(out, time.Time{})
		if !ok || back != ns {
			t.Fatalf("Parse(%q) = %d; AppendRFC3339 = %q; parses back to %d, %v", b, ns, out, back, ok)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	for _, s := range layoutSamples {
		in := []byte(s.in)
		b.Run(s.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				if _, ok := Parse(in, fixedNow); !ok {
					b.Fatal("parse failed")
				}
			}
		})
	}
}

func BenchmarkAppendRFC3339(b *testing.B) {
	for _, c := range []struct {
		name string
		ns   int64
	}{{"Millis", 1700000000123000000}, {"Micros", 1700000000123456000}, {"Nanos", 1700000000123456789}} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			b.SetBytes(int64(len(AppendRFC3339(nil, c.ns))))
			for b.Loop() {
				buf = AppendRFC3339(buf[:0], c.ns)
			}
		})
	}
}

func BenchmarkFromEpoch(b *testing.B) {
	for _, c := range []struct {
		name string
		v    float64
	}{{"Integer", 1700000000123}, {"Fraction", 1700000000.123}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(8)
			for b.Loop() {
				if _, ok := FromEpoch(c.v); !ok {
					b.Fatal("failed")
				}
			}
		})
	}
}

// TestParseIn: a time without a zone is read at the default offset; one
// with a zone, and an epoch, are not affected.
func TestParseIn(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	const minus5 = -5 * 3600
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"2026/11/28 10:00:00", "2026-11-28T15:00:00Z"},
		{"2026-11-28T10:00:00", "2026-11-28T15:00:00Z"},
		{"2026-11-28 10:00:00,123", "2026-11-28T15:00:00.123Z"},
		{"2026-11-28", "2026-11-28T05:00:00Z"},
		{"Nov 28 10:00:00", "2026-11-28T15:00:00Z"},
		{"Sat, 28 Nov 2026 10:00:00", "2026-11-28T15:00:00Z"},
		{"2026-11-28T10:00:00Z", "2026-11-28T10:00:00Z"},
		{"2026-11-28T10:00:00+01:00", "2026-11-28T09:00:00Z"},
		{"2026-11-28 10:00:00 UTC", "2026-11-28T10:00:00Z"},
		{"Nov 28 10:00:00 PST", "2026-11-28T18:00:00Z"},
		{"28/Nov/2026:10:00:00 +0000", "2026-11-28T10:00:00Z"},
		{"1795860000", "2026-11-28T10:00:00Z"},
	} {
		ns, ok := ParseIn([]byte(tc.in), now, minus5)
		if got := time.Unix(0, ns).UTC().Format(time.RFC3339Nano); !ok || got != tc.want {
			t.Errorf("ParseIn(%q, -05:00) = %s, %v; want %s", tc.in, got, ok, tc.want)
		}
		if ns0, _ := Parse([]byte(tc.in), now); ns0 != func() int64 { n, _ := ParseIn([]byte(tc.in), now, 0); return n }() {
			t.Errorf("ParseIn(%q, 0) differs from Parse", tc.in)
		}
	}
	for _, tc := range []struct {
		in  string
		off int64
		ok  bool
	}{
		{"+05:30", 19800, true}, {"-0500", -18000, true}, {"-05", -18000, true}, {"Z", 0, true}, {"UTC", 0, true},
		{" +00:00 ", 0, true}, {"EST", -18000, true}, {"Europe/Berlin", 0, false}, {"", 0, false}, {"+25:00", 0, false},
	} {
		if off, ok := ParseZone([]byte(tc.in)); ok != tc.ok || off != tc.off {
			t.Errorf("ParseZone(%q) = %d, %v; want %d, %v", tc.in, off, ok, tc.off, tc.ok)
		}
	}
}

// TestEuropeanAndAsiaPacificZones: the zone abbreviations of devices set
// to European and Asia-Pacific time (Cisco IOS "clock timezone CET 1" with
// show-timezone) are read at their offsets; before only UTC and the US
// zones were known, and a CET time failed to parse.
func TestEuropeanAndAsiaPacificZones(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
	}{
		{"Mon, 02 Jan 2006 15:04:05 CET", "2006-01-02T14:04:05Z"},
		{"Mon, 02 Jan 2006 15:04:05 CEST", "2006-01-02T13:04:05Z"},
		{"Mon, 02 Jan 2006 15:04:05 BST", "2006-01-02T14:04:05Z"},
		{"Mon Jan  2 15:04:05 JST 2006", "2006-01-02T06:04:05Z"},
		{"Mon, 02 Jan 2006 15:04:05 AEDT", "2006-01-02T04:04:05Z"},
		{"Mon, 02 Jan 2006 15:04:05 nzst", "2006-01-02T03:04:05Z"},
	} {
		ns, ok := Parse([]byte(c.in), time.Time{})
		if got := time.Unix(0, ns).UTC().Format(time.RFC3339); !ok || got != c.want {
			t.Errorf("Parse(%q) = %s, %v; want %s", c.in, got, ok, c.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = ParseZone([]byte("CEST")) }); n != 0 {
		t.Errorf("ParseZone allocates %v times", n)
	}
}
