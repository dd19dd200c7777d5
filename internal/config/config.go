// Package config loads and validates the router's YAML configuration.
//
// Loading is strict: unknown keys are rejected with file and line, and so is
// a second YAML document; ${VAR} and ${VAR:-default} in values are expanded
// from the environment into the parsed document, so a value arrives byte for
// byte and is never read as YAML; every block's Validate names the key to
// fix. Relative paths (rules.dir) resolve against the configuration file's
// directory.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
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
	// Admin serves /metrics, /healthz, /readyz, /admin/stats and the
	// endpoints that change state (POST /admin/replay).
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

// Admin is the admin listener. What only reads (/metrics, /healthz,
// /readyz, /admin/stats) is open to whoever reaches Address; what changes
// state (POST /admin/replay, which delivers events to any destination)
// requires Token, or, with no Token, a loopback peer.
type Admin struct {
	// Address to listen on. Default ":8686": all interfaces, so that
	// Prometheus can scrape the pod IP.
	Address string `yaml:"address"`
	// Token authenticates the endpoints that change state: clients send
	// "Authorization: Bearer <token>" (router quarantine replay: --token or
	// LOGROUTER_ADMIN_TOKEN). Use ${ENV_VAR}. When empty, those endpoints
	// answer only loopback peers (127.0.0.0/8, ::1): the router's host, or
	// its pod.
	Token string `yaml:"token"`
}

// minAdminTokenLen is the shortest admin.token accepted: the token guards
// event injection into every destination and may be guessed over the
// network.
const minAdminTokenLen = 16

// Validate checks the admin block.
func (a *Admin) Validate() error {
	if a.Token == "" {
		return nil
	}
	if len(a.Token) < minAdminTokenLen {
		return fmt.Errorf("admin.token: %d characters is too short to resist guessing; use at least %d random characters (openssl rand -hex 32), or leave it empty to accept POST /admin/replay from loopback only",
			len(a.Token), minAdminTokenLen)
	}
	if strings.IndexFunc(a.Token, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return errors.New("admin.token: contains a space or control character, which cannot be sent as is in an Authorization header; use printable characters only (openssl rand -hex 32)")
	}
	return nil
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
	// ReloadInterval, when set, checks the rule directory this often and
	// reloads the rules and profiles when a file changed (a ConfigMap
	// update). SIGHUP and POST /admin/reload reload at once. 0: off.
	ReloadInterval time.Duration `yaml:"reload_interval"`
	// LastGoodDir, when set, keeps a copy of the rules and profiles that
	// last loaded (start or reload); a start whose rules directory does
	// not load starts with that copy (logged, and
	// logrouter_rules_last_good_in_use 1) instead of failing: a broken
	// rules ConfigMap no longer takes every replica down at its next
	// restart. Put it on a persistent volume. Default: off.
	LastGoodDir string `yaml:"last_good_dir"`
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
	add(c.Admin.Validate())
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
	if c.Rules.ReloadInterval < 0 || (c.Rules.ReloadInterval > 0 && c.Rules.ReloadInterval < time.Second) {
		add(fmt.Errorf("rules.reload_interval: %s: 0 (off) or at least 1s", c.Rules.ReloadInterval))
	}
	if _, err := pipeline.ParsePriority(c.Rules.DefaultPriority); err != nil {
		add(fmt.Errorf("rules.default_priority: %w", err))
	}
	add(c.Engine.Validate())
	if c.ShutdownTimeout < 0 {
		add(errors.New("shutdown_timeout: must be positive"))
	}

	// The top-level queue block is checked once, under its own key; each
	// destination's queue then adds only what its own block can get wrong
	// (a bad top-level value was reported again per destination, under
	// destinations[i].queue keys the file does not have).
	top := c.Queue // as written; each destination's is QueueFor
	top.SetDefaults()
	topErr := top.Validate("queue")
	add(topErr)
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
		if err := checkDestinationName(d.Name); err != nil {
			add(fmt.Errorf("%s.name: %w", at, err))
		}
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
		switch {
		case d.Queue == nil:
			// QueueFor is the top-level block over valid kind defaults:
			// checked above.
		case topErr != nil:
			own := queue.Config{}.Merge(d.Queue)
			own.SetDefaultsFor(queueKind(d.Type))
			add(own.Validate(at + ".queue"))
		default:
			qc := c.QueueFor(d)
			add(qc.Validate(at + ".queue"))
		}
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
	if len(c.Routing.P1) == 0 && len(c.Routing.All) == 0 {
		// P2 or P3 may be dropped on purpose; P1 findings (EDR, NDR, cloud
		// threat detection) never: they would be acknowledged and gone.
		add(errors.New(`routing: P1 events go to no destination (routing.P1 and routing.all are empty): they would be acknowledged and dropped; route P1 to the SIEM (P1: [siem]) or give an "all" destination`))
	}
	add(c.checkListeners())
	add(c.checkInputNames())
	add(c.checkOwnedDirs())
	add(c.Dedup.Validate())
	if err := c.Quarantine.Validate(); err != nil {
		add(fmt.Errorf("quarantine: %w", err))
	}
	return errors.Join(errs...)
}

