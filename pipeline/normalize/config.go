package normalize

import (
	"fmt"
	"strings"
)

// Config controls how events are rewritten into the normalized form. It is the
// `normalize:` block of the router configuration.
type Config struct {
	// TimestampFields are the paths tried, in order, for the event's own time.
	// The first one present that parses (epoch s/ms/us/ns, RFC 3339, common
	// log formats) becomes @timestamp.
	TimestampFields []string `yaml:"timestamp_fields"`
	// KeepTimestampField keeps the source field @timestamp was taken from;
	// by default it is removed as a duplicate of @timestamp.
	KeepTimestampField bool `yaml:"keep_timestamp_field"`
	// Rename maps a vendor field path to its path in the normalized schema
	// (for example src_ip: source.ip). Paths are dot-separated; a key that
	// itself contains dots ("id.orig_h" in Zeek) matches too.
	Rename map[string]string `yaml:"rename"`
	// Drop lists field paths removed from every event.
	Drop []string `yaml:"drop"`
	// KeepEmpty keeps null values, empty strings, empty objects and empty
	// arrays; by default they are removed.
	KeepEmpty bool `yaml:"keep_empty"`
	// MaxFields bounds the number of fields (at all depths) of one event;
	// larger events are rejected to quarantine. Default 2000. An edge's
	// output read back (EventMeta.Normalized) may have twice as many: the
	// objects its renames wrote into.
	MaxFields int `yaml:"max_fields"`
	// HashKey, when set, keys the event's content hash (the deduplication
	// key and the OpenSearch _id) with this secret: 32 hexadecimal
	// characters, a 128-bit SipHash key (`openssl rand -hex 16`). Without
	// it the hash is an unkeyed xxhash64 sum, and someone who controls a
	// logged field could craft an event that hashes like one they logged
	// before, which dedup would then drop (docs/architecture.md,
	// "Deduplication"). Give every replica of a deployment the same key
	// (e.g. ${LOGROUTER_HASH_KEY} from a Kubernetes Secret): a different key
	// gives the same event a different _id. Setting or changing it changes
	// every event's hash from then on.
	HashKey string `yaml:"hash_key"`
	// Profiles map source types into the schema; they are loaded from
	// rules/profiles (see LoadProfiles), not from this block.
	Profiles []ProfileSpec `yaml:"-"`
	// CompileMatcher compiles profiles' detect.expr expressions; the rules
	// package provides it (rules.CompileMatcher), which this package cannot
	// import. A profile with detect.expr and no CompileMatcher is an error.
	CompileMatcher func(expr string) (Matcher, error) `yaml:"-"`
	// NewTextParser makes the parser of a profile's parse with format
	// syslog, one per Normalizer: the syslog input's
	// (pipeline/ingest/syslog/parse.NewTextParser), which imports this
	// package. A profile with format syslog and no NewTextParser is an error.
	NewTextParser func() TextParser `yaml:"-"`
}

// TextParser turns a log line into a JSON object the way the syslog input
// does (a syslog header, then CEF, LEEF, PAN-OS CSV, FortiGate and other
// key=value pairs, Cisco ASA, Snare or JSON in the message).
type TextParser interface {
	// AppendJSON appends the object made of line to dst; times in line
	// without a zone (an RFC 3164 header, FortiGate's date and time) are
	// at offset zone, in seconds east of UTC. ok is false, and dst is
	// returned as it was, when line has neither a syslog header nor a
	// payload format the parser knows (plain text: nothing to gain).
	AppendJSON(dst, line []byte, zone int64) (out []byte, ok bool)
}

// ReceiveClock is a TextParser that infers the year of a date that has
// none (RFC 3164) from when the event was received: SetReceived (unix ns)
// is called before each parse with the event's ingest time.
type ReceiveClock interface {
	SetReceived(ns int64)
}

// WindowsTextParser is a TextParser that also parses a Windows event sent
// as text alone (ParseSpec.Format "windows"); without it that format
// parses nothing.
type WindowsTextParser interface {
	// AppendWindowsJSON is AppendJSON for text that is a Windows event in
	// XML or in Splunk's classic rendering, without a syslog header; ok is
	// false for any other text.
	AppendWindowsJSON(dst, line []byte, zone int64) (out []byte, ok bool)
	// AppendWindowsMessage appends {"winlog":{"event_data":{...}}} made
	// of the labelled values of msg, the rendered message of a Security
	// event whose id is eventID; ok is false when it names none.
	AppendWindowsMessage(dst, eventID, msg []byte) (out []byte, ok bool)
}

