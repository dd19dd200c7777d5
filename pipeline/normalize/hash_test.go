package normalize

import (
	"fmt"
	"strings"
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

const pinnedEvent = `{"a":1,"b":{"c":"x","d":[1,2,{"e":null,"f":"g"}]},"ts":1700000000,"long":"` +
	`aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`

// TestHashPinned holds the event hash stable: it is every archived event's
// OpenSearch _id and the deduplication key, so a change here means a
// migration note (events sent before and after an upgrade would no longer
// match). Update the values only on purpose.
func TestHashPinned(t *testing.T) {
	for _, tt := range []struct {
		key  string
		want uint64
	}{
		{"", 0xc3813643375a39ce},
		{"000102030405060708090a0b0c0d0e0f", 0xa61e87359c5067f8},
	} {
		cfg := testConfig()
		cfg.HashKey = tt.key
		_, ev := normalizeOne(t, mustCompile(t, cfg).New(), pinnedEvent, nil)
		if ev.Hash != tt.want {
			t.Errorf("key %q: event hash %#x, want %#x", tt.key, ev.Hash, tt.want)
		}
	}
}

// TestKeyedHash checks that normalize.hash_key changes every hash, keeps
// what the hash ignores ignored, and that two keys disagree.
func TestKeyedHash(t *testing.T) {
	hashes := func(key string) (a, reordered, other uint64) {
		cfg := testConfig()
		cfg.HashKey = key
		n := mustCompile(t, cfg).New()
		_, e1 := normalizeOne(t, n, `{"a":1,"b":{"c":"x","d":[1,2]},"ts":1700000000}`, nil)
		_, e2 := normalizeOne(t, n, `{ "b":{"d":[1,2],"c":"x"}, "ts":1700000000, "a":1 }`, nil)
		_, e3 := normalizeOne(t, n, `{"a":2,"b":{"c":"x","d":[1,2]},"ts":1700000000}`, nil)
		return e1.Hash, e2.Hash, e3.Hash
	}
	u, _, _ := hashes("")
	k1, k1r, k1o := hashes("00112233445566778899aabbccddeeff")
	k2, _, _ := hashes("ffeeddccbbaa99887766554433221100")
	if k1 != k1r {
		t.Errorf("keyed: reordered event hashes differently (%#x vs %#x)", k1, k1r)
	}
	if k1 == k1o {
		t.Errorf("keyed: a changed value did not change the hash")
	}
	if u == k1 || k1 == k2 {
		t.Errorf("unkeyed %#x, key 1 %#x, key 2 %#x: a key must change the hash", u, k1, k2)
	}
	for _, bad := range []string{"xyz", "0011", strings.Repeat("0", 33), strings.Repeat("g", 32)} {
		cfg := testConfig()
		cfg.HashKey = bad
		if _, err := Compile(cfg); err == nil || !strings.Contains(err.Error(), "normalize.hash_key") {
			t.Errorf("hash_key %q: got %v, want an error naming normalize.hash_key", bad, err)
		}
	}
}

func BenchmarkLeafHash(b *testing.B) {
	for _, keyed := range []bool{false, true} {
		cfg := testConfig()
		if keyed {
			cfg.HashKey = "00112233445566778899aabbccddeeff"
		}
		c, err := Compile(cfg)
		if err != nil {
			b.Fatal(err)
		}
		n := c.New()
		for _, size := range []int{12, 30, 60} {
			p := make([]byte, size)
			b.Run(fmt.Sprintf("keyed=%v/%d", keyed, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				var s uint64
				for i := 0; i < b.N; i++ {
					s += n.leafHash(uint64(i), p)
				}
				_ = s
			})
		}
	}
}

// TestHashEmptyComposites: an empty object or array inside an array (or
// kept by keep_empty) used to add nothing to the sum, so events that
// differ by it hashed alike (dedup would drop one, OpenSearch _ids
// collide).
func TestHashEmptyComposites(t *testing.T) {
	hash := func(cfg Config, in string) (string, uint64) {
		t.Helper()
		n := mustCompile(t, cfg).New()
		var p fastjson.Parser
		v, err := p.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		out, ev, err := n.Append(nil, v, nil, &pipeline.Meta{Input: "t", IngestTime: 1e18}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return string(out), ev.Hash
	}
	keep := DefaultConfig()
	keep.KeepEmpty = true
	for _, c := range []struct {
		cfg  Config
		a, b string
	}{
		{DefaultConfig(), `{"ts":1700000000,"x":1,"a":[{}]}`, `{"ts":1700000000,"x":1}`},
		{DefaultConfig(), `{"ts":1700000000,"x":1,"a":[[],{}]}`, `{"ts":1700000000,"x":1,"a":[{}]}`},
		{DefaultConfig(), `{"ts":1700000000,"x":1,"a":[[]]}`, `{"ts":1700000000,"x":1,"a":[{}]}`},
		{DefaultConfig(), `{"ts":1700000000,"x":1,"a":[{"b":""}]}`, `{"ts":1700000000,"x":1}`},
		{keep, `{"ts":1700000000,"x":1,"user":{}}`, `{"ts":1700000000,"x":1}`},
		{keep, `{"ts":1700000000,"x":1,"user":[]}`, `{"ts":1700000000,"x":1,"user":{}}`},
	} {
		oa, ha := hash(c.cfg, c.a)
		ob, hb := hash(c.cfg, c.b)
		if oa != ob && ha == hb {
			t.Errorf("different events hash alike %#x:\n %s\n %s", ha, oa, ob)
		}
	}
}

// TestHashKeySpread: hashKey tells apart keys that differ in one byte at
// any position and in length (its tail reads overlap), and spreads them
// over the low bits the tables index by.
func TestHashKeySpread(t *testing.T) {
	seen := map[uint64]string{}
	low := map[uint64]int{}
	add := func(k string) {
		h := hashKey([]byte(k))
		if prev, ok := seen[h]; ok && prev != k {
			t.Fatalf("hashKey(%q) == hashKey(%q)", k, prev)
		}
		seen[h] = k
		low[h&255]++
	}
	base := "aws.cloudtrail.userIdentity.sessionContext.arn"
	for n := 0; n <= len(base); n++ {
		add(base[:n])
		for i := 0; i < n; i++ {
			b := []byte(base[:n])
			b[i] ^= 1
			add(string(b))
		}
	}
	for _, k := range []string{"\x00", "\x00\x00", "a\x00", "\x00a", "abc\x00", "\x00abc"} {
		add(k)
	}
	// ~1150 keys over 256 buckets: ~4.5 each; a bad spread piles them up.
	for b, c := range low {
		if c > 20 {
			t.Errorf("low byte %#x holds %d of %d keys", b, c, len(seen))
		}
	}
}

func BenchmarkHashKey(b *testing.B) {
	for _, k := range []string{"host", "event.dataset", "aws.cloudtrail.userIdentity.sessionContext.arn"} {
		b.Run(fmt.Sprint(len(k)), func(b *testing.B) {
			key := []byte(k)
			b.SetBytes(int64(len(key)))
			b.ReportAllocs()
			var sink uint64
			for b.Loop() {
				sink += hashKey(key)
			}
			_ = sink
		})
	}
}
