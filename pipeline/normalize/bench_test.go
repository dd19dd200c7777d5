package normalize

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/pipeline"
)

// BenchmarkNormalize measures parse + normalize (no rules) per kind of the
// realistic mix and for the mix as a whole; MB/s is input bytes on one core.
func BenchmarkNormalize(b *testing.B) {
	cfg := testConfig()
	c, err := Compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	bench := func(b *testing.B, events [][]byte) {
		n := c.New()
		var p fastjson.Parser
		size := 0
		for _, e := range events {
			size += len(e)
		}
		m := &pipeline.Meta{Input: "http", Protocol: "hec", Peer: "10.0.0.1", IngestTime: ingest}
		dst := make([]byte, 0, 2*size)
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			dst = dst[:0]
			for _, e := range events {
				v, err := p.ParseBytes(e)
				if err != nil {
					b.Fatal(err)
				}
				if dst, _, err = n.Append(dst, v, nil, m, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	mix := loadgen.New(loadgen.Options{Seed: 1})
	perKind := map[loadgen.Kind][][]byte{}
	var all [][]byte
	for len(all) < 1000 {
		e, k := mix.Next(nil)
		all = append(all, e)
		if len(perKind[k]) < 200 {
			perKind[k] = append(perKind[k], e)
		}
	}
	b.Run("mix", func(b *testing.B) { bench(b, all) })
	for _, k := range loadgen.Kinds {
		if evs := perKind[k]; len(evs) > 0 {
			b.Run(k.String(), func(b *testing.B) { bench(b, evs) })
		}
	}
}
