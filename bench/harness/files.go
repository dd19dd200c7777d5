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

// verifyDir reads back every NDJSON file under root (plain, .zst or .gz,
// finished or .partial) and records each line's event in d. It returns the
// number of files read.
func verifyDir(d *Dest, root string) (int, error) {
	var p fastjson.Parser
	var zr *zstd.Decoder
	defer func() {
		if zr != nil {
			zr.Close()
		}
	}()
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
		name := strings.TrimSuffix(path, ".partial")
		var r io.Reader = f
		switch {
		case strings.HasSuffix(name, ".zst"):
			if zr == nil {
				if zr, err = zstd.NewReader(f, zstd.WithDecoderConcurrency(1)); err != nil {
					return err
				}
			} else if err := zr.Reset(f); err != nil {
				return err
			}
			r = zr
		case strings.HasSuffix(name, ".gz"):
			gz, err := gzip.NewReader(f)
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
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
				d.eventBytes(&p, line, 0, false)
			}
			if err == io.EOF {
				return nil
			}
			if err != nil {
				// A torn .partial tail: what was read counts.
				if strings.HasSuffix(path, ".partial") {
					return nil
				}
				return fmt.Errorf("%s: %w", path, err)
			}
		}
	})
	return files, err
}
