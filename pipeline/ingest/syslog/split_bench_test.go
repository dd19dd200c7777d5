package syslog

import (
	"fmt"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// BenchmarkParseNormalize measures a syslog message with a JSON payload (the
// load generator's mix behind an RFC 5424 header, as lrbench's scenario c
// sends it) from frame to normalized event on one core, both ways:
// path=split parses the payload once (route.SyslogParser, what the input does);
// path=appendjson validates and copies it into AppendJSON's object and
// parses that (the way before). MB/s is frame bytes.
func BenchmarkParseNormalize(b *testing.B) {
	mix := loadgen.New(loadgen.Options{Seed: 1})
	var frames [][]byte
	size := 0
	for i := 0; i < 1000; i++ {
		e, _ := mix.Next(nil)
		f := fmt.Appendf(nil, "<134>1 2026-11-28T10:00:%02d.123Z web-%d app %d - - %s", i%60, i%7, 1000+i, e)
		frames = append(frames, f)
		size += len(f)
	}
	c := newSplitCheck(b, false)
	run := func(b *testing.B, one func(f []byte, em *normalize.EventMeta) (*fastjson.Value, error)) {
		dst := make([]byte, 0, 1<<16)
		b.SetBytes(int64(size))
		b.ReportAllocs()
		em := new(normalize.EventMeta)
		for b.Loop() {
			for _, f := range frames {
				*em = normalize.EventMeta{DefaultSourceType: syslogST, KeepOwnLogrouter: true}
				v, err := one(f, em)
				if err != nil {
					b.Fatal(err)
				}
				if dst, _, err = c.norm.Append(dst[:0], v, nil, &c.meta, em); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("path=split", func(b *testing.B) {
		run(b, func(f []byte, em *normalize.EventMeta) (*fastjson.Value, error) {
			v, res, err := c.mp.Parse(f, em)
			if res.Format != parse.FormatJSON {
				b.Fatalf("not a JSON payload: %s", f)
			}
			return v, err
		})
	})
	b.Run("path=appendjson", func(b *testing.B) {
		var buf []byte
		run(b, func(f []byte, em *normalize.EventMeta) (*fastjson.Value, error) {
			buf, _ = c.ref.AppendJSON(buf[:0], f)
			return c.jp.ParseBytes(buf)
		})
	})
}
