package httpin

import (
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/internal/jsonscan"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// ProtoCloudWatch is the protocol of a quarantined CloudWatch Logs log
// event. Its raw bytes are the subscription message reduced to that one
// log event (CloudWatchMessage.Record): the log group, stream and account
// are what the event was made of as much as its message, and POST
// /admin/replay/cloudwatch makes the event of it again as the Firehose
// input does.
const ProtoCloudWatch = "firehose-cloudwatch"

// CloudWatchMessage is a CloudWatch Logs subscription message, as a
// subscription filter delivers it through Firehose: the log group, stream
// and account of a batch of log events. Its values point into the parsed
// value and the arena given to ParseCloudWatch.
type CloudWatchMessage struct {
	v *fastjson.Value
	a *fastjson.Arena
	// Control is set for a CONTROL_MESSAGE (CloudWatch's check that the
	// destination is reachable): no log events.
	Control bool
	// Group is the log group: the events' logrouter.source.
	Group []byte
	// Labels is the events' labels: log_stream and cloud_account_id, and
	// the log event's log_event_id, set by Meta for each event.
	Labels *fastjson.Value
	// Events are the log events ({"id","timestamp","message"}).
	Events []*fastjson.Value
}

// ParseCloudWatch reads v as a CloudWatch Logs subscription message; ok is
// false when v is not one (no messageType, no logEvents array). Labels are
// made in a.
func ParseCloudWatch(v *fastjson.Value, a *fastjson.Arena) (m CloudWatchMessage, ok bool) {
	typ := v.GetStringBytes("messageType")
	events := v.Get("logEvents")
	if typ == nil || events == nil || events.Type() != fastjson.TypeArray {
		return m, false
	}
	m.v, m.a = v, a
	if string(typ) == "CONTROL_MESSAGE" {
		m.Control = true
		return m, true
	}
	m.Labels = a.NewObject()
	if s := v.GetStringBytes("logStream"); s != nil {
		m.Labels.Set("log_stream", a.NewStringBytes(s))
	}
	if s := v.GetStringBytes("owner"); s != nil {
		m.Labels.Set("cloud_account_id", a.NewStringBytes(s))
	}
	m.Group = v.GetStringBytes("logGroup")
	m.Events, _ = events.Array()
	return m, true
}

// Meta sets em's metadata for log event le from the message (Source,
// Fields) over what the stream gave it (source types, index). Fields are
// the message's labels and le's id as log_event_id: CloudWatch gives every
// log event a unique id, so two log events of one stream with the same
// message in the same millisecond stay two events (their content hashes
// differ; without it dedup took the second for a copy), while a Firehose
// retry of a delivery, the same ids again, is still dropped as duplicate.
// The labels are rewritten for each event: use them before the next call.
func (m *CloudWatchMessage) Meta(em *normalize.EventMeta, le *fastjson.Value) {
	em.Source, em.Fields = m.Group, m.Labels
	if id := le.GetStringBytes("id"); len(id) > 0 {
		m.Labels.Set("log_event_id", m.a.NewStringBytes(id))
	} else {
		m.Labels.Del("log_event_id")
	}
}

// LogEvent returns log event le's message and time (unix ns, 0 when it
// has none); ok is false when it has no "message" string.
func LogEvent(le *fastjson.Value) (msg []byte, ts int64, ok bool) {
	msg = le.GetStringBytes("message")
	if ms := le.GetInt64("timestamp"); ms > 0 {
		ts = ms * int64(time.Millisecond)
	}
	return msg, ts, msg != nil
}

// LogEventBody returns what an event is made of log event message msg of
// time ts: a JSON object message (parsed with p; obj non-nil) keeps its own
// time, ts standing in when it has none (em.DefaultTime); any other is a
// text message of time ts (em.Time). err is jsonscan.ErrTooDeep for a
// message nested past jsonscan.MaxDepth, jsonscan.ErrTooManyValues for
// one too dense in values to parse (jsonscan.ParseCost; not parsed).
func LogEventBody(p *fastjson.Parser, msg []byte, ts int64, em *normalize.EventMeta) (obj *fastjson.Value, err error) {
	if t := skipWS(msg); len(t) > 0 && t[0] == '{' {
		if jsonscan.TooDeep(t, jsonscan.MaxDepth) {
			return nil, jsonscan.ErrTooDeep
		}
		if _, err := jsonscan.ParseCost(t); err != nil {
			return nil, err
		}
		if obj, err := p.ParseBytes(t); err == nil && obj.Type() == fastjson.TypeObject {
			em.DefaultTime = ts
			return obj, nil
		}
	}
	em.Time = ts
	return nil, nil
}

// RecordWith is Record with msg as the log event's message (one event of
// the several a message holds, normalize.Parts).
func (m *CloudWatchMessage) RecordWith(le *fastjson.Value, msg []byte) []byte {
	var a fastjson.Arena
	old := le.Get("message")
	le.Set("message", a.NewStringBytes(msg))
	rec := m.Record(le)
	le.Set("message", old)
	return rec
}

// Record returns the message reduced to its log event le, on one line:
// what the quarantine keeps of a log event refused (ProtoCloudWatch).
func (m *CloudWatchMessage) Record(le *fastjson.Value) []byte {
	out := append([]byte(nil), `{"messageType":"DATA_MESSAGE"`...)
	for _, k := range [...]string{"owner", "logGroup", "logStream", "subscriptionFilters"} {
		if v := m.v.Get(k); v != nil {
			out = append(out, ',', '"')
			out = append(out, k...)
			out = append(out, '"', ':')
			out = v.MarshalTo(out)
		}
	}
	out = append(out, `,"logEvents":[`...)
	out = le.MarshalTo(out)
	return append(out, ']', '}')
}
