package wal

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
)

// FS is the file system a Log lives on. OS is the real one; MemFS and ErrorFS
// exist for crash and fault-injection tests. Implementations must be safe for
// concurrent use.
type FS interface {
	// OpenFile opens name like os.OpenFile. The Log uses O_RDONLY for
	// reading, O_RDWR for recovery and O_WRONLY|O_APPEND (plus O_CREATE and
	// O_TRUNC for a new segment) for writing.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	// Remove removes the file name. Durable only after SyncDir.
	Remove(name string) error
	// Rename renames oldname to newname, replacing it. Durable only after
	// SyncDir.
	Rename(oldname, newname string) error
	// ReadDir returns the names of the files in dir, sorted.
	ReadDir(dir string) ([]string, error)
	// MkdirAll creates dir and any missing parents, like os.MkdirAll.
	MkdirAll(dir string, perm os.FileMode) error
	// SyncDir fsyncs the directory dir, making the creation, renaming and
	// removal of the files in it durable.
	SyncDir(dir string) error
}

// File is an open file of an FS. ReadAt must be safe for concurrent use with
// the other methods (as *os.File's is).
type File interface {
	io.Reader
	io.ReaderAt
	io.Writer
	// WriteAt writes at an offset, like pwrite(2); the Log uses it only on
	// its durable mark, a file opened without O_APPEND.
	io.WriterAt
	io.Closer
	// Sync makes the file's data durable (fsync).
	Sync() error
	// Truncate changes the file's size. It does not move the write offset;
	// files opened with O_APPEND write at the new end.
	Truncate(size int64) error
	// Size returns the file's current size.
	Size() (int64, error)
}

// OS is the real file system (package os).
var OS FS = osFS{}

type osFS struct{}

type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Remove(name string) error                    { return os.Remove(name) }
func (osFS) Rename(oldname, newname string) error        { return os.Rename(oldname, newname) }
func (osFS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }

func (osFS) ReadDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// MemFS is a strict in-memory FS for crash tests: data written to a file is
// visible to readers at once, but only what was Sync()ed (and files whose
// directory was SyncDir()ed after creation/rename/removal) survives Crash().
// Directories made by MkdirAll are durable at once. Safe for concurrent use.
//
// The zero value is not usable; call NewMemFS.
type MemFS struct {
	mu      sync.Mutex
	gen     uint64               // bumped by Crash; older handles are dead
	dirs    map[string]bool      // directories (always durable)
	files   map[string]*memInode // current namespace
	durable map[string]*memInode // namespace as of the last SyncDir of each directory

	// Test hooks (package-internal), guarded by mu.

	// writeBudget, when >= 0, is how many more bytes writes may store; a
	// write that exceeds it stores what fits and fails with budgetErr, as
	// does every later write: a device that dies at a given byte.
	writeBudget int64
	budgetErr   error
	// crashKeep, if set, decides what of a file survives Crash: it gets the
	// synced contents and the current contents and returns the survivor
	// (for example synced plus a prefix of what was written after it: a torn
	// write).
	crashKeep func(name string, synced, data []byte) []byte

	// volatile: Sync keeps no durable copy (NewVolatileFS); Crash is
	// meaningless there.
	volatile bool
	// fileCap, when > 0, is the capacity past which a file's buffer grows
	// to exactly what it holds instead of doubling (SetFileCapHint).
	fileCap int64
}

// SetFileCapHint tells m the size its files usually stop at (a Log's
// SegmentBytes): a file's buffer grows by doubling up to n bytes of
// capacity and no further, then to exactly what is written. Without it a
// segment rolled just past a power of two sits in a buffer twice its size,
// and a memory queue held about twice its max_bytes.
func (m *MemFS) SetFileCapHint(n int64) {
	m.mu.Lock()
	m.fileCap = n
	m.mu.Unlock()
}

type memInode struct {
	data      []byte
	synced    []byte
	dirtyFrom int // lowest offset changed since the last Sync
}

// NewMemFS returns an empty MemFS.
func NewMemFS() *MemFS {
	return &MemFS{
		dirs:        map[string]bool{"/": true, ".": true},
		files:       map[string]*memInode{},
		durable:     map[string]*memInode{},
		writeBudget: -1,
	}
}

// NewVolatileFS returns an in-memory FS for data that need not survive the
// process (queues in mode "memory"): Sync costs nothing and keeps no second
// copy, so it must not be used for crash tests.
func NewVolatileFS() *MemFS {
	m := NewMemFS()
	m.volatile = true
	return m
}

var errCrashed = errors.New("memfs: file handle died in a simulated crash")

// Crash simulates a power failure: every file loses the bytes written since
// its last Sync, every directory loses the entries created, renamed or removed
// since its last SyncDir, and open files become unusable (their methods
// return an error). Test hooks are cleared.
func (m *MemFS) Crash() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	m.files = make(map[string]*memInode, len(m.durable))
	seen := map[*memInode]bool{}
	for name, ino := range m.durable {
		m.files[name] = ino
		if seen[ino] {
			continue
		}
		seen[ino] = true
		survivor := ino.synced
		if m.crashKeep != nil {
			survivor = m.crashKeep(name, ino.synced, ino.data)
		}
		ino.data = append([]byte(nil), survivor...)
		ino.synced = append([]byte(nil), survivor...)
		ino.dirtyFrom = len(ino.data)
	}
	m.writeBudget = -1
	m.budgetErr = nil
	m.crashKeep = nil
}

