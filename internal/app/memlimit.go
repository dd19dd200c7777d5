package app

import (
	"fmt"
	"log/slog"
	"math"

	"github.com/KimMachineGun/automemlimit/memlimit"
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
// It returns the limit in effect, math.MaxInt64 for none.
func TuneMemoryLimit(log *slog.Logger) int64 {
	return tuneMemoryLimit(log, memlimit.ApplyFallback(memlimit.FromCgroup, noLimit))
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
