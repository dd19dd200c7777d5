package httpin

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Config is one HTTP input (`inputs.http` in the router configuration).
type Config struct {
	// Name labels the input in metrics and event metadata. Default "http".
	Name string `yaml:"name"`
	// Address to listen on. Default ":8088" (Splunk HEC's port).
	Address string `yaml:"address"`
	// MaxBodyBytes bounds one request body after decompression. Default
	// 32 MiB: the OpenTelemetry Collector's splunk_hec exporter caps its
	// gzipped requests at 2 MiB, which its default batch of 8192 records
	// decompresses past 10 MiB (k8s logs: ~11 MB); Vector's elasticsearch
	// sink sends 10 MB of events plus the action lines; Elasticsearch's
	// own bound (http.max_content_length) is 100 MB. max_inflight_bytes
	// bounds what all requests hold together.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxEventsPerRequest bounds the records one request may carry (events
	// and records refused into quarantine; for _bulk, items); past it the
	// request is refused with 413 and nothing in it is taken. Default
	// max_body_bytes/100, at most 104857 (its value for a 10 MiB body, the
	// default before max_body_bytes' grew to 32 MiB for compressed batches
	// of larger records: tiny records bound memory, not bytes).
	//
	// max_body_bytes alone does not bound memory: every record costs about
	// 280 bytes however small it is (~190 normalized bytes of metadata and
	// an 88-byte Event), so 10 MiB of "{}" lines held 1.3 GiB. Real records
	// are well over 100 bytes with their envelope (a short syslog line in
	// HEC ~150, the realistic mix ~870; Beats' default bulk_max_size is
	// 1600 events), so the default refuses only bodies that are mostly
	// framing, and holds a request to ~30 MiB of events.
	MaxEventsPerRequest int `yaml:"max_events_per_request"`
	// MaxNormalizedBytes bounds the normalized events of one request; past
	// it the request is refused with 413. Default 4 x max_body_bytes (at
	// most maxNormalizedBytesLimit): real events normalize to 1.1-1.5x their
	// input, 100-byte ones (the smallest the default event limit lets fill a
	// body) to ~2.9x; what passes 4x is text that grows when escaped
	// (control characters become 6-byte \u00XX).
	MaxNormalizedBytes int64 `yaml:"max_normalized_bytes"`
	// MaxEventBytes bounds one record (an HEC envelope, a line, a _bulk
	// source, an array element); a longer one is not parsed but quarantined
	// as too_large (its first max_event_bytes bytes), and the rest of the
	// request is taken. Default 1 MiB. Parsing costs memory in proportion
	// to a record's values (tens of times its size for a long array), and
	// parsers are pooled: one 10 MiB record would pin hundreds of MiB.
	MaxEventBytes int `yaml:"max_event_bytes"`
	// MaxConcurrentRequests bounds requests processed at once; past it clients
	// get 503 (HEC) or 429 with Retry-After. Default 128.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`
	// MaxInflightBytes bounds the memory the requests in progress hold
	// together: decoded bodies and normalized events. A request that would
	// pass it is answered as past max_concurrent_requests (503 for HEC,
	// 429 otherwise, with Retry-After) before anything of it is accepted;
	// a request alone is never refused by it (its own limits bound it).
	// Default: a quarter of the runtime's memory limit (GOMEMLIMIT, which
	// `router run` sets from the container's), at least 64 MiB; 1 GiB
	// when there is no limit. The per-request limits alone allow up to
	// max_concurrent_requests x (max_body_bytes + max_normalized_bytes):
	// ~20 GiB at the defaults.
	MaxInflightBytes int64 `yaml:"max_inflight_bytes"`
	// ReadTimeout bounds reading one request. Default 60s.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// IdleTimeout closes idle keep-alive connections. Default 120s.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxConnections bounds the open connections of the HTTP listener
	// (not OTLP/gRPC's); past it a new connection is closed at once and
	// counted. Default 8192.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerIP bounds those of one source address (an IPv6
	// sender's /64). Default 512; -1: no bound. Raise it for a load
	// balancer or NAT gateway that many senders share.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// SourceType is the default source type of events from this input.
	SourceType string `yaml:"source_type"`
	// Tokens accepted on every endpoint (HEC "Authorization: Splunk <token>",
	// or Basic auth with the token as password, or "Bearer <token>"). When
	// empty, no authentication is required (logged as a warning at start).
	Tokens []Token `yaml:"tokens"`
	// AllowQueryToken accepts ?token= on HEC endpoints (Splunk's
	// allowQueryStringAuth), for senders that cannot set headers.
	AllowQueryToken bool `yaml:"allow_query_token"`
	// ESVersion is the Elasticsearch version announced on GET / so Beats,
	// Logstash and Vector accept this endpoint. Default "8.11.0".
	ESVersion string `yaml:"es_version"`
	// TLS, when both files are set, serves HTTPS (and OTLP/gRPC over TLS).
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// GRPCAddress, when set (":4317", OTLP/gRPC's port), serves OTLP logs
	// over gRPC there (LogsService/Export), with this input's tokens,
	// limits and TLS; OTLP over HTTP is POST /v1/logs on Address.
	GRPCAddress string `yaml:"grpc_address"`
	// GRPCMaxMessageBytes bounds one OTLP/gRPC message after
	// decompression. gRPC reads a message whole before its size is known,
	// so a call holds this much of max_inflight_bytes from before it reads:
	// it is kept apart from max_body_bytes so that the Collector's
	// concurrent exports (its sending_queue's 10 consumers) fit a small
	// pod's budget. Default 10 MiB, at most max_body_bytes.
	GRPCMaxMessageBytes int64 `yaml:"grpc_max_message_bytes"`
}

