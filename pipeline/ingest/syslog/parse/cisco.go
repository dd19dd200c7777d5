package parse

import (
	"bytes"
	"net/netip"
	"unsafe"
)

// parseCisco recognizes "%ASA-<sev>-<id>: text" and "%FTD-<sev>-<id>: text".
// The text is kept as "message"; for the connection messages 302013/302015
// (built), 302014/302016 (teardown), 106023 (deny) and 106100 (ACL
// permit/deny) source and destination address and port and event.action
// are extracted following Cisco's documented message formats. Other IDs keep
// just the message.
func (p *Parser) parseCisco(b []byte) bool {
	if len(b) < 10 || b[0] != '%' {
		return false
	}
	ftd := false
	switch string(b[1:5]) {
	case "ASA-":
	case "FTD-":
		ftd = true
	default:
		return false
	}
	// An optional message class before the level: %ASA-session-5-106100.
	lv := 5
	for lv < len(b) && lv-5 <= 16 && b[lv] >= 'a' && b[lv] <= 'z' {
		lv++
	}
	if lv > 5 {
		if lv >= len(b) || b[lv] != '-' {
			return false
		}
		lv++
	}
	if lv+2 >= len(b) || b[lv] < '0' || b[lv] > '7' || b[lv+1] != '-' {
		return false
	}
	id := lv + 2
	i := id
	for i < len(b) && isDigit(b[i]) {
		i++
	}
	if i == id || i-id > 9 || i >= len(b) || b[i] != ':' {
		return false
	}
	pl := &p.pl
	pl.format, pl.ftd, pl.ciscoSev, pl.ciscoID = fmtCisco, ftd, b[lv]-'0', b[id:i]
	if lv > 5 {
		pl.ciscoClass = b[5 : lv-1]
	}
	pl.dataset = "cisco.asa"
	if ftd {
		pl.dataset = "cisco.ftd"
	}
	i++
	if i < len(b) && b[i] == ' ' {
		i++
	}
	rest := b[i:]
	if len(rest) > 0 {
		pl.message = rest
	}
	switch string(pl.ciscoID) {
	case "302013", "302015":
		p.asaBuilt(rest)
	case "302014", "302016":
		p.asaTeardown(rest)
	case "106023":
		p.asa106023(rest)
	case "106100":
		p.asa106100(rest)
	case "430001", "430002", "430003", "430004", "430005":
		if ftd {
			p.ftdSecurityEvent(rest)
		}
	}
	return true
}

// ftdSecurityEvent reads the security events of Firepower Threat Defense
// (430001 intrusion, 430002 connection start, 430003 connection end, 430004
// and 430005 file and malware events): "Key: Value" pairs separated by
// ", ", keys of letters, digits, spaces and '_' or '-' (Prefilter Policy),
// values anything up to the next ", Key: " (User: No Authentication
// Required). The pairs go under cisco.ftd.security_event as sent; SrcIP,
// DstIP, SrcPort and DstPort also make source and destination, and
// AccessControlRuleAction event.action; the message is not kept (unless a
// key repeats). Text that is not such pairs leaves just the message.
func (p *Parser) ftdSecurityEvent(b []byte) {
	p.pairs = p.pairs[:0]
	keyStart := 0
	for keyStart < len(b) {
		c := bytes.Index(b[keyStart:], []byte(": "))
		if c < 0 {
			break
		}
		key := b[keyStart : keyStart+c]
		if !ftdKey(key) {
			p.pairs = p.pairs[:0]
			return
		}
		v := keyStart + c + 2
		// The value ends at the first ", " followed by a key and ": ".
		// The next ": " is found once and again only once passed, and a
		// key is at most 64 bytes: linear in the line, whatever the value
		// holds (a user agent's commas).
		end, next := len(b), len(b)
		colon := -1 // the next ": " at or after k, or len(b)
		for j := v; j+1 < len(b); j++ {
			if b[j] != ',' || b[j+1] != ' ' {
				continue
			}
			k := j + 2
			if colon < k {
				if e := bytes.Index(b[k:], []byte(": ")); e >= 0 {
					colon = k + e
				} else {
					colon = len(b)
				}
			}
			if e := colon - k; colon < len(b) && e > 0 && e <= 64 && ftdKey(b[k:colon]) {
				end, next = j, k
				break
			}
		}
		p.pairs = append(p.pairs, pair{key: key, val: b[v:end]})
		keyStart = next
	}
	if len(p.pairs) < 3 {
		p.pairs = p.pairs[:0]
		return
	}
	pl := &p.pl
	pl.ftdEvent = true
	if !p.markDups(false) {
		pl.message = nil // every word is in the pairs
	}
	for k := range p.pairs {
		pr := &p.pairs[k]
		if pr.dup {
			continue
		}
		switch string(pr.key) {
		case "SrcIP":
			pl.srcIP = pr.val
		case "DstIP":
			pl.dstIP = pr.val
		case "SrcPort":
			pl.srcPt = pr.val
		case "DstPort":
			pl.dstPt = pr.val
		case "AccessControlRuleAction":
			switch string(pr.val) {
			case "Allow":
				pl.action = "allow"
			case "Trust":
				pl.action = "trust"
			case "Block", "Block with reset", "Interactive Block", "Interactive Block with reset":
				pl.action = "block"
			case "Monitor":
				pl.action = "monitor"
			}
		}
	}
}

