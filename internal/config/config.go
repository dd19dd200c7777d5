// Package config loads and validates the router's YAML configuration.
//
// Loading is strict: unknown keys are rejected with file and line, ${VAR} and
// ${VAR:-default} are expanded from the environment before parsing, and every
// block's Validate names the key to fix. Relative paths (rules.dir) resolve
// against the configuration file's directory.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter/internal/yamlerr"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/dedup"
	"github.com/logrouter/logrouter/pipeline/engine"
	"github.com/logrouter/logrouter/pipeline/ingest/httpin"
	"github.com/logrouter/logrouter/pipeline/ingest/kafkain"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/pipeline/queue"
	"github.com/logrouter/logrouter/sinks/file"
	"github.com/logrouter/logrouter/sinks/kafka"
	"github.com/logrouter/logrouter/sinks/opensearch"
	"github.com/logrouter/logrouter/sinks/quarantine"
	"github.com/logrouter/logrouter/sinks/s3"
	"github.com/logrouter/logrouter/sinks/siem"
)

// Config is the whole router configuration.
type Config struct {
	// Node names this instance in object keys and logs. Default: hostname.
	Node string `yaml:"node"`
	Log  Log    `yaml:"log"`
	// Admin serves /metrics, /healthz and /readyz.
	Admin        Admin             `yaml:"admin"`
	Inputs       Inputs            `yaml:"inputs"`
	Normalize    *normalize.Config `yaml:"normalize"`
	Rules        Rules             `yaml:"rules"`
	Destinations []Destination     `yaml:"destinations"`
	Routing      Routing           `yaml:"routing"`
	Quarantine   quarantine.Config `yaml:"quarantine"`
	// Dedup drops repeats of accepted events within a window.
	Dedup dedup.Config `yaml:"dedup"`
	// Queue gives every destination's durable queue its defaults.
	Queue  queue.Config  `yaml:"queue"`
	Engine engine.Config `yaml:"engine"`
	// ShutdownTimeout bounds a graceful stop (SIGTERM). Default 30s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Log configures the process log (log/slog, JSON by default).
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // json (default) or text
}

// Admin is the admin listener.
type Admin struct {
	Address string `yaml:"address"` // default ":8686"; "" after defaults disables nothing
}

// Inputs lists the sources.
type Inputs struct {
	HTTP   *httpin.Config  `yaml:"http"`
	Syslog *syslog.Config  `yaml:"syslog"`
	Kafka  *kafkain.Config `yaml:"kafka"`
}

// Rules locates the rule files.
type Rules struct {
	// Dir holds the rule files (relative to the config file). Default "rules".
	Dir string `yaml:"dir"`
	// DefaultPriority applies when no rule matches. Default P3.
	DefaultPriority string `yaml:"default_priority"`
}

// Destination is one sink; exactly the block named by Type is set.
type Destination struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// Queue overrides the top-level queue settings for this destination.
	Queue      *queue.Config      `yaml:"queue"`
	ArchiveDir *s3.Config         `yaml:"archive_dir"`
	S3         *s3.S3Config       `yaml:"s3"`
	File       *file.Config       `yaml:"file"`
	Kafka      *kafka.Config      `yaml:"kafka"`
	OpenSearch *opensearch.Config `yaml:"opensearch"`
	SplunkHEC  *siem.HECConfig    `yaml:"splunk_hec"`
	Syslog     *siem.SyslogConfig `yaml:"syslog"`
}

// block is a destination's type-specific block: whether it is set, and its
// defaults-then-validate step.
type block struct {
	typ      string
	set      bool
	validate func() error
}

// blocks lists every type's block; DestinationTypes is derived from it.
func (d *Destination) blocks() []block {
	return []block{
		{"archive_dir", d.ArchiveDir != nil, func() error { return d.ArchiveDir.Validate() }},
		{s3.TypeS3, d.S3 != nil, func() error { return d.S3.Validate() }},
		{"file", d.File != nil, func() error { return d.File.Validate() }},
		{"kafka", d.Kafka != nil, func() error { d.Kafka.SetDefaults(); return d.Kafka.Validate() }},
		{"opensearch", d.OpenSearch != nil, func() error { d.OpenSearch.SetDefaults(); return d.OpenSearch.Validate() }},
		// SIEM blocks keep their zero defaults here: the app fills
		// default_host from the top-level node first.
		{siem.TypeHEC, d.SplunkHEC != nil, func() error { return d.SplunkHEC.Validate() }},
		{siem.TypeSyslog, d.Syslog != nil, func() error { return d.Syslog.Validate() }},
	}
}

