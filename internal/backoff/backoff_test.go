package backoff

import (
	"context"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep reported an early end without one")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep on an ended context reported the full wait")
	}
	if time.Since(start) > 10*time.Second { // not the hour; room for a loaded machine
		t.Error("Sleep did not return when its context had ended")
	}
	if Sleep(ctx, 0) {
		t.Error("Sleep(0) on an ended context reported true")
	}
}

func TestJitter(t *testing.T) {
	for _, d := range []time.Duration{1, 3, time.Millisecond, time.Second} {
		for i := 0; i < 1000; i++ {
			if j := Jitter(d); j < d/2 || j > d {
				t.Fatalf("Jitter(%v) = %v, outside [%v, %v]", d, j, d/2, d)
			}
		}
	}
	if Jitter(0) != 0 {
		t.Error("Jitter(0) != 0")
	}
}
