package parse

import (
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/logrouter/logrouter/internal/timeparse"
)

// leefTime sets the payload's time from a LEEF event's devTime, the time
// the event occurred on the device (IBM's predefined LEEF attributes, the
// time QRadar gives the event), written in devTimeFormat (a Java
// SimpleDateFormat pattern) or, without one, as epoch milliseconds or
// "MMM dd yyyy HH:mm:ss" (LEEF's default). A time without a zone is read
// at the offset of a zoned RFC 5424 header (the sender's), else in
// Options.Location.
func (p *Parser) leefTime() {
	var dt, fm []byte
	for k := range p.pairs {
		switch string(p.pairs[k].key) {
		case "devTime":
			dt = p.pairs[k].val
		case "devTimeFormat":
			fm = p.pairs[k].val
		}
	}
	if len(dt) == 0 || len(dt) > 64 {
		return
	}
	loc := p.loc
	if p.h.hasTime && p.h.zoned {
		loc = p.fixedZone(p.h.off)
	}
	if loc == nil {
		loc = time.UTC
	}
	var one [1]string
	layouts := leefDefaultLayouts[:]
	if len(fm) > 0 {
		l, ok := p.leefLayout(fm)
		if !ok {
			return
		}
		one[0] = l
		layouts = one[:]
	} else if ns, ok := timeparse.ParseEpoch(dt); ok && allDigits(dt) {
		p.pl.hasTime, p.pl.ns = true, ns
		return
	}
	// time.ParseInLocation keeps no reference to its value: no copy.
	v := unsafe.String(unsafe.SliceData(dt), len(dt))
	for _, l := range layouts {
		t, err := time.ParseInLocation(l, v, loc)
		if err != nil {
			continue
		}
		if t.Year() == 0 { // a pattern without a year ("MMM dd HH:mm:ss")
			// Parsed again with the year an RFC 3164 time gets: loc's
			// offsets (and its abbreviations) are those of that year,
			// not of year 0 (New York's was then its mean solar time).
			y, ok := nearestYear(t, p.now())
			if !ok {
				return
			}
			if t, err = time.ParseInLocation(l+" 2006", v+" "+strconv.Itoa(y), loc); err != nil {
				return
			}
		}
		if strings.Contains(l, "MST") && t.Location() != loc {
			// Go reads an abbreviation loc does not define as offset 0,
			// in a location of its own: EST, PST... would come out 5 or
			// 8 hours off. Read the ones timeparse knows; refuse the
			// rest (the header's time stays). One loc defines (WET in
			// Europe/Lisbon) keeps loc's offset.
			name, off := t.Zone()
			if off == 0 && name != "UTC" {
				zo, ok := timeparse.ParseZone([]byte(name))
				if !ok {
					return
				}
				t = t.Add(-time.Duration(zo) * time.Second)
			}
		}
		if y := t.Year(); y < 1971 || y > 2200 {
			return // not a time this event can have: the header's stays
		}
		p.pl.hasTime, p.pl.ns = true, t.UnixNano()
		return
	}
}

// nearestYear returns the year an RFC 3164 header's time gets (timeparse)
// for t, parsed without a year (year 0): the latest that puts its wall
// clock, read as UTC, not more than a month after now (the zone moves it
// by hours, not across the month's margin). ok is false when no year near
// now has that day (Feb 29).
func nearestYear(t, now time.Time) (int, bool) {
	limit := now.Add(31 * 24 * time.Hour)
	best, found := 0, false
	for y := now.Year() - 1; y <= now.Year()+1; y++ {
		c := time.Date(y, t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		if c.Day() != t.Day() || c.After(limit) {
			continue
		}
		best, found = y, true
	}
	return best, found
}

// leefDefaultLayouts are LEEF's devTime forms without a devTimeFormat.
var leefDefaultLayouts = [...]string{"Jan 02 2006 15:04:05", "Jan 02 2006 15:04:05.000",
	"Jan 02 2006 15:04:05 MST", "Jan 02 2006 15:04:05.000 MST"}

// leefLayout returns the Go layout of devTimeFormat f, translated once per
// pattern (a sender writes one or two): not per event.
func (p *Parser) leefLayout(f []byte) (string, bool) {
	if l, ok := p.layouts[string(f)]; ok { // no allocation for the lookup
		return l, l != ""
	}
	l, ok := javaLayout(string(f))
	if !ok {
		l = ""
	}
	if p.layouts == nil || len(p.layouts) >= 64 { // senders choose patterns: bound them
		p.layouts = map[string]string{}
	}
	p.layouts[string(f)] = l
	return l, ok
}

// fixedZone returns a Location for an offset (seconds east of UTC), made
// once per offset.
func (p *Parser) fixedZone(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if p.zones == nil {
		p.zones = map[int]*time.Location{}
	}
	loc, ok := p.zones[off]
	if !ok {
		if len(p.zones) >= 64 { // senders choose offsets: bound them
			clear(p.zones)
		}
		loc = time.FixedZone("", off)
		p.zones[off] = loc
	}
	return loc
}

// javaLayout translates a Java SimpleDateFormat pattern into a Go time
// layout; ok is false for a letter it does not know.
func javaLayout(f string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(f); {
		c := f[i]
		if c == '\'' { // quoted literal text; '' is a quote
			j := i + 1
			for j < len(f) && f[j] != '\'' {
				j++
			}
			if j == i+1 {
				b.WriteByte('\'')
			} else {
				b.WriteString(f[i+1 : j])
			}
			i = j + 1
			continue
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
			i++
			continue
		}
		n := 1
		for i+n < len(f) && f[i+n] == c {
			n++
		}
		var g string
		switch {
		case c == 'y' && n == 2:
			g = "06"
		case c == 'y':
			g = "2006"
		case c == 'M' && n >= 4:
			g = "January"
		case c == 'M' && n == 3:
			g = "Jan"
		case c == 'M' && n == 2:
			g = "01"
		case c == 'M':
			g = "1"
		case c == 'd' && n >= 2:
			g = "02"
		case c == 'd':
			g = "2"
		case c == 'H':
			g = "15"
		case c == 'h' && n >= 2:
			g = "03"
		case c == 'h':
			g = "3"
		case c == 'm' && n >= 2:
			g = "04"
		case c == 'm':
			g = "4"
		case c == 's' && n >= 2:
			g = "05"
		case c == 's':
			g = "5"
		case c == 'S':
			g = strings.Repeat("0", n) // after the '.' or ',' the pattern writes
		case c == 'a':
			g = "PM"
		case c == 'E' && n >= 4:
			g = "Monday"
		case c == 'E':
			g = "Mon"
		case c == 'z':
			g = "MST"
		case c == 'Z':
			g = "-0700"
		case c == 'X' && n >= 3:
			g = "Z07:00"
		case c == 'X' && n == 2:
			g = "Z0700"
		case c == 'X':
			g = "Z07"
		default:
			return "", false
		}
		b.WriteString(g)
		i += n
	}
	return b.String(), true
}