// DefaultTimestampFields are the time fields of common shippers and vendors.
var DefaultTimestampFields = []string{
	"@timestamp", "timestamp", "time", "ts", "eventTime", "event_time",
	"published", "createdAt", "created_at", "datetime", "date_time",
	"EventTime", "TimeCreated", "TimeGenerated", "receive_time",
	"metadata.eventCreationTime", "_time",
	// Event times of findings whose shape has no profile: Graph and
	// Defender alerts, Cortex XDR, Carbon Black, M365 audit, Kubernetes
	// audit, ASFF, SentinelOne threats and STAR alerts.
	"createdDateTime", "alertCreationTime", "detection_timestamp", "create_time",
	"CreationTime", "requestReceivedTimestamp", "UpdatedAt", "threatInfo.createdAt", "alertInfo.createdAt",
}

// DefaultConfig returns the configuration used when the block is absent.
func DefaultConfig() Config {
	return Config{
		TimestampFields: append([]string(nil), DefaultTimestampFields...),
		MaxFields:       2000,
	}
}

// reserved are paths the normalizer writes itself.
var reserved = []string{"@timestamp", "event.ingested", "logrouter"}

// Validate checks the configuration and says which key to fix.
func (c *Config) Validate() error {
	if c.MaxFields < 0 {
		return fmt.Errorf("normalize.max_fields: must be positive, got %d", c.MaxFields)
	}
	if _, err := parseHashKey(c.HashKey); err != nil {
		return err
	}
	for i, f := range c.TimestampFields {
		if err := checkPath(f); err != nil {
			return fmt.Errorf("normalize.timestamp_fields[%d]: %w", i, err)
		}
	}
	drops := make(map[string]bool, len(c.Drop))
	for i, f := range c.Drop {
		if err := checkSourcePath(f); err != nil {
			return fmt.Errorf("normalize.drop[%d]: %w", i, err)
		}
		drops[f] = true
	}
	for from, to := range c.Rename {
		if err := checkSourcePath(from); err != nil {
			return fmt.Errorf("normalize.rename %q: %w", from, err)
		}
		if strings.HasSuffix(from, "*") {
			return fmt.Errorf("normalize.rename %q: a wildcard names the members of an object whose members are renamed; rename those (two matching objects would go to one target)", from)
		}
		if err := checkPath(to); err != nil {
			return fmt.Errorf("normalize.rename %q -> %q: target %w", from, to, err)
		}
		if drops[from] {
			return fmt.Errorf("normalize.rename %q: the field is also in normalize.drop; keep one of the two", from)
		}
		for _, r := range reserved {
			if to == r || strings.HasPrefix(to, r+".") {
				return fmt.Errorf("normalize.rename %q -> %q: %q is written by logrouter itself; choose another target", from, to, r)
			}
		}
	}
	return nil
}

// checkPath refuses an empty path, an empty segment, a selector (see
// checkListSource) and a wildcard (*), which only a rename or drop source
// may hold (checkSourcePath).
func checkPath(p string) error {
	if err := checkNoWild(p); err != nil {
		return err
	}
	return checkSegments(p, false)
}

// checkSourcePath is checkPath for a rename or drop source: a wildcard
// segment is allowed (see checkWild).
func checkSourcePath(p string) error {
	if err := checkSegments(p, false); err != nil {
		return err
	}
	return checkWild(p)
}

// checkListSource is checkPath for a copy's from and a map's field, where
// selectors (list[member=value]) are read (see checkSelectors).
func checkListSource(p string) error {
	if err := checkNoWild(p); err != nil {
		return err
	}
	if err := checkSegments(p, true); err != nil {
		return err
	}
	return checkSelectors(p)
}

func checkNoWild(p string) error {
	if strings.Contains(p, "*") {
		return fmt.Errorf("field path %q: a wildcard (*) can name members only in a rename or drop source", p)
	}
	return nil
}

// checkSegments refuses an empty path or segment and, unless selectors
// are read there, a selector segment.
func checkSegments(p string, selectors bool) error {
	if p == "" {
		return fmt.Errorf("empty field path")
	}
	for _, seg := range strings.Split(p, ".") {
		if seg == "" {
			return fmt.Errorf("field path %q has an empty segment (leading, trailing or double dot)", p)
		}
		if _, sel, ok := cutSelector(seg); ok && !selectors && strings.Contains(sel, "=") {
			return fmt.Errorf("field path %q: a selector (%s) reads a list element only in a profile's copy from and map field; elsewhere it would be looked up as a key no event has", p, sel)
		}
	}
	return nil
}
