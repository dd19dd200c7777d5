package parse

import (
	"bytes"
	"strings"
)

// format is the embedded payload recognized in MSG.
type format uint8

const (
	fmtText format = iota
	fmtJSON
	fmtCEF
	fmtLEEF
	fmtCisco
	fmtPANOS
	fmtSnare
	fmtKV
	fmtCheckPoint
	fmtWinXML
	fmtWinClassic
	fmtNXLogXML
)

var formatNames = [...]string{"", FormatJSON, FormatCEF, FormatLEEF, FormatCiscoASA, FormatPANOS, FormatSnare, FormatKV, FormatCheckPoint, FormatWinXML, FormatWinClassic, FormatNXLogXML}

// replacesMessage reports whether the format's fields replace "message"
// (and event.original may keep the line).
func (f format) replacesMessage() bool {
	switch f {
	case fmtJSON, fmtCEF, fmtLEEF, fmtPANOS, fmtKV, fmtCheckPoint, fmtWinXML, fmtWinClassic, fmtNXLogXML:
		return true
	}
	return false
}

// Top-level keys the header writes; a JSON payload member with one of these
// names replaces the header's (logrouter is reserved).
const (
	keyTimestamp uint8 = 1 << iota
	keyLog
	keyHost
	keyProcess
	keyMessage
	keyEvent
	keyLogrouter
)

// reservedKey returns the bit of a top-level key the parser writes itself.
func reservedKey(k []byte) uint8 {
	switch string(k) {
	case "timestamp":
		return keyTimestamp
	case "log":
		return keyLog
	case "host":
		return keyHost
	case "process":
		return keyProcess
	case "message":
		return keyMessage
	case "event":
		return keyEvent
	case "logrouter":
		return keyLogrouter
	}
	if len(k) > len("logrouter.") && string(k[:len("logrouter.")]) == "logrouter." {
		return keyLogrouter // "logrouter.token" reads as logrouter.token too
	}
	return 0
}

// reservedPath reports whether a key=value key is, or is a dotted path into,
// a top-level key the parser writes itself ("event.dataset", "host.hostname"
// read as the same fields in the normalizer and OpenSearch, and the literal
// dotted key is looked up first): such a pair is not written, so that text
// in a line cannot relabel its source type or host for the rules. JSON
// payloads, the device's own structure, keep reservedKey's exact names.
func reservedPath(k []byte) bool {
	if reservedKey(k) != 0 {
		return true
	}
	i := bytes.IndexByte(k, '.')
	return i > 0 && reservedKey(k[:i]) != 0
}

// span is a field of a delimited line; esc reports escapes to resolve.
type span struct {
	b   []byte
	esc bool
}

// pair is one key=value pair; dup marks a pair not written (a duplicate or
// a reserved key), whose information stays in "message".
type pair struct {
	key, val []byte
	esc      bool
	dup      bool
	hex      bool // an audit record's hex-encoded string (auditHex)
}

// payload is what detect found in MSG.
type payload struct {
	format   format
	dataset  string
	action   string
	hasTime  bool
	ns       int64
	message  []byte // written as "message"; nil: none
	jsonKeys uint8  // reserved keys present in a JSON payload
	obj      []byte // JSON payload members, between the braces

	hdr      [7][]byte // CEF / LEEF header fields
	hdrEsc   uint8     // CEF header fields with escapes (bit per field)
	cefEsc   bool      // extension values use CEF escapes
	cpEsc    bool      // values use Check Point's escapes (\", \\, \])
	safeKeys bool      // pair keys are plain ASCII (KV, CEF): written without escaping

	ftd          bool
	ftdEvent     bool // an FTD security event: p.pairs under cisco.ftd.security_event
	ciscoID      []byte
	ciscoClass   []byte // the tag's message class (%ASA-session-5-...), if any
	ciscoSev     byte
	srcIP, srcPt []byte
	dstIP, dstPt []byte

	panos []panosCol // column names for p.cols
}

