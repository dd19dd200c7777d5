package osfake

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fastjson"
)

// index is one stored index.
type index struct {
	name   string
	docs   map[string]*doc
	fields map[string]fieldMapping
	seqNo  int64
}

type doc struct {
	source  []byte
	version int64
	seqNo   int64
}

// fieldMapping is the mapped type of one field.
type fieldMapping struct {
	typ             string
	ignoreMalformed bool
}

type indexTemplate struct {
	raw      []byte
	patterns []string
	priority int
	fields   map[string]fieldMapping
}

// parseTemplate reads a composable index template body.
func parseTemplate(raw []byte) (*indexTemplate, error) {
	var body struct {
		IndexPatterns json.RawMessage `json:"index_patterns"`
		Priority      int             `json:"priority"`
		Template      struct {
			Mappings map[string]any `json:"mappings"`
		} `json:"template"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, errors.New("failed to parse the template: " + err.Error())
	}
	t := &indexTemplate{raw: raw, priority: body.Priority, fields: map[string]fieldMapping{}}
	var one string
	if err := json.Unmarshal(body.IndexPatterns, &one); err == nil {
		t.patterns = []string{one}
	} else if err := json.Unmarshal(body.IndexPatterns, &t.patterns); err != nil || len(t.patterns) == 0 {
		return nil, errors.New("index patterns are missing")
	}
	flattenMapping(body.Template.Mappings, "", t.fields)
	return t, nil
}

// flattenMapping collects the typed fields of a mappings object ({"properties":
// {...}}) into out, keyed by dotted path.
func flattenMapping(m map[string]any, prefix string, out map[string]fieldMapping) {
	props, _ := m["properties"].(map[string]any)
	for name, v := range props {
		fm, _ := v.(map[string]any)
		if fm == nil {
			continue
		}
		p := prefix + name
		if typ, ok := fm["type"].(string); ok && typ != "object" && typ != "nested" {
			im, _ := fm["ignore_malformed"].(bool)
			out[p] = fieldMapping{typ: typ, ignoreMalformed: im}
			continue
		}
		flattenMapping(fm, p+".", out)
	}
}

func (ix *index) mappingsJSON() map[string]any {
	props := map[string]any{}
	for p, f := range ix.fields {
		props[p] = map[string]any{"type": f.typ}
	}
	return map[string]any{"properties": props}
}

// createIndexLocked creates an index with the field types of the matching
// template of highest priority.
func (s *Server) createIndexLocked(name string) *index {
	ix := &index{name: name, docs: map[string]*doc{}, fields: map[string]fieldMapping{}}
	var best *indexTemplate
	for _, t := range s.templates {
		for _, p := range t.patterns {
			if ok, _ := path.Match(p, name); ok && (best == nil || t.priority > best.priority) {
				best = t
			}
		}
	}
	if best != nil {
		for k, v := range best.fields {
			ix.fields[k] = v
		}
	}
	s.indices[name] = ix
	return ix
}

// resolveLocked expands an index expression (comma-separated names with *
// wildcards, or _all) into indices; missing is the first concrete name that
// does not exist.
func (s *Server) resolveLocked(expr string) (out []*index, missing string) {
	seen := map[string]bool{}
	for _, part := range strings.Split(expr, ",") {
		if part == "_all" || part == "*" || strings.ContainsAny(part, "*?") {
			if part == "_all" {
				part = "*"
			}
			for n, ix := range s.indices {
				if ok, _ := path.Match(part, n); ok && !seen[n] {
					seen[n] = true
					out = append(out, ix)
				}
			}
			continue
		}
		ix := s.indices[part]
		if ix == nil {
			if missing == "" {
				missing = part
			}
			continue
		}
		if !seen[part] {
			seen[part] = true
			out = append(out, ix)
		}
	}
	return out, missing
}

// lookup returns the value at a dotted path, following both nested objects
// and keys that contain dots.
func lookup(v *fastjson.Value, p string) *fastjson.Value {
	if v == nil {
		return nil
	}
	if v.Type() != fastjson.TypeObject {
		return nil
	}
	o, _ := v.Object()
	if x := o.Get(p); x != nil {
		return x
	}
	for i := 0; i < len(p); i++ {
		if p[i] != '.' {
			continue
		}
		if x := o.Get(p[:i]); x != nil {
			if r := lookup(x, p[i+1:]); r != nil {
				return r
			}
		}
	}
	return nil
}

// checkType reports whether v fits a field of type typ ("" when it does,
// else OpenSearch's cause type and reason).
func checkType(v *fastjson.Value, typ string) (causeType, reason string) {
	if v.Type() == fastjson.TypeNull {
		return "", ""
	}
	if v.Type() == fastjson.TypeArray {
		a, _ := v.Array()
		for _, x := range a {
			if ct, r := checkType(x, typ); ct != "" {
				return ct, r
			}
		}
		return "", ""
	}
	isObj := v.Type() == fastjson.TypeObject
	str := ""
	if v.Type() == fastjson.TypeString {
		str = string(v.GetStringBytes())
	}
	num := v.Type() == fastjson.TypeNumber
	switch typ {
	case "keyword", "text", "match_only_text", "wildcard":
		if isObj {
			return "illegal_state_exception", "Can't get text on a START_OBJECT"
		}
	case "integer", "long", "short", "byte":
		if isObj {
			return "illegal_state_exception", "Can't get text on a START_OBJECT"
		}
		s := str
		if num {
			s = v.String()
		}
		if v.Type() == fastjson.TypeTrue || v.Type() == fastjson.TypeFalse {
			return "illegal_argument_exception", "Current token (VALUE_" + strings.ToUpper(v.String()) + ") not numeric, can not use numeric value accessors"
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return "number_format_exception", "For input string: \"" + s + "\""
		}
		lim := map[string]float64{"integer": 1 << 31, "long": 1 << 63, "short": 1 << 15, "byte": 1 << 7}[typ]
		if f >= lim || f < -lim {
			return "illegal_argument_exception", "Value [" + s + "] is out of range for " + typ
		}
	case "float", "double", "half_float", "scaled_float":
		if isObj {
			return "illegal_state_exception", "Can't get text on a START_OBJECT"
		}
		if !num {
			if _, err := strconv.ParseFloat(strings.TrimSpace(str), 64); err != nil {
				return "number_format_exception", "For input string: \"" + str + "\""
			}
		}
	case "boolean":
		if v.Type() == fastjson.TypeTrue || v.Type() == fastjson.TypeFalse {
			return "", ""
		}
		if str != "true" && str != "false" && str != "" {
			return "illegal_argument_exception", "Failed to parse value [" + str + "] as only [true] or [false] are allowed."
		}
		if isObj || num {
			return "illegal_argument_exception", "Failed to parse value as only [true] or [false] are allowed."
		}
	case "ip":
		if v.Type() != fastjson.TypeString {
			return "illegal_argument_exception", "'" + v.String() + "' is not an IP string literal."
		}
		if _, err := netip.ParseAddr(str); err != nil {
			return "illegal_argument_exception", "'" + str + "' is not an IP string literal."
		}
	case "date", "date_nanos":
		if num {
			return "", ""
		}
		if v.Type() != fastjson.TypeString || !parseDate(str) {
			return "illegal_argument_exception", "failed to parse date field [" + strings.Trim(v.String(), `"`) + "] with format [strict_date_optional_time||epoch_millis]"
		}
	}
	return "", ""
}

// parseDate accepts what strict_date_optional_time||epoch_millis accepts,
// approximately.
func parseDate(s string) bool {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02", "2006-01", "2006"} {
		if _, err := time.Parse(layout, s); err == nil {
			return true
		}
	}
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// readBody reads a request body (decoding gzip), up to limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errors.New("request body too large")
	}
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		return gunzip(b, limit)
	}
	return b, nil
}

func itoa(n int) string { return strconv.Itoa(n) }
