package s3

import (
	"context"
	"io/fs"
	"path/filepath"
	"testing"
	"time"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/pipeline"
)

// loadgenBatches returns n batches of per realistic events each, as a
// destination's queue delivers them: loadgen's default mix (13 source types)
// split by priority (the queue keeps one log per priority), event times
// advancing about 1ms per event from loadgen.DefaultStart.
func loadgenBatches(n, per int) []*pipeline.Batch {
	m := loadgen.New(loadgen.Options{Seed: 1})
	ts := loadgen.DefaultStart
	var open [pipeline.NumPriorities]*pipeline.Batch
	var out []*pipeline.Batch
	for len(out) < n {
		ev, kind := m.Next(nil)
		p, _ := pipeline.ParsePriority(kind.Priority())
		ts = ts.Add(time.Millisecond)
		b := open[p]
		if b == nil {
			b = pipeline.NewBatch()
			b.Meta = pipeline.Meta{Input: "http", Protocol: "hec", IngestTime: ts.UnixNano()}
			open[p] = b
		}
		b.Commit(append(b.Arena(), ev...), pipeline.Event{Priority: p, SourceType: kind.SourceType(), Time: ts.UnixNano(), Rule: -1})
		if b.Len() == per {
			out = append(out, b)
			open[p] = nil
		}
	}
	return out
}

// BenchmarkArchive measures staging, what S3Archive.Write does: group by
// partition, compress, append and fsync, one goroutine, batches of 2000
// events (the queue's default batch_events). MB/s is input (event bytes) per
// second of wall time, waits for fsync included; MB/cpu-s is input per
// second of CPU time (user and system, all goroutines), the per-core figure;
// ratio is the NDJSON bytes (events plus newlines) over the compressed bytes
// staged.
func BenchmarkArchive(b *testing.B) {
	batches := loadgenBatches(8, 2000) // the queue's default batch_events
	var avg int64
	for _, batch := range batches {
		avg += int64(batch.Bytes())
	}
	avg /= int64(len(batches))
	for _, c := range []struct {
		name string
		cfg  S3Config
	}{
		{"zstd-fastest", S3Config{Compression: CompressionZstd, ZstdLevel: ZstdLevelFastest}},
		{"zstd-default", S3Config{Compression: CompressionZstd, ZstdLevel: ZstdLevelDefault}},
		{"zstd-better", S3Config{Compression: CompressionZstd, ZstdLevel: ZstdLevelBetter}},
		{"gzip-1", S3Config{Compression: CompressionGzip, GzipLevel: 1}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cfg := c.cfg
			cfg.Bucket, cfg.StagingDir, cfg.Node = "bench", b.TempDir(), "bench"
			a, err := New("bench", cfg.withDefaults().staging(), withLabel("s3 bench staging"))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			for _, batch := range batches[:4] { // grow pools and encoder state
				write(b, a, batch)
			}
			var in int64
			b.SetBytes(avg)
			b.ReportAllocs()
			cpu0 := cpuTime()
			b.ResetTimer()
			i := 0
			for b.Loop() {
				batch := batches[i%len(batches)]
				i++
				if err := a.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
				in += int64(batch.Bytes() + batch.Len())
			}
			b.StopTimer()
			cpu := cpuTime() - cpu0
			for _, batch := range batches[:4] {
				in += int64(batch.Bytes() + batch.Len())
			}
			if err := a.Close(ctx); err != nil {
				b.Fatal(err)
			}
			var out int64
			_ = filepath.WalkDir(a.Dir(), func(_ string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if st, err := d.Info(); err == nil {
						out += st.Size()
					}
				}
				return nil
			})
			b.ReportMetric(float64(in)/float64(out), "ratio")
			if cpu > 0 {
				b.ReportMetric(float64(in)/1e6/cpu.Seconds(), "MB/cpu-s")
			}
		})
	}
}
