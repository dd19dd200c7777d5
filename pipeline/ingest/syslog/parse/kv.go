package parse

import (
	"bytes"
	"time"

	"github.com/logrouter/logrouter/internal/timeparse"
)

// Character classes of key=value messages.
const (
	kvSep     = 1 << iota // separates pairs: space, tab, auditd's 0x1d before enriched fields
	kvKey                 // may appear in a key: [A-Za-z0-9_.-]
	kvExtKey              // may appear in a CEF extension key: [A-Za-z0-9_.]
	kvKeyHead             // may start a key: [A-Za-z_]
)

var kvClass = func() (t [256]uint8) {
	t[' '], t['\t'], t[0x1d] = kvSep, kvSep, kvSep
	for c := 0; c < 256; c++ {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
			t[c] |= kvKey | kvExtKey | kvKeyHead
		case c >= '0' && c <= '9', c == '.':
			t[c] |= kvKey | kvExtKey
		case c == '-':
			t[c] |= kvKey
		}
	}
	return t
}()

func isKVSep(c byte) bool     { return kvClass[c]&kvSep != 0 }
func isKVKeyChar(c byte) bool { return kvClass[c]&kvKey != 0 }

func isKVKeyStart(c byte) bool { return kvClass[c]&kvKeyHead != 0 }

// csvPairs reports whether b's key=value pairs are separated by commas
// without blanks: its first bare value runs up to ",key=" before any blank.
func csvPairs(b []byte) bool {
	eq := bytes.IndexByte(b, '=')
	if eq <= 0 || eq+1 >= len(b) || b[eq+1] == '"' {
		return false
	}
	for i := eq + 1; i < len(b); i++ {
		switch c := b[i]; {
		case isKVSep(c), c == '"':
			return false
		case c == ',':
			k := i + 1
			for k < len(b) && isKVKeyChar(b[k]) {
				k++
			}
			return k > i+1 && k < len(b) && b[k] == '=' && isKVKeyStart(b[i+1])
		}
	}
	return false
}

// detectKV accepts b as key=value pairs when it has at least 3 pairs and
// they cover at least 80% of its non-blank bytes. Values are "double
// quoted" (\" and \\ escapes), 'single quoted' (auditd) or bare (up to the
// next blank; a trailing ',' before more text is dropped, for "k1=v1, k2=v2").
// All values are written as strings.
//
// FortiGate (devid starting with "FG", or logid with devname) gets dataset
// fortinet.fortigate and a timestamp from date, time and tz; without tz
// they are in Options.Location and replace only a header timestamp that has
// no zone either. Linux audit records (type=... msg=audit(epoch:serial): ...)
// get linux.auditd, a timestamp from the epoch, and their single-quoted
// msg='k=v ...' flattened into top-level pairs.
func (p *Parser) detectKV(b, body []byte) bool {
	if bytes.Count(b, []byte{'='}) < 3 {
		return false
	}
	audit := isAudit(b)
	p.pairs = p.pairs[:0]
	// FortiGate's csv format (set format csv): the same pairs separated by
	// commas, date=2026-11-28,time=11:44:16,devname="FGT200E",...
	comma := !audit && csvPairs(b)
	n, covered, total, lossy := p.parseKV(b, audit, false, comma)
	if n < 3 || covered*5 < total*4 {
		p.pairs = p.pairs[:0]
		return false
	}
	pl := &p.pl
	pl.format, pl.safeKeys = fmtKV, true
	if p.markDups(true) || lossy {
		pl.message = body
	}
	var date, tim, tz, devid, amsg []byte
	var logid, devname bool
	for k := range p.pairs {
		pr := &p.pairs[k]
		if pr.dup {
			continue
		}
		switch string(pr.key) {
		case "date":
			date = pr.val
		case "time":
			tim = pr.val
		case "tz":
			tz = pr.val
		case "devid":
			devid = pr.val
		case "logid":
			logid = true
		case "devname":
			devname = true
		case "msg":
			if amsg == nil {
				amsg = pr.val
			}
		}
	}
	switch {
	case audit:
		pl.dataset = "linux.auditd"
		if hasPrefix(amsg, "audit(") {
			e := amsg[len("audit("):]
			if j := bytes.IndexByte(e, ':'); j > 0 {
				if ns, ok := timeparse.ParseEpoch(e[:j]); ok {
					pl.hasTime, pl.ns = true, ns
				}
			}
		}
	case hasPrefix(devid, "FG") || logid && devname:
		pl.dataset = "fortinet.fortigate"
		// Without tz, date/time are in Options.Location: they replace only
		// a header time that has no zone of its own either.
		if len(tz) > 0 || !p.h.hasTime || !p.h.zoned {
			pl.ns, pl.hasTime = p.fortiTime(date, tim, tz)
		}
	}
	return true
}

