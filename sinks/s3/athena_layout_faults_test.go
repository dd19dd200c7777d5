package s3

// Review tests: the archive as a query engine reads it. Each test writes
// real objects through the sink (or renders the real DDL) and checks them
// the way Athena, Trino, Spark or an HTTP download would.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// TestHivePartitionNamesMatchTableColumns
//
// The README sells the layout as "Hive-style keys for Athena": directories
// named <column>=<value>. Every tool that reads Hive-style layouts without
// Athena's partition projection takes the directory name as the partition
// column: Spark's partition discovery (spark.read.json("s3://b/logs/")),
// a Glue crawler, MSCK REPAIR TABLE / ALTER TABLE ADD PARTITION on a table
// whose columns must equal the directory names, Trino's
// system.sync_partition_metadata. The key says "source=<source type>", but
// the DDL names that column source_type because "source" is the ECS data
// column (the normalized events carry "source":{"ip":...}). So:
//   - Spark infers a partition column "source" that overlaps the data
//     column "source"; Spark then returns the partition value (the source
//     type string) as "source" for every row (SPARK-21144), and source.ip
//     is unreadable;
//   - a Glue crawler makes a table with two columns named "source", which
//     Athena refuses (HIVE_INVALID_METADATA: duplicate columns);
//   - MSCK REPAIR TABLE on the documented table (partition column
//     source_type) finds no partitions, since no directory is
//     source_type=...
//
// Expected: the directory name of each Hive-style segment is its table
// column, and no partition name is a column of the events.
func TestHivePartitionNamesMatchTableColumns(t *testing.T) {
	cfg := S3Config{Bucket: "b", StagingDir: "/s", Node: "node1"}
	ddl := DDL(cfg, "t")
	props := reviewTBLProps(ddl)
	tmpl := props["storage.location.template"]
	if tmpl == "" {
		t.Fatalf("no storage.location.template in\n%s", ddl)
	}
	dataCols, _ := reviewColumns(t, ddl)

	// A real normalized event, to show the collision is with real data.
	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	v, err := fastjson.Parse(`{"source":{"ip":"10.9.9.9"},"message":"deny"}`)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := c.New().Append(nil, v, nil, &pipeline.Meta{Input: "http", IngestTime: time.Now().UnixNano()}, &normalize.EventMeta{})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}

	seg := regexp.MustCompile(`/([A-Za-z0-9_]+)=\$\{([a-z_]+)\}`)
	for _, m := range seg.FindAllStringSubmatch(tmpl, -1) {
		dir, col := m[1], m[2]
		if dir != col {
			t.Errorf("key segment %q=<%s>: the Hive-style directory name %q is not the table's partition column %q; Spark, Glue crawlers and MSCK REPAIR name the partition %q", dir, col, dir, col, dir)
		}
		for _, dc := range dataCols {
			if dc == dir {
				t.Errorf("Hive-style partition %q is also a data column of the table (and of the events: %s=%s): Spark returns the partition value in its place, a crawled table has a duplicate column", dir, dir, doc[dir])
			}
		}
	}
}

// TestGzipObjectReadOverHTTPIsGzip
//
// Every upload carries Content-Encoding: gzip (or zstd) (s3archive.go,
// input). In HTTP that header says the stored bytes are a compressed
// transfer of an application/x-ndjson document, so HTTP clients undo it:
// browsers and the S3 console's download, curl --compressed, a presigned
// URL fetched by requests or Go's net/http, DuckDB's httpfs
// (duckdb/duckdb#6497: reads fail on such objects). The file arrives
// decompressed under its .ndjson.gz name, and every reader that decodes
// by extension (gunzip, zcat, Spark/Hadoop codecs by suffix, Athena's own
// rule) fails on it. The archive's format is a .gz file, not a gzip
// transfer of NDJSON.
//
// Expected: what an HTTP GET of the object's URL returns is the object's
// bytes, a gzip stream, as its key's extension says (no Content-Encoding,
// or Content-Encoding only where it is not the file's own format).
func TestGzipObjectReadOverHTTPIsGzip(t *testing.T) {
	srv := s3test.New(t, testBucket)
	a := newS3(t, srv, S3Config{Compression: CompressionGzip})
	now := time.Now().UTC()
	if err := a.Write(context.Background(), mkBatch(now, ev{`{"message":"deny tcp"}`, pipeline.P2, "fw", now})); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	objs := srv.Objects(t, testBucket)
	if len(objs) != 1 {
		t.Fatalf("%d objects, want 1", len(objs))
	}
	for key, stored := range objs {
		if !bytes.HasPrefix(stored, []byte{0x1f, 0x8b}) {
			t.Fatalf("precondition: the stored object %s is gzip", key)
		}
		// What any HTTP client does with the object's URL (a presigned
		// URL, a public-read bucket, the console's download link).
		resp, err := http.Get(srv.URL + "/" + testBucket + "/" + key)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var stored string
		for _, r := range srv.Requests() {
			if r.Op == s3test.OpPutObject && r.Key == key {
				stored = r.Header.Get("Content-Encoding")
			}
		}
		t.Logf("GET %s: decoded by the client: %v, %d bytes: %.40q", key, resp.Uncompressed, len(body), body)
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			_, err = io.ReadAll(zr)
		}
		if err != nil {
			t.Errorf("%s downloaded over HTTP is not a gzip file (%v): the object is stored with Content-Encoding %q, so the client decoded it; the saved %s holds plain NDJSON and gunzip/zcat/readers by extension fail",
				key, err, stored, key[strings.LastIndexByte(key, '/')+1:])
		}
	}
}

