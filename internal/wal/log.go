package wal

import (
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// SyncPolicy says when Append makes a record durable.
type SyncPolicy int

const (
	// SyncAlways: Append returns only after the record is fsynced.
	// Concurrent Appends share fsyncs (group commit).
	SyncAlways SyncPolicy = iota
	// SyncInterval: Append returns after write(2); a background goroutine
	// fsyncs every Options.SyncInterval. Acknowledged records written since
	// the last fsync are lost if the machine (not just the process) crashes.
	SyncInterval
)

// Default option values.
const (
	defaultSegmentBytes = 64 << 20
	defaultSyncInterval = 100 * time.Millisecond
)

// Options configures a Log. The zero value is valid: 64 MiB segments,
// SyncAlways.
type Options struct {
	// SegmentBytes is the size a segment file may reach before the log
	// rolls to a new one; a record that does not fit in an otherwise empty
	// segment gets one of its own. 0 means 64 MiB.
	SegmentBytes int64
	// Sync is the durability policy; default SyncAlways.
	Sync SyncPolicy
	// SyncInterval is the fsync period under SyncInterval; 0 means 100ms.
	SyncInterval time.Duration
}

func (o Options) withDefaults() (Options, error) {
	if o.SegmentBytes < 0 {
		return o, fmt.Errorf("wal: SegmentBytes must not be negative (got %d)", o.SegmentBytes)
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = defaultSegmentBytes
	}
	if o.Sync != SyncAlways && o.Sync != SyncInterval {
		return o, fmt.Errorf("wal: unknown sync policy %d", int(o.Sync))
	}
	if o.SyncInterval < 0 {
		return o, fmt.Errorf("wal: SyncInterval must not be negative (got %v)", o.SyncInterval)
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = defaultSyncInterval
	}
	return o, nil
}

// Pos is the position of a record: the segment id and the byte offset of its
// header. The zero Pos means "the beginning of the log" to NewReader. Positions
// order records in log order (see Less).
type Pos struct {
	Seg uint64
	Off int64
}

// Less reports whether p comes before q in the log.
func (p Pos) Less(q Pos) bool {
	if p.Seg != q.Seg {
		return p.Seg < q.Seg
	}
	return p.Off < q.Off
}

// Recovery is what Open found in the log. Every byte of every segment is
// accounted for exactly once: segment file headers, valid records
// (Records, with Bytes of payload), records skipped for a bad payload checksum
// (or, outside the last segment, cut short), bytes skipped with no valid
// record header (CorruptBytes), unfinished writes past the durable mark
// (UnsyncedBytes) and the torn tail (TornTailBytes).
type Recovery struct {
	// Segments is the number of segment files found (before Open creates
	// any).
	Segments int
	// Records is the number of valid records found.
	Records int
	// Events is the sum of the counts of the valid records.
	Events int64
	// Bytes is the payload bytes of the valid records.
	Bytes int64
	// TornTailBytes is the incomplete bytes cut from the end of the last
	// segment: a write that never finished, so under SyncAlways never
	// acknowledged. Open truncates them.
	TornTailBytes int64
	// CorruptRecords counts records with a valid header but a bad payload
	// checksum, or (outside the last segment) whose payload is cut short by
	// the end of the file. They are skipped and left in place.
	CorruptRecords int
	// LostEvents is the exact sum of the counts of the CorruptRecords (their
	// headers, and so their counts, are checksummed and valid).
	LostEvents int64
	// CorruptBytes is the bytes skipped where no valid record header could
	// be read: a resync scan jumped from an invalid header to the next valid
	// one (or the end of the segment), or a segment file header was missing
	// or garbled. The events in them are unknown.
	CorruptBytes int64
	// UnsyncedRecords and UnsyncedBytes are the damaged records (bad
	// payload) and the bytes of all damaged regions (theirs and those
	// without a valid header) in the last segment past its durable mark:
	// writes that no completed fsync covered, so never acknowledged under
	// SyncAlways, that a power loss kept only part of while a later record
	// reached the disk. Skipped and left in place like damage, but not
	// lost: Readers report them with CorruptError.Unsynced set.
	UnsyncedRecords int
	UnsyncedBytes   int64
	// Details has one human-readable line per problem (and per torn tail or
	// missing segment), naming the file and offset.
	Details []string
}

// segInfo describes one segment file of the log.
type segInfo struct {
	id   uint64
	size int64 // for sealed segments; the active one's is Log.writeOff
}

// waiter is a SyncAlways Append waiting for its fsync.
type waiter struct {
	end  int64 // offset just after the record, in the active segment
	done bool
	err  error
}

var waiterPool = sync.Pool{New: func() any { return new(waiter) }}

// Log is an append-only write-ahead log in a directory. Its methods are safe
// for concurrent use.
type Log struct {
	fs   FS
	dir  string
	opts Options

	mu   sync.Mutex
	cond sync.Cond // signalled when a sync ends, pending waiters complete, or the log closes

	closed  bool
	f       File   // writer of the active segment (O_WRONLY|O_APPEND)
	seg     uint64 // active segment id
	segs    []segInfo
	sealed  int64 // total size of the sealed segments
	rfiles  map[uint64]File
	visible Pos // end of what readers may see and End reports

	// writeOff is the end of the records written to the active segment;
	// syncedOff the end of those known durable. Both are record boundaries
	// and syncedOff <= writeOff.
	writeOff  int64
	syncedOff int64
	// broken: the active file may hold bytes past writeOff (a torn write, or
	// records whose fsync failed) that could not be truncated yet. Nothing is
	// written or fsynced until a truncate to writeOff succeeds.
	broken    bool
	brokenErr error
	// cutUnsynced: the active file was truncated (repairLocked) since its
	// last fsync started.
	cutUnsynced bool
	syncing     bool      // an fsync of f runs with mu released
	pending     []*waiter // SyncAlways appends written but not yet synced, in order
	syncErr     error     // SyncInterval: the last background fsync failed
	wbuf        []byte    // header+payload staging for one Write

	// holds are the positions of records appended by AppendHeld and not yet
	// released or aborted, in log order: Readers stop at the first. skips
	// are the aborted ones, which Readers pass over; nskips is len(skips),
	// read without mu on every record a Reader returns.
	holds  []holdEntry
	skips  map[Pos]struct{}
	nskips atomic.Int32

	// mark is the durable mark file (SyncAlways only; nil otherwise, or if
	// it could not be set up at Open): rewritten in place after each fsync
	// that moves syncedOff, fsynced at most once per markSyncInterval.
	// markBuf stages it.
	mark      File
	markBuf   [markSize]byte
	markDirty bool        // written since its last fsync
	markTimer *time.Timer // fsyncs it markSyncInterval after it became dirty
	markArmed bool        // markTimer is set to fire
	// unsynced holds where the regions Open found past the durable mark
	// begin (Recovery.UnsyncedRecords); read-only after Open.
	unsynced map[Pos]struct{}

	quit chan struct{}
	done chan struct{}
}

// Open opens the log in dir, creating the directory and a first segment if
// needed, recovers it (see the package documentation) and returns what
// recovery found. It fails only for I/O errors it cannot get past and for
// segments written by an unknown format version; damaged data is reported in
// Recovery, never an error. The caller must Close the Log.
func Open(fs FS, dir string, o Options) (*Log, Recovery, error) {
	var rec Recovery
	o, err := o.withDefaults()
	if err != nil {
		return nil, rec, err
	}
	if err := EnsureDir(fs, dir); err != nil {
		return nil, rec, fmt.Errorf("wal: open: %w", err)
	}
	names, err := fs.ReadDir(dir)
	if err != nil {
		return nil, rec, fmt.Errorf("wal: open: %w", err)
	}
	l := &Log{fs: fs, dir: dir, opts: o, rfiles: map[uint64]File{}, unsynced: map[Pos]struct{}{}}
	l.cond.L = &l.mu
	for _, name := range names {
		if id, ok := parseSegName(name); ok {
			l.segs = append(l.segs, segInfo{id: id})
		}
	}
	sort.Slice(l.segs, func(i, j int) bool { return l.segs[i].id < l.segs[j].id })
	rec.Segments = len(l.segs)

	var w window
	newActive := len(l.segs) == 0
	markSeg, markOff, markOK := l.readMark()
	for i := range l.segs {
		last := i == len(l.segs)-1
		if i > 0 && l.segs[i].id != l.segs[i-1].id+1 {
			rec.Details = append(rec.Details, fmt.Sprintf("%s: segments %d to %d are missing (events in them unknown)",
				l.path(l.segs[i].id), l.segs[i-1].id+1, l.segs[i].id-1))
		}
		wm := int64(-1) // a mark of another segment says nothing of this one
		if last && markOK && markSeg == l.segs[i].id {
			wm = markOff
		}
		size, hdrOK, err := l.recoverSegment(&w, l.segs[i].id, last, wm, &rec)
		if err != nil {
			return nil, rec, err
		}
		l.segs[i].size = size
		if last && !hdrOK {
			newActive = true
		}
	}

	if newActive {
		id := uint64(1)
		if n := len(l.segs); n > 0 {
			id = l.segs[n-1].id + 1
		}
		f, err := l.createSegment(id)
		if err != nil {
			return nil, rec, err
		}
		l.segs = append(l.segs, segInfo{id: id, size: segHeaderSize})
		l.f = f
	} else {
		last := l.segs[len(l.segs)-1]
		f, err := fs.OpenFile(l.path(last.id), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, rec, fmt.Errorf("wal: open: %w", err)
		}
		l.f = f
	}
	// Make durable what this log adopts from a process that was killed:
	// the active segment's bytes (records written, not yet fsynced: their
	// fsync may never have run, and syncedOff below says they are synced;
	// rolling past them would seal a segment a power loss can still tear)
	// and the directory entries (a segment created, or a directory made,
	// just before the kill: records acknowledged into it would vanish with
	// its entry). A few fsyncs per log at start.
	if err := l.f.Sync(); err != nil {
		_ = l.f.Close()
		return nil, rec, fmt.Errorf("wal: open: fsync %s: %w", l.path(l.segs[len(l.segs)-1].id), err)
	}
	if err := l.setUpMark(l.segs[len(l.segs)-1]); err != nil {
		_ = l.f.Close()
		return nil, rec, err
	}
	for _, d := range []string{dir, filepath.Dir(filepath.Clean(dir))} {
		if err := fs.SyncDir(d); err != nil {
			_ = l.f.Close()
			return nil, rec, fmt.Errorf("wal: open: fsync directory %s: %w", d, err)
		}
	}
	act := l.segs[len(l.segs)-1]
	l.seg = act.id
	l.writeOff, l.syncedOff = act.size, act.size
	l.visible = Pos{act.id, act.size}
	for _, s := range l.segs[:len(l.segs)-1] {
		l.sealed += s.size
	}
	if o.Sync == SyncInterval {
		l.quit = make(chan struct{})
		l.done = make(chan struct{})
		go l.syncLoop()
	}
	return l, rec, nil
}

// EnsureDir creates dir if needed and makes the new directories durable by
// fsyncing their parents: a segment's directory entry is only as durable as
// the directory holding it. Use it, not MkdirAll, for any directory above a
// log: once MkdirAll made a directory, EnsureDir no longer knows it is new.
func EnsureDir(fs FS, dir string) error {
	var created []string
	for p := filepath.Clean(dir); ; p = filepath.Dir(p) {
		if _, err := fs.ReadDir(p); err == nil || !errors.Is(err, os.ErrNotExist) {
			break // exists (or MkdirAll will report what is wrong)
		}
		created = append(created, p)
		if filepath.Dir(p) == p {
			break
		}
	}
	if err := fs.MkdirAll(dir, 0o750); err != nil { // queues hold raw logs: owner and group only, as the file sink
		return err
	}
	for _, c := range created {
		if err := fs.SyncDir(filepath.Dir(c)); err != nil {
			return err
		}
	}
	return nil
}

// recoverSegment scans segment id, adds what it finds to rec and, for the last
// segment, truncates a torn tail (rewriting a segment file header cut short).
// It returns the segment's size afterwards and whether its file header is
// valid.
//
// wm, for the last segment, is the offset its durable mark says was fsynced
// (-1: not known): damage at or past it is an unsynced write that a power
// loss kept only part of, so it and everything after it are a torn tail.
func (l *Log) recoverSegment(w *window, id uint64, last bool, wm int64, rec *Recovery) (size int64, hdrOK bool, err error) {
	name := l.path(id)
	flag := os.O_RDONLY
	if last {
		flag = os.O_RDWR
	}
	f, err := l.fs.OpenFile(name, flag, 0)
	if err != nil {
		return 0, false, fmt.Errorf("wal: open: recover: %w", err)
	}
	defer f.Close()
	size, err = f.Size()
	if err != nil {
		return 0, false, fmt.Errorf("wal: open: recover %s: %w", name, err)
	}
	w.reset(f)

	if last && size < segHeaderSize {
		// A crash while the segment was being created: rewrite its header.
		if size > 0 {
			rec.TornTailBytes += size
			rec.Details = append(rec.Details, fmt.Sprintf("%s: offset 0: torn tail of %d bytes (segment file header cut short) truncated", name, size))
		}
		if err := f.Truncate(0); err != nil {
			return 0, false, fmt.Errorf("wal: open: truncate torn tail of %s: %w", name, err)
		}
		h := segHeader()
		if _, err := f.Write(h[:]); err != nil {
			return 0, false, fmt.Errorf("wal: open: rewrite header of %s: %w", name, err)
		}
		if err := f.Sync(); err != nil {
			return 0, false, fmt.Errorf("wal: open: sync %s: %w", name, err)
		}
		return segHeaderSize, true, nil
	}

	var problems []item
	tailStart := int64(segHeaderSize) // end of the last complete record (or of the header)
	hdrIt, hdrOK, err := w.scanSegHeader(size)
	if err != nil {
		return 0, false, fmt.Errorf("wal: open: recover %s: %w", name, err)
	}
	off := int64(segHeaderSize)
	if !hdrOK {
		// Counted as corrupt, never as torn: the header was synced when the
		// segment was created.
		rec.CorruptBytes += hdrIt.end - hdrIt.off
		rec.Details = append(rec.Details, fmt.Sprintf("%s: offset 0: %s; %d bytes skipped", name, hdrIt.reason, hdrIt.end-hdrIt.off))
		off = hdrIt.end
		tailStart = hdrIt.end
	}
	for off < size {
		it, err := w.scanAt(off, size)
		if err != nil {
			return 0, false, fmt.Errorf("wal: open: recover %s: %w", name, err)
		}
		if it.kind == kRecord {
			rec.Records++
			rec.Events += int64(it.count)
			rec.Bytes += int64(len(it.payload))
		} else {
			problems = append(problems, it)
		}
		if it.complete() {
			tailStart = it.end
		}
		off = it.end
	}
	for _, it := range problems {
		if last && it.off >= tailStart {
			continue // part of the torn tail
		}
		if last && wm >= 0 && it.off >= wm {
			// Written after the last fsync the mark knows finished, so
			// (SyncAlways) never acknowledged: a power loss persisted the
			// unsynced pages in any order, and this region lost some while
			// a later record kept its own. Skipped like damage, not lost;
			// the records after it stay (a stale mark must never cost an
			// intact one).
			if it.kind != kGarbage {
				rec.UnsyncedRecords++
			}
			rec.UnsyncedBytes += it.end - it.off
			l.unsynced[Pos{id, it.off}] = struct{}{}
			rec.Details = append(rec.Details, fmt.Sprintf("%s: offset %d: %s, past the last completed fsync (offset %d): an unfinished write, not a loss; %d bytes skipped",
				name, it.off, it.reason, wm, it.end-it.off))
			continue
		}
		switch it.kind {
		case kBadCRC, kShort:
			rec.CorruptRecords++
			rec.LostEvents += int64(it.count)
			rec.Details = append(rec.Details, fmt.Sprintf("%s: offset %d: %s", name, it.off, it.reason))
		case kGarbage:
			rec.CorruptBytes += it.end - it.off
			rec.Details = append(rec.Details, fmt.Sprintf("%s: offset %d: %s; %d bytes skipped", name, it.off, it.reason, it.end-it.off))
		}
	}
	if last && tailStart < size {
		torn := size - tailStart
		rec.TornTailBytes += torn
		rec.Details = append(rec.Details, fmt.Sprintf("%s: offset %d: torn tail of %d bytes (incomplete write) truncated", name, tailStart, torn))
		if err := f.Truncate(tailStart); err != nil {
			return 0, false, fmt.Errorf("wal: open: truncate torn tail of %s: %w", name, err)
		}
		if err := f.Sync(); err != nil {
			return 0, false, fmt.Errorf("wal: open: sync %s: %w", name, err)
		}
		size = tailStart
	}
	return size, hdrOK, nil
}

func (l *Log) path(id uint64) string { return filepath.Join(l.dir, segName(id)) }

// createSegment creates segment id with its file header, fsyncs it and the
// directory, and returns it open for appending. On failure it removes what
// it created (best effort).
func (l *Log) createSegment(id uint64) (File, error) {
	name := l.path(id)
	f, err := l.fs.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("wal: create segment: %w", err)
	}
	h := segHeader()
	_, err = f.Write(h[:])
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = l.fs.SyncDir(l.dir)
	}
	if err != nil {
		f.Close()
		if l.fs.Remove(name) == nil {
			l.fs.SyncDir(l.dir)
		}
		return nil, fmt.Errorf("wal: create segment %s: %w", name, err)
	}
	return f, nil
}

