package opensearch

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/logrouter/logrouter/internal/redact"
)

// Type is the destination type name used in configuration.
const Type = "opensearch"

// Defaults for Config; SetDefaults applies them.
const (
	DefaultIndex                 = "logs-{source_type}-{yyyy.MM.dd}"
	DefaultOpType                = OpCreate
	DefaultBulkBytes             = 5 << 20
	DefaultMaxConcurrentRequests = 4
	DefaultRequestTimeout        = 60 * time.Second
	DefaultTemplateName          = "logrouter"
	DefaultTemplatePriority      = 100
	// DefaultIndexDateMaxAge: a week covers the late logs a sender's own
	// buffer delivers after an outage (a long weekend, agents catching up
	// on spooled files), while a sender cannot date events into indices
	// older than that, which ISM has usually made read-only, shrunk or
	// deleted (writing there fails, or re-creates a deleted index outside
	// its lifecycle).
	DefaultIndexDateMaxAge = 7 * 24 * time.Hour
	// DefaultIndexDateMaxFuture: an hour tolerates clock skew (NTP-synced
	// hosts are seconds apart) and the last hour before a UTC midnight,
	// but not a clock or time zone that is hours off, or events dated in
	// the future on purpose to create tomorrow's (or next year's) indices
	// in advance.
	DefaultIndexDateMaxFuture = time.Hour
	// DefaultMaxIndexSourceTypes: deployments have tens of source types
	// (the realistic benchmark mix has 13); 200 leaves room for growth, so
	// that a legitimate new one does not land in "other", while one sender
	// can no longer make the source type part of the names unbounded.
	DefaultMaxIndexSourceTypes = 200
)

// Bounds of the index name limits.
const (
	maxIndexDateWindow     = 10 * 365 * 24 * time.Hour
	maxMaxIndexSourceTypes = 10000
)

// Operation types accepted by the "op_type" key.
const (
	// OpCreate indexes a document only if its _id is new: a redelivered
	// event answers 409, which counts as delivered. Required for data
	// streams.
	OpCreate = "create"
	// OpIndex creates or overwrites the document with the same _id.
	OpIndex = "index"
)

// maxBulkBytes bounds bulk_bytes: OpenSearch's http.max_content_length
// defaults to 100 MiB.
const maxBulkBytes = 100 << 20

