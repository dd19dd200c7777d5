package quarantine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
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

func files(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func readAll(t *testing.T, path string) []Record {
	t.Helper()
	var out []Record
	if err := ReadFile(path, func(r Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestValidate(t *testing.T) {
	err := Config{MaxFileBytes: -5}.Validate()
	if err == nil || !strings.Contains(err.Error(), `"dir"`) || !strings.Contains(err.Error(), `"max_file_bytes"`) {
		t.Fatalf("Validate() = %v", err)
	}
}

func TestRoundTripTrickyBytes(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC)}
	q, err := New(Config{Dir: dir}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 5, 1, 12, 59, 59, 123456789, time.UTC).UnixNano()
	recs := []pipeline.Rejected{
		{Raw: []byte(`{"msg":"he said \"hi\""}` + "\nsecond line\r\n\t"), Reason: "invalid_json", Detail: `unexpected "}" at 3`, Input: "http", Protocol: "hec", Peer: "10.0.0.1:5000", Time: ts},
		{Raw: []byte("nul\x00byte and <html> & \u2028 done"), Reason: "too_large", Destination: "siem", Time: ts + 1},
		{Raw: []byte("bad utf8 \xff\xfe\x80 end"), Reason: "invalid_utf8", Time: ts + 2},
		{Raw: []byte{0xc3}, Reason: "truncated_rune", Time: ts + 3},
		{Reason: "empty", Time: ts + 4},
		{Raw: []byte("zero time")},
	}
	if err := q.Put(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if err := q.Put(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := q.Put(context.Background(), recs[:1]); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("Put after Close = %v", err)
	}
	if err := q.Put(context.Background(), nil); !errors.Is(err, pipeline.ErrClosed) {
		t.Fatalf("empty Put after Close = %v", err)
	}

	path := filepath.Join(dir, "quarantine-20240501T13.ndjson")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != len(recs) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(recs), data)
	}
	wantFirst := `{"time":"2024-05-01T12:59:59.123456789Z","reason":"invalid_json","detail":"unexpected \"}\" at 3","input":"http","protocol":"hec","peer":"10.0.0.1:5000","raw":"{\"msg\":\"he said \\\"hi\\\"\"}\nsecond line\r\n\t"}`
	if lines[0] != wantFirst {
		t.Errorf("line 1 =\n%s\nwant\n%s", lines[0], wantFirst)
	}
	if want := `{"time":"2024-05-01T12:59:59.123456791Z","reason":"invalid_utf8","raw_base64":"YmFkIHV0Zjgg//6AIGVuZA=="}`; lines[2] != want {
		t.Errorf("line 3 = %s\nwant %s", lines[2], want)
	}
	if want := `{"time":"2024-05-01T12:59:59.123456793Z","reason":"empty"}`; lines[4] != want {
		t.Errorf("line 5 = %s, want %s", lines[4], want)
	}
	if !strings.Contains(lines[1], `<html> &`) || !strings.Contains(lines[1], `nul\u0000byte`) {
		t.Errorf("line 2 = %s", lines[1])
	}

	got := readAll(t, path)
	for i := range recs {
		want := recs[i]
		if want.Time == 0 {
			want.Time = clk.now().UnixNano()
		}
		if len(want.Raw) == 0 {
			want.Raw = nil
		}
		if g := got[i].Rejected(); !reflect.DeepEqual(g, want) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, g, want)
		}
	}

	// The iterator yields the same and can stop early.
	n := 0
	for r, err := range Read(path) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Reason != recs[n].Reason {
			t.Fatalf("iterator record %d reason %q", n, r.Reason)
		}
		n++
		if n == 2 {
			break
		}
	}
}

