package normalize

import (
	"errors"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/jsonscan"
)

// Records longer than the inputs' bound on one event that hold many
// events.
//
// A batch envelope or an API page (Records: Azure's {"records":[...]}, a
// CloudTrail file, a Microsoft Graph page, a Google Reports API page) is
// often larger than an input's bound on one record (inputs.http's
// max_event_bytes, inputs.kafka's max_message_bytes) while each of its
// records is small: Graph answers 1000 sign-ins (~3 MB) a page by default,
// a CloudTrail file of 2000 calls is ~2 MB (~100 KB gzipped in a Kafka
// batch). Parsed whole it would grow a pooled parser to many times its
// size (the reason for the bound); refused whole, every record past the
// bound would be lost. Such a record is instead split by a byte scan (no
// parse of the whole) and each of its records parsed and added alone,
// exactly as they would have been had the envelope fit: the shape is
// decided by Records on a skeleton of the envelope (its members, with the
// records' array reduced to one empty object), so that both paths split
// the same envelopes.

// MaxSkeleton bounds what an envelope may hold besides its records (a
// page's links, kind and tokens are well under it): the skeleton is
// parsed, so a record whose other members are large is no envelope and is
// never parsed whole.
const MaxSkeleton = 64 << 10

// LargeRecords returns the records' array of raw when raw is a batch
// envelope or an API page (Records) whose records are all objects (one or
// more), else nil; jsonscan.Elements walks it. raw must be valid JSON (the
// callers check: fastjson.ValidateBytes, which builds nothing).
func LargeRecords(raw []byte) []byte {
	// The largest member is the records' array (a page's other members are
	// short: links, a kind, a token).
	var arr []byte
	largest, n := 0, 0
	if jsonscan.Members(raw, func(_, v []byte) error {
		if len(v) > len(arr) {
			arr, largest = v, n
		}
		n++
		return nil
	}) != nil || len(arr) == 0 || arr[0] != '[' || len(raw)-len(arr) > MaxSkeleton {
		return nil
	}
	elems := 0
	if jsonscan.Elements(arr, func(el []byte) error {
		if el[0] != '{' {
			return errNotObject
		}
		elems++
		return nil
	}) != nil || elems == 0 {
		return nil
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(jsonscan.Splice(raw, arr, "[{}]"))
	if err != nil {
		return nil
	}
	recs := Records(v)
	if len(recs) != 1 {
		return nil
	}
	// The records Records found must be those of the member replaced (by
	// position: a key may be written with escapes).
	mine := memberAt(v, largest)
	if mine == nil || len(mine.GetArray()) != 1 || recs[0] != mine.GetArray()[0] {
		return nil
	}
	return arr
}

var errNotObject = errors.New("not an object")

// memberAt returns the value of object v's i-th member (in the order
// written), or nil.
func memberAt(v *fastjson.Value, i int) *fastjson.Value {
	var m *fastjson.Value
	n := 0
	v.GetObject().Visit(func(_ []byte, val *fastjson.Value) {
		if n == i {
			m = val
		}
		n++
	})
	return m
}
