// Package parse turns one syslog message into one JSON object for the
// normalizer.
//
// A message is one frame already cut by the TCP/UDP framer (no trailing
// newline). AppendJSON recognizes an RFC 5424 or RFC 3164 header, then an
// embedded payload in the message part (MSG), and appends one JSON object
// with ECS field names. It never fails: what it cannot parse is kept whole as
// "message", so no message is ever dropped, and the output is always valid
// JSON (control characters escaped, invalid UTF-8 replaced by U+FFFD).
//
// It is the hot path of the syslog inputs: in steady state (a Parser reused,
// dst with spare capacity) AppendJSON performs no heap allocation. Parsing is
// hand-written byte scanning; regexp, reflection and fmt are never used.
//
// # Output
//
// Keys appear in this order, each only when present:
//
//	timestamp   RFC 3339 UTC ("2026-11-28T10:00:00.000Z") from the header, or
//	            from the payload when it carries its own event time (FortiGate
//	            date/time/tz, auditd msg=audit(epoch:serial), Snare's time)
//	log.syslog  priority, facility {code,name}, severity {code,name},
//	            version, msgid, structured_data {SD-ID: {PARAM: value}}
//	host        {"hostname": ...}
//	process     {"name": APP-NAME or TAG, "pid": n} ("entity_id": "..." when
//	            the PROCID/pid is not a number)
//	message     MSG, when it carries information not extracted into fields:
//	            always for plain text, Cisco (the text after the %ASA-x-n:
//	            prefix) and Snare (the expanded string); for JSON, CEF, LEEF,
//	            key=value and PAN-OS only when some of MSG could not be put
//	            into a field (a duplicate or reserved key, a word that is not
//	            a pair)
//	...         payload fields (see the formats below)
//	event       {"dataset": source type, "action": ..., "original": msg}
//	logrouter   {"parse_status": "rfc5424"|"rfc3164"|"raw",
//	            "payload": Result.Format when not empty}
//
// A message that is neither syslog nor a recognized payload is written as
// {"message":<msg>,"logrouter":{"parse_status":"raw"}} and nothing else. A
// payload without a syslog header (a bare CEF line, FortiGate key=value, a
// JSON object) is parsed all the same, with parse_status "raw".
//
// # Headers
//
// RFC 5424: PRI 0..191 (1-3 digits, no leading zero), VERSION 1-3 digits, then
// TIMESTAMP (RFC 3339 or "-"), HOSTNAME, APP-NAME, PROCID and MSGID, each
// 1..255 printable ASCII characters or "-" (lenient: the RFC's shorter
// limits are not enforced). STRUCTURED-DATA is "-" or SD-ELEMENTs whose
// values are unescaped (\" \\ \]); a duplicate SD-ID, and a duplicate
// PARAM-NAME inside one element, is resolved "last wins". Structured data
// that does not parse is not an error: it is treated as the start of MSG,
// as is anything but "-" or "[" in its place, and a message may end after
// MSGID. A TIMESTAMP without its TIME-OFFSET (accepted leniently) is a
// wall-clock time in Options.Location, as in RFC 3164. A leading UTF-8 BOM
// is stripped from MSG. A header that breaks
// before STRUCTURED-DATA falls back to RFC 3164, then to raw.
//
// RFC 3164: optional <PRI>, then an optional TIMESTAMP ("Mmm dd hh:mm:ss"
// with a space-padded or two-digit day, optional fraction, optional year
// before the clock as Cisco sends it, optional zone abbreviation and trailing
// year as in RFC 3164 section 5.4, or an ISO 8601 timestamp; a ':' right after
// it is skipped), a HOSTNAME when a timestamp was found, then an optional
// TAG ("name:", "name[pid]:" or "name[pid]"). The token after the timestamp
// is a TAG, not a host, when it ends with ':' or contains '[', '=' or any
// other character not found in host names, and it is the message when
// nothing follows it. Cisco's "host : MSG" is understood. Timestamps without
// a zone are in Options.Location; one without a year gets the year that puts
// it closest to Options.Now (in Location's wall clock). A message without
// <PRI> is RFC 3164 only if it starts with a timestamp. A message with
// <PRI> but no timestamp has neither timestamp nor host: everything after
// the PRI (less an optional TAG) is MSG.
//
// Trailing CR, LF and NUL bytes (framing residue) are dropped from MSG.
//
// # Payloads
//
// MSG is recognized, in this order, as:
//
//   - JSON ("json"): exactly one JSON object (whitespace around allowed,
//     nesting up to 128). Its members are copied verbatim (invalid UTF-8
//     replaced) at the top level. A member named like a header key
//     (timestamp, log, host, process, message, event) replaces the
//     header's; a payload with a "logrouter" member is left as text.
//   - CEF ("cef"): "cef":{version, device_vendor, device_product,
//     device_version, signature_id, name, severity, extensions:{...}}.
//   - LEEF ("leef"): "leef":{version, vendor, product, product_version,
//     event_id, [delimiter], extensions:{...}}.
//   - Cisco ASA/FTD ("cisco_asa"): "cisco":{"asa"|"ftd":{message_id,
//     severity, [message_class]}}, and for connection messages source, destination and
//     event.action; FTD security events (430001-430005, "Key: Value, ...")
//     also "security_event":{...} with their pairs as sent.
//   - PAN-OS CSV ("panos_csv"): columns as top-level fields named as PAN-OS
//     documents them.
//   - Snare for Windows ("snare"): "winlog":{...} and "snare":{...}.
//   - Check Point Log Exporter's syslog format ("checkpoint"):
//     [key:"value"; ...] in place of structured data, as top-level fields.
//   - key=value ("kv"): FortiGate, auditd and generic pairs as top-level
//     string fields.
//
// Duplicate keys in CEF and LEEF extensions and in key=value pairs: the
// first wins and "message" keeps MSG. A key=value key named like a header
// key (timestamp, log, host, process, event, logrouter), or a dotted path
// into one ("event.dataset", "host.hostname": read as the same fields
// downstream), is not written either, for the same reason: text in a line
// must not relabel its source type or host.
//
// event.dataset is set for recognized sources: fortinet.fortigate,
// paloalto.panos, cisco.asa, cisco.ftd, checkpoint.firewall (Log Exporter
// syslog format), windows.security (Snare, Security
// log), linux.auditd (audit records, auditd/audispd), cef and leef (or the
// source type mapped from the vendor and product: crowdstrike.falcon,
// paloalto.panos, fortinet.fortigate, checkpoint.firewall,
// trendmicro.deepsecurity), and linux.auth from the APP-NAME or TAG (sshd,
// sudo, su, login, systemd-logind, CRON, passwd, useradd, groupadd, ...).
// Otherwise there is no event.dataset and the input's default applies.
package parse