// Config configures an OpenSearch destination. Zero values mean the
// documented defaults (see SetDefaults).
type Config struct {
	// URLs are the cluster's nodes, "https://node-1:9200" (a path prefix
	// is kept, for a cluster behind a reverse proxy). Required. Requests go
	// round-robin over them; a node that fails is skipped until it answers
	// its health check again (opensearch-go's connection pool).
	URLs []string `yaml:"urls"`
	// Username and Password enable HTTP basic authentication. Write the
	// password as ${ENV_VAR}: the configuration loader expands it.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// TLS configures certificate checks and client certificates for
	// https URLs; nil means the system roots.
	TLS *TLSConfig `yaml:"tls"`
	// AWSSigV4 signs every request with AWS Signature V4 (Amazon
	// OpenSearch Service or Serverless), with credentials from the
	// aws-sdk-go-v2 default chain (environment, shared files, web
	// identity, ECS/EC2 roles). nil means no signing.
	AWSSigV4 *AWSSigV4Config `yaml:"aws_sigv4"`
	// Index is the index (or data stream) name template: literal text
	// and the placeholders {source_type} (the event's source type,
	// sanitized into a valid index name), {priority} (p1, p2, p3) and a
	// date in braces made of yyyy, MM, dd and HH separated by . - or _
	// (for example {yyyy.MM.dd}), taken from the event's time in UTC.
	// Default "logs-{source_type}-{yyyy.MM.dd}".
	Index string `yaml:"index"`
	// IndexDateMaxAge and IndexDateMaxFuture bound how far before or after
	// its ingest time an event's time may be and still give the date in
	// its index name; an event outside that window is indexed under its
	// ingest time's date (its document, @timestamp included, is
	// unchanged), and counted in
	// logrouter_opensearch_index_date_clamped_events_total. The event time
	// comes from the sender, so without this one request could create an
	// index for every day of any century. Defaults 168h (7 days) and 1h.
	// Without a date placeholder in index they do nothing.
	IndexDateMaxAge    time.Duration `yaml:"index_date_max_age"`
	IndexDateMaxFuture time.Duration `yaml:"index_date_max_future"`
	// MaxIndexSourceTypes caps the distinct source types (sanitized as in
	// index names) this destination names indices after, for the process's
	// lifetime: the source type comes from the sender (HEC sourcetype, the
	// bulk _index, event.dataset), and every new one is a new index per
	// day. Events of any further source type go to the index named with
	// "other" instead, are counted in
	// logrouter_opensearch_index_source_type_overflow_events_total, and
	// each such source type is logged once at warning level (at most one
	// line a second). Worst case, senders can create about
	// max_index_source_types x (days in the index date window, 9 by
	// default) daily indices. Default 200; at most 10000. Without
	// {source_type} in index it does nothing. Replayed events (refusals
	// sent back as written, from records the router sealed) keep their
	// source type's index without taking a place: the set is rebuilt in
	// arrival order after a restart.
	MaxIndexSourceTypes int `yaml:"max_index_source_types"`
	// OpType is "create" (default: a redelivered event answers 409 and
	// counts as delivered, never a duplicate; required for data streams,
	// with a data stream name as index) or "index" (overwrite the
	// document with the same id).
	OpType string `yaml:"op_type"`
	// BulkBytes is the most uncompressed bytes (action lines and
	// documents) in one bulk request; larger batches are split. Default
	// 5 MiB. A single larger event is sent alone.
	BulkBytes int `yaml:"bulk_bytes"`
	// MaxConcurrentRequests bounds the bulk requests in flight to this
	// destination. A batch larger than 1 MiB is split into up to this many
	// requests sent concurrently. Default 4.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`
	// Gzip compresses request bodies (Content-Encoding: gzip). Default true.
	Gzip *bool `yaml:"gzip"`
	// GzipLevel is the gzip level: 1 (default, fastest) to 9, or -2 for
	// Huffman coding only. Measured on the realistic mix, one core
	// (BenchmarkEncode/gzip-level=N): level 1 ~250 MB/s at ratio ~3.6, 2
	// about as fast at ~3.9, -2 ~600 MB/s at ~1.5. End to end (lrbench a,
	// loopback) -2 saved no router CPU: sending 2.4x the bytes cost what the
	// cheaper compression saved. Higher levels are for metered links.
	GzipLevel int `yaml:"gzip_level"`
	// RequestTimeout bounds one bulk request (yaml: "60s"). Default 60s.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// Headers are extra HTTP headers sent with every request (bulk,
	// bootstrap and the client's health checks), for example the VL-*
	// headers VictoriaLogs' Elasticsearch-compatible endpoint reads
	// (VL-Msg-Field: message, VL-Time-Field: @timestamp) or a header a
	// reverse proxy expects. Names must be valid HTTP header names; values
	// must not contain control characters (write a secret as ${ENV_VAR}).
	// Authorization, Content-Type, Content-Encoding, Content-Length, Host
	// and User-Agent are refused: the sink or its HTTP client sets them
	// (see the Validate errors). Default none.
	Headers map[string]string `yaml:"headers"`
	// Bootstrap installs an index template for the index pattern.
	Bootstrap BootstrapConfig `yaml:"bootstrap"`
}

// TLSConfig configures TLS to the nodes.
type TLSConfig struct {
	// CAFile is a PEM bundle of the authorities that sign the nodes'
	// certificates; empty means the system roots.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are a PEM client certificate and key, for
	// clusters that authenticate clients by certificate.
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// InsecureSkipVerify disables certificate verification (tests only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
}

