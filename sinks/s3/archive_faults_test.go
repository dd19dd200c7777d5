package s3

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found). Fixed: the
// staging or archive root resolved when it is a symbolic link
// (resolveRoot), {node} kept distinct when sanitizing changes it
// (nodeName), and templates whose longest key exceeds S3's 1024 bytes
// refused by Validate (Config.longestKey).

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// symlinkedDir returns a path that is a symbolic link to a fresh directory,
// and the directory.
func symlinkedDir(t *testing.T) (link, real string) {
	t.Helper()
	root := t.TempDir()
	real = filepath.Join(root, "real")
	if err := os.Mkdir(real, 0o750); err != nil {
		t.Fatal(err)
	}
	link = filepath.Join(root, "staging")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	return link, real
}

// TestS3SymlinkedStagingDirStartup: objects an earlier run left in
// staging_dir (rolled objects S3 did not take yet, and *.partial files of a
// crash) must be found and uploaded at start ("At start, NewS3Archive
// finalizes *.partial files a crash left ... and queues every staged object
// for upload"), also when staging_dir is a symbolic link to the real
// directory (a usual way to put the staging area on a bigger volume; Write
// works through it). Expected: both events of the earlier run reach the
// bucket and Close returns nil.
//
// Bug: recoverPartials (recover.go) and S3Archive.scan (s3archive.go) walk
// staging_dir with filepath.WalkDir, which does not descend into a root that
// is a symlink: the *.partial is never finalized, no staged object is
// queued, scan reports the staging directory itself as an "unexpected file",
// Backlog says 0 and Close returns nil while events whose Write returned
// nil never reach S3.
func TestS3SymlinkedStagingDirStartup(t *testing.T) {
	srv := s3test.New(t, testBucket)
	link, real := symlinkedDir(t)

	// The earlier run, S3 down: the first object is over max_object_bytes
	// and rolled (staged), the second stays open and is a *.partial file
	// when the process dies.
	srv.SetFault(func(*s3test.Request) s3test.Fault { return s3test.Status503 })
	a := openS3(t, srv, S3Config{StagingDir: link, MaxObjectBytes: 40}, WithErrorHandler(func(error) {}))
	rolled := `{"rolled":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`
	write(t, a.local, mkBatch(t0, ev{rolled, pipeline.P1, "s1", t0}))
	write(t, a.local, mkBatch(t0, ev{`{"open":1}`, pipeline.P2, "s2", t0}))
	crashS3(a)
	files, _ := stagedFiles(t, real)
	if len(files) != 2 {
		t.Fatalf("staged after the crash: %v", files)
	}
	srv.SetFault(nil)

	var errs errorLog
	b := openS3(t, srv, S3Config{StagingDir: link}, WithErrorHandler(errs.add))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cerr := b.Close(ctx)
	_, lines := bucketLines(t, srv)
	want := []string{`{"open":1}`, rolled}
	if !slices.Equal(lines, want) {
		left, _ := stagedFiles(t, real)
		t.Fatalf("bucket lines %q, want %q (Close = %v); left in staging: %v; errors: %s", lines, want, cerr, left, errs.String())
	}
	if cerr != nil {
		t.Fatalf("Close: %v", cerr)
	}
}

