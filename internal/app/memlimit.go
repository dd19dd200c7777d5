package app

import (
	"fmt"
	"log/slog"
	"math"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/pipeline/dedup"
)

// MemoryLimitRatio is the share of the container's memory limit given to the
// Go runtime as its soft limit (GOMEMLIMIT). The rest is headroom for what
// the limit cannot steer: memory freed but not yet returned to the kernel,
// and the file pages of the queues and the archive that the cgroup charges.
const MemoryLimitRatio = 0.9

// TuneMemoryLimit sets the Go runtime's soft memory limit to
// MemoryLimitRatio of the cgroup memory limit (cgroup v2 memory.max, or v1
// memory.limit_in_bytes), so that the GC works harder as the heap nears the
// container's limit instead of the kernel's OOM killer ending the process:
// a sidecar with limits.memory 512Mi runs with GOMEMLIMIT ~460 MiB. Without
// a limit (no cgroup, or max) nothing changes. GOMEMLIMIT in the environment
// wins; AUTOMEMLIMIT sets another ratio in (0, 1], or "off".
//
// offHeap is memory the process holds outside the Go heap (the dedup
// tables, see OffHeapBytes): the runtime's limit is lowered by it, so that
// heap and tables together stay within the ratio of the container's limit.
//
// It returns the limit in effect, math.MaxInt64 for none.
func TuneMemoryLimit(log *slog.Logger, offHeap int64) int64 {
	return tuneMemoryLimit(log, withOffHeap(log, memlimit.ApplyFallback(memlimit.FromCgroup, noLimit), offHeap))
}

// OffHeapBytes is what cfg makes the process hold outside the Go heap: the
// deduplication tables (dedup.max_bytes in all, whatever the scope) where
// they are mapped off the heap.
func OffHeapBytes(cfg *config.Config) int64 {
	if cfg.Dedup.Enabled && dedup.TablesOffHeap {
		return cfg.Dedup.MaxBytes
	}
	return 0
}

// withOffHeap lowers p's limit so that MemoryLimitRatio of it leaves room
// for offHeap bytes: ratio × (limit − offHeap/ratio) = ratio × limit − offHeap.
// It never takes more than half the container's limit, and says so.
func withOffHeap(log *slog.Logger, p memlimit.Provider, offHeap int64) memlimit.Provider {
	if offHeap <= 0 {
		return p
	}
	return func() (uint64, error) {
		limit, err := p()
		if err != nil || limit == 0 {
			return limit, err
		}
		sub := uint64(float64(offHeap) / MemoryLimitRatio)
		if sub > limit/2 {
			log.Warn("dedup.max_bytes is more than half of the container's memory limit; lower it or raise the limit",
				"dedup_max_bytes", offHeap, "container_limit", limit)
			sub = limit / 2
		}
		return limit - sub, nil
	}
}

// noLimit stands in when the cgroup cannot be read (not Linux, not in a
// container): no limit, quietly, rather than an error at every start.
func noLimit() (uint64, error) { return 0, memlimit.ErrNoLimit }

func tuneMemoryLimit(log *slog.Logger, p memlimit.Provider) int64 {
	limit, err := memlimit.Set(memlimit.WithRatio(MemoryLimitRatio), memlimit.WithProvider(p))
	if err != nil {
		log.Warn("memory limit not set (GOMEMLIMIT); the GC runs on GOGC alone", "err", err)
	}
	return limit
}

// DescribeMemoryLimit renders a limit from TuneMemoryLimit for the log.
func DescribeMemoryLimit(limit int64) string {
	if limit <= 0 || limit == math.MaxInt64 {
		return "none"
	}
	return fmt.Sprintf("%d MiB", limit>>20)
}
