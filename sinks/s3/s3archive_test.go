package s3

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

const testBucket = "archive"

// errorLog collects what the error handler receives.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) add(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errorLog) uploadErrors() (transient, permanent int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, err := range l.errs {
		var ue *UploadError
		if errors.As(err, &ue) {
			if ue.Permanent {
				permanent++
			} else {
				transient++
			}
		}
	}
	return
}

func (l *errorLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, err := range l.errs {
		b.WriteString(err.Error())
		b.WriteByte('\n')
	}
	return b.String()
}

// fastRetries makes the SDK retry quickly (attempts 1 = no SDK retries).
func fastRetries(attempts int) Option {
	return WithS3ClientOptions(func(o *awss3.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.MaxBackoff = 10 * time.Millisecond
			so.RateLimiter = ratelimit.None
		})
	})
}

// s3Config returns a configuration for srv: static credentials, path style,
// node "node1", a fresh staging directory.
func s3Config(t testing.TB, srv *s3test.Server, cfg S3Config) S3Config {
	if cfg.Bucket == "" {
		cfg.Bucket = testBucket
	}
	if cfg.StagingDir == "" {
		cfg.StagingDir = t.TempDir()
	}
	if cfg.Node == "" {
		cfg.Node = "node1"
	}
	cfg.Endpoint, cfg.PathStyle, cfg.Region = srv.URL, true, s3test.Region
	cfg.AccessKeyID, cfg.SecretAccessKey = s3test.AccessKeyID, s3test.SecretAccessKey
	return cfg
}

// openS3 opens an S3Archive for tests: quick backoff, quick SDK retries, no
// start delay, quiet logs; the caller closes it.
func openS3(t testing.TB, srv *s3test.Server, cfg S3Config, opts ...Option) *S3Archive {
	t.Helper()
	base := []Option{
		withoutStartDelay(),
		withBackoff(5*time.Millisecond, 50*time.Millisecond),
		WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		fastRetries(3),
	}
	a, err := NewS3Archive("arch", s3Config(t, srv, cfg), append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// newS3 is openS3 with Close at the end of the test.
func newS3(t testing.TB, srv *s3test.Server, cfg S3Config, opts ...Option) *S3Archive {
	t.Helper()
	a := openS3(t, srv, cfg, opts...)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.Close(ctx)
	})
	return a
}

