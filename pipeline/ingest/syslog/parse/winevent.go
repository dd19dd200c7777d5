package parse

import (
	"bytes"
	"time"

	"github.com/logrouter/logrouter/internal/timeparse"
)

// A Windows event found in a payload, in either of the two forms Windows
// events travel as text: XML (Splunk's XmlWinEventLog source types, Windows
// Event Forwarding, NXLog's to_xml; winxml.go) and the classic rendering of
// Splunk's WinEventLog source types (key=value lines then the message;
// winclassic.go). Both are written the same way, in Winlogbeat's shape
// ("winlog":{"channel","event_id","event_data":{...}...}), so that the
// profiles and rules written for Winlogbeat, NXLog, Fluent Bit and
// OpenTelemetry events (rules/profiles/40-os.yaml) serve them unchanged.

// Fields of winEvent.f, in the order they are written.
const (
	wChannel = iota
	wComputer
	wEventID
	wProvider
	wProviderGUID
	wRecordID
	wTask   // Task (a number) or, rendered, its name
	wOpcode // Opcode (a number) or, rendered, its name
	wVersion
	wActivityID
	wRelatedActivityID
	wPID
	wTID
	wUserID
	wUserName  // classic: User (DOMAIN\name)
	wUserType  // classic: SidType
	wEventType // classic: EventType (0-16)
	wLevel     // a number (System) or a name (rendered, classic Type)
	wKeywords  // the System mask, hexadecimal
	wMessage   // rendered (RenderingInfo, classic Message=)
	wTime      // System/TimeCreated@SystemTime (RFC 3339)
	wBinary    // EventData/Binary
	wCount
)

// winEvent is what parseWinXML or parseWinClassic found. Spans point into
// the message; esc marks XML text with entities to resolve.
type winEvent struct {
	f        [wCount]span
	keywords []span       // rendered keyword names
	data     []winMember  // event_data members; an empty key is an unnamed Data (paramN)
	flat     []winMember  // NXLog's to_xml() fields (Event's children), when !schema
	schema   bool         // the event has System, EventData...: Windows' own schema
	nested   bool         // an element below one of flat's
	user     []winMember  // user_data members
	userName span         // user_data's element (xml_name)
	levelNum bool         // f[wLevel] is System's number, not a name
	overflow bool         // a list passed maxWinMembers (XML: the event is not taken)
	fresh    bool         // no piece of the current element's text yet (winPiece)
	rend     [wCount]span // RenderingInfo's names (level, task, opcode)
	msg      []byte       // the message with its entities resolved
	kbuf     []byte       // classicData's "section|label"
	buf      []byte       // XML text that came in pieces, joined (parseWinXML)
}

func (w *winEvent) reset() {
	w.f = [wCount]span{}
	w.keywords = w.keywords[:0]
	w.data = w.data[:0]
	w.flat = w.flat[:0]
	w.schema, w.nested = false, false
	w.user = w.user[:0]
	w.userName = span{}
	w.levelNum = false
	w.rend = [wCount]span{}
	w.overflow = false
	w.buf = w.buf[:0]
}

// winMember is one event_data or user_data member; data is false for an
// XML element whose text is only white space (the indentation around a
// child), which is not written.
type winMember struct {
	key, val span
	data     bool
}

// maxWinMembers bounds event_data, user_data and the keywords: an event
// has a few dozen. An XML event with more is not parsed (kept whole, as
// text); a classic one keeps the rest in its message.
const maxWinMembers = 512

