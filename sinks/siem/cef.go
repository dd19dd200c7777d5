package siem

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/timeparse"
	"github.com/logrouter/logrouter/pipeline"
)

// cefTimestampKeys are the CEF keys whose values are times (the spec
// accepts epoch milliseconds for all of them).
var cefTimestampKeys = map[string]bool{
	"rt": true, "start": true, "end": true, "art": true,
	"deviceCustomDate1": true, "deviceCustomDate2": true, "flexDate1": true,
	"fileCreateTime": true, "fileModificationTime": true,
	"oldFileCreateTime": true, "oldFileModificationTime": true,
}

type cefField struct {
	key       []byte // `key=`
	path      []string
	ts        bool   // a timestamp key: epoch milliseconds
	eventTime bool   // path is @timestamp: Event.Time
	lit       []byte // a constant (CEFConfig.Constants), escaped; nil for a field
}

// cefEncoder renders the CEF body of a message.
type cefEncoder struct {
	head      []byte // CEF:0|vendor|product|version|
	sig       [][]string
	name      [][]string
	sevPath   []string
	sevByPrio [pipeline.NumPriorities][]byte
	ext       []cefField
}

func splitPath(p string) []string { return strings.Split(p, ".") }

func newCEFEncoder(c CEFConfig) *cefEncoder {
	e := &cefEncoder{head: []byte("CEF:0|")}
	for _, s := range []string{c.DeviceVendor, c.DeviceProduct, c.DeviceVersion} {
		e.head = appendCEFHeader(e.head, []byte(s))
		e.head = append(e.head, '|')
	}
	for _, p := range c.SignatureIDFields {
		e.sig = append(e.sig, splitPath(p))
	}
	for _, p := range c.NameFields {
		e.name = append(e.name, splitPath(p))
	}
	if c.SeverityField != "" {
		e.sevPath = splitPath(c.SeverityField)
	}
	for _, p := range pipeline.Priorities {
		e.sevByPrio[p] = strconv.AppendInt(nil, int64(c.SeverityByPriority[p.String()]), 10)
	}
	e.sevByPrio[pipeline.PriorityNone] = e.sevByPrio[pipeline.P3]
	for _, k := range sortedKeys(c.Extension) {
		p := c.Extension[k]
		e.ext = append(e.ext, cefField{
			key: []byte(k + "="), path: splitPath(p),
			ts: cefTimestampKeys[k], eventTime: p == "@timestamp",
		})
	}
	for _, k := range sortedKeys(c.Constants) {
		e.ext = append(e.ext, cefField{key: []byte(k + "="), lit: appendCEFValue([]byte{}, []byte(c.Constants[k]))})
	}
	slices.SortStableFunc(e.ext, func(a, b cefField) int { return bytes.Compare(a.key, b.key) })
	return e
}

// appendCEF appends ev's CEF record; v is the parsed Raw (nil when it did
// not parse: the record then has only the header).
func (e *cefEncoder) appendCEF(dst []byte, ev *pipeline.Event, v *fastjson.Value, scratch *[]byte) []byte {
	dst = append(dst, e.head...)
	// signature id
	sig, ok := e.first(v, e.sig, scratch)
	switch {
	case ok:
		dst = appendCEFHeader(dst, sig)
	case ev.SourceType != "":
		dst = appendCEFHeader(dst, []byte(ev.SourceType))
	default:
		dst = append(dst, DefaultCEFSignatureID...)
	}
	dst = append(dst, '|')
	if name, ok := e.first(v, e.name, scratch); ok {
		dst = appendCEFHeader(dst, name)
	} else {
		dst = append(dst, DefaultCEFName...)
	}
	dst = append(dst, '|')
	dst = e.appendSeverity(dst, ev, v)
	dst = append(dst, '|')
	if v == nil {
		return dst
	}
	sep := false
	for i := range e.ext {
		f := &e.ext[i]
		if f.lit != nil {
			if sep {
				dst = append(dst, ' ')
			}
			dst = append(dst, f.key...)
			dst = append(dst, f.lit...)
			sep = true
			continue
		}
		if f.eventTime && f.ts {
			t := ev.Time
			if t <= 0 {
				t = ev.Ingest
			}
			if sep {
				dst = append(dst, ' ')
			}
			dst = append(dst, f.key...)
			dst = strconv.AppendInt(dst, t/1e6, 10)
			sep = true
			continue
		}
		fv := v.Get(f.path...)
		text, ok := valueText(fv, scratch)
		if !ok {
			continue
		}
		if f.ts {
			// A time key holds epoch milliseconds or nothing: a number
			// (epoch seconds, ms, µs or ns, by magnitude) or a string
			// timeparse reads is converted; anything else, which no SIEM
			// could read as a time, is left out.
			var ns int64
			if fv.Type() == fastjson.TypeString {
				ns, ok = timeparse.Parse(text, time.Now())
			} else if fv.Type() == fastjson.TypeNumber {
				ns, ok = timeparse.ParseEpoch(text)
			} else {
				ok = false
			}
			if !ok {
				continue
			}
			if sep {
				dst = append(dst, ' ')
			}
			dst = append(dst, f.key...)
			dst = strconv.AppendInt(dst, ns/1e6, 10)
			sep = true
			continue
		}
		if sep {
			dst = append(dst, ' ')
		}
		dst = append(dst, f.key...)
		dst = appendCEFValue(dst, text)
		sep = true
	}
	return dst
}