import (
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/timeparse"
)

// Options configure a Parser; zero value = defaults.
type Options struct {
	// Location is the time zone of RFC 3164 timestamps, which carry none.
	// Default UTC. It also applies to payload times without a zone
	// (FortiGate date/time without tz, Snare, the classic WinEventLog
	// rendering, a LEEF devTime), except that a LEEF devTime behind a
	// zoned RFC 5424 header is read at the header's offset.
	Location *time.Location
	// Now returns the receive time, used to infer the year of RFC 3164
	// timestamps (nil = time.Now).
	Now func() time.Time
	// KeepOriginal keeps the whole message under "event":{"original":...}
	// for payloads whose fields replace "message" (JSON, CEF, LEEF,
	// key=value, PAN-OS CSV). Default false.
	KeepOriginal bool
}

// Parser is not safe for concurrent use; keep one per goroutine. It holds
// scratch buffers reused across calls. Create it with New (a zero Parser
// works too, with the default Options).
type Parser struct {
	loc          *time.Location
	utc          bool
	zones        map[int]*time.Location // fixed zones by offset (fixedZone)
	layouts      map[string]string      // LEEF devTimeFormat -> Go layout ("" refused) (leefLayout)
	now          func() time.Time
	keepOriginal bool

	h   header
	pl  payload
	msg []byte // the message being parsed (SplitJSON to AppendAround or AppendOther)

	scratch []byte    // unescaped values
	sd      []sdElem  // structured data elements
	params  []sdParam // structured data parameters
	pairs   []pair    // key=value pairs (KV, CEF and LEEF extensions)
	win     winEvent  // a Windows event (XML or classic text)
	cols    []span    // CSV / tab-separated columns
	keys    keySet    // duplicate key detection
	stack   []byte    // JSON validator container stack
}