// maxNormalizedBytesLimit is the largest max_normalized_bytes: the events
// of a batch are addressed with 32-bit offsets into its buffer, and the
// limit is checked between records, so one record may still pass it.
const maxNormalizedBytesLimit = 2 << 30

// Token is one accepted credential and the defaults it implies.
type Token struct {
	// Name identifies the token in metrics and in event metadata
	// (logrouter.token); the secret itself is never logged or stored.
	Name string `yaml:"name"`
	// Token is the secret. Use ${ENV_VAR} in the config file.
	Token string `yaml:"token"`
	// SourceType is the default source type of events sent with this token.
	SourceType string `yaml:"source_type"`
	// Index is the default HEC index of events sent with this token.
	Index string `yaml:"index"`
	// Ack turns on HEC indexer acknowledgement for this token, as Splunk's
	// useACK does: a HEC request on a channel is answered with an ackId
	// and /services/collector/ack answers for it (every id true: the 200
	// is sent once the events are durable). For clients that require it
	// (Splunk Connect for Kafka with splunk.hec.ack.enabled); leave it off
	// for the others: Vector, whose default is to use acknowledgement when
	// offered, then holds each request until its next poll (10 s).
	Ack bool `yaml:"ack"`
}

// maxDefaultEventsPerRequest caps the default of max_events_per_request
// (see MaxEventsPerRequest).
const maxDefaultEventsPerRequest = 104857

// SetDefaults fills unset fields.
func (c *Config) SetDefaults() {
	if c.Name == "" {
		c.Name = "http"
	}
	if c.Address == "" {
		c.Address = ":8088"
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = 32 << 20
	}
	if c.MaxEventsPerRequest == 0 && c.MaxBodyBytes > 0 {
		c.MaxEventsPerRequest = int(min(max(c.MaxBodyBytes/100, 1), maxDefaultEventsPerRequest))
	}
	if c.MaxNormalizedBytes == 0 && c.MaxBodyBytes > 0 {
		c.MaxNormalizedBytes = maxNormalizedBytesLimit
		if c.MaxBodyBytes < maxNormalizedBytesLimit/4 {
			c.MaxNormalizedBytes = 4 * c.MaxBodyBytes
		}
	}
	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = 1 << 20
	}
	if c.GRPCMaxMessageBytes == 0 && c.MaxBodyBytes > 0 {
		c.GRPCMaxMessageBytes = min(10<<20, c.MaxBodyBytes)
	}
	if c.MaxConcurrentRequests == 0 {
		c.MaxConcurrentRequests = 128
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 60 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 120 * time.Second
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = 8192
	}
	if c.MaxConnectionsPerIP == 0 {
		c.MaxConnectionsPerIP = 512
	}
	if c.ESVersion == "" {
		c.ESVersion = "8.11.0"
	}
}