// AWSSigV4Config enables AWS Signature V4 request signing.
type AWSSigV4Config struct {
	// Region is the AWS region of the domain or collection, for example
	// "eu-west-1". Required.
	Region string `yaml:"region"`
	// Service is "es" (Amazon OpenSearch Service, default) or "aoss"
	// (OpenSearch Serverless).
	Service string `yaml:"service"`
}

// BootstrapConfig configures the index template the sink installs.
type BootstrapConfig struct {
	// Enabled makes the sink create the index template when it is
	// missing (GET then PUT _index_template/<template_name>). An existing
	// template is never overwritten. Default false.
	Enabled bool `yaml:"enabled"`
	// TemplateName is the index template's name. Default "logrouter".
	TemplateName string `yaml:"template_name"`
	// IndexPatterns are the template's index patterns. Default: the
	// index template's literal text before its first placeholder,
	// followed by "*" (for the default index, "logs-*").
	IndexPatterns []string `yaml:"index_patterns"`
	// Priority is the template's priority among the templates matching an
	// index. Default 100.
	Priority int `yaml:"priority"`
	// ISMPolicy, when set, names the Index State Management policy that
	// manages the new indices of IndexPatterns: bootstrap adds the patterns
	// to the policy's ism_template (how ISM attaches a policy to a new
	// index; the rest of the policy is kept, the write conditional on the
	// version read) and writes the id into the template's settings
	// (index.plugins.index_state_management.policy_id, for the record:
	// ISM no longer attaches by it). The policy itself must exist
	// (logrouter does not create it); bootstrap retries until it does.
	ISMPolicy string `yaml:"ism_policy"`
	// DataStream makes the template a data stream template ("data_stream":
	// {}), for an index setting that names a data stream.
	DataStream bool `yaml:"data_stream"`
}