// DestinationTypes are the supported destination types.
var DestinationTypes = func() []string {
	var out []string
	for _, b := range (&Destination{}).blocks() {
		out = append(out, b.typ)
	}
	return out
}()

// Routing maps priorities to destination names; All receive every event.
type Routing struct {
	P1  []string `yaml:"P1"`
	P2  []string `yaml:"P2"`
	P3  []string `yaml:"P3"`
	All []string `yaml:"all"`
}

// ByPriority returns the routing as a map.
func (r Routing) ByPriority() map[pipeline.Priority][]string {
	return map[pipeline.Priority][]string{pipeline.P1: r.P1, pipeline.P2: r.P2, pipeline.P3: r.P3}
}

// SetDefaults fills unset values.
func (c *Config) SetDefaults() {
	if c.Node == "" {
		if h, err := os.Hostname(); err == nil {
			c.Node = h
		} else {
			c.Node = "logrouter"
		}
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "json"
	}
	if c.Admin.Address == "" {
		c.Admin.Address = ":8686"
	}
	if c.Normalize == nil {
		d := normalize.DefaultConfig()
		c.Normalize = &d
	} else if c.Normalize.TimestampFields == nil {
		c.Normalize.TimestampFields = append([]string(nil), normalize.DefaultTimestampFields...)
	}
	if c.Rules.Dir == "" {
		c.Rules.Dir = "rules"
	}
	if c.Rules.DefaultPriority == "" {
		c.Rules.DefaultPriority = "P3"
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.Inputs.HTTP != nil {
		c.Inputs.HTTP.SetDefaults()
	}
	if c.Inputs.Syslog != nil {
		c.Inputs.Syslog.SetDefaults()
	}
	if c.Inputs.Kafka != nil {
		c.Inputs.Kafka.SetDefaults()
	}
	// c.Queue stays as written: it overrides, per field, the defaults of
	// each destination's kind (QueueFor).
	c.Dedup.SetDefaults()
}

// QueueFor returns the effective queue settings of destination d: the
// top-level queue block, then the destination's own, over the defaults of
// its kind (archive_dir and s3: queue.KindArchive; opensearch:
// queue.KindBulk).
func (c *Config) QueueFor(d Destination) queue.Config {
	q := c.Queue.Merge(d.Queue)
	q.SetDefaultsFor(queueKind(d.Type))
	return q
}

func queueKind(destType string) queue.Kind {
	switch destType {
	case "archive_dir", "s3":
		return queue.KindArchive
	case "opensearch":
		return queue.KindBulk
	}
	return queue.KindDefault
}

// Validate checks the whole configuration and reports every problem found.
func (c *Config) Validate() error {
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add(fmt.Errorf("log.level: %q is not one of debug, info, warn, error", c.Log.Level))
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		add(fmt.Errorf("log.format: %q is not json or text", c.Log.Format))
	}
	if c.Inputs.HTTP == nil && c.Inputs.Syslog == nil && c.Inputs.Kafka == nil {
		add(errors.New("inputs: no input is configured; add inputs.http, inputs.syslog or inputs.kafka"))
	}
	if c.Inputs.Kafka != nil {
		add(c.Inputs.Kafka.Validate("inputs.kafka"))
	}
	if c.Inputs.HTTP != nil {
		add(c.Inputs.HTTP.Validate("inputs.http"))
	}
	if c.Inputs.Syslog != nil {
		add(c.Inputs.Syslog.Validate("inputs.syslog"))
	}
	if c.Normalize != nil {
		add(c.Normalize.Validate())
	}
	if _, err := pipeline.ParsePriority(c.Rules.DefaultPriority); err != nil {
		add(fmt.Errorf("rules.default_priority: %w", err))
	}
	add(c.Engine.Validate())
	if c.ShutdownTimeout < 0 {
		add(errors.New("shutdown_timeout: must be positive"))
	}

	names := map[string]bool{}
	if len(c.Destinations) == 0 {
		add(errors.New("destinations: none configured; at least the archive is needed"))
	}
	for i, d := range c.Destinations {
		at := fmt.Sprintf("destinations[%d]", i)
		if d.Name == "" {
			add(fmt.Errorf("%s.name: required", at))
			continue
		}
		at = fmt.Sprintf("destinations[%d] (%s)", i, d.Name)
		if names[d.Name] {
			add(fmt.Errorf("%s.name: %q is used twice", at, d.Name))
		}
		names[d.Name] = true
		set, known := 0, false
		for _, b := range d.blocks() {
			if b.set {
				set++
			}
			if b.typ != d.Type {
				continue
			}
			known = true
			if !b.set {
				add(fmt.Errorf("%s: type %s needs its block (%s: {...}) next to type", at, d.Type, d.Type))
			} else if err := b.validate(); err != nil {
				add(fmt.Errorf("%s.%s: %w", at, d.Type, err))
			}
		}
		if !known {
			add(fmt.Errorf("%s.type: %q is not one of %s", at, d.Type, strings.Join(DestinationTypes, ", ")))
		}
		if set > 1 {
			add(fmt.Errorf("%s: set only the block of its type (%s)", at, d.Type))
		}
		qc := c.QueueFor(d)
		add(qc.Validate(at + ".queue"))
	}
	check := func(key string, list []string) {
		seen := map[string]bool{}
		for _, n := range list {
			if !names[n] {
				add(fmt.Errorf("routing.%s: unknown destination %q (defined: %s)", key, n, strings.Join(keys(names), ", ")))
			}
			if seen[n] {
				add(fmt.Errorf("routing.%s: destination %q listed twice", key, n))
			}
			seen[n] = true
		}
	}
	check("P1", c.Routing.P1)
	check("P2", c.Routing.P2)
	check("P3", c.Routing.P3)
	check("all", c.Routing.All)
	top := c.Queue // as written; each destination's is QueueFor
	top.SetDefaults()
	add(top.Validate("queue"))
	add(c.Dedup.Validate())
	if err := c.Quarantine.Validate(); err != nil {
		add(fmt.Errorf("quarantine: %w", err))
	}
	return errors.Join(errs...)
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Parse decodes data (named name in errors), expands the environment, applies
// defaults and validates.
func Parse(name string, data []byte) (*Config, error) {
	expanded, err := ExpandEnv(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file is empty", name)
		}
		return nil, errors.New(yamlerr.Format(name, err))
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: invalid configuration:\n%w", name, indent(err))
	}
	return &c, nil
}

