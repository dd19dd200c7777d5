package parse

import (
	"bytes"
	"net/netip"
	"time"
	"unsafe"

	"github.com/logrouter/logrouter/internal/timeparse"
)

// maxHeaderField bounds HOSTNAME, APP-NAME, PROCID and MSGID (RFC 5424 allows
// 255, 48, 128 and 32; real senders exceed the shorter ones).
const maxHeaderField = 255

// parsePRI parses "<PRI>" at the start of m: 1-3 digits, 0..191, no leading
// zero except "0". It returns the value and the index after '>'.
func parsePRI(m []byte) (pri, next int, ok bool) {
	if len(m) < 3 || m[0] != '<' {
		return 0, 0, false
	}
	i := 1
	for i < len(m) && i <= 4 && isDigit(m[i]) {
		pri = pri*10 + int(m[i]-'0')
		i++
	}
	n := i - 1
	if n == 0 || n > 3 || i >= len(m) || m[i] != '>' || (m[1] == '0' && n > 1) || pri > 191 {
		return 0, 0, false
	}
	return pri, i + 1, true
}

// token returns the header field at m[i:] up to the next space: 1..max
// printable ASCII characters (0x21..0x7e) that must be followed by a space.
// next is the index after that space.
func token(m []byte, i, max int) (tok []byte, next int, ok bool) {
	j := i
	for j < len(m) && m[j] != ' ' {
		if c := m[j]; c < 0x21 || c > 0x7e {
			return nil, 0, false
		}
		j++
	}
	if j == i || j-i > max || j >= len(m) {
		return nil, 0, false
	}
	return m[i:j], j + 1, true
}

// nilOr returns nil for the NILVALUE "-", else tok.
func nilOr(tok []byte) []byte {
	if len(tok) == 1 && tok[0] == '-' {
		return nil
	}
	return tok
}

