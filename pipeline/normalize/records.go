package normalize

import "github.com/valyala/fastjson"

// Records returns the events a batch envelope holds, or nil when obj is an
// event itself. An envelope is an object whose only member is "records" or
// "Records" holding a non-empty array of objects: Azure Monitor diagnostic
// settings deliver every Azure log that way through Event Hubs (Entra ID
// sign-ins and audits, Activity, Defender), often read over Event Hubs'
// Kafka endpoint, and CloudTrail writes its S3 log files that way
// ({"Records":[...]}, forwarded whole by S3-to-Kafka/HTTP shippers). Each
// record is one event: routed as one envelope, an Entra sign-in or a
// CloudTrail call would match no rule and reach no search index.
//
// The test is of the shape alone, strict so that an event is never split:
// a real event has more than one member, or a "records" member that is not
// an array of objects (a DNS answer's records are strings or carry
// siblings). The returned values belong to obj's parser.
func Records(obj *fastjson.Value) []*fastjson.Value {
	o, err := obj.Object()
	if err != nil || o.Len() != 1 {
		return nil
	}
	var arr []*fastjson.Value
	o.Visit(func(key []byte, v *fastjson.Value) {
		if string(key) == "records" || string(key) == "Records" {
			arr, _ = v.Array()
		}
	})
	if len(arr) == 0 {
		return nil
	}
	for _, r := range arr {
		if r.Type() != fastjson.TypeObject {
			return nil
		}
	}
	return arr
}
