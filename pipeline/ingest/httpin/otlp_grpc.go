package httpin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	_ "google.golang.org/grpc/encoding/gzip" // OTLP exporters compress with gzip by default
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/logrouter/logrouter/internal/tlsconf"
)

// ProtoOTLPGRPC labels OTLP/gRPC requests in metrics; their events and
// quarantined records are ProtoOTLP's, as on /v1/logs.
const ProtoOTLPGRPC = "otlp_grpc"

// otlpLogsService is the OTLP logs service of
// opentelemetry/proto/collector/logs/v1/logs_service.proto. Its one method
// is served with a codec that hands the request over as bytes, so it is
// walked with protowire exactly as /v1/logs walks a protobuf body: no
// generated types, one mapping for both transports.
var otlpLogsService = grpc.ServiceDesc{
	ServiceName: "opentelemetry.proto.collector.logs.v1.LogsService",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Export", Handler: grpcExportHandler}},
	Metadata:    "opentelemetry/proto/collector/logs/v1/logs_service.proto",
}

// grpcMsg is a gRPC message as bytes: a request's (in a pooled buffer the
// handler gives back) or an answer's.
type grpcMsg struct{ b *[]byte }

// rawCodec passes messages through as bytes (grpcMsg). It copies a
// request once, into a pooled buffer, as the HTTP input reads a body:
// gRPC frees its own buffers when Unmarshal returns.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	m, ok := v.(*grpcMsg)
	if !ok {
		return nil, fmt.Errorf("httpin: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*m.b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(*grpcMsg)
	if !ok {
		return fmt.Errorf("httpin: cannot unmarshal into %T", v)
	}
	b := (*m.b)[:0]
	for _, d := range data {
		b = append(b, d.ReadOnlyData()...)
	}
	*m.b = b
	return nil
}

// Name is the codec of application/grpc+proto (and of application/grpc):
// what OTLP clients send.
func (rawCodec) Name() string { return "proto" }

func grpcExportHandler(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
	return srv.(*Server).grpcExport(ctx, dec)
}

// grpcExport serves LogsService/Export, OTLP over gRPC: the request is
// taken as POST /v1/logs takes a protobuf body (exportOTLP), with the same
// tokens (the "authorization" metadata: Bearer, Splunk or Basic), limits,
// source types and quarantine. Status codes follow the OTLP/gRPC
// specification: OK with partial_success for quarantined records,
// INVALID_ARGUMENT for a request that is not one (quarantined whole) or
// passes a per-request limit, UNAUTHENTICATED, and UNAVAILABLE, which
// OTLP clients retry, whenever nothing was taken and a retry can succeed
// (busy, a queue full, a destination failing, shutting down).
func (s *Server) grpcExport(ctx context.Context, dec func(any) error) (resp any, err error) {
	code := http.StatusOK
	defer func() { s.reqCtr.WithLabelValues(s.cfg.Name, ProtoOTLPGRPC, strconv.Itoa(code)).Inc() }()
	fail := func(st int, c codes.Code, msg string) (any, error) {
		code = st
		return nil, status.Error(c, msg)
	}
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	default:
		return fail(http.StatusTooManyRequests, codes.Unavailable,
			fmt.Sprintf("logrouter is busy: %d requests in progress (raise inputs.http.max_concurrent_requests or add replicas)", s.cfg.MaxConcurrentRequests))
	}
	var auth string
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		if v := md.Get("authorization"); len(v) > 0 {
			auth = v[0]
		}
	}
	tok, ar := s.authHeader(auth)
	if ar != authOK {
		return fail(http.StatusUnauthorized, codes.Unauthenticated,
			"missing or invalid credentials: send the metadata 'authorization: Bearer <token>' with a configured token (the bearertokenauth extension, or headers on the exporter)")
	}
	// gRPC reads and decompresses the whole message in dec, before its
	// size is known: a call holds grpc_max_message_bytes (the most dec may read)
	// of max_inflight_bytes from before it reads, as an HTTP request
	// holds its body as it reads it, so that a call past the budget is
	// refused before it costs anything.
	c := &charge{b: &s.mem, proto: ProtoOTLPGRPC}
	defer c.release()
	if !c.to(s.cfg.GRPCMaxMessageBytes) {
		return fail(http.StatusTooManyRequests, codes.Unavailable, s.busyMsg())
	}
	// A message that has not arrived within read_timeout gives its slot
	// and its charge back, as an HTTP body that has not: a slow sender
	// cannot hold max_concurrent_requests. The read goes on until gRPC
	// resets the stream, when this returns; the buffer stays with it.
	bp := bufPool.Get().(*[]byte)
	read := make(chan error, 1)
	go func() { read <- dec(&grpcMsg{b: bp}) }()
	timer := time.NewTimer(s.cfg.ReadTimeout)
	defer timer.Stop()
	select {
	case err := <-read:
		if err != nil {
			putBuf(bp)
			return fail(http.StatusBadRequest, status.Code(err), err.Error())
		}
	case <-timer.C:
		return fail(http.StatusServiceUnavailable, codes.Unavailable,
			fmt.Sprintf("the request did not arrive within inputs.http.read_timeout (%s), nothing was accepted: retry; for slow links send smaller batches or raise read_timeout", s.cfg.ReadTimeout))
	}
	defer putBuf(bp)
	c.body = int64(cap(*bp))
	s.bytes.Add(float64(len(*bp)))
	from := ""
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		from = peerIP(p.Addr.String())
	}
	q := s.newRequestFrom(from, ProtoOTLP, tok, len(*bp), c)
	out := s.exportOTLP(ctx, q, otlpProtobuf, *bp)
	switch {
	case out.refused:
		st, c, msg := otlpRefusal(q)
		return fail(st, c, msg)
	case out.status == http.StatusOK:
		b := otlpResponseProto(out.rejected, otlpPartialMsg(out.rejected, out.first))
		return &grpcMsg{b: &b}, nil
	case out.status == http.StatusBadRequest:
		return fail(out.status, codes.InvalidArgument, out.msg)
	}
	return fail(out.status, codes.Unavailable, out.msg)
}

