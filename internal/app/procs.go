package app

import (
	"os"
	"runtime"
)

// TuneGOMAXPROCS raises GOMAXPROCS on small machines unless the GOMAXPROCS
// environment variable is set, and returns the values before and after.
//
// Why: a goroutine blocked in fsync keeps its P (the right to run Go code)
// until the runtime's sysmon notices, which takes from 20µs to 10ms. With
// GOMAXPROCS=2 and durable queues fsyncing on every group commit, both Ps
// sit in fsync most of the time, normalization starves and group commit
// stops grouping: BenchmarkPipeline/queue=disk ran at 58 MB/s with 2 Ps and
// 114 MB/s with 8 on the same 2 cores (in-memory queues: 125-135 MB/s).
// Extra Ps cost little when they have nothing to run.
func TuneGOMAXPROCS() (before, after int) {
	before = runtime.GOMAXPROCS(0) // container-aware: the CPU limit
	if os.Getenv("GOMAXPROCS") != "" {
		return before, before
	}
	want := min(4*before, 8)
	if want > before {
		runtime.GOMAXPROCS(want)
		return before, want
	}
	return before, before
}