// detect recognizes the payload of body and fills p.pl; a JSON object is
// one candidate only when json is set.
func (p *Parser) detect(body []byte, json bool) {
	pl := &p.pl
	*pl = payload{}
	b := body
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	if len(b) == 0 {
		if len(body) > 0 {
			pl.message = body
		}
		return
	}
	switch b[0] {
	case '{':
		if json && p.detectJSON(b) {
			return
		}
	case 'C':
		if hasPrefix(b, "CEF:") && p.parseCEF(b, body, 4) {
			return
		}
	case '0', '1':
		// Defender for Identity (Azure ATP) writes RFC 5424 with APP-NAME
		// "CEF" and the header after it: "CEF 6076 LdapBruteForce... 0|
		// Microsoft|Azure ATP|..." (Microsoft's SIEM log reference).
		if string(p.h.app) == "CEF" && len(b) > 2 && b[1] == '|' && p.parseCEF(b, body, 0) {
			return
		}
	case 'L':
		if hasPrefix(b, "LEEF:") && p.parseLEEF(b, body) {
			return
		}
	case '%':
		if p.parseCisco(b) {
			return
		}
	case 'M':
		if hasPrefix(b, "MSWinEventLog\t") && p.parseSnare(b) {
			return
		}
	case '<':
		if p.parseWinXML(b) {
			p.winPayload(fmtWinXML)
			return
		}
	case '\r', '\n', 0xEF:
		// A Windows event after a line end (one event per line, after a
		// newline) or a UTF-8 byte order mark (an exported file): the
		// gate in front of format windows skips them too.
		if p.detectWindows(trimWindowsLead(b)) {
			return
		}
	case '[':
		if p.parseCheckPoint(b, body) {
			return
		}
	}
	if p.parseWinClassic(b) {
		p.winPayload(fmtWinClassic)
		return
	}
	if p.parseCheckPointPipes(b, body) {
		return
	}
	if p.detectPANOS(b, body) || p.detectKV(b, body) {
		return
	}
	pl.message = body
	if isAudit(b) {
		pl.dataset = "linux.auditd"
	}
}

// isAudit reports whether b is a Linux audit record (type=... msg=audit(...)).
func isAudit(b []byte) bool {
	return (hasPrefix(b, "type=") || hasPrefix(b, "node=")) && bytes.Contains(b, []byte("msg=audit("))
}

// appendPayload writes the payload's fields, each followed by a comma.
func (p *Parser) appendPayload(dst []byte) []byte {
	switch pl := &p.pl; pl.format {
	case fmtJSON:
		if obj := bytes.TrimSpace(pl.obj); len(obj) > 0 {
			dst = appendValidUTF8(dst, obj)
			dst = append(dst, ',')
		}
	case fmtCEF:
		dst = p.appendCEF(dst)
	case fmtLEEF:
		dst = p.appendLEEF(dst)
	case fmtCisco:
		dst = p.appendCisco(dst)
	case fmtPANOS:
		dst = p.appendPANOS(dst)
	case fmtSnare:
		dst = p.appendSnare(dst)
	case fmtWinXML, fmtWinClassic, fmtNXLogXML:
		dst = p.appendWin(dst)
	case fmtKV, fmtCheckPoint:
		dst = p.appendPairs(dst, false)
	}
	return dst
}

// appendPairs writes p.pairs (those not marked dup) as string members:
// comma-separated inside an object when nested, else as top-level members
// each followed by a comma.
func (p *Parser) appendPairs(dst []byte, nested bool) []byte {
	first := true
	for k := range p.pairs {
		pr := &p.pairs[k]
		if pr.dup {
			continue
		}
		if nested && !first {
			dst = append(dst, ',')
		}
		first = false
		if p.pl.safeKeys {
			dst = append(dst, '"')
			dst = append(dst, pr.key...)
			dst = append(dst, '"', ':')
		} else {
			dst = appendStr(dst, pr.key)
			dst = append(dst, ':')
		}
		v := pr.val
		if pr.hex {
			v = p.unhex(v)
		}
		if pr.esc {
			switch {
			case p.pl.cefEsc:
				v = p.unescapeCEF(v)
			case p.pl.cpEsc:
				v = p.unescapeCheckPoint(v)
			default:
				v = p.unescapeQuoted(v)
			}
		}
		dst = appendStr(dst, v)
		if !nested {
			dst = append(dst, ',')
		}
	}
	return dst
}

// markDups marks duplicate keys (the first wins) and, when top is set, keys
// the parser writes itself; it reports whether any pair was marked.
func (p *Parser) markDups(top bool) (lossy bool) {
	ks := &p.keys
	ks.reset(len(p.pairs))
	for k := range p.pairs {
		pr := &p.pairs[k]
		// A "message" pair is never a field: "message" holds the whole MSG
		// whenever anything is lossy, and the two would clash (found by
		// FuzzAppendJSON: "0 A= B= message=").
		if top && reservedPath(pr.key) || ks.add(pr.key, int32(k)) {
			pr.dup, lossy = true, true
		}
	}
	return lossy
}

