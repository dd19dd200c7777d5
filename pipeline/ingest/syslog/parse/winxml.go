package parse

import (
	"bytes"
	"unicode/utf8"
	"unsafe"
)

// parseWinXML parses a Windows event rendered as XML (the schema of
// http://schemas.microsoft.com/win/2004/08/events/event: <Event><System>
// ...</System><EventData>|<UserData>...</...><RenderingInfo>...</Event>), as
// Splunk's XmlWinEventLog source types, Windows Event Forwarding and
// NXLog's to_xml() send it. It reads what Winlogbeat reads: System's
// fields, EventData's Data by Name (unnamed ones as param1, param2...),
// UserData's one element's children, and RenderingInfo's message, level,
// task, opcode and keywords when the sender rendered them. It is a scanner
// for that schema, not an XML parser: no DTD, namespaces ignored, the five
// predefined entities and character references resolved. It reports false
// (the payload is then tried as other formats, and kept as text) for
// anything that is not one well-nested <Event> with a System EventID.
// NXLog's to_xml() writes its record instead, each field a child of
// <Event> (<EventID>, <Channel>, <TargetUserName>...): such an event, with
// an EventID and a Channel, becomes those fields at the top level, as
// NXLog's JSON has them, for the windows.eventlog profile to rename.
func (p *Parser) parseWinXML(b []byte) bool {
	w := &p.win
	w.reset()
	// Text that comes in pieces is joined in w.buf; never longer than
	// b, so spans into it stay valid while it fills.
	if cap(w.buf) < len(b) {
		w.buf = make([]byte, 0, len(b))
	}
	x := b
	if hasPrefix(x, "<?xml") {
		i := bytes.Index(x, []byte("?>"))
		if i < 0 {
			return false
		}
		x = skipXMLSpace(x[i+2:])
	}
	if !hasPrefix(x, "<Event") || len(x) < 7 || !isXMLNameEnd(x[6]) {
		return false
	}
	// path holds the element names from Event down (deeper ones are
	// counted, not kept: nothing read lies below depth 4).
	var path [4][]byte
	depth := 0
	text := -1 // where the text after the current start tag goes, -1: nowhere
	var data *winMember
	for len(x) > 0 {
		if x[0] != '<' {
			i := bytes.IndexByte(x, '<')
			if i < 0 {
				return false // text after the last tag: not one element
			}
			if depth == 0 {
				if len(bytes.TrimSpace(x[:i])) > 0 {
					return false
				}
			} else {
				// One piece of the element's text: comments and CDATA
				// sections may split it (pre<![CDATA[x]]>post).
				p.winText(text, data, x[:i], bytes.IndexByte(x[:i], '&') >= 0, false)
			}
			x = x[i:]
			continue
		}
		switch {
		case hasPrefix(x, "<!--"):
			i := bytes.Index(x[4:], []byte("-->"))
			if i < 0 {
				return false
			}
			x = x[4+i+3:]
			continue
		case hasPrefix(x, "<![CDATA["):
			i := bytes.Index(x[9:], []byte("]]>"))
			if i < 0 {
				return false
			}
			p.winText(text, data, x[9:9+i], false, true)
			x = x[9+i+3:]
			continue
		case hasPrefix(x, "<?"):
			i := bytes.Index(x, []byte("?>"))
			if i < 0 {
				return false
			}
			x = x[i+2:]
			continue
		case hasPrefix(x, "</"):
			i := bytes.IndexByte(x, '>')
			if i < 0 || depth == 0 {
				return false
			}
			name := trimXMLSpaceRight(x[2:i])
			if depth <= len(path) && string(localName(name)) != string(path[depth-1]) {
				return false // not well nested
			}
			depth--
			text, data = -1, nil
			x = x[i+1:]
			if depth == 0 {
				return w.complete(x)
			}
			continue
		}
		if depth == 0 && len(path[0]) > 0 {
			return false // a second root element
		}
		// A start tag: its name, then attributes, then > or />.
		i := 1
		for i < len(x) && !isXMLNameEnd(x[i]) {
			i++
		}
		name := localName(x[1:i])
		if len(name) == 0 {
			return false
		}
		depth++
		if depth <= len(path) {
			path[depth-1] = name
		}
		text, data = -1, nil
		w.fresh = true // the element's text starts anew
		el := p.winElement(path[:min(depth, len(path))], depth)
		if el.member != nil {
			data = el.member
		}
		x = x[i:]
		closed := false
		for {
			x = skipXMLSpace(x)
			if len(x) == 0 {
				return false
			}
			if x[0] == '>' {
				x = x[1:]
				break
			}
			if hasPrefix(x, "/>") {
				x = x[2:]
				closed = true
				break
			}
			j := 0
			for j < len(x) && x[j] != '=' && !isXMLNameEnd(x[j]) {
				j++
			}
			an := localName(x[:j])
			x = skipXMLSpace(x[j:])
			if len(an) == 0 || len(x) < 2 || x[0] != '=' {
				return false
			}
			x = skipXMLSpace(x[1:])
			if len(x) == 0 || (x[0] != '\'' && x[0] != '"') {
				return false
			}
			q := x[0]
			k := bytes.IndexByte(x[1:], q)
			if k < 0 {
				return false
			}
			v := x[1 : 1+k]
			x = x[1+k+1:]
			p.winAttr(el, data, an, span{b: v, esc: bytes.IndexByte(v, '&') >= 0})
		}
		if closed {
			depth--
			text, data = -1, nil
			if depth == 0 {
				return w.complete(x)
			}
			continue
		}
		text = el.text
	}
	return false // the root was never closed
}