func clean(name string) string { return filepath.Clean(name) }

func (m *MemFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	ino := m.files[name]
	if ino == nil {
		if flag&os.O_CREATE == 0 {
			return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
		}
		if !m.dirs[filepath.Dir(name)] {
			return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrNotExist}
		}
		if m.dirs[name] {
			return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
		}
		ino = &memInode{}
		m.files[name] = ino
	} else if flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: os.ErrExist}
	}
	if flag&os.O_TRUNC != 0 && flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		ino.data = ino.data[:0]
		ino.dirtyFrom = 0
	}
	return &memFile{fs: m, name: name, ino: ino, gen: m.gen, flag: flag}, nil
}

func (m *MemFS) Remove(name string) error {
	name = clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.files[name] == nil {
		return &os.PathError{Op: "remove", Path: name, Err: os.ErrNotExist}
	}
	delete(m.files, name)
	return nil
}

func (m *MemFS) Rename(oldname, newname string) error {
	oldname, newname = clean(oldname), clean(newname)
	m.mu.Lock()
	defer m.mu.Unlock()
	ino := m.files[oldname]
	if ino == nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: os.ErrNotExist}
	}
	if !m.dirs[filepath.Dir(newname)] {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: os.ErrNotExist}
	}
	delete(m.files, oldname)
	m.files[newname] = ino
	return nil
}

func (m *MemFS) ReadDir(dir string) ([]string, error) {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, &os.PathError{Op: "readdir", Path: dir, Err: os.ErrNotExist}
	}
	var names []string
	for name := range m.files {
		if filepath.Dir(name) == dir {
			names = append(names, filepath.Base(name))
		}
	}
	sort.Strings(names)
	return names, nil
}

func (m *MemFS) MkdirAll(dir string, perm os.FileMode) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	for d := dir; !m.dirs[d]; d = filepath.Dir(d) {
		if m.files[d] != nil {
			return &os.PathError{Op: "mkdir", Path: d, Err: errors.New("not a directory")}
		}
		m.dirs[d] = true
	}
	return nil
}

func (m *MemFS) SyncDir(dir string) error {
	dir = clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return &os.PathError{Op: "syncdir", Path: dir, Err: os.ErrNotExist}
	}
	for name := range m.durable {
		if filepath.Dir(name) == dir && m.files[name] == nil {
			delete(m.durable, name)
		}
	}
	for name, ino := range m.files {
		if filepath.Dir(name) == dir {
			m.durable[name] = ino
		}
	}
	return nil
}

// memFile is an open MemFS file.
type memFile struct {
	fs     *MemFS
	name   string
	ino    *memInode
	gen    uint64
	flag   int
	off    int64 // read/write offset (writes with O_APPEND go to the end)
	closed bool
}

// check returns the error for a dead handle. Caller holds fs.mu.
func (f *memFile) check(op string) error {
	if f.closed {
		return &os.PathError{Op: op, Path: f.name, Err: os.ErrClosed}
	}
	if f.gen != f.fs.gen {
		return &os.PathError{Op: op, Path: f.name, Err: errCrashed}
	}
	return nil
}

func (f *memFile) readable() bool { return f.flag&os.O_WRONLY == 0 }
func (f *memFile) writable() bool { return f.flag&(os.O_WRONLY|os.O_RDWR) != 0 }

func (f *memFile) Read(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if !f.readable() {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: os.ErrPermission}
	}
	if f.off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[f.off:])
	f.off += int64(n)
	return n, nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read"); err != nil {
		return 0, err
	}
	if !f.readable() {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: os.ErrPermission}
	}
	if off < 0 {
		return 0, &os.PathError{Op: "readat", Path: f.name, Err: errors.New("negative offset")}
	}
	if off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	return f.writeLocked(p, -1)
}

// WriteAt writes p at off, like pwrite(2): the file's offset does not move.
// As os.File's, it refuses a file opened with O_APPEND.
func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.flag&os.O_APPEND != 0 {
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errors.New("invalid use of WriteAt on file opened with O_APPEND")}
	}
	if off < 0 {
		return 0, &os.PathError{Op: "writeat", Path: f.name, Err: errors.New("negative offset")}
	}
	return f.writeLocked(p, off)
}

