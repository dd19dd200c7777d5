package s3

import (
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// DefaultKeyTemplate is the object key template used when key_template is
// empty; the extension is replaced to match the compression.
const DefaultKeyTemplate = "{prefix}/priority={priority}/source_type={source_type}/dt={date}/hour={hour}/{node}-{start}-{seq}.ndjson.zst"

// DefaultPrefix is the default for {prefix}.
const DefaultPrefix = "logs"

// Compression names accepted by the "compression" key.
const (
	CompressionZstd = "zstd"
	CompressionGzip = "gzip"
)

// StartLayout formats {start}, the object's creation time in UTC.
const StartLayout = "20060102T150405Z"

// maxValueLen bounds every sanitized value that feeds a key but the source
// type, which maxSourceTypeLen bounds: a partition value that is not the
// source type as sanitized reads as an empty partition to an Athena query
// naming it (partition projection injects the value given), and long
// source types (a Kafka topic, an Event Hubs category) are not rare. A key
// stays far below S3's 1024 bytes with both.
const (
	maxValueLen      = 64
	maxSourceTypeLen = 200
)

// LayoutConfig is the part of a destination's configuration that decides
// object keys. It is shared by the local archive and the S3 backend so both
// write the same key space; the yaml keys are the same in both.
type LayoutConfig struct {
	// Prefix is {prefix}: one or more '/'-separated parts, each sanitized.
	// Default "logs".
	Prefix string `yaml:"prefix"`
	// Node is {node}, the writer's identity that keeps keys of concurrent
	// writers apart. Default: os.Hostname().
	Node string `yaml:"node"`
	// KeyTemplate is the key template, see Layout. Default
	// DefaultKeyTemplate with the compression's extension.
	KeyTemplate string `yaml:"key_template"`
	// Compression is "zstd" (default) or "gzip"; it decides the extension.
	Compression string `yaml:"compression"`
}

// Partition is what groups events into objects: events with equal partitions
// go to the same open object. It is comparable and cheap to build per event
// (SourceType is the event's interned string; nothing is allocated).
type Partition struct {
	Priority   pipeline.Priority
	SourceType string
	// Hour is the hour bucket: hours since the Unix epoch, UTC.
	Hour int64
}

// HourOf returns the hour bucket of a unix-nanosecond timestamp.
func HourOf(unixNano int64) int64 {
	const ns = int64(time.Hour)
	h := unixNano / ns
	if unixNano%ns < 0 {
		h--
	}
	return h
}

// HourTime returns the start of an hour bucket.
func HourTime(hour int64) time.Time {
	return time.Unix(hour*3600, 0).UTC()
}

// seqCounter backs {seq}: per process, shared by all layouts, so two
// destinations writing to the same directory never collide.
var seqCounter atomic.Uint64

// NextSeq returns the next value of the per-process, monotonically increasing
// object sequence (1, 2, ...). Keys render it with at least 6 digits.
func NextSeq() uint64 { return seqCounter.Add(1) }

type placeholder uint8

const (
	literal placeholder = iota
	phPrefix
	phPriority
	phSourceType
	phDate
	phHour
	phNode
	phStart
	phSeq
)

var placeholders = map[string]placeholder{
	"prefix":      phPrefix,
	"priority":    phPriority,
	"source_type": phSourceType,
	"date":        phDate,
	"hour":        phHour,
	"node":        phNode,
	"start":       phStart,
	"seq":         phSeq,
}

const placeholderList = "{prefix}, {priority}, {source_type}, {date}, {hour}, {node}, {start}, {seq}"

type part struct {
	ph  placeholder
	lit string
	max int // {source_type}: the bytes it is cut at (see sourceTypeRoom)
}

// Layout renders object keys from a validated template. Keys are relative,
// '/'-separated, and made only of [A-Za-z0-9._=+-] and '/', with no empty, "."
// or ".." segment and no segment starting with '.', so joined under a
// directory they can never leave it, and they are valid S3 keys as they are.
//
// Placeholders:
//
//	{prefix}       LayoutConfig.Prefix, each '/'-separated part sanitized
//	{priority}     P1, P2, P3 (or "none")
//	{source_type}  the event's SourceType, sanitized
//	{date}         YYYY-MM-DD of the partition's hour bucket, UTC
//	{hour}         HH of the partition's hour bucket, UTC
//	{node}         LayoutConfig.Node, sanitized
//	{start}        the object's creation time, 20060102T150405Z
//	{seq}          NextSeq, zero-padded to 6 digits (more once past 999999)
//
// The file name (last segment) must contain {seq} or {start}. Every key ends
// with the compression's suffix, ".zst" or ".gz": a template that ends in one
// must match the compression and is used as is, so it may carry an extension
// of its own (".json.zst"); any other template gets ".ndjson.zst" or
// ".ndjson.gz" appended. The S3 archive needs more of the file name (see
// S3Config.KeyTemplate).
//
// A Layout is immutable and safe for concurrent use.
type Layout struct {
	parts  []part
	prefix string
	node   string
	ext    string
	hasSeq bool
}

// compressionExt returns the extension for a compression name.
func compressionExt(c string) (string, error) {
	switch c {
	case "", CompressionZstd:
		return ".ndjson.zst", nil
	case CompressionGzip:
		return ".ndjson.gz", nil
	}
	return "", fmt.Errorf(`"compression" must be %q or %q, not %q`, CompressionZstd, CompressionGzip, c)
}

// NewLayout validates cfg and returns its Layout. Defaults: prefix "logs",
// node os.Hostname() ("unknown" when that fails), compression zstd, template
// DefaultKeyTemplate.
func NewLayout(cfg LayoutConfig) (*Layout, error) {
	ext, err := compressionExt(cfg.Compression)
	if err != nil {
		return nil, err
	}
	tmpl := cfg.KeyTemplate
	if tmpl == "" {
		tmpl = strings.TrimSuffix(DefaultKeyTemplate, ".ndjson.zst") + ext
	}
	parts, hasSeq, err := parseTemplate(tmpl, ext)
	if err != nil {
		return nil, err
	}
	sourceTypeRoom(parts)
	l := &Layout{parts: parts, hasSeq: hasSeq, ext: ext}
	prefix := cfg.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	l.prefix = sanitizePath(prefix)
	node := cfg.Node
	if node == "" {
		node, _ = os.Hostname()
	}
	l.node = nodeName(node)
	return l, nil
}

// sourceTypeRoom sets how long each {source_type} may be: maxSourceTypeLen
// in a segment of its own with literals only (the default
// "source_type={source_type}", a Hive partition that Athena queries name), else
// maxValueLen (a file name with {node}, {start} and {seq} too must stay
// within a file system's 255 bytes).
func sourceTypeRoom(parts []part) {
	seg := 0 // the first part of the current segment
	for i := 0; i <= len(parts); i++ {
		if i < len(parts) && !(parts[i].ph == literal && strings.Contains(parts[i].lit, "/")) {
			continue
		}
		// parts[seg:i] (and the literal at i up to its '/') make a segment,
		// give or take literals spanning segments: count the placeholders.
		others, sts := 0, 0
		for _, pt := range parts[seg:i] {
			switch pt.ph {
			case literal, phPrefix:
			case phSourceType:
				sts++
			default:
				others++
			}
		}
		for j := seg; j < i; j++ {
			if parts[j].ph == phSourceType {
				parts[j].max = maxValueLen
				if others == 0 && sts == 1 {
					parts[j].max = maxSourceTypeLen
				}
			}
		}
		seg = i + 1
	}
}

// nodeName renders {node}: node itself when it is already a safe key
// component, else its sanitized form (cut to leave room) with "-" and eight
// hex digits of a hash of node. Sanitizing alone would render "edge router"
// and "edge_router", or two long pod names that differ past byte 64, alike,
// and two writers' keys could then collide (the second upload replacing
// the first object). It never starts with '_' or '.' (Sanitize's mark for a byte
// it replaced, or the node's own): Athena and Trino take a file whose name
// starts with '_' or '.' for a hidden one and never read it, and for type
// s3 every object's name starts with {node}.
func nodeName(node string) string {
	s := Sanitize(node)
	if s == node && s[0] != '_' {
		return s
	}
	if s = strings.TrimLeft(s, "_."); s == "" {
		s = "node"
	}
	h := fnv.New32a()
	h.Write([]byte(node))
	s = s[:min(len(s), maxValueLen-9)]
	return fmt.Sprintf("%s-%08x", s, h.Sum32())
}

// Ext returns the compression's extension, ".ndjson.zst" or ".ndjson.gz",
// which keys end with unless the template has an extension of its own. Every
// key ends with its last part, ".zst" or ".gz".
func (l *Layout) Ext() string { return l.ext }

// Node returns the sanitized {node} value.
func (l *Layout) Node() string { return l.node }

// Key renders the key of a new object for partition p created at start with
// sequence number seq (see NextSeq). It allocates; call it once per object,
// not per event.
func (l *Layout) Key(p Partition, start time.Time, seq uint64) string {
	b := make([]byte, 0, 160)
	ht := HourTime(p.Hour)
	for _, pt := range l.parts {
		switch pt.ph {
		case literal:
			b = append(b, pt.lit...)
		case phPrefix:
			b = append(b, l.prefix...)
		case phPriority:
			b = append(b, p.Priority.String()...)
		case phSourceType:
			b = appendSanitized(b, p.SourceType, pt.max)
		case phDate:
			b = ht.AppendFormat(b, "2006-01-02")
		case phHour:
			b = ht.AppendFormat(b, "15")
		case phNode:
			b = append(b, l.node...)
		case phStart:
			b = start.UTC().AppendFormat(b, StartLayout)
		case phSeq:
			s := strconv.AppendUint(nil, seq, 10)
			for i := len(s); i < 6; i++ {
				b = append(b, '0')
			}
			b = append(b, s...)
		}
	}
	return string(b)
}

func literalByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == '=' || c == '+' || c == '/'
}

