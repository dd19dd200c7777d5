package parse

import (
	"bytes"
	"unicode/utf8"
)

// parseCEF parses b = "CEF:Version|Device Vendor|Device Product|Device
// Version|Signature ID|Name|Severity|Extension". Header fields escape \| and
// \\; the extension is key=value pairs separated by spaces, a value running
// until the next " key=" (values escape \= \\ \n \r, and \| leniently). A
// header cut before Severity is not CEF; a missing final '|' means no
// extension. The header starts at b[i:]: 4 after "CEF:", 0 for a sender
// that writes the prefix as the syslog APP-NAME (see detect).
func (p *Parser) parseCEF(b, body []byte, i int) bool {
	pl := &p.pl
	var esc uint8
	for k := 0; k < 7; k++ {
		s := i
		for i < len(b) && b[i] != '|' {
			if b[i] == '\\' && i+1 < len(b) {
				esc |= 1 << k
				i++
			}
			i++
		}
		if i >= len(b) && k < 6 {
			return false
		}
		pl.hdr[k] = b[s:min(i, len(b))]
		i++
	}
	if !isVersion(pl.hdr[0]) {
		return false
	}
	pl.format, pl.hdrEsc, pl.cefEsc, pl.safeKeys = fmtCEF, esc, true, true
	var lossy bool
	if i < len(b) {
		lossy = p.parseSpacedPairs(b[i:])
	} else {
		p.pairs = p.pairs[:0]
	}
	if p.markDups(false) || lossy {
		pl.message = body
	}
	pl.dataset = vendorDataset(pl.hdr[1], pl.hdr[2])
	if pl.dataset == "" {
		pl.dataset = "cef"
	}
	return true
}

// isVersion reports whether b looks like "0", "1", "1.0", "2.0".
func isVersion(b []byte) bool {
	if len(b) == 0 || len(b) > 5 || !isDigit(b[0]) {
		return false
	}
	for _, c := range b {
		if !isDigit(c) && c != '.' {
			return false
		}
	}
	return true
}

// isExtKeyChar reports whether c may appear in a CEF extension key.
func isExtKeyChar(c byte) bool { return kvClass[c]&kvExtKey != 0 }

// parseSpacedPairs parses CEF-style "k1=v1 with spaces k2=v2" into p.pairs.
// Words before the first key are not placed in a pair: lossy reports them.
func (p *Parser) parseSpacedPairs(ext []byte) (lossy bool) {
	p.pairs = p.pairs[:0]
	i := 0
	for i < len(ext) && ext[i] == ' ' {
		i++
	}
	for i < len(ext) {
		ks := i
		for i < len(ext) && isExtKeyChar(ext[i]) {
			i++
		}
		if i == ks || i >= len(ext) || ext[i] != '=' {
			lossy = true
			for i < len(ext) && ext[i] != ' ' {
				i++
			}
			for i < len(ext) && ext[i] == ' ' {
				i++
			}
			continue
		}
		key := ext[ks:i]
		vs := i + 1
		ve, next := len(ext), len(ext)
		esc := false
		for j := vs; j < len(ext); {
			c := ext[j]
			if c == '\\' {
				esc = true
			}
			if c != ' ' {
				j++
				continue
			}
			t := j + 1
			for t < len(ext) && ext[t] == ' ' {
				t++
			}
			u := t
			for u < len(ext) && isExtKeyChar(ext[u]) {
				u++
			}
			if u > t && u < len(ext) && ext[u] == '=' {
				ve, next = j, t
				break
			}
			j = t
		}
		v := ext[vs:ve]
		for len(v) > 0 && v[len(v)-1] == ' ' {
			v = v[:len(v)-1]
		}
		p.pairs = append(p.pairs, pair{key: key, val: v, esc: esc})
		i = next
	}
	return lossy
}

// unescapeCEF resolves \= \\ \n \r \| into p.scratch; other backslashes stay.
func (p *Parser) unescapeCEF(v []byte) []byte {
	s := p.scratch[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) {
			switch v[i+1] {
			case '=', '\\', '|':
				i++
				c = v[i]
			case 'n':
				i++
				c = '\n'
			case 'r':
				i++
				c = '\r'
			}
		}
		s = append(s, c)
	}
	p.scratch = s
	return s
}

// unescapeHeader resolves \| and \\ into p.scratch.
func (p *Parser) unescapeHeader(v []byte) []byte {
	s := p.scratch[:0]
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' && i+1 < len(v) && (v[i+1] == '|' || v[i+1] == '\\') {
			i++
			c = v[i]
		}
		s = append(s, c)
	}
	p.scratch = s
	return s
}

var cefHeaderKeys = [7]string{"version", "device_vendor", "device_product", "device_version", "signature_id", "name", "severity"}

// appendCEF writes "cef":{...,"extensions":{...}},.
func (p *Parser) appendCEF(dst []byte) []byte {
	pl := &p.pl
	dst = append(dst, `"cef":{`...)
	for k, name := range cefHeaderKeys {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
		v := pl.hdr[k]
		if pl.hdrEsc&(1<<k) != 0 {
			v = p.unescapeHeader(v)
		}
		dst = appendStr(dst, v)
	}
	dst = p.appendExtensions(dst)
	return append(dst, "},"...)
}