var errClosed = fmt.Errorf("wal: log closed: %w", os.ErrClosed)

// Append writes one record and returns its position and the position just
// after it.
//
// Under SyncAlways it returns nil only after the record is fsynced. Concurrent
// Appends share fsyncs (group commit): the first waiter fsyncs for everyone
// written so far while the others wait or keep writing. Under SyncInterval it
// returns after write(2); a background goroutine fsyncs every SyncInterval.
//
// On a write or fsync error the log truncates the bytes that did not make it
// (keeping at it on later calls if it cannot yet), returns the error wrapped
// (errors.Is finds syscall.ENOSPC, for one) and stays usable: later Appends
// succeed once the cause goes away. A record whose Append failed is never
// reported as written: Readers never see it. Under SyncAlways all the Appends
// that shared a failed fsync fail.
//
// A failed Append is "not acknowledged", not "proven absent": if the machine
// loses power before the truncation reaches the disk, an fsync running
// concurrently for other Appends may already have made the bytes durable, and
// the record reappears after recovery. Callers that retry a failed Append
// therefore deliver at least once, never at most once.
//
// payload may be reused by the caller once Append returns; at most 256 MiB.
// count is stored verbatim (the number of events in the payload, for loss
// accounting). After Close, Append returns an error wrapping os.ErrClosed.
func (l *Log) Append(payload []byte, count uint32) (at, next Pos, err error) {
	return l.append(nil, payload, count, false)
}