// parseTemplate splits a key template into literals and placeholders and
// checks that every key it can render is a safe relative path.
func parseTemplate(t, ext string) (parts []part, hasSeq bool, err error) {
	bad := func(format string, args ...any) ([]part, bool, error) {
		return nil, false, fmt.Errorf(`"key_template" %q: `+format, append([]any{t}, args...)...)
	}
	if t == "" {
		return bad("must not be empty; omit it for the default %s", DefaultKeyTemplate)
	}
	if strings.HasSuffix(t, "/") {
		return bad("must not end with '/'")
	}
	compSuffix := ext[strings.LastIndexByte(ext, '.'):]
	switch {
	case strings.HasSuffix(t, ".zst") || strings.HasSuffix(t, ".gz"):
		if !strings.HasSuffix(t, compSuffix) {
			return bad("its extension does not match the compression; end it with %q or drop the extension", ext)
		}
	default:
		t += ext
	}
	if t[0] == '/' {
		return bad("must be relative: remove the leading '/'")
	}
	// Split into parts.
	for s := t; s != ""; {
		i := strings.IndexAny(s, "{}")
		if i < 0 {
			parts = append(parts, part{lit: s})
			break
		}
		if s[i] == '}' {
			return bad("unmatched '}'")
		}
		if i > 0 {
			parts = append(parts, part{lit: s[:i]})
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return bad("unclosed '{'")
		}
		name := s[i+1 : i+j]
		ph, ok := placeholders[name]
		if !ok {
			return bad("unknown placeholder {%s}; use %s", name, placeholderList)
		}
		parts = append(parts, part{ph: ph})
		s = s[i+j+1:]
	}
	// Check literals and segments. Placeholders render non-empty values
	// that never contain '/' nor start with '.' ({prefix} may contain '/'
	// between non-empty sanitized parts).
	segStart, segHasName := true, false
	var lastSegParts []part
	for _, p := range parts {
		if p.ph != literal {
			segStart = false
			lastSegParts = append(lastSegParts, p)
			continue
		}
		for i := 0; i < len(p.lit); i++ {
			c := p.lit[i]
			if !literalByte(c) {
				return bad("character %q is not allowed; use only [A-Za-z0-9._=+-], '/' and placeholders", c)
			}
			switch {
			case c == '/':
				if segStart {
					return bad("empty path segment: remove the doubled '/'")
				}
				segStart = true
				lastSegParts = lastSegParts[:0]
				continue
			case c == '.' && segStart:
				return bad("a path segment must not start with '.'")
			}
			segStart = false
		}
		lastSegParts = append(lastSegParts, p)
	}
	if segStart {
		return bad("must not end with '/'")
	}
	for _, p := range lastSegParts {
		switch p.ph {
		case phSeq:
			hasSeq, segHasName = true, true
		case phStart:
			segHasName = true
		}
	}
	if !segHasName {
		return bad("the file name (after the last '/') must contain {seq} or {start} so that objects get unique names")
	}
	return parts, hasSeq, nil
}