// parse5424 parses an RFC 5424 header into p.h.
func (p *Parser) parse5424(m []byte) bool {
	h := &p.h
	*h = header{status: StatusRFC5424, pri: -1}
	pri, i, ok := parsePRI(m)
	if !ok {
		return false
	}
	// VERSION: 1-3 digits, the first not 0, then SP.
	j := i
	v := 0
	for j < len(m) && j-i < 3 && isDigit(m[j]) {
		v = v*10 + int(m[j]-'0')
		j++
	}
	if j == i || m[i] == '0' || j >= len(m) || m[j] != ' ' {
		return false
	}
	h.pri, h.version = pri, v
	ts, i, ok := token(m, j+1, 64)
	if !ok {
		return false
	}
	if ns, ok := epochStamp(ts); ok {
		// Cisco Meraki: "<134>1 1637691198.348361125 host type event
		// key=value...": epoch seconds for a timestamp, then the host and
		// the log type (security_event, flows, urls, events), then the
		// message; no PROCID, MSGID or SD.
		host, k, ok := token(m, i, maxHeaderField)
		if !ok {
			return false
		}
		app, k2, ok := token(m, k, maxHeaderField)
		if !ok {
			return false
		}
		h.hasTime, h.ns, h.zoned, h.off = true, ns, true, 0
		h.host, h.app = nilOr(host), nilOr(app)
		h.body = m[min(k2, len(m)):]
		return true
	}
	if !(len(ts) == 1 && ts[0] == '-') {
		// FULL-DATE "T" FULL-TIME (RFC 5424 6.2.3): a date alone (a
		// sender writing "2024-05-01 13:15:02") is no RFC 5424 header;
		// the BSD parser reads that form.
		if len(ts) < 19 || !isDigit(ts[0]) || ts[4] != '-' || (ts[10] != 'T' && ts[10] != 't') {
			return false
		}
		// RFC 5424 requires TIME-OFFSET; one without it (accepted
		// leniently) is a wall-clock time like an RFC 3164 one: read in
		// Options.Location, and replaceable by a zoned payload time.
		zoned := isoHasZone(ts)
		var ns int64
		if zoned {
			ns, ok = timeparse.Parse(ts, time.Time{})
		} else {
			ns, ok = p.wallTime(ts, false, true)
		}
		if !ok {
			return false
		}
		h.hasTime, h.ns, h.zoned = true, ns, zoned
		if zoned {
			h.off = isoOffset(ts)
		}
	}
	var host, app, procid, msgid []byte
	if host, i, ok = token(m, i, maxHeaderField); !ok {
		return false
	}
	if rest := m[i:]; bytes.HasPrefix(rest, []byte("LEEF:")) || bytes.HasPrefix(rest, []byte("CEF:")) {
		// IBM's LEEF guide's RFC 5424 form ("<13>1 <timestamp> <host>"
		// then the LEEF header): no APP-NAME, PROCID, MSGID or SD. The
		// words of a LEEF or CEF header are never those.
		h.host = nilOr(host)
		h.body = rest
		return true
	}
	if app, i, ok = token(m, i, maxHeaderField); !ok {
		return false
	}
	if procid, i, ok = token(m, i, maxHeaderField); !ok {
		return false
	}
	// MSGID may end the message (no SD, no MSG: lenient).
	j = i
	for j < len(m) && m[j] != ' ' {
		if c := m[j]; c < 0x21 || c > 0x7e {
			return false
		}
		j++
	}
	if j == i || j-i > maxHeaderField {
		return false
	}
	msgid = m[i:j]
	h.host, h.app, h.procid, h.msgid = nilOr(host), nilOr(app), nilOr(procid), nilOr(msgid)
	if j >= len(m) {
		return true
	}
	i = j + 1
	// STRUCTURED-DATA: "-", SD-ELEMENTs, or (lenient) absent.
	switch {
	case i < len(m) && m[i] == '-' && (i+1 == len(m) || m[i+1] == ' '):
		i++
	case i < len(m) && m[i] == '[':
		if n, end, ok := p.parseSD(m, i); ok && (end == len(m) || m[end] == ' ') {
			h.nsd = n
			i = end
		} else {
			p.sd, p.params = p.sd[:0], p.params[:0]
			h.body = stripBOM(m[i:])
			return true
		}
	default:
		h.body = stripBOM(m[i:])
		return true
	}
	if i < len(m) {
		i++ // SP before MSG
	}
	// rsyslog relaying an RFC 3164 message in RFC 5424
	// (RSYSLOG_SyslogProtocol23Format) keeps the space its %msg% starts
	// with: "... - -  Failed password". Spaces before MSG are not the
	// message's (a "^Failed" rule would miss it).
	for i < len(m) && m[i] == ' ' {
		i++
	}
	h.body = stripBOM(m[i:])
	return true
}

func stripBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return b[3:]
	}
	return b
}

// sdElem is one SD-ELEMENT: its SD-ID and its parameters p.params[p0:p1].
type sdElem struct {
	id     []byte
	p0, p1 int
	dup    bool // a later element has the same SD-ID
}

// sdParam is one SD-PARAM; esc reports a backslash in the value.
type sdParam struct {
	name, value []byte
	esc         bool
}

// isSDName reports whether c may appear in an SD-ID or PARAM-NAME.
func isSDName(c byte) bool {
	return c > 0x20 && c < 0x7f && c != '=' && c != ']' && c != '"'
}