// fortiTime builds the event time from FortiGate's date, time and tz.
func (p *Parser) fortiTime(date, tim, tz []byte) (int64, bool) {
	if len(date) != 10 || len(tim) < 8 || len(tim) > 18 {
		return 0, false
	}
	var buf [48]byte
	n := copy(buf[:], date)
	buf[n] = 'T'
	n++
	n += copy(buf[n:], tim)
	if len(tz) > 0 && len(tz) <= 6 {
		m := n
		if tz[0] != '+' && tz[0] != '-' {
			buf[m] = ' '
			m++
		}
		m += copy(buf[m:], tz)
		if ns, ok := timeparse.Parse(buf[:m], time.Time{}); ok {
			return ns, true
		}
	}
	return p.wallTime(buf[:n], false, true)
}

// parseKV appends the pairs of b to p.pairs. It returns the number of pairs,
// the bytes they cover, the non-blank bytes in all, and whether some
// non-blank bytes are in no pair.
func (p *Parser) parseKV(b []byte, audit, inner, comma bool) (n, covered, total int, lossy bool) {
	// comma: pairs are separated by commas too (FortiGate's csv format).
	sep := func(c byte) bool { return isKVSep(c) || (comma && c == ',') }
	i := 0
	for i < len(b) && sep(b[i]) {
		i++
	}
	for i < len(b) {
		ks := i
		for i < len(b) && isKVKeyChar(b[i]) {
			i++
		}
		if i == ks || i >= len(b) || b[i] != '=' || !isKVKeyStart(b[ks]) {
			for i < len(b) && !sep(b[i]) {
				i++
			}
			lossy = true
			total += i - ks
			for i < len(b) && sep(b[i]) {
				i++
			}
			continue
		}
		key := b[ks:i]
		i++
		var v []byte
		esc, flat, bare := false, false, false
		switch {
		case i < len(b) && b[i] == '"':
			j := i + 1
			if k := bytes.IndexByte(b[j:], '"'); k >= 0 && bytes.IndexByte(b[j:j+k], '\\') < 0 {
				j += k // no escapes: the first quote closes
			} else {
				for j < len(b) && b[j] != '"' {
					if b[j] == '\\' {
						esc = true
						j++
					}
					j++
				}
			}
			if j >= len(b) {
				v, i = b[i+1:], len(b)
			} else {
				v, i = b[i+1:j], j+1
			}
		case i < len(b) && b[i] == '\'':
			if j := bytes.IndexByte(b[i+1:], '\''); j < 0 {
				v, i = b[i+1:], len(b)
			} else {
				v, i = b[i+1:i+1+j], i+2+j
			}
			if audit && !inner && string(key) == "msg" && bytes.IndexByte(v, '=') >= 0 {
				mark := len(p.pairs)
				in, _, _, innerLossy := p.parseKV(v, true, true, false)
				if in > 0 && !innerLossy {
					n += in
					flat = true
				} else {
					p.pairs = p.pairs[:mark]
				}
			}
		default:
			bare = true
			j := i
			for j < len(b) && !sep(b[j]) {
				j++
			}
			v, i = b[i:j], j
			if j < len(b) && len(v) > 1 && v[len(v)-1] == ',' {
				v = v[:len(v)-1] // "k1=v1, k2=v2"
			}
		}
		if !flat {
			p.pairs = append(p.pairs, pair{key: key, val: v, esc: esc,
				hex: audit && bare && auditHex(key, v)})
			n++
		}
		covered += i - ks
		if i < len(b) && !sep(b[i]) { // text glued after a closing quote
			lossy = true
			for i < len(b) && !sep(b[i]) {
				i++
			}
		}
		total += i - ks
		for i < len(b) && sep(b[i]) {
			i++
		}
	}
	return n, covered, total, lossy
}