// New returns a Parser configured by o.
func New(o Options) *Parser {
	p := &Parser{loc: o.Location, now: o.Now, keepOriginal: o.KeepOriginal}
	if p.loc == nil {
		p.loc = time.UTC
	}
	p.utc = p.loc == time.UTC
	if p.now == nil {
		p.now = time.Now
	}
	p.scratch = make([]byte, 0, 256)
	p.sd = make([]sdElem, 0, 8)
	p.params = make([]sdParam, 0, 32)
	p.pairs = make([]pair, 0, 64)
	p.cols = make([]span, 0, 128)
	p.stack = make([]byte, 0, 32)
	p.keys.init()
	return p
}

// Status says how much of a message was understood.
type Status uint8

const (
	// StatusRFC5424 means an RFC 5424 header was parsed.
	StatusRFC5424 Status = iota + 1
	// StatusRFC3164 means a BSD syslog header (<PRI> and/or a timestamp)
	// was parsed.
	StatusRFC3164
	// StatusRaw means neither: no syslog header; the message is kept whole
	// unless a payload was recognized in it.
	StatusRaw
)

// String returns "rfc5424", "rfc3164" or "raw" ("unknown" for other values).
func (s Status) String() string {
	switch s {
	case StatusRFC5424:
		return "rfc5424"
	case StatusRFC3164:
		return "rfc3164"
	case StatusRaw:
		return "raw"
	}
	return "unknown"
}

// Payload formats reported in Result.Format and logrouter.payload.
const (
	FormatJSON     = "json"      // MSG is a JSON object: its members are merged at the top level
	FormatCEF      = "cef"       // ArcSight Common Event Format: "cef":{...}
	FormatLEEF     = "leef"      // IBM QRadar Log Event Extended Format: "leef":{...}
	FormatKV       = "kv"        // key=value pairs (FortiGate, auditd, generic): top-level fields
	FormatCiscoASA = "cisco_asa" // %ASA-/%FTD- messages: "cisco":{...}, source/destination
	FormatPANOS    = "panos_csv" // PAN-OS CSV syslog: top-level fields named as PAN-OS documents them
	FormatSnare    = "snare"     // Snare for Windows MSWinEventLog: "winlog":{...}, "snare":{...}
	// FormatWinXML is a Windows event as XML (Splunk's XmlWinEventLog,
	// Windows Event Forwarding, NXLog to_xml): "winlog":{...} as Winlogbeat
	// writes it.
	FormatWinXML = "windows_xml"
	// FormatWinClassic is Splunk's classic WinEventLog rendering
	// (LogName=...<newline>EventCode=...<newline>...Message=...):
	// "winlog":{...}, the message's labelled values in winlog.event_data.
	FormatWinClassic = "windows_classic"
	// FormatNXLogXML is NXLog's to_xml() record of a Windows event (its
	// fields as children of <Event>): those fields at the top level, as
	// NXLog's JSON has them.
	FormatNXLogXML = "nxlog_xml"
	// FormatCheckPoint is Check Point Log Exporter's syslog format
	// ([key:"value"; ...]): top-level fields named as Check Point does.
	FormatCheckPoint = "checkpoint"
)

// Result describes a parsed message.
type Result struct {
	Status Status
	// Format is the embedded payload recognized: "" or one of the Format
	// constants.
	Format string
	// Hostname points into msg or scratch; valid until the next call.
	Hostname []byte
	// App is the APP-NAME (RFC 5424) or TAG (RFC 3164), same lifetime.
	App []byte
}

