package s3

// Fault tests (fixed since) from a review of d06415f (.start-lease). The test fails against the code as
// reviewed; its comment gives the sequence, what happens, what should
// happen and why it matters.

import (
	"path/filepath"
	"testing"
	"time"
)

// TestReviewStartLeaseRunsAheadOneMinutePerRestart: every restart moves
// {start} a lease (a minute) further ahead of the clock.
//
// Sequence: the clock reads 12:00:10 and stays there (or moves little):
// a process opens the lease and stages one object (lease written to
// 12:01:10), then restarts; five such restarts in a row (a crash loop, a
// rolling update, restarts with a config change), each staging an object.
//
// What happens: each process takes the previous lease's end as its floor
// and extends it a minute past that: the fifth process's objects are
// keyed {start} = 12:04:10, four minutes after the clock; a crash loop of
// an hour with 10 s restarts puts {start} hours into the future. The
// lease is never brought back to the last {start} actually used (not even
// at a clean Close).
//
// What should happen: startLeaseAhead's promise, "a restart starts its
// keys at most this far ahead of the clock": a process's floor is after
// the keys used, not after the whole lease, e.g. Close persists the last
// {start} used, or the lease is extended a second at a time past the
// floor, so that {start} stays within a minute of the clock.
//
// Why it matters: {start} is documented as the object's creation time;
// operators and audits reading keys (or S3 listing by prefix/time) see
// objects created in the future, and the drift only ever grows.
func TestStartLeaseRunsAheadOneMinutePerRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), startLeaseFile)
	now := time.Date(2024, 5, 1, 12, 0, 10, 0, time.UTC)
	var start time.Time
	for restart := 0; restart < 5; restart++ {
		l, err := openStartLease(path, now)
		if err != nil {
			t.Fatal(err)
		}
		if start, err = l.next(now); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second) // the process ran a second
	}
	if ahead := start.Sub(now); ahead > startLeaseAhead {
		t.Errorf("after 5 restarts a second apart, {start} is %s while the clock reads %s: %s ahead, more than startLeaseAhead (%s)", start.UTC().Format(StartLayout), now.UTC().Format(StartLayout), ahead, startLeaseAhead)
	}
}