// checkListeners refuses two TCP listeners on one port of overlapping
// addresses (the same host, or either on all interfaces): `router run`
// would fail at start with "address already in use". Port 0 (any free
// port) never conflicts; UDP and TCP on one port do not either.
func (c *Config) checkListeners() error {
	type listener struct{ key, addr string }
	var ls []listener
	ls = append(ls, listener{"admin.address", c.Admin.Address})
	if h := c.Inputs.HTTP; h != nil {
		ls = append(ls, listener{"inputs.http.address", h.Address})
		if h.GRPCAddress != "" {
			ls = append(ls, listener{"inputs.http.grpc_address", h.GRPCAddress})
		}
	}
	if sy := c.Inputs.Syslog; sy != nil {
		if sy.TCP != nil {
			ls = append(ls, listener{"inputs.syslog.tcp.address", sy.TCP.Address})
		}
		if sy.TLS != nil && sy.TLS.CertFile != "" {
			ls = append(ls, listener{"inputs.syslog.tls.address", sy.TLS.Address})
		}
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" || h == "[::]" }
	// localhost is the loopback address, whichever way it is written.
	same := func(a, b string) bool {
		loop := func(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }
		return a == b || loop(a) && loop(b)
	}
	var errs []error
	udp := ""
	if sy := c.Inputs.Syslog; sy != nil && sy.UDP != nil {
		udp = sy.UDP.Address
	}
	for _, l := range append(ls, listener{"inputs.syslog.udp.address", udp}) {
		if err := checkListenAddress(l.addr); err != nil {
			errs = append(errs, fmt.Errorf("%s %q: %w", l.key, l.addr, err))
		}
	}
	for i := range ls {
		hi, pi, err := net.SplitHostPort(ls[i].addr)
		if err != nil || pi == "0" || ls[i].addr == "" {
			continue
		}
		for j := i + 1; j < len(ls); j++ {
			hj, pj, err := net.SplitHostPort(ls[j].addr)
			if err != nil || pj != pi {
				continue
			}
			if same(hi, hj) || wildcard(hi) || wildcard(hj) {
				errs = append(errs, fmt.Errorf("%s (%q) and %s (%q) listen on the same TCP port: the router would fail at start with \"address already in use\"; give one of them another port",
					ls[i].key, ls[i].addr, ls[j].key, ls[j].addr))
			}
		}
	}
	return errors.Join(errs...)
}

// checkListenAddress refuses a listen address net.Listen would refuse at
// start: one that is not host:port, or whose port is not 0..65535 (or a
// service name). "" is a listener that is off or takes its default.
func checkListenAddress(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New(`not host:port: write ":8088" for every interface, "127.0.0.1:8088" for one`)
	}
	if n, err := strconv.Atoi(port); err == nil {
		if n < 0 || n > 65535 {
			return fmt.Errorf("port %d is out of range (0 to 65535)", n)
		}
		return nil
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("port %q is neither a number nor a known service name", port)
	}
	return nil
}

