package httpin

import (
	"testing"

	"github.com/logrouter/logrouter/bench/loadgen"
)

// BenchmarkNextObject splits HEC bodies of the realistic mix into events
// (the scan every HEC request gets before parsing). A SWAR string skip
// measured no faster on this mix (short keys and values dominate), 2026-11-29.
func BenchmarkNextObject(b *testing.B) {
	m := loadgen.New(loadgen.Options{Seed: 1})
	var body []byte
	var ev []byte
	for i := 0; i < 1000; i++ {
		var k loadgen.Kind
		ev, k = m.Next(ev[:0])
		body = m.HECEnvelope(body, ev, k)
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for rest := body; len(rest) > 0; {
			n, err := nextObject(rest)
			if err != nil {
				b.Fatal(err)
			}
			rest = skipWS(rest[n:])
		}
	}
}
