package harness

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"
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
			d.eventBytes(&o.p, line, 0, false)
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
		if err := or.read(d, strings.TrimSuffix(path, ".partial"), f, partial); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	})
	return files, err
}