// crashS3 simulates a process that dies: the uploader stops where it is and
// the staged files are closed without rolling. Close must not be called
// afterwards.
func crashS3(a *S3Archive) {
	a.mu.Lock()
	cancel, idle := a.cancel, a.idle
	a.mu.Unlock()
	cancel()
	<-idle
	<-a.janitorDone
	crash(a.local)
	a.tr.CloseIdleConnections()
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// bucketLines returns the lines of every object in the bucket, each object
// decompressed by its extension, and fails on an object that is not a
// complete archive object.
func bucketLines(t testing.TB, srv *s3test.Server) (objects map[string]string, lines []string) {
	t.Helper()
	objects = map[string]string{}
	for k, data := range srv.Objects(t, testBucket) {
		content := decompress(t, k, data)
		objects[k] = content
		if content != "" && !strings.HasSuffix(content, "\n") {
			t.Fatalf("object %s does not end with a newline", k)
		}
		for l := range strings.SplitSeq(strings.TrimSuffix(content, "\n"), "\n") {
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return objects, lines
}

// stagedFiles lists the files and directories left under dir (but the
// {start} lease, which stays).
func stagedFiles(t testing.TB, dir string) (files, dirs []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir || path == filepath.Join(dir, startLeaseFile) {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			dirs = append(dirs, rel)
		} else {
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files, dirs
}

func TestS3ConfigValidate(t *testing.T) {
	ok := S3Config{Bucket: "b", StagingDir: "/s"}
	for _, c := range []struct {
		cfg func(*S3Config)
		msg string
	}{
		{func(c *S3Config) { c.Bucket = "" }, `"bucket" is required`},
		{func(c *S3Config) { c.Bucket = "s3://b/logs" }, `"bucket" must be a bare bucket name`},
		{func(c *S3Config) { c.StagingDir = " " }, `"staging_dir" is required`},
		{func(c *S3Config) { c.Endpoint = "minio:9000" }, `"endpoint" must be a URL`},
		{func(c *S3Config) { c.AccessKeyID = "AKID" }, `"access_key_id" and "secret_access_key" go together`},
		{func(c *S3Config) { c.Compression = "lz4" }, `"compression"`},
		{func(c *S3Config) { c.ZstdLevel = "max" }, `"zstd_level"`},
		{func(c *S3Config) { c.GzipLevel = 11 }, `"gzip_level"`},
		{func(c *S3Config) { c.TimeSource = "wall" }, `"time_source"`},
		{func(c *S3Config) { c.MaxObjectAge = -1 }, `"max_object_age"`},
		{func(c *S3Config) { c.KeyTemplate = "{prefix}/{seq}" }, `must start with "{node}-{start}"`},
		{func(c *S3Config) { c.KeyTemplate = "{prefix}/{node}-{seq}" }, `must start with "{node}-{start}"`},
		{func(c *S3Config) { c.KeyTemplate = "{prefix}/{start}-{node}" }, `must start with "{node}-{start}"`},
		{func(c *S3Config) { c.KeyTemplate = "{prefix}/{node}-{seq}-{start}" }, `must start with "{node}-{start}"`},
		{func(c *S3Config) { c.KeyTemplate = "{prefix}/{node}_{start}-{seq}" }, `must start with "{node}-{start}"`},
		{func(c *S3Config) { c.KeyTemplate = "{prefix}/{node}-{start}" }, `must contain {seq}`},
		{func(c *S3Config) { c.KeyTemplate = "{prefix}/{seq}/{node}-{start}.json.zst" }, `must contain {seq}`},
		{func(c *S3Config) { c.PartSize = 1 << 20 }, `"part_size" must be between 5 MiB`},
		{func(c *S3Config) { c.UploadConcurrency = 100 }, `"upload_concurrency" must be between 1 and 64`},
		{func(c *S3Config) { c.ObjectLock.Mode = "forever" }, `"object_lock.mode" must be "GOVERNANCE" or "COMPLIANCE"`},
		{func(c *S3Config) { c.ObjectLock.Mode = "COMPLIANCE" }, `"object_lock.retain_days" must be a positive number`},
		{func(c *S3Config) { c.ObjectLock.RetainDays = 5 }, `"object_lock.retain_days" needs "object_lock.mode"`},
		{func(c *S3Config) { c.SSE = "kms" }, `"sse" must be`},
		{func(c *S3Config) { c.KMSKeyID = "alias/x" }, `"kms_key_id" needs "sse"`},
		{func(c *S3Config) { c.StorageClass = "COLD" }, `"storage_class" must be one of`},
	} {
		cfg := ok
		c.cfg(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: Validate() = %v, want %s", cfg, err, c.msg)
		}
	}
	good := ok
	good.ObjectLock = ObjectLockConfig{Mode: "compliance", RetainDays: 2555, LegalHold: true}
	good.SSE, good.KMSKeyID, good.StorageClass = SSEKMS, "alias/archive", "glacier_ir"
	for _, tmpl := range []string{
		"{prefix}/{source_type}/{date}/{node}-{start}-{seq}",
		"{prefix}/{node}-{start}{seq}",
		"{prefix}/{node}-{start}-{source_type}-{seq}.json.zst",
	} {
		good.KeyTemplate = tmpl
		if err := good.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	d := ok.withDefaults()
	if d.Prefix != "logs" || d.Compression != "zstd" || d.ZstdLevel != "fastest" || d.GzipLevel != 1 ||
		d.MaxObjectBytes != 128<<20 || d.MaxObjectAge != 5*time.Minute || d.MaxOpenObjects != 256 ||
		d.PartSize != 16<<20 || d.UploadConcurrency != 4 || d.TimeSource != "event" {
		t.Fatalf("defaults: %+v", d)
	}
	if st := d.staging(); !st.fsync() || st.Dir != "/s" {
		t.Fatalf("staging config: %+v", st)
	}
}

func TestS3WriteUpload(t *testing.T) {
	for _, comp := range []string{"zstd", "gzip"} {
		t.Run(comp, func(t *testing.T) {
			srv := s3test.New(t, testBucket)
			var errs errorLog
			clk := newClock(t0)
			a := newS3(t, srv, S3Config{Compression: comp, MaxObjectAge: time.Minute}, WithClock(clk.now), WithErrorHandler(errs.add), withSweepInterval(5*time.Millisecond))
			if !a.local.cfg.fsync() {
				t.Fatal("staging without fsync")
			}
			h12 := time.Date(2024, 5, 1, 12, 59, 59, 0, time.UTC)
			write(t, a.local, mkBatch(t0,
				ev{`{"n":1}`, pipeline.P1, "crowdstrike.falcon", t0},
				ev{`{"n":2}`, pipeline.P2, "okta", t0},
				ev{`{"n":3,"s":"\n\"x\""}`, pipeline.P1, "crowdstrike.falcon", t0},
				ev{`{"n":4}`, pipeline.P3, "fw", h12},
			))
			if err := a.Write(context.Background(), mkBatch(t0, ev{`{"n":5}`, pipeline.P1, "crowdstrike.falcon", t0})); err != nil {
				t.Fatal(err)
			}
			// Objects roll at max_object_age and are uploaded while the
			// archive runs.
			clk.add(time.Minute)
			waitFor(t, 10*time.Second, "uploads", func() bool {
				files, _ := a.Backlog()
				return files == 0 && len(srv.Objects(t, testBucket)) == 3
			})
			files, dirs := stagedFiles(t, a.StagingDir())
			if len(files) != 0 || len(dirs) != 0 {
				t.Fatalf("staging_dir after upload: files %v, dirs %v", files, dirs)
			}
			// Close uploads what is still open.
			write(t, a.local, mkBatch(t0, ev{`{"n":6}`, pipeline.P2, "okta", t0}))
			if err := a.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			objects, _ := bucketLines(t, srv)
			ext := map[string]string{"zstd": "zst", "gzip": "gz"}[comp]
			name := regexp.MustCompile(`^node1-20240501T13(15|16)02Z-\d{6}\.ndjson\.` + ext + `$`)
			for k := range objects {
				if !name.MatchString(k[strings.LastIndexByte(k, '/')+1:]) {
					t.Errorf("object name %q", k)
				}
			}
			want := map[string][]string{
				"logs/priority=P1/source_type=crowdstrike.falcon/dt=2024-05-01/hour=13": {"{\"n\":1}\n{\"n\":3,\"s\":\"\\n\\\"x\\\"\"}\n{\"n\":5}\n"},
				"logs/priority=P2/source_type=okta/dt=2024-05-01/hour=13":               {"{\"n\":2}\n", "{\"n\":6}\n"},
				"logs/priority=P3/source_type=fw/dt=2024-05-01/hour=12":                 {"{\"n\":4}\n"},
			}
			if got := byDir(objects); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("objects:\n%q\nwant\n%q", got, want)
			}
			// Headers of every upload.
			puts := 0
			for _, r := range srv.Requests() {
				if r.Op != s3test.OpPutObject {
					continue
				}
				puts++
				h := r.Header
				if h.Get("Content-Type") != "application/"+map[string]string{"zstd": "zstd", "gzip": "gzip"}[comp] || h.Get("Content-Encoding") != "" {
					t.Errorf("PutObject %s: Content-Type %q, Content-Encoding %q", r.Key, h.Get("Content-Type"), h.Get("Content-Encoding"))
				}
				if !hasCRC32C(h) {
					t.Errorf("PutObject %s without a CRC32C checksum: %v", r.Key, h)
				}
				if h.Get("X-Amz-Object-Lock-Mode") != "" || h.Get("X-Amz-Server-Side-Encryption") != "" || h.Get("X-Amz-Storage-Class") != "" {
					t.Errorf("PutObject %s: lock, SSE or storage class headers without configuration: %v", r.Key, h)
				}
			}
			if puts != 4 {
				t.Fatalf("%d PutObject requests for 4 objects", puts)
			}
			if err := a.Close(context.Background()); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			if err := a.Write(context.Background(), mkBatch(t0, ev{`{}`, pipeline.P1, "s", t0})); !errors.Is(err, pipeline.ErrClosed) {
				t.Fatalf("Write after Close = %v", err)
			}
			if s := errs.String(); s != "" {
				t.Fatalf("errors: %s", s)
			}
		})
	}
}

// hasCRC32C reports whether an upload request carries a CRC32C checksum:
// computed in a header, or announced as a trailer of an aws-chunked body.
func hasCRC32C(h map[string][]string) bool {
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return get("X-Amz-Checksum-Crc32c") != "" || strings.EqualFold(get("X-Amz-Trailer"), "x-amz-checksum-crc32c")
}

// bigBatch returns events of random, poorly compressible text in partition
// (P2, src), about n bytes in all.
func bigBatch(r *rand.Rand, src string, first, n int) (*pipeline.Batch, []string) {
	b := pipeline.NewBatch()
	b.Meta.IngestTime = t0.UnixNano()
	var lines []string
	raw := make([]byte, 3000)
	for i := first; n > 0; i++ {
		for j := range raw {
			raw[j] = byte(r.Uint32())
		}
		line := fmt.Sprintf(`{"src":%q,"i":%d,"blob":%q}`, src, i, base64.StdEncoding.EncodeToString(raw))
		lines = append(lines, line)
		a := b.Arena()
		a = append(a, line...)
		b.Commit(a, pipeline.Event{Priority: pipeline.P2, SourceType: src, Time: t0.UnixNano()})
		n -= len(line) + 1
	}
	return b, lines
}

// writeBig writes about n bytes of bigBatch events to partition (P2, src)
// in batches of 1 MiB.
func writeBig(t testing.TB, a *S3Archive, r *rand.Rand, src string, n int) []string {
	var all []string
	for n > 0 {
		b, lines := bigBatch(r, src, len(all), min(n, 1<<20))
		if err := a.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
		b.Release()
		all = append(all, lines...)
		n -= 1 << 20
	}
	return all
}

func TestS3MultipartAndHeaders(t *testing.T) {
	srv := s3test.New(t, testBucket)
	var errs errorLog
	clk := newClock(t0)
	a := newS3(t, srv, S3Config{
		PartSize:     MinPartSize,
		ObjectLock:   ObjectLockConfig{Mode: "COMPLIANCE", RetainDays: 30, LegalHold: true},
		SSE:          SSEKMS,
		KMSKeyID:     "alias/archive",
		StorageClass: "GLACIER_IR",
	}, WithClock(clk.now), WithErrorHandler(errs.add))
	r := rand.New(rand.NewPCG(1, 2))
	want := writeBig(t, a, r, "bulk", 12<<20) // random base64 hardly compresses: > 11 MiB, 3 parts
	write(t, a.local, mkBatch(t0, ev{`{"small":1}`, pipeline.P1, "s", t0}))
	want = append(want, `{"small":1}`)
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	objects, lines := bucketLines(t, srv)
	sort.Strings(want)
	if !slices.Equal(lines, want) {
		t.Fatalf("bucket holds %d lines, want %d", len(lines), len(want))
	}
	if len(objects) != 2 {
		t.Fatalf("%d objects, want 2", len(objects))
	}
	parts := 0
	for k, data := range srv.Objects(t, testBucket) {
		if len(data) > MinPartSize {
			if len(data) < 11<<20 {
				t.Fatalf("multipart object %s of %d bytes: want > 11 MiB", k, len(data))
			}
			parts = (len(data) + MinPartSize - 1) / MinPartSize
		}
	}
	until := t0.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	ops := map[string]int{}
	for _, r := range srv.Requests() {
		ops[r.Op]++
		h := r.Header
		switch r.Op {
		case s3test.OpPutObject, s3test.OpCreateMultipartUpload:
			for k, v := range map[string]string{
				"X-Amz-Object-Lock-Mode":                      "COMPLIANCE",
				"X-Amz-Object-Lock-Retain-Until-Date":         until,
				"X-Amz-Object-Lock-Legal-Hold":                "ON",
				"X-Amz-Server-Side-Encryption":                "aws:kms",
				"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "alias/archive",
				"X-Amz-Storage-Class":                         "GLACIER_IR",
				"Content-Type":                                "application/zstd",
			} {
				if got := h.Get(k); got != v {
					t.Errorf("%s %s: %s = %q, want %q", r.Op, r.Key, k, got, v)
				}
			}
			if r.Op != s3test.OpUploadPart && (h.Get("Content-Type") != "application/zstd" || h.Get("Content-Encoding") != "") {
				t.Errorf("%s %s: Content-Type %q, Content-Encoding %q", r.Op, r.Key, h.Get("Content-Type"), h.Get("Content-Encoding"))
			}
			if r.Op == s3test.OpPutObject && !hasCRC32C(h) {
				t.Errorf("PutObject without a CRC32C checksum: %v", h)
			}
			if r.Op == s3test.OpCreateMultipartUpload && h.Get("X-Amz-Checksum-Algorithm") != "CRC32C" {
				t.Errorf("CreateMultipartUpload: x-amz-checksum-algorithm %q", h.Get("X-Amz-Checksum-Algorithm"))
			}
		case s3test.OpUploadPart:
			if !hasCRC32C(h) {
				t.Errorf("UploadPart %s without a CRC32C checksum: %v", r.Query.Get("partNumber"), h)
			}
			if n, _ := strconv.Atoi(h.Get("X-Amz-Decoded-Content-Length")); n > MinPartSize {
				t.Errorf("UploadPart of %d bytes > part_size", n)
			}
		}
	}
	if ops[s3test.OpPutObject] != 1 || ops[s3test.OpCreateMultipartUpload] != 1 || ops[s3test.OpUploadPart] != parts || ops[s3test.OpCompleteMultipartUpload] != 1 {
		t.Fatalf("operations %v, want 1 PutObject, 1 CreateMultipartUpload, %d UploadPart, 1 CompleteMultipartUpload", ops, parts)
	}
	if s := errs.String(); s != "" {
		t.Fatalf("errors: %s", s)
	}
}

// completions counts, per key, the uploads S3 accepted (PutObject or
// CompleteMultipartUpload answered 200).
func completions(srv *s3test.Server) map[string]int {
	done := map[string]int{}
	for _, r := range srv.Requests() {
		if (r.Op == s3test.OpPutObject || r.Op == s3test.OpCompleteMultipartUpload) && r.Status == 200 {
			done[r.Key]++
		}
	}
	return done
}

func TestS3Faults(t *testing.T) {
	srv := s3test.New(t, testBucket)
	rng := rand.New(rand.NewPCG(3, 4))
	completeFailed, parts := false, 0
	srv.SetFault(func(r *s3test.Request) s3test.Fault {
		if r.Op == s3test.OpUploadPart {
			parts++
		}
		switch {
		case r.Op == s3test.OpUploadPart && (parts == 2 || rng.IntN(5) == 0): // 20%, and surely one
			return s3test.Status500
		case r.Op == s3test.OpCompleteMultipartUpload && !completeFailed:
			completeFailed = true
			return s3test.Status503
		}
		return s3test.Forward
	})
	var errs errorLog
	// No SDK retries: every fault fails the upload, which the transfer
	// manager aborts and the archive retries.
	a := newS3(t, srv, S3Config{PartSize: MinPartSize, UploadConcurrency: 2}, WithErrorHandler(errs.add), fastRetries(1))
	r := rand.New(rand.NewPCG(1, 2))
	var want []string
	want = append(want, writeBig(t, a, r, "bulk1", 12<<20)...)
	want = append(want, writeBig(t, a, r, "bulk2", 12<<20)...)
	for i := range 5 {
		line := fmt.Sprintf(`{"small":%d}`, i)
		write(t, a.local, mkBatch(t0, ev{line, pipeline.P1, fmt.Sprint("s", i), t0}))
		want = append(want, line)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatalf("Close: %v\n%s", err, errs.String())
	}
	objects, lines := bucketLines(t, srv)
	sort.Strings(want)
	if !slices.Equal(lines, want) {
		t.Fatalf("bucket holds %d lines, want %d", len(lines), len(want))
	}
	if len(objects) != 7 {
		t.Fatalf("%d objects, want 7", len(objects))
	}
	for k, n := range completions(srv) {
		if n != 1 {
			t.Errorf("%s uploaded %d times", k, n)
		}
	}
	if ups := srv.MultipartUploads(t, testBucket); len(ups) != 0 {
		t.Fatalf("unfinished multipart uploads left: %v", ups)
	}
	faults, partFaults, aborts := 0, 0, 0
	for _, r := range srv.Requests() {
		if r.Faulted {
			faults++
			if r.Op == s3test.OpUploadPart {
				partFaults++
			}
		}
		if r.Op == s3test.OpAbortMultipartUpload {
			aborts++
		}
	}
	transient, permanent := errs.uploadErrors()
	t.Logf("%d UploadPart requests, %d faults injected (%d UploadPart), %d aborts, %d upload errors reported", parts, faults, partFaults, aborts, transient)
	if !completeFailed || partFaults < 1 || aborts < faults || transient < faults || permanent != 0 {
		t.Fatalf("faults %d (%d UploadPart, Complete %v), aborts %d, upload errors %d transient %d permanent", faults, partFaults, completeFailed, aborts, transient, permanent)
	}
}

func TestS3Outage(t *testing.T) {
	srv := s3test.New(t, testBucket)
	var mu sync.Mutex
	mode := s3test.Status503
	srv.SetFault(func(*s3test.Request) s3test.Fault {
		mu.Lock()
		defer mu.Unlock()
		return mode
	})
	setMode := func(m s3test.Fault) {
		mu.Lock()
		mode = m
		mu.Unlock()
	}
	var errs errorLog
	a := newS3(t, srv, S3Config{MaxObjectBytes: 100}, WithErrorHandler(errs.add))
	var want []string
	w := func(i int) {
		line := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 100))
		write(t, a.local, mkBatch(t0, ev{line, pipeline.P2, "s", t0}))
		want = append(want, line)
	}
	for i := range 5 {
		w(i) // each Write rolls its object: 5 staged objects
	}
	waitFor(t, 30*time.Second, "upload errors during 503s", func() bool { n, _ := errs.uploadErrors(); return n >= 2 })
	setMode(s3test.Drop)
	for i := 5; i < 10; i++ {
		w(i)
	}
	files, bytes := a.Backlog()
	if files != 10 || bytes == 0 {
		t.Fatalf("Backlog = %d files, %d bytes, want 10 files", files, bytes)
	}
	n0, _ := errs.uploadErrors()
	waitFor(t, 30*time.Second, "upload errors during dropped connections", func() bool { n, _ := errs.uploadErrors(); return n >= n0+2 })
	if len(srv.Objects(t, testBucket)) != 0 {
		t.Fatal("objects uploaded during the outage")
	}
	setMode(s3test.Forward)
	waitFor(t, 30*time.Second, "the backlog to drain", func() bool { files, _ := a.Backlog(); return files == 0 })
	_, lines := bucketLines(t, srv)
	sort.Strings(want)
	if !slices.Equal(lines, want) {
		t.Fatalf("bucket lines %q\nwant %q", lines, want)
	}
	if _, permanent := errs.uploadErrors(); permanent != 0 {
		t.Fatalf("outage errors reported as permanent:\n%s", errs.String())
	}
}

func TestS3CrashRecovery(t *testing.T) {
	srv := s3test.New(t, testBucket)
	srv.SetFault(func(*s3test.Request) s3test.Fault { return s3test.Status503 }) // S3 down
	dir := t.TempDir()
	cfg := S3Config{StagingDir: dir, MaxObjectBytes: 60}
	a := openS3(t, srv, cfg, WithErrorHandler(func(error) {}))
	var want []string
	for i := range 6 {
		line := fmt.Sprintf(`{"i":%d}`, i)
		if i == 0 { // over max_object_bytes: rolled, staged, not uploaded
			line = fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("x", 60))
		}
		write(t, a.local, mkBatch(t0, ev{line, pipeline.P1, fmt.Sprint("s", i%3), t0}))
		want = append(want, line)
	}
	crashS3(a)
	files, _ := stagedFiles(t, dir)
	partials := 0
	for _, f := range files {
		if strings.HasSuffix(f, partialSuffix) {
			partials++
		}
	}
	if partials != 3 || len(files) != 4 {
		t.Fatalf("staged after the crash: %v", files)
	}

	// Unfinished multipart uploads: this node's under the prefix (to abort),
	// another node's, a node whose name starts the same, and this node's
	// outside the prefix.
	ctx := context.Background()
	dirKey := "logs/priority=P1/source_type=x/dt=2024-05-01/hour=13/"
	plant := []string{
		dirKey + "node1-20240501T120000Z-000001.ndjson.zst",
		dirKey + "node2-20240501T120000Z-000001.ndjson.zst",
		dirKey + "node10-20240501T120000Z-000001.ndjson.zst",
		"other/node1-20240501T120000Z-000001.ndjson.zst",
	}
	for _, k := range plant {
		if _, err := srv.Client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	srv.SetFault(nil)

	var errs errorLog
	b := newS3(t, srv, cfg, WithErrorHandler(errs.add))
	waitFor(t, 10*time.Second, "recovered objects to upload", func() bool {
		files, _ := b.Backlog()
		return files == 0 && len(srv.MultipartUploads(t, testBucket)) == 3
	})
	_, lines := bucketLines(t, srv)
	sort.Strings(want)
	if !slices.Equal(lines, want) {
		t.Fatalf("bucket lines %q\nwant %q", lines, want)
	}
	var left []string
	for _, u := range srv.MultipartUploads(t, testBucket) {
		left = append(left, u.Key)
	}
	if !slices.Equal(left, plant[1:]) && !slices.Equal(left, []string{plant[2], plant[1], plant[3]}) {
		t.Fatalf("multipart uploads left: %q", left)
	}
	if files, dirs := stagedFiles(t, dir); len(files) != 0 || len(dirs) != 0 {
		t.Fatalf("staging_dir after recovery: %v %v", files, dirs)
	}
	if s := errs.String(); s != "" {
		t.Fatalf("errors: %s", s)
	}
}

func TestS3CloseDeadline(t *testing.T) {
	srv := s3test.New(t, testBucket)
	srv.SetFault(func(*s3test.Request) s3test.Fault { return s3test.Status503 })
	a := openS3(t, srv, S3Config{}, WithErrorHandler(func(error) {}))
	write(t, a.local, mkBatch(t0, ev{`{"n":1}`, pipeline.P1, "s", t0}))
	// S3 is down, so Close always runs to its deadline; 1s (not 100ms)
	// leaves the staging archive's goroutine time to stop on a loaded
	// machine, or Close gives up before rolling the open object.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	err := a.Close(ctx)
	cancel()
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "uploaded at the next start") {
		t.Fatalf("Close with S3 down = %v", err)
	}
	if files, _ := stagedFiles(t, a.StagingDir()); len(files) != 1 || strings.HasSuffix(files[0], partialSuffix) {
		t.Fatalf("staged after Close: %v", files)
	}
	if err := a.Write(context.Background(), mkBatch(t0, ev{`{}`, pipeline.P1, "s", t0})); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("Write after Close = %v", err)
	}
	// A second Close, S3 back, finishes the job.
	srv.SetFault(nil)
	if err := a.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if files, _ := a.Backlog(); files != 0 {
		t.Fatalf("backlog after the second Close: %d", files)
	}
	if _, lines := bucketLines(t, srv); !slices.Equal(lines, []string{`{"n":1}`}) {
		t.Fatalf("bucket: %q", lines)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatalf("third Close: %v", err)
	}
}