// Sanitize maps s to a safe key component: bytes outside [A-Za-z0-9._-]
// become '_', runs of '.' collapse to one, a leading '.' becomes '_', the
// result is at most 64 bytes, and "" becomes "unknown". The result never
// contains '/' and is never "." or "..". A clean s is returned as is.
func Sanitize(s string) string {
	if isClean(s) {
		return s
	}
	return string(appendSanitized(make([]byte, 0, min(len(s), maxValueLen)), s, maxValueLen))
}

func safeByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

func isClean(s string) bool {
	if s == "" || len(s) > maxValueLen || s[0] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !safeByte(c) || c == '.' && s[i-1] == '.' {
			return false
		}
	}
	return true
}

// appendSanitized appends s as Sanitize maps it, cut at max bytes.
func appendSanitized(b []byte, s string, max int) []byte {
	start := len(b)
	for i := 0; i < len(s) && len(b)-start < max; i++ {
		c := s[i]
		if !safeByte(c) {
			c = '_'
		}
		if c == '.' {
			if len(b) == start {
				c = '_'
			} else if b[len(b)-1] == '.' {
				continue
			}
		}
		b = append(b, c)
	}
	if len(b) == start {
		b = append(b, "unknown"...)
	}
	return b
}

// sanitizePath sanitizes each '/'-separated part of p and drops empty parts.
func sanitizePath(p string) string {
	var out []string
	for s := range strings.SplitSeq(p, "/") {
		if s != "" {
			out = append(out, Sanitize(s))
		}
	}
	if len(out) == 0 {
		return "unknown"
	}
	return strings.Join(out, "/")
}