func TestReadTornAndBad(t *testing.T) {
	dir := t.TempDir()
	good := string(AppendRecord(nil, &pipeline.Rejected{Raw: []byte("x"), Reason: "r", Time: 1}, time.Time{}))
	torn := filepath.Join(dir, "torn.ndjson")
	if err := os.WriteFile(torn, []byte(good+"\n"+good+good[:len(good)/2]), 0o600); err != nil {
		t.Fatal(err)
	}
	var seen int
	err := ReadFile(torn, func(Record) error { seen++; return nil })
	if !errors.Is(err, io.ErrUnexpectedEOF) || seen != 2 || !strings.Contains(err.Error(), ":4:") {
		t.Fatalf("torn: seen %d, err %v", seen, err)
	}
	bad := filepath.Join(dir, "bad.ndjson")
	if err := os.WriteFile(bad, []byte(good+"{nope}\n"+good), 0o600); err != nil {
		t.Fatal(err)
	}
	err = ReadFile(bad, func(Record) error { return nil })
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(err.Error(), ":2:") {
		t.Fatalf("bad: %v", err)
	}
	var last error
	for _, err := range Read(bad) {
		last = err
	}
	if last == nil {
		t.Fatal("iterator did not yield the parse error")
	}
	stop := errors.New("stop")
	if err := ReadFile(bad, func(Record) error { return stop }); err != stop {
		t.Fatalf("fn error not returned: %v", err)
	}
	if _, err := ParseLine([]byte(`{"time":"2024-05-01T00:00:00Z","raw":"a","raw_base64":"YQ=="}`)); err == nil {
		t.Fatal("both raw and raw_base64 accepted")
	}
	// A long line crosses bufio's buffer.
	long := filepath.Join(dir, "long.ndjson")
	big := bytes.Repeat([]byte("ab\"\\"), 300<<10)
	if err := os.WriteFile(long, AppendRecord(nil, &pipeline.Rejected{Raw: big, Time: 5}, time.Time{}), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, long); len(got) != 1 || !bytes.Equal(got[0].Raw, big) {
		t.Fatal("long line round trip failed")
	}
}

