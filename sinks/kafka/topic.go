package kafka

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/logrouter/logrouter/internal/kafkacfg"
	"github.com/logrouter/logrouter/pipeline"
)

// maxSourceTypeLen bounds a sanitized {source_type}.
const maxSourceTypeLen = 200

// maxCachedTopics bounds the sink-wide cache of rendered topic names. Source
// types are interned (and bounded) by the normalizer, so this is only reached
// with a pathological variety; past it, names are rendered once per batch.
const maxCachedTopics = 1024

type placeholder uint8

const (
	literal placeholder = iota
	phPriority
	phSourceType
)

type topicPart struct {
	ph  placeholder
	lit string
}

// topicTemplate renders topic names. It is safe for concurrent use.
type topicTemplate struct {
	parts   []topicPart
	fixed   string // the name when the template has no placeholder
	perPrio bool   // only {priority}: byPrio holds every name
	byPrio  [pipeline.NumPriorities]string

	cache  sync.Map // topicKey -> string
	cached atomic.Int32
}

type topicKey struct {
	prio pipeline.Priority
	src  string
}

// parseTopic validates the "topic" setting and compiles it.
func parseTopic(t string) (*topicTemplate, error) {
	bad := func(format string, args ...any) (*topicTemplate, error) {
		return nil, fmt.Errorf(`"topic" %q: `+format, append([]any{t}, args...)...)
	}
	if strings.TrimSpace(t) == "" {
		return nil, fmt.Errorf(`"topic" is required: set it to a topic name or a template such as "logs-{priority}"`)
	}
	tt := &topicTemplate{}
	maxLen := 0
	for s := t; s != ""; {
		i := strings.IndexAny(s, "{}")
		if i < 0 {
			i = len(s)
		}
		if i > 0 {
			lit := s[:i]
			for j := 0; j < len(lit); j++ {
				if !kafkacfg.TopicByte(lit[j]) {
					return bad("Kafka topic names allow only A-Z, a-z, 0-9, '.', '_' and '-', not %q", lit[j])
				}
			}
			tt.parts = append(tt.parts, topicPart{lit: lit})
			maxLen += len(lit)
			s = s[i:]
			continue
		}
		if s[0] == '}' {
			return bad("unmatched '}'")
		}
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return bad("unmatched '{'")
		}
		switch name := s[1:end]; name {
		case "priority":
			tt.parts = append(tt.parts, topicPart{ph: phPriority})
			maxLen += len("none")
		case "source_type":
			tt.parts = append(tt.parts, topicPart{ph: phSourceType})
			maxLen += maxSourceTypeLen
		default:
			return bad("unknown placeholder {%s}: use {priority} or {source_type}", name)
		}
		s = s[end+1:]
	}
	if maxLen > kafkacfg.MaxTopicLen {
		return bad("names can reach %d bytes, Kafka allows %d ({source_type} takes up to %d): shorten the fixed part", maxLen, kafkacfg.MaxTopicLen, maxSourceTypeLen)
	}
	if tt.parts[0].ph == phSourceType {
		// Senders choose source types (HEC sourcetype, event.dataset): a
		// name that starts with one is any topic of the cluster
		// (__consumer_offsets, the router's own input topic, another
		// team's).
		return bad("a template cannot start with {source_type}, which senders choose (they could name any topic of the cluster): start it with a fixed prefix, such as \"logs.{source_type}\"")
	}
	hasSrc := false
	hasPrio := false
	for _, p := range tt.parts {
		hasSrc = hasSrc || p.ph == phSourceType
		hasPrio = hasPrio || p.ph == phPriority
	}
	switch {
	case !hasSrc && !hasPrio:
		if t == "." || t == ".." {
			return bad(`"." and ".." are not valid Kafka topic names`)
		}
		tt.fixed = t
	case !hasSrc:
		tt.perPrio = true
		for p := range tt.byPrio {
			tt.byPrio[p] = tt.render(nil, pipeline.Priority(p), "")
		}
	}
	return tt, nil
}

// lookup returns the topic of events with priority p and source type src,
// rendering it at most once per sink (up to maxCachedTopics names).
// ok is false when the name was not cached and was not rendered because
// the cache is full; the caller then renders it with render.
func (t *topicTemplate) lookup(p pipeline.Priority, src string) (string, bool) {
	if t.fixed != "" {
		return t.fixed, true
	}
	if t.perPrio {
		if int(p) < len(t.byPrio) {
			return t.byPrio[p], true
		}
		return t.byPrio[pipeline.PriorityNone], true
	}
	k := topicKey{p, src}
	if v, ok := t.cache.Load(k); ok {
		return v.(string), true
	}
	if t.cached.Load() >= maxCachedTopics {
		return "", false
	}
	name := t.render(nil, p, src)
	if _, loaded := t.cache.LoadOrStore(k, name); !loaded {
		t.cached.Add(1)
	}
	return name, true
}

// render builds the topic name for p and src.
func (t *topicTemplate) render(b []byte, p pipeline.Priority, src string) string {
	for _, pt := range t.parts {
		switch pt.ph {
		case literal:
			b = append(b, pt.lit...)
		case phPriority:
			b = append(b, priorityLower(p)...)
		case phSourceType:
			b = appendSanitized(b, src)
		}
	}
	if s := string(b); s != "." && s != ".." {
		return s
	}
	return strings.Repeat("_", len(b)) // only a template of just {source_type} can get here
}

func priorityLower(p pipeline.Priority) string {
	switch p {
	case pipeline.P1:
		return "p1"
	case pipeline.P2:
		return "p2"
	case pipeline.P3:
		return "p3"
	}
	return "none"
}

// appendSanitized appends src with bytes outside [A-Za-z0-9._-] replaced by
// '_', cut to maxSourceTypeLen bytes; an empty src becomes "unknown".
func appendSanitized(b []byte, src string) []byte {
	if src == "" {
		return append(b, "unknown"...)
	}
	for i := 0; i < len(src) && i < maxSourceTypeLen; i++ {
		c := src[i]
		if !kafkacfg.TopicByte(c) {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}
