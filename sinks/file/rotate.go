package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// hourLayout formats the hour stamp in file names: 20060102T15 (UTC).
const hourLayout = "20060102T15"

// File and directory permissions. Logs routed by a security pipeline are
// sensitive, so nothing is world-readable.
const (
	filePerm = 0o640
	dirPerm  = 0o750
)

// RotatingFile appends byte blocks to hourly NDJSON files named
//
//	<dir>/<base>-<YYYYMMDDTHH>.ndjson      (first file of an hour)
//	<dir>/<base>-<YYYYMMDDTHH>.<N>.ndjson  (N = 1, 2, ... after rotation)
//
// with the hour in UTC taken from the clock at the time of writing. It is the
// storage engine of Sink and of the quarantine directory.
//
// A new file is started when the hour changes, when appending a block would
// make the current file larger than maxBytes (a single block larger than
// maxBytes still goes into a file of its own, whole), and on the first write
// of every process: a file left by an earlier run is never appended to, so a
// line torn by a crash is never glued to new data. Files are created lazily by
// the first Write, so an idle writer leaves no empty files.
//
// Concurrency: all methods are safe for concurrent use. Writes are serialized
// by one lock; callers should build a whole batch first and call Write once.
type RotatingFile struct {
	dir, base string
	maxBytes  int64
	fsync     bool
	now       func() time.Time
	mkdir     func() error // creates dir (durably with fsync)

	sem chan struct{} // a mutex whose Lock honours ctx; guards every field below

	f       *os.File
	fi      os.FileInfo // f's identity when opened (removed)
	path    string
	hour    int64 // hours since the epoch of the open file (valid while f != nil)
	idx     int   // rotation index of the open file or of the last one opened
	idxHour int64 // hour idx belongs to; -1 before the first open
	size    int64
	closed  bool
}

// NewRotatingFile returns a writer for dir/base-*.ndjson. dir is created if
// missing. base must be a non-empty file-name-safe string ([A-Za-z0-9._-], not
// starting with '.'). maxBytes <= 0 means no size limit. With fsync, every
// Write fsyncs the file (and a new file's directory) before returning. now is
// the clock (nil means time.Now). No file is opened until the first Write.
func NewRotatingFile(dir, base string, maxBytes int64, fsync bool, now func() time.Time) (*RotatingFile, error) {
	if dir == "" {
		return nil, errors.New("rotating file: empty directory")
	}
	if base == "" || base[0] == '.' || strings.IndexFunc(base, func(r rune) bool { return !safeByte(r) }) >= 0 {
		return nil, fmt.Errorf("rotating file: base name %q must be non-empty, not start with '.', and use only [A-Za-z0-9._-]", base)
	}
	if now == nil {
		now = time.Now
	}
	mkdir := func() error { return os.MkdirAll(dir, dirPerm) }
	if fsync { // new directories durable too: a file is only as durable as its directory's entry
		mkdir = func() error { return wal.EnsureDir(wal.OS, dir) }
	}
	if err := mkdir(); err != nil {
		return nil, fmt.Errorf("rotating file: create directory: %w", err)
	}
	return &RotatingFile{
		mkdir:    mkdir,
		dir:      dir,
		base:     base,
		maxBytes: maxBytes,
		fsync:    fsync,
		now:      now,
		sem:      make(chan struct{}, 1),
		idxHour:  -1,
	}, nil
}

func safeByte(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
}

