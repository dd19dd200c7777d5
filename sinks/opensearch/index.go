package opensearch

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/logrouter/logrouter/pipeline"
)

// maxIndexName is OpenSearch's limit on index names, in bytes.
const maxIndexName = 255

// forbiddenIndexBytes are the bytes OpenSearch refuses in index names
// (besides upper case letters).
const forbiddenIndexBytes = `\/*?"<>| ,#:`

type partKind uint8

const (
	partLiteral partKind = iota
	partSourceType
	partPriority
	partDate
)

type dateTok uint8

const (
	tokYear dateTok = iota
	tokMonth
	tokDay
	tokHour
	tokSep // followed by the separator byte in sep
)

type datePart struct {
	tok dateTok
	sep byte
}

type part struct {
	kind partKind
	lit  string
	date []datePart
}

// indexTemplate is a parsed "index" setting.
type indexTemplate struct {
	parts       []part
	hasSource   bool
	hasPriority bool
	// gran is the length in nanoseconds of the time buckets that map to
	// one name: an hour with HH, a day with another date, 0 without.
	gran int64
	// sourceBudget is the most bytes one {source_type} may take so that
	// the whole name fits in 255 bytes.
	sourceBudget int
}

// parseIndexTemplate parses and checks an index name template.
func parseIndexTemplate(s string) (*indexTemplate, error) {
	t := &indexTemplate{}
	fixed, sources := 0, 0
	rest := s
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		closeAt := strings.IndexByte(rest, '}')
		if closeAt >= 0 && (open < 0 || closeAt < open) {
			return nil, fmt.Errorf(`"index" %q has a "}" without "{": placeholders are {source_type}, {priority} and dates like {yyyy.MM.dd}`, s)
		}
		if open < 0 {
			t.parts = append(t.parts, part{kind: partLiteral, lit: rest})
			fixed += len(rest)
			break
		}
		if open > 0 {
			t.parts = append(t.parts, part{kind: partLiteral, lit: rest[:open]})
			fixed += open
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf(`"index" %q has a "{" without "}"`, s)
		}
		name := rest[open+1 : open+end]
		rest = rest[open+end+1:]
		switch name {
		case "source_type":
			t.parts = append(t.parts, part{kind: partSourceType})
			t.hasSource = true
			sources++
		case "priority":
			t.parts = append(t.parts, part{kind: partPriority})
			t.hasPriority = true
			fixed += 2
		default:
			d, n, hour, err := parseDate(name)
			if err != nil {
				return nil, fmt.Errorf(`"index" %q: {%s} %v`, s, name, err)
			}
			t.parts = append(t.parts, part{kind: partDate, date: d})
			fixed += n
			switch {
			case hour:
				t.gran = int64(time.Hour)
			case t.gran == 0:
				t.gran = int64(24 * time.Hour)
			}
		}
	}
	if len(t.parts) == 0 {
		return nil, fmt.Errorf(`"index" must not be empty: omit it for the default %q`, DefaultIndex)
	}
	for _, p := range t.parts {
		if p.kind != partLiteral {
			continue
		}
		for i := 0; i < len(p.lit); i++ {
			c := p.lit[i]
			switch {
			case c >= 'A' && c <= 'Z':
				return nil, fmt.Errorf(`"index" %q must be lower case: OpenSearch refuses upper case index names`, s)
			case c < 0x20 || c == 0x7f || strings.IndexByte(forbiddenIndexBytes, c) >= 0:
				return nil, fmt.Errorf(`"index" %q contains %q: index names cannot contain spaces or \/*?"<>|,#:`, s, string(c))
			}
		}
		if !utf8.ValidString(p.lit) {
			return nil, fmt.Errorf(`"index" %q is not valid UTF-8`, s)
		}
		if strings.ToLower(p.lit) != p.lit {
			// Non-ASCII capitals (Ä) too: OpenSearch refuses a name that
			// lower-casing changes.
			return nil, fmt.Errorf(`"index" %q must be lower case: OpenSearch refuses upper case index names`, s)
		}
	}
	if p := t.parts[0]; p.kind == partLiteral && strings.IndexByte("-_+", p.lit[0]) >= 0 {
		return nil, fmt.Errorf(`"index" %q must not start with -, _ or +`, s)
	}
	if len(t.parts) == 1 && (t.parts[0].lit == "." || t.parts[0].lit == "..") {
		return nil, fmt.Errorf(`"index" must not be %q`, s)
	}
	if fixed+sources > maxIndexName {
		return nil, fmt.Errorf(`"index" %q is longer than OpenSearch's 255 bytes`, s)
	}
	if sources > 0 {
		t.sourceBudget = (maxIndexName - fixed) / sources
	}
	return t, nil
}