// HeaderRoom is how many bytes AppendRecord needs before the payload.
const HeaderRoom = recHeaderSize

// AppendRecord is Append for a payload the caller encoded after HeaderRoom
// bytes of room: rec[HeaderRoom:] is the payload. The log writes the record
// header into rec[:HeaderRoom] and rec with one write(2), so the payload is
// not copied (Append copies records up to 1 MiB into a buffer of its own, to
// write header and payload in one call). Everything else is as Append: rec
// may be reused once AppendRecord returns. len(rec) < HeaderRoom panics.
func (l *Log) AppendRecord(rec []byte, count uint32) (at, next Pos, err error) {
	return l.append(rec, rec[HeaderRoom:], count, false)
}

// AppendHeld is AppendRecord for a record that is one part of a larger
// write (a batch whose events go to several logs): the record is durable
// when AppendHeld returns nil, as with AppendRecord, but Readers stop before
// it (and so before every record appended after it) until the caller calls
// Release(at) once every part is durable, or Abort(at) if another part
// failed, after which Readers pass over it as if it had never been
// appended. The caller must call one of them for every at AppendHeld
// returned, or the log's Readers stop there for good.
//
// Abort lasts until the log is closed: the record stays in its segment, and a
// Log opened on the directory again reads it like any other unless the
// caller restores the abort with Skip.
func (l *Log) AppendHeld(rec []byte, count uint32) (at, next Pos, err error) {
	return l.append(rec, rec[HeaderRoom:], count, true)
}