// SetDefaults sets every zero field to its default.
func (c *Config) SetDefaults() {
	if c.Index == "" {
		c.Index = DefaultIndex
	}
	if c.IndexDateMaxAge == 0 {
		c.IndexDateMaxAge = DefaultIndexDateMaxAge
	}
	if c.IndexDateMaxFuture == 0 {
		c.IndexDateMaxFuture = DefaultIndexDateMaxFuture
	}
	if c.MaxIndexSourceTypes == 0 {
		c.MaxIndexSourceTypes = DefaultMaxIndexSourceTypes
	}
	if c.OpType == "" {
		c.OpType = DefaultOpType
	}
	if c.BulkBytes == 0 {
		c.BulkBytes = DefaultBulkBytes
	}
	if c.MaxConcurrentRequests == 0 {
		c.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	if c.Gzip == nil {
		t := true
		c.Gzip = &t
	}
	if c.GzipLevel == 0 {
		c.GzipLevel = 1
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.AWSSigV4 != nil && c.AWSSigV4.Service == "" {
		s := *c.AWSSigV4
		s.Service = "es"
		c.AWSSigV4 = &s
	}
	b := &c.Bootstrap
	if b.TemplateName == "" {
		b.TemplateName = DefaultTemplateName
	}
	if b.Priority == 0 {
		b.Priority = DefaultTemplatePriority
	}
	if len(b.IndexPatterns) == 0 {
		if t, err := parseIndexTemplate(c.Index); err == nil && t.pattern() != "" {
			b.IndexPatterns = []string{t.pattern()}
		}
	}
}

// Validate reports every configuration error; the messages name the yaml key
// (relative to the destination block, whose path the caller prefixes) and say
// how to fix it. Zero values are validated as their defaults. It does not
// read the TLS files (New does).
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	c.SetDefaults()

	if len(c.URLs) == 0 {
		add(`"urls" is required: list the cluster's nodes, like "https://opensearch-1.example.com:9200"`)
	}
	for i, s := range c.URLs {
		u, err := url.Parse(s)
		switch {
		case err != nil:
			add(`"urls[%d]" %q is not a URL: write it like "https://opensearch-1.example.com:9200"`, i, redact.URL(s))
		case u.Scheme != "http" && u.Scheme != "https":
			add(`"urls[%d]" %q must start with http:// or https://`, i, redact.URL(s))
		case u.Host == "":
			add(`"urls[%d]" %q has no host: write it like "https://opensearch-1.example.com:9200"`, i, redact.URL(s))
		case u.User != nil:
			add(`"urls[%d]" contains credentials: move them to "username" and "password" (password as ${ENV_VAR})`, i)
		}
	}
	if (c.Username == "") != (c.Password == "") {
		add(`"username" and "password" go together: set both for basic authentication (the password as ${ENV_VAR}), or neither`)
	}
	if c.AWSSigV4 != nil {
		if c.Username != "" {
			add(`"aws_sigv4" and "username"/"password" exclude each other: Amazon OpenSearch authenticates signed requests by IAM, remove one of them`)
		}
		if strings.TrimSpace(c.AWSSigV4.Region) == "" {
			add(`"aws_sigv4.region" is required: the domain's AWS region, like "eu-west-1"`)
		}
		switch c.AWSSigV4.Service {
		case "es", "aoss":
		default:
			add(`"aws_sigv4.service" must be "es" (Amazon OpenSearch Service) or "aoss" (OpenSearch Serverless), not %q`, c.AWSSigV4.Service)
		}
	}
	if t := c.TLS; t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		add(`"tls": set both "cert_file" and "key_file" for a client certificate, or neither`)
	}
	if c.TLS != nil {
		for i, s := range c.URLs {
			if u, err := url.Parse(s); err == nil && u.Scheme == "http" {
				// The transport would never use it: the password, the
				// events and no client certificate would go in clear.
				add(`"tls" is set but "urls[%d]" is http://: use https:// (or remove "tls" for a plain-text cluster)`, i)
			}
		}
	}
	if _, err := parseIndexTemplate(c.Index); err != nil {
		add("%v", err)
	}
	if c.IndexDateMaxAge < 0 || c.IndexDateMaxAge > maxIndexDateWindow {
		add(`"index_date_max_age" must be positive and at most 87600h (10 years), got %s: omit it for the default of 168h (7 days)`, c.IndexDateMaxAge)
	}
	if c.IndexDateMaxFuture < 0 || c.IndexDateMaxFuture > maxIndexDateWindow {
		add(`"index_date_max_future" must be positive and at most 87600h (10 years), got %s: omit it for the default of 1h`, c.IndexDateMaxFuture)
	}
	if c.MaxIndexSourceTypes < 1 || c.MaxIndexSourceTypes > maxMaxIndexSourceTypes {
		add(`"max_index_source_types" must be between 1 and %d, got %d: omit it for the default of %d`, maxMaxIndexSourceTypes, c.MaxIndexSourceTypes, DefaultMaxIndexSourceTypes)
	}
	switch c.OpType {
	case OpCreate, OpIndex:
	default:
		add(`"op_type" must be "create" (default; required for data streams) or "index", not %q`, c.OpType)
	}
	if c.BulkBytes < 1024 || c.BulkBytes > maxBulkBytes {
		add(`"bulk_bytes" must be between 1024 and %d (OpenSearch's default http.max_content_length), got %d: omit it for the default of 5 MiB`, maxBulkBytes, c.BulkBytes)
	}
	if c.MaxConcurrentRequests < 1 || c.MaxConcurrentRequests > 64 {
		add(`"max_concurrent_requests" must be between 1 and 64, got %d: omit it for the default of %d`, c.MaxConcurrentRequests, DefaultMaxConcurrentRequests)
	}
	if c.GzipLevel != 0 && c.GzipLevel != -2 && (c.GzipLevel < 1 || c.GzipLevel > 9) {
		add(`"gzip_level" must be 1 (fastest) to 9, or -2 (Huffman coding only), got %d: omit it for the default of 1`, c.GzipLevel)
	}
	if c.RequestTimeout < 0 {
		add(`"request_timeout" must be positive, got %s: omit it for the default of 60s`, c.RequestTimeout)
	}
	seen := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		if err := checkHeader(name, c.Headers[name]); err != nil {
			add(`"headers": %q %v`, name, err)
		}
		canon := http.CanonicalHeaderKey(name)
		if other, dup := seen[canon]; dup {
			add(`"headers": %q and %q are the same header (names ignore case): keep one`, other, name)
		}
		seen[canon] = name
	}
	if c.Bootstrap.Enabled {
		if err := checkTemplateName(c.Bootstrap.TemplateName); err != nil {
			add(`"bootstrap.template_name" %q %v`, c.Bootstrap.TemplateName, err)
		}
		if len(c.Bootstrap.IndexPatterns) == 0 {
			add(`"bootstrap.index_patterns" is required when "index" starts with a placeholder: list patterns that match the index names, like "*-logs-*"`)
		}
		for i, p := range c.Bootstrap.IndexPatterns {
			if p == "" || strings.ContainsAny(p, ` "\,`) {
				add(`"bootstrap.index_patterns[%d]" %q is not an index pattern: write it like "logs-*"`, i, p)
			}
		}
		if c.Bootstrap.Priority < 0 {
			add(`"bootstrap.priority" must not be negative, got %d: omit it for the default of %d`, c.Bootstrap.Priority, DefaultTemplatePriority)
		}
		if p := c.Bootstrap.ISMPolicy; strings.ContainsAny(p, "\"\\") || strings.TrimSpace(p) != p {
			add(`"bootstrap.ism_policy" %q is not a policy id: give the id of an existing ISM policy`, p)
		}
	}
	if c.Bootstrap.DataStream && c.OpType != OpCreate {
		add(`"bootstrap.data_stream" needs "op_type: create": data streams accept only create`)
	}
	return errors.Join(errs...)
}

