package parse

// parseCheckPoint accepts b as Check Point Log Exporter's syslog format
// (its default; Filebeat's checkpoint module reads only this one): after
// the RFC 5424 header, one bracketed list of key:"value" pairs separated by
// "; " in the place of structured data, which it is not (RFC 5424 wants
// name="value"), so the header parser leaves it as MSG:
//
//	[action:"Drop"; ifdir:"inbound"; origin:"10.0.0.1"; src:"192.0.2.7"; dst:"198.51.100.9"; s_port:"52780"; service:"80"; proto:"6"]
//
// Values are double-quoted with \", \\ and \] escapes (a key may be
// followed by two colons: sys_message::"..."). At least three pairs,
// and nothing but blanks after the closing bracket; keys are the vendor's
// (src, dst, s_port, service, action...), written as top-level string
// fields (the checkpoint.firewall profile maps them), dataset
// checkpoint.firewall when the APP-NAME is CheckPoint or there is none. Duplicate and reserved keys are handled as for
// key=value messages.
func (p *Parser) parseCheckPoint(b, body []byte) bool {
	end := len(b)
	for end > 0 && (b[end-1] == ' ' || b[end-1] == '\t') {
		end--
	}
	if len(b) < 2 || b[0] != '[' || b[end-1] != ']' {
		return false
	}
	in := b[1 : end-1]
	p.pairs = p.pairs[:0]
	for i := 0; i < len(in); {
		for i < len(in) && in[i] == ' ' {
			i++
		}
		if i == len(in) {
			break
		}
		k := i
		// Check Point's field names are [A-Za-z0-9_.-] (__policy_id_tag,
		// sys_message): anything else is not this format (and two keys
		// of invalid UTF-8 would both be written as U+FFFD, one key twice).
		for i < len(in) && in[i] != ':' {
			if !isKVKeyChar(in[i]) {
				p.pairs = p.pairs[:0]
				return false
			}
			i++
		}
		key := in[k:i]
		for i < len(in) && in[i] == ':' {
			i++ // sys_message::"..." (System Monitor lines) has two
		}
		if len(key) == 0 || i >= len(in) || in[i] != '"' {
			p.pairs = p.pairs[:0]
			return false
		}
		i++
		v, esc := i, false
		for i < len(in) && in[i] != '"' {
			if in[i] == '\\' && i+1 < len(in) {
				esc = true
				i++
			}
			i++
		}
		if i == len(in) {
			p.pairs = p.pairs[:0]
			return false // no closing quote
		}
		p.pairs = append(p.pairs, pair{key: key, val: in[v:i], esc: esc})
		i++
		switch {
		case i == len(in):
		case in[i] == ';':
			i++
		default:
			p.pairs = p.pairs[:0]
			return false
		}
	}
	if len(p.pairs) < 3 {
		p.pairs = p.pairs[:0]
		return false
	}
	p.checkPointFound(body)
	return true
}

// checkPointFound records p.pairs as a Check Point payload of either
// format. Log Exporter's APP-NAME is CheckPoint: another sender's pairs
// are parsed all the same, but not named Check Point.
func (p *Parser) checkPointFound(body []byte) {
	pl := &p.pl
	pl.format, pl.safeKeys, pl.cpEsc = fmtCheckPoint, true, true // keys are [A-Za-z0-9_.-]
	if len(p.h.app) == 0 || asciiEqualFold(p.h.app, "CheckPoint") {
		pl.dataset = "checkpoint.firewall"
	}
	if p.markDups(true) {
		pl.message = body
	}
}

// asciiEqualFold reports whether b is s (ASCII letters), ignoring case.
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if b[i]|0x20 != s[i]|0x20 {
			return false
		}
	}
	return true
}

// parseCheckPointPipes accepts b as Log Exporter's Splunk format (what the
// Check Point app for Splunk reads, source type cp_log): key=value pairs
// separated by '|', with \=, \| and \\ escaped in values and an optional
// trailing '|':
//
//	time=1795946405|hostname=gw|product=Firewall|action=Drop|src=192.0.2.7|dst=198.51.100.9|service=445|
//
// Log Exporter starts every line with time=<epoch seconds>|: a line that
// does not is left to the other parsers (a key=value line with a '|' in a
// value, an audit record's argument, must not be taken for this). At
// least three pairs, every piece a pair whose key is [A-Za-z0-9_.-].
// Written as top-level string fields, dataset checkpoint.firewall.
func (p *Parser) parseCheckPointPipes(b, body []byte) bool {
	if !hasPrefix(b, "time=") {
		return false
	}
	d := len("time=")
	for d < len(b) && isDigit(b[d]) {
		d++
	}
	if d == len("time=") || d >= len(b) || b[d] != '|' {
		return false
	}
	end := len(b)
	for end > 0 && (b[end-1] == ' ' || b[end-1] == '\t') {
		end--
	}
	in := b[:end]
	p.pairs = p.pairs[:0]
	for i := 0; i < len(in); {
		k := i
		for i < len(in) && isKVKeyChar(in[i]) {
			i++
		}
		if i == k || i == len(in) || in[i] != '=' {
			p.pairs = p.pairs[:0]
			return false
		}
		key := in[k:i]
		i++
		v, esc := i, false
		for i < len(in) && in[i] != '|' {
			if in[i] == '\\' && i+1 < len(in) {
				esc = true
				i++
			}
			i++
		}
		p.pairs = append(p.pairs, pair{key: key, val: in[v:i], esc: esc})
		if i < len(in) {
			i++ // the '|'
		}
	}
	if len(p.pairs) < 3 {
		p.pairs = p.pairs[:0]
		return false
	}
	p.checkPointFound(body)
	return true
}