// Release makes a record appended by AppendHeld visible to Readers.
func (l *Log) Release(at Pos) {
	l.mu.Lock()
	l.unholdLocked(at)
	l.mu.Unlock()
}

// Abort withdraws a record appended by AppendHeld: Readers never return it.
func (l *Log) Abort(at Pos) {
	l.mu.Lock()
	if l.unholdLocked(at) {
		if l.skips == nil {
			l.skips = make(map[Pos]struct{})
		}
		l.skips[at] = struct{}{}
		l.nskips.Store(int32(len(l.skips)))
	}
	l.mu.Unlock()
}

// Skip makes Readers pass over the record at at, as Abort does for a held
// one: for a caller that persisted its aborts and restores them after Open
// (a record at at that does not start there changes nothing).
func (l *Log) Skip(at Pos) {
	l.mu.Lock()
	if l.skips == nil {
		l.skips = make(map[Pos]struct{})
	}
	l.skips[at] = struct{}{}
	l.nskips.Store(int32(len(l.skips)))
	l.mu.Unlock()
}

// holdEntry is a record appended by AppendHeld and not yet released or aborted.
type holdEntry struct {
	at  Pos
	crc uint32 // its payload's CRC-32C (HeldCRC)
}

// HeldCRC returns the CRC-32C (Castagnoli) of the payload of the record
// held at at, and whether it is held: for a caller that records an abort
// durably and later checks, before Skip, that the record at that position
// is still the one it aborted.
func (l *Log) HeldCRC(at Pos) (uint32, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, h := range l.holds {
		if h.at == at {
			return h.crc, true
		}
	}
	return 0, false
}

