//go:build !linux

package dedup

// TablesOffHeap says whether a Set's tables live outside the Go heap.
const TablesOffHeap = false

// allocTables returns zeroed memory for n slots (and n counts when
// counting). On Linux it is mapped outside the Go heap (mem_linux.go).
func allocTables(_ *Set, n int, counting bool) (slots []uint64, counts []uint32) {
	return heapTables(n, counting)
}