// parseSD parses SD-ELEMENTs at m[i:] (m[i] == '[') into p.sd and p.params.
// It returns the number of elements and the index after the last ']'.
func (p *Parser) parseSD(m []byte, i int) (n, end int, ok bool) {
	p.sd, p.params = p.sd[:0], p.params[:0]
	for i < len(m) && m[i] == '[' {
		i++
		j := i
		for j < len(m) && isSDName(m[j]) {
			j++
		}
		if j == i || j-i > maxHeaderField || j >= len(m) {
			return 0, 0, false
		}
		e := sdElem{id: m[i:j], p0: len(p.params)}
		i = j
		for {
			if i >= len(m) {
				return 0, 0, false
			}
			if m[i] == ']' {
				i++
				break
			}
			if m[i] != ' ' {
				return 0, 0, false
			}
			for i < len(m) && m[i] == ' ' {
				i++
			}
			if i < len(m) && m[i] == ']' {
				i++
				break
			}
			j = i
			for j < len(m) && isSDName(m[j]) {
				j++
			}
			if j == i || j-i > maxHeaderField || j+1 >= len(m) || m[j] != '=' || m[j+1] != '"' {
				return 0, 0, false
			}
			name := m[i:j]
			i = j + 2
			j = i
			esc := false
			for j < len(m) && m[j] != '"' {
				if m[j] == '\\' {
					esc = true
					if j+1 < len(m) {
						switch m[j+1] {
						case '"', '\\', ']':
							j++
						}
					}
				}
				j++
			}
			if j >= len(m) {
				return 0, 0, false
			}
			p.params = append(p.params, sdParam{name: name, value: m[i:j], esc: esc})
			i = j + 1
		}
		e.p1 = len(p.params)
		p.sd = append(p.sd, e)
	}
	return len(p.sd), i, true
}

