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
	// A whole record this release could not decode (written by a newer
	// one: a rollback), counted lost once: a later start of a release
	// that cannot decode it either passes it without counting again, one
	// that can (the roll-forward) delivers it. Releases before this kind
	// existed ignore it.
	skipUndecodable byte = 3
)

// skipSet is a log's positions that outlive a restart until the cursor
// passes them (<p>.skip, next to the cursor): records withdrawn by a failed
// Write, which the log's Readers skip only while the process that aborted
// them runs, and damaged regions already counted lost. Without it a clean
// restart delivered a withdrawn record behind an undelivered one (and the
// sender's resend delivered it again), and counted the same damage lost at
// every start while the cursor could not pass it.
//
// Each entry carries a check of what it names (a withdrawn or undecodable
// record's payload CRC-32C and size, a damaged region's size), verified before it is used:
// a position can come back with other contents (a record lost with a power
// loss under fsync interval, whose entry was fsynced, and an acknowledged
// one appended there since; segments removed by hand and numbered again),
// and such an entry must not skip it.
type skipSet struct {
	path string
	mu   sync.Mutex
	m    map[wal.Pos]skipEntry
}

type skipEntry struct {
	kind  byte
	check uint64
}

// entrySize is one entry on disk: segment, offset, kind, check.
const entrySize = 8 + 8 + 1 + 8

// withdrawnCheck identifies a whole record (a withdrawn or an undecodable
// one): its payload's CRC-32C and size.
func withdrawnCheck(crc uint32, size int) uint64 { return uint64(crc) | uint64(size)<<32 }

// loadSkips reads path (missing: empty), keeps the entries at or after cur
// and, of withdrawn records, those l still holds unchanged (see skipSet).
// It rewrites the file when it dropped some; if that fails, it keeps what
// it read (and the next start drops them again).
func loadSkips(fs wal.FS, path string, cur wal.Pos, l *wal.Log) (*skipSet, error) {
	s := &skipSet{path: path, m: map[wal.Pos]skipEntry{}}
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
	if len(b) < 4 || (len(b)-4)%entrySize != 0 || crc32.Checksum(b[:len(b)-4], crcTable) != binary.LittleEndian.Uint32(b[len(b)-4:]) {
		return nil, fmt.Errorf("%s: damaged (size or checksum)", path)
	}
	dropped := false
	for e := b[:len(b)-4]; len(e) > 0; e = e[entrySize:] {
		at := wal.Pos{Seg: binary.LittleEndian.Uint64(e), Off: int64(binary.LittleEndian.Uint64(e[8:]))}
		en := skipEntry{kind: e[16], check: binary.LittleEndian.Uint64(e[17:])}
		if at.Less(cur) || ((en.kind == skipWithdrawn || en.kind == skipUndecodable) && !holdsRecord(l, at, en.check)) {
			dropped = true
			continue
		}
		s.m[at] = en
	}
	if dropped {
		_ = s.saveLocked(fs) // best effort: stale entries are dropped again next time
	}
	return s, nil
}

// holdsRecord reports whether l has, at at, a record that check names.
func holdsRecord(l *wal.Log, at wal.Pos, check uint64) bool {
	rec, err := l.NewReader(at).Next()
	return err == nil && rec.At == at && withdrawnCheck(crc32.Checksum(rec.Payload, crcTable), len(rec.Payload)) == check
}

// add records at and persists the set (written, fsynced, renamed).
func (s *skipSet) add(fs wal.FS, at wal.Pos, en skipEntry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m[at] == en {
		return nil
	}
	s.m[at] = en
	return s.saveLocked(fs)
}

// addAll records n entries (entry(i): a position and what it stands for)
// with one write of the set, if any changed. Records counted as they are
// read (undecodable ones) come by the thousand: a durable rewrite of the
// whole set for each was quadratic in their number.
func (s *skipSet) addAll(fs wal.FS, n int, entry func(i int) (wal.Pos, skipEntry)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for i := range n {
		at, en := entry(i)
		if s.m[at] != en {
			s.m[at] = en
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return s.saveLocked(fs)
}

func (s *skipSet) get(at wal.Pos) skipEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[at]
}

// prune drops the entries before cur (the cursor passed them) and rewrites
// the file if any went; called as the cursor is saved, so that the set
// stays as small as the failures the cursor has not passed yet.
func (s *skipSet) prune(fs wal.FS, cur wal.Pos) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.m)
	for at := range s.m {
		if at.Less(cur) {
			delete(s.m, at)
		}
	}
	if len(s.m) != n {
		_ = s.saveLocked(fs) // best effort: the next start drops them too
	}
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
	buf := make([]byte, 0, len(keys)*entrySize+4)
	for _, at := range keys {
		en := s.m[at]
		buf = binary.LittleEndian.AppendUint64(buf, at.Seg)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(at.Off))
		buf = append(buf, en.kind)
		buf = binary.LittleEndian.AppendUint64(buf, en.check)
	}
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(buf, crcTable))
	return writeFileAtomic(fs, s.path, buf)
}
