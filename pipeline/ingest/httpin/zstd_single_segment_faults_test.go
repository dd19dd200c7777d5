package httpin

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestZstdSingleSegmentWithinLimitNot413: since 8baaf67 the
// zstd decoder's bound is zstdWindow(limit) = at most 10 MiB + 1
// (zstdMaxWindow), whatever max_body_bytes is (32 MiB by default), and it
// is given to the decoder as WithDecoderMaxMemory. A frame whose header
// has the single-segment flag declares no window: its window is its
// content size, which klauspost/compress checks against that bound and
// refuses with ErrDecoderSizeExceeded; readBody (body.go) maps that error
// to errTooLarge ("a frame that declares more than max_body_bytes", a
// comment true only before 8baaf67), so the sender gets 413 "request body
// exceeds 33554432 bytes after decompression: send smaller batches or
// raise inputs.http.max_body_bytes" for a 12 MiB body. The message is
// false (the body is well within max_body_bytes), its advice cannot work
// (raising max_body_bytes does not raise zstdMaxWindow), and 413 is the
// answer shippers drop a batch on without retrying (docs/shippers.md:
// "Vector drops a batch answered 413"). The same body as a streaming
// frame (window declared) gets 400 with the real cause and its remedy
// ("compress with zstd levels up to 19, without --long").
//
// Such frames are what one-shot compression with a window at least the
// input's size writes: `zstd --ultra -20 file` of a 12 MiB file declares
// "Window Size: 12.0 MiB" (zstd -lv), as does klauspost/compress's
// EncodeAll with WithWindowSize(16 MiB), used here.
//
// Reproduce: POST /services/collector/event, Content-Encoding: zstd, a
// 12 MiB batch of HEC envelopes compressed in one single-segment frame,
// default config (max_body_bytes 32 MiB).
//
// Expected: not 413 claiming the body passed max_body_bytes: either taken
// (it is within every configured bound) or refused like the streaming
// frame with the same window, 400 naming the window bound.
//
// Severity: low (senders at zstd ultra levels or with a large window).
func TestZstdSingleSegmentWithinLimitNot413(t *testing.T) {
	var sb strings.Builder
	for i := 0; sb.Len() < 12<<20; i++ {
		fmt.Fprintf(&sb, `{"event":{"user":"u%d","action":"login","src":"10.0.%d.%d","n":%d}}`+"\n", i%99991, i%251, i%241, i)
	}
	plain := sb.String()
	enc, err := zstd.NewWriter(nil, zstd.WithWindowSize(16<<20))
	if err != nil {
		t.Fatal(err)
	}
	body := enc.EncodeAll([]byte(plain), nil)
	var fh zstd.Header
	if err := fh.Decode(body); err != nil || !fh.SingleSegment {
		t.Fatalf("want a single-segment frame: %+v %v", fh, err)
	}
	f := newFixture(t, Config{}, nil)
	w := f.do("POST", "/services/collector/event", "", string(body), "Content-Encoding", "zstd")
	t.Logf("%d-byte body (%d MiB decoded, one single-segment zstd frame): %d %s", len(body), len(plain)>>20, w.Code, w.Body.String())
	if w.Code == http.StatusRequestEntityTooLarge {
		t.Errorf("a %d MiB body (max_body_bytes %d) in one zstd frame was answered 413 %s: it is within max_body_bytes, and raising it cannot help (the bound is zstdMaxWindow)", len(plain)>>20, f.srv.cfg.MaxBodyBytes, w.Body.String())
	}
}