// appendExtensions writes ,"extensions":{...} when there are pairs.
func (p *Parser) appendExtensions(dst []byte) []byte {
	for k := range p.pairs {
		if !p.pairs[k].dup {
			dst = append(dst, `,"extensions":{`...)
			dst = p.appendPairs(dst, true)
			return append(dst, '}')
		}
	}
	return dst
}

// parseLEEF parses b = "LEEF:1.0|Vendor|Product|Version|EventID|" then
// tab-separated key=value pairs, or LEEF 2.0 with an optional delimiter
// field after EventID (a character, or its code as x09 / 0x09). A LEEF 1.0
// extension without any tab but with key=value pairs, or with a space as
// its LEEF 2.0 delimiter, is split CEF-style on spaces, as some senders do.
func (p *Parser) parseLEEF(b, body []byte) bool {
	pl := &p.pl
	i := 5
	for k := 0; k < 5; k++ {
		j := bytes.IndexByte(b[i:], '|')
		if j < 0 {
			if k < 4 {
				return false
			}
			pl.hdr[k] = b[i:]
			i = len(b)
			break
		}
		pl.hdr[k] = b[i : i+j]
		i += j + 1
	}
	if !isVersion(pl.hdr[0]) {
		return false
	}
	delim := '\t'
	if pl.hdr[0][0] == '2' && i < len(b) {
		if j := bytes.IndexByte(b[i:], '|'); j >= 0 && j <= 8 {
			if d, ok := leefDelim(b[i : i+j]); ok {
				delim = d
				pl.hdr[5] = b[i : i+j]
				i += j + 1
			}
		}
	}
	pl.format = fmtLEEF
	ext := b[min(i, len(b)):]
	var lossy bool
	if (delim == '\t' && bytes.IndexByte(ext, '\t') < 0 && bytes.IndexByte(ext, '=') >= 0) || delim == ' ' {
		// A space delimiter (Palo Alto's Strata LEEF) is split as a
		// space-separated LEEF 1.0 is: values run to the next " key=",
		// for they hold spaces themselves (devTime=2021-09-21 07:25:01).
		lossy = p.parseSpacedPairs(ext)
		for k := range p.pairs {
			p.pairs[k].esc = false // LEEF defines no escapes
		}
	} else {
		var enc [utf8.UTFMax]byte
		lossy = p.parseDelimPairs(ext, enc[:utf8.EncodeRune(enc[:], delim)])
	}
	if p.markDups(false) || lossy {
		pl.message = body
	}
	pl.dataset = vendorDataset(pl.hdr[1], pl.hdr[2])
	if pl.dataset == "" {
		pl.dataset = "leef"
	}
	p.leefTime()
	return true
}

// leefDelim decodes a LEEF 2.0 delimiter field: one character (UTF-8), or
// its code as hex, x09, 0x09, xa6 (U+00A6, '¦': LEEF is UTF-8 text, so the
// delimiter is that character's encoding, C2 A6, not the byte A6). An
// empty field means the default tab.
func leefDelim(f []byte) (rune, bool) {
	if len(f) == 0 {
		return '\t', true
	}
	if r, size := utf8.DecodeRune(f); size == len(f) && r != utf8.RuneError {
		return r, r != '=' && r != 0
	}
	h := f
	if h[0] == '0' && len(h) > 2 && (h[1] == 'x' || h[1] == 'X') {
		h = h[2:]
	} else if h[0] == 'x' || h[0] == 'X' {
		h = h[1:]
	} else {
		return 0, false
	}
	if len(h) == 0 || len(h) > 6 {
		return 0, false
	}
	v := 0
	for _, c := range h {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return 0, false
		}
	}
	r := rune(v)
	if r == 0 || r == '=' || !utf8.ValidRune(r) {
		return 0, false
	}
	return r, true
}

// parseDelimPairs splits ext on delim (a character's UTF-8 bytes) into
// key=value pairs; a piece without '=' (or with an empty key) is not placed
// in a pair: lossy reports it.
func (p *Parser) parseDelimPairs(ext []byte, delim []byte) (lossy bool) {
	p.pairs = p.pairs[:0]
	for len(ext) > 0 {
		var piece []byte
		if j := bytes.Index(ext, delim); j >= 0 {
			piece, ext = ext[:j], ext[j+len(delim):]
		} else {
			piece, ext = ext, nil
		}
		if len(piece) == 0 {
			continue
		}
		eq := bytes.IndexByte(piece, '=')
		if eq <= 0 {
			lossy = true
			continue
		}
		p.pairs = append(p.pairs, pair{key: piece[:eq], val: piece[eq+1:]})
	}
	return lossy
}

var leefHeaderKeys = [5]string{"version", "vendor", "product", "product_version", "event_id"}

// appendLEEF writes "leef":{...,"extensions":{...}},; "delimiter" is the
// LEEF 2.0 delimiter field as sent, when there is one.
func (p *Parser) appendLEEF(dst []byte) []byte {
	pl := &p.pl
	dst = append(dst, `"leef":{`...)
	for k, name := range leefHeaderKeys {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '"')
		dst = append(dst, name...)
		dst = append(dst, `":`...)
		dst = appendStr(dst, pl.hdr[k])
	}
	if len(pl.hdr[5]) > 0 {
		dst = append(dst, `,"delimiter":`...)
		dst = appendStr(dst, pl.hdr[5])
	}
	dst = p.appendExtensions(dst)
	return append(dst, "},"...)
}