// ftdKey reports whether k is a key of an FTD security event: 1 to 64
// letters, digits, spaces, '_' or '-', starting with a letter.
func ftdKey(k []byte) bool {
	if len(k) == 0 || len(k) > 64 || !(k[0] >= 'A' && k[0] <= 'Z' || k[0] >= 'a' && k[0] <= 'z') {
		return false
	}
	for _, c := range k {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == ' ' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// after returns what follows the first occurrence of sep in b.
func after(b []byte, sep string) ([]byte, bool) {
	i := bytes.Index(b, []byte(sep))
	if i < 0 {
		return nil, false
	}
	return b[i+len(sep):], true
}

// colonEndpoint parses "interface:address[/port]" at the start of b, up to a
// space or '('.
func colonEndpoint(b []byte) (ip, port []byte) {
	e := 0
	for e < len(b) && b[e] != ' ' && b[e] != '(' {
		e++
	}
	t := b[:e]
	c := bytes.IndexByte(t, ':')
	if c < 0 {
		return nil, nil
	}
	t = t[c+1:]
	if s := bytes.LastIndexByte(t, '/'); s >= 0 {
		return t[:s], t[s+1:]
	}
	return t, nil
}

// slashEndpoint parses "interface/address(port)" at the start of b.
func slashEndpoint(b []byte) (ip, port []byte) {
	e := bytes.IndexByte(b, ' ')
	if e < 0 {
		e = len(b)
	}
	t := b[:e]
	s := bytes.IndexByte(t, '/')
	if s < 0 {
		return nil, nil
	}
	t = t[s+1:]
	o := bytes.IndexByte(t, '(')
	if o < 0 {
		return t, nil
	}
	ip, t = t[:o], t[o+1:]
	if c := bytes.IndexByte(t, ')'); c >= 0 {
		port = t[:c]
	}
	return ip, port
}

// asaBuilt: "Built {inbound|outbound} {TCP|UDP} connection id for
// iface:addr/port (mapped/port) [(user)] to iface:addr/port (mapped/port)...".
// The "for" side is the outside one: for outbound connections the initiator
// (source) is the "to" side.
func (p *Parser) asaBuilt(b []byte) {
	r, ok := after(b, "Built ")
	if !ok {
		return
	}
	pl := &p.pl
	pl.action = "built"
	outbound := hasPrefix(r, "outbound ")
	if f, ok := after(r, " for "); ok {
		pl.srcIP, pl.srcPt = colonEndpoint(f)
		if t, ok := after(f, " to "); ok {
			pl.dstIP, pl.dstPt = colonEndpoint(t)
		}
	}
	if outbound {
		pl.srcIP, pl.dstIP = pl.dstIP, pl.srcIP
		pl.srcPt, pl.dstPt = pl.dstPt, pl.srcPt
	}
}

// asaTeardown: "Teardown {TCP|UDP} connection id for iface:addr/port
// [(user)] to iface:addr/port [(user)] duration ... bytes ...".
func (p *Parser) asaTeardown(b []byte) {
	r, ok := after(b, "Teardown ")
	if !ok {
		return
	}
	pl := &p.pl
	pl.action = "teardown"
	if f, ok := after(r, " for "); ok {
		pl.srcIP, pl.srcPt = colonEndpoint(f)
		if t, ok := after(f, " to "); ok {
			pl.dstIP, pl.dstPt = colonEndpoint(t)
		}
	}
}

// asa106023: "Deny protocol src iface:addr[/port] dst iface:addr[/port]
// [(type t, code c)] by access-group acl [hashes]".
func (p *Parser) asa106023(b []byte) {
	if !hasPrefix(b, "Deny ") {
		return
	}
	pl := &p.pl
	pl.action = "deny"
	if s, ok := after(b, " src "); ok {
		pl.srcIP, pl.srcPt = colonEndpoint(s)
		if d, ok := after(s, " dst "); ok {
			pl.dstIP, pl.dstPt = colonEndpoint(d)
		}
	}
}

// asa106100: "access-list acl {permitted|denied|est-allowed} protocol
// iface/addr(port) [(user, sg)] -> iface/addr(port) hit-cnt n ...".
func (p *Parser) asa106100(b []byte) {
	r, ok := after(b, "access-list ")
	if !ok {
		return
	}
	// skip the ACL name
	sp := bytes.IndexByte(r, ' ')
	if sp < 0 {
		return
	}
	r = r[sp+1:]
	pl := &p.pl
	switch {
	case hasPrefix(r, "permitted "), hasPrefix(r, "est-allowed "):
		pl.action = "permit"
	case hasPrefix(r, "denied "):
		pl.action = "deny"
	default:
		return
	}
	// action and protocol words
	for k := 0; k < 2; k++ {
		sp = bytes.IndexByte(r, ' ')
		if sp < 0 {
			return
		}
		r = r[sp+1:]
	}
	pl.srcIP, pl.srcPt = slashEndpoint(r)
	if d, ok := after(r, "-> "); ok {
		pl.dstIP, pl.dstPt = slashEndpoint(d)
	}
}

// appendCisco writes "cisco":{...}, and source/destination when found.
func (p *Parser) appendCisco(dst []byte) []byte {
	pl := &p.pl
	if pl.ftd {
		dst = append(dst, `"cisco":{"ftd":{"message_id":`...)
	} else {
		dst = append(dst, `"cisco":{"asa":{"message_id":`...)
	}
	dst = appendStr(dst, pl.ciscoID)
	dst = append(dst, `,"severity":`...)
	dst = append(dst, '0'+pl.ciscoSev)
	if len(pl.ciscoClass) > 0 {
		dst = append(dst, `,"message_class":`...)
		dst = appendStr(dst, pl.ciscoClass)
	}
	if pl.ftdEvent {
		dst = append(dst, `,"security_event":{`...)
		dst = p.appendPairs(dst, true)
		dst = append(dst, '}')
	}
	dst = append(dst, "}},"...)
	dst = appendEndpoint(dst, "source", pl.srcIP, pl.srcPt)
	return appendEndpoint(dst, "destination", pl.dstIP, pl.dstPt)
}

// appendEndpoint writes "name":{"ip":..,"port":n}, when ip is set; a port
// that is not a number 0..65535 is left out (it stays in "message").
// isIPText reports whether b is an IP address. Names are told apart by
// their bytes first (no allocation); only text of IP characters is parsed.
func isIPText(b []byte) bool {
	if len(b) == 0 || len(b) > 64 {
		return false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':' || c == '%') {
			return false
		}
	}
	// A view of b: the error that could keep it is dropped here.
	_, err := netip.ParseAddr(unsafe.String(&b[0], len(b)))
	return err == nil
}

func appendEndpoint(dst []byte, name string, ip, port []byte) []byte {
	if len(ip) == 0 {
		return dst
	}
	dst = append(dst, '"')
	dst = append(dst, name...)
	// An ASA with "names" configured logs a name where the address was
	// (dmz:OCSP_Server/5678): .ip holds IP addresses only (ECS; OpenSearch
	// maps it as ip), a name goes to .address.
	if isIPText(ip) {
		dst = append(dst, `":{"ip":`...)
	} else {
		dst = append(dst, `":{"address":`...)
	}
	dst = appendStr(dst, ip)
	if isPort(port) {
		dst = append(dst, `,"port":`...)
		dst = append(dst, port...)
	}
	return append(dst, "},"...)
}