func TestConcurrentPut(t *testing.T) {
	dir := t.TempDir()
	off := false
	q, err := New(Config{Dir: dir, Fsync: &off, MaxFileBytes: 8 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const writers, puts, per = 8, 30, 3
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range puts {
				recs := make([]pipeline.Rejected, per)
				for j := range recs {
					recs[j] = pipeline.Rejected{Raw: fmt.Appendf(nil, "w%d-p%d-r%d\n\xff", w, i, j), Reason: "r", Time: 1}
				}
				if err := q.Put(context.Background(), recs); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var all []string
	names := files(t, dir)
	if len(names) < 2 {
		t.Fatalf("expected rotation by size, got %v", names)
	}
	for _, n := range names {
		recs := readAll(t, filepath.Join(dir, n))
		if len(recs)%per != 0 {
			t.Fatalf("%s: %d records, Put split across files", n, len(recs))
		}
		for _, r := range recs {
			all = append(all, string(r.Raw))
		}
	}
	if len(all) != writers*puts*per {
		t.Fatalf("%d records, want %d", len(all), writers*puts*per)
	}
	sort.Strings(all)
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] {
			t.Fatalf("duplicate %q", all[i])
		}
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	clk := &clock{t: time.Date(2024, 12, 31, 23, 10, 0, 0, time.UTC)}
	q, err := New(Config{Dir: dir, MaxFileBytes: 110}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	put := func(raw string) {
		t.Helper()
		if err := q.Put(context.Background(), []pipeline.Rejected{{Raw: []byte(raw), Time: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	put("a")                          // ~50 bytes
	put("b")                          // ~100
	put("c")                          // rotates by size
	clk.set(clk.now().Add(time.Hour)) // new year, new hour
	put("d")
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"quarantine-20241231T23.1.ndjson", "quarantine-20241231T23.ndjson", "quarantine-20250101T00.ndjson"}
	if got := files(t, dir); !reflect.DeepEqual(got, want) {
		t.Fatalf("files = %v, want %v", got, want)
	}
	var raws []string
	for _, n := range want {
		for _, r := range readAll(t, filepath.Join(dir, n)) {
			raws = append(raws, string(r.Raw))
		}
	}
	if got := strings.Join(raws, ""); got != "cabd" {
		t.Fatalf("records in file order = %q", got)
	}
}

func TestPutCanceled(t *testing.T) {
	q, err := New(Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Put(ctx, []pipeline.Rejected{{Raw: []byte("x")}}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Put = %v", err)
	}
}

// TestControlCharactersStoredAsBase64: a record of control characters used
// to be stored JSON-escaped, six bytes for each (\u0001): a 64 KiB request
// (100 bytes gzipped) wrote 390 KB to the quarantine's disk. Such records
// are stored as raw_base64 and read back byte for byte.
func TestControlCharactersStoredAsBase64(t *testing.T) {
	dir := t.TempDir()
	q, err := New(Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	raw := bytes.Repeat([]byte{0x01}, 64<<10)
	text := []byte(`{"msg":"a \"quoted\" line"}`)
	if err := q.Put(context.Background(), []pipeline.Rejected{{Raw: raw, Reason: "invalid_json"}, {Raw: text, Reason: "invalid_json"}}); err != nil {
		t.Fatal(err)
	}
	_ = q.Close(context.Background())
	files, _ := filepath.Glob(filepath.Join(dir, "*.ndjson"))
	if len(files) != 1 {
		t.Fatalf("files %v", files)
	}
	st, _ := os.Stat(files[0])
	if st.Size() > int64(len(raw))*4/3+1024 {
		t.Errorf("%d bytes of control characters took %d bytes of quarantine", len(raw), st.Size())
	}
	var recs []Record
	err = ReadFile(files[0], func(r Record) error { recs = append(recs, r); return nil })
	if err != nil || len(recs) != 2 || !bytes.Equal(recs[0].Raw, raw) || !bytes.Equal(recs[1].Raw, text) {
		t.Fatalf("read back %d records, %v", len(recs), err)
	}
	data, _ := os.ReadFile(files[0])
	if !bytes.Contains(data, []byte(`"raw":"{\"msg\"`)) {
		t.Errorf("a readable record was not stored as raw text:\n%.200s", data)
	}
}

// TestEventMetadataRoundTrip: a destination's refusal keeps what was
// written with the event (hash, times, source type, priority) through the
// file, exactly, so that replay can send it as it was; records without it
// (input records, earlier releases) read back without it.
func TestEventMetadataRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	ev := &pipeline.RejectedEvent{Hash: 0xfedcba9876543210, Time: 1764403200123456789, Ingest: 1764403201987654321,
		SourceType: "aws.cloudtrail", Priority: pipeline.P2}
	for _, r := range []pipeline.Rejected{
		{Raw: []byte(`{"a":1}`), Reason: "destination_rejected", Destination: "opensearch", Status: 400, Event: ev},
		{Raw: []byte(`{"a":1}`), Reason: "invalid_json", Input: "http"},
	} {
		line := AppendRecord(nil, &r, now)
		got, err := ParseLine(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if (got.Event == nil) != (r.Event == nil) || (got.Event != nil && *got.Event != *r.Event) {
			t.Errorf("event %+v read back as %+v from %s", r.Event, got.Event, line)
		}
	}
	none := *ev
	none.Priority = pipeline.PriorityNone
	r := pipeline.Rejected{Raw: []byte(`{}`), Destination: "d", Event: &none}
	got, err := ParseLine(AppendRecord(nil, &r, now))
	if err != nil || got.Event.Priority != pipeline.P3 {
		t.Errorf("an unprioritized event: %+v, %v; want P3", got.Event, err)
	}
	good := `{"hash":"fedcba9876543210","time":"2026-11-29T08:00:00Z","ingest":"2026-11-29T08:00:01Z","priority":"P2"}`
	if _, err := ParseLine([]byte(`{"time":"2026-11-29T08:00:00Z","event":` + good + `,"raw":"{}"}`)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		strings.Replace(good, "fedcba9876543210", "123", 1),
		strings.Replace(good, "fedcba9876543210", "zzzzzzzzzzzzzzzz", 1),
		strings.Replace(good, `"time":"2026-11-29T08:00:00Z"`, `"time":"yesterday"`, 1),
		strings.Replace(good, `"ingest":"2026-11-29T08:00:01Z"`, `"ingest":""`, 1),
		strings.Replace(good, "P2", "P9", 1),
	} {
		line := `{"time":"2026-11-29T08:00:00Z","event":` + bad + `,"raw":"{}"}`
		if _, err := ParseLine([]byte(line)); err == nil {
			t.Errorf("%s read without error", line)
		}
	}
}

// TestRequestMetadataRoundTrip: what a request gave its records (HEC's
// ?sourcetype=&host=&source=&time=) is written and read back exactly, and
// Rejected gives it back for the replay.
func TestRequestMetadataRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC)
	r := pipeline.Rejected{Raw: []byte(`{"event":""}`), Reason: "hec_blank_event", Input: "http", Protocol: "hec",
		DefaultSourceType: "tok.st", DefaultIndex: "idx", SourceType: "linux.auth", DefaultHost: "edge-7",
		DefaultSource: "syslog-ng", DefaultTime: 1764331200123456789, RecordTime: 1685620800000000001}
	line := AppendRecord(nil, &r, now)
	got, err := ParseLine(line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	back := got.Rejected()
	if back.SourceType != r.SourceType || back.DefaultHost != r.DefaultHost || back.DefaultSource != r.DefaultSource ||
		back.DefaultTime != r.DefaultTime || back.DefaultSourceType != r.DefaultSourceType || back.DefaultIndex != r.DefaultIndex ||
		back.RecordTime != r.RecordTime {
		t.Errorf("read back %+v from %s", back, line)
	}
	if _, err := ParseLine([]byte(`{"time":"2026-11-29T08:00:00Z","default_time":"soon","raw":"x"}`)); err == nil {
		t.Error("a default_time that is no time was read")
	}
	if _, err := ParseLine([]byte(`{"time":"2026-11-29T08:00:00Z","record_time":"soon","raw":"x"}`)); err == nil {
		t.Error("a record_time that is no time was read")
	}
}