// appendWin writes "winlog":{...}, and "log":{"level":...} when the header
// wrote no "log", each followed by a comma.
func (p *Parser) appendWin(dst []byte) []byte {
	w := &p.win
	if len(w.flat) > 0 {
		// NXLog's fields, as its JSON writes them.
		for i := range w.flat {
			if m := &w.flat[i]; m.data {
				dst = p.appendXMLStr(dst, m.key)
				dst = append(dst, ':')
				dst = p.appendXMLStr(dst, m.val)
				dst = append(dst, ',')
			}
		}
		return dst
	}
	mark := len(dst)
	dst = append(dst, `"winlog":{`...)
	first := true
	dst = p.winField(dst, &first, "channel", w.f[wChannel])
	dst = p.winField(dst, &first, "computer_name", w.f[wComputer])
	dst = p.winField(dst, &first, "event_id", w.f[wEventID])
	dst = p.winField(dst, &first, "provider_name", w.f[wProvider])
	dst = p.winField(dst, &first, "provider_guid", w.f[wProviderGUID])
	dst = p.winField(dst, &first, "record_id", w.f[wRecordID])
	dst = p.winField(dst, &first, "task", w.f[wTask])
	dst = p.winField(dst, &first, "opcode", w.f[wOpcode])
	dst = p.winNumber(dst, &first, "version", w.f[wVersion])
	dst = p.winField(dst, &first, "event_type", w.f[wEventType])
	dst = p.winField(dst, &first, "activity_id", w.f[wActivityID])
	dst = p.winField(dst, &first, "related_activity_id", w.f[wRelatedActivityID])
	named := 0
	for _, k := range w.keywords {
		if len(k.b) > 0 {
			named++
		}
	}
	if kw := w.keywordNames(); named > 0 || kw != "" {
		sep(&dst, &first)
		dst = append(dst, `"keywords":[`...)
		if named > 0 {
			f := true
			if kw != "" {
				// The mask's audit result first, in English, whatever
				// language rendered the names ("Überwachung
				// fehlgeschlagen" on a German controller): the profiles
				// read the outcome from the first keyword.
				dst, f = append(dst, kw...), false
			}
			for _, k := range w.keywords {
				if len(k.b) > 0 && !(kw != "" && len(kw) == len(k.b)+2 && string(k.b) == kw[1:len(kw)-1]) {
					sep(&dst, &f)
					dst = p.appendXMLStr(dst, k)
				}
			}
		} else {
			dst = append(dst, kw...)
		}
		dst = append(dst, ']')
	}
	if len(w.f[wPID].b) > 0 || len(w.f[wTID].b) > 0 {
		sep(&dst, &first)
		dst = append(dst, `"process":{`...)
		f := true
		dst = p.winNumber(dst, &f, "pid", w.f[wPID])
		if len(w.f[wTID].b) > 0 {
			sep(&dst, &f)
			dst = append(dst, `"thread":{`...)
			t := true
			dst = p.winNumber(dst, &t, "id", w.f[wTID])
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	if len(w.f[wUserID].b) > 0 || len(w.f[wUserName].b) > 0 || len(w.f[wUserType].b) > 0 {
		sep(&dst, &first)
		dst = append(dst, `"user":{`...)
		f := true
		dst = p.winField(dst, &f, "identifier", w.f[wUserID])
		dst = p.winField(dst, &f, "name", w.f[wUserName])
		dst = p.winField(dst, &f, "type", w.f[wUserType])
		dst = append(dst, '}')
	}
	if len(w.data) > 0 || len(w.f[wBinary].b) > 0 {
		sep(&dst, &first)
		dst = append(dst, `"event_data":{`...)
		f := true
		for i := range w.data {
			d := &w.data[i]
			if len(d.val.b) == 0 || !d.data {
				continue
			}
			sep(&dst, &f)
			if len(d.key.b) == 0 || (!d.key.esc && string(d.key.b) == "Data") {
				// Named by its position among the event's data, as
				// Winlogbeat does (for a Data named "Data" too).
				dst = append(dst, `"param`...)
				dst = appendInt(dst, i+1)
				dst = append(dst, '"')
			} else {
				dst = p.appendXMLStr(dst, d.key)
			}
			dst = append(dst, ':')
			dst = p.appendXMLStr(dst, d.val)
		}
		dst = p.winField(dst, &f, "Binary", w.f[wBinary])
		if f { // every member empty
			dst = dst[:len(dst)-len(`"event_data":{`)]
			if dst[len(dst)-1] == ',' {
				dst = dst[:len(dst)-1]
			}
		} else {
			dst = append(dst, '}')
		}
	}
	if len(w.user) > 0 {
		sep(&dst, &first)
		dst = append(dst, `"user_data":{`...)
		f := true
		dst = p.winField(dst, &f, "xml_name", w.userName)
		for i := range w.user {
			u := &w.user[i]
			if len(u.val.b) == 0 || !u.data || string(u.key.b) == "xml_name" {
				continue
			}
			sep(&dst, &f)
			dst = p.appendXMLStr(dst, u.key)
			dst = append(dst, ':')
			dst = p.appendXMLStr(dst, u.val)
		}
		dst = append(dst, '}')
	}
	if first {
		dst = dst[:mark]
	} else {
		dst = append(dst, "},"...)
	}
	if p.pl.jsonKeys&keyLog == 0 && p.h.pri < 0 && p.h.version == 0 {
		// With a PRI the header writes "log" (log.syslog), and the level
		// goes inside it (appendSyslog): a second "log" would replace it.
		n := len(dst)
		dst = append(dst, `"log":{`...)
		if d := p.appendWinLevel(dst); len(d) > len(dst) {
			dst = append(d, "},"...)
		} else {
			dst = dst[:n]
		}
	}
	return dst
}

// appendWinLevel appends "level":... for a Windows event's level, if it
// has one: System's number named as Winlogbeat names it, or the rendered
// name.
func (p *Parser) appendWinLevel(dst []byte) []byte {
	w := &p.win
	if p.pl.format != fmtWinXML && p.pl.format != fmtWinClassic {
		return dst
	}
	if lv := p.winLevel(); lv != "" {
		dst = append(dst, `"level":"`...)
		dst = append(dst, lv...)
		return append(dst, '"')
	}
	if !w.levelNum && len(w.f[wLevel].b) > 0 {
		dst = append(dst, `"level":`...)
		return p.appendXMLStr(dst, w.f[wLevel])
	}
	return dst
}

// sep writes the comma before a member other than the first.
func sep(dst *[]byte, first *bool) {
	if !*first {
		*dst = append(*dst, ',')
	}
	*first = false
}

// winField writes a string member when v is not empty.
func (p *Parser) winField(dst []byte, first *bool, key string, v span) []byte {
	if len(v.b) == 0 {
		return dst
	}
	sep(&dst, first)
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	return p.appendXMLStr(dst, v)
}

// winNumber writes a member as a JSON number when v is one in decimal
// digits (a process id, a version), else as a string.
func (p *Parser) winNumber(dst []byte, first *bool, key string, v span) []byte {
	if len(v.b) == 0 {
		return dst
	}
	if v.esc || len(v.b) > 18 || !allDigits(v.b) || (len(v.b) > 1 && v.b[0] == '0') {
		return p.winField(dst, first, key, v) // no JSON number: leading zeros
	}
	sep(&dst, first)
	dst = append(dst, '"')
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	return append(dst, v.b...)
}

// winLevel is log.level for System's numeric Level, as Winlogbeat names
// them; "" for a name (written as it is) or no level.
func (p *Parser) winLevel() string {
	w := &p.win
	if !w.levelNum {
		return ""
	}
	switch string(w.f[wLevel].b) {
	case "0", "4":
		return "information" // 0: LogAlways, what Security audit events carry
	case "1":
		return "critical"
	case "2":
		return "error"
	case "3":
		return "warning"
	case "5":
		return "verbose"
	}
	return ""
}

// Audit keywords of the System Keywords mask (winnt.h WINEVENT_KEYWORD_*):
// the outcome of a Security event when no rendering names it.
const (
	kwAuditFailure = 0x10000000000000
	kwAuditSuccess = 0x20000000000000
)

// keywordNames renders the audit bits of the System mask as a JSON list's
// members ("" when none is set).
func (w *winEvent) keywordNames() string {
	m, ok := parseHex(w.f[wKeywords].b)
	if !ok {
		return ""
	}
	switch {
	case m&kwAuditFailure != 0:
		return `"Audit Failure"`
	case m&kwAuditSuccess != 0:
		return `"Audit Success"`
	}
	return ""
}

// parseHex parses "0x..." (at most 16 digits).
func parseHex(b []byte) (uint64, bool) {
	if len(b) < 3 || b[0] != '0' || (b[1] != 'x' && b[1] != 'X') || len(b) > 18 {
		return 0, false
	}
	var v uint64
	for _, c := range b[2:] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(c)
	}
	return v, true
}

// winPayload completes p.pl for a Windows event parseWinXML or
// parseWinClassic found: its time, message and dataset.
func (p *Parser) winPayload(f format) {
	w, pl := &p.win, &p.pl
	if f == fmtWinXML && !w.schema {
		f = fmtNXLogXML
	}
	pl.format = f
	if t := w.f[wTime]; len(t.b) > 0 && !t.esc {
		if f == fmtWinXML {
			if ns, ok := timeparse.Parse(t.b, time.Time{}); ok { // SystemTime is UTC ("Z")
				pl.hasTime, pl.ns = true, ns
			}
		} else if p.h.hasTime && p.h.zoned {
			// The classic rendering's time is a wall clock without a
			// zone: a zoned header's time is exact (as for Snare).
		} else if ns, ok := p.classicTime(t.b); ok {
			pl.hasTime, pl.ns = true, ns
		}
	}
	if m := w.f[wMessage]; len(m.b) > 0 {
		m.b = bytes.TrimRight(m.b, " \t\r\n")
		if m.esc {
			// Resolved here: the header writes the message as it is.
			w.msg = append(w.msg[:0], p.unescapeXML(m.b)...)
			pl.message = w.msg
		} else {
			pl.message = m.b
		}
	}
	switch ch := w.f[wChannel].b; {
	case equalFold(ch, "security"):
		pl.dataset = "windows.security"
	case equalFold(ch, "microsoft-windows-sysmon/operational"):
		pl.dataset = "windows.sysmon_operational"
	case equalFold(ch, "microsoft-windows-powershell/operational"):
		pl.dataset = "windows.powershell_operational"
	case equalFold(ch, "windows powershell"):
		pl.dataset = "windows.powershell"
	}
}

// detectWindows recognizes b as a Windows event as text, in either form.
func (p *Parser) detectWindows(b []byte) bool {
	switch {
	case len(b) > 0 && b[0] == '<' && p.parseWinXML(b):
		p.winPayload(fmtWinXML)
	case p.parseWinClassic(b):
		p.winPayload(fmtWinClassic)
	default:
		return false
	}
	return true
}

// AppendWindows appends the object of msg when msg, without a syslog
// header, is a Windows event as text (XML, NXLog's to_xml(), Splunk's
// classic rendering); ok is false, and dst returned as it was, for
// anything else. A profile's parse with format windows uses it, so that
// other text (a key=value line, a syslog line) is left alone.
func (p *Parser) AppendWindows(dst, msg []byte) ([]byte, bool) {
	if p.now == nil {
		*p = *New(Options{})
	}
	p.h = header{status: StatusRaw, pri: -1, body: msg}
	p.msg = msg
	p.pl = payload{}
	if !p.detectWindows(trimWindowsLead(msg)) {
		return dst, false
	}
	out, _ := p.finish(dst)
	return out, true
}

// trimWindowsLead removes white space and a UTF-8 byte order mark before a
// Windows event's text.
func trimWindowsLead(b []byte) []byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if hasPrefix(b, "\xEF\xBB\xBF") {
		b = bytes.TrimLeft(b[3:], " \t\r\n")
	}
	return b
}

// AppendWindowsMessage appends {"winlog":{"event_data":{...}}} made of the
// labelled values of msg, the rendered message of a Security event whose
// id is eventID, as classicData reads the classic rendering's message (so
// the same ambiguity rules hold: a member shown twice is not written). For
// a shipper that sends the message but not the event's data by name
// (Fluent Bit's winevtlog: StringInserts, by position). ok is false, dst
// as it was, when the message names no member.
func (p *Parser) AppendWindowsMessage(dst, eventID, msg []byte) ([]byte, bool) {
	w := &p.win
	w.reset()
	w.f[wEventID] = span{b: eventID}
	p.classicData(bytes.TrimRight(msg, " \t\r\n"))
	w.f[wEventID] = span{} // the event has its own: only the data is written
	mark := len(dst)
	dst = append(dst, '{')
	n := len(dst)
	dst = p.appendWin(dst)
	if len(dst) == n {
		return dst[:mark], false
	}
	dst[len(dst)-1] = '}' // appendWin ends its members with a comma
	return dst, true
}