// appendSD writes "structured_data":{...}. Duplicate SD-IDs and duplicate
// PARAM-NAMEs within an element: the last one wins.
func (p *Parser) appendSD(dst []byte) []byte {
	dst = append(dst, `"structured_data":{`...)
	ks := &p.keys
	if len(p.sd) > 1 {
		ks.reset(len(p.sd))
		for k := range p.sd {
			ks.put(p.sd[k].id, int32(k))
		}
		for k := range p.sd {
			p.sd[k].dup = ks.get(p.sd[k].id) != int32(k)
		}
	}
	first := true
	for k := range p.sd {
		e := &p.sd[k]
		if e.dup {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendStr(dst, e.id)
		dst = append(dst, ":{"...)
		// Parameters: last wins.
		ps := p.params[e.p0:e.p1]
		dedupe := len(ps) > 1
		if dedupe {
			ks.reset(len(ps))
			for q := range ps {
				ks.put(ps[q].name, int32(q))
			}
		}
		pf := true
		for q := range ps {
			if dedupe && ks.get(ps[q].name) != int32(q) {
				continue
			}
			if !pf {
				dst = append(dst, ',')
			}
			pf = false
			dst = appendStr(dst, ps[q].name)
			dst = append(dst, ':')
			v := ps[q].value
			if ps[q].esc {
				v = p.unescapeSD(v)
			}
			dst = appendStr(dst, v)
		}
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// unescapeSD resolves \" \\ \] into p.scratch; other backslashes are kept.
func (p *Parser) unescapeSD(v []byte) []byte {
	s := p.scratch[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case '"', '\\', ']':
				i++
				c = v[i]
			}
		}
		s = append(s, c)
	}
	p.scratch = s
	return s
}

// parse3164 parses a BSD syslog header into p.h.
func (p *Parser) parse3164(m []byte) bool {
	h := &p.h
	*h = header{status: StatusRFC3164, pri: -1}
	i := 0
	if pri, next, ok := parsePRI(m); ok {
		h.pri, i = pri, next
	}
	// Cisco IOS with "service sequence-numbers": "000123: " before the
	// timestamp, which may be marked "*" (clock not set) or "." (clock
	// not synchronized), and with "logging origin-id hostname" (or ip,
	// or string) the device's name and ": " after it: skipped when a
	// timestamp follows, the origin taken as the host.
	var origin []byte
	if k := ciscoSeq(m, i); k < len(m) {
		if host, after := originID(m, k); after > k {
			// Only in IOS's shape, the time followed by ": %MNEMONIC": a
			// program whose message starts with a time ("myapp: 2026-11-28
			// 10:00:00,123 INFO ...", Python's SysLogHandler) is a TAG.
			if _, end, _, ok := p.parseTimestamp3164(m, clockMark(m, after)); ok && hasPrefix(m[end:], ": %") {
				origin, k = host, after
			}
		}
		if k > i {
			k = clockMark(m, k)
			if _, _, _, ok := p.parseTimestamp3164(m, k); ok {
				i = k
			} else {
				origin = nil
			}
		}
	}
	defer func() {
		if len(h.host) == 0 && origin != nil {
			h.host = origin
		}
	}()
	start := i
	ns, end, zoned, ok := p.parseTimestamp3164(m, i)
	if !ok {
		if h.pri < 0 {
			return false
		}
		p.parseTag(m[i:])
		return true
	}
	h.hasTime, h.ns, h.zoned = true, ns, zoned
	i = end
	if i < len(m) && m[i] == ':' {
		i++ // Cisco: "Sep 14 2020 14:40:47: %ASA-..."
	}
	if i >= len(m) {
		h.body = m[i:]
		return true
	}
	if m[i] != ' ' {
		// Not a timestamp after all (e.g. "Oct 11 22:14:15x").
		h.hasTime = false
		if h.pri < 0 {
			return false
		}
		p.parseTag(m[start:])
		return true
	}
	i++
	// HOSTNAME, unless the token is a TAG or the message itself.
	j := i
	for j < len(m) && isHostChar(m[j]) {
		j++
	}
	if j > i && j < len(m) && m[j] == ' ' && m[j-1] != ':' {
		h.host = m[i:j]
		i = j + 1
		if i+1 < len(m) && m[i] == ':' && m[i+1] == ' ' {
			i += 2 // Cisco: "asa-fw01 : %ASA-..."
		}
	}
	p.parseTag(m[i:])
	return true
}

// clockMark skips the "*" (clock not set) or "." (not synchronized) Cisco
// IOS puts before its timestamp.
func clockMark(m []byte, k int) int {
	if k < len(m) && (m[k] == '*' || m[k] == '.') {
		k++
	}
	return k
}

// originID returns the name at m[i:] of a Cisco IOS "logging origin-id"
// (host characters, no ':'; or an IPv6 address, "logging origin-id ipv6")
// and the index after its ": ", or nil and i.
func originID(m []byte, i int) ([]byte, int) {
	j := i
	for j < len(m) && j-i <= 255 && m[j] != ':' && isHostChar(m[j]) {
		j++
	}
	if j == i || j-i > 255 || j+1 >= len(m) || m[j] != ':' || m[j+1] != ' ' {
		if j < len(m) && m[j] == ':' {
			return originIPv6(m, i)
		}
		return nil, i
	}
	return m[i:j], j + 2
}

// originIPv6 is originID for an IPv6 address: hex digits, ':' and '.' (an
// embedded IPv4) up to the first ": ", which must parse as an address.
func originIPv6(m []byte, i int) ([]byte, int) {
	j := i
	for j < len(m) && j-i <= 45 {
		c := m[j]
		if c == ':' && j+1 < len(m) && m[j+1] == ' ' {
			break
		}
		if c != ':' && c != '.' && !isHex(c) {
			return nil, i
		}
		j++
	}
	if j+1 >= len(m) || m[j] != ':' || m[j+1] != ' ' {
		return nil, i
	}
	// Not copied (a string conversion would escape: one allocation a
	// message): the scan above leaves no zone for netip to keep.
	if a, err := netip.ParseAddr(unsafe.String(&m[i], j-i)); err != nil || !a.Is6() {
		return nil, i
	}
	return m[i:j], j + 2
}

// ciscoSeq returns the index after a Cisco IOS sequence number at m[i:]
// (one to ten digits, ':' and a space), or i when there is none.
func ciscoSeq(m []byte, i int) int {
	j := i
	for j < len(m) && j-i <= 10 && m[j] >= '0' && m[j] <= '9' {
		j++
	}
	if j == i || j-i > 10 || j+1 >= len(m) || m[j] != ':' || m[j+1] != ' ' {
		return i
	}
	return j + 2
}

// isHostChar reports whether c may appear in a host name or IP address.
func isHostChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '-' || c == '_' || c == ':'
}

// isTagChar reports whether c may appear in a TAG (program name).
func isTagChar(c byte) bool {
	if c <= 0x20 || c >= 0x7f {
		return false
	}
	switch c {
	case '[', ']', ':', '=', '"', ',', '{', '}', '|', '%', '\'':
		return false
	}
	return true
}

