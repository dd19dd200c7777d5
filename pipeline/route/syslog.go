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
	cost   int64 // what jp's last parse holds (jsonscan.ParseCost)
}

// Cost is about what the value of the last Parse holds of the heap
// (jsonscan.ParseCost; 0 for a message of at most a few KiB): the caller
// charges it to its memory budget while it uses the value.
func (sp *SyslogParser) Cost() int64 { return sp.cost }

// Done lets go of what a large parse grew the parser to, once the value
// of the last Parse is no longer used: a connection's parser would keep it
// for as long as the connection lives.
func (sp *SyslogParser) Done() {
	if sp.cost > jsonscan.KeepParserBytes {
		sp.jp = fastjson.Parser{}
	}
	sp.cost = 0
}

// Parse returns frame's event and the parser's result. An error means the
// parser's output was not JSON (a bug in it): the caller keeps the frame
// (quarantine) rather than lose it.
func (sp *SyslogParser) Parse(frame []byte, em *normalize.EventMeta) (*fastjson.Value, parse.Result, error) {
	var res parse.Result
	sp.Done()
	if obj := sp.Parser.SplitJSON(frame); obj != nil && !jsonscan.TooDeep(obj, jsonscan.MaxDepth) && sp.costs(obj) {
		// (A payload nested deeper goes the AppendOther way, as text:
		// fastjson's error for it would cost megabytes to build; so does
		// one too dense in values, jsonscan.ErrTooManyValues, which would
		// hold tens of times its size parsed.)
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

// costs records what parsing obj will hold (sp.cost), or reports false for
// a payload too dense in values to parse as JSON.
func (sp *SyslogParser) costs(obj []byte) bool {
	c, err := jsonscan.ParseCost(obj)
	sp.cost = c
	return err == nil
}