// unholdLocked removes at from the holds; false if it was not held.
func (l *Log) unholdLocked(at Pos) bool {
	i := slices.IndexFunc(l.holds, func(h holdEntry) bool { return h.at == at })
	if i < 0 {
		return false
	}
	l.holds = slices.Delete(l.holds, i, i+1)
	return true
}

// skipped reports whether the record at at was aborted.
func (l *Log) skipped(at Pos) bool {
	if l.nskips.Load() == 0 {
		return false
	}
	l.mu.Lock()
	_, ok := l.skips[at]
	l.mu.Unlock()
	return ok
}

// append writes payload as one record; rec, when not nil, is HeaderRoom
// bytes of room followed by payload (AppendRecord); held: see AppendHeld.
func (l *Log) append(rec, payload []byte, count uint32, held bool) (at, next Pos, err error) {
	if int64(len(payload)) > maxPayload {
		return Pos{}, Pos{}, fmt.Errorf("wal: append: payload of %d bytes exceeds the maximum of %d", len(payload), maxPayload)
	}
	pcrc := crc32.Checksum(payload, castagnoli)
	recLen := int64(recHeaderSize + len(payload))

	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.closed {
			return Pos{}, Pos{}, errClosed
		}
		if l.broken {
			if err := l.repairLocked(); err != nil {
				return Pos{}, Pos{}, err
			}
		}
		if l.opts.Sync == SyncInterval && l.syncErr != nil {
			// Surface a failed background fsync: no new acknowledgements
			// until an fsync succeeds.
			if l.syncing {
				l.cond.Wait()
				continue
			}
			if err := l.syncLocked(); err != nil {
				return Pos{}, Pos{}, err
			}
			continue
		}
		if l.writeOff > segHeaderSize && l.writeOff+recLen > l.opts.SegmentBytes {
			if l.syncing {
				l.cond.Wait()
				continue
			}
			if err := l.rollLocked(); err != nil {
				return Pos{}, Pos{}, err
			}
			continue
		}
		break
	}

	at = Pos{l.seg, l.writeOff}
	var n int
	switch {
	case rec != nil:
		putRecHeader(rec, len(payload), count, pcrc)
		n, err = l.f.Write(rec)
	case recLen <= copyLimit:
		l.ensureWbuf(recLen)
		l.wbuf = l.wbuf[:recLen]
		putRecHeader(l.wbuf, len(payload), count, pcrc)
		copy(l.wbuf[recHeaderSize:], payload)
		n, err = l.f.Write(l.wbuf)
	default:
		var h [recHeaderSize]byte
		putRecHeader(h[:], len(payload), count, pcrc)
		n, err = l.f.Write(h[:])
		if err == nil {
			var m int
			m, err = l.f.Write(payload)
			n += m
		}
	}
	if err == nil && int64(n) != recLen {
		err = fmt.Errorf("short write (%d of %d bytes)", n, recLen)
	}
	if err != nil {
		err = fmt.Errorf("wal: append to %s: %w", l.path(l.seg), err)
		if n > 0 {
			l.broken = true
			l.brokenErr = err
			l.repairLocked()
		}
		return Pos{}, Pos{}, err
	}
	l.writeOff += recLen
	next = Pos{l.seg, l.writeOff}
	if held {
		// Before the record can become visible (the fsync below, or the
		// next Append's, releases mu).
		l.holds = append(l.holds, holdEntry{at, pcrc})
	}

	if l.opts.Sync == SyncInterval {
		l.visible = next
		return at, next, nil
	}
	w := waiterPool.Get().(*waiter)
	w.end, w.done, w.err = l.writeOff, false, nil
	l.pending = append(l.pending, w)
	for !w.done {
		if l.syncing {
			l.cond.Wait()
		} else {
			l.syncLocked()
		}
	}
	err = w.err
	w.err = nil
	waiterPool.Put(w)
	if err != nil {
		// A held record's hold went with it (syncFailedLocked): removing
		// it here, after another append may have been written at the same
		// offset and held there, would remove that one's.
		return Pos{}, Pos{}, err
	}
	return at, next, nil
}