// header is what the syslog header parsers found.
type header struct {
	status  Status
	pri     int // -1: none
	version int // 0: none (RFC 3164)
	hasTime bool
	zoned   bool // the timestamp carried its own zone
	off     int  // a zoned RFC 5424 timestamp's offset, seconds east of UTC
	ns      int64
	host    []byte
	app     []byte
	procid  []byte
	msgid   []byte
	nsd     int    // structured data elements in p.sd
	body    []byte // MSG
}

// AppendJSON parses msg and appends one JSON object to dst. It never fails: a
// message it cannot parse becomes {"message": <msg>,
// "logrouter":{"parse_status":"raw"}} (plus nothing else), so no message is
// ever dropped. dst may be nil. The appended object is always valid JSON
// (invalid UTF-8 replaced, control characters escaped).
func (p *Parser) AppendJSON(dst []byte, msg []byte) ([]byte, Result) {
	p.begin(msg)
	p.detect(p.h.body, true)
	return p.finish(dst)
}

// AppendJSON in steps, for a caller that parses JSON itself (the syslog
// input, with fastjson): a JSON payload is then parsed once, by the caller,
// instead of being validated here, copied into AppendJSON's object and
// parsed again there.
//
//	obj := p.SplitJSON(msg)                    // nil: the payload is no JSON object
//	v, err := jp.ParseBytes(obj)               // the caller's parse validates it
//	dst, mid, res, ok := p.AppendAround(dst, o) // v's object o, when err == nil
//	dst, res = p.AppendOther(dst)              // obj == nil, err != nil or !ok
//
// AppendAround writes two objects: the header members that AppendJSON puts
// before the payload's (dst[:mid]) and those it puts after them
// (dst[mid:]). Their members, then the payload's, then the second's, are
// AppendJSON's object for msg: TestSplitMatchesAppendJSON and
// FuzzSplitMatchesAppendJSON hold the normalized results equal. Two
// differences remain, both in what counts as a JSON payload: AppendJSON's
// validator is strict RFC 8259 with a nesting limit of 128, while the
// caller's parser decides here (fastjson also takes "nan", leading zeros or
// control characters inside strings, down to 300 levels, and the normalizer
// turns what is no JSON number into a string); and invalid UTF-8 inside the
// payload is left to the consumer (the normalizer writes U+FFFD for it, as
// AppendJSON does).
//
// Between SplitJSON and the AppendAround or AppendOther that follows it, the
// Parser holds msg; obj points into msg.

// SplitJSON parses msg's header and returns its payload when that may be one
// JSON object (it starts with '{' and ends with '}', white space aside), else
// nil. Either AppendAround or AppendOther must follow.
func (p *Parser) SplitJSON(msg []byte) (obj []byte) {
	p.begin(msg)
	b := p.h.body
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && isJSONSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil
	}
	return b
}

// AppendAround appends the two header objects for the JSON payload o, which
// the caller parsed from SplitJSON's obj; mid is where the second starts. It
// reports false, and appends nothing, when o has a top-level "logrouter"
// member (a reserved name): AppendOther must follow then.
func (p *Parser) AppendAround(dst []byte, o *fastjson.Object) (out []byte, mid int, res Result, ok bool) {
	var keys uint8
	o.Visit(func(k []byte, _ *fastjson.Value) { keys |= reservedKey(k) })
	if keys&keyLogrouter != 0 {
		return dst, 0, Result{}, false
	}
	pl := &p.pl
	*pl = payload{format: fmtJSON, jsonKeys: keys}
	dst = append(dst, '{')
	start := len(dst)
	dst = p.appendHead(dst)
	if len(dst) > start {
		dst[len(dst)-1] = '}' // the last member's comma
	} else {
		dst = append(dst, '}')
	}
	mid = len(dst)
	dst = append(dst, '{')
	dst = p.appendTail(dst, p.msg)
	return dst, mid, p.result(), true
}

// AppendOther appends AppendJSON's object for the message SplitJSON parsed,
// with its payload not taken as JSON (it was none, or the caller's parser
// refused it, or it used the reserved name).
func (p *Parser) AppendOther(dst []byte) ([]byte, Result) {
	p.detect(p.h.body, false)
	return p.finish(dst)
}