// staticPrefix returns the part of every key that does not depend on the
// event or the object: the template's leading literals and {prefix}, cut
// after the last '/' (so "logs/" for the default template, "" when the
// template starts with another placeholder).
// ownsKey reports whether key is one of this layout's object keys for its
// node: under its static prefix, exactly as many path segments deep as its
// keys are (values never hold '/'), and a file name of this node
// (ownsFileName). A writer whose prefix is nested under this one
// ("logs/eu" under "logs") has deeper keys, and is not taken for this one.
func (l *Layout) ownsKey(key string) bool {
	if !strings.HasPrefix(key, l.staticPrefix()) {
		return false
	}
	depth := strings.Count(l.Key(Partition{}, time.Unix(0, 0), 1), "/")
	if strings.Count(key, "/") != depth {
		return false
	}
	// The whole key is one this template renders: its literals
	// ("priority=", "dt="...), this prefix and node exactly, and values
	// where the placeholders are. A writer under a nested prefix with a
	// template as deep (logs/eu/priority=P1/dt=... against
	// logs/priority=P1/source_type=x/dt=...) is told apart here.
	return l.ownsFileName(key[strings.LastIndexByte(key, '/')+1:]) && l.matchParts(l.parts, key)
}

// matchParts reports whether key is exactly what parts render, for some
// values of their placeholders.
func (l *Layout) matchParts(parts []part, key string) bool {
	if len(parts) == 0 {
		return key == ""
	}
	pt, rest := parts[0], parts[1:]
	fixed := func(s string) bool { return strings.HasPrefix(key, s) && l.matchParts(rest, key[len(s):]) }
	digits := func(n int, min bool) bool {
		i := 0
		for i < len(key) && key[i] >= '0' && key[i] <= '9' && (min || i < n) {
			i++
		}
		if i < n {
			return false
		}
		if !min {
			return l.matchParts(rest, key[n:])
		}
		for ; i >= n; i-- { // longest first
			if l.matchParts(rest, key[i:]) {
				return true
			}
		}
		return false
	}
	switch pt.ph {
	case literal:
		return fixed(pt.lit)
	case phPrefix:
		return fixed(l.prefix)
	case phNode:
		return fixed(l.node)
	case phPriority:
		for _, p := range []string{"P1", "P2", "P3", "none"} {
			if fixed(p) {
				return true
			}
		}
		return false
	case phDate:
		return len(key) >= 10 && isDate(key[:10]) && l.matchParts(rest, key[10:])
	case phHour:
		return digits(2, false)
	case phStart:
		if _, err := time.Parse(StartLayout, key[:min(len(key), len(StartLayout))]); err != nil {
			return false
		}
		return l.matchParts(rest, key[len(StartLayout):])
	case phSeq:
		return digits(6, true)
	case phSourceType:
		// One or more key bytes of one segment: the longest that lets the
		// rest match.
		end := 0
		for end < len(key) && key[end] != '/' && literalByte(key[end]) {
			end++
		}
		for i := end; i >= 1; i-- {
			if l.matchParts(rest, key[i:]) {
				return true
			}
		}
		return false
	}
	return false
}

func isDate(s string) bool {
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

func (l *Layout) staticPrefix() string {
	var b strings.Builder
loop:
	for _, pt := range l.parts {
		switch pt.ph {
		case literal:
			b.WriteString(pt.lit)
		case phPrefix:
			b.WriteString(l.prefix)
		default:
			break loop
		}
	}
	s := b.String()
	return s[:strings.LastIndexByte(s, '/')+1]
}

// fileName returns the parts of the template's last path segment.
func (l *Layout) fileName() []part {
	var out []part
	for _, pt := range l.parts {
		if pt.ph == literal {
			if i := strings.LastIndexByte(pt.lit, '/'); i >= 0 {
				out = out[:0]
				if rest := pt.lit[i+1:]; rest != "" {
					out = append(out, part{lit: rest})
				}
				continue
			}
		}
		out = append(out, pt)
	}
	return out
}