func (l *Log) ensureWbuf(n int64) {
	if int64(cap(l.wbuf)) < n {
		l.wbuf = make([]byte, n, max(n, 2*int64(cap(l.wbuf))))
	}
}

// repairLocked truncates the active file to writeOff after a failed write or
// fsync. It clears broken on success.
func (l *Log) repairLocked() error {
	if err := l.f.Truncate(l.writeOff); err != nil {
		return fmt.Errorf("wal: cannot truncate %s (%w) after: %w", l.path(l.seg), err, l.brokenErr)
	}
	l.broken = false
	l.brokenErr = nil
	// The cut is not durable until the next fsync: a group fsync running
	// meanwhile may have made the cut bytes durable. A roll must fsync the
	// cut before it seals the segment (only the last segment's tail may
	// be torn).
	l.cutUnsynced = true
	return nil
}

// syncLocked fsyncs the active file for everything written so far, with mu
// released during the fsync, and completes the pending appends it covers.
// It returns the fsync's error, if any. Precondition: !l.syncing.
func (l *Log) syncLocked() error {
	defer l.cond.Broadcast()
	if l.broken {
		// Never fsync bytes the log has disowned.
		if err := l.repairLocked(); err != nil {
			l.syncFailedLocked(err)
			return err
		}
	}
	target := l.writeOff
	if target <= l.syncedOff {
		l.syncDoneLocked(target)
		return nil
	}
	f := l.f
	l.syncing = true
	l.cutUnsynced = false // this fsync covers any cut made before it
	l.mu.Unlock()
	err := f.Sync()
	l.mu.Lock()
	l.syncing = false
	if err != nil {
		err = fmt.Errorf("wal: sync %s: %w", l.path(l.seg), err)
		l.syncFailedLocked(err)
		return err
	}
	l.syncDoneLocked(target)
	return nil
}

// syncDoneLocked records that the active segment is durable up to target.
func (l *Log) syncDoneLocked(target int64) {
	if target > l.syncedOff {
		l.syncedOff = target
		l.writeMarkLocked()
	}
	l.syncErr = nil
	if l.opts.Sync == SyncAlways {
		l.visible = Pos{l.seg, l.syncedOff}
	}
	k := 0
	for k < len(l.pending) && l.pending[k].end <= l.syncedOff {
		l.pending[k].done = true
		k++
	}
	l.dropPending(k)
}

func (l *Log) dropPending(k int) {
	if k == 0 {
		return
	}
	n := copy(l.pending, l.pending[k:])
	clear(l.pending[n:])
	l.pending = l.pending[:n]
}

// syncFailedLocked handles a failed fsync of the active segment. Under
// SyncAlways nothing since the last good fsync was acknowledged: every pending
// append fails and the file is cut back to syncedOff. Under SyncInterval
// those records were acknowledged already and stay; the error fails Appends
// until an fsync succeeds.
func (l *Log) syncFailedLocked(err error) {
	if l.opts.Sync == SyncInterval {
		l.syncErr = err
		return
	}
	for _, w := range l.pending {
		w.done, w.err = true, err
	}
	l.dropPending(len(l.pending))
	// The held records among them are cut with them: their holds go now,
	// before the offsets are written again.
	l.holds = slices.DeleteFunc(l.holds, func(h holdEntry) bool { return h.at.Seg == l.seg && h.at.Off >= l.syncedOff })
	if l.writeOff > l.syncedOff {
		l.writeOff = l.syncedOff
		l.broken = true
		l.brokenErr = err
	}
	if l.broken {
		l.repairLocked()
	}
}

// rollLocked seals the active segment (fsyncing it) and starts the next one.
// Precondition: !l.syncing, !l.broken.
func (l *Log) rollLocked() error {
	if l.writeOff > l.syncedOff || l.cutUnsynced {
		l.cutUnsynced = false
		if err := l.f.Sync(); err != nil {
			err = fmt.Errorf("wal: sync %s: %w", l.path(l.seg), err)
			l.syncFailedLocked(err)
			l.cond.Broadcast()
			return err
		}
		l.syncDoneLocked(l.writeOff)
		l.cond.Broadcast()
	}
	id := l.seg + 1
	f, err := l.createSegment(id)
	if err != nil {
		return err
	}
	old := l.f
	l.f = f
	l.segs[len(l.segs)-1].size = l.writeOff
	l.sealed += l.writeOff
	l.segs = append(l.segs, segInfo{id: id})
	l.seg = id
	l.writeOff, l.syncedOff = segHeaderSize, segHeaderSize
	l.visible = Pos{id, segHeaderSize}
	// The new segment's mark, fsynced now rather than by the timer: under
	// load a log rolls every second or so, and a mark still naming the
	// sealed segment says nothing of the new one, so a power loss would
	// count its unfinished writes lost. One small fsync per roll.
	if l.mark != nil {
		if err := l.storeMark(l.mark, l.seg, l.syncedOff); err != nil {
			l.invalidateMarkLocked()
		} else {
			l.markDirty = false // the timer, if armed, finds nothing to do
		}
	}
	old.Close() // its data is durable; a close error changes nothing
	return nil
}

