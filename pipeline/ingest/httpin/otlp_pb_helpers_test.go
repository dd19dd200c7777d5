package httpin

// Helpers of the review2_otlp_*_test.go fault tests: requests written with
// protowire (pcommon.Map cannot hold a key twice, and builds large maps in
// quadratic time), a raw gRPC codec for a client that sends prepared bytes,
// and an allocation counter.

import (
	"runtime"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

func pbBytesField(dst []byte, num protowire.Number, b []byte) []byte {
	dst = protowire.AppendTag(dst, num, protowire.BytesType)
	return protowire.AppendBytes(dst, b)
}

// pbKV is a KeyValue whose value is the AnyValue v.
func pbKV(k string, v []byte) []byte { return pbBytesField(pbBytesField(nil, 1, []byte(k)), 2, v) }

// pbStr is an AnyValue holding the string s.
func pbStr(s string) []byte { return pbBytesField(nil, 1, []byte(s)) }

// pbRecord is a LogRecord with a string body and attributes (KeyValues).
func pbRecord(body string, attrs [][]byte) []byte {
	rec := pbBytesField(nil, 5, pbStr(body))
	for _, kv := range attrs {
		rec = pbBytesField(rec, 6, kv)
	}
	return rec
}

// pbRequest is an ExportLogsServiceRequest of one ResourceLogs whose
// resource has the attributes res, with one ScopeLogs of records.
func pbRequest(res [][]byte, records [][]byte) []byte {
	var r, sl, rl []byte
	for _, kv := range res {
		r = pbBytesField(r, 1, kv)
	}
	for _, rec := range records {
		sl = pbBytesField(sl, 2, rec)
	}
	rl = pbBytesField(rl, 1, r)
	rl = pbBytesField(rl, 2, sl)
	return pbBytesField(nil, 1, rl)
}

// pbRawCodec sends a *[]byte as it is (a client sending a prepared
// ExportLogsServiceRequest without marshalling it again).
type pbRawCodec struct{}

func (pbRawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (pbRawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*[]byte) = data.Materialize()
	return nil
}

func (pbRawCodec) Name() string { return "proto" }

// pbAllocated returns the bytes the process allocated while fn ran.
func pbAllocated(fn func()) uint64 {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	fn()
	runtime.ReadMemStats(&m1)
	return m1.TotalAlloc - m0.TotalAlloc
}
