package parse

import "github.com/logrouter/logrouter/pipeline/normalize"

// NewTextParser returns a parser for normalization profiles' parse with
// format syslog (normalize.Config.NewTextParser): a device line that came
// in another way than the syslog input (the message of a Filebeat module's
// event, a text event sent over HEC) is parsed as that input parses it.
// Times without a zone are UTC.
func NewTextParser() normalize.TextParser { return textParser{New(Options{})} }

type textParser struct{ p *Parser }

// AppendJSON appends line's object; ok is false for plain text without a
// syslog header, which gains nothing from being parsed.
func (t textParser) AppendJSON(dst, line []byte) ([]byte, bool) {
	out, r := t.p.AppendJSON(dst, line)
	if r.Status == StatusRaw && r.Format == "" {
		return dst, false
	}
	return out, true
}