// checkInputNames refuses input names that collide (their metrics and
// events' logrouter.input would merge) or that are "replay": the name of
// replayed events, which `router quarantine replay` skips as refusals of
// an earlier replay, so that it does not loop; an input of that name would
// have its quarantined records never replayed.
func (c *Config) checkInputNames() error {
	var errs []error
	seen := map[string]string{}
	check := func(key, name string) {
		if name == "replay" {
			errs = append(errs, fmt.Errorf(`%s: "replay" is reserved (the input of replayed events, which quarantine replay skips): choose another name`, key))
		}
		if prev, ok := seen[name]; ok && name != "" {
			errs = append(errs, fmt.Errorf("%s: %q is also %s: give each input its own name (metrics and logrouter.input tell them apart by it)", key, name, prev))
		}
		seen[name] = key
	}
	if h := c.Inputs.HTTP; h != nil {
		check("inputs.http.name", h.Name)
	}
	if sy := c.Inputs.Syslog; sy != nil {
		check("inputs.syslog.name", sy.Name)
	}
	if k := c.Inputs.Kafka; k != nil {
		check("inputs.kafka.name", k.Name)
	}
	return errors.Join(errs...)
}

// checkOwnedDirs refuses an archive directory (archive_dir.dir,
// s3.staging_dir) that is the same as, or inside or around, another
// destination's directory, a queue's or the quarantine's, and a file
// sink's dir in or around the quarantine. Each archive takes every object
// it finds under its directory as its own at start (finalizes *.partial
// files; the S3 archive uploads, then deletes, every staged object): a
// shared directory sends one destination's objects to another's bucket
// and deletes them from where they belong. File sinks may share a
// directory (each writes and scans only files named after itself).
func (c *Config) checkOwnedDirs() error {
	const (
		archive = iota // owns its whole directory
		fileDir
		queueDir
		quarantineDir
	)
	type owned struct {
		key, dir string
		kind     int
	}
	var ds []owned
	for i, d := range c.Destinations {
		at := fmt.Sprintf("destinations[%d] (%s)", i, d.Name)
		switch {
		case d.Type == "archive_dir" && d.ArchiveDir != nil && d.ArchiveDir.Dir != "":
			ds = append(ds, owned{at + ".archive_dir.dir", d.ArchiveDir.Dir, archive})
		case d.Type == "s3" && d.S3 != nil && d.S3.StagingDir != "":
			ds = append(ds, owned{at + ".s3.staging_dir", d.S3.StagingDir, archive})
		case d.Type == "file" && d.File != nil && d.File.Dir != "":
			ds = append(ds, owned{at + ".file.dir", d.File.Dir, fileDir})
		}
		if qc := c.QueueFor(d); qc.Mode != "memory" && qc.Dir != "" && d.Name != "" {
			ds = append(ds, owned{fmt.Sprintf("%s's queue (queue.dir/%s)", at, d.Name), filepath.Join(qc.Dir, d.Name), queueDir})
		}
	}
	if c.Quarantine.Dir != "" {
		ds = append(ds, owned{"quarantine.dir", c.Quarantine.Dir, quarantineDir})
	}
	within := func(a, b string) bool { // a is b or inside it
		rel, err := filepath.Rel(b, a)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	var errs []error
	for i := range ds {
		for j := i + 1; j < len(ds); j++ {
			ki, kj := ds[i].kind, ds[j].kind
			clash := ki == archive || kj == archive ||
				ki == fileDir && kj == quarantineDir || ki == quarantineDir && kj == fileDir
			if !clash {
				continue
			}
			a, b := filepath.Clean(ds[i].dir), filepath.Clean(ds[j].dir)
			if within(a, b) || within(b, a) {
				errs = append(errs, fmt.Errorf("%s (%q) and %s (%q) share a directory: an archive must own its directory alone (at start it takes every object under it as its own), and no file sink may write into the quarantine; give them separate ones",
					ds[i].key, ds[i].dir, ds[j].key, ds[j].dir))
			}
		}
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

// Parse decodes data (named name in errors), expands the environment in its
// values (expandEnv), applies defaults and validates. data holds one YAML
// document: a second one, after "---", is an error rather than ignored.
// Unknown keys are errors with file and line.
func Parse(name string, data []byte) (*Config, error) {
	var c Config
	masked, env := maskEnv(data)
	dec := yaml.NewDecoder(bytes.NewReader(masked))
	dec.KnownFields(true)
	if err := dec.Decode(&expanded{env: env, into: &c}); err != nil {
		var unset *unsetEnvError
		switch {
		case errors.Is(err, io.EOF):
			return nil, fmt.Errorf("%s: the file is empty", name)
		case errors.As(err, &unset):
			unset.file = name
			return nil, unset
		}
		return nil, errors.New(env.hide(yamlerr.Format(name, err)))
	}
	if err := yamlerr.NoFurtherDocument(name, dec, "the configuration"); err != nil {
		return nil, err
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%s: invalid configuration:\n%w", name, indent(err))
	}
	return &c, nil
}

// expanded decodes a document into into after expanding the environment in
// the document's node tree (expandEnv), with the settings (KnownFields) of
// the Decoder that reads it and the lines of the file as written.
//
// It implements the decode-callback form of yaml.v3's unmarshaler on
// purpose: that callback decodes with the calling Decoder's settings, where
// yaml.Node.Decode would drop KnownFields. The first callback hands the
// document's root node itself to a rootNode, so expanding it in place is
// what the second one decodes.
type expanded struct {
	env  *envText
	into *Config
	root *yaml.Node // the document's root, expanded, once decoded
}

func (e *expanded) UnmarshalYAML(decode func(any) error) error {
	var root rootNode
	if err := decode(&root); err != nil {
		return err
	}
	if err := expandEnv(root.node, e.env); err != nil {
		return err
	}
	e.root = root.node
	return decode(e.into)
}

// rootNode keeps the node it is decoded from.
type rootNode struct {
	node *yaml.Node
}

func (r *rootNode) UnmarshalYAML(n *yaml.Node) error {
	r.node = n
	return nil
}

// Partial is a configuration read for a command that uses one part of it
// (router archive ddl) on a machine that may lack its secrets: a ${VAR}
// whose variable is unset expands to "" instead of failing, defaults are
// applied and nothing is validated. CheckDestination then says whether the
// part the command uses is whole.
type Partial struct {
	*Config
	file string
	root *yaml.Node // the expanded document, as decoded
	// unsetAt holds the unset references by the scalar node holding them.
	unsetAt map[*yaml.Node][]unsetEnv
}

// LoadPartial reads the file at path as a Partial.
func LoadPartial(path string) (*Partial, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	return ParsePartial(path, data)
}

// ParsePartial parses data (named name in errors) as a Partial. Unknown
// keys, values of the wrong type and a second document are errors, as in
// Parse.
func ParsePartial(name string, data []byte) (*Partial, error) {
	var c Config
	masked, env := maskEnv(data)
	env.lenient, env.unsetAt = true, map[*yaml.Node][]unsetEnv{}
	dec := yaml.NewDecoder(bytes.NewReader(masked))
	dec.KnownFields(true)
	e := &expanded{env: env, into: &c}
	if err := dec.Decode(e); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: the file is empty", name)
		}
		return nil, errors.New(env.hide(yamlerr.Format(name, err)))
	}
	if err := yamlerr.NoFurtherDocument(name, dec, "the configuration"); err != nil {
		return nil, err
	}
	c.SetDefaults()
	return &Partial{Config: &c, file: name, root: e.root, unsetAt: env.unsetAt}, nil
}

// CheckDestination validates destination d's block (it must have the one
// of its type) and reports every unset ${VAR} its settings are made of:
// those written in its item of the destinations list, and in what that
// item takes from elsewhere by alias or merge (<<: *anchor). A command
// that uses d alone needs those variables, and no others. d is found by
// name, which must be unique.
func (p *Partial) CheckDestination(d Destination) error {
	at := -1
	for i, o := range p.Destinations {
		if o.Name != d.Name {
			continue
		}
		if at >= 0 {
			return fmt.Errorf("destinations[%d] and [%d] are both named %q: give each destination its own name", at, i, d.Name)
		}
		at = i
	}
	if at < 0 {
		return fmt.Errorf("no destination named %q", d.Name)
	}
	var unset []unsetEnv
	if item := p.destinationNode(at); item != nil {
		seen := map[*yaml.Node]bool{}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n == nil || seen[n] {
				return
			}
			seen[n] = true
			unset = append(unset, p.unsetAt[n]...)
			walk(n.Alias)
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(item)
	} else {
		// Not found in the document (a layout this does not follow):
		// any unset variable may be in it.
		for _, u := range p.unsetAt {
			unset = append(unset, u...)
		}
	}
	var errs []error
	if len(unset) > 0 {
		slices.SortFunc(unset, func(a, b unsetEnv) int { return a.line - b.line })
		errs = append(errs, &unsetEnvError{file: p.file, unset: unset})
	}
	found := false
	for _, b := range d.blocks() {
		if b.typ != d.Type {
			continue
		}
		found = true
		if !b.set {
			errs = append(errs, fmt.Errorf("type %s needs its block (%s: {...}) next to type", d.Type, d.Type))
		} else if err := b.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Type, err))
		}
	}
	if !found {
		errs = append(errs, fmt.Errorf("type %q is not one of %s", d.Type, strings.Join(DestinationTypes, ", ")))
	}
	return errors.Join(errs...)
}