// complete reports whether the event closed with only white space after
// it (rest) is one parseWinXML takes: it has an EventID, and no list was
// cut short by maxWinMembers (nothing of the event is dropped; one that
// large is kept as text).
func (w *winEvent) complete(rest []byte) bool {
	if len(bytes.TrimSpace(rest)) != 0 || w.overflow {
		return false
	}
	if !w.schema {
		// NXLog's flat form: its EventID and Channel, and no field a
		// syslog payload may not set (logrouter's own, timestamp...).
		if w.nested || len(w.flat) == 0 {
			return false
		}
		for i := range w.flat {
			for j := i + 1; j < len(w.flat); j++ {
				if string(w.flat[i].key.b) == string(w.flat[j].key.b) {
					return false // a field twice: not a record NXLog writes
				}
			}
			switch k := w.flat[i].key.b; {
			case reservedPath(k):
				return false
			case string(k) == "EventID":
				w.f[wEventID] = w.flat[i].val
			case string(k) == "Channel":
				w.f[wChannel] = w.flat[i].val
			}
		}
		return len(w.f[wEventID].b) > 0 && len(w.f[wChannel].b) > 0
	}
	w.flat = w.flat[:0] // beside System: not read
	if len(w.f[wEventID].b) == 0 {
		return false
	}
	// RenderingInfo's names replace System's numbers where it has one.
	for _, k := range [...]int{wLevel, wTask, wOpcode} {
		if len(w.rend[k].b) > 0 {
			w.f[k] = w.rend[k]
			if k == wLevel {
				w.levelNum = false
			}
		}
	}
	return true
}

// winEl says what a start tag's text and attributes are for.
type winEl struct {
	text   int        // winEvent.f index of its text, textData/textUser, or -1
	attrs  uint8      // which attributes to read (elAttr*)
	member *winMember // the event_data or user_data member it opened
}

const (
	textData     = wCount + 1 + iota // the member's value
	textKeyword                      // a rendered keyword
	textRendered = wCount + 100      // + a field: RenderingInfo's name for it
)

const (
	attrProvider  uint8 = 1 << iota // Name, Guid
	attrTime                        // SystemTime
	attrCorrel                      // ActivityID, RelatedActivityID
	attrExecution                   // ProcessID, ThreadID
	attrSecurity                    // UserID
	attrDataName                    // Name
)

