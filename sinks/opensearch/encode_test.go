package opensearch

import (
	"bytes"
	"compress/gzip"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

func TestEncodeFormat(t *testing.T) {
	nm := testNamer(t, DefaultIndex)
	b := pipeline.NewBatch()
	defer b.Release()
	ts := baseTime.UnixNano()
	for _, ev := range []struct {
		raw, st string
		h       uint64
	}{
		{`{"a":1}`, "Linux.Auth", 0xab},
		{``, "x", 2},
		{"{\"b\":\n2}", "okta.system", 0xfedcba9876543210},
	} {
		b.Commit(append(b.Arena(), ev.raw...), pipeline.Event{SourceType: ev.st, Hash: ev.h, Time: ts, Ingest: ts})
	}
	e := getEncoder()
	defer putEncoder(e)
	e.encode(nm, OpCreate, b)
	want := `{"create":{"_index":"logs-linux.auth-2026.11.28","_id":"00000000000000ab"}}` + "\n" + `{"a":1}` + "\n" +
		`{"create":{"_index":"logs-okta.system-2026.11.28","_id":"fedcba9876543210"}}` + "\n" + `{"b": 2}` + "\n"
	if string(e.body) != want {
		t.Fatalf("body\n%s\nwant\n%s", e.body, want)
	}
	if e.items() != 2 || e.idx[0] != 0 || e.idx[1] != 2 || len(e.skipped) != 1 || e.skipped[0].Index != 1 || !pipeline.IsPermanent(e.skipped[0].Err) {
		t.Fatalf("items %v skipped %v", e.idx, e.skipped)
	}
	if got := string(e.bodyOf(1, 2)); !strings.HasPrefix(got, `{"create":{"_index":"logs-okta`) {
		t.Fatalf("bodyOf(1,2) = %q", got)
	}
	e.encode(nm, OpIndex, b)
	if !bytes.HasPrefix(e.body, []byte(`{"index":{"_index":"logs-linux.auth-2026.11.28","_id":"00000000000000ab"}}`)) {
		t.Fatalf("op index: %s", e.body)
	}
}

func TestEncodeCachesNames(t *testing.T) {
	nm := testNamer(t, DefaultIndex)
	b := makeBatch(t, 1, 2000, 5*time.Second) // 13 kinds over two days
	defer b.Release()
	e := getEncoder()
	defer putEncoder(e)
	e.encode(nm, OpCreate, b)
	if len(e.cache) > 26 || len(e.cache) < 14 {
		t.Fatalf("%d index names rendered for 2000 events of 13 kinds over 2 days", len(e.cache))
	}
	for i := range b.Events {
		ev := &b.Events[i]
		name, _ := IndexName(DefaultIndex, ev.SourceType, ev.Priority, ev.Time)
		line := e.body[e.offs[i] : e.offs[i]+bytes.IndexByte(e.body[e.offs[i]:], '\n')]
		if want := `{"create":{"_index":"` + name + `","_id":"` + DocumentID(ev.Hash) + `"}}`; string(line) != want {
			t.Fatalf("event %d: %s, want %s", i, line, want)
		}
	}
}

func TestEncodeAllocatesNothing(t *testing.T) {
	nm := testNamer(t, DefaultIndex)
	b := makeBatch(t, 1, 1000, time.Second)
	defer b.Release()
	e := new(encoder)
	e.encode(nm, OpCreate, b)
	e.split(DefaultBulkBytes, 4)
	if n := testing.AllocsPerRun(20, func() {
		e.encode(nm, OpCreate, b)
		e.split(DefaultBulkBytes, 4)
	}); n != 0 {
		t.Fatalf("encode allocates %.1f times per batch", n)
	}
	g, _ := compress(e.body, 1) // not through the pool: -race drops pooled items at random
	g.compress(e.body)
	if n := testing.AllocsPerRun(5, func() { g.compress(e.body) }); n != 0 {
		t.Fatalf("compress allocates %.1f times per body", n)
	}
}

func TestSplit(t *testing.T) {
	nm := testNamer(t, DefaultIndex)
	b := makeBatch(t, 1, 3000, time.Second)
	defer b.Release()
	e := getEncoder()
	defer putEncoder(e)
	e.encode(nm, OpCreate, b)
	check := func(spans []span, maxBytes int) {
		t.Helper()
		next := 0
		for _, s := range spans {
			if s.lo != next || s.hi <= s.lo {
				t.Fatalf("spans %v do not tile the items", spans)
			}
			if n := e.offs[s.hi] - e.offs[s.lo]; n > maxBytes && s.hi-s.lo > 1 {
				t.Fatalf("span %v has %d bytes > %d", s, n, maxBytes)
			}
			next = s.hi
		}
		if next != e.items() {
			t.Fatalf("spans %v end at %d of %d", spans, next, e.items())
		}
	}
	total := len(e.body)
	if s := e.split(DefaultBulkBytes, 4); len(s) != 4 {
		t.Fatalf("%d bytes in %d spans with max_concurrent_requests 4", total, len(s))
	} else {
		check(s, DefaultBulkBytes)
	}
	if s := e.split(DefaultBulkBytes, 1); len(s) != 1 {
		t.Fatalf("%d spans with max_concurrent_requests 1", len(s))
	}
	s := e.split(100<<10, 1)
	check(s, 100<<10)
	if len(s) < total/(100<<10) {
		t.Fatalf("%d spans of at most 100 KiB for %d bytes", len(s), total)
	}
	if s := e.split(100, 4); len(s) != e.items() {
		t.Fatalf("events larger than bulk_bytes must go alone: %d spans for %d items", len(s), e.items())
	}
	// Compressed bodies are standard gzip, at every level gzip_level takes.
	for _, level := range []int{1, 2, 9, -2} {
		g, z := compress(e.body, level)
		zr, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		plain, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(plain, e.body) {
			t.Fatalf("gzip round trip at level %d: %v", level, err)
		}
		putGzipper(g)
	}
}
