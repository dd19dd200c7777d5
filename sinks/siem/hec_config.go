package siem

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/logrouter/logrouter/internal/redact"
)

// Destination type names used in configuration.
const (
	TypeHEC    = "splunk_hec"
	TypeSyslog = "syslog"
)

// Defaults of HECConfig.
const (
	DefaultHECSource             = "logrouter"
	DefaultMaxBatchBytes         = 1 << 20
	DefaultMaxConcurrentRequests = 4
	DefaultHECTimeout            = 10 * time.Second
	DefaultAckPollInterval       = time.Second
	DefaultAckTimeout            = 30 * time.Second
)

// HEC endpoint paths.
const (
	hecEventPath  = "/services/collector/event"
	hecAckPath    = "/services/collector/ack"
	hecHealthPath = "/services/collector/health"
)

// HECConfig configures a Splunk HTTP Event Collector destination
// ("type: splunk_hec"). Zero values mean the documented defaults.
type HECConfig struct {
	// URL is the HEC base URL, for example https://splunk.example.com:8088
	// (a path ending in /services/collector or /services/collector/event
	// is accepted too). Required.
	URL string `yaml:"url"`
	// Token is the HEC token; write ${ENV_VAR} rather than the secret.
	// Exactly one of token and token_file is required.
	Token Secret `yaml:"token"`
	// TokenFile is a file holding the token (surrounding whitespace is
	// ignored). It is read at start and again after every 401/403, so a
	// rotated token is picked up without a restart.
	TokenFile string `yaml:"token_file"`
	// Source is the envelope's "source". Default "logrouter".
	Source string `yaml:"source"`
	// SourceType, when set, replaces every event's source type as the
	// envelope's "sourcetype". Default: Event.SourceType (omitted when
	// empty, so the token's default applies).
	SourceType string `yaml:"sourcetype"`
	// Index is the envelope's "index"; default omitted (the token's
	// default index).
	Index string `yaml:"index"`
	// DefaultHost is the envelope's "host" for events without host.name.
	// Default: the host name (the app sets the router's node name).
	DefaultHost string `yaml:"default_host"`
	// Fields are static indexed fields added to every envelope as
	// "fields" (for example priority: P1).
	Fields map[string]string `yaml:"fields"`
	// Gzip compresses request bodies (gzip level 1). Default true.
	Gzip *bool `yaml:"gzip"`
	// MaxBatchBytes bounds the uncompressed body of one request; larger
	// batches are split into several requests (an event larger than it is
	// sent alone). Keep it below Splunk's max_content_length. Default 1 MiB.
	MaxBatchBytes int `yaml:"max_batch_bytes"`
	// MaxConcurrentRequests bounds the requests in flight for this
	// destination. Default 4.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`
	// Timeout bounds one request, from connecting to reading the answer.
	// Default 10s.
	Timeout time.Duration `yaml:"timeout"`
	// TLS configures HTTPS (ca_file, cert_file/key_file,
	// insecure_skip_verify, server_name); nil means the system roots.
	TLS *TLSConfig `yaml:"tls"`
	// Ack configures indexer acknowledgement.
	Ack HECAckConfig `yaml:"ack"`
}

// HECAckConfig configures HEC indexer acknowledgement.
type HECAckConfig struct {
	// Enabled makes Write wait until Splunk confirms that every request
	// was indexed (the token must have indexer acknowledgement on).
	Enabled bool `yaml:"enabled"`
	// Channel is the X-Splunk-Request-Channel, a UUID. Default: a random
	// UUID chosen at start.
	Channel string `yaml:"channel"`
	// PollInterval is how often pending acks are polled. Default 1s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Timeout is how long a request's ack may take before the request is
	// sent again (a possible duplicate, counted). Default 30s.
	Timeout time.Duration `yaml:"timeout"`
}

