package harness

import (
	"math"
	"strconv"

	"github.com/valyala/fastjson"
	"google.golang.org/protobuf/encoding/protowire"
)

// otlpEnc builds an OTLP ExportLogsServiceRequest in binary protobuf
// (opentelemetry/proto/collector/logs/v1), as the OpenTelemetry
// Collector's otlphttp exporter sends it: one resource, one scope, one
// log record per event with its time, host.name and
// com.splunk.sourcetype attributes and the event as a map body.
type otlpEnc struct {
	p       fastjson.Parser
	records []byte   // the scope's log_records fields so far
	rec     []byte   // scratch: one record
	scratch [][]byte // scratch per nesting depth
}

// record adds one event (a JSON object) as a log record.
func (o *otlpEnc) record(ev []byte, timeNs int64, host, sourceType string) {
	r := o.rec[:0]
	r = protowire.AppendTag(r, 1, protowire.Fixed64Type) // time_unix_nano
	r = protowire.AppendFixed64(r, uint64(timeNs))
	if v, err := o.p.ParseBytes(ev); err == nil {
		r = protowire.AppendTag(r, 5, protowire.BytesType) // body
		r = protowire.AppendBytes(r, o.anyValue(v, 0))
	}
	r = appendStrAttr(r, 6, "host.name", host)
	r = appendStrAttr(r, 6, "com.splunk.sourcetype", sourceType)
	o.rec = r
	o.records = protowire.AppendTag(o.records, 2, protowire.BytesType) // ScopeLogs.log_records
	o.records = protowire.AppendBytes(o.records, r)
}

// request appends the request of the records added since the last call
// to dst and forgets them.
func (o *otlpEnc) request(dst []byte) []byte {
	scope := o.buf(0)
	scope = protowire.AppendTag(scope[:0], 2, protowire.BytesType) // ResourceLogs.scope_logs
	scope = protowire.AppendBytes(scope, o.records)
	rl := appendStrAttr(o.buf(1)[:0], 1, "service.name", "lrbench")  // Resource.attributes
	res := protowire.AppendTag(o.buf(2)[:0], 1, protowire.BytesType) // ResourceLogs.resource
	res = protowire.AppendBytes(res, rl)
	res = append(res, scope...)
	dst = protowire.AppendTag(dst, 1, protowire.BytesType) // resource_logs
	dst = protowire.AppendBytes(dst, res)
	o.scratch[0], o.scratch[1], o.scratch[2] = scope, rl, res
	o.records = o.records[:0]
	return dst
}

// buf returns the scratch buffer of depth d.
func (o *otlpEnc) buf(d int) []byte {
	for len(o.scratch) <= d {
		o.scratch = append(o.scratch, nil)
	}
	return o.scratch[d]
}

// anyValue returns v as an AnyValue message, written in the scratch buffer
// of depth d (valid until that depth is written again).
func (o *otlpEnc) anyValue(v *fastjson.Value, d int) []byte {
	b := o.buf(3 + 2*d)[:0]
	switch v.Type() {
	case fastjson.TypeString:
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, v.GetStringBytes())
	case fastjson.TypeTrue, fastjson.TypeFalse:
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, protowire.EncodeBool(v.Type() == fastjson.TypeTrue))
	case fastjson.TypeNumber:
		if i, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			b = protowire.AppendTag(b, 3, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(i))
		} else {
			b = protowire.AppendTag(b, 4, protowire.Fixed64Type)
			b = protowire.AppendFixed64(b, math.Float64bits(v.GetFloat64()))
		}
	case fastjson.TypeArray:
		inner := o.buf(4 + 2*d)[:0]
		for _, el := range v.GetArray() {
			inner = protowire.AppendTag(inner, 1, protowire.BytesType)
			inner = protowire.AppendBytes(inner, o.anyValue(el, d+1))
		}
		o.scratch[4+2*d] = inner
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		b = protowire.AppendBytes(b, inner)
	case fastjson.TypeObject:
		inner := o.buf(4 + 2*d)[:0]
		v.GetObject().Visit(func(k []byte, m *fastjson.Value) {
			val := o.anyValue(m, d+1)
			kv := protowire.AppendTag(nil, 1, protowire.BytesType)
			kv = protowire.AppendBytes(kv, k)
			kv = protowire.AppendTag(kv, 2, protowire.BytesType)
			kv = protowire.AppendBytes(kv, val)
			inner = protowire.AppendTag(inner, 1, protowire.BytesType)
			inner = protowire.AppendBytes(inner, kv)
		})
		o.scratch[4+2*d] = inner
		b = protowire.AppendTag(b, 6, protowire.BytesType)
		b = protowire.AppendBytes(b, inner)
	}
	o.scratch[3+2*d] = b
	return b
}

// appendStrAttr appends field num, a KeyValue of a string value.
func appendStrAttr(dst []byte, num protowire.Number, k, v string) []byte {
	var val, kv []byte
	val = protowire.AppendTag(val, 1, protowire.BytesType)
	val = protowire.AppendString(val, v)
	kv = protowire.AppendTag(kv, 1, protowire.BytesType)
	kv = protowire.AppendString(kv, k)
	kv = protowire.AppendTag(kv, 2, protowire.BytesType)
	kv = protowire.AppendBytes(kv, val)
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, kv)
}