// maxTag bounds the TAG length (RFC 3164 says 32; real programs are longer).
const maxTag = 64

// parseTag recognizes "name:", "name[pid]:" or "name[pid]" at the start of b
// and sets p.h.app, p.h.procid and p.h.body. A UTF-8 BOM that starts the
// content is dropped, as RFC 5424's MSG's is: RFC 3164 has none, but a
// sender that writes its messages with one (Defender for Identity) puts
// it there whatever the header.
func (p *Parser) parseTag(b []byte) {
	p.tag(b)
	p.h.body = stripBOM(p.h.body)
}

func (p *Parser) tag(b []byte) {
	h := &p.h
	h.body = b
	j := 0
	for j < len(b) && j <= maxTag && isTagChar(b[j]) {
		j++
	}
	if j == 0 || j > maxTag || j >= len(b) {
		return
	}
	switch b[j] {
	case ':':
		if j+1 == len(b) || b[j+1] == ' ' {
			h.app = b[:j]
			h.body = b[min(j+2, len(b)):]
		}
	case ' ':
		// "name -: message": a nil PROCID between the tag and its colon
		// (Vectra's "vectra_cef -: CEF:0|..."; rsyslog's %procid% of "-").
		if j+3 < len(b) && b[j+1] == '-' && b[j+2] == ':' && b[j+3] == ' ' {
			h.app = b[:j]
			h.body = b[j+4:]
		}
	case '[':
		k := j + 1
		for k < len(b) && k-j <= 33 && b[k] > 0x20 && b[k] < 0x7f && b[k] != ']' && b[k] != '[' {
			k++
		}
		if k == j+1 || k >= len(b) || b[k] != ']' {
			return
		}
		e := k + 1
		if e < len(b) && b[e] == ':' {
			e++
		}
		if e < len(b) && b[e] != ' ' {
			return
		}
		h.app, h.procid = b[:j], b[j+1:k]
		h.body = b[min(e+1, len(b)):]
	}
}

// parseTimestamp3164 recognizes a timestamp at m[i:]: "Mmm dd hh:mm:ss"
// variants or ISO 8601. It returns unix ns, the index after it and whether
// it carried its own zone.
func (p *Parser) parseTimestamp3164(m []byte, i int) (ns int64, end int, zoned, ok bool) {
	if i+15 > len(m) {
		return 0, 0, false, false
	}
	if isDigit(m[i]) {
		return p.parseISO3164(m, i)
	}
	if !isMonth(m[i:]) || m[i+3] != ' ' {
		return 0, 0, false, false
	}
	j := i + 4
	if m[j] == ' ' {
		j++ // space-padded day
	}
	// day: 1-2 digits
	if j >= len(m) || !isDigit(m[j]) {
		return 0, 0, false, false
	}
	j++
	if j < len(m) && isDigit(m[j]) {
		j++
	}
	if j >= len(m) || m[j] != ' ' {
		return 0, 0, false, false
	}
	j++
	hasYear := false
	if j+5 <= len(m) && allDigits(m[j:j+4]) && m[j+4] == ' ' {
		hasYear = true // Cisco: "Nov 28 2026 10:00:00"
		j += 5
	}
	// clock hh:mm:ss[.frac]
	if j+8 > len(m) || !isDigit(m[j]) || !isDigit(m[j+1]) || m[j+2] != ':' ||
		!isDigit(m[j+3]) || !isDigit(m[j+4]) || m[j+5] != ':' || !isDigit(m[j+6]) || !isDigit(m[j+7]) {
		return 0, 0, false, false
	}
	j += 8
	if j+1 < len(m) && (m[j] == '.' || m[j] == ',') && isDigit(m[j+1]) {
		j++
		for j < len(m) && isDigit(m[j]) {
			j++
		}
	}
	end = j
	hasZone := false
	// Optional zone abbreviation ("UTC", "CST", ...) and, without a year so
	// far, an optional trailing year (RFC 3164 5.4: "Aug 24 05:34:00 CST 1987").
	if j+1 < len(m) && m[j] == ' ' {
		k := j + 1
		for k < len(m) && k-j <= 4 && m[k] >= 'A' && m[k] <= 'Z' {
			k++
		}
		if k-j >= 2 && (k == len(m) || m[k] == ' ' || m[k] == ':') && isZoneAbbrev(m[j+1:k]) {
			hasZone, end, j = true, k, k
		}
	}
	// A year is followed by a space, the end, or ": " (not "2001:db8::1",
	// an IPv6 HOSTNAME, RFC 3164 4.1.2).
	if !hasYear && j+5 <= len(m) && m[j] == ' ' && allDigits(m[j+1:j+5]) &&
		(j+5 == len(m) || m[j+5] == ' ' || (m[j+5] == ':' && (j+6 == len(m) || m[j+6] == ' '))) {
		hasYear, end = true, j+5
	}
	ns, ok = p.wallTime(m[i:end], hasZone, hasYear)
	return ns, end, hasZone, ok
}

