package s3

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// TestKeyDatesOutsideProjectedRange: the DDL projects dt over
// '1970-01-01,NOW+2DAYS', but LocalArchive.group partitions by the event's
// own time (time_source: event, the default) without any bound, so the
// writer still renders dt values that the table never generates. Athena
// builds the partition list from projection.dt.range only: "Because the
// partition projection configuration specifies no partitions for dates
// before January 1, 2021, Athena looks for data only in [the projected]
// locations, and ignores the earlier dates in the query" (Athena guide,
// "How to use the date type"; the same holds after the end of the range).
// An object outside the range is therefore silently absent from every
// query, however the query filters dt.
//
// Both events below come out of the real normalizer:
//   - a device whose clock was reset to the epoch, in UTC-5, logs its local
//     time without an offset ("1969-12-31T19:00:00"); the normalizer reads
//     it as UTC, Event.Time is negative, and the key is dt=1969-12-31/hour=19,
//     before the range start: never queryable, although the object sits in
//     the bucket (under Object Lock, for years);
//   - a device whose clock runs a month fast: the key is dt=<now+30d>, past
//     NOW+2DAYS, so its events are missing from every query for a month (and
//     then show up under the wrong day).
//
// Correct behaviour: every key the writer renders lies inside the projected
// range. Fix in LocalArchive.group (archive.go): when the event time is
// before 1970-01-01 or more than two days past the batch's ingest time, use
// the ingest hour for the partition (the event keeps its own @timestamp), so
// the writer's bounds and the DDL's range (ddl.go, ddlPartitions[phDate])
// are the same ones.
func TestKeyDatesOutsideProjectedRange(t *testing.T) {
	now := time.Now().UTC()
	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	meta := &pipeline.Meta{Input: "http", Protocol: "ndjson", Peer: "10.0.0.9", Token: "fw", IngestTime: now.UnixNano()}
	inputs := []string{
		`{"@timestamp":"1969-12-31T19:00:00","message":"kernel: clock reset to the epoch (local time, UTC-5)"}`,
		`{"@timestamp":"` + now.AddDate(0, 0, 30).Format(time.RFC3339) + `","message":"sshd: accepted password (clock a month fast)"}`,
		`{"@timestamp":"` + now.Format(time.RFC3339) + `","message":"control: an event of now"}`,
	}
	b := pipeline.NewBatch()
	b.Meta = *meta
	var p fastjson.Parser
	for _, in := range inputs {
		v, err := p.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		out, e, err := n.Append(nil, v, nil, meta, &normalize.EventMeta{})
		if err != nil {
			t.Fatalf("normalize %s: %v", in, err)
		}
		a := b.Arena()
		a = append(a, out...)
		e.Priority = pipeline.P1
		b.Commit(a, e)
	}

	a := newArchive(t, Config{}) // real clock, time_source: event (default)
	write(t, a, b)
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	final, _ := listing(t, a.Dir())
	if len(final) == 0 {
		t.Fatal("no objects")
	}
	ddl := DDL(S3Config{Bucket: "b", StagingDir: a.Dir()}, "t")
	props := reviewTBLProps(ddl)
	first, last := reviewProjectedDates(t, props, "dt", now)
	for key, content := range final {
		m := reviewDt.FindStringSubmatch("/" + key)
		if m == nil {
			t.Fatalf("no dt in key %s", key)
		}
		if m[1] < first || m[1] > last {
			t.Errorf("object %s holds %s: its dt=%s is outside the projected range %s..%s ('projection.dt.range'='%s'), so Athena queries do not read it (before the start: never; past the end: not until that date is within NOW+2DAYS)",
				key, strings.TrimSpace(content), m[1], first, last, props["projection.dt.range"])
		}
	}
}

// TestRecoveredZstdObjectDecodes: a machine crash while a Write's
// fsync is in flight can leave the file's new size on disk without its last
// data: the tail reads back as zeros (XFS exposes exactly that; the package
// documentation names the case: "a filesystem that extended the file but
// lost its last data"). When the last frame straddles a page boundary and
// only the page after its block header is lost, the frame header and the
// block header survive, the block's length still fits in the file, and
// validZstdPrefix (recover.go), which only walks frame and block headers,
// takes the frame as whole. finalizePartial keeps it, the staged object is
// uploaded, and the object can no longer be decompressed: zstd decoders
// (Go's DecodeAll, zstd -d, and Athena/Trino, which read an object as one
// stream and fail the query on a corrupt block or checksum, RFC 8878
// section 3.1.1 "Content_Checksum") fail on the object, losing with it the
// earlier frames that were fsynced and acknowledged. The torn frame belongs
// to a Write that never returned nil, so dropping it loses nothing.
//
// The gzip path already does the right thing (validGzipPrefix decompresses
// and checks every member's CRC). Correct behaviour: a recovered zstd object
// holds only frames that decode and match their checksum. Fix in
// validZstdPrefix/finalizePartial (recover.go): after the header walk,
// decode the frames (at least the last one, the only one a crash with
// fsync can tear; all of them without fsync), verifying the content
// checksum, and truncate before the first frame that fails.
func TestRecoveredZstdObjectDecodes(t *testing.T) {
	srv := s3test.New(t, testBucket)
	srv.SetFault(func(*s3test.Request) s3test.Fault { return s3test.Status503 }) // S3 down: objects stay staged
	dir := t.TempDir()
	cfg := S3Config{StagingDir: dir}
	clk := newClock(t0)
	a := openS3(t, srv, cfg, WithClock(clk.now), WithErrorHandler(func(error) {}))
	want := []string{`{"n":1,"msg":"acknowledged"}`, `{"n":2,"msg":"acknowledged"}`}
	for _, line := range want {
		if err := a.Write(context.Background(), mkBatch(t0, ev{line, pipeline.P1, "fw", t0})); err != nil {
			t.Fatal(err)
		}
	}
	crashS3(a)
	files, _ := stagedFiles(t, dir)
	if len(files) != 1 || !strings.HasSuffix(files[0], ".ndjson.zst"+partialSuffix) {
		t.Fatalf("staged after the crash: %v", files)
	}
	// The third Write's frame: header and block header made it to disk, the
	// page holding the block's data and the checksum did not (zeros).
	frame := slices.Clone(a.local.compress(&scratch{}, []byte(strings.Repeat(`{"n":3,"msg":"in flight at the crash"}`+"\n", 50))))
	var h zstd.Header
	if err := h.Decode(frame); err != nil || !h.FirstBlock.OK || !h.FirstBlock.Last {
		t.Fatalf("test setup: want a one-block frame: %+v, %v", h, err)
	}
	clear(frame[h.HeaderSize+3:])
	appendFile(t, dir+"/"+files[0], frame)

	srv.SetFault(nil)
	b := newS3(t, srv, cfg, WithErrorHandler(func(error) {}))
	waitFor(t, 10*time.Second, "the recovered object to upload", func() bool {
		n, _ := b.Backlog()
		return n == 0 && len(srv.Objects(t, testBucket)) == 1
	})
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	for key, data := range srv.Objects(t, testBucket) {
		out, err := dec.DecodeAll(data, nil)
		if err != nil {
			t.Fatalf("recovered object s3://%s/%s cannot be decompressed (%v): the frame torn by the crash was kept, and the acknowledged events %q before it are unreadable with it", testBucket, key, err, want)
		}
		if got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n"); !slices.Equal(got, want) {
			t.Fatalf("recovered object %s holds %q, want %q", key, got, want)
		}
	}
}
