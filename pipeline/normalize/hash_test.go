package normalize

import (
	"fmt"
	"testing"
)

// TestHashPinned holds the event hash stable: it is every archived event's
// OpenSearch _id and the deduplication key, so a change here means a
// migration note (events sent before and after an upgrade would no longer
// match). Update the values only on purpose.
func TestHashPinned(t *testing.T) {
	n := mustCompile(t, testConfig()).New()
	_, ev := normalizeOne(t, n, `{"a":1,"b":{"c":"x","d":[1,2,{"e":null,"f":"g"}]},"ts":1700000000,"long":"`+
		`aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`, nil)
	const want = 0xc3813643375a39ce
	if ev.Hash != want {
		t.Errorf("event hash %#x, want %#x", ev.Hash, uint64(want))
	}
}

func BenchmarkLeafHash(b *testing.B) {
	for _, n := range []int{12, 30, 60} {
		p := make([]byte, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.SetBytes(int64(n))
			b.ReportAllocs()
			var s uint64
			for i := 0; i < b.N; i++ {
				s += leafHash(uint64(i), p)
			}
			_ = s
		})
	}
}