// destinationNode returns the node of the i-th item of the top-level
// destinations list, aliases resolved, or nil.
func (p *Partial) destinationNode(i int) *yaml.Node {
	deref := func(n *yaml.Node) *yaml.Node {
		for n != nil && n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		return n
	}
	top := deref(p.root)
	if top != nil && top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = deref(top.Content[0])
	}
	if top == nil || top.Kind != yaml.MappingNode {
		return nil
	}
	for k := 0; k+1 < len(top.Content); k += 2 {
		if top.Content[k].Value != "destinations" {
			continue
		}
		list := deref(top.Content[k+1])
		if list == nil || list.Kind != yaml.SequenceNode || i >= len(list.Content) {
			return nil
		}
		return list.Content[i]
	}
	return nil
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

// envRef matches, at the start of its input, ${VAR} or ${VAR:-default}, on
// one line.
var envRef = regexp.MustCompile(`^\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}\n]*))?\}`)

// envText holds the references of a configuration text, which maskEnv
// replaces with tokens before the text is parsed: a token is letters, digits
// and "_", which YAML reads as written in any context, where a plain ${VAR}
// inside a flow collection ({dir: ${DIR}}) would end at its "}".
type envText struct {
	token *regexp.Regexp // one token; its group is an index in refs
	refs  []string       // what each token replaces, as written
	lines []int          // the line of the file each one is on
	// values are the expanded values that held references, with those
	// references as written: hide takes them out of error messages.
	values []expandedValue
	// lenient: an unset ${VAR} is recorded in unsetAt, by the scalar node
	// that holds it, instead of failing expandEnv (LoadPartial).
	lenient bool
	unsetAt map[*yaml.Node][]unsetEnv
}