// TestBackfillCutsLivePartitionsIntoTinyObjects
//
// With time_source: event (the default) every distinct event hour is a
// partition, and at max_open_objects (256) opening one more evicts the
// least recently written object (archive.go, acquire/lruLocked), whatever
// its size or age. A backfill (a CloudTrail or Okta catch-up, an agent
// back from a week offline) interleaved with live traffic touches more
// hours than the cap: each of its batches evicts every live partition and
// each live batch evicts the backfill's, so every frame starts a new
// object. Nothing reports it (no log line, no metric). Athena then reads
// one object per delivered batch per partition instead of one per
// max_object_age: here 20 live source types get 20 objects each in ten
// seconds instead of 1, each holding a single event, and at one batch a
// second the archive grows by ~72,000 tiny objects per live partition a
// day (Athena's per-object overhead and S3 request costs with it; with
// Object Lock they cannot be compacted).
//
// Expected: live partitions keep one object per max_object_age while a
// backfill runs (evict idle or old-hour objects first, flush backfill
// hours as they complete, or at least a metric and warning on eviction).
func TestBackfillCutsLivePartitionsIntoTinyObjects(t *testing.T) {
	now := time.Date(2024, 5, 1, 13, 15, 2, 0, time.UTC)
	clk := newClock(now)
	noSync := false                                                // only to keep the test fast; the object count is the same with fsync
	a := newArchive(t, Config{Fsync: &noSync}, WithClock(clk.now)) // defaults: 256 open objects, 5m age
	const batches, live, backfillHours = 10, 20, 260
	for i := 0; i < batches; i++ {
		// A live batch: one event for each live source type.
		var evs []ev
		for s := 0; s < live; s++ {
			evs = append(evs, ev{fmt.Sprintf(`{"n":%d}`, i), pipeline.P3, fmt.Sprintf("live%02d", s), clk.now()})
		}
		write(t, a, mkBatch(clk.now(), evs...))
		clk.add(time.Millisecond) // batches are delivered one after another
		// A backfill batch: CloudTrail files of the last weeks, many hours.
		evs = evs[:0]
		for h := 0; h < backfillHours; h++ {
			tm := now.Add(-time.Duration(24+h+i*backfillHours) * time.Hour)
			evs = append(evs, ev{`{"eventName":"GetObject"}`, pipeline.P3, "aws.cloudtrail", tm})
		}
		write(t, a, mkBatch(clk.now(), evs...))
		clk.add(time.Second - time.Millisecond)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	final, _ := listing(t, a.Dir())
	perLive := map[string]int{}
	for key := range final {
		if m := regexp.MustCompile(`/source_type=(live\d+)/`).FindStringSubmatch(key); m != nil {
			perLive[m[1]]++
		}
	}
	if len(perLive) != live {
		t.Fatalf("precondition: %d live partitions, want %d", len(perLive), live)
	}
	worst, total := 0, 0
	for _, n := range perLive {
		worst = max(worst, n)
		total += n
	}
	if worst > 1 {
		t.Errorf("%d live source types written for %d s (max_object_age 5m) with a backfill running: %d objects (up to %d per partition, ~1 event each), want 1 per partition: every batch was cut into an object of its own by LRU eviction at max_open_objects",
			live, batches, total, worst)
	}
}
