package parse

import (
	"testing"
)

// BenchmarkParse measures AppendJSON per format on one core; MB/s is input
// bytes.
func BenchmarkParse(b *testing.B) {
	for _, s := range allocSamples {
		msg := []byte(s.msg)
		b.Run(s.name, func(b *testing.B) {
			p := newTestParser()
			dst := make([]byte, 0, 8192)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				dst, _ = p.AppendJSON(dst[:0], msg)
			}
		})
	}
}

// BenchmarkCorpus measures the whole test corpus, a mix of every format.
func BenchmarkCorpus(b *testing.B) {
	lines := allCorpus(b)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	p := newTestParser()
	dst := make([]byte, 0, 16384)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, l := range lines {
			dst, _ = p.AppendJSON(dst[:0], l)
		}
	}
}
