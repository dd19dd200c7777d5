package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/logrouter/logrouter/pipeline"
)

// Record payload format, one record per priority per lane:
//
//	u8 version (1 or 2)
//	repeated per event:
//	    uvarint len(Raw) | Raw
//	    varint  Time     (unix ns)
//	    varint  Ingest   (unix ns)
//	    u64le   Hash
//	    uvarint len(SourceType) | SourceType
//	    u8      flags    (versions 2 and 3; bit 0: Replayed, bit 1 (3 only): Key follows)
//	    u64le   Key      (version 3, when flags bit 1: the dedup key, dedup.key_fields)
//
// Version 2 is written only for records holding a replayed event, version 3
// only for records holding an event whose dedup key is not its content
// hash (dedup.key_fields), so that queues written without them stay
// readable by releases that know only version 1 (a rollback). The record's
// event count is in the WAL header (exact loss accounting). A decoded
// event's Key is its Hash unless the record carries one.
const (
	codecV1 = 1
	codecV2 = 2
	codecV3 = 3

	flagReplayed = 1 << 0
	flagKey      = 1 << 1
)

// ownKey reports whether ev's dedup key must be stored (it is not its hash).
func ownKey(ev *pipeline.Event) bool { return ev.Key != 0 && ev.Key != ev.Hash }

// appendEvents encodes evs (all of one priority) to dst.
func appendEvents(dst []byte, evs []pipeline.Event) []byte {
	version := byte(codecV1)
	for i := range evs {
		if ownKey(&evs[i]) {
			version = codecV3
			break
		}
		if evs[i].Replayed {
			version = codecV2
		}
	}
	dst = append(dst, version)
	for i := range evs {
		ev := &evs[i]
		dst = binary.AppendUvarint(dst, uint64(len(ev.Raw)))
		dst = append(dst, ev.Raw...)
		dst = binary.AppendVarint(dst, ev.Time)
		dst = binary.AppendVarint(dst, ev.Ingest)
		dst = binary.LittleEndian.AppendUint64(dst, ev.Hash)
		dst = binary.AppendUvarint(dst, uint64(len(ev.SourceType)))
		dst = append(dst, ev.SourceType...)
		if version >= codecV2 {
			var flags byte
			if ev.Replayed {
				flags |= flagReplayed
			}
			key := version == codecV3 && ownKey(ev)
			if key {
				flags |= flagKey
			}
			dst = append(dst, flags)
			if key {
				dst = binary.LittleEndian.AppendUint64(dst, ev.Key)
			}
		}
	}
	return dst
}

// encodedSize is the most bytes appendEvents takes for ev (its flags byte
// counted whether or not the record needs it).
func encodedSize(ev *pipeline.Event) int64 {
	n := uvarintLen(uint64(len(ev.Raw))) + len(ev.Raw) +
		varintLen(ev.Time) + varintLen(ev.Ingest) + 8 +
		uvarintLen(uint64(len(ev.SourceType))) + len(ev.SourceType) + 1
	if ownKey(ev) {
		n += 8
	}
	return int64(n)
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// varintLen is the length of binary.AppendVarint's encoding (zig-zag).
func varintLen(x int64) int {
	ux := uint64(x) << 1
	if x < 0 {
		ux = ^ux
	}
	return uvarintLen(ux)
}

var errCodec = errors.New("queue record is malformed")

// decoder turns record payloads back into events in a batch, copying the
// bytes into the batch arena and interning source types.
type decoder struct {
	interned map[string]string
}

// maxInterned bounds the decoder's table of source types, and
// maxInternedBytes the length of one kept in it: the decoder lives as long
// as its queue, and a record written before source types were bounded
// (normalize.MaxSourceTypeBytes) may carry one of up to max_event_bytes.
// A longer one allocates for each event instead.
const (
	maxInterned      = 4096
	maxInternedBytes = 256
)

func (d *decoder) intern(b []byte) string {
	if s, ok := d.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.interned) < maxInterned && len(s) <= maxInternedBytes {
		d.interned[s] = s
	}
	return s
}

// decodeInto appends the count events of payload to b with priority p.
func (d *decoder) decodeInto(b *pipeline.Batch, payload []byte, count uint32, p pipeline.Priority) error {
	if len(payload) == 0 || payload[0] < codecV1 || payload[0] > codecV3 {
		return fmt.Errorf("%w: unknown version", errCodec)
	}
	version := payload[0]
	allowed := byte(flagReplayed)
	if version == codecV3 {
		allowed |= flagKey
	}
	rest := payload[1:]
	// The events' bytes are fewer than the payload's, and each takes at
	// least 12 payload bytes: room for all at once, so that appending
	// them neither copies the arena again nor repoints earlier events.
	// At least doubled: a forwarder decodes many records into one batch.
	if a := b.Arena(); cap(a)-len(a) < len(rest) {
		b.Grow(max(len(rest), cap(a)))
	}
	if n := min(int(count), len(rest)/12); cap(b.Events)-len(b.Events) < n {
		b.Events = slices.Grow(b.Events, n)
	}
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
		var flags byte
		if version >= codecV2 {
			if len(rest) == 0 || rest[0]&^allowed != 0 {
				return fmt.Errorf("%w: event %d flags", errCodec, i)
			}
			flags, rest = rest[0], rest[1:]
		}
		key := h
		if flags&flagKey != 0 {
			if len(rest) < 8 {
				return fmt.Errorf("%w: event %d key", errCodec, i)
			}
			key, rest = binary.LittleEndian.Uint64(rest), rest[8:]
		}
		arena := append(b.Arena(), raw...)
		b.Commit(arena, pipeline.Event{Time: t, Ingest: ing, Hash: h, Key: key, SourceType: st, Priority: p, Rule: -1,
			Replayed: flags&flagReplayed != 0})
	}
	if len(rest) != 0 {
		return fmt.Errorf("%w: %d trailing bytes", errCodec, len(rest))
	}
	return nil
}