// otlpRefusal is request.refuse for gRPC: what a request that passed a
// limit is answered (and q released).
func otlpRefusal(q *request) (int, codes.Code, string) {
	over := q.over
	q.abort()
	switch over {
	case overBudget:
		return http.StatusTooManyRequests, codes.Unavailable, q.s.busyMsg()
	case overEvents:
		return http.StatusRequestEntityTooLarge, codes.InvalidArgument,
			fmt.Sprintf("request carries more than %d log records: send smaller batches (the exporter's sending_queue batch size) or raise inputs.http.max_events_per_request", q.s.cfg.MaxEventsPerRequest)
	}
	return http.StatusRequestEntityTooLarge, codes.InvalidArgument,
		fmt.Sprintf("request's events exceed %d bytes once normalized: send smaller batches or raise inputs.http.max_normalized_bytes", q.s.cfg.MaxNormalizedBytes)
}

// grpcServer is the OTLP/gRPC listener of an HTTP input (grpc_address).
type grpcServer struct {
	srv *grpc.Server
	ln  net.Listener
	// done receives Serve's result.
	done chan error
}

// startGRPC listens on grpc_address and serves OTLP/gRPC in the
// background, with kp's certificate when the input serves TLS.
func (s *Server) startGRPC(kp *tlsconf.KeyPair) error {
	opts := []grpc.ServerOption{
		grpc.ForceServerCodecV2(rawCodec{}),
		// Decompressed; gRPC refuses a larger message RESOURCE_EXHAUSTED
		// before it is read whole.
		grpc.MaxRecvMsgSize(int(min(s.cfg.GRPCMaxMessageBytes, int64(^uint32(0)>>1)))),
		grpc.MaxConcurrentStreams(uint32(s.cfg.MaxConcurrentRequests)),
		grpc.ConnectionTimeout(10 * time.Second),
		// idle_timeout closes idle connections, as on HTTP.
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: s.cfg.IdleTimeout}),
	}
	if kp != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: kp.GetCertificate})))
	}
	ln, err := net.Listen("tcp", s.cfg.GRPCAddress)
	if err != nil {
		return fmt.Errorf("inputs.http: listen on %s for OTLP/gRPC: %w (is another process using the port? change inputs.http.grpc_address)", s.cfg.GRPCAddress, err)
	}
	g := &grpcServer{srv: grpc.NewServer(opts...), ln: ln, done: make(chan error, 1)}
	g.srv.RegisterService(&otlpLogsService, s)
	go func() {
		err := g.srv.Serve(ln)
		if errors.Is(err, grpc.ErrServerStopped) {
			err = nil
		}
		g.done <- err
	}()
	s.grpc = g
	s.log.Info("OTLP/gRPC input listening", "address", ln.Addr().String(), "tls", kp != nil)
	return nil
}

// GRPCAddr returns the OTLP/gRPC listening address (after Start), "" when
// grpc_address is not set.
func (s *Server) GRPCAddr() string {
	if s.grpc == nil {
		return ""
	}
	return s.grpc.ln.Addr().String()
}

// shutdown stops accepting calls and waits, bounded by ctx, for those in
// progress to be answered; past ctx it closes them.
func (g *grpcServer) shutdown(ctx context.Context) error {
	stopped := make(chan struct{})
	go func() {
		g.srv.GracefulStop()
		close(stopped)
	}()
	select {
	case <-stopped:
	case <-ctx.Done():
		g.srv.Stop()
		<-stopped
	}
	return <-g.done
}