// Validate checks the configuration; prefix is the YAML path of the block.
func (c *Config) Validate(prefix string) error {
	if c.MaxBodyBytes < 0 {
		return fmt.Errorf("%s.max_body_bytes: must be positive", prefix)
	}
	if c.MaxEventBytes < 0 {
		return fmt.Errorf("%s.max_event_bytes: must be positive", prefix)
	}
	if c.GRPCMaxMessageBytes < 0 || c.GRPCMaxMessageBytes > c.MaxBodyBytes {
		return fmt.Errorf("%s.grpc_max_message_bytes: must be positive and at most max_body_bytes (%d); got %d", prefix, c.MaxBodyBytes, c.GRPCMaxMessageBytes)
	}
	if c.MaxEventsPerRequest < 0 {
		return fmt.Errorf("%s.max_events_per_request: must be positive", prefix)
	}
	if c.MaxNormalizedBytes < 0 || c.MaxNormalizedBytes > maxNormalizedBytesLimit {
		return fmt.Errorf("%s.max_normalized_bytes: must be positive and at most %d (one request's events share one buffer addressed with 32-bit offsets); got %d", prefix, int64(maxNormalizedBytesLimit), c.MaxNormalizedBytes)
	}
	if c.MaxConcurrentRequests < 0 {
		return fmt.Errorf("%s.max_concurrent_requests: must be positive", prefix)
	}
	if c.ReadTimeout <= 0 {
		return fmt.Errorf("%s.read_timeout: must be a positive duration, got %s (it bounds reading a request and writing its answer): omit it for the default of 60s", prefix, c.ReadTimeout)
	}
	if c.IdleTimeout < 0 {
		return fmt.Errorf("%s.idle_timeout: must be a positive duration, got %s: omit it for the default of 120s", prefix, c.IdleTimeout)
	}
	if c.MaxInflightBytes < 0 {
		return fmt.Errorf("%s.max_inflight_bytes: must be positive (omit it for a quarter of the memory limit)", prefix)
	}
	if c.MaxConnections < 0 || c.MaxConnectionsPerIP < -1 {
		return fmt.Errorf("%s: max_connections must be positive and max_connections_per_ip positive or -1 (no bound); omit them for 8192 and 512", prefix)
	}
	if c.GRPCAddress != "" {
		_, port, err := net.SplitHostPort(c.GRPCAddress)
		if err != nil {
			return fmt.Errorf("%s.grpc_address: %q is not host:port (e.g. \":4317\"): %v", prefix, c.GRPCAddress, err)
		}
		if c.GRPCAddress == c.Address && port != "0" {
			return fmt.Errorf("%s.grpc_address: %q is also the HTTP address; OTLP/gRPC needs a port of its own (4317 by convention)", prefix, c.GRPCAddress)
		}
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return fmt.Errorf("%s: set both tls_cert_file and tls_key_file, or neither", prefix)
	}
	names := map[string]bool{}
	secrets := map[string]bool{}
	for i, t := range c.Tokens {
		switch {
		case t.Name == "":
			return fmt.Errorf("%s.tokens[%d].name: required (it labels metrics; the secret is never shown)", prefix, i)
		case t.Token == "":
			return fmt.Errorf("%s.tokens[%d] (%s).token: empty; if it comes from ${VAR}, set that environment variable", prefix, i, t.Name)
		case strings.IndexFunc(t.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0:
			// A sender's token is read trimmed: one with white space or a
			// control character (a Secret file's trailing newline) could
			// never match, and every request would get 401.
			return fmt.Errorf("%s.tokens[%d] (%s).token: holds white space or a control character (a trailing newline from a Secret file?); check the variable it was expanded from", prefix, i, t.Name)
		case names[t.Name]:
			return fmt.Errorf("%s.tokens[%d].name: %q is used twice", prefix, i, t.Name)
		case secrets[t.Token]:
			return fmt.Errorf("%s.tokens[%d] (%s).token: the same secret is configured twice", prefix, i, t.Name)
		}
		names[t.Name] = true
		secrets[t.Token] = true
	}
	return nil
}