// winElement classifies the element at path (its depth is depth).
func (p *Parser) winElement(path [][]byte, depth int) winEl {
	w := &p.win
	el := winEl{text: -1}
	if string(path[0]) != "Event" {
		return el
	}
	if depth == 2 {
		switch string(path[1]) {
		case "System", "EventData", "UserData", "RenderingInfo", "ProcessingErrorData", "DebugData", "BinaryEventData":
			w.schema = true
		default:
			// NXLog's to_xml(): the record's fields as <Event>'s
			// children (<EventID>, <Channel>, <TargetUserName>...).
			if len(w.flat) == maxWinMembers {
				w.overflow = true
				return el
			}
			w.flat = append(w.flat, winMember{key: span{b: path[1]}})
			el.member = &w.flat[len(w.flat)-1]
			el.text = textData
		}
		return el
	}
	if depth < 3 || depth > 4 {
		return el // nothing of their own
	}
	if depth == 3 && !w.schema {
		w.nested = true // below a flat field: not NXLog's form
	}
	if depth == 3 && string(path[1]) == "System" {
		switch string(path[2]) {
		case "Provider":
			el.attrs = attrProvider
		case "EventID":
			el.text = wEventID
		case "Version":
			el.text = wVersion
		case "Level":
			el.text = wLevel
		case "Task":
			el.text = wTask
		case "Opcode":
			el.text = wOpcode
		case "Keywords":
			el.text = wKeywords
		case "TimeCreated":
			el.attrs = attrTime
		case "EventRecordID":
			el.text = wRecordID
		case "Correlation":
			el.attrs = attrCorrel
		case "Execution":
			el.attrs = attrExecution
		case "Channel":
			el.text = wChannel
		case "Computer":
			el.text = wComputer
		case "Security":
			el.attrs = attrSecurity
		}
		return el
	}
	if depth == 3 && string(path[1]) == "EventData" {
		switch string(path[2]) {
		case "Data":
			if len(w.data) == maxWinMembers {
				w.overflow = true
				return el
			}
			w.data = append(w.data, winMember{})
			el.member = &w.data[len(w.data)-1]
			el.text, el.attrs = textData, attrDataName
		case "Binary":
			el.text = wBinary
		}
		return el
	}
	if string(path[1]) == "UserData" {
		switch depth {
		case 3:
			w.userName = span{b: path[2]}
		case 4:
			if len(w.user) == maxWinMembers {
				w.overflow = true
				return el
			}
			w.user = append(w.user, winMember{key: span{b: path[3]}})
			el.member = &w.user[len(w.user)-1]
			el.text = textData
		}
		return el
	}
	if string(path[1]) == "RenderingInfo" {
		switch {
		case depth == 3 && string(path[2]) == "Message":
			el.text = wMessage
		case depth == 3 && string(path[2]) == "Level":
			el.text = textRendered + wLevel
		case depth == 3 && string(path[2]) == "Task":
			el.text = textRendered + wTask
		case depth == 3 && string(path[2]) == "Opcode":
			el.text = textRendered + wOpcode
		case depth == 4 && string(path[2]) == "Keywords" && string(path[3]) == "Keyword":
			if len(w.keywords) == maxWinMembers {
				w.overflow = true
				return el
			}
			w.keywords = append(w.keywords, span{})
			el.text = textKeyword
		}
	}
	return el
}

// winText adds a piece of the text of an element classified by
// winElement (esc: it holds entities; cdata: a CDATA section, taken as it
// is). The pieces of one element are joined.
func (p *Parser) winText(to int, m *winMember, t []byte, esc, cdata bool) {
	w := &p.win
	var s *span
	switch {
	case to < 0:
		return
	case to < wCount:
		if to == wLevel {
			w.levelNum = true
		}
		s = &w.f[to]
	case to == textData:
		if m == nil {
			return
		}
		if cdata && len(t) > 0 || esc || len(bytes.TrimSpace(t)) > 0 {
			m.data = true // not only the indentation around a child
		}
		s = &m.val
	case to == textKeyword:
		s = &w.keywords[len(w.keywords)-1]
	case to >= textRendered:
		s = &w.rend[to-textRendered]
	default:
		return
	}
	p.winPiece(s, t, esc, cdata)
}

// winPiece appends piece to the text of *s: the element's first piece is
// referenced where it is (replacing what an earlier element of the same
// name left: the last one counts); a second one joins both, resolved, in
// w.buf (the pieces of one element come one after the other, so its text
// is w.buf's end, and each byte of the event is copied there once at
// most).
func (p *Parser) winPiece(s *span, piece []byte, esc, cdata bool) {
	w := &p.win
	if len(piece) == 0 {
		return
	}
	if w.fresh {
		w.fresh = false
		*s = span{}
	}
	if s.b == nil {
		*s = span{b: piece, esc: esc && !cdata}
		if cdata {
			s.b = piece[:len(piece):len(piece)]
		}
		return
	}
	if !w.joined(s) {
		start := len(w.buf)
		w.buf = p.appendResolved(w.buf, *s)
		*s = span{b: w.buf[start:]}
	}
	start := len(w.buf) - len(s.b)
	w.buf = p.appendResolved(w.buf, span{b: piece, esc: esc && !cdata})
	s.b = w.buf[start:]
}

// joined reports whether s is text already joined at the end of w.buf.
func (w *winEvent) joined(s *span) bool {
	return len(s.b) > 0 && len(w.buf) >= len(s.b) && unsafe.SliceData(s.b) == unsafe.SliceData(w.buf[len(w.buf)-len(s.b):])
}