type expandedValue struct{ value, written string }

// hide replaces in msg, a decoding error, every quoted value that came from
// the environment by the reference it came from: yaml.v3 quotes the scalar
// it cannot decode (whole up to 10 bytes, else its first 7 and "..."), and a
// secret in the wrong place (tokens: ${HEC_TOKEN} where a list belongs)
// would be printed in validate's output and in logs.
func (e *envText) hide(msg string) string {
	for _, v := range e.values {
		shown := v.value
		if len(shown) > 10 {
			shown = shown[:7] + "..."
		}
		if shown == "" {
			continue
		}
		msg = strings.ReplaceAll(msg, "`"+shown+"`", "`"+v.written+"` (its value not shown)")
	}
	return msg
}

// maskEnv returns data with each ${VAR}, ${VAR:-default} and "$${" replaced
// by a token, and the envText that maps the tokens back. Only "${", "}" and
// what lies between them change: lines stay as they are.
func maskEnv(data []byte) ([]byte, *envText) {
	// Absent from data; its one "Q" leads, so tokens are only found where
	// put. Q is no YAML escape letter: after a backslash in a double-quoted
	// scalar a token starting with L (\L, U+2028) would be read as an escape.
	marker := "QLRENV"
	for bytes.Contains(data, []byte(marker)) {
		marker += "X"
	}
	env := &envText{token: regexp.MustCompile(marker + `(\d+)_`)}
	out := make([]byte, 0, len(data))
	line := 1
	for {
		i := bytes.IndexByte(data, '$')
		if i < 0 {
			return append(out, data...), env
		}
		line += bytes.Count(data[:i], []byte{'\n'})
		out, data = append(out, data[:i]...), data[i:]
		n := 0
		if bytes.HasPrefix(data, []byte("$${")) {
			n = len("$${")
		} else if m := envRef.FindIndex(data); m != nil {
			n = m[1]
		} else {
			out, data = append(out, '$'), data[1:]
			continue
		}
		out = fmt.Appendf(out, "%s%d_", marker, len(env.refs))
		env.refs = append(env.refs, string(data[:n]))
		env.lines = append(env.lines, line)
		data = data[n:]
	}
}