// SetDefaults sets every zero field to its default.
func (c *HECConfig) SetDefaults() {
	if c.Source == "" {
		c.Source = DefaultHECSource
	}
	if c.DefaultHost == "" {
		c.DefaultHost = hostname()
	}
	if c.Gzip == nil {
		t := true
		c.Gzip = &t
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.MaxConcurrentRequests == 0 {
		c.MaxConcurrentRequests = DefaultMaxConcurrentRequests
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultHECTimeout
	}
	if c.Ack.PollInterval == 0 {
		c.Ack.PollInterval = DefaultAckPollInterval
	}
	if c.Ack.Timeout == 0 {
		c.Ack.Timeout = DefaultAckTimeout
	}
}

var uuidRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)

// Validate reports every configuration error; the messages name the yaml
// key (relative to the destination block) and say how to fix it. It does
// not read token_file or the TLS files (NewHEC does).
func (c HECConfig) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if _, err := baseURL(c.URL); err != nil {
		add("%v", err)
	}
	switch {
	case c.Token == "" && c.TokenFile == "":
		add(`"token" or "token_file" is required: write token: ${SPLUNK_HEC_TOKEN} and set the variable, or point token_file at a file holding the token`)
	case c.Token != "" && c.TokenFile != "":
		add(`"token" and "token_file" are both set: keep one`)
	case c.Token != "" && strings.ContainsAny(string(c.Token), " \t\r\n"):
		add(`"token" contains whitespace: check the variable it was expanded from`)
	}
	if c.MaxBatchBytes < 0 {
		add(`"max_batch_bytes" must be positive, got %d: omit it for the default of 1 MiB`, c.MaxBatchBytes)
	}
	if c.MaxConcurrentRequests < 0 {
		add(`"max_concurrent_requests" must be positive, got %d: omit it for the default of %d`, c.MaxConcurrentRequests, DefaultMaxConcurrentRequests)
	}
	if c.Timeout < 0 {
		add(`"timeout" must be positive, got %s: omit it for the default of %s`, c.Timeout, DefaultHECTimeout)
	}
	if c.Ack.PollInterval < 0 {
		add(`"ack.poll_interval" must be positive, got %s: omit it for the default of 1s`, c.Ack.PollInterval)
	}
	if c.Ack.Timeout < 0 {
		add(`"ack.timeout" must be positive, got %s: omit it for the default of 30s`, c.Ack.Timeout)
	}
	if c.Ack.Channel != "" && !uuidRE.MatchString(c.Ack.Channel) {
		add(`"ack.channel" %q is not a UUID (like 0aeeac95-ac74-4aa9-b30d-6c4c0ac581ba): omit it for a random one`, c.Ack.Channel)
	}
	for k := range c.Fields {
		if k == "" {
			add(`"fields" has an empty name`)
		}
	}
	if err := c.TLS.validate(); err != nil {
		add("%v", err)
	}
	if u, err := url.Parse(c.URL); c.TLS != nil && err == nil && u.Scheme == "http" {
		// The transport would never use it: the token and the events
		// would go in clear, without the CA or client certificate.
		add(`"tls" is set but "url" is http://: use https:// (or remove "tls")`)
	}
	return errors.Join(errs...)
}

// baseURL parses the configured URL and returns it without the collector
// path.
func baseURL(s string) (*url.URL, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New(`"url" is required: the HEC base URL, like https://splunk.example.com:8088`)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf(`"url" %q is not an http(s) URL: write it like https://splunk.example.com:8088`, redact.URL(s))
	}
	if u.User != nil {
		return nil, errors.New(`"url" must not carry credentials: use "token" or "token_file"`)
	}
	if u.RawQuery != "" {
		return nil, errors.New(`"url" must not have a query string (HEC tokens in the URL end up in logs): use "token" or "token_file"`)
	}
	p := strings.TrimRight(u.Path, "/")
	for _, suffix := range []string{hecEventPath, "/services/collector/event/1.0", "/services/collector"} {
		if strings.HasSuffix(p, suffix) {
			p = strings.TrimSuffix(p, suffix)
			break
		}
	}
	u.Path = p
	return u, nil
}