// syncLoop is the SyncInterval background fsync.
func (l *Log) syncLoop() {
	defer close(l.done)
	t := time.NewTicker(l.opts.SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-l.quit:
			return
		case <-t.C:
			l.mu.Lock()
			if !l.closed && !l.syncing && (l.writeOff > l.syncedOff || l.broken) {
				l.syncLocked()
			}
			l.mu.Unlock()
		}
	}
}

// TrimBefore deletes every segment all of whose records lie before pos
// (segments with id < pos.Seg), then fsyncs the directory. It never deletes
// the active segment. Readers positioned in a deleted segment get an error
// wrapping os.ErrNotExist. On error, the segments already deleted stay
// deleted and the rest stay.
func (l *Log) TrimBefore(pos Pos) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errClosed
	}
	var victims []uint64
	for _, s := range l.segs {
		if s.id >= pos.Seg || s.id == l.seg {
			break
		}
		victims = append(victims, s.id)
	}
	l.mu.Unlock()
	if len(victims) == 0 {
		return nil
	}
	var err error
	removed := 0
	for _, id := range victims {
		if rerr := l.fs.Remove(l.path(id)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = fmt.Errorf("wal: trim: %w", rerr)
			break
		}
		removed++
	}
	l.mu.Lock()
	for _, id := range victims[:removed] {
		i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].id >= id })
		if i < len(l.segs) && l.segs[i].id == id {
			l.sealed -= l.segs[i].size
			l.segs = append(l.segs[:i], l.segs[i+1:]...)
		}
		if f := l.rfiles[id]; f != nil {
			f.Close()
			delete(l.rfiles, id)
		}
		for at := range l.skips {
			if at.Seg == id {
				delete(l.skips, at)
			}
		}
	}
	l.nskips.Store(int32(len(l.skips)))
	l.mu.Unlock()
	if removed > 0 {
		if serr := l.fs.SyncDir(l.dir); serr != nil && err == nil {
			err = fmt.Errorf("wal: trim: sync directory: %w", serr)
		}
	}
	return err
}

// Size returns the bytes of all segments on disk (for capacity limits),
// counting the active segment up to its last written record.
func (l *Log) Size() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.sealed + l.writeOff
}

// End returns the position after the last record appended (acknowledged), or
// the start of the active segment if it has none: a Reader at End returns
// io.EOF until something is appended.
func (l *Log) End() Pos {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.holds) > 0 && l.holds[0].at.Less(l.visible) {
		return l.holds[0].at
	}
	return l.visible
}

// Close fsyncs and closes the log. Appends waiting for an fsync complete first.
// Close is idempotent: later calls return nil. Append after Close returns an
// error wrapping os.ErrClosed; so do Readers' Next.
func (l *Log) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	for l.syncing {
		l.cond.Wait()
	}
	var err error
	if l.broken || l.writeOff > l.syncedOff || l.syncErr != nil {
		err = l.syncLocked()
	}
	for _, w := range l.pending { // none expected: syncLocked completed them
		w.done, w.err = true, errClosed
	}
	l.dropPending(len(l.pending))
	l.cond.Broadcast()
	if l.quit != nil {
		close(l.quit)
		l.mu.Unlock()
		<-l.done
		l.mu.Lock()
	}
	if cerr := l.f.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("wal: close: %w", cerr)
	}
	l.closeMarkLocked(err == nil)
	for id, f := range l.rfiles {
		f.Close()
		delete(l.rfiles, id)
	}
	l.mu.Unlock()
	return err
}

// readMark reads the log's durable mark; a missing, short or garbled one
// reads as none (recovery then counts every damaged record as lost, as
// before marks existed).
func (l *Log) readMark() (seg uint64, off int64, ok bool) {
	f, err := l.fs.OpenFile(filepath.Join(l.dir, markName), os.O_RDONLY, 0)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	var b [markSize]byte
	if n, _ := f.ReadAt(b[:], 0); n < markSize {
		return 0, 0, false
	}
	return parseMark(b[:])
}

