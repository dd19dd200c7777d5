package s3

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
)

// startLeaseFile, in the S3 archive's staging directory, holds a {start}
// (unix seconds) that no object key of this staging directory has passed.
const startLeaseFile = ".start-lease"

// startLeaseAhead is how far past the {start} in use a lease is taken: a
// lease is written (and fsynced) at most once per second in which objects
// open, and a restart starts its keys at most this far after the last
// {start} used, so restarts in a loop do not push {start} ahead of the clock.
const startLeaseAhead = time.Second

// startLease keeps an S3 archive's {start} from repeating across restarts:
// the seconds the uploaded objects' keys used are gone from the staging
// directory, and {seq} starts again at 1 in each process, so after a
// restart with the clock stepped back a key could be handed out again and
// its upload replace an archived object. Every {start} is at least the
// floor (after the lease an earlier process held) and below the lease,
// which is persisted before a {start} reaches it.
type startLease struct {
	path string

	mu    sync.Mutex
	floor time.Time // the earliest {start} this process may use
	until time.Time // persisted: no {start} at or past it was used
}

// openStartLease reads the lease of an earlier process (none: the floor is
// now) and starts after it.
func openStartLease(path string, now time.Time) (*startLease, error) {
	l := &startLease{path: path, floor: now.Truncate(time.Second)}
	b, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
	case err != nil:
		return nil, err
	default:
		sec, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if perr != nil {
			return nil, fmt.Errorf("%s: %q is not a unix time: remove the file only if no object key of this staging directory can be later than the clock (it keeps keys from repeating after a restart)", path, b)
		}
		if held := time.Unix(sec, 0); !held.Before(l.floor) {
			l.floor = held // keys resume where the last lease ended
		}
	}
	l.until = l.floor
	return l, nil
}

// next returns the {start} for an object created at t: t, or the floor if
// the clock is behind it, with the lease extended (written and fsynced)
// first when the second reaches it.
func (l *startLease) next(t time.Time) (time.Time, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	start := t.Truncate(time.Second)
	if start.Before(l.floor) {
		start = l.floor
	}
	if !start.Before(l.until) {
		until := start.Add(startLeaseAhead)
		if err := writeLease(l.path, until); err != nil {
			return time.Time{}, fmt.Errorf("keep object keys unique across restarts: %w", err)
		}
		l.until = until
	}
	return start, nil
}

// writeLease replaces the lease file atomically and durably.
func writeLease(path string, until time.Time) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strconv.FormatInt(until.Unix(), 10) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = wal.OS.SyncDir(filepath.Dir(path))
	}
	return err
}