// ref returns what token tok replaces and the line it is on.
func (e *envText) ref(tok string) (string, int) {
	i, _ := strconv.Atoi(e.token.FindStringSubmatch(tok)[1])
	return e.refs[i], e.lines[i]
}

// restore returns s with its tokens replaced by what they replace.
func (e *envText) restore(s string) string {
	return e.token.ReplaceAllStringFunc(s, func(tok string) string {
		ref, _ := e.ref(tok)
		return ref
	})
}

// expand returns s with its tokens expanded: ${VAR} to the variable's value,
// or to default when it is unset or empty; "$${" to a literal "${". It also
// returns how many references s held, and the variables of those that are
// unset or empty without a default (expanded to "").
func (e *envText) expand(s string) (out string, refs int, missing []unsetEnv) {
	out = e.token.ReplaceAllStringFunc(s, func(tok string) string {
		ref, line := e.ref(tok)
		if ref == "$${" {
			return "${"
		}
		refs++
		m := envRef.FindStringSubmatch(ref)
		name, hasDefault, def := m[1], m[2] != "", m[3]
		if v := os.Getenv(name); v != "" {
			return v
		}
		if hasDefault {
			return def
		}
		missing = append(missing, unsetEnv{name: name, line: line})
		return ""
	})
	return out, refs, missing
}

