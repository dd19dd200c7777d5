package normalize

import "github.com/cespare/xxhash/v2"

// The event Hash is a persisted contract: it becomes the OpenSearch _id and
// the deduplication key, so the functions here must never change their
// output without a migration note (events sent before and after an upgrade
// would no longer match). TestHashPinned holds them.
//
// (A wyhash for these short members measured the same as xxhash64 in
// BenchmarkNormalizeRoute, 2026-11-29: not worth breaking the contract.)

// leafHash hashes one member: the parent path's hash and the member's
// `"key":value` bytes, in one pass.
func leafHash(ph uint64, member []byte) uint64 {
	return mix64(ph ^ xxhash.Sum64(member))
}

// keyHash is the path hash of a composite member (an object or array), which
// its own members mix in.
func keyHash(ph uint64, key []byte) uint64 {
	return mix64(ph ^ xxhash.Sum64(key) ^ 0x5bd1e9955bd1e995)
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