func (r *RotatingFile) lock(ctx context.Context) error {
	select {
	case r.sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case r.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *RotatingFile) unlock() { <-r.sem }

// Write appends p to the current file with one write(2) (os.File.Write retries
// only short writes) and, with fsync, an fsync.
//
// Nil means p was written whole with write(2) (and fsynced when configured).
// On error nothing of p remains in the file when that could be ensured
// (a failed write is truncated away; if even that fails the file is abandoned
// and the next Write starts a new one), so a retry does not produce a torn
// line. Errors are IO errors and are worth retrying. ctx bounds the wait for
// the lock; a write(2) in progress is not interrupted. After Close, Write
// returns pipeline.ErrClosed. p is not retained.
func (r *RotatingFile) Write(ctx context.Context, p []byte) error {
	if err := r.lock(ctx); err != nil {
		return err
	}
	defer r.unlock()
	if r.closed {
		return pipeline.ErrClosed
	}
	if len(p) == 0 {
		return nil
	}
	h := unixHour(r.now())
	if r.f != nil && r.removed() {
		// An operator removed (or moved) the file, a replayed quarantine
		// file say: what is written to it now would be lost (or land
		// where nobody looks), and its space never freed. A new one.
		_ = r.closeFile()
	}
	if r.f != nil && (h != r.hour || (r.maxBytes > 0 && r.size > 0 && r.size+int64(len(p)) > r.maxBytes)) {
		if err := r.closeFile(); err != nil {
			return err
		}
	}
	if r.f == nil {
		if err := r.open(h); err != nil {
			return err
		}
	}
	n, err := r.f.Write(p)
	if err != nil {
		if n > 0 {
			if terr := r.f.Truncate(r.size); terr != nil {
				r.abandon()
				return fmt.Errorf("write %s: %w (and truncating the partial write failed: %v; continuing in a new file)", r.path, err, terr)
			}
		}
		return fmt.Errorf("write %s: %w", r.path, err)
	}
	r.size += int64(n)
	if r.fsync {
		if err := r.f.Sync(); err != nil {
			// After a failed fsync the kernel may have dropped the dirty
			// pages and a later fsync can succeed without them: never trust
			// this file again. Cut p off first (best effort), so that the
			// caller's retry, into a new file, does not leave it twice.
			r.size -= int64(n)
			_ = r.f.Truncate(r.size)
			r.abandon()
			return fmt.Errorf("fsync %s: %w", r.path, err)
		}
	}
	if r.removed() {
		// Removed while p was written: p may be gone with it. The caller
		// retries, into a new file (a moved file keeps a copy).
		r.abandon()
		return fmt.Errorf("write %s: the file was removed or moved while it was written: written again into a new file on retry", r.path)
	}
	return nil
}

// removed reports whether the open file is no longer at its path.
func (r *RotatingFile) removed() bool {
	fi, err := os.Stat(r.path)
	return err != nil || !os.SameFile(fi, r.fi)
}

// abandon closes the current file without further checks; the next Write
// opens a new one.
func (r *RotatingFile) abandon() {
	_ = r.f.Close()
	r.f = nil
}

// closeFile fsyncs and closes the open file.
func (r *RotatingFile) closeFile() error {
	f := r.f
	r.f = nil
	serr := f.Sync()
	cerr := f.Close()
	if serr != nil {
		return fmt.Errorf("fsync %s: %w", r.path, serr)
	}
	if cerr != nil {
		return fmt.Errorf("close %s: %w", r.path, cerr)
	}
	return nil
}

// open creates the next file for hour h, and the directory again when it
// was removed (an operator clearing replayed quarantine files with rm -rf,
// a tmp cleaner): without it every Write would fail until a restart.
func (r *RotatingFile) open(h int64) error {
	if _, err := os.Stat(r.dir); errors.Is(err, fs.ErrNotExist) {
		if err := r.mkdir(); err != nil {
			return fmt.Errorf("create directory %s again (it was removed): %w", r.dir, err)
		}
	}
	stamp := time.Unix(h*3600, 0).UTC().Format(hourLayout)
	idx := r.idx + 1
	if h != r.idxHour {
		next, err := r.nextIndex(stamp)
		if err != nil {
			return err
		}
		idx = next
	}
	for tries := 0; tries < 1000; tries++ {
		path := filepath.Join(r.dir, fileName(r.base, stamp, idx))
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, filePerm)
		if errors.Is(err, fs.ErrExist) {
			idx++
			continue
		}
		if err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
		if r.fsync {
			if err := syncDir(r.dir); err != nil {
				_ = f.Close()
				return err
			}
		}
		fi, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("stat %s: %w", path, err)
		}
		r.f, r.fi, r.path, r.hour, r.idx, r.idxHour, r.size = f, fi, path, h, idx, h, 0
		return nil
	}
	return fmt.Errorf("create %s: too many files for hour %s", filepath.Join(r.dir, r.base), stamp)
}

// nextIndex returns one more than the highest rotation index present for the
// stamp, or 0 when there is none.
func (r *RotatingFile) nextIndex(stamp string) (int, error) {
	ents, err := os.ReadDir(r.dir)
	if err != nil {
		return 0, fmt.Errorf("list %s: %w", r.dir, err)
	}
	prefix := r.base + "-" + stamp
	next := 0
	for _, e := range ents {
		name := e.Name()
		if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ".ndjson") {
			continue
		}
		mid := name[len(prefix) : len(name)-len(".ndjson")]
		switch {
		case mid == "":
			next = max(next, 1)
		case mid[0] == '.':
			if n, err := strconv.Atoi(mid[1:]); err == nil && n >= 0 {
				next = max(next, n+1)
			}
		}
	}
	return next, nil
}

func fileName(base, stamp string, idx int) string {
	if idx == 0 {
		return base + "-" + stamp + ".ndjson"
	}
	return base + "-" + stamp + "." + strconv.Itoa(idx) + ".ndjson"
}

// Path returns the file the last Write went to ("" before the first Write or
// when no file is open).
func (r *RotatingFile) Path() string {
	r.sem <- struct{}{}
	defer r.unlock()
	if r.f == nil {
		return ""
	}
	return r.path
}

// Close fsyncs and closes the open file. It is idempotent and bounded by ctx
// (which only limits the wait for an in-flight Write); later Writes return
// pipeline.ErrClosed.
func (r *RotatingFile) Close(ctx context.Context) error {
	if err := r.lock(ctx); err != nil {
		return err
	}
	defer r.unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	if r.f == nil {
		return nil
	}
	return r.closeFile()
}

func unixHour(t time.Time) int64 {
	s := t.Unix()
	h := s / 3600
	if s%3600 < 0 {
		h--
	}
	return h
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	err = d.Sync()
	_ = d.Close()
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