// expandEnv expands the references (envText.expand) in the scalar values
// under n, parsed from a text masked by maskEnv, and puts those of mapping
// keys back as written. Comments are not expanded (nothing reads them);
// aliases are not followed: the node they name is expanded where it is
// defined, once.
//
// A value arrives byte for byte: it is never parsed as YAML, so "#", quotes,
// a leading "&", "*", "!" or "[" or a newline in a secret stay part of it. A
// plain (unquoted, untagged) scalar that held a reference is typed again from
// its expanded text, as a plain scalar written so would be, so port: ${PORT}
// still decodes into an int, enabled: ${ON} into a bool, and "~" is null; it
// always stays a scalar, never a list, mapping or alias. A quoted one stays a
// string.
//
// A ${VAR} without default whose variable is unset or empty is an error (an
// *unsetEnvError listing every such reference with its line), so a missing
// secret never silently becomes an empty token.
func expandEnv(n *yaml.Node, env *envText) error {
	var unset []unsetEnv
	var walk func(n *yaml.Node, value bool)
	walk = func(n *yaml.Node, value bool) {
		switch n.Kind {
		case yaml.DocumentNode, yaml.SequenceNode:
			for _, c := range n.Content {
				walk(c, value)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				emptyBlock(n.Content[i], n.Content[i+1])
			}
			for i, c := range n.Content {
				walk(c, value && i%2 == 1) // keys at even indexes
			}
		case yaml.ScalarNode:
			if !value {
				n.Value = env.restore(n.Value)
				return
			}
			written := n.Value
			expanded, refs, missing := env.expand(n.Value)
			unset = append(unset, missing...) // each with its own line (a block scalar spans several)
			if env.lenient && len(missing) > 0 {
				env.unsetAt[n] = missing
			}
			if refs > 0 {
				env.values = append(env.values, expandedValue{value: expanded, written: env.restore(written)})
			}
			n.Value = expanded
			if refs > 0 && n.Style == 0 {
				n.Tag = "" // the decoder resolves it from the value
			}
		}
	}
	walk(n, true)
	if env.lenient {
		return nil
	}
	if len(unset) > 0 {
		return &unsetEnvError{unset: unset}
	}
	return nil
}

// blockKeys are the keys whose presence switches something on (a listener,
// TLS) and that hold a block of settings, all of them optional.
var blockKeys = map[string]bool{"udp": true, "tcp": true, "tls": true, "http": true, "cef": true}

// emptyBlock makes such a key written without a value ("udp:", "tls:") the
// empty block it stands for ("udp: {}"): decoded as null it left the block
// unset, as if absent, and validated: no listener, and a syslog
// destination's "tls:" (TLS with the system's roots) was plain TCP.
func emptyBlock(key, val *yaml.Node) {
	if key.Kind == yaml.ScalarNode && blockKeys[key.Value] && val.Kind == yaml.ScalarNode && val.Tag == "!!null" {
		*val = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: val.Line, Column: val.Column}
	}
}

// unsetEnv is a ${VAR} without default whose variable is unset or empty.
type unsetEnv struct {
	name string
	line int
}

// unsetEnvError lists every unset ${VAR} of a document, one line each.
type unsetEnvError struct {
	file  string // the file's name; "" reads "line N"
	unset []unsetEnv
}

func (e *unsetEnvError) Error() string {
	lines := make([]string, 0, len(e.unset))
	for _, u := range e.unset {
		at := fmt.Sprintf("line %d", u.line)
		if e.file != "" {
			at = fmt.Sprintf("%s:%d", e.file, u.line)
		}
		lines = append(lines, fmt.Sprintf("%s: environment variable %s is not set or empty; set it, or give a default: ${%s:-value}", at, u.name, u.name))
	}
	return strings.Join(lines, "\n")
}

// checkDestinationName: a destination's name is a directory name (its queue
// under queue.dir, its quarantine under quarantine.dir), a metrics label and
// a query parameter, so it is a plain word: letters, digits, '_', '-' and
// '.', not starting with '.', at most 64 bytes. "a/b" or ".." would put its
// queue or its refusals outside its own directory (or share another's), and
// "seal.key" is the quarantine's key file.
func checkDestinationName(name string) error {
	// "input" names, in quarantine replay, the records of no destination.
	ok := len(name) <= 64 && name[0] != '.' && name != "seal.key" && name != "input"
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
	}
	if !ok {
		return fmt.Errorf("%q is not a usable name: use letters, digits, '_', '-' and '.' (not first), at most 64 characters, not \"seal.key\" or \"input\" (names a directory under queue.dir and quarantine.dir; quarantine replay calls input records \"input\")", name)
	}
	return nil
}