// setUpMark prepares the durable mark once recovery is done and the active
// segment act is fsynced to its end. Under SyncAlways it writes and fsyncs
// the mark (act, its size) and keeps the file open for writeMarkLocked;
// under SyncInterval it removes any mark, which would otherwise
// describe records acknowledged without an fsync (Open fsyncs the directory
// after), and fails if it cannot.
//
// Under SyncAlways the mark is advisory: recovery only changes how it
// counts damage past it (not lost), never what it keeps, and a missing or
// garbled mark makes it count damage as lost, as before marks existed. So
// failing to set it up is not an error there, unless an old one is left
// that can be neither rewritten nor removed.
func (l *Log) setUpMark(act segInfo) error {
	name := filepath.Join(l.dir, markName)
	if l.opts.Sync != SyncAlways {
		if err := l.fs.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("wal: open: remove %s (the durable mark of fsync always; under fsync interval it would make recovery read acknowledged, damaged records as unfinished writes): %w", name, err)
		}
		return nil
	}
	// Without a mark of its own the log must not keep an old one: it
	// would stop following the fsyncs.
	drop := func() error {
		if err := l.fs.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("wal: open: cannot write nor remove %s (the durable mark; an old one left would make recovery read acknowledged, damaged records as unfinished writes): %w", name, err)
		}
		return nil
	}
	f, err := l.fs.OpenFile(name, os.O_WRONLY|os.O_CREATE, 0o640)
	if err != nil {
		return drop()
	}
	if err := l.storeMark(f, act.id, act.size); err != nil {
		f.Close()
		return drop()
	}
	l.mark = f
	return nil
}

// storeMark writes the mark (segment seg fsynced up to off) to f and
// fsyncs it.
func (l *Log) storeMark(f File, seg uint64, off int64) error {
	putMark(&l.markBuf, seg, off)
	if _, err := f.WriteAt(l.markBuf[:], 0); err != nil {
		return err
	}
	return f.Sync()
}

// writeMarkLocked records in the durable mark that the active segment is
// fsynced up to syncedOff, and arms markTimer to fsync it within
// markSyncInterval (off the acknowledgement path): after a power loss the
// mark on disk is this one or an older one, never one ahead of what was
// durable. A write that fails invalidates the mark (invalidateMarkLocked):
// a frozen old one would read more and more damage as unsynced.
func (l *Log) writeMarkLocked() {
	if l.mark == nil {
		return
	}
	putMark(&l.markBuf, l.seg, l.syncedOff)
	if _, err := l.mark.WriteAt(l.markBuf[:], 0); err != nil {
		l.invalidateMarkLocked()
		return
	}
	l.markDirty = true
	if !l.markArmed {
		l.markArmed = true
		if l.markTimer == nil {
			l.markTimer = time.AfterFunc(markSyncInterval, l.syncMark)
		} else {
			l.markTimer.Reset(markSyncInterval)
		}
	}
}

// markSyncInterval bounds how far the durable mark on disk lags the
// fsyncs it reports. Media damage to a record acknowledged within it, found
// after a power loss, is counted as an unfinished write instead of a loss.
const markSyncInterval = time.Second

// syncMark fsyncs the durable mark if it was written since its last fsync
// (markTimer; tests call it for a power loss long after the appends). A
// failed fsync invalidates the mark.
func (l *Log) syncMark() {
	l.mu.Lock()
	l.markArmed = false
	f := l.mark
	if f == nil || !l.markDirty || l.closed {
		l.mu.Unlock()
		return
	}
	l.markDirty = false
	l.mu.Unlock()
	if err := f.Sync(); err != nil {
		l.mu.Lock()
		if l.mark == f {
			l.invalidateMarkLocked()
		}
		l.mu.Unlock()
	}
}

// invalidateMarkLocked stops using the durable mark after a write or fsync
// of it failed, emptying it through its handle (it then reads as none), so
// that recovery counts damage as lost rather than trust a mark that stopped
// following the fsyncs. Best effort: if the handle takes nothing more (a
// failing device), an old mark may remain until the next Open reads it.
// Never by name: a handle that died with its process must not touch what a
// later one wrote (MemFS.Crash).
func (l *Log) invalidateMarkLocked() {
	f := l.mark
	l.mark, l.markDirty = nil, false
	l.stopMarkTimerLocked()
	if err := f.Truncate(0); err != nil {
		var zero [markSize]byte
		_, _ = f.WriteAt(zero[:], 0)
	}
	_ = f.Sync()
	f.Close()
}

// closeMarkLocked ends the durable mark at Close. After a clean Close
// (synced: the last fsync succeeded) it is brought up to date and fsynced,
// then removed: nothing is unsynced, so damage found later is a loss, and a
// release without marks run next (a rollback) cannot leave one behind that
// would be stale when this one reads it again. Removed only once the update
// went through its handle (a handle that died with its process must not
// remove what a later one wrote). After a failed fsync it is left as it is.
func (l *Log) closeMarkLocked(synced bool) {
	l.stopMarkTimerLocked()
	f := l.mark
	if f == nil {
		return
	}
	l.mark = nil
	defer f.Close()
	if !synced || l.storeMark(f, l.seg, l.syncedOff) != nil {
		return
	}
	if err := l.fs.Remove(filepath.Join(l.dir, markName)); err == nil {
		_ = l.fs.SyncDir(l.dir)
	}
}

// stopMarkTimerLocked stops markTimer (the mark is going away).
func (l *Log) stopMarkTimerLocked() {
	if l.markTimer != nil {
		l.markTimer.Stop()
		l.markArmed = false
	}
}

// isUnsynced reports whether a damaged region at at is one Open found past
// the durable mark.
func (l *Log) isUnsynced(at Pos) bool {
	_, ok := l.unsynced[at]
	return ok
}
