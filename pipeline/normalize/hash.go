package normalize

import (
	"encoding/binary"
	"encoding/hex"
	"errors"

	"github.com/cespare/xxhash/v2"
	"github.com/dchest/siphash"
)

// The event Hash is a persisted contract: it becomes the OpenSearch _id and
// the deduplication key, so the functions here must never change their
// output without a migration note (events sent before and after an upgrade
// would no longer match). TestHashPinned holds them.
//
// (A wyhash for these short members measured the same as xxhash64 in
// BenchmarkNormalizeRoute, 2026-11-29: not worth breaking the contract.)

// secretKey is a parsed normalize.hash_key.
type secretKey struct {
	on     bool
	k0, k1 uint64
}

func parseHashKey(s string) (secretKey, error) {
	if s == "" {
		return secretKey{}, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		return secretKey{}, errors.New("normalize.hash_key: must be 32 hexadecimal characters, a 128-bit secret (openssl rand -hex 16)")
	}
	return secretKey{on: true, k0: binary.LittleEndian.Uint64(b), k1: binary.LittleEndian.Uint64(b[8:])}, nil
}

// The per-member hash is xxhash64, or SipHash-2-4 under normalize.hash_key.
// SipHash is a keyed PRF: without the key nobody can predict a member's
// hash, so nobody can make a sum of them collide on purpose.

func (n *Normalizer) sipHash(b []byte) uint64 { return siphash.Hash(n.c.key.k0, n.c.key.k1, b) }

// HashBytes hashes b as the content hash's members are hashed (keyed when
// normalize.hash_key is set); the dedup key of dedup.key_fields uses it.
func (n *Normalizer) HashBytes(b []byte) uint64 {
	if n.keyed {
		return n.sipHash(b)
	}
	return xxhash.Sum64(b)
}

// leafHash hashes one member: the parent path's hash and the member's
// `"key":value` bytes. The key check is one well-predicted branch; the
// unkeyed path measured as fast as before keys existed (BenchmarkLeafHash).
func (n *Normalizer) leafHash(ph uint64, member []byte) uint64 {
	if n.keyed {
		return n.keyedLeaf(ph, member)
	}
	return mix64(ph ^ xxhash.Sum64(member))
}

func (n *Normalizer) keyedLeaf(ph uint64, member []byte) uint64 {
	return mix64(ph ^ n.sipHash(member))
}

// keyHash is the path hash of a composite member (an object or array), which
// its own members mix in.
func (n *Normalizer) keyHash(ph uint64, key []byte) uint64 {
	return mix64(ph ^ n.HashBytes(key) ^ 0x5bd1e9955bd1e995)
}

// mix64 is the splitmix64 finalizer; array elements also mix their index
// into the array's path hash with it.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// FieldKey appends to dst a fixed-width key of the normalized field at p,
// for dedup.key_fields: its kind (one byte) and, when present, eight bytes
// of a hash of its value as AppendTo writes it, keyed like the content hash
// (HashBytes). An object's hash is the order-independent sum of its
// members' hashes, members renamed into it included; a number's is of its
// digits as written (exact past 2^53). Fixed widths leave no separator a
// value could forge. Valid until the next Build.
func (n *Normalizer) FieldKey(dst []byte, p *Path) []byte {
	c := n.findPath(p)
	if c < 0 {
		return append(dst, byte(Missing))
	}
	kind := n.valueOf(c).Kind
	dst = append(dst, byte(kind))
	if kind == Missing || kind == Null {
		return dst
	}
	const seed = 0x6b65795f6669656c // any constant: the path hash of the field's members
	var h uint64
	nd := &n.nodes[c]
	buf := n.keyScratch[:0]
	empty := false
	switch nd.kind {
	case kObject:
		var k int
		buf, k, h = n.writeObject(buf, c, seed, false)
		empty = k == 0
		// Its members' values a conversion set aside (source.ip "N/A"
		// under logrouter.unconverted): content of the object as sent, so
		// two events that differ only there keep different keys (also
		// when every member was set aside and keep_empty writes {}).
		var aside uint64
		buf, aside = n.asideUnder(buf, p.s)
		h += aside
	case kStr:
		empty = len(nd.data) == 0
		buf = AppendString(buf, nd.data)
		h = n.HashBytes(buf)
	case kLit:
		h = n.HashBytes(nd.data)
	case kValue:
		var comp uint64
		buf, empty, comp = n.writeValue(buf, nd.val, seed)
		if composite(nd.val) {
			h = comp
		} else {
			h = n.HashBytes(buf)
		}
	}
	n.keyScratch = buf
	if empty && !n.c.cfg.KeepEmpty {
		// "", [] and {} are removed from the output: the event lacks the
		// field, and key_fields then fall back to the content hash.
		dst[len(dst)-1] = byte(Missing)
		return dst
	}
	return binary.LittleEndian.AppendUint64(dst, h)
}

// asideUnder returns the sum of the member hashes of the values set aside
// from fields below path prefix (logrouter.unconverted's members named
// prefix.*), each hashed as writeObject hashes a member (its key, ':' and
// its value as written), using buf as scratch; 0 when there are none.
func (n *Normalizer) asideUnder(buf []byte, prefix string) ([]byte, uint64) {
	lr := n.childH(0, keyLogrouter, hashLogrouter)
	if lr < 0 || n.nodes[lr].kind != kObject {
		return buf, 0
	}
	u := n.child(lr, keyUnconverted)
	if u < 0 || n.nodes[u].kind != kObject {
		return buf, 0
	}
	const seed = 0x61736964655f6b65 // "aside_ke": apart from the members' own path hashes
	var sum uint64
	for d := n.nodes[u].first; d >= 0; d = n.nodes[d].next {
		nd := &n.nodes[d]
		if nd.kind == kRemoved || len(nd.key) <= len(prefix) || nd.key[len(prefix)] != '.' || string(nd.key[:len(prefix)]) != prefix {
			continue
		}
		start := len(buf)
		buf = append(appendKey(buf, nd.key, nd.plain), ':')
		switch nd.kind {
		case kLit:
			buf = append(buf, nd.data...)
		case kStr:
			buf = AppendString(buf, nd.data)
		case kValue:
			buf, _, _ = n.writeValue(buf, nd.val, 0)
		default:
			buf = buf[:start]
			continue
		}
		sum += n.leafHash(seed, buf[start:])
		buf = buf[:start]
	}
	return buf, sum
}
