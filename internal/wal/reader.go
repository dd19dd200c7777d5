package wal

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// Record is one record read from the log.
type Record struct {
	// Payload is the record's payload. It is valid until the next call to
	// Next; copy it to keep it.
	Payload []byte
	// Count is the count given to Append (the number of events).
	Count uint32
	// At is the record's position; Next the position just after it, where
	// a Reader resumes to read the records that follow.
	At, Next Pos
}

// CorruptError reports a damaged region of the log that a Reader skipped. The
// Reader is positioned after it: call Next again to continue.
type CorruptError struct {
	// At is where the damaged region starts.
	At Pos
	// Records is the number of records known to be lost: 1 for a record
	// whose header is valid but whose payload is damaged or cut short, 0 for
	// bytes with no valid record header.
	Records int
	// Events is the events lost in those records; exact, since their headers
	// (which hold the counts) are checksummed and valid. Unknown (0) for
	// bytes with no valid header.
	Events int64
	// Bytes is the size of the skipped region.
	Bytes int64
	// Reason says what is wrong, for humans.
	Reason string
	// Unsynced: the region lies past the durable mark Open found (see
	// Recovery.UnsyncedRecords): an unfinished write that a power loss
	// kept part of, never acknowledged under SyncAlways. Its events are
	// not lost; the caller skips it without counting them.
	Unsynced bool
}

// PayloadBytes is the record payload bytes the region held, as a queue
// counts what it holds: exact for one record whose header is valid (Bytes
// less its header); for bytes with no valid header, Bytes less one header,
// which is exact when one record's header was hit (the common case) and
// too high by a header for each further one.
func (e *CorruptError) PayloadBytes() int64 {
	return max(e.Bytes-recHeaderSize, 0)
}

func (e *CorruptError) Error() string {
	if e.Unsynced {
		return fmt.Sprintf("wal: unfinished write at segment %d offset %d skipped: %s (%d bytes, %d records of %d events, never acknowledged)",
			e.At.Seg, e.At.Off, e.Reason, e.Bytes, e.Records, e.Events)
	}
	return fmt.Sprintf("wal: damaged region at segment %d offset %d skipped: %s (%d bytes, %d records, %d events lost)",
		e.At.Seg, e.At.Off, e.Reason, e.Bytes, e.Records, e.Events)
}

// Reader reads records in log order. A Reader is not safe for concurrent use,
// but any number of Readers may run concurrently with each other and with
// Append. It holds no resources of its own: there is nothing to close.
type Reader struct {
	l    *Log
	pos  Pos
	w    window
	wSeg uint64
	wF   File
}

// NewReader returns a Reader of the records from position from on: a Pos
// returned by Append (at or next) or by a Reader (Record.At, Record.Next), or
// the zero Pos for the beginning of the log (the oldest segment not trimmed).
// Readers see a record once its Append may return nil: under SyncAlways once
// it is fsynced, under SyncInterval once it is written; a record of
// AppendHeld once it is released, and never once it is aborted.
func (l *Log) NewReader(from Pos) *Reader {
	return &Reader{l: l, pos: from}
}

// Pos returns where the Reader is: after the last record Next returned or
// passed over (aborted records, damaged regions). At io.EOF it is the end
// of what Readers may see (or the first held record).
func (r *Reader) Pos() Pos { return r.pos }

