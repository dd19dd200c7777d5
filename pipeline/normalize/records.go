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

// ActivityEvents returns the events of a Google Workspace Reports API
// activity (kind "admin#reports#activity") that holds two or more, or nil.
// Such an activity is one actor's action at one time and its events
// (usually one) what it did: an admin's CREATE_USER and ASSIGN_ROLE, a
// Drive download and its change of visibility. Elastic's google_workspace
// collector writes one document per event, with events that one object;
// logrouter routes each event so too (SetActivityEvent), so that a rule
// and a search see the second event's name and parameters as they see
// the first's. Activities of one event, by far the most, stay as they are
// (events a list of one). The values belong to obj's parser.
func ActivityEvents(obj *fastjson.Value) []*fastjson.Value {
	if obj.Type() != fastjson.TypeObject || string(obj.GetStringBytes("kind")) != "admin#reports#activity" {
		return nil
	}
	evs := obj.GetArray("events")
	if len(evs) < 2 {
		return nil
	}
	for _, e := range evs {
		if e.Type() != fastjson.TypeObject {
			return nil
		}
	}
	return evs
}

// SetActivityEvent makes the activity obj hold only its event e, as its
// events member (an object); set the list back (obj's events member as
// it was) once done.
func SetActivityEvent(obj, e *fastjson.Value) { obj.Set("events", e) }

// Parts returns the events obj holds when it holds several: a batch
// envelope's records (Records), or a Google Workspace activity's events
// (ActivityEvents; activity true, each routed as obj holding only it).
// It returns nil when obj is one event.
func Parts(obj *fastjson.Value) (parts []*fastjson.Value, activity bool) {
	if recs := Records(obj); recs != nil {
		return recs, false
	}
	return ActivityEvents(obj), true
}

// EachPart calls fn with each event obj holds (see Parts): obj itself when
// it is one event (n 1), else each record, or obj holding each of its
// activity's events in turn (its list put back after the last). part is
// valid during the call only.
func EachPart(obj *fastjson.Value, fn func(i, n int, part *fastjson.Value)) {
	EachPartOf(obj, true, fn)
}

// EachPartOf is EachPart; without envelopes, a batch envelope is one
// event (as the syslog input takes a payload: see route.Worker.AddAll).
func EachPartOf(obj *fastjson.Value, envelopes bool, fn func(i, n int, part *fastjson.Value)) {
	var parts []*fastjson.Value
	activity := true
	if envelopes {
		parts, activity = Parts(obj)
	} else {
		parts = ActivityEvents(obj)
	}
	switch {
	case parts == nil:
		fn(0, 1, obj)
	case !activity:
		for i, r := range parts {
			fn(i, len(parts), r)
		}
	default:
		orig := obj.Get("events")
		defer obj.Set("events", orig)
		for i, e := range parts {
			SetActivityEvent(obj, e)
			fn(i, len(parts), obj)
		}
	}
}
