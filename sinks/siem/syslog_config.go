package siem

import (
	"errors"
	"fmt"
	"net"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// Defaults of SyslogConfig.
const (
	DefaultSyslogFormat   = "rfc5424"
	DefaultFraming        = "octet_counting"
	DefaultBodyFormat     = "json"
	DefaultFacility       = "local4"
	DefaultAppName        = "logrouter"
	DefaultDialTimeout    = 5 * time.Second
	DefaultWriteTimeout   = 10 * time.Second
	DefaultReconnectMin   = 100 * time.Millisecond
	DefaultReconnectMax   = 10 * time.Second
	DefaultReplayBytes    = 4 << 20
	DefaultReplayAge      = 10 * time.Second
	DefaultCEFVendor      = "logrouter"
	DefaultCEFProduct     = "logrouter"
	DefaultCEFVersion     = "1.0"
	DefaultCEFName        = "logrouter event"
	DefaultCEFSignatureID = "logrouter"
	maxSyslogHostname     = 255
	maxSyslogAppName      = 48
	maxSyslogMsgID        = 32
	maxRFC3164Tag         = 32
	maxCEFSeverity        = 10
)

// SyslogConfig configures a syslog destination ("type: syslog"). Zero
// values mean the documented defaults.
type SyslogConfig struct {
	// Address is the receiver, host:port. Required.
	Address string `yaml:"address"`
	// Transport is tcp (default) or tls; tls is the default when the tls
	// block is set.
	Transport string `yaml:"transport"`
	// TLS configures TLS (ca_file, cert_file/key_file for mutual TLS,
	// insecure_skip_verify, server_name).
	TLS *TLSConfig `yaml:"tls"`
	// SyslogFormat is the header: rfc5424 (default) or rfc3164.
	SyslogFormat string `yaml:"syslog_format"`
	// Framing is octet_counting (RFC 6587 "LEN MSG", default) or newline.
	Framing string `yaml:"framing"`
	// Format is the message body: json (Event.Raw, default) or cef.
	Format string `yaml:"format"`
	// Facility is a name (kern, user, ..., local0..local7) or a number
	// 0..23. Default local4 (20).
	Facility string `yaml:"facility"`
	// Severity maps a priority (P1, P2, P3) to a syslog severity, a name
	// (emerg, alert, crit, err, warning, notice, info, debug) or a number
	// 0..7. Defaults P1 crit (2), P2 warning (4), P3 info (6); the given
	// keys override them.
	Severity map[string]string `yaml:"severity"`
	// AppName is APP-NAME (RFC 5424) or the TAG (RFC 3164). Default
	// logrouter.
	AppName string `yaml:"app_name"`
	// Hostname, when set, is HOSTNAME for every message. Default: the
	// event's host.name, else default_host.
	Hostname string `yaml:"hostname"`
	// DefaultHost is HOSTNAME for events without host.name. Default: the
	// host name (the app sets the router's node name).
	DefaultHost string `yaml:"default_host"`
	// CEF configures format: cef.
	CEF CEFConfig `yaml:"cef"`
	// MaxMessageBytes refuses (permanently: quarantine) messages larger
	// than this many bytes, framing excluded, instead of letting the
	// receiver truncate them (rsyslog's default limit is 8 KiB). 0: no
	// limit.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// DialTimeout bounds connecting (and the TLS handshake). Default 5s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// WriteTimeout bounds writing one batch. Default 10s.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// ReconnectBackoffMin and ReconnectBackoffMax bound the jittered
	// exponential wait between connection attempts. Defaults 100ms, 10s.
	ReconnectBackoffMin time.Duration `yaml:"reconnect_backoff_min"`
	ReconnectBackoffMax time.Duration `yaml:"reconnect_backoff_max"`
	// ReplayBytes bounds the batches kept for resending after a broken
	// connection (the last batch is always kept). Default 4 MiB; -1
	// disables replay.
	ReplayBytes int `yaml:"replay_bytes"`
	// ReplayAge is how long before a break a batch must have been written
	// to be resent. Default 10s.
	ReplayAge time.Duration `yaml:"replay_age"`
	// ConfirmWithClose gives each batch its own connection and waits for
	// the receiver to close it after reading everything (see the package
	// documentation). Default false.
	ConfirmWithClose bool `yaml:"confirm_with_close"`
}

// CEFConfig configures the CEF body:
//
//	CEF:0|device_vendor|device_product|device_version|signature_id|name|severity|extension
//
// Field paths are dot-separated paths into the normalized event
// (Event.Raw). A path that is absent, null or an empty string yields
// nothing (an extension key is then left out).
type CEFConfig struct {
	// DeviceVendor, DeviceProduct and DeviceVersion are constants.
	// Defaults logrouter, logrouter, 1.0.
	DeviceVendor  string `yaml:"device_vendor"`
	DeviceProduct string `yaml:"device_product"`
	DeviceVersion string `yaml:"device_version"`
	// SignatureIDFields are tried in order for the Device Event Class ID.
	// Default [event.dataset]; then the event's source type; then
	// "logrouter".
	SignatureIDFields []string `yaml:"signature_id_fields"`
	// NameFields are tried in order for Name. Default [message]; then
	// "logrouter event".
	NameFields []string `yaml:"name_fields"`
	// SeverityField, when set, gives Severity: a number 0..10 (fractions
	// are truncated) or Low, Medium, High, Very-High, Unknown. Other
	// values, and events without it, use severity_by_priority.
	SeverityField string `yaml:"severity_field"`
	// SeverityByPriority maps P1, P2, P3 to a CEF severity 0..10.
	// Defaults P1 10, P2 5, P3 3; the given keys override them.
	SeverityByPriority map[string]int `yaml:"severity_by_priority"`
	// Extension maps a CEF extension key to a field path. Default
	// DefaultCEFExtension(); an explicit empty map sends no extension.
	// Values are written as the field's text: strings unescaped, numbers
	// and booleans as in JSON, objects and arrays as compact JSON. The
	// timestamp keys (rt, start, end, art, deviceCustomDate1/2, flexDate1,
	// fileCreateTime, fileModificationTime, oldFileCreateTime,
	// oldFileModificationTime) get epoch milliseconds: @timestamp is
	// the event's time, other date strings are parsed, numbers read as
	// epoch seconds, milliseconds, microseconds or nanoseconds by their
	// magnitude; a value that is no time is left out. Control characters
	// (no CEF escape exists for them) are written as spaces, in the header
	// and in values; LF and CR in values as \n and \r.
	Extension map[string]string `yaml:"extension"`
	// Constants are extension keys written with the same text for every
	// event, most often the labels of custom fields: {cs1Label: "Detection
	// Rule"} beside extension {cs1: rule.name}. A key may not be in both.
	Constants map[string]string `yaml:"constants"`
}

// DefaultCEFExtension returns the default extension mapping (CEF key ->
// normalized field path).
func DefaultCEFExtension() map[string]string {
	return map[string]string{
		"rt":         "@timestamp",
		"src":        "source.ip",
		"spt":        "source.port",
		"dst":        "destination.ip",
		"dpt":        "destination.port",
		"suser":      "user.name",
		"dhost":      "host.name",
		"proto":      "network.transport",
		"act":        "event.action",
		"outcome":    "event.outcome",
		"msg":        "message",
		"fname":      "file.name",
		"filePath":   "file.path",
		"fileHash":   "file.hash.sha256",
		"sproc":      "process.name",
		"requestUrl": "url.original",
		"externalId": "event.id",
	}
}

var defaultSyslogSeverity = map[string]string{"P1": "crit", "P2": "warning", "P3": "info"}
var defaultCEFSeverity = map[string]int{"P1": 10, "P2": 5, "P3": 3}

var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "audit": 13,
	"console": 14, "solaris-cron": 15, "clock": 15,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

var severities = map[string]int{
	"emerg": 0, "emergency": 0, "panic": 0, "alert": 1, "crit": 2, "critical": 2, "err": 3, "error": 3,
	"warning": 4, "warn": 4, "notice": 5, "info": 6, "informational": 6, "debug": 7,
}

func parseFacility(s string) (int, error) {
	if s == "" {
		s = DefaultFacility
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 23 {
			return 0, fmt.Errorf(`"facility" %d is out of range 0..23`, n)
		}
		return n, nil
	}
	if n, ok := facilities[strings.ToLower(s)]; ok {
		return n, nil
	}
	return 0, fmt.Errorf(`"facility" %q is not a facility: use a name like local4 or auth, or a number 0..23`, s)
}

func parseSeverity(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 0 || n > 7 {
			return 0, fmt.Errorf("%d is out of range 0..7", n)
		}
		return n, nil
	}
	if n, ok := severities[strings.ToLower(s)]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("%q is not a severity: use emerg, alert, crit, err, warning, notice, info, debug or 0..7", s)
}

