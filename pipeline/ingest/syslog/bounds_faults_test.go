package syslog

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

// Tests from a review of how senders can make the syslog input hold memory
// or CPU without bound. Each fails against the code as it was found and
// describes the expected behaviour.

import (
	"context"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/internal/testutil/testengine"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/route"
)

// putSizeQuarantine is a quarantine that counts records and remembers the
// largest single Put (what a stream held at once).
type putSizeQuarantine struct {
	mu        sync.Mutex
	n, maxPut int
	maxPutRaw int
}

func (q *putSizeQuarantine) Put(_ context.Context, recs []pipeline.Rejected) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.n += len(recs)
	raw := 0
	for _, r := range recs {
		raw += len(r.Raw)
	}
	q.maxPut = max(q.maxPut, len(recs))
	q.maxPutRaw = max(q.maxPutRaw, raw)
	return nil
}

func (q *putSizeQuarantine) Close(context.Context) error { return nil }

func (q *putSizeQuarantine) stats() (n, maxPut, maxPutRaw int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n, q.maxPut, q.maxPutRaw
}

// TestRejectedBypassBatchEvents: a connection's stream flushes when
// its events reach batch_events (stream.full counts st.b.Events only) or
// when batch_wait passes; the records it refuses (too_large with
// on_oversize: quarantine, too_many_fields, incomplete_frame), each a copy
// of up to max_message_bytes, are not counted. A sender whose messages are
// all refused is bounded only by batch_wait: whatever it sends in that time
// is held in memory, ~64 KiB a message, per connection (1024 of them).
//
// Expected: refused records count toward batch_events like events, so a
// stream holds at most batch_events records (of max_message_bytes each)
// whatever becomes of them. Here batch_events is 10 and batch_wait 2s;
// 400 oversize messages came in one quarantine write of 400.
func TestRejectedBypassBatchEvents(t *testing.T) {
	q := &putSizeQuarantine{}
	log := slog.New(slog.NewTextHandler(&syncBuffer{}, nil))
	eng := testengine.New(t, testengine.P1EDR, &testutil.RecordSink{SinkName: "all"}, q, log)
	srv, err := New(Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}, MaxMessageBytes: 480,
		OnOversize: "quarantine", BatchEvents: 10, BatchWait: 2 * time.Second}, eng, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	_, addr, _ := srv.Addrs()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const msgs = 400
	line := "<13>1 2026-11-28T00:00:00Z h app - - - " + strings.Repeat("x", 600) + "\n"
	if _, err := c.Write([]byte(strings.Repeat(line, msgs))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "every oversize message quarantined", func() bool { n, _, _ := q.stats(); return n >= msgs })
	n, maxPut, maxRaw := q.stats()
	t.Logf("%d records quarantined; the largest write held %d records, %d bytes", n, maxPut, maxRaw)
	if maxPut > 10 {
		t.Errorf("one connection held %d refused records (%d bytes) at once; batch_events is 10", maxPut, maxRaw)
	}
}

// TestDeepJSONPayloadParseCost: a message whose payload looks like a
// JSON object (SplitJSON: it starts with '{' and ends with '}') is parsed
// with fastjson (route.SyslogParser.Parse). One nested past fastjson.MaxDepth (300)
// fails, and fastjson builds that error by wrapping its message once per
// level: ~4.5 MB allocated and milliseconds of CPU for a 350-byte message,
// which then goes on as text. Syslog is unauthenticated (UDP, plain TCP):
// ~1000 such datagrams a second keep a UDP reader (one core) busy, where
// ordinary messages cost microseconds.
//
// Expected: a payload nested deeper than the parser accepts is recognised
// as such before fastjson is asked to build its error (e.g. a depth
// check), so it costs about what any message of its size costs; this test
// allows 64 KiB of allocation per message.
func TestDeepJSONPayloadParseCost(t *testing.T) {
	mp := route.SyslogParser{Parser: parse.New(parse.Options{Location: time.UTC})}
	msg := []byte(`<13>1 2026-11-28T00:00:00Z h app - - - {"a":` + strings.Repeat("[", 300) + `}`)
	ok := []byte(`<13>1 2026-11-28T00:00:00Z h app - - - {"a":1}`)
	var em normalize.EventMeta
	mp.Parse(ok, &em) // buffers grown
	const n = 20
	var m0, m1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	start := time.Now()
	for range n {
		em = normalize.EventMeta{}
		if _, _, err := mp.Parse(msg, &em); err != nil {
			t.Fatal(err)
		}
	}
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	per := (m1.TotalAlloc - m0.TotalAlloc) / n
	t.Logf("%d-byte message: %d KiB allocated, %v each", len(msg), per>>10, el/n)
	if per > 64<<10 {
		t.Errorf("a %d-byte message with a JSON payload nested past fastjson.MaxDepth allocates %d KiB to parse", len(msg), per>>10)
	}
}