// begin parses msg's header into p.h.
func (p *Parser) begin(msg []byte) {
	if p.now == nil {
		*p = *New(Options{})
	}
	h := &p.h
	if !p.parse5424(msg) && !p.parse3164(msg) {
		*h = header{status: StatusRaw, pri: -1, body: msg}
	}
	h.body = trimTrailer(h.body)
	p.msg = msg
}

// finish appends the object for the header and payload detected.
func (p *Parser) finish(dst []byte) ([]byte, Result) {
	if p.h.status == StatusRaw && p.pl.format == fmtText {
		dst = append(dst, `{"message":`...)
		dst = appendStr(dst, p.msg)
		dst = append(dst, `,"logrouter":{"parse_status":"raw"}}`...)
		return dst, Result{Status: StatusRaw}
	}
	dst = append(dst, '{')
	dst = p.appendHead(dst)
	dst = p.appendPayload(dst)
	dst = p.appendTail(dst, p.msg)
	return dst, p.result()
}

func (p *Parser) result() Result {
	return Result{Status: p.h.status, Format: formatNames[p.pl.format], Hostname: p.h.host, App: p.h.app}
}

// appendHead writes the members that go before the payload's, each with a
// trailing comma.
func (p *Parser) appendHead(dst []byte) []byte {
	h, pl := &p.h, &p.pl
	if pl.jsonKeys&keyTimestamp == 0 {
		switch {
		case pl.hasTime:
			dst = appendTime(dst, pl.ns)
		case h.hasTime:
			dst = appendTime(dst, h.ns)
		}
	}
	if pl.jsonKeys&keyLog == 0 && (h.pri >= 0 || h.version > 0) {
		dst = p.appendSyslog(dst)
	}
	if pl.jsonKeys&keyHost == 0 && len(h.host) > 0 {
		dst = append(dst, `"host":{"hostname":`...)
		dst = appendStr(dst, h.host)
		dst = append(dst, "},"...)
	}
	if pl.jsonKeys&keyProcess == 0 && (len(h.app) > 0 || len(h.procid) > 0) {
		dst = appendProcess(dst, h.app, h.procid)
	}
	if pl.message != nil && pl.jsonKeys&keyMessage == 0 {
		dst = append(dst, `"message":`...)
		dst = appendStr(dst, pl.message)
		dst = append(dst, ',')
	}
	return dst
}

// appendTail writes the members that go after the payload's and closes the
// object: logrouter, always present, is the last.
func (p *Parser) appendTail(dst, msg []byte) []byte {
	pl := &p.pl
	if pl.jsonKeys&keyEvent == 0 {
		dst = p.appendEvent(dst, msg)
	}
	dst = append(dst, `"logrouter":{"parse_status":"`...)
	dst = append(dst, p.h.status.String()...)
	dst = append(dst, '"')
	if pl.format != fmtText {
		dst = append(dst, `,"payload":"`...)
		dst = append(dst, formatNames[pl.format]...)
		dst = append(dst, '"')
	}
	return append(dst, "}}"...)
}

func appendTime(dst []byte, ns int64) []byte {
	dst = append(dst, `"timestamp":"`...)
	dst = timeparse.AppendRFC3339(dst, ns)
	return append(dst, `",`...)
}

// appendSyslog writes "log":{"syslog":{...}}.
func (p *Parser) appendSyslog(dst []byte) []byte {
	h := &p.h
	dst = append(dst, `"log":{"syslog":{`...)
	sep := false
	if h.pri >= 0 {
		dst = append(dst, priJSON[h.pri]...)
		sep = true
	}
	if h.version > 0 {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"version":`...)
		dst = appendInt(dst, h.version)
		sep = true
	}
	if len(h.msgid) > 0 {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"msgid":`...)
		dst = appendStr(dst, h.msgid)
		sep = true
	}
	if h.nsd > 0 {
		if sep {
			dst = append(dst, ',')
		}
		dst = p.appendSD(dst)
	}
	dst = append(dst, '}')
	if d := p.appendWinLevel(append(dst, ',')); len(d) > len(dst)+1 {
		dst = d // a Windows event's level (log.level) beside log.syslog
	}
	return append(dst, "},"...)
}