// SetDefaults sets every zero field to its default.
func (c *SyslogConfig) SetDefaults() {
	if c.Transport == "" {
		c.Transport = "tcp"
		if c.TLS != nil {
			c.Transport = "tls"
		}
	}
	if c.SyslogFormat == "" {
		c.SyslogFormat = DefaultSyslogFormat
	}
	if c.Framing == "" {
		c.Framing = DefaultFraming
	}
	c.Framing = strings.ReplaceAll(c.Framing, "-", "_")
	if c.Format == "" {
		c.Format = DefaultBodyFormat
	}
	if c.Facility == "" {
		c.Facility = DefaultFacility
	}
	sev := map[string]string{}
	for k, v := range defaultSyslogSeverity {
		sev[k] = v
	}
	for k, v := range c.Severity {
		sev[strings.ToUpper(k)] = v
	}
	c.Severity = sev
	if c.AppName == "" {
		c.AppName = DefaultAppName
	}
	if c.DefaultHost == "" {
		c.DefaultHost = hostname()
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.ReconnectBackoffMin == 0 {
		c.ReconnectBackoffMin = DefaultReconnectMin
	}
	if c.ReconnectBackoffMax == 0 {
		c.ReconnectBackoffMax = DefaultReconnectMax
	}
	if c.ReplayBytes == 0 {
		c.ReplayBytes = DefaultReplayBytes
	}
	if c.ReplayAge == 0 {
		c.ReplayAge = DefaultReplayAge
	}
	c.CEF.setDefaults()
}

func (c *CEFConfig) setDefaults() {
	if c.DeviceVendor == "" {
		c.DeviceVendor = DefaultCEFVendor
	}
	if c.DeviceProduct == "" {
		c.DeviceProduct = DefaultCEFProduct
	}
	if c.DeviceVersion == "" {
		c.DeviceVersion = DefaultCEFVersion
	}
	if c.SignatureIDFields == nil {
		c.SignatureIDFields = []string{"event.dataset"}
	}
	if c.NameFields == nil {
		c.NameFields = []string{"message"}
	}
	sev := map[string]int{}
	for k, v := range defaultCEFSeverity {
		sev[k] = v
	}
	for k, v := range c.SeverityByPriority {
		sev[strings.ToUpper(k)] = v
	}
	c.SeverityByPriority = sev
	if c.Extension == nil {
		c.Extension = DefaultCEFExtension()
	}
}

var cefKeyRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// Validate reports every configuration error; the messages name the yaml
// key (relative to the destination block) and say how to fix it. Zero
// values are validated as their defaults. It does not read the TLS files
// (NewSyslog does).
func (c SyslogConfig) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	cefWritten := !reflect.ValueOf(c.CEF).IsZero()
	c.SetDefaults() // on a copy; it builds new maps, the caller's stay as they are
	if cefWritten && c.Format != "cef" {
		// Ignoring it sent JSON bodies to a SIEM parser set up for CEF.
		add(`"cef" is set but "format" is %s: add format: cef to send CEF, or remove the cef block`, c.Format)
	}
	if strings.TrimSpace(c.Address) == "" {
		add(`"address" is required: the receiver as host:port, like siem.example.com:6514`)
	} else if host, port, err := net.SplitHostPort(c.Address); err != nil || host == "" {
		add(`"address" %q is not host:port: write it like siem.example.com:6514`, c.Address)
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		add(`"address" %q has no valid port: write it like siem.example.com:6514`, c.Address)
	}
	switch c.Transport {
	case "tcp", "tls":
	default:
		add(`"transport" must be tcp or tls, not %q (UDP is not offered: it loses events silently)`, c.Transport)
	}
	if c.Transport == "tcp" && c.TLS != nil {
		add(`"tls" is set but "transport" is tcp: remove one`)
	}
	if err := c.TLS.validate(); err != nil {
		add("%v", err)
	}
	switch c.SyslogFormat {
	case "rfc5424", "rfc3164":
	default:
		add(`"syslog_format" must be rfc5424 or rfc3164, not %q`, c.SyslogFormat)
	}
	switch c.Framing {
	case "octet_counting", "newline":
	default:
		add(`"framing" must be octet_counting or newline, not %q`, c.Framing)
	}
	switch c.Format {
	case "json", "cef":
	default:
		add(`"format" must be json or cef, not %q`, c.Format)
	}
	if _, err := parseFacility(c.Facility); err != nil {
		add("%v", err)
	}
	for _, k := range sortedKeys(c.Severity) {
		if _, err := pipeline.ParsePriority(k); err != nil {
			add(`"severity" key %q is not a priority: use P1, P2 or P3`, k)
		} else if _, err := parseSeverity(c.Severity[k]); err != nil {
			add(`"severity.%s": %v`, k, err)
		}
	}
	if bad := printable(c.AppName); bad || len(c.AppName) > maxSyslogAppName {
		add(`"app_name" %q must be 1..%d printable ASCII characters without spaces`, c.AppName, maxSyslogAppName)
	}
	if c.Hostname != "" && (printable(c.Hostname) || len(c.Hostname) > maxSyslogHostname) {
		add(`"hostname" %q must be 1..%d printable ASCII characters without spaces`, c.Hostname, maxSyslogHostname)
	}
	if c.MaxMessageBytes < 0 {
		add(`"max_message_bytes" must not be negative (got %d): omit it for no limit`, c.MaxMessageBytes)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"dial_timeout", c.DialTimeout}, {"write_timeout", c.WriteTimeout}, {"reconnect_backoff_min", c.ReconnectBackoffMin},
		{"reconnect_backoff_max", c.ReconnectBackoffMax}, {"replay_age", c.ReplayAge}} {
		if d.v < 0 {
			add(`"%s" must be positive, got %s: omit it for the default`, d.key, d.v)
		}
	}
	if c.ReconnectBackoffMax < c.ReconnectBackoffMin {
		add(`"reconnect_backoff_max" %s is below "reconnect_backoff_min" %s`, c.ReconnectBackoffMax, c.ReconnectBackoffMin)
	}
	if c.ReplayBytes < -1 {
		add(`"replay_bytes" must be positive, or -1 to disable replay (got %d)`, c.ReplayBytes)
	}
	if c.Format == "cef" {
		errs = append(errs, c.CEF.validate()...)
	}
	return errors.Join(errs...)
}

