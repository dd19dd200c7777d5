package wal

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkAppend measures Append on the real file system (in b.TempDir())
// with 1, 8 and 64 concurrent writers, both sync policies and 4 KiB and
// 64 KiB payloads. Besides MB/s and allocations it reports records/s and
// fsyncs/op (fsyncs per Append: group commit at work under SyncAlways; the
// segment rolls' fsyncs are included).
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			for _, pol := range []SyncPolicy{SyncAlways, SyncInterval} {
				b.Run("sync="+policyName(pol), func(b *testing.B) {
					for _, size := range []int{4 << 10, 64 << 10} {
						b.Run(fmt.Sprintf("payload=%dKiB", size>>10), func(b *testing.B) {
							benchAppend(b, writers, pol, size)
						})
					}
				})
			}
		})
	}
}

func benchAppend(b *testing.B, writers int, pol SyncPolicy, size int) {
	c := &syncCounter{}
	fs := ErrorFS{FS: OS, Inject: c.inject}
	l, _ := mustOpen(b, fs, b.TempDir(), Options{Sync: pol})
	defer l.Close()
	p := mkPayload(1, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	c.n.Store(0)
	var claimed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for claimed.Add(1) <= int64(b.N) {
				if _, _, err := l.Append(p, 1); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(c.n.Load())/float64(b.N), "fsyncs/op")
}