// appendProcess writes "process":{"name":..,"pid":..}.
func appendProcess(dst, name, pid []byte) []byte {
	dst = append(dst, `"process":{`...)
	if len(name) > 0 {
		dst = append(dst, `"name":`...)
		dst = appendStr(dst, name)
		if len(pid) > 0 {
			dst = append(dst, ',')
		}
	}
	if len(pid) > 0 {
		if isJSONUint(pid, 18) {
			dst = append(dst, `"pid":`...)
			dst = append(dst, pid...)
		} else {
			dst = append(dst, `"entity_id":`...)
			dst = appendStr(dst, pid)
		}
	}
	return append(dst, "},"...)
}

// appendEvent writes "event":{...} when there is anything to put in it.
func (p *Parser) appendEvent(dst, msg []byte) []byte {
	pl := &p.pl
	ds := pl.dataset
	if ds == "" {
		ds = p.appDataset()
	}
	orig := p.keepOriginal && pl.format.replacesMessage()
	if ds == "" && pl.action == "" && !orig {
		return dst
	}
	dst = append(dst, `"event":{`...)
	sep := false
	if ds != "" {
		dst = append(dst, `"dataset":"`...)
		dst = append(dst, ds...)
		dst = append(dst, '"')
		sep = true
	}
	if pl.action != "" {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"action":"`...)
		dst = append(dst, pl.action...)
		dst = append(dst, '"')
		sep = true
	}
	if orig {
		if sep {
			dst = append(dst, ',')
		}
		dst = append(dst, `"original":`...)
		dst = appendStr(dst, msg)
	}
	return append(dst, "},"...)
}

// trimTrailer drops trailing CR, LF and NUL bytes.
func trimTrailer(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case '\r', '\n', 0:
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

// priJSON[pri] is `"priority":38,"facility":{...},"severity":{...}`.
var priJSON = func() (t [192][]byte) {
	facilities := [...]string{"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
		"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
		"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"}
	severities := [...]string{"emergency", "alert", "critical", "error", "warning", "notice",
		"informational", "debug"}
	for pri := range t {
		var b []byte
		b = append(b, `"priority":`...)
		b = appendInt(b, pri)
		b = append(b, `,"facility":{"code":`...)
		b = appendInt(b, pri/8)
		b = append(b, `,"name":"`...)
		b = append(b, facilities[pri/8]...)
		b = append(b, `"},"severity":{"code":`...)
		b = appendInt(b, pri%8)
		b = append(b, `,"name":"`...)
		b = append(b, severities[pri%8]...)
		b = append(b, `"}`...)
		t[pri] = b
	}
	return t
}()

// appendInt appends a non-negative int in decimal.
func appendInt(dst []byte, v int) []byte {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return append(dst, buf[i:]...)
}

// isJSONUint reports whether b is a valid JSON unsigned integer (digits, no
// leading zero) of at most max digits.
func isJSONUint(b []byte, max int) bool {
	if len(b) == 0 || len(b) > max || (b[0] == '0' && len(b) > 1) {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isPort reports whether b is a JSON integer 0..65535.
func isPort(b []byte) bool {
	if !isJSONUint(b, 5) {
		return false
	}
	v := 0
	for _, c := range b {
		v = v*10 + int(c-'0')
	}
	return v <= 65535
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// hasPrefix is bytes.HasPrefix for a string prefix.
func hasPrefix(b []byte, s string) bool {
	return len(b) >= len(s) && string(b[:len(s)]) == s
}

// equalFold reports whether b equals ASCII s (lowercase) ignoring case.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

// hasPrefixFold is hasPrefix ignoring ASCII case; s must be lowercase.
func hasPrefixFold(b []byte, s string) bool {
	return len(b) >= len(s) && equalFold(b[:len(s)], s)
}
