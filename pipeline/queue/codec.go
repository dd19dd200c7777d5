package queue

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/logrouter/logrouter/pipeline"
)

// Record payload format (version 1), one record per priority per lane:
//
//	u8 version
//	repeated per event:
//	    uvarint len(Raw) | Raw
//	    varint  Time     (unix ns)
//	    varint  Ingest   (unix ns)
//	    u64le   Hash
//	    uvarint len(SourceType) | SourceType
//
// The record's event count is in the WAL header (exact loss accounting).
const codecVersion = 1

// appendEvents encodes evs (all of one priority) to dst.
func appendEvents(dst []byte, evs []pipeline.Event) []byte {
	dst = append(dst, codecVersion)
	for i := range evs {
		ev := &evs[i]
		dst = binary.AppendUvarint(dst, uint64(len(ev.Raw)))
		dst = append(dst, ev.Raw...)
		dst = binary.AppendVarint(dst, ev.Time)
		dst = binary.AppendVarint(dst, ev.Ingest)
		dst = binary.LittleEndian.AppendUint64(dst, ev.Hash)
		dst = binary.AppendUvarint(dst, uint64(len(ev.SourceType)))
		dst = append(dst, ev.SourceType...)
	}
	return dst
}

var errCodec = errors.New("queue record is malformed")

// decoder turns record payloads back into events in a batch, copying the
// bytes into the batch arena and interning source types.
type decoder struct {
	interned map[string]string
}

const maxInterned = 4096

func (d *decoder) intern(b []byte) string {
	if s, ok := d.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.interned) < maxInterned {
		d.interned[s] = s
	}
	return s
}

// decodeInto appends the count events of payload to b with priority p.
func (d *decoder) decodeInto(b *pipeline.Batch, payload []byte, count uint32, p pipeline.Priority) error {
	if len(payload) == 0 || payload[0] != codecVersion {
		return fmt.Errorf("%w: unknown version", errCodec)
	}
	rest := payload[1:]
	for i := uint32(0); i < count; i++ {
		n, k := binary.Uvarint(rest)
		if k <= 0 || uint64(len(rest)-k) < n {
			return fmt.Errorf("%w: event %d raw length", errCodec, i)
		}
		raw := rest[k : k+int(n)]
		rest = rest[k+int(n):]
		t, k := binary.Varint(rest)
		if k <= 0 {
			return fmt.Errorf("%w: event %d time", errCodec, i)
		}
		rest = rest[k:]
		ing, k := binary.Varint(rest)
		if k <= 0 || len(rest[k:]) < 8 {
			return fmt.Errorf("%w: event %d ingest time", errCodec, i)
		}
		rest = rest[k:]
		h := binary.LittleEndian.Uint64(rest)
		rest = rest[8:]
		n, k = binary.Uvarint(rest)
		if k <= 0 || uint64(len(rest)-k) < n {
			return fmt.Errorf("%w: event %d source type", errCodec, i)
		}
		st := d.intern(rest[k : k+int(n)])
		rest = rest[k+int(n):]
		arena := append(b.Arena(), raw...)
		b.Commit(arena, pipeline.Event{Time: t, Ingest: ing, Hash: h, SourceType: st, Priority: p, Rule: -1})
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCodec, len(rest))
	}
	return nil
}
