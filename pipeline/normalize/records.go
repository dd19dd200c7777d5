package normalize

import (
	"strings"

	"github.com/valyala/fastjson"
)

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
// Two API pages are envelopes too, as pollers that forward what an API
// answered send them (a Logic App, a Lambda, a script posting each page):
// a Microsoft Graph collection page ({"@odata.context":...,"value":[...]},
// also @odata.nextLink, @odata.deltaLink, @odata.count: sign-ins,
// directory audits, security alerts), its records the value array's
// objects; and a Google Workspace Reports API page ({"kind":
// "admin#reports#activities","items":[...]}, also etag and
// nextPageToken), its records the activities in items (an activity of
// several events is split further: EachPart, route.Worker.AddRecords).
//
// The test is of the shape alone, strict so that an event is never split:
// a real event has more than one member, or a "records" member that is not
// an array of objects (a DNS answer's records are strings or carry
// siblings); a page has no member but those its API writes, and the one
// that names it (@odata.context, kind). The returned values belong to
// obj's parser.
func Records(obj *fastjson.Value) []*fastjson.Value {
	o, err := obj.Object()
	if err != nil {
		return nil
	}
	var arr []*fastjson.Value
	if o.Len() == 1 {
		o.Visit(func(key []byte, v *fastjson.Value) {
			if string(key) == "records" || string(key) == "Records" {
				arr, _ = v.Array()
			}
		})
	} else {
		arr = pageItems(o)
	}
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

// pageItems returns the items of o when it is a Microsoft Graph collection
// page or a Google Workspace Reports API page (see Records), else nil.
func pageItems(o *fastjson.Object) []*fastjson.Value {
	// Every event passes here: two lookups (a pass over the keys each,
	// a length compare per member) turn away all but a page's shape
	// before the full visit and its callback.
	if o.Get("value") == nil && o.Get("items") == nil {
		return nil
	}
	var value, items *fastjson.Value
	var context, odata, kind, google, other bool
	o.Visit(func(key []byte, v *fastjson.Value) {
		switch k := string(key); {
		case k == "value":
			other = other || value != nil // repeated: not what Graph writes
			value = v
		case k == "items":
			other = other || items != nil
			items = v
		case k == "@odata.context":
			context = v.Type() == fastjson.TypeString
			odata = true
		case strings.HasPrefix(k, "@odata."):
			odata = true
		case k == "kind":
			kind = string(v.GetStringBytes()) == "admin#reports#activities"
			google = true
		case k == "etag" || k == "nextPageToken":
			google = true
		default:
			other = true
		}
	})
	var arr []*fastjson.Value
	switch {
	case other:
	case context && value != nil && items == nil && !google: // Graph
		arr, _ = value.Array()
	case kind && items != nil && value == nil && !odata: // Google Reports
		arr, _ = items.Array()
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
// It returns nil when obj is one event. A record that is itself an
// activity of several events (a Reports API page's) holds several in
// turn: Count says how many events parts make.
func Parts(obj *fastjson.Value) (parts []*fastjson.Value, activity bool) {
	if recs := Records(obj); recs != nil {
		return recs, false
	}
	return ActivityEvents(obj), true
}

// Count is how many events the parts Parts returned make: one per
// activity event; one per record, or per event of a record that is an
// activity of several.
func Count(parts []*fastjson.Value, activity bool) int {
	if activity {
		return len(parts)
	}
	n := 0
	for _, r := range parts {
		n += max(1, len(ActivityEvents(r)))
	}
	return n
}

// EachEvent calls fn with each event the record rec makes: rec itself,
// or, when it is an activity of several events, rec holding each of them
// in turn (its list put back after the last). part is valid during the
// call only.
func EachEvent(rec *fastjson.Value, fn func(part *fastjson.Value)) {
	evs := ActivityEvents(rec)
	if evs == nil {
		fn(rec)
		return
	}
	orig := rec.Get("events")
	defer rec.Set("events", orig)
	for _, e := range evs {
		SetActivityEvent(rec, e)
		fn(rec)
	}
}

// EachPart calls fn with each event obj holds (see Parts): obj itself when
// it is one event (n 1), else each record (each event of a record that is
// an activity of several), or obj holding each of its activity's events
// in turn (its list put back after the last). part is valid during the
// call only.
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
	if parts == nil {
		fn(0, 1, obj)
		return
	}
	if activity {
		parts = []*fastjson.Value{obj}
	}
	n, i := Count(parts, false), 0
	for _, r := range parts {
		EachEvent(r, func(part *fastjson.Value) {
			fn(i, n, part)
			i++
		})
	}
}
