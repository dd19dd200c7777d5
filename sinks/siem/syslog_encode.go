package siem

import (
	"bytes"
	"strconv"
	"time"
	"unsafe"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/timeparse"
	"github.com/logrouter/logrouter/pipeline"
)

// syslogEncoder renders framed syslog messages.
type syslogEncoder struct {
	rfc3164   bool
	octet     bool
	pri       [pipeline.NumPriorities][]byte // "<PRI>1 " (RFC 5424) or "<PRI>"
	appName   []byte
	fixedHost []byte
	defHost   []byte
	cef       *cefEncoder
	maxMsg    int
}

// newSyslogEncoder builds the encoder of a validated, defaulted config.
func newSyslogEncoder(c *SyslogConfig) *syslogEncoder {
	e := &syslogEncoder{
		rfc3164: c.SyslogFormat == "rfc3164",
		octet:   c.Framing == "octet_counting",
		maxMsg:  c.MaxMessageBytes,
	}
	fac, _ := parseFacility(c.Facility)
	for _, p := range pipeline.Priorities {
		sev, _ := parseSeverity(c.Severity[p.String()])
		e.pri[p] = e.renderPRI(fac*8 + sev)
	}
	e.pri[pipeline.PriorityNone] = e.pri[pipeline.P3]
	maxApp := maxSyslogAppName
	if e.rfc3164 {
		maxApp = maxRFC3164Tag
	}
	e.appName = appendHeaderField(nil, []byte(c.AppName), maxApp, e.rfc3164)
	if c.Hostname != "" {
		e.fixedHost = appendHeaderField(nil, []byte(c.Hostname), maxSyslogHostname, false)
	}
	e.defHost = appendHeaderField(nil, []byte(c.DefaultHost), maxSyslogHostname, false)
	if len(e.defHost) == 0 {
		e.defHost = []byte("-")
	}
	if c.Format == "cef" {
		e.cef = newCEFEncoder(c.CEF)
	}
	return e
}

func (e *syslogEncoder) renderPRI(pri int) []byte {
	b := append([]byte{'<'}, strconv.Itoa(pri)...)
	b = append(b, '>')
	if !e.rfc3164 {
		b = append(b, '1', ' ')
	}
	return b
}

// appendHeaderField appends s restricted to PRINTUSASCII (other bytes
// become '_') and at most max bytes; tag3164 also maps ':' '[' ']' (they
// end an RFC 3164 TAG).
func appendHeaderField(dst, s []byte, max int, tag3164 bool) []byte {
	if len(s) > max {
		s = s[:max]
	}
	for _, c := range s {
		if c < 33 || c > 126 || (tag3164 && (c == ':' || c == '[' || c == ']')) {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// appendFrame appends ev as one framed message. It returns false (and dst
// unchanged) when the message exceeds max_message_bytes.
func (e *syslogEncoder) appendFrame(dst []byte, ev *pipeline.Event, p *fastjson.Parser, scratch *[]byte) ([]byte, bool) {
	start := len(dst)
	var v *fastjson.Value
	if e.cef != nil {
		v, _ = p.ParseBytes(ev.Raw)
		if v != nil && v.Type() != fastjson.TypeObject {
			v = nil
		}
	}
	prio := ev.Priority
	if int(prio) >= len(e.pri) {
		prio = pipeline.PriorityNone
	}
	dst = append(dst, e.pri[prio]...)
	t := ev.Time
	if t <= 0 {
		t = ev.Ingest
	}
	if e.rfc3164 {
		dst = time.Unix(0, t).UTC().AppendFormat(dst, time.Stamp)
	} else {
		dst = timeparse.AppendRFC3339(dst, t-t%1000) // at most 6 fraction digits
	}
	dst = append(dst, ' ')
	dst = e.appendHost(dst, ev, v, p)
	dst = append(dst, ' ')
	dst = append(dst, e.appName...)
	if e.rfc3164 {
		dst = append(dst, ':', ' ')
	} else {
		dst = append(dst, ' ', '-', ' ')
		if ev.SourceType == "" {
			dst = append(dst, '-')
		} else {
			dst = appendHeaderField(dst, unsafe.Slice(unsafe.StringData(ev.SourceType), len(ev.SourceType)), maxSyslogMsgID, false)
		}
		dst = append(dst, ' ', '-', ' ')
	}
	if e.cef != nil {
		dst = e.cef.appendCEF(dst, ev, v, scratch)
	} else {
		dst = append(dst, ev.Raw...)
	}
	n := len(dst) - start
	if e.maxMsg > 0 && n > e.maxMsg {
		return dst[:start], false
	}
	if !e.octet {
		msg := dst[start:]
		for {
			i := bytes.IndexAny(msg, "\r\n")
			if i < 0 {
				break
			}
			msg[i] = ' '
			msg = msg[i+1:]
		}
		return append(dst, '\n'), true
	}
	// octet counting: "LEN " before the message
	var num [24]byte
	prefix := strconv.AppendInt(num[:0], int64(n), 10)
	prefix = append(prefix, ' ')
	dst = append(dst, prefix...) // grow
	copy(dst[start+len(prefix):], dst[start:start+n])
	copy(dst[start:], prefix)
	return dst, true
}

// appendHost appends HOSTNAME: the configured one, else the event's
// host.name, else default_host.
func (e *syslogEncoder) appendHost(dst []byte, ev *pipeline.Event, v *fastjson.Value, p *fastjson.Parser) []byte {
	if e.fixedHost != nil {
		return append(dst, e.fixedHost...)
	}
	var name []byte
	if v != nil {
		name = v.GetStringBytes("host", "name")
	} else if lit := lookupRaw(ev.Raw, "host", "name"); lit != nil {
		var ok bool
		if name, ok = plainString(lit); !ok && len(lit) > 0 && lit[0] == '"' {
			if hv, err := p.ParseBytes(lit); err == nil {
				name, _ = hv.StringBytes()
			}
		}
	}
	if len(name) == 0 {
		return append(dst, e.defHost...)
	}
	return appendHeaderField(dst, name, maxSyslogHostname, false)
}
