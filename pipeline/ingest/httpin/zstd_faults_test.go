package httpin

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"bytes"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// drainZstdPool empties the package's pool of zstd decoders: each keeps the
// max_body_bytes of the request that created it, so a decoder left by
// another test (another limit) would hide what this one checks.
func drainZstdPool() {
	for zstdPool.Get() != nil { // decoders of other bounds are replaced anyway
	}
}

// zstdStream compresses data as a streaming zstd writer does (a sender that
// does not know the size up front): the frame declares the encoder's window,
// not the content size. window 0 is the library default (8 MiB).
func zstdStream(t *testing.T, data []byte, window int) []byte {
	t.Helper()
	var b bytes.Buffer
	opts := []zstd.EOption{}
	if window > 0 {
		opts = append(opts, zstd.WithWindowSize(window))
	}
	zw, err := zstd.NewWriter(&b, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for len(data) > 0 {
		n := min(len(data), 8<<10)
		if _, err := zw.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		if err := zw.Flush(); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestZstdSmallBodyLargeWindowRefused: readBody creates its zstd
// decoder with WithDecoderMaxMemory(max_body_bytes+1), which in
// klauspost/compress also caps the frame's window size. A streaming zstd
// encoder declares its window (libzstd level 3 with an unknown size: 2 MiB;
// klauspost/compress's default: 8 MiB), so with max_body_bytes below that
// (1 MB is Splunk HEC's own default max_content_length) every zstd request,
// however small, is refused "window size exceeded" as 400 / HEC code 6
// "Invalid data format": final, the sender drops the data, and nothing is
// quarantined.
//
// Expected (Config.MaxBodyBytes: "bounds one request body after
// decompression"): an 80 KiB body, far below max_body_bytes once decoded,
// is accepted.
func TestZstdSmallBodyLargeWindowRefused(t *testing.T) {
	data := bytes.Repeat([]byte(`{"message":"user bob logged in from 10.0.0.1","n":1}`+"\n"), 1600) // ~80 KiB
	hec := bytes.Repeat([]byte(`{"event":"user bob logged in from 10.0.0.1"}`+"\n"), 1800)          // ~80 KiB
	for _, window := range []int{2 << 20, 0} {
		for _, c := range []struct {
			path string
			body []byte
			n    int
		}{{"/ingest", data, 1600}, {"/services/collector/event", hec, 1800}} {
			drainZstdPool()
			f := newFixture(t, Config{MaxBodyBytes: 1 << 20}, nil)
			w := f.do("POST", c.path, "", string(zstdStream(t, c.body, window)), "Content-Encoding", "zstd")
			if w.Code != 200 || len(f.rec.Events()) != c.n {
				t.Errorf("%s, window %d, %d-byte body with max_body_bytes 1 MiB: answered %d, delivered %d of %d events: %s",
					c.path, window, len(c.body), w.Code, len(f.rec.Events()), c.n, w.Body)
			}
		}
	}
}

// TestZstdOverLimitIs413: for the same reason, a zstd body that
// decodes past max_body_bytes is answered 400 "read body: window size
// exceeded" (HEC: code 6, "Invalid data format") instead of the 413 naming
// max_body_bytes that readBody documents ("413 past max_body_bytes") and
// that gzip bodies get (TestGzipBombBounded). Beats split a batch answered
// 413 and resend it; a 400 makes them drop it.
//
// Expected: 413 with the max_body_bytes message, as for gzip.
func TestZstdOverLimitIs413(t *testing.T) {
	drainZstdPool()
	f := newFixture(t, Config{MaxBodyBytes: 1 << 20}, nil)
	body := zstdStream(t, bytes.Repeat([]byte(`{"message":"x"}`+"\n"), (4<<20)/16), 0) // 4 MiB decoded
	w := f.do("POST", "/ingest", "", string(body), "Content-Encoding", "zstd")
	if w.Code != 413 || !bytes.Contains(w.Body.Bytes(), []byte("max_body_bytes")) {
		t.Errorf("a zstd body of 4 MiB decoded with max_body_bytes 1 MiB: answered %d, want 413: %s", w.Code, w.Body)
	}
}