// appendResolved appends s's text with its entities resolved.
func (p *Parser) appendResolved(dst []byte, s span) []byte {
	if !s.esc {
		return append(dst, s.b...)
	}
	return append(dst, p.unescapeXML(s.b)...)
}

// winAttr stores an attribute the element's class reads.
func (p *Parser) winAttr(el winEl, m *winMember, name []byte, v span) {
	w := &p.win
	switch el.attrs {
	case attrProvider:
		switch string(name) {
		case "Name":
			w.f[wProvider] = v
		case "Guid":
			w.f[wProviderGUID] = v
		}
	case attrTime:
		if string(name) == "SystemTime" {
			w.f[wTime] = v
		}
	case attrCorrel:
		switch string(name) {
		case "ActivityID":
			w.f[wActivityID] = v
		case "RelatedActivityID":
			w.f[wRelatedActivityID] = v
		}
	case attrExecution:
		switch string(name) {
		case "ProcessID":
			w.f[wPID] = v
		case "ThreadID":
			w.f[wTID] = v
		}
	case attrSecurity:
		if string(name) == "UserID" {
			w.f[wUserID] = v
		}
	case attrDataName:
		if string(name) == "Name" && m != nil {
			m.key = v
		}
	}
}

// skipXMLSpace returns b after its leading XML white space (bytes.TrimLeft
// with a cutset builds the set on every call: this is the scanner's
// innermost loop).
func skipXMLSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// trimXMLSpaceRight returns b without its trailing XML white space.
func trimXMLSpaceRight(b []byte) []byte {
	for n := len(b); n > 0 && (b[n-1] == ' ' || b[n-1] == '\t' || b[n-1] == '\r' || b[n-1] == '\n'); n = len(b) {
		b = b[:n-1]
	}
	return b
}

// isXMLNameEnd reports whether c ends an element or attribute name.
func isXMLNameEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '>' || c == '/' || c == '='
}

// localName strips a namespace prefix (ns:Event is Event).
func localName(n []byte) []byte {
	if i := bytes.LastIndexByte(n, ':'); i >= 0 {
		return n[i+1:]
	}
	return n
}

// appendXMLStr appends s as a JSON string, its XML entities and character
// references resolved when s.esc is set.
func (p *Parser) appendXMLStr(dst []byte, s span) []byte {
	if !s.esc {
		return appendStr(dst, s.b)
	}
	return appendStr(dst, p.unescapeXML(s.b))
}

// unescapeXML resolves v's predefined entities and character references in
// p.scratch. An unknown or malformed reference is kept as written.
func (p *Parser) unescapeXML(v []byte) []byte {
	u := p.scratch[:0]
	for len(v) > 0 {
		i := bytes.IndexByte(v, '&')
		if i < 0 {
			u = append(u, v...)
			break
		}
		u = append(u, v[:i]...)
		v = v[i:]
		j := bytes.IndexByte(v[:min(len(v), 13)], ';') // the longest reference: &#x10FFFF;
		if j < 0 {
			u = append(u, '&')
			v = v[1:]
			continue
		}
		ref := v[1:j]
		switch string(ref) {
		case "lt":
			u = append(u, '<')
		case "gt":
			u = append(u, '>')
		case "amp":
			u = append(u, '&')
		case "quot":
			u = append(u, '"')
		case "apos":
			u = append(u, '\'')
		default:
			r, ok := charRef(ref)
			if !ok {
				u = append(u, '&')
				v = v[1:]
				continue
			}
			u = utf8.AppendRune(u, r)
		}
		v = v[j+1:]
	}
	p.scratch = u
	return u
}

// charRef parses the inside of a character reference: #NNN or #xHHH.
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, d := rune(10), ref[1:]
	if d[0] == 'x' || d[0] == 'X' {
		base, d = 16, d[1:]
	}
	if len(d) == 0 {
		return 0, false
	}
	var r rune
	for _, c := range d {
		var v rune
		switch {
		case c >= '0' && c <= '9':
			v = rune(c - '0')
		case base == 16 && c >= 'a' && c <= 'f':
			v = rune(c-'a') + 10
		case base == 16 && c >= 'A' && c <= 'F':
			v = rune(c-'A') + 10
		default:
			return 0, false
		}
		r = r*base + v
		if r > utf8.MaxRune {
			return 0, false
		}
	}
	return r, true // an invalid one (a surrogate) becomes U+FFFD when written
}