func TestS3PermanentError(t *testing.T) {
	srv := s3test.New(t) // no bucket
	var errs errorLog
	a := openS3(t, srv, S3Config{}, WithErrorHandler(errs.add))
	write(t, a.local, mkBatch(t0, ev{`{"n":1}`, pipeline.P1, "s", t0}))
	// Close rolls the object and starts its upload; it is given up once an
	// attempt has failed (a fixed 200ms deadline could end before the
	// first attempt did on a loaded machine, and the attempt cut short
	// reports no error).
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	closed := make(chan error, 1)
	go func() { closed <- a.Close(ctx) }()
	waitFor(t, 30*time.Second, "a permanent upload error", func() bool { _, p := errs.uploadErrors(); return p > 0 })
	cancel()
	if err := <-closed; err == nil {
		t.Fatal("Close uploaded to a missing bucket")
	}
	_, permanent := errs.uploadErrors()
	if permanent == 0 || !strings.Contains(errs.String(), "NoSuchBucket") {
		t.Fatalf("no permanent upload error reported:\n%s", errs.String())
	}
}

// TestS3ConcurrentWritesAndUploads has writers roll objects while the
// uploader deletes uploaded files and prunes their directories.
func TestS3ConcurrentWritesAndUploads(t *testing.T) {
	srv := s3test.New(t, testBucket)
	var errs errorLog
	a := newS3(t, srv, S3Config{MaxObjectBytes: 2 << 10, MaxOpenObjects: 4}, WithErrorHandler(errs.add))
	const writers, batches, per = 4, 25, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	var want []string
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				var evs []ev
				var lines []string
				for j := range per {
					line := fmt.Sprintf(`{"w":%d,"b":%d,"e":%d}`, w, i, j)
					evs = append(evs, ev{line, pipeline.Priorities[j%3], fmt.Sprint("src", (w+j)%3), t0})
					lines = append(lines, line)
				}
				if err := a.Write(context.Background(), mkBatch(t0, evs...)); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				want = append(want, lines...)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, lines := bucketLines(t, srv)
	sort.Strings(want)
	if !slices.Equal(lines, want) {
		t.Fatalf("bucket holds %d lines, want %d", len(lines), len(want))
	}
	if files, dirs := stagedFiles(t, a.StagingDir()); len(files) != 0 || len(dirs) != 0 {
		t.Fatalf("staging_dir after Close: %v %v", files, dirs)
	}
	if s := errs.String(); s != "" {
		t.Fatalf("errors: %s", s)
	}
}

