package httpin

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

// Tests from a review of how senders can make the HTTP input hold memory,
// goroutines or request slots without bound. Each fails against the code
// as it was found and describes the expected behaviour.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUnreadAnswerHoldsSlot: the HTTP input's http.Server
// (server.go New) sets ReadHeaderTimeout, ReadTimeout and IdleTimeout but
// no WriteTimeout, and nothing else bounds writing an answer. A _bulk
// answer is ~150 bytes per item (104,857 items by default: ~15 MiB, from a
// body of 1.4 MiB that gzips to a few KiB); a sender that never reads it
// blocks the handler in its Write for good, holding its
// max_concurrent_requests slot (limit releases it only when the handler
// returns), the answer's buffer and the connection. max_concurrent_requests
// such requests (128 by default) and every later request is answered busy
// (429 / HEC 503 code 9) until the router restarts, and shutdown waits for
// them until its deadline.
//
// Expected: writing an answer is bounded like reading the request is
// (read_timeout here, or a write timeout of its own): a peer that does not
// read its answer is cut off, and its slot and memory come back. This test
// sets read_timeout and idle_timeout to 1s and gives the slot 6s to come
// back.
func TestUnreadAnswerHoldsSlot(t *testing.T) {
	f := newFixture(t, Config{Address: "127.0.0.1:0", MaxConcurrentRequests: 1,
		ReadTimeout: time.Second, IdleTimeout: time.Second}, nil)
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}

	// A sender with a tiny receive window that never reads.
	c := dialTinyWindow(t, f.srv.Addr())
	// Closing the sender first (a reset: it has unread data) unblocks a
	// stuck write, so that Shutdown can finish either way.
	defer func() {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
	}()
	const items = 100_000 // within the default max_events_per_request
	body := gzipBody(t, strings.Repeat("{\"delete\":{}}\n", items))
	if _, err := fmt.Fprintf(c, "POST /_bulk HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		t.Fatal(err)
	}

	// The request has been read once its answer starts to arrive.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatalf("no answer started: %v", err)
	}

	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(6 * time.Second)
	var last string
	for {
		resp, err := client.Post("http://"+f.srv.Addr()+"/ingest", "application/x-ndjson", strings.NewReader(`{"a":1}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("6s after a sender stopped reading its answer (read_timeout and idle_timeout 1s), its request still holds the only max_concurrent_requests slot: %s", last)
}

// dialTinyWindow connects to addr with a 4 KiB receive buffer: a peer that
// reads nothing stops the server's writes after a few KiB.
func dialTinyWindow(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestUnreadAnswersHoldConnections: the same missing write bound,
// without credentials. GET /services/collector/health needs no token (nor
// does GET / answer 401 any slower); a peer that pipelines 40,000 of them
// on a connection (2 MB) and reads none of the answers (143 bytes each,
// 5.7 MB: more than the kernel's socket buffers take) blocks the
// connection's goroutine in its write forever:
// read_timeout, ReadHeaderTimeout and idle_timeout only apply while the
// server reads, and the peer's kernel keeps answering zero-window probes.
// Each such connection keeps a goroutine, its buffers and a file
// descriptor for good, so an unauthenticated peer exhausts the process's
// file descriptors (then the HTTP, syslog and admin listeners fail to
// accept, and queue segments and quarantine files fail to open).
//
// Expected: a connection whose peer does not take its answers is closed
// within a bound (here read_timeout and idle_timeout are 1s; the test
// allows 60s, see below), and its goroutine and descriptor released.
func TestUnreadAnswersHoldConnections(t *testing.T) {
	f := newFixture(t, Config{Address: "127.0.0.1:0", ReadTimeout: time.Second, IdleTimeout: time.Second,
		Tokens: []Token{{Name: "t", Token: "a-token-nobody-sent"}}}, nil)
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	const conns, pipelined = 4, 40_000
	req := strings.Repeat("GET /services/collector/health HTTP/1.1\r\nHost: x\r\n\r\n", pipelined)
	base := runtime.NumGoroutine()
	var cs []net.Conn
	defer func() {
		for _, c := range cs {
			c.Close() // a reset: unblocks the server's writes
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
	}()
	for range conns {
		c := dialTinyWindow(t, f.srv.Addr())
		cs = append(cs, c)
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
	}
	held := 0
	// 1s timeouts: a goroutine goes ~1s after its connection's socket
	// buffers fill, which takes the server answering ~28,000 of the
	// pipelined requests (loopback send buffers grow to ~4 MB): 11-13 s
	// under -race on a 2-core machine, so 15s was flaky there. Without a
	// write bound they never go; 60s tells the two apart.
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if held = runtime.NumGoroutine() - base; held < conns/2 {
			return
		}
	}
	t.Fatalf("60s after %d unauthenticated peers stopped reading (read_timeout and idle_timeout 1s), the server still holds %d goroutines for them", conns, held)
}

// deepRecord is a JSON object nested one level past fastjson.MaxDepth
// (300): 305 bytes.
var deepRecord = `{"a":` + strings.Repeat("[", 300)

// TestDeepNestingAmplified: a record nested past fastjson's depth
// limit (`{"a":` and 300 "[") fails to parse with an error that wraps every
// level ("cannot parse array: cannot parse array value: ..."), ~14 KB of
// text. /ingest (ndjson.go rejectLine) keeps that text as the quarantine
// record's detail, and _bulk (bulk.go) keeps it twice, as the detail and as
// the item's error reason in the answer. Rejected records count toward
// max_events_per_request but their details toward no byte limit: a 10 MiB
// body of such lines (~40 KiB gzipped) holds ~460 MB of details
// (_bulk: ~920 MB, then a ~460 MB answer), and writes ~460 MB of quarantine
// records, from one request; 128 at once exhaust any pod's memory.
//
// Expected: what a refused record costs in quarantine and in the answer
// is bounded by the record plus a small constant (this test allows a
// detail of 1 KiB, and a _bulk answer of 8 times its body), not by what the
// parser makes of it.
func TestDeepNestingAmplified(t *testing.T) {
	const n = 200
	for _, c := range []struct{ path, body string }{
		{"/ingest", strings.Repeat(deepRecord+"\n", n)},
		{"/_bulk", strings.Repeat("{\"index\":{}}\n"+deepRecord+"\n", n)},
	} {
		t.Run(strings.Trim(c.path, "/"), func(t *testing.T) {
			f := newFixture(t, Config{}, nil)
			w := f.do("POST", c.path, "", c.body)
			recs := f.q.Records()
			detail := 0
			for _, r := range recs {
				detail += len(r.Detail)
			}
			t.Logf("%d-byte body: answered %d with %d bytes; %d records quarantined with %d bytes of detail (%d a record)",
				len(c.body), w.Code, w.Body.Len(), len(recs), detail, detail/max(len(recs), 1))
			if len(recs) != n {
				t.Fatalf("%d records quarantined, want %d", len(recs), n)
			}
			if detail > n*1024 {
				t.Errorf("%d records of %d bytes got %d bytes of quarantine detail (%d a record): the detail is amplified ~%dx",
					n, len(deepRecord), detail, detail/n, detail/n/len(deepRecord))
			}
			if c.path == "/_bulk" && w.Body.Len() > 8*len(c.body) {
				t.Errorf("a %d-byte _bulk body got a %d-byte answer (%dx)", len(c.body), w.Body.Len(), w.Body.Len()/len(c.body))
			}
		})
	}
}

// TestDeepNestingParseCost: fastjson builds its error for a value
// nested past MaxDepth by wrapping the message once per level, so one
// failed parse of a 305-byte record allocates ~4.5 MB (quadratic in the
// depth) and takes milliseconds of CPU. Every endpoint parses each record
// (an /ingest or _bulk source line, an /services/collector/raw line that
// starts with '{'), so a 10 MiB body of such lines (~40 KiB gzipped)
// allocates ~150 GB and keeps a core busy for over a minute, far past
// read_timeout; max_concurrent_requests of them take every core.
//
// Expected: a record nested deeper than the parser accepts is refused
// without paying for fastjson's error text (e.g. a depth check before
// parsing), so it costs about what any record of its size costs; this
// test allows 64 KiB of allocation per 305-byte record.
func TestDeepNestingParseCost(t *testing.T) {
	const n = 20
	for _, c := range []struct{ path, body string }{
		{"/ingest", strings.Repeat(deepRecord+"\n", n)},
		{"/services/collector/raw", strings.Repeat(deepRecord+"\n", n)},
		{"/_bulk", strings.Repeat("{\"index\":{}}\n"+deepRecord+"\n", n)},
	} {
		f := newFixture(t, Config{}, nil)
		f.do("POST", c.path, "", `{"warm":"up"}`+"\n") // pools filled
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		start := time.Now()
		w := f.do("POST", c.path, "", c.body)
		el := time.Since(start)
		runtime.ReadMemStats(&m1)
		per := (m1.TotalAlloc - m0.TotalAlloc) / n
		t.Logf("%s: %d records of ~%d bytes: %d, %v, %d KiB allocated a record", c.path, n, len(c.body)/n, w.Code, el, per>>10)
		if per > 64<<10 {
			t.Errorf("%s: a record nested past fastjson.MaxDepth allocates %d KiB (%d bytes of input)", c.path, per>>10, len(c.body)/n)
		}
	}
}
