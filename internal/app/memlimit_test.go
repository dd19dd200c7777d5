package app

import (
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
)

func TestTuneMemoryLimit(t *testing.T) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	// A 1 GiB container gets 90% of it.
	gib := 1 << 30
	want := int64(float64(gib) * MemoryLimitRatio)
	if got := tuneMemoryLimit(quiet, memlimit.Limit(uint64(gib))); got != want {
		t.Errorf("limit %d, want %d", got, want)
	}
	if got := debug.SetMemoryLimit(-1); got != want {
		t.Errorf("runtime limit %d, want %d", got, want)
	}
	// 64 MiB of dedup tables off the heap come out of the Go limit.
	off := int64(64 << 20)
	if got := tuneMemoryLimit(quiet, withOffHeap(quiet, memlimit.Limit(uint64(gib)), off)); got < want-off-1<<20 || got > want-off+1<<20 {
		t.Errorf("limit with %d off-heap bytes: %d, want about %d", off, got, want-off)
	}
	// Tables larger than half the container: capped at half, not below.
	if got := tuneMemoryLimit(quiet, withOffHeap(quiet, memlimit.Limit(uint64(gib)), int64(gib))); got != int64(float64(gib/2)*MemoryLimitRatio) {
		t.Errorf("limit with tables larger than the container: %d", got)
	}
	// No cgroup limit: none.
	debug.SetMemoryLimit(math.MaxInt64)
	if got := tuneMemoryLimit(quiet, noLimit); got != math.MaxInt64 || DescribeMemoryLimit(got) != "none" {
		t.Errorf("no limit: %d (%s)", got, DescribeMemoryLimit(got))
	}
	// AUTOMEMLIMIT=off leaves the runtime alone.
	t.Setenv("AUTOMEMLIMIT", "off")
	if got := tuneMemoryLimit(quiet, memlimit.Limit(1<<30)); got != math.MaxInt64 {
		t.Errorf("AUTOMEMLIMIT=off: %d", got)
	}
	if DescribeMemoryLimit(460<<20) != "460 MiB" {
		t.Errorf("describe: %s", DescribeMemoryLimit(460<<20))
	}
}
