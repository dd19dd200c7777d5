package dedup

import (
	"runtime"
	"syscall"
	"unsafe"
)

// madvHugepage is MADV_HUGEPAGE (the syscall package does not name it).
const madvHugepage = 14

// TablesOffHeap says whether a Set's tables live outside the Go heap (and so
// outside what GOMEMLIMIT steers): the process's memory limit must leave
// room for them.
const TablesOffHeap = true

// allocTables returns zeroed memory for n slots (and n counts when
// counting), outside the Go heap: an anonymous private mapping whose pages
// the kernel backs only when first written. Off the heap, the set's fixed
// budget (64 MiB by default) does not raise the GC's heap goal, which is
// twice the live heap: on the heap the table cost its size again in garbage
// headroom (lrbench measured ~120 MB of peak RSS for a 64 MiB set). The
// mapping is released when owner becomes unreachable.
func allocTables(owner *Set, n int, counting bool) (slots []uint64, counts []uint32) {
	size := n * 8
	if counting {
		size += n * 4
	}
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return heapTables(n, counting) // no mapping: the heap still works
	}
	// Keys land on random slots, so with 4 KiB pages nearly every lookup
	// also misses the TLB; 2 MiB pages (where the kernel's transparent huge
	// pages allow madvise, the common default) keep a 64 MiB table within
	// the TLB's reach. Advice only: without it the set works the same.
	_ = syscall.Madvise(mem, madvHugepage)
	runtime.AddCleanup(owner, func(m []byte) { _ = syscall.Munmap(m) }, mem)
	slots = unsafe.Slice((*uint64)(unsafe.Pointer(&mem[0])), n)
	if counting {
		counts = unsafe.Slice((*uint32)(unsafe.Pointer(&mem[n*8])), n)
	}
	return slots, counts
}