// TestArchiveDirSymlinkedDirRecovery: archive_dir's New "finalizes
// every *.partial under dir before accepting writes" (package doc). With dir
// a symbolic link to the real directory, filepath.WalkDir in recoverPartials
// does not descend into it, so a crash's *.partial is never finalized:
// readers, which list only names without .partial, never see its events.
// Expected: after New, no *.partial is left and the events are in a final
// object.
func TestArchiveDirSymlinkedDirRecovery(t *testing.T) {
	link, real := symlinkedDir(t)
	a, err := New("archive", Config{Dir: link, Node: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, a, mkBatch(t0, ev{`{"n":1}`, pipeline.P1, "s", t0}))
	crash(a)

	b, err := New("archive", Config{Dir: link, Node: "node1"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close(context.Background())
	final, partial := listing(t, real)
	if len(partial) != 0 || len(final) != 1 {
		t.Fatalf("after New: final %v, partial %v; want the crash's partial finalized", final, partial)
	}
}

// TestS3NodesCollideAfterSanitizing: {node} is what keeps the keys of
// concurrent writers apart ("Node ... must be unique among the writers to a
// bucket and prefix"; keys must never repeat, since a PutObject to an
// existing key replaces the archived object). Two writers configured with
// different node names must therefore never render the same {node}, or
// Validate must refuse the names it would have to change. Sanitize is not
// injective (unsafe bytes become '_', values are cut at 64 bytes), and
// neither Validate nor NewS3Archive says so: nodes "edge router" and
// "edge_router", or two long names that differ after 64 bytes, get the same
// {node}. Two such processes that open an object of one partition in the
// same second with the same {seq} (both count from 1 after a start) write
// the same key, and the second upload replaces the first archived object.
func TestS3NodesCollideAfterSanitizing(t *testing.T) {
	long := "logrouter-archive-eu-central-1-production-security-cluster-statefulset-"
	for _, pair := range [][2]string{{"edge router", "edge_router"}, {long + "0", long + "1"}} {
		var nodes []string
		refused := false
		for _, n := range pair {
			cfg := S3Config{Bucket: testBucket, StagingDir: "/s", Node: n}
			if err := cfg.Validate(); err != nil {
				refused = true
				continue
			}
			l, err := NewLayout(cfg.Layout())
			if err != nil {
				t.Fatal(err)
			}
			nodes = append(nodes, l.Node())
		}
		if !refused && nodes[0] == nodes[1] {
			t.Errorf("nodes %q and %q both validate and both render {node} %q: their keys collide", pair[0], pair[1], nodes[0])
		}
	}

	// End to end: two processes (simulated by restarting the per-process
	// {seq}) with those nodes, objects opened in the same second.
	srv := s3test.New(t, testBucket)
	now := time.Date(2024, 5, 1, 13, 15, 2, 0, time.UTC)
	saved := seqCounter.Load()
	defer func() { seqCounter.Store(max(seqCounter.Load(), saved)) }()
	for i, n := range []string{long + "0", long + "1"} {
		seqCounter.Store(0) // a fresh process
		a, err := NewS3Archive("arch", s3Config(t, srv, S3Config{Node: n}), withoutStartDelay(),
			withBackoff(5*time.Millisecond, 50*time.Millisecond), WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
			fastRetries(3), WithClock(func() time.Time { return now }))
		if err != nil {
			return // the node name is refused: fine
		}
		write(t, a.local, mkBatch(t0, ev{fmt.Sprintf(`{"writer":%d}`, i), pipeline.P1, "s", t0}))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = a.Close(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	objects, lines := bucketLines(t, srv)
	if !slices.Equal(lines, []string{`{"writer":0}`, `{"writer":1}`}) {
		var keys []string
		for k := range objects {
			keys = append(keys, k)
		}
		t.Fatalf("two writers with different nodes: the bucket holds %q in %q, want both events", lines, keys)
	}
}

// TestS3KeyOverS3Limit: validateObjects promises that keeping prefix
// and key_template under 512 bytes keeps object keys within S3's 1024, and
// Close promises to upload everything staged or to return an error saying
// what stays behind. A template that passes Validate but repeats a
// placeholder renders keys over 1024 bytes (every {source_type} takes up to
// 64); S3Archive.enqueue then rejects each rolled object as "not an archive
// object" and forgets it: Write returned nil, Backlog says 0, Close returns
// nil, and the events never reach the bucket. Expected: Validate refuses
// the template (or the events reach the bucket, or Close reports them).
func TestS3KeyOverS3Limit(t *testing.T) {
	srv := s3test.New(t, testBucket)
	tmpl := "{prefix}/" + strings.Repeat("{source_type}/", 16) + "{node}-{start}-{seq}"
	cfg := S3Config{KeyTemplate: tmpl}
	if err := s3Config(t, srv, cfg).Validate(); err != nil {
		return // refused up front: fine
	}
	var errs errorLog
	a := newS3(t, srv, cfg, WithErrorHandler(errs.add))
	src := strings.Repeat("s", 64)
	if err := a.Write(context.Background(), mkBatch(t0, ev{`{"n":1}`, pipeline.P1, src, t0})); err != nil {
		return // refused at Write: the queue keeps the event
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cerr := a.Close(ctx)
	_, lines := bucketLines(t, srv)
	if cerr == nil && !slices.Equal(lines, []string{`{"n":1}`}) {
		t.Fatalf("template %q validated, Write and Close returned nil, but the bucket holds %q; errors: %s", tmpl, lines, errs.String())
	}
}
