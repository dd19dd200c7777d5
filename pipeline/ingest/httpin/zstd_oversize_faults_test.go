package httpin

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestZstdOneFramePastMaxBodyIs413: ce77b4b maps
// zstd.ErrDecoderSizeExceeded to errTooLarge (413) only when
// max_body_bytes+1 <= zstdWindow(max_body_bytes), i.e. max_body_bytes <=
// 10 MiB; above that (the default is 32 MiB) every one-frame
// (single-segment) body whose declared size passes the 10 MiB window bound
// is answered 400 "a zstd frame declares more than 10485761 bytes (its
// window); send a streaming frame ... or frames of at most that size",
// whether or not it is within max_body_bytes. The error is raised from
// the frame header (framedec.go: WindowSize = FrameContentSize >
// maxDecodedSize), so the declared size is known, but readBody does not
// look at it. A body that truly exceeds max_body_bytes now gets 400 with
// advice that cannot work: re-sent as a streaming frame, as told, the
// same body is answered 413 "request body exceeds ... max_body_bytes".
// Before ce77b4b it was 413 at once, the right answer. The commit's aim
// (bodies past the window but NOT past max_body_bytes) needed the
// declared size compared with max_body_bytes (zstd.Header.FrameContentSize).
//
// Reproduce: max_body_bytes 12 MiB; a 16 MiB HEC batch (and an /ingest
// NDJSON one) compressed as one single-segment frame (EncodeAll with a
// 32 MiB window) and as a streaming frame (default 8 MiB window).
//
// Expected: 413 for both encodings: the body decodes to more than
// max_body_bytes; the frame format must not turn the answer into 400
// naming only the window.
//
// Severity: low (misleading status and advice for oversize one-frame
// bodies; both answers are final for the sender).
func TestZstdOneFramePastMaxBodyIs413(t *testing.T) {
	const limit = 12 << 20
	var sb strings.Builder
	for i := 0; sb.Len() < 16<<20; i++ {
		fmt.Fprintf(&sb, `{"event":{"user":"u%d","action":"login","src":"10.0.%d.%d","n":%d}}`+"\n", i%99991, i%251, i%241, i)
	}
	plain := []byte(sb.String())
	one, err := zstd.NewWriter(nil, zstd.WithWindowSize(32<<20))
	if err != nil {
		t.Fatal(err)
	}
	single := one.EncodeAll(plain, nil)
	var fh zstd.Header
	if err := fh.Decode(single); err != nil || !fh.SingleSegment || fh.FrameContentSize <= limit {
		t.Fatalf("want a single-segment frame declaring more than %d: %+v %v", limit, fh, err)
	}
	var stream strings.Builder
	sw, err := zstd.NewWriter(&stream)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := sw.Close(); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, Config{MaxBodyBytes: limit}, nil)
	for _, path := range []string{"/services/collector/event", "/ingest"} {
		ws := f.do("POST", path, "", stream.String(), "Content-Encoding", "zstd")
		w1 := f.do("POST", path, "", string(single), "Content-Encoding", "zstd")
		t.Logf("%s: streaming frame %d %s; one frame (declares %d) %d %s", path, ws.Code, ws.Body, fh.FrameContentSize, w1.Code, w1.Body)
		if ws.Code != http.StatusRequestEntityTooLarge {
			t.Fatalf("%s: the streaming frame of a %d-byte body (max_body_bytes %d) was answered %d, not 413: the premise fails", path, len(plain), limit, ws.Code)
		}
		if w1.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: a %d-byte body (max_body_bytes %d) in one zstd frame was answered %d %s, not 413 as the same body in a streaming frame is: its advice (send a streaming frame) ends in 413", path, len(plain), limit, w1.Code, w1.Body)
		}
	}
}