// Load reads and parses the file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return Parse(path, data)
}

func indent(err error) error {
	parts := strings.Split(err.Error(), "\n")
	for i := range parts {
		parts[i] = "  - " + parts[i]
	}
	return errors.New(strings.Join(parts, "\n"))
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// ExpandEnv replaces ${VAR} and ${VAR:-default} with environment values,
// outside YAML comments. A ${VAR} without default whose variable is unset is
// an error, so a missing secret never silently becomes an empty token.
// "$${" escapes a literal "${".
func ExpandEnv(data []byte) ([]byte, error) {
	var missing []string
	out := make([]byte, 0, len(data))
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		code, comment := splitComment(line)
		out = append(out, expandLine(code, &missing)...)
		out = append(out, comment...)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("environment variables not set: %s (or give a default: ${VAR:-value})", strings.Join(missing, ", "))
	}
	return out, nil
}

// splitComment splits a YAML line before a '#' that starts a comment: at the
// line start or after whitespace, outside quotes.
func splitComment(line []byte) (code, comment []byte) {
	var quote byte
	for i, c := range line {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			return line[:i], line[i:]
		}
	}
	return line, nil
}

func expandLine(line []byte, missing *[]string) []byte {
	const esc = "\x00ESCAPED_DOLLAR_BRACE\x00"
	line = bytes.ReplaceAll(line, []byte("$${"), []byte(esc))
	line = envRef.ReplaceAllFunc(line, func(m []byte) []byte {
		sub := envRef.FindSubmatch(m)
		name := string(sub[1])
		if v, ok := os.LookupEnv(name); ok && v != "" {
			return []byte(v)
		}
		if sub[2] != nil {
			return sub[3]
		}
		*missing = append(*missing, name)
		return nil
	})
	return bytes.ReplaceAll(line, []byte(esc), []byte("${"))
}
