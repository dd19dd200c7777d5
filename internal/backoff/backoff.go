// Package backoff has the two pieces every retry loop of the router uses:
// a sleep that ends early when its context does, and full jitter.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Sleep waits d or until ctx ends, and reports whether d elapsed (false:
// ctx ended first). A d of zero or less returns at once, true unless ctx
// has already ended.
func Sleep(ctx context.Context, d time.Duration) bool { return SleepOr(ctx, d, nil) }

// SleepOr is Sleep that also ends, reporting false, when stop is closed
// (nil: never).
func SleepOr(ctx context.Context, d time.Duration, stop <-chan struct{}) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}

// Jitter returns a random duration in [d/2, d], so that many clients
// retrying after the same failure do not retry in step.
func Jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}
