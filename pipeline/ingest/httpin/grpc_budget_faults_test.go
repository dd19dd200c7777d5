package httpin

import (
	"context"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// TestGRPCSmallCallsRefusedByReservation: HEAD (734d919) raised the
// default max_body_bytes from 10 MiB to 32 MiB, and grpcExport
// (otlp_grpc.go) reserves max_body_bytes of max_inflight_bytes for EVERY
// call before it reads the message (`c.to(s.cfg.MaxBodyBytes)`), however
// small the message is. max_inflight_bytes defaults to a quarter of the
// memory limit (defaultInflightBytes, budget.go). The edge DaemonSet this
// repository ships (deploy/kubernetes/edge-daemonset.yaml: limits.memory
// 512Mi, grpc_address :4317) runs with GOMEMLIMIT ~460 MiB
// (docs/architecture.md "Memory limit"), so max_inflight_bytes ~115 MiB:
// before HEAD 11 gRPC calls fitted (10 MiB each), now 3 (32 MiB each).
//
// The OpenTelemetry Collector's otlp exporter sends with
// sending_queue.num_consumers = 10 by default (exporterhelper), i.e. up
// to 10 concurrent Export calls, each typically a few KiB to a few
// hundred KiB. With a destination that takes a moment to acknowledge
// (every call waits for durability), 7 of those 10 are now answered
// UNAVAILABLE "busy ... max_inflight_bytes" although all ten together hold
// well under 1 MiB: the exporter backs off and retries, the node's
// throughput drops to 3 calls per delivery round trip, and its queue fills
// (retry_on_failure.max_elapsed_time, 5 min by default, then drops).
// The commit message acknowledges "small pods run fewer gRPC calls at
// once" but the docs (configuration.md) present 32 MiB as safe for every
// input.
//
// Reproduce: max_inflight_bytes 115 MiB (the edge DaemonSet's default),
// default max_body_bytes, a destination that holds its writes, ten
// concurrent one-record Export calls.
// Expected: all ten are admitted (they hold a few hundred KiB together);
// a call should be refused for memory it may actually hold, not for
// 32 MiB it never reads.
func TestGRPCSmallCallsRefusedByReservation(t *testing.T) {
	bs := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	f := newFixture(t, Config{Address: "127.0.0.1:0", GRPCAddress: "127.0.0.1:0", MaxInflightBytes: 115 << 20}, bs)
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	released := false
	release := func() {
		if !released {
			released = true
			close(bs.release)
		}
	}
	defer func() {
		release()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
	}()
	cc, err := grpc.NewClient(f.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := plogotlp.NewGRPCClient(cc)

	const calls = 10 // the otlp exporter's default sending_queue.num_consumers
	errs := make(chan error, calls)
	var wg sync.WaitGroup
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := client.Export(ctx, plogotlp.NewExportRequestFromLogs(otlpLogs()))
			errs <- err
		}()
	}
	// Admitted calls wait for the destination; refused ones return at once.
	refused := 0
	deadline := time.After(3 * time.Second)
wait:
	for {
		select {
		case err := <-errs:
			if status.Code(err) == codes.Unavailable {
				refused++
				t.Logf("refused: %v", err)
			} else {
				t.Logf("answered before the destination acknowledged: %v", err)
			}
		case <-deadline:
			break wait
		}
	}
	release()
	wg.Wait()
	if refused > 0 {
		t.Errorf("%d of %d concurrent one-record OTLP/gRPC calls refused UNAVAILABLE (busy, max_inflight_bytes 115 MiB): each reserves max_body_bytes (32 MiB) before reading a message of a few KiB", refused, calls)
	}
}
