package httpin

import (
	"bytes"
	"testing"
)

// TestZstdWindowMemoryUncharged: readBody (body.go) sizes the zstd
// decoder's window bound from the body limit: window = max(limit+1,
// zstdMinWindow), i.e. max_body_bytes+1, which HEAD (734d919) raised from
// 10 MiB to 32 MiB by default. The vendored klauspost/compress decoder
// allocates its history ring for the window the FRAME DECLARES, up front
// at the first block (history.ensureBlockRing: windowSize + 2 blocks), and
// the decoder is pooled (zstdPool) with that ring. None of it is charged
// to max_inflight_bytes: readBody charges only its output buffer (c.to on
// cap(buf)). So any authenticated sender (or anyone, with no tokens) can
// make each request hold ~32 MiB that the budget never sees with a body of
// a few hundred bytes: a streaming zstd frame declaring a 32 MiB window
// (zstd.WithWindowSize(32<<20); `zstd --long=25`), accepted since it is
// within the new bound. 128 concurrent requests (max_concurrent_requests)
// hold ~4 GiB besides max_inflight_bytes (before HEAD: ~1.3 GiB), the OOM
// the budget ("a quarter of the memory limit") exists to prevent, and the
// pooled decoders keep the rings after the requests end.
//
// Reproduce: readBody of a ~1 KiB JSON body compressed as a stream with a
// 32 MiB window, default limit, with a charge; compare what the call
// allocated with what it charged.
// Expected: what a request makes the process allocate for its body is
// charged to max_inflight_bytes (or the window bound does not grow with
// max_body_bytes: the 8 MiB zstdMinWindow is what encoders up to level 19
// use), so a tiny body cannot hold 100x its charge.
func TestZstdWindowMemoryUncharged(t *testing.T) {
	drainZstdPool()
	cfg := Config{}
	cfg.SetDefaults() // max_body_bytes 32 MiB
	body := zstdStream(t, bytes.Repeat([]byte(`{"event":"user bob logged in from 10.0.0.1"}`+"\n"), 24), 32<<20)
	b := &budget{limit: 1 << 40}
	c := &charge{b: b}
	var err error
	alloc := pbAllocated(func() {
		var bp *[]byte
		bp, err = readBody(bytes.NewReader(body), "zstd", cfg.MaxBodyBytes, int64(len(body)), c)
		if err == nil {
			putBuf(bp)
		}
	})
	if err != nil {
		// Refused (the window bound no longer grows with max_body_bytes):
		// then it must not have allocated the declared window either.
		if alloc > 4<<20 {
			t.Errorf("a refused %d-byte zstd body allocated %d MiB", len(body), alloc>>20)
		}
		return
	}
	t.Logf("%d-byte zstd body (window 32 MiB): %d KiB allocated, %d KiB charged to max_inflight_bytes", len(body), alloc>>10, c.held>>10)
	if int64(alloc) > c.held+(4<<20) {
		t.Errorf("a %d-byte zstd body made readBody allocate %d MiB but charged only %d KiB to max_inflight_bytes: the decoder's window (bounded by max_body_bytes, now 32 MiB) is never charged", len(body), alloc>>20, c.held>>10)
	}
}