// checkTemplateName checks the characters a template name cannot have (it
// is a URL path segment).
func checkTemplateName(s string) error {
	if s == "" {
		return errors.New("must not be empty: omit it for the default \"logrouter\"")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`\/*?"<>|,#:%`, c) >= 0 {
			return errors.New(`must not contain spaces or \/*?"<>|,#:%: use letters, digits, - _ and .`)
		}
	}
	return nil
}

// reservedHeaders are the header names "headers" must not set, with the
// reason given to the operator.
var reservedHeaders = map[string]string{
	"Authorization":    `is set by the sink from "username"/"password" or "aws_sigv4"; a fixed header would override them (and break SigV4 signing): use those keys instead`,
	"Content-Type":     `is set by the sink: bulk bodies are always application/x-ndjson`,
	"Content-Encoding": `is set by the sink from "gzip": a different value would make the server misread the body`,
	"Content-Length":   `is computed for every request body: a fixed value would corrupt requests`,
	"Host":             `is taken from "urls": put the host name there`,
	"User-Agent":       `is set by the OpenSearch client on every request: a value here would be ignored`,
	// With Accept-Encoding set by hand, Go's HTTP client stops decompressing
	// answers, and the sink would read gzip bytes as the bulk answer and
	// resend every batch forever. The client already asks for gzip answers
	// and decompresses them.
	"Accept-Encoding": `is set by the HTTP client, which already asks for gzip answers and decompresses them; a value here would make every answer unreadable to the sink`,
	"Accept":          `is left to the client: the sink reads JSON answers, and another format (smile, yaml) would make every answer unreadable`,
}

// checkHeader checks one entry of "headers".
func checkHeader(name, value string) error {
	if !isToken(name) {
		return errors.New(`is not a valid HTTP header name: use letters, digits and !#$%&'*+-.^_` + "`" + `|~ only, like "VL-Msg-Field"`)
	}
	if why, ok := reservedHeaders[http.CanonicalHeaderKey(name)]; ok {
		return errors.New("must not be set here: it " + why)
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return errors.New("has a value with a control character (a line break?): header values must be one line")
		}
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token (a valid header name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
