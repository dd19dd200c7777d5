package parse

import (
	"time"

	"github.com/logrouter/logrouter/pipeline/normalize"
)

// NewTextParser returns a parser for normalization profiles' parse with
// format syslog (normalize.Config.NewTextParser): a device line that came
// in another way than the syslog input (the message of a Filebeat module's
// event, a text event sent over HEC) is parsed as that input parses it,
// times without a zone at the offset the caller gives (the event's
// event.timezone).
func NewTextParser() normalize.TextParser {
	t := &textParser{}
	t.p = New(Options{Now: t.now})
	return t
}

type textParser struct {
	p  *Parser
	at int64 // the event's receive time (SetReceived), unix ns; 0: the clock
}

// SetReceived sets the receive time the next parses infer a year from
// (normalize.ReceiveClock).
func (t *textParser) SetReceived(ns int64) { t.at = ns }

func (t *textParser) now() time.Time {
	if t.at == 0 {
		return time.Now()
	}
	return time.Unix(0, t.at)
}

// AppendJSON appends line's object; ok is false for plain text without a
// syslog header, which gains nothing from being parsed.
func (t *textParser) AppendJSON(dst, line []byte, zone int64) ([]byte, bool) {
	t.zone(zone)
	out, r := t.p.AppendJSON(dst, line)
	if r.Status == StatusRaw && r.Format == "" {
		return dst, false
	}
	return out, true
}

// AppendWindowsJSON is AppendJSON for a Windows event sent as text alone
// (normalize's parse format windows): see Parser.AppendWindows.
func (t *textParser) AppendWindowsJSON(dst, line []byte, zone int64) ([]byte, bool) {
	t.zone(zone)
	return t.p.AppendWindows(dst, line)
}

// AppendWindowsMessage is Parser.AppendWindowsMessage (normalize's parse
// format windows, for a structured Security event without its data).
func (t *textParser) AppendWindowsMessage(dst, eventID, msg []byte) ([]byte, bool) {
	return t.p.AppendWindowsMessage(dst, eventID, msg)
}

// zone sets the parser's Location for times without a zone.
func (t *textParser) zone(zone int64) {
	t.p.loc, t.p.utc = t.p.fixedZone(int(zone)), zone == 0
}