// appendField writes "key":value (value non-empty), comma-separated.
func appendField(dst []byte, first *bool, key string, val []byte) []byte {
	if len(val) == 0 {
		return dst
	}
	if !*first {
		dst = append(dst, ',')
	}
	*first = false
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	return appendStr(dst, val)
}

// unescapeCheckPoint resolves \", \\ and \] (Log Exporter escapes a
// bracket in a value, as RFC 5424 does in parameter values) and, for its
// Splunk format, \= and \| into p.scratch; other backslashes stay.
func (p *Parser) unescapeCheckPoint(v []byte) []byte { return p.unescapeBackslash(v, `"\]=|`) }

// unescapeQuoted resolves \" and \\ into p.scratch; other backslashes stay.
func (p *Parser) unescapeQuoted(v []byte) []byte { return p.unescapeBackslash(v, `"\`) }

// unescapeBackslash resolves a backslash before any byte of escaped into
// that byte, in p.scratch; other backslashes stay.
func (p *Parser) unescapeBackslash(v []byte, escaped string) []byte {
	s := p.scratch[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) && strings.IndexByte(escaped, v[i+1]) >= 0 {
			i++
			c = v[i]
		}
		s = append(s, c)
	}
	p.scratch = s
	return s
}

// unhex decodes an audit record's hex-encoded string into p.scratch; the
// NULs between a proctitle's arguments become spaces, as ausearch -i
// shows them.
func (p *Parser) unhex(v []byte) []byte {
	s := p.scratch[:0]
	for i := 0; i+1 < len(v); i += 2 {
		c := hexVal(v[i])<<4 | hexVal(v[i+1])
		if c == 0 {
			c = ' '
		}
		s = append(s, c)
	}
	p.scratch = s
	return bytes.TrimRight(s, " ")
}

func hexVal(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// auditHex reports whether v, the bare (unquoted) value of key in a Linux
// audit record, is hex-encoded: the kernel and auditd write the strings a
// user controls (acct, exe, comm, cmd, cwd, name, proctitle...) quoted, or
// as hex when they hold a space, a quote or a control character (an
// account "john doe" is acct=6A6F686E20646F65).
func auditHex(key, v []byte) bool {
	switch string(key) {
	case "acct", "exe", "comm", "cmd", "cwd", "name", "path", "proctitle", "old-chardev", "new-chardev":
	default:
		return false
	}
	if len(v) < 2 || len(v)%2 != 0 {
		return false
	}
	for _, c := range v {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// appDataset maps the APP-NAME or TAG to a source type.
func (p *Parser) appDataset() string {
	a := p.h.app
	if len(a) == 0 || len(a) > 16 {
		return ""
	}
	var buf [16]byte
	for i, c := range a {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(a)]) {
	case "sshd", "sshd-session", "sshd-auth", // OpenSSH 9.8 and 10 log logins from these
		"sudo", "su", "login", "systemd-logind", "cron", "crond", "passwd", "polkitd",
		"useradd", "groupadd", "usermod", "userdel", "groupdel", "chpasswd", "pam":
		return "linux.auth"
	case "auditd", "audispd":
		return "linux.auditd"
	}
	return ""
}

// vendorDataset maps a CEF/LEEF vendor and product to a source type.
func vendorDataset(vendor, product []byte) string {
	switch {
	case equalFold(vendor, "crowdstrike"):
		return "crowdstrike.falcon"
	case equalFold(vendor, "palo alto networks") && hasPrefixFold(product, "pan-os"):
		return "paloalto.panos"
	case equalFold(vendor, "fortinet") && hasPrefixFold(product, "fortigate"):
		return "fortinet.fortigate"
	case equalFold(vendor, "check point"):
		return "checkpoint.firewall"
	case equalFold(vendor, "trend micro") && hasPrefixFold(product, "deep security"):
		return "trendmicro.deepsecurity"
	case (equalFold(vendor, "incapsula") || hasPrefixFold(vendor, "imperva")) && equalFold(product, "siemintegration"):
		// Imperva Cloud WAF's own dictionary use (not SecureSphere's).
		return "imperva.cloud_waf"
	}
	return ""
}
