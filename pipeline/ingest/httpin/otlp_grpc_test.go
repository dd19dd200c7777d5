package httpin

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	otellog "go.opentelemetry.io/otel/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// startGRPCFixture starts f's server with an OTLP/gRPC listener on a
// loopback port.
func startGRPCFixture(t *testing.T, cfg Config) *fixture {
	t.Helper()
	cfg.Address = "127.0.0.1:0"
	cfg.GRPCAddress = "127.0.0.1:0"
	f := newFixture(t, cfg, nil)
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return f
}

// TestOTLPGRPCSDKExporter: the OpenTelemetry Go SDK's OTLP/gRPC log
// exporter (gzip, a bearer token in the metadata) delivers through the
// gRPC listener, each record the event /v1/logs makes of it.
func TestOTLPGRPCSDKExporter(t *testing.T) {
	f := startGRPCFixture(t, Config{Tokens: []Token{{Name: "otel", Token: "s3cret-token-value", SourceType: "app.auth"}}})
	ctx := context.Background()
	exp, err := otlploggrpc.New(ctx,
		otlploggrpc.WithEndpoint(f.srv.GRPCAddr()),
		otlploggrpc.WithInsecure(),
		otlploggrpc.WithCompressor("gzip"),
		otlploggrpc.WithHeaders(map[string]string{"authorization": "Bearer s3cret-token-value"}),
		otlploggrpc.WithRetry(otlploggrpc.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	var rec otellog.Record
	rec.SetBody(attribute.MapValue(attribute.String("msg", "login failed"), attribute.String("user", "bob")))
	sdkEmit(t, exp, rec)
	evs := f.rec.Events()
	if len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	v := fastjson.MustParseBytes(evs[0].Raw)
	if string(v.GetStringBytes("user")) != "bob" || string(v.GetStringBytes("host", "name")) != "app-7" ||
		string(v.GetStringBytes("event", "dataset")) != "app.auth" || string(v.GetStringBytes("logrouter", "protocol")) != ProtoOTLP {
		t.Errorf("event %s", evs[0].Raw)
	}
	if evs[0].Time != otlpT0ms.UnixNano() {
		t.Errorf("time %v, want %v", time.Unix(0, evs[0].Time).UTC(), otlpT0ms)
	}
}

// TestOTLPGRPCAnswers: through the Collector's own gRPC client (pdata's
// plogotlp), the same request as over HTTP gives the same events; a
// quarantined record is counted in partial_success; no token is
// UNAUTHENTICATED; a request over max_events_per_request is
// INVALID_ARGUMENT (not retried) and takes nothing.
func TestOTLPGRPCAnswers(t *testing.T) {
	f := startGRPCFixture(t, Config{MaxEventsPerRequest: 3, Tokens: []Token{{Name: "otel", Token: "s3cret-token-value"}}})
	cc, err := grpc.NewClient(f.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	client := plogotlp.NewGRPCClient(cc)
	authed := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer s3cret-token-value")

	if _, err := client.Export(context.Background(), plogotlp.NewExportRequestFromLogs(otlpLogs())); status.Code(err) != codes.Unauthenticated {
		t.Errorf("no token: %v, want Unauthenticated", err)
	}

	ld := otlpLogs()
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty() // neither body nor attributes
	if _, err := client.Export(authed, plogotlp.NewExportRequestFromLogs(ld)); status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "max_events_per_request") {
		t.Errorf("4 records over a limit of 3: %v, want InvalidArgument naming max_events_per_request", err)
	}
	if n := len(f.rec.Events()); n != 0 {
		t.Fatalf("%d events taken from a refused request", n)
	}

	ld = otlpLogs()
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	lrs.At(2).Attributes().Clear() // the body-less record now holds nothing
	resp, err := client.Export(authed, plogotlp.NewExportRequestFromLogs(ld))
	if err != nil {
		t.Fatal(err)
	}
	if ps := resp.PartialSuccess(); ps.RejectedLogRecords() != 1 || !strings.Contains(ps.ErrorMessage(), "otlp_empty_record") {
		t.Errorf("partial success %d %q, want 1 otlp_empty_record", ps.RejectedLogRecords(), ps.ErrorMessage())
	}
	if n := len(f.rec.Events()); n != 2 {
		t.Errorf("%d events, want 2", n)
	}
	if recs := f.q.Records(); len(recs) != 1 || recs[0].Protocol != ProtoOTLP {
		t.Errorf("quarantine %+v", recs)
	}
}

// TestOTLPGRPCSlowMessageFreesItsSlot: a call whose message does not
// arrive within read_timeout is answered UNAVAILABLE (retry) and gives its
// max_concurrent_requests slot back, as an HTTP body that does not arrive:
// a sender that opens calls and never sends cannot hold the input.
func TestOTLPGRPCSlowMessageFreesItsSlot(t *testing.T) {
	f := startGRPCFixture(t, Config{MaxConcurrentRequests: 1, ReadTimeout: 300 * time.Millisecond})
	cc, err := grpc.NewClient(f.srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	const method = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Headers sent, the message never.
	cs, err := cc.NewStream(ctx, &grpc.StreamDesc{}, method, grpc.ForceCodecV2(pbRawCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	start := time.Now()
	if err := cs.RecvMsg(&out); status.Code(err) != codes.Unavailable || time.Since(start) > 5*time.Second {
		t.Fatalf("a call without its message: %v after %v, want Unavailable after read_timeout", err, time.Since(start))
	}
	// The slot is free again.
	client := plogotlp.NewGRPCClient(cc)
	if _, err := client.Export(ctx, plogotlp.NewExportRequestFromLogs(otlpLogs())); err != nil {
		t.Fatalf("the next call: %v", err)
	}
	if n := len(f.rec.Events()); n != 3 {
		t.Errorf("%d events, want 3", n)
	}
}