// TestS3StartupScan: objects staged by an earlier run are uploaded at start;
// files that are not archive objects are reported and left alone.
func TestS3StartupScan(t *testing.T) {
	srv := s3test.New(t, testBucket)
	dir := t.TempDir()
	// An earlier run: gzip objects staged and rolled, never uploaded.
	l, err := New("earlier", Config{Dir: dir, Node: "node1", Compression: "gzip", Fsync: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	write(t, l, mkBatch(t0, ev{`{"old":1}`, pipeline.P3, "fw", t0}, ev{`{"old":2}`, pipeline.P1, "edr", t0}))
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	staged, _ := stagedFiles(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs", "empty", "dirs"), 0o750); err != nil {
		t.Fatal(err)
	}
	var errs errorLog
	a := newS3(t, srv, S3Config{StagingDir: dir}, WithErrorHandler(errs.add)) // zstd now
	waitFor(t, 10*time.Second, "staged objects to upload", func() bool { n, _ := a.Backlog(); return n == 0 })
	objects, lines := bucketLines(t, srv)
	if !slices.Equal(lines, []string{`{"old":1}`, `{"old":2}`}) {
		t.Fatalf("bucket lines %q", lines)
	}
	var keys []string
	for k := range objects {
		keys = append(keys, filepath.FromSlash(k))
	}
	sort.Strings(keys)
	if !slices.Equal(keys, staged) {
		t.Fatalf("keys %q, want the staged paths %q", keys, staged)
	}
	gz := 0
	for _, r := range srv.Requests() {
		if r.Op == s3test.OpPutObject && r.Header.Get("Content-Type") == "application/gzip" {
			gz++
		}
	}
	if gz != 2 {
		t.Fatalf("%d PutObject with Content-Type application/gzip, want 2 (by extension, not configuration)", gz)
	}
	files, dirs := stagedFiles(t, dir)
	if !slices.Equal(files, []string{"notes.txt"}) || len(dirs) != 0 {
		t.Fatalf("staging_dir: files %v, dirs %v", files, dirs)
	}
	if s := errs.String(); !strings.Contains(s, "unexpected file") || !strings.Contains(s, "notes.txt") {
		t.Fatalf("errors: %s", s)
	}
}

// TestS3ProbeAfterFailure: after a failed upload, a single upload at a time
// probes S3 (no request storm), and only once the backoff has passed.
func TestS3ProbeAfterFailure(t *testing.T) {
	a := &S3Archive{files: map[string]*stagedFile{}, changed: make(chan struct{})}
	f1, f2 := &stagedFile{key: "a"}, &stagedFile{key: "b"}
	a.queue = []*stagedFile{f1, f2}
	a.failures, a.inflight = 1, 1 // a probe is out
	a.probe = &stagedFile{key: "probe"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if f := a.next(ctx); f != nil {
		t.Fatalf("second upload %q started while probing", f.key)
	}
	a.inflight, a.probe = 0, nil // the probe failed
	start := time.Now()          // before retryAt: a pause between the two must not shorten the wait measured
	a.retryAt = start.Add(30 * time.Millisecond)
	if f := a.next(context.Background()); f != f1 || time.Since(start) < 25*time.Millisecond {
		t.Fatalf("next = %v after %v, want %q after the backoff", f, time.Since(start), f1.key)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel2()
	if f := a.next(ctx2); f != nil {
		t.Fatal("two probes at once")
	}
	a.failures = 0 // the probe succeeded
	if f := a.next(context.Background()); f != f2 || a.inflight != 2 {
		t.Fatalf("next = %v, inflight %d", f, a.inflight)
	}
}

// TestS3TemplateExtension: a key_template with an extension of its own
// (".json.zst", ".json.gz") is valid, and its objects are uploaded, both
// those rolled by this run and those an earlier run left staged. The
// uploader used to take only *.ndjson.zst and *.ndjson.gz for archive
// objects: it dropped such objects as "not an archive object" (and as
// "unexpected file" at start), so events whose Write had returned nil never
// reached the bucket, and the backlog did not show them.
func TestS3TemplateExtension(t *testing.T) {
	for _, c := range []struct{ comp, ext string }{{CompressionZstd, ".json.zst"}, {CompressionGzip, ".json.gz"}} {
		t.Run(c.comp, func(t *testing.T) {
			srv := s3test.New(t, testBucket)
			dir := t.TempDir()
			tmpl := "{prefix}/dt={date}/hour={hour}/{node}-{start}-{seq}" + c.ext
			// An earlier run left an object staged.
			l, err := New("earlier", Config{Dir: dir, Node: "node1", KeyTemplate: tmpl, Compression: c.comp, Fsync: new(true)})
			if err != nil {
				t.Fatal(err)
			}
			write(t, l, mkBatch(t0, ev{`{"old":1}`, pipeline.P1, "s", t0}))
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}

			var errs errorLog
			a := openS3(t, srv, S3Config{StagingDir: dir, KeyTemplate: tmpl, Compression: c.comp}, WithErrorHandler(errs.add))
			write(t, a.local, mkBatch(t0, ev{`{"new":1}`, pipeline.P1, "s", t0}))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := a.Close(ctx); err != nil {
				t.Fatal(err)
			}
			objects, lines := bucketLines(t, srv)
			if !slices.Equal(lines, []string{`{"new":1}`, `{"old":1}`}) {
				t.Fatalf("bucket lines %q; errors: %s", lines, errs.String())
			}
			for k := range objects {
				if !strings.HasSuffix(k, c.ext) || strings.HasSuffix(k, ".ndjson"+c.ext) {
					t.Fatalf("key %s does not end with the template's %s", k, c.ext)
				}
			}
			if files, dirs := stagedFiles(t, dir); len(files) != 0 || len(dirs) != 0 {
				t.Fatalf("staging_dir after Close: %v %v", files, dirs)
			}
			if s := errs.String(); s != "" {
				t.Fatalf("errors: %s", s)
			}
		})
	}
}

// TestS3KeysNeverRepeat: an s3 key must never be used twice, since a
// PutObject to an existing key replaces the archived object. A file name
// without {seq} used to be valid for s3: two objects of one partition
// opened within the same second then got the same key once the first was
// uploaded (the only check, on the staged file, no longer saw it), and the
// second upload overwrote the first. Validate now requires {seq}, and with
// it objects opened within one second all reach the bucket.
func TestS3KeysNeverRepeat(t *testing.T) {
	srv := s3test.New(t, testBucket)
	noSeq := s3Config(t, srv, S3Config{KeyTemplate: "{prefix}/dt={date}/hour={hour}/{node}-{start}"})
	if err := noSeq.Validate(); err == nil || !strings.Contains(err.Error(), "must contain {seq}") {
		t.Fatalf("Validate of a file name without {seq} = %v", err)
	}
	if a, err := NewS3Archive("arch", noSeq); err == nil {
		_ = a.Close(context.Background())
		t.Fatal("NewS3Archive accepted a file name without {seq}")
	}

	now := time.Date(2024, 5, 1, 13, 15, 2, 0, time.UTC) // every object opened in this second
	cfg := S3Config{KeyTemplate: "{prefix}/dt={date}/hour={hour}/{node}-{start}-{seq}", MaxObjectBytes: 1}
	a := newS3(t, srv, cfg, WithClock(func() time.Time { return now }))
	for i := range 2 {
		write(t, a.local, mkBatch(t0, ev{fmt.Sprintf(`{"i":%d}`, i), pipeline.P1, "s", t0}))
		waitFor(t, 30*time.Second, "upload", func() bool { n, _ := a.Backlog(); return n == 0 })
	}
	if _, lines := bucketLines(t, srv); !slices.Equal(lines, []string{`{"i":0}`, `{"i":1}`}) {
		t.Fatalf("2 objects opened within one second uploaded; the bucket holds %q", lines)
	}
}

// TestS3SweepSparesOtherNodes: the multipart sweep aborts the unfinished
// uploads of this node only. It used to match file names on the prefix
// "{node}-", so node "node1" aborted those of node "node1-b" (another
// writer of the same bucket and prefix), whose file names start with
// "node1-b-".
func TestS3SweepSparesOtherNodes(t *testing.T) {
	srv := s3test.New(t, testBucket)
	a := newS3(t, srv, S3Config{})
	ctx := context.Background()
	dirKey := "logs/priority=P1/source_type=x/dt=2024-05-01/hour=13/"
	mine := dirKey + "node1-20240501T120000Z-000001.ndjson.zst"
	others := []string{
		dirKey + "node1-b-20240501T120000Z-000001.ndjson.zst",
		dirKey + "node1-20240501-20240501T120000Z-000001.ndjson.zst",
		dirKey + "node1-x.ndjson.zst",
	}
	for _, k := range append([]string{mine}, others...) {
		if _, err := srv.Client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	// The janitor's start-up sweep may run meanwhile: sweep until this
	// node's upload is gone.
	waitFor(t, 30*time.Second, "the sweep", func() bool {
		if _, err := a.sweep(ctx); err != nil {
			t.Fatal(err)
		}
		return len(srv.MultipartUploads(t, testBucket)) <= len(others)
	})
	var left []string
	for _, u := range srv.MultipartUploads(t, testBucket) {
		left = append(left, u.Key)
	}
	sort.Strings(left)
	want := slices.Clone(others)
	sort.Strings(want)
	if !slices.Equal(left, want) {
		t.Fatalf("node1's sweep left %q, want the other nodes' %q", left, want)
	}
}