// parseDate parses a date placeholder made of yyyy, MM, dd and HH joined by
// '.', '-' or '_'. It returns the rendered length and whether it has hours.
func parseDate(s string) (d []datePart, n int, hour bool, err error) {
	tokens := 0
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "yyyy"):
			d, n, i = append(d, datePart{tok: tokYear}), n+4, i+4
		case strings.HasPrefix(s[i:], "MM"):
			d, n, i = append(d, datePart{tok: tokMonth}), n+2, i+2
		case strings.HasPrefix(s[i:], "dd"):
			d, n, i = append(d, datePart{tok: tokDay}), n+2, i+2
		case strings.HasPrefix(s[i:], "HH"):
			d, n, i, hour = append(d, datePart{tok: tokHour}), n+2, i+2, true
		case s[i] == '.' || s[i] == '-' || s[i] == '_':
			d, n, i = append(d, datePart{tok: tokSep, sep: s[i]}), n+1, i+1
			continue
		default:
			return nil, 0, false, fmt.Errorf("is not a placeholder: use {source_type}, {priority}, or a date made of yyyy, MM, dd and HH joined by . - or _ (like {yyyy.MM.dd})")
		}
		tokens++
	}
	if tokens == 0 {
		return nil, 0, false, fmt.Errorf("has no date field: use yyyy, MM, dd or HH (like {yyyy.MM.dd})")
	}
	return d, n, hour, nil
}

// pattern returns the index pattern that matches every name the template
// renders: the literal text before the first placeholder followed by "*",
// or the name itself without placeholders; "" when the template starts
// with a placeholder (the pattern would be "*").
func (t *indexTemplate) pattern() string {
	if t.parts[0].kind != partLiteral {
		return ""
	}
	if len(t.parts) == 1 {
		return t.parts[0].lit
	}
	return t.parts[0].lit + "*"
}

// static reports whether every event gets the same name.
func (t *indexTemplate) static() bool {
	return !t.hasSource && !t.hasPriority && t.gran == 0
}

// bucket is the time bucket of an event time (unix nanoseconds): events in
// the same bucket get the same date in their index name.
func (t *indexTemplate) bucket(ns int64) int64 {
	if t.gran == 0 {
		return 0
	}
	q := ns / t.gran
	if ns%t.gran < 0 {
		q--
	}
	return q
}

// render appends the index name of an event with source type st, priority p
// and time ns (unix nanoseconds, UTC) to dst.
func (t *indexTemplate) render(dst []byte, st string, p pipeline.Priority, ns int64) []byte {
	start := len(dst)
	var tm time.Time
	if t.gran != 0 {
		tm = time.Unix(0, ns).UTC()
	}
	for _, pt := range t.parts {
		switch pt.kind {
		case partLiteral:
			dst = append(dst, pt.lit...)
		case partSourceType:
			dst = appendSanitized(dst, st, t.sourceBudget)
		case partPriority:
			switch p {
			case pipeline.P1:
				dst = append(dst, "p1"...)
			case pipeline.P2:
				dst = append(dst, "p2"...)
			case pipeline.P3:
				dst = append(dst, "p3"...)
			default:
				dst = append(dst, "p0"...)
			}
		case partDate:
			for _, d := range pt.date {
				switch d.tok {
				case tokYear:
					y := tm.Year()
					if y < 0 || y > 9999 {
						y = 0
					}
					dst = append(dst, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10))
				case tokMonth:
					dst = append2(dst, int(tm.Month()))
				case tokDay:
					dst = append2(dst, tm.Day())
				case tokHour:
					dst = append2(dst, tm.Hour())
				case tokSep:
					dst = append(dst, d.sep)
				}
			}
		}
	}
	// A name cannot start with - _ or + (only a leading placeholder can
	// produce one: literals are checked by parseIndexTemplate). Nor may a
	// sender's value start it with '.': .kibana, .opendistro_security and
	// other hidden or system indices are the operator's to name (a literal
	// '.' in the template is kept).
	name := dst[start:]
	leadingValue := t.parts[0].kind != partLiteral
	trim := 0
	for trim < len(name) && (name[trim] == '-' || name[trim] == '_' || name[trim] == '+' || leadingValue && name[trim] == '.') {
		trim++
	}
	if trim > 0 {
		n := copy(name, name[trim:])
		dst = dst[:start+n]
		name = dst[start:]
	}
	if len(name) == 0 || string(name) == "." || string(name) == ".." {
		dst = append(dst[:start], "unknown"...)
	}
	return dst
}

func append2(dst []byte, v int) []byte {
	return append(dst, byte('0'+v/10%10), byte('0'+v%10))
}

// appendSanitized appends s made a valid part of an index name: ASCII
// letters lower-cased, the bytes OpenSearch refuses (\/*?"<>| ,#:), control
// characters and non-ASCII bytes replaced by '_', at most max bytes;
// "unknown" when s is empty.
func appendSanitized(dst []byte, s string, limit int) []byte {
	if s == "" {
		s = "unknown"
	}
	if len(s) > limit {
		s = s[:limit]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c < 0x20 || c >= 0x7f || strings.IndexByte(forbiddenIndexBytes, c) >= 0:
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// IndexName returns the index an event with source type st, priority p and
// time ns (unix nanoseconds) is written to under the index template tmpl.
// It is for tests and tools; Write caches names per batch, and first takes
// the ingest time's date for ns outside index_date_max_age/_max_future and
// "other" for a source type over max_index_source_types.
func IndexName(tmpl, st string, p pipeline.Priority, ns int64) (string, error) {
	t, err := parseIndexTemplate(tmpl)
	if err != nil {
		return "", err
	}
	return string(t.render(nil, st, p, ns)), nil
}
