package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"

	archive "github.com/logrouter/logrouter/sinks/s3"
)

// objectReader reads archived NDJSON objects back into a Dest, keeping one
// JSON parser and one zstd decoder across objects. Close it when done.
type objectReader struct {
	p  fastjson.Parser
	zr *zstd.Decoder
}

func (o *objectReader) Close() {
	if o.zr != nil {
		o.zr.Close()
	}
}

// read records each line of one archived object in d: plain, or compressed
// as name's suffix (.zst, .gz) says. A torn tail of a partial object (one
// still being written) ends it without an error: what was read counts.
func (o *objectReader) read(d *Dest, name string, src io.Reader, partial bool) error {
	var r io.Reader = src
	switch {
	case strings.HasSuffix(name, ".zst"):
		if o.zr == nil {
			z, err := zstd.NewReader(src, zstd.WithDecoderConcurrency(1))
			if err != nil {
				return err
			}
			o.zr = z
		} else if err := o.zr.Reset(src); err != nil {
			return err
		}
		r = o.zr
	case strings.HasSuffix(name, ".gz"):
		gz, err := gzip.NewReader(src)
		if err != nil {
			return err
		}
		defer gz.Close()
		r = gz
	}
	br := bufio.NewReaderSize(r, 1<<20)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			long = append(long[:0], line...)
			for err == bufio.ErrBufferFull {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if len(line) > 0 && line[len(line)-1] == '\n' {
			line = line[:len(line)-1]
		}
		if len(line) > 0 {
			d.eventBytes(&o.p, line, 0)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if partial {
				return nil
			}
			return err
		}
	}
}

// verifyDir reads back every NDJSON file under root (plain, .zst or .gz,
// finished or .partial) and records each line's event in d. It returns the
// number of files read.
func verifyDir(d *Dest, root string) (int, error) {
	var or objectReader
	defer or.Close()
	files := 0
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) && path == root {
				return nil
			}
			return err
		}
		if !e.Type().IsRegular() {
			return nil
		}
		files++
		d.requests.Add(1)
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if fi, err := f.Stat(); err == nil {
			d.stored.Add(uint64(fi.Size()))
		}
		partial := strings.HasSuffix(path, ".partial")
		if partial && isArchiveObject(path) {
			// What the archive holds of it is what its recovery keeps
			// (whole, checksummed frames or members), not every line a
			// streaming decoder hands out before a torn frame ends.
			rec, cleanup, err := recoverPartial(path)
			if err != nil {
				return fmt.Errorf("%s: recover as the archive would: %w", path, err)
			}
			defer cleanup()
			f.Close()
			if f, err = os.Open(rec); err != nil {
				return err
			}
			defer f.Close()
			path, partial = rec, false
		}
		if err := or.read(d, strings.TrimSuffix(path, ".partial"), f, partial); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	})
	return files, err
}

func isArchiveObject(path string) bool {
	p := strings.TrimSuffix(path, ".partial")
	return strings.HasSuffix(p, ".ndjson.zst") || strings.HasSuffix(p, ".ndjson.gz")
}

// recoverPartial copies a *.partial archive object into a directory of its
// own and finalizes it there as the archive does when it opens (sinks/s3
// recovery); it returns the recovered file.
func recoverPartial(path string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "lrbench-recover-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	data, err := os.ReadFile(path)
	if err != nil {
		cleanup()
		return "", nil, err
	}
	base := filepath.Base(path)
	if err := os.WriteFile(filepath.Join(dir, base), data, 0o644); err != nil {
		cleanup()
		return "", nil, err
	}
	comp := "zstd"
	if strings.HasSuffix(strings.TrimSuffix(base, ".partial"), ".gz") {
		comp = "gzip"
	}
	a, err := archive.New("lrbench-recover", archive.Config{Dir: dir, Compression: comp})
	if err != nil {
		cleanup()
		return "", nil, err
	}
	if err := a.Close(context.Background()); err != nil {
		cleanup()
		return "", nil, err
	}
	var out string
	_ = filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err == nil && e.Type().IsRegular() && isArchiveObject(p) && !strings.HasSuffix(p, ".partial") {
			out = p
		}
		return nil
	})
	if out == "" {
		// Nothing whole in it: an empty object.
		out = filepath.Join(dir, "empty")
		if err := os.WriteFile(out, nil, 0o644); err != nil {
			cleanup()
			return "", nil, err
		}
	}
	return out, cleanup, nil
}