func (c *CEFConfig) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, k := range sortedKeys(c.Extension) {
		if !cefKeyRE.MatchString(k) {
			add(`"cef.extension" key %q is not a CEF key: use letters, digits and _ (like src, suser, cs1)`, k)
		}
		if err := checkFieldPath(c.Extension[k]); err != nil {
			add(`"cef.extension.%s": %v`, k, err)
		}
		if _, ok := c.Constants[k]; ok {
			add(`"cef.extension.%s" and "cef.constants.%s": a key is a field or a constant, not both`, k, k)
		} else if strings.HasSuffix(k, "Label") && strings.ContainsAny(c.Extension[k], " \t") {
			add(`"cef.extension.%s": %q is a field path, and looks like a label: write the label under "cef.constants" (%s: %q)`, k, c.Extension[k], k, c.Extension[k])
		}
	}
	for _, k := range sortedKeys(c.Constants) {
		if !cefKeyRE.MatchString(k) {
			add(`"cef.constants" key %q is not a CEF key: use letters, digits and _ (like cs1Label)`, k)
		}
	}
	for i, p := range c.SignatureIDFields {
		if err := checkFieldPath(p); err != nil {
			add(`"cef.signature_id_fields[%d]": %v`, i, err)
		}
	}
	for i, p := range c.NameFields {
		if err := checkFieldPath(p); err != nil {
			add(`"cef.name_fields[%d]": %v`, i, err)
		}
	}
	if c.SeverityField != "" {
		if err := checkFieldPath(c.SeverityField); err != nil {
			add(`"cef.severity_field": %v`, err)
		}
	}
	for _, k := range sortedKeys(c.SeverityByPriority) {
		v := c.SeverityByPriority[k]
		if _, err := pipeline.ParsePriority(k); err != nil {
			add(`"cef.severity_by_priority" key %q is not a priority: use P1, P2 or P3`, k)
		} else if v < 0 || v > maxCEFSeverity {
			add(`"cef.severity_by_priority.%s" %d is out of range 0..10`, k, v)
		}
	}
	return errs
}

func checkFieldPath(p string) error {
	if p == "" {
		return errors.New("empty field path")
	}
	for _, seg := range strings.Split(p, ".") {
		if seg == "" && p != "." {
			return fmt.Errorf("field path %q has an empty segment", p)
		}
	}
	return nil
}

// printable reports whether s is empty or holds a byte outside
// PRINTUSASCII (33..126); true means bad.
func printable(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
