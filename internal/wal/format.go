package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
)

// On-disk constants; see the package documentation.
const (
	segHeaderSize = 8
	recHeaderSize = 20
	recMagic      = 0x4C525131
	segVersion    = 1
	segSuffix     = ".seg"
	segNameLen    = 20 + len(segSuffix)

	// readChunk is how much a scan reads at a time.
	readChunk = 64 << 10
	// copyLimit: records up to this size are written with a single Write of
	// header and payload copied into one reused buffer; larger ones with two
	// Writes (both under the log's lock), so the buffer stays small.
	copyLimit = 1 << 20
)

// maxPayload is the largest payload a record may carry (256 MiB). A variable
// only so that tests can lower it.
var maxPayload int64 = 256 << 20

var (
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
	segMagic   = [6]byte{'L', 'R', 'W', 'A', 'L', 0}
	recMagicLE = [4]byte{0x31, 0x51, 0x52, 0x4C}
)

// errUnknownVersion is returned by Open for a segment whose header has the
// right magic but a version this code does not know: a newer release wrote it,
// and treating it as damage would destroy it.
var errUnknownVersion = errors.New("wal: segment written by an unknown format version")

func segName(id uint64) string { return fmt.Sprintf("%020d%s", id, segSuffix) }

// parseSegName returns the id of a segment file name, or false.
func parseSegName(name string) (uint64, bool) {
	if len(name) != segNameLen || name[20:] != segSuffix {
		return 0, false
	}
	for i := 0; i < 20; i++ {
		if name[i] < '0' || name[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseUint(name[:20], 10, 64)
	if err != nil || id == 0 {
		return 0, false
	}
	return id, true
}

func segHeader() [segHeaderSize]byte {
	var h [segHeaderSize]byte
	copy(h[:], segMagic[:])
	binary.LittleEndian.PutUint16(h[6:], segVersion)
	return h
}

// putRecHeader encodes a record header into h.
func putRecHeader(h []byte, length int, count, payloadCRC uint32) {
	_ = h[recHeaderSize-1]
	binary.LittleEndian.PutUint32(h[0:], recMagic)
	binary.LittleEndian.PutUint32(h[4:], uint32(length))
	binary.LittleEndian.PutUint32(h[8:], count)
	binary.LittleEndian.PutUint32(h[12:], payloadCRC)
	binary.LittleEndian.PutUint32(h[16:], crc32.Checksum(h[:16], castagnoli))
}

// recHeader is a decoded record header.
type recHeader struct {
	length     int64
	count      uint32
	payloadCRC uint32
}

// parseRecHeader decodes h and reports whether it is a valid header: right
// magic, right header CRC and a length within maxPayload.
func parseRecHeader(h []byte) (recHeader, bool) {
	_ = h[recHeaderSize-1]
	if binary.LittleEndian.Uint32(h[0:]) != recMagic {
		return recHeader{}, false
	}
	if binary.LittleEndian.Uint32(h[16:]) != crc32.Checksum(h[:16], castagnoli) {
		return recHeader{}, false
	}
	rh := recHeader{
		length:     int64(binary.LittleEndian.Uint32(h[4:])),
		count:      binary.LittleEndian.Uint32(h[8:]),
		payloadCRC: binary.LittleEndian.Uint32(h[12:]),
	}
	if rh.length > maxPayload {
		return recHeader{}, false
	}
	return rh, true
}

// window is a read buffer over one segment file. Slices it returns are valid
// until the next call.
//
// The buffer is reused across reads (a forwarder reads records of up to a few
// MiB, and allocating a buffer per record was most of the process's
// allocation rate, hence its GC cycles): it grows to the largest read and
// shrinks back to readChunk only after shrinkAfter reads in a row needed at
// most a quarter of it, so a reader that once met a huge record does not
// keep it forever, and one that alternates large records and small reads does
// not reallocate on every record.
type window struct {
	r     io.ReaderAt
	buf   []byte
	off   int64 // file offset of buf[0]
	small int   // consecutive reads that needed at most a quarter of cap(buf)
}

// shrinkAfter is how many small reads in a row release a large window buffer.
const shrinkAfter = 256

func (w *window) reset(r io.ReaderAt) {
	w.r = r
	w.buf = w.buf[:0]
	w.off = 0
}

// get returns the n bytes at off. The caller guarantees off+n <= limit, where
// limit is the end of the readable data; get reads ahead up to limit. Bytes
// at off that an earlier read already brought in are kept, not read again
// (a record header read with its read-ahead, then the payload behind it).
func (w *window) get(off int64, n int, limit int64) ([]byte, error) {
	end := w.off + int64(len(w.buf))
	if off >= w.off && off+int64(n) <= end {
		s := off - w.off
		return w.buf[s : s+int64(n)], nil
	}
	want := max(int64(n), min(int64(readChunk), limit-off))
	keep := 0
	if off >= w.off && off < end {
		keep = int(end - off)
	}
	c := int64(cap(w.buf))
	switch {
	case c < want:
		nb := make([]byte, want)
		copy(nb, w.buf[len(w.buf)-keep:])
		w.buf, w.small = nb, 0
	case c > 4*readChunk && want*4 <= c && w.small >= shrinkAfter:
		nb := make([]byte, max(want, readChunk))
		copy(nb, w.buf[len(w.buf)-keep:])
		w.buf, w.small = nb[:want], 0
	default:
		if c > 4*readChunk && want*4 <= c {
			w.small++
		} else {
			w.small = 0
		}
		copy(w.buf[:keep], w.buf[len(w.buf)-keep:])
		w.buf = w.buf[:want]
	}
	m, err := w.r.ReadAt(w.buf[keep:], off+int64(keep))
	m += keep
	if m < n {
		w.buf = w.buf[:0]
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	w.buf = w.buf[:m]
	w.off = off
	return w.buf[:n], nil
}

// itemKind classifies what a scan found at an offset.
type itemKind uint8

const (
	kRecord    itemKind = iota // a valid record
	kBadCRC                    // valid header, complete payload, payload CRC mismatch
	kShort                     // valid header, payload runs past the end of the data
	kGarbage                   // no valid record header: skipped to the next one (or the end)
	kBadSegHdr                 // segment file header missing, short or garbled
)

// item is one thing a scan found: a record or a damaged region [off, end).
type item struct {
	kind     itemKind
	off, end int64
	count    uint32 // kRecord, kBadCRC, kShort
	payload  []byte // kRecord only; aliases the window
	reason   string // damaged regions only
}

// complete reports whether the item is a whole record (good or bad CRC):
// something that was completely written.
func (it item) complete() bool { return it.kind == kRecord || it.kind == kBadCRC }

// scanSegHeader checks the segment file header of a segment whose readable
// data ends at limit. ok means a valid header (records start at
// segHeaderSize); otherwise it is the damaged region to skip. The only errors
// are I/O errors and errUnknownVersion.
func (w *window) scanSegHeader(limit int64) (it item, ok bool, err error) {
	if limit < segHeaderSize {
		return item{kind: kBadSegHdr, off: 0, end: limit,
			reason: fmt.Sprintf("segment file header cut short (%d of %d bytes)", limit, segHeaderSize)}, false, nil
	}
	h, err := w.get(0, segHeaderSize, limit)
	if err != nil {
		return item{}, false, err
	}
	if !bytes.Equal(h[:6], segMagic[:]) {
		return item{kind: kBadSegHdr, off: 0, end: segHeaderSize, reason: "garbled segment file header"}, false, nil
	}
	if v := binary.LittleEndian.Uint16(h[6:]); v != segVersion {
		return item{}, false, fmt.Errorf("%w %d (this code reads version %d)", errUnknownVersion, v, segVersion)
	}
	return item{}, true, nil
}

// scanAt reads the item at off in a segment whose readable data ends at limit.
// Precondition: segHeaderSize <= off < limit. The only errors are I/O errors;
// damage is reported as an item.
func (w *window) scanAt(off, limit int64) (item, error) {
	if limit-off < recHeaderSize {
		return item{kind: kGarbage, off: off, end: limit,
			reason: fmt.Sprintf("%d bytes at the end, too short for a record header", limit-off)}, nil
	}
	h, err := w.get(off, recHeaderSize, limit)
	if err != nil {
		return item{}, err
	}
	rh, ok := parseRecHeader(h)
	if !ok {
		next, err := w.resync(off+1, limit)
		if err != nil {
			return item{}, err
		}
		reason := "invalid record header; skipped to the next valid header"
		if next == limit {
			reason = "invalid record header; no valid header follows"
		}
		return item{kind: kGarbage, off: off, end: next, reason: reason}, nil
	}
	end := off + recHeaderSize + rh.length
	if end > limit {
		return item{kind: kShort, off: off, end: limit, count: rh.count,
			reason: fmt.Sprintf("record of %d payload bytes cut short at %d (%d events lost)", rh.length, limit, rh.count)}, nil
	}
	p, err := w.get(off+recHeaderSize, int(rh.length), limit)
	if err != nil {
		return item{}, err
	}
	if crc32.Checksum(p, castagnoli) != rh.payloadCRC {
		return item{kind: kBadCRC, off: off, end: end, count: rh.count,
			reason: fmt.Sprintf("payload checksum mismatch in record of %d bytes (%d events lost)", rh.length, rh.count)}, nil
	}
	return item{kind: kRecord, off: off, end: end, count: rh.count, payload: p}, nil
}

// resync returns the first offset in [from, limit) that holds a valid record
// header, or limit.
func (w *window) resync(from, limit int64) (int64, error) {
	pos := from
	for pos+recHeaderSize <= limit {
		chunkEnd := min(pos+readChunk, limit)
		b, err := w.get(pos, int(chunkEnd-pos), limit)
		if err != nil {
			return 0, err
		}
		i := bytes.Index(b, recMagicLE[:])
		if i < 0 {
			// The magic may straddle the chunk boundary.
			pos = max(pos+1, chunkEnd-int64(len(recMagicLE))+1)
			continue
		}
		cand := pos + int64(i)
		if cand+recHeaderSize > limit {
			break
		}
		h, err := w.get(cand, recHeaderSize, limit)
		if err != nil {
			return 0, err
		}
		if _, ok := parseRecHeader(h); ok {
			return cand, nil
		}
		pos = cand + 1
	}
	return limit, nil
}

// The durable mark: a small file beside the segments (markName) that says how
// far the log was known fsynced. See the package documentation, "Durable
// mark".
const (
	markName  = "synced.mark"
	markSize  = 24
	markMagic = 0x4B4D5752 // the bytes "RWMK"
)

// putMark encodes a durable mark: segment id seg is known fsynced up to byte
// off.
func putMark(b *[markSize]byte, seg uint64, off int64) {
	binary.LittleEndian.PutUint32(b[0:], markMagic)
	binary.LittleEndian.PutUint64(b[4:], seg)
	binary.LittleEndian.PutUint64(b[12:], uint64(off))
	binary.LittleEndian.PutUint32(b[20:], crc32.Checksum(b[:20], castagnoli))
}

// parseMark decodes a durable mark, reporting false for anything that is not
// a whole, intact one (a file cut short or garbled by a crash reads as no
// mark).
func parseMark(b []byte) (seg uint64, off int64, ok bool) {
	if len(b) < markSize || binary.LittleEndian.Uint32(b[0:]) != markMagic ||
		binary.LittleEndian.Uint32(b[20:]) != crc32.Checksum(b[:20], castagnoli) {
		return 0, 0, false
	}
	seg, o := binary.LittleEndian.Uint64(b[4:]), binary.LittleEndian.Uint64(b[12:])
	if seg == 0 || o < segHeaderSize || o > 1<<62 {
		return 0, 0, false
	}
	return seg, int64(o), true
}
