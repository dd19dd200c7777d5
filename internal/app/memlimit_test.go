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