// first returns the text of the first path present in v.
func (e *cefEncoder) first(v *fastjson.Value, paths [][]string, scratch *[]byte) ([]byte, bool) {
	if v == nil {
		return nil, false
	}
	for _, p := range paths {
		if text, ok := valueText(v.Get(p...), scratch); ok {
			return text, true
		}
	}
	return nil, false
}

var cefSeverityNames = []string{"Unknown", "Low", "Medium", "High", "Very-High"}

func (e *cefEncoder) appendSeverity(dst []byte, ev *pipeline.Event, v *fastjson.Value) []byte {
	if v != nil && e.sevPath != nil {
		if sv := v.Get(e.sevPath...); sv != nil {
			switch sv.Type() {
			case fastjson.TypeNumber:
				if f, err := sv.Float64(); err == nil && f >= 0 && f <= maxCEFSeverity && !math.IsNaN(f) {
					return strconv.AppendInt(dst, int64(f), 10)
				}
			case fastjson.TypeString:
				s, _ := sv.StringBytes()
				if n, err := strconv.Atoi(string(s)); err == nil && n >= 0 && n <= maxCEFSeverity {
					return strconv.AppendInt(dst, int64(n), 10)
				}
				for _, name := range cefSeverityNames {
					if strings.EqualFold(string(s), name) {
						return append(dst, name...)
					}
				}
			}
		}
	}
	p := ev.Priority
	if int(p) >= len(e.sevByPrio) {
		p = pipeline.PriorityNone
	}
	return append(dst, e.sevByPrio[p]...)
}

// valueText renders a JSON value as CEF text: strings unescaped, numbers
// and booleans as written, objects and arrays as compact JSON. ok is false
// for absent, null and empty-string values. The result may live in
// scratch, valid until the next call.
func valueText(v *fastjson.Value, scratch *[]byte) ([]byte, bool) {
	if v == nil {
		return nil, false
	}
	switch v.Type() {
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		return b, len(b) > 0
	case fastjson.TypeNull:
		return nil, false
	case fastjson.TypeTrue:
		return []byte("true"), true
	case fastjson.TypeFalse:
		return []byte("false"), true
	}
	*scratch = v.MarshalTo((*scratch)[:0])
	return *scratch, true
}

// cefControl reports whether c is a control character (C0 or DEL): the
// CEF specification has no escape for them but \n and \r in extension
// values, and raw they are rewritten by relays (rsyslog's #000), end the
// string for C receivers, or end a frame where NUL is the trailer (RFC 6587
// 3.4.2). They are written as spaces.
func cefControl(c byte) bool { return c < 0x20 || c == 0x7f }

// appendCEFHeader escapes a header field: \ -> \\, | -> \|; control
// characters, CR and LF included (not allowed in the header), become spaces.
func appendCEFHeader(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' && c != '|' && !cefControl(c) {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '\\', '|':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, ' ')
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// appendCEFValue escapes an extension value: \ -> \\, = -> \=, LF -> \n,
// CR -> \r; other control characters become spaces.
func appendCEFValue(dst, s []byte) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var esc byte
		switch {
		case c == '\\':
			esc = '\\'
		case c == '=':
			esc = '='
		case c == '\n':
			esc = 'n'
		case c == '\r':
			esc = 'r'
		case cefControl(c):
			dst = append(dst, s[start:i]...)
			dst = append(dst, ' ')
			start = i + 1
			continue
		default:
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, '\\', esc)
		start = i + 1
	}
	return append(dst, s[start:]...)
}