// parseISO3164 parses an ISO 8601 timestamp token in a BSD header.
func (p *Parser) parseISO3164(m []byte, i int) (int64, int, bool, bool) {
	if m[i+4] != '-' || m[i+7] != '-' || (m[i+10] != 'T' && m[i+10] != 't' && m[i+10] != ' ') {
		return 0, 0, false, false
	}
	j := i + 11 // "2026-11-28 10:00:00" has a space inside
	for j < len(m) && m[j] != ' ' {
		j++
	}
	end := j
	if m[end-1] == ':' {
		end-- // "2020-09-14T14:40:47Z: %FTD-..."
	}
	// A zone after one space: "2023-03-01 14:54:44.502 +0100" (Barracuda
	// WAF), "2023-07-01 10:00:00 UTC".
	zoneAfter := false
	if m[end-1] != 'Z' && m[end-1] != 'z' && !isoHasZone(m[i:end]) {
		if k, ok := spacedZone(m, end); ok {
			end, zoneAfter = k, true
		}
	}
	ts := m[i:end]
	hasZone := zoneAfter || isoHasZone(ts)
	ns, ok := p.wallTime(ts, hasZone, true)
	return ns, end, hasZone, ok
}

// spacedZone reads a zone at m[j:] written after one space: a numeric
// offset (+hh:mm, +hhmm) or an abbreviation timeparse knows, ending the
// token (a space, the end, or ':'). k is the index after it.
func spacedZone(m []byte, j int) (k int, ok bool) {
	if j+1 >= len(m) || m[j] != ' ' {
		return 0, false
	}
	k = j + 1
	switch c := m[k]; {
	case c == '+' || c == '-':
		k++
		d := 0
		for k < len(m) && (isDigit(m[k]) || (m[k] == ':' && d == 2)) {
			if m[k] != ':' {
				d++
			}
			k++
		}
		if d != 4 {
			return 0, false
		}
	case c >= 'A' && c <= 'Z':
		for k < len(m) && m[k] >= 'A' && m[k] <= 'Z' {
			k++
		}
		if !isZoneAbbrev(m[j+1 : k]) {
			return 0, false
		}
	default:
		return 0, false
	}
	if k == len(m) || m[k] == ' ' {
		return k, true
	}
	if m[k] == ':' && (k+1 == len(m) || m[k+1] == ' ') {
		return k, true // "... UTC: message" (the ':' ends the header)
	}
	return 0, false
}

// isoHasZone reports whether the ISO 8601 timestamp ts ends in Z or has
// a numeric offset after its seconds.
// epochStamp reads a header timestamp written as epoch seconds with a
// fraction (Meraki's 1637691198.348361125): ten digits, a dot, digits.
func epochStamp(ts []byte) (int64, bool) {
	if len(ts) < 12 || len(ts) > 21 || ts[10] != '.' {
		return 0, false
	}
	for k, c := range ts {
		if k != 10 && !isDigit(c) {
			return 0, false
		}
	}
	return timeparse.ParseEpoch(ts)
}