// Next returns the next record; io.EOF when the reader has caught up with
// everything appended so far (call again later: records appended meanwhile
// follow); a *CorruptError when it skipped a damaged region (once per region;
// call Next again to continue after it); an error wrapping os.ErrNotExist if
// its position lies in a segment deleted by TrimBefore; an error wrapping
// os.ErrClosed after Close; or an I/O error (call again to retry).
func (r *Reader) Next() (Record, error) {
	for {
		limit, sealed, err := r.locate()
		if err != nil {
			return Record{}, err
		}
		seg := r.pos.Seg
		if r.pos.Off < segHeaderSize {
			it, ok, err := r.w.scanSegHeader(limit)
			if err != nil {
				return Record{}, fmt.Errorf("wal: read %s: %w", r.l.path(seg), err)
			}
			r.pos.Off = segHeaderSize
			if !ok {
				r.pos.Off = max(it.end, segHeaderSize)
				return Record{}, &CorruptError{At: Pos{seg, it.off}, Bytes: it.end - it.off, Reason: it.reason}
			}
		}
		if r.pos.Off >= limit {
			if !sealed {
				return Record{}, io.EOF
			}
			r.pos = Pos{seg + 1, 0}
			continue
		}
		it, err := r.w.scanAt(r.pos.Off, limit)
		if err != nil {
			return Record{}, fmt.Errorf("wal: read %s at offset %d: %w", r.l.path(seg), r.pos.Off, err)
		}
		r.pos.Off = it.end
		switch it.kind {
		case kRecord:
			if r.l.skipped(Pos{seg, it.off}) {
				continue // aborted (Log.Abort)
			}
			return Record{Payload: it.payload, Count: it.count, At: Pos{seg, it.off}, Next: Pos{seg, it.end}}, nil
		case kBadCRC, kShort:
			return Record{}, &CorruptError{At: Pos{seg, it.off}, Records: 1, Events: int64(it.count), Bytes: it.end - it.off, Reason: it.reason,
				Unsynced: r.l.isUnsynced(Pos{seg, it.off})}
		default:
			return Record{}, &CorruptError{At: Pos{seg, it.off}, Bytes: it.end - it.off, Reason: it.reason,
				Unsynced: r.l.isUnsynced(Pos{seg, it.off})}
		}
	}
}

// locate resolves r.pos to an existing segment, points the window at it and
// returns the end of its readable data and whether it is sealed (no more
// records will be added).
func (r *Reader) locate() (limit int64, sealed bool, err error) {
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, false, errClosed
	}
	if r.pos.Seg == 0 {
		r.pos = Pos{l.segs[0].id, 0}
	}
	i := sort.Search(len(l.segs), func(i int) bool { return l.segs[i].id >= r.pos.Seg })
	switch {
	case i == len(l.segs):
		return 0, false, fmt.Errorf("wal: read position %d:%d is past the end of the log (%d:%d)", r.pos.Seg, r.pos.Off, l.visible.Seg, l.visible.Off)
	case l.segs[i].id != r.pos.Seg && i == 0:
		return 0, false, fmt.Errorf("wal: read position %d:%d: segment %d was trimmed: %w", r.pos.Seg, r.pos.Off, r.pos.Seg, os.ErrNotExist)
	case l.segs[i].id != r.pos.Seg:
		missing := r.pos.Seg
		r.pos = Pos{l.segs[i].id, 0}
		return 0, false, &CorruptError{At: Pos{missing, 0},
			Reason: fmt.Sprintf("segments %d to %d are missing (events in them unknown)", missing, l.segs[i].id-1)}
	}
	s := l.segs[i]
	if s.id == l.seg {
		limit = l.writeOff
		if l.visible.Seg == s.id {
			limit = l.visible.Off
		}
	} else {
		limit, sealed = s.size, true
	}
	if len(l.holds) > 0 && l.holds[0].at.Seg == s.id && l.holds[0].at.Off < limit {
		// Stop before the first held record (AppendHeld) until it is
		// released or aborted.
		limit, sealed = l.holds[0].at.Off, false
	}
	f := l.rfiles[s.id]
	if f == nil {
		f, err = l.fs.OpenFile(l.path(s.id), os.O_RDONLY, 0)
		if err != nil {
			return 0, false, fmt.Errorf("wal: read: %w", err)
		}
		l.rfiles[s.id] = f
	}
	if r.wSeg != s.id || r.wF != f {
		r.w.reset(f)
		r.wSeg, r.wF = s.id, f
	}
	return limit, sealed, nil
}
