package queue

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/logrouter/logrouter/internal/wal"
)

// Skip kinds: what a position in a log's skip file stands for.
const (
	skipWithdrawn byte = 1 // a record of a Write that failed (withdraw): never delivered
	skipDamaged   byte = 2 // a damaged region, counted lost once: not counted again
)

// skipSet is a log's positions that outlive a restart until the cursor
// passes them (<p>.skip, next to the cursor): records withdrawn by a failed
// Write, which the log's Readers skip only while the process that aborted
// them runs, and damaged regions already counted lost. Without it a clean
// restart delivered a withdrawn record behind an undelivered one (and the
// sender's resend delivered it again), and counted the same damage lost at
// every start while the cursor could not pass it.
type skipSet struct {
	path string
	mu   sync.Mutex
	m    map[wal.Pos]byte
}

// loadSkips reads path (missing: empty) and keeps the positions at or
// after cur; it rewrites the file when it dropped some.
func loadSkips(fs wal.FS, path string, cur wal.Pos) (*skipSet, error) {
	s := &skipSet{path: path, m: map[wal.Pos]byte{}}
	f, err := fs.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) < 4 || (len(b)-4)%17 != 0 || crc32.Checksum(b[:len(b)-4], crcTable) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%s: damaged (size or checksum)", path)
	}
	dropped := false
	for e := b[:len(b)-4]; len(e) > 0; e = e[17:] {
		at := wal.Pos{Seg: binary.LittleEndian.Uint64(e), Off: int64(binary.LittleEndian.Uint64(e[8:]))}
		if at.Less(cur) {
			dropped = true
			continue
		}
		s.m[at] = e[16]
	}
	if dropped {
		if err := s.saveLocked(fs); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// add records at as kind and persists the set (written, fsynced, renamed).
func (s *skipSet) add(fs wal.FS, at wal.Pos, kind byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[at] == kind {
		return nil
	}
	s.m[at] = kind
	return s.saveLocked(fs)
}

func (s *skipSet) kind(at wal.Pos) byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[at]
}

// saveLocked writes the set atomically, or removes the file when it is empty.
func (s *skipSet) saveLocked(fs wal.FS) error {
	if len(s.m) == 0 {
		if err := fs.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return fs.SyncDir(filepath.Dir(s.path))
	}
	keys := make([]wal.Pos, 0, len(s.m))
	for at := range s.m {
		keys = append(keys, at)
	}
	slices.SortFunc(keys, func(a, b wal.Pos) int {
		switch {
		case a.Less(b):
			return -1
		case b.Less(a):
			return 1
		}
		return 0
	})
	buf := make([]byte, 0, len(keys)*17+4)
	for _, at := range keys {
		buf = binary.LittleEndian.AppendUint64(buf, at.Seg)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(at.Off))
		buf = append(buf, s.m[at])
	}
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, crcTable))
	tmp := s.path + ".tmp"
	f, err := fs.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := fs.Rename(tmp, s.path); err != nil {
		return err
	}
	return fs.SyncDir(filepath.Dir(s.path))
}