// isoOffset returns the offset of a zoned ISO time (isoHasZone), seconds
// east of UTC: 0 for Z.
func isoOffset(ts []byte) int {
	for i := len(ts) - 1; i >= 19; i-- {
		switch ts[i] {
		case '+', '-':
			d := ts[i+1:]
			if len(d) == 5 && d[2] == ':' {
				d = []byte{d[0], d[1], d[3], d[4]}
			}
			if len(d) != 4 && len(d) != 2 {
				return 0
			}
			for _, c := range d {
				if !isDigit(c) {
					return 0
				}
			}
			off := int(d[0]-'0')*36000 + int(d[1]-'0')*3600
			if len(d) == 4 {
				off += int(d[2]-'0')*600 + int(d[3]-'0')*60
			}
			if ts[i] == '-' {
				off = -off
			}
			return off
		}
	}
	return 0
}

func isoHasZone(ts []byte) bool {
	switch c := ts[len(ts)-1]; {
	case c == 'Z' || c == 'z':
		return true
	case len(ts) > 19:
		for _, c := range ts[19:] {
			if c == '+' || c == '-' {
				return true
			}
		}
	}
	return false
}

// wallTime parses ts with timeparse.Parse; a timestamp without a zone is in
// p.loc and one without a year is placed closest to p.now().
func (p *Parser) wallTime(ts []byte, hasZone, hasYear bool) (int64, bool) {
	var now time.Time
	if !hasYear {
		now = p.now()
	}
	if p.utc {
		return timeparse.Parse(ts, now)
	}
	if hasZone {
		// Read in the input's zone, so that an abbreviation it gives
		// another meaning (CST in Asia/Shanghai is +08:00, not US
		// Central) takes that one.
		_, off := p.now().In(p.loc).Zone()
		return timeparse.ParseIn(ts, now, int64(off))
	}
	if !hasYear {
		// Infer the year against the local wall clock.
		_, off := now.In(p.loc).Zone()
		now = now.Add(time.Duration(off) * time.Second)
	}
	w, ok := timeparse.Parse(ts, now)
	if !ok {
		return 0, false
	}
	return p.wallToUTC(w), true
}

// wallToUTC converts a wall-clock time in p.loc, given as if it were UTC
// nanoseconds, to UTC nanoseconds.
func (p *Parser) wallToUTC(w int64) int64 {
	t := time.Unix(0, w).UTC()
	y, mo, d := t.Date()
	hh, mm, ss := t.Clock()
	return time.Date(y, mo, d, hh, mm, ss, t.Nanosecond(), p.loc).UnixNano()
}

// isZoneAbbrev reports whether b is a zone abbreviation timeparse accepts.
func isZoneAbbrev(b []byte) bool { return timeparse.IsZoneAbbrev(b) }

func allDigits(b []byte) bool {
	for _, c := range b {
		if !isDigit(c) {
			return false
		}
	}
	return len(b) > 0
}

// isMonth reports whether b starts with a three-letter English month name
// (first letter upper or lower case, as senders vary).
func isMonth(b []byte) bool {
	if len(b) < 3 {
		return false
	}
	k := uint32(b[0]|0x20)<<16 | uint32(b[1]|0x20)<<8 | uint32(b[2]|0x20)
	switch k {
	case 'j'<<16 | 'a'<<8 | 'n', 'f'<<16 | 'e'<<8 | 'b', 'm'<<16 | 'a'<<8 | 'r',
		'a'<<16 | 'p'<<8 | 'r', 'm'<<16 | 'a'<<8 | 'y', 'j'<<16 | 'u'<<8 | 'n',
		'j'<<16 | 'u'<<8 | 'l', 'a'<<16 | 'u'<<8 | 'g', 's'<<16 | 'e'<<8 | 'p',
		'o'<<16 | 'c'<<8 | 't', 'n'<<16 | 'o'<<8 | 'v', 'd'<<16 | 'e'<<8 | 'c':
		return true
	}
	return false
}
