package httpin

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// TestOTLPGRPCMessageReadBeforeInflightCharge: max_inflight_bytes
// exists because "max_concurrent_requests and the per-request limits
// alone do not" bound memory (budget.go); on every HTTP endpoint a body is
// charged as it is read (readBody takes the buffer's capacity from the
// charge as it grows) and a request that does not fit in what is left is
// refused while its body is read, before the rest is decompressed or
// buffered. grpcExport instead calls dec() first, which makes grpc-go read
// and decompress the WHOLE message (up to max_body_bytes), and Unmarshal
// (rawCodec) copy it into a pooled buffer grown by append, and only then
// charges c.body = cap(*bp) and answers UNAVAILABLE. So OTLP/gRPC bypasses
// the bound entirely: with max_inflight_bytes 1 MiB held by a request in
// progress, one gRPC call of a 48 MiB (gzip: 48 KB on the wire) message
// makes the router allocate ~300 MiB before it is refused, and 128
// concurrent calls (max_concurrent_requests) at the default 10 MiB
// max_body_bytes hold ~2.5 GiB however low max_inflight_bytes is set
// (a quarter of the container's memory limit): the OOM kill the limit is
// there to prevent. The same body on POST /v1/logs allocates nothing
// (refused while read).
// Expected: a gRPC message is charged to max_inflight_bytes as it is
// received (or refused busy before it is read, e.g. from its declared
// length / a stats handler or a streaming handler reading it in charged
// steps), so a refused call costs no more than the HTTP one.
func TestOTLPGRPCMessageReadBeforeInflightCharge(t *testing.T) {
	bs := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, Config{Address: "127.0.0.1:0", GRPCAddress: "127.0.0.1:0", MaxBodyBytes: 64 << 20, MaxInflightBytes: 1 << 20}, bs)
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
	}()
	// A request in progress holds ~700 KiB of the 1 MiB budget while its
	// delivery waits.
	var first strings.Builder
	for i := 0; first.Len() < 700<<10; i++ {
		fmt.Fprintf(&first, "{\"event\":{\"n\":%d,\"msg\":%q}}\n", i, strings.Repeat("x", 200))
	}
	done := make(chan int)
	go func() { done <- f.do("POST", "/services/collector/event", "", first.String()).Code }()
	<-bs.entered
	defer func() { close(bs.release); <-done }()

	cc, err := grpc.NewClient(f.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(pbRawCodec{})))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	const method = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
	var out []byte
	_ = cc.Invoke(context.Background(), method, &[]byte{}, &out) // connect first
	msg := make([]byte, 48<<20)                                  // zeros: 48 KB gzipped
	var callErr error
	grpcAlloc := pbAllocated(func() {
		callErr = cc.Invoke(context.Background(), method, &msg, &out, grpc.UseCompressor("gzip"))
	})

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(msg)
	_ = zw.Close()
	var code int
	httpAlloc := pbAllocated(func() {
		code = f.postOTLP(gz.Bytes(), "application/x-protobuf", "Content-Encoding", "gzip").Code
	})
	t.Logf("gRPC: %v, %d MiB allocated; POST /v1/logs: %d, %d MiB allocated", status.Code(callErr), grpcAlloc>>20, code, httpAlloc>>20)
	if status.Code(callErr) != codes.Unavailable || code != http.StatusTooManyRequests {
		t.Fatalf("not refused by max_inflight_bytes: gRPC %v, HTTP %d", callErr, code)
	}
	if grpcAlloc > 16<<20 {
		t.Errorf("a gRPC call refused by max_inflight_bytes (1 MiB, held by another request) allocated %d MiB: its %d MiB message was read, decompressed and copied before it was charged (POST /v1/logs: %d MiB, refused while read)",
			grpcAlloc>>20, len(msg)>>20, httpAlloc>>20)
	}
}
