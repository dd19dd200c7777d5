package route

import (
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// SyslogParser makes the event of a syslog frame: the one way the syslog
// input, its quarantine replay, rule tests and `router explain` all make
// it, so that what a rule test checks is what the input delivers.
//
// A JSON payload is parsed once, with the header's members around it in
// the EventMeta's Head and Tail; anything else becomes the parser's one
// object (see parse.SplitJSON). The value and the Head and Tail Parse
// returns are valid until its next call. Not safe for concurrent use; the
// zero value needs Parser set.
type SyslogParser struct {
	Parser *parse.Parser
	jp     fastjson.Parser // the message: AppendOther's object or a JSON payload
	hp, tp fastjson.Parser // the header objects around a JSON payload
	buf    []byte
}

// Parse returns frame's event and the parser's result. An error means the
// parser's output was not JSON (a bug in it): the caller keeps the frame
// (quarantine) rather than lose it.
func (sp *SyslogParser) Parse(frame []byte, em *normalize.EventMeta) (*fastjson.Value, parse.Result, error) {
	var res parse.Result
	if obj := sp.Parser.SplitJSON(frame); obj != nil && !jsonscan.TooDeep(obj, jsonscan.MaxDepth) {
		// (A payload nested deeper goes the AppendOther way, as text:
		// fastjson's error for it would cost megabytes to build.)
		if v, err := sp.jp.ParseBytes(obj); err == nil {
			o, _ := v.Object() // obj starts with '{'
			var mid int
			var ok bool
			if sp.buf, mid, res, ok = sp.Parser.AppendAround(sp.buf[:0], o); ok {
				head, err := sp.hp.ParseBytes(sp.buf[:mid])
				if err != nil {
					return nil, res, err
				}
				tail, err := sp.tp.ParseBytes(sp.buf[mid:])
				if err != nil {
					return nil, res, err
				}
				em.Head, em.Tail = head, tail
				return v, res, nil
			}
		}
	}
	sp.buf, res = sp.Parser.AppendOther(sp.buf[:0])
	v, err := sp.jp.ParseBytes(sp.buf)
	return v, res, err
}
