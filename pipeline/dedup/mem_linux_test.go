package dedup_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline/dedup"
)

// TestTablesOffHeap checks that a set's tables are not on the Go heap (so
// they do not raise the GC's heap goal), and that they work there.
func TestTablesOffHeap(t *testing.T) {
	for _, counting := range []bool{false, true} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := dedup.New(10*time.Minute, 64<<20)
		if counting {
			s = dedup.NewCounting(10*time.Minute, 64<<20)
		}
		for i := uint64(1); i <= 100_000; i++ {
			if s.Seen(i*0x9e3779b97f4a7c15, t0) {
				t.Fatalf("key %d seen before it was added", i)
			}
		}
		for i := uint64(1); i <= 100_000; i++ {
			if !s.Seen(i*0x9e3779b97f4a7c15, t0) {
				t.Fatalf("key %d forgotten", i)
			}
		}
		runtime.ReadMemStats(&after)
		if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 8<<20 {
			t.Errorf("counting=%v: the heap grew by %d bytes for a 64 MiB set: its tables are on the heap", counting, grew)
		}
		if s.Bytes() < 32<<20 {
			t.Errorf("counting=%v: Bytes() = %d, want the tables of a 64 MiB budget", counting, s.Bytes())
		}
		runtime.KeepAlive(s)
	}
}
