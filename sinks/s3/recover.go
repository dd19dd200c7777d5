package s3

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/logrouter/logrouter/internal/wal"
)

// partialSuffix marks an object that is still being written.
const partialSuffix = ".partial"

// maxBlockSize is the largest zstd block (format limit).
const maxBlockSize = 128 << 10

// recoverPartials finalizes every *.partial file under dir, left by a process
// that did not Close (a crash, a kill). See finalizePartial.
func recoverPartials(dir string, fsync bool, report func(error)) error {
	var errs []error
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasSuffix(d.Name(), partialSuffix) {
			return nil
		}
		dropped, final, err := finalizePartial(path, fsync)
		if err != nil {
			errs = append(errs, fmt.Errorf("recover %s: %w (move the file away to start without it)", path, err))
		} else if dropped > 0 {
			report(fmt.Errorf("recovered %s as %s: dropped a torn trailing frame of %d bytes", path, final, dropped))
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// finalizePartial cuts a torn trailing frame off the partial file at path (if
// the compression is recognised from the name), fsyncs it and renames it to
// its final key; an empty result is removed instead. It never overwrites an
// existing object: a name clash gets a "-recovered-N" suffix before the
// extension. It returns the bytes dropped and the final path.
func finalizePartial(path string, fsync bool) (dropped int64, final string, err error) {
	final = strings.TrimSuffix(path, partialSuffix)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, "", err
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return 0, "", err
	}
	size := st.Size()
	good := size
	switch {
	case strings.HasSuffix(final, ".zst"):
		good, err = validZstdPrefix(f, size)
	case strings.HasSuffix(final, ".gz"):
		good, err = validGzipPrefix(io.NewSectionReader(f, 0, size))
	}
	if err == nil && good < size {
		err = f.Truncate(good)
	}
	if err == nil && good > 0 {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, "", err
	}
	if good == 0 {
		return size, "", os.Remove(path)
	}
	final, err = noClobber(final)
	if err != nil {
		return 0, "", err
	}
	if err := os.Rename(path, final); err != nil {
		return 0, "", err
	}
	if fsync {
		if err := syncDir(filepath.Dir(final)); err != nil {
			return 0, "", err
		}
	}
	return size - good, final, nil
}

// noClobber returns path, or when it exists path with "-recovered-N" inserted
// before its extension.
func noClobber(path string) (string, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	stem, ext := path, filepath.Ext(path)
	for _, e := range []string{".ndjson.zst", ".ndjson.gz"} {
		if strings.HasSuffix(path, e) {
			ext = e
		}
	}
	stem = strings.TrimSuffix(path, ext)
	for i := 1; i < 1000; i++ {
		p := stem + "-recovered-" + strconv.Itoa(i) + ext
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s and 999 recovered copies exist", path)
}

// validZstdPrefix returns the length of the longest prefix of r[0:size] made
// of whole zstd frames (regular or skippable) that decode. It walks frame
// and block headers to find each frame's end (a frame cut short by a crash,
// or a tail of zeros or garbage where a header fails to parse), then
// decodes the frame and checks its content checksum: a filesystem that
// extended the file but lost a page inside the last frame leaves headers
// that still add up, and an object holding that frame would fail every
// reader (zstd -d, Athena) on the whole object, acknowledged frames
// included. Recovery is rare; a whole decode is its price.
func validZstdPrefix(r io.ReaderAt, size int64) (int64, error) {
	var hdr [zstd.HeaderMaxSize]byte
	var off int64
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(1<<30))
	if err != nil {
		return 0, err
	}
	defer dec.Close()
	var frame, out []byte
	for off < size {
		n := int(min(int64(len(hdr)), size-off))
		if _, err := r.ReadAt(hdr[:n], off); err != nil {
			return 0, err
		}
		var h zstd.Header
		if err := h.Decode(hdr[:n]); err != nil {
			return off, nil
		}
		if h.Skippable {
			next := off + int64(h.HeaderSize) + int64(h.SkippableSize)
			if next > size {
				return off, nil
			}
			off = next
			continue
		}
		p := off + int64(h.HeaderSize)
		for {
			var bh [3]byte
			if p+3 > size {
				return off, nil
			}
			if _, err := r.ReadAt(bh[:], p); err != nil {
				return 0, err
			}
			v := uint32(bh[0]) | uint32(bh[1])<<8 | uint32(bh[2])<<16
			bsize := int64(v >> 3)
			if bsize > maxBlockSize {
				return off, nil
			}
			switch (v >> 1) & 3 {
			case 1: // RLE: one byte repeated bsize times
				bsize = 1
			case 3: // reserved
				return off, nil
			}
			p += 3 + bsize
			if p > size {
				return off, nil
			}
			if v&1 != 0 {
				break
			}
		}
		if h.HasCheckSum {
			p += 4
			if p > size {
				return off, nil
			}
		}
		frame = slices.Grow(frame[:0], int(p-off))[:p-off]
		if _, err := r.ReadAt(frame, off); err != nil {
			return 0, err
		}
		if out, err = dec.DecodeAll(frame, out[:0]); err != nil {
			return off, nil
		}
		off = p
	}
	return off, nil
}

// countingReader counts the bytes its consumer took. It implements
// io.ByteReader, so the gzip/flate reader reads exactly up to the end of each
// member and the count marks member boundaries.
type countingReader struct {
	r   *bufio.Reader
	n   int64
	err error // first error other than io.EOF from the underlying reader
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.note(err)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	c.note(err)
	return b, err
}

func (c *countingReader) note(err error) {
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
}

// validGzipPrefix returns the length of the longest prefix of r made of whole,
// valid gzip members. Unlike zstd, gzip members carry no length, so this
// decompresses everything (once, at recovery only); it also verifies every
// member's CRC-32.
func validGzipPrefix(r io.Reader) (int64, error) {
	cr := &countingReader{r: bufio.NewReaderSize(r, 256<<10)}
	zr, err := gzip.NewReader(cr)
	if err != nil {
		return 0, cr.err
	}
	var good int64
	for {
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return good, cr.err
		}
		good = cr.n
		if err := zr.Reset(cr); err != nil {
			return good, cr.err
		}
	}
}

// syncDir fsyncs dir, making the entries renamed or created in it durable.
func syncDir(dir string) error { return wal.OS.SyncDir(dir) }
