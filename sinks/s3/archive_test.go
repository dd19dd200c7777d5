package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
)

func TestMain(m *testing.M) { testutil.VerifyTestMain(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *clock { return &clock{t: t} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type ev struct {
	raw  string
	prio pipeline.Priority
	src  string
	t    time.Time
}

var t0 = time.Date(2024, 5, 1, 13, 15, 2, 0, time.UTC)

func mkBatch(ingest time.Time, evs ...ev) *pipeline.Batch {
	b := pipeline.NewBatch()
	b.Meta = pipeline.Meta{Input: "http", IngestTime: ingest.UnixNano()}
	for _, e := range evs {
		a := b.Arena()
		a = append(a, e.raw...)
		var tm int64
		if !e.t.IsZero() {
			tm = e.t.UnixNano()
		}
		b.Commit(a, pipeline.Event{Priority: e.prio, SourceType: e.src, Time: tm})
	}
	return b
}

func newArchive(t testing.TB, cfg Config, opts ...Option) *LocalArchive {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.Node == "" {
		cfg.Node = "node1"
	}
	a, err := New("archive", cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(context.Background()) })
	return a
}

func write(t testing.TB, a *LocalArchive, b *pipeline.Batch) {
	t.Helper()
	if err := a.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func decompress(t testing.TB, path string, data []byte) string {
	t.Helper()
	switch {
	case strings.HasSuffix(path, ".zst"):
		d, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		out, err := d.DecodeAll(data, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return string(out)
	case strings.HasSuffix(path, ".gz"):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return string(out)
	}
	t.Fatalf("unknown extension: %s", path)
	return ""
}

// listing returns the final objects (key -> decompressed content) and the
// keys of partial files under dir.
func listing(t testing.TB, dir string) (final map[string]string, partial []string) {
	t.Helper()
	final = map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if strings.HasSuffix(rel, partialSuffix) {
			partial = append(partial, rel)
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		final[rel] = decompress(t, path, data)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(partial)
	return final, partial
}

// byDir maps the directory part of each key to its file contents in key
// order.
func byDir(final map[string]string) map[string][]string {
	out := map[string][]string{}
	keys := make([]string, 0, len(final))
	for k := range final {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := k[:strings.LastIndexByte(k, '/')]
		out[d] = append(out[d], final[k])
	}
	return out
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		cfg Config
		msg string
	}{
		{Config{}, `"dir" is required`},
		{Config{Dir: "d", Compression: "lz4"}, `"compression"`},
		{Config{Dir: "d", Compression: "gzip", GzipLevel: 10}, `"gzip_level"`},
		{Config{Dir: "d", MaxObjectBytes: -1}, `"max_object_bytes"`},
		{Config{Dir: "d", MaxObjectAge: -time.Second}, `"max_object_age"`},
		{Config{Dir: "d", MaxOpenObjects: -1}, `"max_open_objects"`},
		{Config{Dir: "d", TimeSource: "wall"}, `"time_source"`},
		{Config{Dir: "d", KeyTemplate: "{nope}/{seq}"}, `"key_template"`},
	} {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%+v: Validate() = %v, want %s", c.cfg, err, c.msg)
		}
	}
	if err := (Config{Dir: "d"}).Validate(); err != nil {
		t.Fatal(err)
	}
	d := Config{Dir: "d"}.withDefaults()
	if d.MaxObjectBytes != 128<<20 || d.MaxObjectAge != 5*time.Minute || d.MaxOpenObjects != 256 ||
		d.Compression != "zstd" || d.GzipLevel != 1 || d.Prefix != "logs" || d.TimeSource != "event" || !d.fsync() {
		t.Fatalf("defaults: %+v", d)
	}
}

func TestWriteContents(t *testing.T) {
	for _, comp := range []string{"zstd", "gzip"} {
		t.Run(comp, func(t *testing.T) {
			clk := newClock(t0)
			a := newArchive(t, Config{Compression: comp, Fsync: new(comp == "gzip")}, WithClock(clk.now))
			h13 := time.Date(2024, 5, 1, 13, 0, 1, 0, time.UTC)
			h12 := time.Date(2024, 5, 1, 12, 59, 59, 999999999, time.UTC)
			write(t, a, mkBatch(t0,
				ev{`{"n":1}`, pipeline.P1, "crowdstrike.falcon", h13},
				ev{`{"n":2}`, pipeline.P1, "crowdstrike.falcon", h13},
				ev{`{"n":3}`, pipeline.P2, "okta", h13},
				ev{`{"n":4}`, pipeline.P1, "crowdstrike.falcon", h12},
				ev{`{"n":5}`, pipeline.P1, "crowdstrike.falcon", h13},
				ev{`{"n":6,"s":"\n\"x\""}`, pipeline.P2, "okta", time.Time{}}, // no event time: ingest hour
			))
			write(t, a, mkBatch(t0, ev{`{"n":7}`, pipeline.P1, "crowdstrike.falcon", h13}))
			write(t, a, mkBatch(t0)) // empty: no-op
			final, partial := listing(t, a.Dir())
			if len(final) != 0 || len(partial) != 3 {
				t.Fatalf("before Close: final %v, partial %v", final, partial)
			}
			if err := a.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			final, partial = listing(t, a.Dir())
			if len(partial) != 0 {
				t.Fatalf("partials after Close: %v", partial)
			}
			ext := map[string]string{"zstd": "zst", "gzip": "gz"}[comp]
			name := regexp.MustCompile(`^node1-20240501T131502Z-\d{6}\.ndjson\.` + ext + `$`)
			for k := range final {
				if !name.MatchString(k[strings.LastIndexByte(k, '/')+1:]) {
					t.Errorf("object name %q", k)
				}
			}
			want := map[string][]string{
				"logs/priority=P1/source_type=crowdstrike.falcon/dt=2024-05-01/hour=13": {"{\"n\":1}\n{\"n\":2}\n{\"n\":5}\n{\"n\":7}\n"},
				"logs/priority=P1/source_type=crowdstrike.falcon/dt=2024-05-01/hour=12": {"{\"n\":4}\n"},
				"logs/priority=P2/source_type=okta/dt=2024-05-01/hour=13":               {"{\"n\":3}\n{\"n\":6,\"s\":\"\\n\\\"x\\\"\"}\n"},
			}
			if got := byDir(final); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("objects:\n%q\nwant\n%q", got, want)
			}
			// The command-line tools read concatenated frames/members.
			tool := map[string][]string{"zstd": {"zstd", "-dc"}, "gzip": {"gunzip", "-c"}}[comp]
			if _, err := exec.LookPath(tool[0]); err != nil {
				t.Logf("%s not installed; skipping CLI check", tool[0])
				return
			}
			for k, content := range final {
				out, err := exec.Command(tool[0], append(tool[1:], filepath.Join(a.Dir(), k))...).Output()
				if err != nil {
					t.Fatalf("%s %s: %v", tool[0], k, err)
				}
				if string(out) != content {
					t.Fatalf("%s %s = %q, want %q", tool[0], k, out, content)
				}
			}
		})
	}
}

func TestTimeSourceIngest(t *testing.T) {
	clk := newClock(t0)
	a := newArchive(t, Config{TimeSource: "ingest", Prefix: "arch/v1"}, WithClock(clk.now))
	ingest := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	write(t, a, mkBatch(ingest,
		ev{`{"a":1}`, pipeline.P3, "fw", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		ev{`{"a":2}`, pipeline.P3, "fw", time.Time{}},
	))
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	final, _ := listing(t, a.Dir())
	want := map[string][]string{"arch/v1/priority=P3/source_type=fw/dt=2023-01-02/hour=03": {"{\"a\":1}\n{\"a\":2}\n"}}
	if got := byDir(final); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("objects %q, want %q", got, want)
	}
}

func TestRollBySize(t *testing.T) {
	clk := newClock(t0)
	a := newArchive(t, Config{MaxObjectBytes: 25}, WithClock(clk.now))
	line := func(i int) ev { return ev{fmt.Sprintf(`{"i":%d,"pad":"xx"}`, i), pipeline.P2, "s", t0} } // 18 bytes + \n
	for i := range 5 {
		write(t, a, mkBatch(t0, line(i)))
	}
	// Object 1: 0,1 (38 >= 25 rolls); object 2: 2,3; object 3: 4 (open).
	final, partial := listing(t, a.Dir())
	if len(final) != 2 || len(partial) != 1 {
		t.Fatalf("final %d, partial %v", len(final), partial)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	final, _ = listing(t, a.Dir())
	got := byDir(final)["logs/priority=P2/source_type=s/dt=2024-05-01/hour=13"]
	want := []string{
		"{\"i\":0,\"pad\":\"xx\"}\n{\"i\":1,\"pad\":\"xx\"}\n",
		"{\"i\":2,\"pad\":\"xx\"}\n{\"i\":3,\"pad\":\"xx\"}\n",
		"{\"i\":4,\"pad\":\"xx\"}\n",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("objects %q, want %q", got, want)
	}
}

func TestRollByAge(t *testing.T) {
	clk := newClock(t0)
	a := newArchive(t, Config{MaxObjectAge: time.Minute}, WithClock(clk.now), withSweepInterval(time.Hour))
	e := func(s string) *pipeline.Batch { return mkBatch(t0, ev{s, pipeline.P1, "s", t0}) }
	write(t, a, e(`1`))
	clk.add(59 * time.Second)
	write(t, a, e(`2`))
	if final, _ := listing(t, a.Dir()); len(final) != 0 {
		t.Fatalf("rolled too early: %v", final)
	}
	clk.add(time.Second) // age reaches 1m: the next Write rolls first
	write(t, a, e(`3`))
	final, partial := listing(t, a.Dir())
	if len(final) != 1 || len(partial) != 1 {
		t.Fatalf("after age roll on Write: final %v, partial %v", final, partial)
	}
	for _, c := range final {
		if c != "1\n2\n" {
			t.Fatalf("rolled object = %q", c)
		}
	}
	// The ticker's sweep rolls idle objects.
	clk.add(time.Minute)
	a.sweep()
	final, partial = listing(t, a.Dir())
	if len(final) != 2 || len(partial) != 0 {
		t.Fatalf("after sweep: final %v, partial %v", final, partial)
	}
	// The object after the roll started at the clock of the Write that
	// rolled: its {start} is one minute later.
	var starts []string
	for k := range final {
		starts = append(starts, regexp.MustCompile(`\d{8}T\d{6}Z`).FindString(k))
	}
	sort.Strings(starts)
	if !slices.Equal(starts, []string{"20240501T131502Z", "20240501T131602Z"}) {
		t.Fatalf("starts %v", starts)
	}
}

func TestRollByAgeTicker(t *testing.T) {
	a := newArchive(t, Config{MaxObjectAge: 50 * time.Millisecond}, withSweepInterval(5*time.Millisecond))
	write(t, a, mkBatch(t0, ev{`{}`, pipeline.P1, "s", t0}))
	deadline := time.Now().Add(30 * time.Second)
	for {
		final, partial := listing(t, a.Dir())
		if len(final) == 1 && len(partial) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("ticker did not roll: final %v, partial %v", final, partial)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOpenObjectCap(t *testing.T) {
	clk := newClock(t0)
	a := newArchive(t, Config{MaxOpenObjects: 2}, WithClock(clk.now))
	w := func(src string) {
		t.Helper()
		clk.add(time.Second)
		write(t, a, mkBatch(t0, ev{`{"s":"` + src + `"}`, pipeline.P1, src, t0}))
		if _, partial := listing(t, a.Dir()); len(partial) > 2 {
			t.Fatalf("%d objects open: %v", len(partial), partial)
		}
	}
	w("a")
	w("b")
	w("a") // a is now more recent than b
	w("c") // evicts b
	_, partial := listing(t, a.Dir())
	if len(partial) != 2 || !strings.Contains(partial[0], "source_type=a/") || !strings.Contains(partial[1], "source_type=c/") {
		t.Fatalf("open after evicting b: %v", partial)
	}
	w("d") // evicts a
	w("e") // evicts c
	final, partial := listing(t, a.Dir())
	if len(final) != 3 || len(partial) != 2 {
		t.Fatalf("final %v, partial %v", final, partial)
	}
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	final, _ = listing(t, a.Dir())
	if len(final) != 5 {
		t.Fatalf("%d objects after Close", len(final))
	}
	if got := byDir(final)["logs/priority=P1/source_type=a/dt=2024-05-01/hour=13"]; !slices.Equal(got, []string{"{\"s\":\"a\"}\n{\"s\":\"a\"}\n"}) {
		t.Fatalf("object a = %q", got)
	}
}

// crash simulates a process that dies: the ticker stops and the files are
// closed without rolling.
func crash(a *LocalArchive) {
	a.mu.Lock()
	a.closed = true
	a.mu.Unlock()
	a.state.Add(closedBit)
	a.drainOnce.Do(func() { close(a.drained) })
	close(a.stop)
	<-a.done
	for _, o := range a.objects {
		o.f.Close()
		o.f = nil
	}
}

func TestRecoverPartials(t *testing.T) {
	for _, comp := range []string{"zstd", "gzip"} {
		t.Run(comp, func(t *testing.T) {
			dir := t.TempDir()
			clk := newClock(t0)
			a := newArchive(t, Config{Dir: dir, Compression: comp}, WithClock(clk.now))
			for _, src := range []string{"torn", "zeros", "intact", "empty"} {
				write(t, a, mkBatch(t0, ev{`{"first":"` + src + `"}`, pipeline.P1, src, t0}))
				write(t, a, mkBatch(t0, ev{`{"second":"` + src + `"}`, pipeline.P1, src, t0}))
			}
			crash(a)
			_, partial := listing(t, dir)
			if len(partial) != 4 {
				t.Fatalf("partials %v", partial)
			}
			sc := &scratch{}
			frame := slices.Clone(a.compress(sc, []byte(strings.Repeat(`{"lost":true}`+"\n", 100))))
			var clash string
			for _, p := range partial {
				path := filepath.Join(dir, p)
				switch {
				case strings.Contains(p, "source_type=torn/"):
					appendFile(t, path, frame[:len(frame)-3])
				case strings.Contains(p, "source_type=zeros/"):
					appendFile(t, path, make([]byte, 4096))
				case strings.Contains(p, "source_type=empty/"):
					if err := os.Truncate(path, 0); err != nil {
						t.Fatal(err)
					}
				case strings.Contains(p, "source_type=intact/"):
					// An object of the same name already exists.
					clash = strings.TrimSuffix(path, partialSuffix)
					if err := os.WriteFile(clash, []byte("other"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			var mu sync.Mutex
			var reports []string
			b, err := New("archive", Config{Dir: dir, Compression: comp, Node: "node1"}, WithErrorHandler(func(err error) {
				mu.Lock()
				reports = append(reports, err.Error())
				mu.Unlock()
			}))
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close(context.Background())
			if err := os.Remove(clash); err != nil {
				t.Fatal(err)
			}
			final, partial := listing(t, dir)
			if len(partial) != 0 {
				t.Fatalf("partials left: %v", partial)
			}
			got := map[string]string{}
			for k, v := range final {
				src := regexp.MustCompile(`source_type=([a-z]+)/`).FindStringSubmatch(k)[1]
				got[src] = v
				if src == "intact" && !strings.Contains(k, "-recovered-1.ndjson.") {
					t.Errorf("clashing object recovered as %s", k)
				}
			}
			want := map[string]string{}
			for _, src := range []string{"torn", "zeros", "intact"} {
				want[src] = `{"first":"` + src + `"}` + "\n" + `{"second":"` + src + `"}` + "\n"
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("recovered %q\nwant %q", got, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(reports) != 2 || !strings.Contains(strings.Join(reports, "\n"), "torn trailing frame") {
				t.Fatalf("reports %q", reports)
			}
		})
	}
}

func appendFile(t *testing.T, path string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestValidZstdPrefix(t *testing.T) {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	defer enc.Close()
	big := make([]byte, 600<<10) // several blocks, incompressible
	for i := range big {
		big[i] = byte(rand.Uint32())
	}
	var file []byte
	var ends []int64
	for _, src := range [][]byte{[]byte("hello\n"), big, bytes.Repeat([]byte("a"), 300<<10)} {
		file = enc.EncodeAll(src, file)
		ends = append(ends, int64(len(file)))
	}
	// Every cut yields the last whole frame before it.
	for cut := int64(0); cut <= int64(len(file)); cut += 1 + cut/50 {
		want := int64(0)
		for _, e := range ends {
			if e <= cut {
				want = e
			}
		}
		got, err := validZstdPrefix(bytes.NewReader(file), cut)
		if err != nil || got != want {
			t.Fatalf("cut %d: got %d, %v; want %d", cut, got, err, want)
		}
	}
	// A skippable frame counts as whole.
	skip := append([]byte{0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0}, "abc"...)
	withSkip := append(slices.Clone(file), skip...)
	if got, _ := validZstdPrefix(bytes.NewReader(withSkip), int64(len(withSkip))); got != int64(len(withSkip)) {
		t.Fatalf("skippable: %d", got)
	}
}

func TestSanitizedSourceTypes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "archive")
	a := newArchive(t, Config{Dir: dir, Node: "../../n", Prefix: "../up"})
	evil := []string{"../../etc/passwd", "a/b\x00c", "..", "/", "", ".hidden", strings.Repeat("../", 40)}
	var evs []ev
	for i, s := range evil {
		evs = append(evs, ev{fmt.Sprintf(`{"i":%d}`, i), pipeline.P1, s, t0})
	}
	write(t, a, mkBatch(t0, evs...))
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(root); len(ents) != 1 || ents[0].Name() != "archive" {
		t.Fatalf("something was written outside the archive: %v", ents)
	}
	final, _ := listing(t, dir)
	if len(final) != len(evil) {
		t.Fatalf("%d objects for %d source types: %v", len(final), len(evil), final)
	}
	var sources []string
	for k := range final {
		if !filepath.IsLocal(k) || strings.Contains(k, "/.") || !strings.HasPrefix(k, "_./up/priority=P1/source_type=") {
			t.Errorf("unsafe key %q", k)
		}
		sources = append(sources, strings.Split(k, "/")[3])
		if !strings.Contains(k, "/n-") { // "../../n": sanitized, without the leading "_._._" (a name Athena would hide)
			t.Errorf("node not sanitized in %q", k)
		}
	}
	sort.Strings(sources)
	want := []string{"source_type=_", "source_type=_.", "source_type=_._" + strings.Repeat("._", 39) /* whole: 81 of maxSourceTypeLen bytes */, "source_type=_._._etc_passwd", "source_type=_hidden", "source_type=a_b_c", "source_type=unknown"}
	if !slices.Equal(sources, want) {
		t.Fatalf("sources\n%q\nwant\n%q", sources, want)
	}
}

func TestCloseAndCancel(t *testing.T) {
	a := newArchive(t, Config{})
	ctx := context.Background()
	write(t, a, mkBatch(t0, ev{`{}`, pipeline.P1, "s", t0}))

	// A Write waiting for a busy partition gives up at its deadline.
	o := a.objects[Partition{Priority: pipeline.P1, SourceType: "s", Hour: HourOf(t0.UnixNano())}]
	o.sem <- struct{}{}
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	err := a.Write(dctx, mkBatch(t0, ev{`{}`, pipeline.P1, "s", t0}))
	cancel()
	o.unlock()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocked Write = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Write(cctx, mkBatch(t0, ev{`{}`, pipeline.P1, "s", t0})); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled Write = %v", err)
	}

	// Close bounded by ctx while a Write holds the object; a second Close
	// finishes the job.
	o.sem <- struct{}{}
	dctx, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
	err = a.Close(dctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with busy object = %v", err)
	}
	o.unlock()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatalf("third Close = %v", err)
	}
	if err := a.Write(ctx, mkBatch(t0, ev{`{}`, pipeline.P1, "s", t0})); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("Write after Close = %v", err)
	}
	if err := a.Write(ctx, mkBatch(t0)); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("empty Write after Close = %v", err)
	}
	final, partial := listing(t, a.Dir())
	if len(final) != 1 || len(partial) != 0 {
		t.Fatalf("final %v partial %v", final, partial)
	}
}

func TestCloseWaitsForWrites(t *testing.T) {
	a := newArchive(t, Config{})
	ctx := context.Background()
	write(t, a, mkBatch(t0, ev{`{"n":1}`, pipeline.P1, "s", t0}))
	o := a.objects[Partition{Priority: pipeline.P1, SourceType: "s", Hour: HourOf(t0.UnixNano())}]
	o.sem <- struct{}{} // the next Write blocks on the object
	res := make(chan error)
	go func() { res <- a.Write(ctx, mkBatch(t0, ev{`{"n":2}`, pipeline.P1, "s", t0})) }()
	for a.state.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	err := a.Close(dctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close with a Write in flight = %v", err)
	}
	if err := a.Write(ctx, mkBatch(t0, ev{`{"n":3}`, pipeline.P1, "s", t0})); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("Write after Close = %v", err)
	}
	o.unlock()
	if err := <-res; err != nil {
		t.Fatalf("in-flight Write = %v", err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	final, partial := listing(t, a.Dir())
	if len(partial) != 0 || len(final) != 1 {
		t.Fatalf("final %v partial %v", final, partial)
	}
	for _, c := range final {
		if c != "{\"n\":1}\n{\"n\":2}\n" {
			t.Fatalf("content %q", c)
		}
	}
}

func TestWriteErrorRollsObject(t *testing.T) {
	a := newArchive(t, Config{})
	ctx := context.Background()
	write(t, a, mkBatch(t0, ev{`{"n":1}`, pipeline.P1, "s", t0}))
	o := a.objects[Partition{Priority: pipeline.P1, SourceType: "s", Hour: HourOf(t0.UnixNano())}]
	ro, err := os.Open(o.partial)
	if err != nil {
		t.Fatal(err)
	}
	good := o.f
	o.f = ro // writes now fail with EBADF
	err = a.Write(ctx, mkBatch(t0, ev{`{"n":2}`, pipeline.P1, "s", t0}))
	good.Close()
	if err == nil || pipeline.IsPermanent(err) {
		t.Fatalf("Write on a broken file = %v, want a retryable error", err)
	}
	write(t, a, mkBatch(t0, ev{`{"n":3}`, pipeline.P1, "s", t0}))
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	final, _ := listing(t, a.Dir())
	got := byDir(final)["logs/priority=P1/source_type=s/dt=2024-05-01/hour=13"]
	if !slices.Equal(got, []string{"{\"n\":1}\n", "{\"n\":3}\n"}) {
		t.Fatalf("objects %q", got)
	}
}

func TestConcurrentWriters(t *testing.T) {
	for _, comp := range []string{"zstd", "gzip"} {
		t.Run(comp, func(t *testing.T) {
			a := newArchive(t, Config{Compression: comp, MaxObjectBytes: 16 << 10, MaxOpenObjects: 3},
				WithErrorHandler(func(err error) { t.Error(err) }))
			const writers, batches, per = 8, 20, 25
			srcs := []string{"a", "b", "c", "d", "e"}
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range batches {
						var evs []ev
						for j := range per {
							src := srcs[(w+i+j/5)%len(srcs)]
							prio := pipeline.Priorities[j%3]
							evs = append(evs, ev{fmt.Sprintf(`{"src":%q,"prio":%q,"w":%d,"b":%d,"e":%d}`, src, prio, w, i, j), prio, src, t0})
						}
						b := mkBatch(t0, evs...)
						if err := a.Write(context.Background(), b); err != nil {
							t.Error(err)
						}
						b.Release()
					}
				}()
			}
			wg.Wait()
			if err := a.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			final, partial := listing(t, a.Dir())
			if len(partial) != 0 {
				t.Fatalf("partials: %v", partial)
			}
			seen := map[string]bool{}
			for k, content := range final {
				for _, line := range strings.Split(strings.TrimSuffix(content, "\n"), "\n") {
					var src, prio string
					var w, b, e int
					if _, err := fmt.Sscanf(line, `{"src":%q,"prio":%q,"w":%d,"b":%d,"e":%d}`, &src, &prio, &w, &b, &e); err != nil {
						t.Fatalf("%s: %q: %v", k, line, err)
					}
					if !strings.Contains(k, "/priority="+prio+"/source_type="+src+"/") {
						t.Fatalf("event %s in object %s", line, k)
					}
					if seen[line] {
						t.Fatalf("duplicate %s", line)
					}
					seen[line] = true
				}
			}
			if len(seen) != writers*batches*per {
				t.Fatalf("%d events archived, want %d", len(seen), writers*batches*per)
			}
		})
	}
}

func TestWriteDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	a := newArchive(t, Config{})
	b := benchBatch(500)
	ctx := context.Background()
	for range 3 {
		write(t, a, b)
	}
	allocs := testing.AllocsPerRun(50, func() {
		if err := a.Write(ctx, b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 1 {
		t.Fatalf("%.1f allocations per Write of %d events", allocs, b.Len())
	}
}

// benchBatch returns n realistic JSON events of 300-1500 bytes over three
// partitions, in runs as a router would deliver them.
func benchBatch(n int) *pipeline.Batch {
	r := rand.New(rand.NewPCG(1, 2))
	b := pipeline.NewBatch()
	b.Meta = pipeline.Meta{Input: "http", Protocol: "hec", IngestTime: t0.UnixNano()}
	parts := []struct {
		src  string
		prio pipeline.Priority
	}{{"crowdstrike.falcon", pipeline.P1}, {"okta.system", pipeline.P2}, {"paloalto.traffic", pipeline.P3}}
	users := []string{"alice", "bob", "carol", "dave", "svc-backup"}
	actions := []string{"ProcessRollup2", "NetworkConnectIP4", "user.session.start", "TRAFFIC", "DnsRequest"}
	var line []byte
	for i := range n {
		p := parts[(i/20)%len(parts)]
		line = line[:0]
		line = fmt.Appendf(line, `{"@timestamp":"2024-05-01T13:%02d:%02d.%03dZ","event":{"action":%q,"outcome":"success","id":"%016x"},"host":{"name":"ws-%04d","ip":"10.%d.%d.%d"},"user":{"name":%q},"process":{"pid":%d,"command_line":"`,
			r.IntN(60), r.IntN(60), r.IntN(1000), actions[r.IntN(len(actions))], r.Uint64(), r.IntN(5000), r.IntN(256), r.IntN(256), r.IntN(256), users[r.IntN(len(users))], r.IntN(65536))
		target := 320 + r.IntN(1150)
		for len(line) < target-30 {
			switch r.IntN(4) {
			case 0:
				line = append(line, `C:\\Windows\\System32\\`...)
			case 1:
				line = fmt.Appendf(line, "%08x-%04x ", r.Uint32(), r.Uint32()&0xffff)
			case 2:
				line = append(line, users[r.IntN(len(users))]...)
				line = append(line, ' ')
			default:
				line = append(line, "svchost.exe -k netsvcs -p "[:5+r.IntN(21)]...)
			}
		}
		line = fmt.Appendf(line, `"},"source":{"port":%d}}`, r.IntN(65536))
		a := b.Arena()
		a = append(a, line...)
		b.Commit(a, pipeline.Event{Priority: p.prio, SourceType: p.src, Time: t0.Add(time.Duration(i) * time.Millisecond).UnixNano(), Rule: -1})
	}
	return b
}

func BenchmarkLocalArchiveWrite(b *testing.B) {
	for _, comp := range []string{"zstd", "gzip"} {
		b.Run(comp, func(b *testing.B) {
			a := newArchive(b, Config{Compression: comp})
			batch := benchBatch(500)
			ctx := context.Background()
			for range 3 { // grow the pooled buffers and encoder state
				write(b, a, batch)
			}
			b.SetBytes(int64(batch.Bytes()))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := a.Write(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if err := a.Close(ctx); err != nil {
				b.Fatal(err)
			}
		})
	}
}

func TestBenchBatchRatio(t *testing.T) {
	b := benchBatch(500)
	a := newArchive(t, Config{})
	sc := &scratch{index: map[Partition]int{}}
	a.group(sc, b)
	raw, comp := 0, 0
	for _, g := range sc.groups {
		raw += len(g.buf)
		comp += len(a.compress(&scratch{}, g.buf))
	}
	t.Logf("bench batch: %d events, %d bytes, %d partitions, zstd ratio %.1f", b.Len(), raw, len(sc.groups), float64(raw)/float64(comp))
	if len(sc.groups) != 3 {
		t.Fatalf("%d partitions", len(sc.groups))
	}
	for _, e := range b.Events {
		if len(e.Raw) < 300 || len(e.Raw) > 1500 {
			t.Fatalf("event of %d bytes", len(e.Raw))
		}
	}
}

func BenchmarkLocalArchiveWriteParallel(b *testing.B) {
	a := newArchive(b, Config{})
	batch := benchBatch(500)
	ctx := context.Background()
	for range 3 {
		write(b, a, batch)
	}
	b.SetBytes(int64(batch.Bytes()))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := a.Write(ctx, batch); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
