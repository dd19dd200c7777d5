package file

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
)

func TestMain(m *testing.M) { testutil.VerifyTestMain(m) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func batchOf(lines ...string) *pipeline.Batch {
	b := pipeline.NewBatch()
	for _, l := range lines {
		a := b.Arena()
		a = append(a, l...)
		b.Commit(a, pipeline.Event{SourceType: "test", Priority: pipeline.P2})
	}
	return b
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

func TestValidate(t *testing.T) {
	err := Config{MaxFileBytes: -1}.Validate()
	if err == nil || !strings.Contains(err.Error(), `"dir"`) || !strings.Contains(err.Error(), `"max_file_bytes"`) {
		t.Fatalf("Validate() = %v, want errors naming dir and max_file_bytes", err)
	}
	if err := (Config{Dir: "x"}).Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := New("", Config{Dir: t.TempDir()}); err == nil {
		t.Fatal("New with empty name succeeded")
	}
}

func TestWriteContents(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Date(2024, 5, 1, 13, 59, 0, 0, time.UTC)}
	s, err := New("siem/../x", Config{Dir: dir, Fsync: new(true)}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got := readDir(t, dir); len(got) != 0 {
		t.Fatalf("files before first write: %v", got)
	}
	if err := s.Write(ctx, batchOf(`{"a":1}`, `{"b":"x\u0000y"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, batchOf()); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, batchOf(`{"c":3}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Write(ctx, batchOf(`{}`)); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("Write after Close = %v, want ErrClosed", err)
	}
	want := map[string]string{
		"siem_.._x-20240501T13.ndjson": "{\"a\":1}\n{\"b\":\"x\\u0000y\"}\n{\"c\":3}\n",
	}
	if got := readDir(t, dir); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files = %q, want %q", got, want)
	}
	if s.Name() != "siem/../x" {
		t.Fatalf("Name() = %q", s.Name())
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC)}
	s, err := New("out", Config{Dir: dir, MaxFileBytes: 20}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w := func(lines ...string) {
		t.Helper()
		if err := s.Write(ctx, batchOf(lines...)); err != nil {
			t.Fatal(err)
		}
	}
	w("aaaaaaaa")             // 9 bytes
	w("bbbbbbbb")             // 18
	w("cccc")                 // would be 23 > 20: rotate to .1
	w("dddddddddddddddddddd") // 21 bytes alone: 5+21 > 20, rotate to .2, oversized but whole
	clk.set(time.Date(2024, 5, 1, 14, 0, 0, 0, time.UTC))
	w("eeee") // new hour
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"out-20240501T13.ndjson":   "aaaaaaaa\nbbbbbbbb\n",
		"out-20240501T13.1.ndjson": "cccc\n",
		"out-20240501T13.2.ndjson": "dddddddddddddddddddd\n",
		"out-20240501T14.ndjson":   "eeee\n",
	}
	if got := readDir(t, dir); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("files = %q\nwant %q", got, want)
	}

	// A restart in the same hour never appends to the old files.
	s, err = New("out", Config{Dir: dir}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	w("ffff")
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got := readDir(t, dir)["out-20240501T14.1.ndjson"]; got != "ffff\n" {
		t.Fatalf("after restart: %q", got)
	}
}

func TestConcurrentWriters(t *testing.T) {
	dir := t.TempDir()
	s, err := New("conc", Config{Dir: dir, MaxFileBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const writers, batches, per = 8, 40, 7
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range batches {
				lines := make([]string, per)
				for j := range lines {
					lines[j] = fmt.Sprintf(`{"w":%d,"b":%d,"e":%d}`, w, i, j)
				}
				b := batchOf(lines...)
				if err := s.Write(ctx, b); err != nil {
					t.Error(err)
				}
				b.Release()
			}
		}()
	}
	wg.Wait()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	var all []string
	files := readDir(t, dir)
	if len(files) < 2 {
		t.Fatalf("expected size rotation, got %d files", len(files))
	}
	for name, data := range files {
		if len(data) > 4096 {
			t.Errorf("%s has %d bytes > max_file_bytes", name, len(data))
		}
		// Lines of one batch stay contiguous.
		lines := strings.Split(strings.TrimSuffix(data, "\n"), "\n")
		for i := 0; i < len(lines); i += per {
			var w, b, e int
			for j := range per {
				var w2, b2, e2 int
				if _, err := fmt.Sscanf(lines[i+j], `{"w":%d,"b":%d,"e":%d}`, &w2, &b2, &e2); err != nil {
					t.Fatalf("%s line %d: %q: %v", name, i+j, lines[i+j], err)
				}
				if j == 0 {
					w, b, e = w2, b2, e2
				}
				if w2 != w || b2 != b || e2 != e+j {
					t.Fatalf("%s: batch interleaved at line %d", name, i+j)
				}
			}
		}
		all = append(all, lines...)
	}
	if len(all) != writers*batches*per {
		t.Fatalf("got %d lines, want %d", len(all), writers*batches*per)
	}
	sort.Strings(all)
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			t.Fatalf("duplicate line %s", all[i])
		}
	}
}

func TestWriteCanceled(t *testing.T) {
	s, err := New("c", Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Write(ctx, batchOf("{}")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write(canceled) = %v", err)
	}
	// A Write waiting for the lock gives up when its deadline passes.
	s.rf.sem <- struct{}{}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel2()
	if err := s.Write(ctx2, batchOf("{}")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Write(blocked) = %v", err)
	}
	<-s.rf.sem
}

func TestRotatingFileBadBase(t *testing.T) {
	for _, base := range []string{"", ".x", "a/b", "a\x00"} {
		if _, err := NewRotatingFile(t.TempDir(), base, 0, false, nil); err == nil {
			t.Errorf("base %q accepted", base)
		}
	}
}

func BenchmarkSinkWrite(b *testing.B) {
	s, err := New("bench", Config{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close(context.Background())
	batch := pipeline.NewBatch()
	var line bytes.Buffer
	for i := range 500 {
		line.Reset()
		fmt.Fprintf(&line, `{"@timestamp":"2024-05-01T13:00:%02d.123Z","host":"web-%d","event":{"action":"login","outcome":"success"},"user":{"name":"user%d"},"message":"%s"}`,
			i%60, i%17, i, strings.Repeat("x", 200+(i*37)%900))
		a := batch.Arena()
		a = append(a, line.Bytes()...)
		batch.Commit(a, pipeline.Event{SourceType: "bench"})
	}
	ctx := context.Background()
	b.SetBytes(int64(batch.Bytes() + batch.Len()))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.Write(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
}