// writeLocked writes p at the file's offset (at < 0; it then moves) or at
// at. The caller holds f.fs.mu.
func (f *memFile) writeLocked(p []byte, at int64) (int, error) {
	m := f.fs
	if err := f.check("write"); err != nil {
		return 0, err
	}
	if !f.writable() {
		return 0, &os.PathError{Op: "write", Path: f.name, Err: os.ErrPermission}
	}
	var failErr error
	if m.writeBudget >= 0 && int64(len(p)) > m.writeBudget {
		p = p[:m.writeBudget]
		failErr = &os.PathError{Op: "write", Path: f.name, Err: m.budgetErr}
	}
	if m.writeBudget >= 0 {
		m.writeBudget -= int64(len(p))
	}
	ino := f.ino
	if f.flag&os.O_APPEND != 0 {
		f.off = int64(len(ino.data))
	}
	off := f.off
	if at >= 0 {
		off = at
	}
	if end := off + int64(len(p)); end > int64(len(ino.data)) {
		if end > int64(cap(ino.data)) {
			c := max(end, 2*int64(cap(ino.data)))
			if m.fileCap > 0 && c > m.fileCap {
				c = max(end, m.fileCap)
			}
			grown := make([]byte, len(ino.data), c)
			copy(grown, ino.data)
			ino.data = grown
		}
		old := len(ino.data)
		ino.data = ino.data[:end]
		clear(ino.data[old:]) // a hole reads as zeros
	}
	copy(ino.data[off:], p)
	ino.dirtyFrom = min(ino.dirtyFrom, int(off))
	if at < 0 {
		f.off += int64(len(p))
	}
	return len(p), failErr
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("sync"); err != nil {
		return err
	}
	ino := f.ino
	if f.fs.volatile {
		return nil
	}
	from := min(ino.dirtyFrom, len(ino.synced), len(ino.data))
	ino.synced = append(ino.synced[:from], ino.data[from:]...)
	ino.dirtyFrom = len(ino.data)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate"); err != nil {
		return err
	}
	if !f.writable() {
		return &os.PathError{Op: "truncate", Path: f.name, Err: os.ErrPermission}
	}
	if size < 0 {
		return &os.PathError{Op: "truncate", Path: f.name, Err: errors.New("negative size")}
	}
	ino := f.ino
	if size <= int64(len(ino.data)) {
		ino.data = ino.data[:size]
	} else {
		ino.data = append(ino.data, make([]byte, size-int64(len(ino.data)))...)
	}
	ino.dirtyFrom = min(ino.dirtyFrom, int(size))
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("stat"); err != nil {
		return 0, err
	}
	return int64(len(f.ino.data)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &os.PathError{Op: "close", Path: f.name, Err: os.ErrClosed}
	}
	f.closed = true
	return nil
}

// ErrorFS wraps an FS and lets tests inject errors (e.g. syscall.ENOSPC on
// Write, EIO on Sync) per operation and file name. Before each operation it
// calls Inject(op, name), with op one of "open", "read" (ReadAt), "write" (Write and WriteAt), "sync", "truncate",
// "remove", "rename", "syncdir", "readdir", "mkdir" and name the file's (for
// rename the old name's, for directory operations the directory's) path as
// passed to the FS. A non-nil result fails the operation with that error
// wrapped in an *os.PathError (errors.Is sees through it); nil lets it through
// to FS. A nil Inject injects nothing, so ErrorFS can also count operations.
//
// A failing write behaves like a write into a full disk: it first stores the
// first half of the buffer (len(p)/2 bytes) and returns that count with the
// error, so the caller faces a torn record to clean up.
//
// Inject is called concurrently when the FS is used concurrently.
type ErrorFS struct {
	FS     FS
	Inject func(op, name string) error
}

func (e ErrorFS) inject(op, name string) error {
	if e.Inject == nil {
		return nil
	}
	if err := e.Inject(op, name); err != nil {
		return &os.PathError{Op: op, Path: name, Err: err}
	}
	return nil
}

func (e ErrorFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if err := e.inject("open", name); err != nil {
		return nil, err
	}
	f, err := e.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &errorFile{File: f, fs: e, name: name}, nil
}

func (e ErrorFS) Remove(name string) error {
	if err := e.inject("remove", name); err != nil {
		return err
	}
	return e.FS.Remove(name)
}

func (e ErrorFS) Rename(oldname, newname string) error {
	if err := e.inject("rename", oldname); err != nil {
		return err
	}
	return e.FS.Rename(oldname, newname)
}

func (e ErrorFS) ReadDir(dir string) ([]string, error) {
	if err := e.inject("readdir", dir); err != nil {
		return nil, err
	}
	return e.FS.ReadDir(dir)
}

func (e ErrorFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := e.inject("mkdir", dir); err != nil {
		return err
	}
	return e.FS.MkdirAll(dir, perm)
}

func (e ErrorFS) SyncDir(dir string) error {
	if err := e.inject("syncdir", dir); err != nil {
		return err
	}
	return e.FS.SyncDir(dir)
}

type errorFile struct {
	File
	fs   ErrorFS
	name string
}

func (f *errorFile) Write(p []byte) (int, error) {
	if err := f.fs.inject("write", f.name); err != nil {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, err
	}
	return f.File.Write(p)
}

func (f *errorFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.inject("write", f.name); err != nil {
		n, _ := f.File.WriteAt(p[:len(p)/2], off)
		return n, err
	}
	return f.File.WriteAt(p, off)
}

func (f *errorFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.inject("read", f.name); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *errorFile) Sync() error {
	if err := f.fs.inject("sync", f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.fs.inject("truncate", f.name); err != nil {
		return err
	}
	return f.File.Truncate(size)
}
