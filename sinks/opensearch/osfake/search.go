package osfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// search serves /{index}/_search and /{index}/_count.
func (s *Server) search(w http.ResponseWriter, r *http.Request, expr string, countOnly bool) {
	raw, err := readBody(r, 10<<20)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parse_exception", err.Error())
		return
	}
	var req struct {
		Query map[string]any `json:"query"`
		Size  *int           `json:"size"`
		From  int            `json:"from"`
	}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "parsing_exception", "failed to parse the search body: "+err.Error())
			return
		}
	}
	if q := r.URL.Query().Get("q"); q != "" && req.Query == nil {
		field, value, ok := strings.Cut(q, ":")
		if !ok {
			writeError(w, http.StatusBadRequest, "parsing_exception", "osfake supports q=field:value only")
			return
		}
		req.Query = map[string]any{"match": map[string]any{field: value}}
	}
	size := 10
	if req.Size != nil {
		size = *req.Size
	}
	if v := r.URL.Query().Get("size"); v != "" {
		size, _ = strconv.Atoi(v)
	}
	q, err := compileQuery(req.Query)
	if err != nil {
		writeError(w, http.StatusBadRequest, "parsing_exception", err.Error())
		return
	}

	type hit struct {
		index, id string
		source    []byte
	}
	var hits []hit
	s.mu.Lock()
	indices, missing := s.resolveLocked(expr)
	if missing == "" {
		for _, ix := range indices {
			for id, d := range ix.docs {
				var doc any
				dec := json.NewDecoder(bytes.NewReader(d.source))
				dec.UseNumber()
				if dec.Decode(&doc) != nil {
					continue
				}
				if q(doc, id) {
					hits = append(hits, hit{ix.name, id, d.source})
				}
			}
		}
	}
	s.mu.Unlock()
	if missing != "" {
		writeError(w, http.StatusNotFound, "index_not_found_exception", "no such index ["+missing+"]", "index", missing)
		return
	}
	shards := map[string]any{"total": len(indices), "successful": len(indices), "skipped": 0, "failed": 0}
	if countOnly {
		writeJSON(w, http.StatusOK, map[string]any{"count": len(hits), "_shards": shards})
		return
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := strings.Compare(a.index, b.index); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	total := len(hits)
	page := []any{}
	for i := req.From; i < len(hits) && i < req.From+size; i++ {
		page = append(page, map[string]any{"_index": hits[i].index, "_id": hits[i].id, "_score": 1.0,
			"_source": json.RawMessage(hits[i].source)})
	}
	var maxScore any
	if total > 0 {
		maxScore = 1.0
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"took": 1, "timed_out": false, "_shards": shards,
		"hits": map[string]any{
			"total":     map[string]any{"value": total, "relation": "eq"},
			"max_score": maxScore,
			"hits":      page,
		},
	})
}

// matcher tests a decoded document (and its id).
type matcher func(doc any, id string) bool

// compileQuery turns a query DSL object into a matcher.
func compileQuery(q map[string]any) (matcher, error) {
	if len(q) == 0 {
		return func(any, string) bool { return true }, nil
	}
	if len(q) != 1 {
		return nil, fmt.Errorf("[query] must hold exactly one query, found %d", len(q))
	}
	for kind, body := range q {
		switch kind {
		case "match_all":
			return func(any, string) bool { return true }, nil
		case "term", "match", "terms", "exists":
			return compileLeaf(kind, body)
		case "ids":
			m, _ := body.(map[string]any)
			vals, _ := m["values"].([]any)
			return func(_ any, id string) bool {
				for _, v := range vals {
					if s, ok := v.(string); ok && s == id {
						return true
					}
				}
				return false
			}, nil
		case "bool":
			return compileBool(body)
		default:
			return nil, fmt.Errorf("unknown query [%s] (osfake supports match_all, term, terms, match, exists, ids, bool)", kind)
		}
	}
	panic("unreachable")
}

func compileBool(body any) (matcher, error) {
	m, ok := body.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("[bool] query malformed, no start_object after query name")
	}
	clauses := map[string][]matcher{}
	for occur, v := range m {
		switch occur {
		case "must", "filter", "should", "must_not":
		case "minimum_should_match", "boost":
			continue
		default:
			return nil, fmt.Errorf("query does not support [%s]", occur)
		}
		var list []any
		switch x := v.(type) {
		case []any:
			list = x
		case map[string]any:
			list = []any{x}
		default:
			return nil, fmt.Errorf("[bool] [%s] must be an object or an array", occur)
		}
		for _, c := range list {
			cm, ok := c.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("[bool] [%s] clause must be an object", occur)
			}
			sub, err := compileQuery(cm)
			if err != nil {
				return nil, err
			}
			clauses[occur] = append(clauses[occur], sub)
		}
	}
	return func(doc any, id string) bool {
		for _, c := range clauses["must"] {
			if !c(doc, id) {
				return false
			}
		}
		for _, c := range clauses["filter"] {
			if !c(doc, id) {
				return false
			}
		}
		for _, c := range clauses["must_not"] {
			if c(doc, id) {
				return false
			}
		}
		if should := clauses["should"]; len(should) > 0 && len(clauses["must"])+len(clauses["filter"]) == 0 {
			for _, c := range should {
				if c(doc, id) {
					return true
				}
			}
			return false
		}
		return true
	}, nil
}

func compileLeaf(kind string, body any) (matcher, error) {
	m, ok := body.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, fmt.Errorf("[%s] query malformed", kind)
	}
	if kind == "exists" {
		field, _ := m["field"].(string)
		if field == "" {
			return nil, fmt.Errorf("[exists] must be provided with a [field]")
		}
		return func(doc any, _ string) bool { return len(values(doc, field)) > 0 }, nil
	}
	if len(m) != 1 {
		return nil, fmt.Errorf("[%s] query doesn't support multiple fields", kind)
	}
	for field, v := range m {
		// {"field": {"value"|"query": x}} long form.
		if o, ok := v.(map[string]any); ok {
			switch {
			case o["value"] != nil:
				v = o["value"]
			case o["query"] != nil:
				v = o["query"]
			default:
				return nil, fmt.Errorf("[%s] query for [%s] has no value", kind, field)
			}
		}
		switch kind {
		case "term":
			want := v
			return func(doc any, _ string) bool {
				return slices.ContainsFunc(values(doc, field), func(x any) bool { return equal(x, want) })
			}, nil
		case "terms":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("[terms] query requires an array of values for [%s]", field)
			}
			return func(doc any, _ string) bool {
				for _, x := range values(doc, field) {
					for _, want := range list {
						if equal(x, want) {
							return true
						}
					}
				}
				return false
			}, nil
		case "match":
			want := tokens(fmt.Sprint(v))
			return func(doc any, _ string) bool {
				for _, x := range values(doc, field) {
					for _, t := range tokens(fmt.Sprint(x)) {
						if slices.Contains(want, t) {
							return true
						}
					}
				}
				return false
			}, nil
		}
	}
	panic("unreachable")
}

// values returns the leaf values at a dotted path (arrays flattened),
// following nested objects and keys with dots.
func values(doc any, path string) []any {
	var out []any
	var walk func(v any, p string)
	walk = func(v any, p string) {
		if arr, ok := v.([]any); ok {
			for _, x := range arr {
				walk(x, p)
			}
			return
		}
		if p == "" {
			if v != nil {
				out = append(out, v)
			}
			return
		}
		m, ok := v.(map[string]any)
		if !ok {
			return
		}
		if x, ok := m[p]; ok {
			walk(x, "")
		}
		for i := 0; i < len(p); i++ {
			if p[i] == '.' {
				if x, ok := m[p[:i]]; ok {
					walk(x, p[i+1:])
				}
			}
		}
	}
	walk(doc, path)
	return out
}

// equal compares a document value with a query value: strings exactly,
// numbers numerically, booleans.
func equal(a, b any) bool {
	fa, oka := number(a)
	fb, okb := number(b)
	if oka && okb {
		return fa == fb
	}
	switch x := a.(type) {
	case string:
		switch y := b.(type) {
		case string:
			return x == y
		case json.Number:
			return x == y.String()
		case bool:
			return x == strconv.FormatBool(y)
		}
	case bool:
		switch y := b.(type) {
		case bool:
			return x == y
		case string:
			return strconv.FormatBool(x) == y
		}
	}
	return false
}

func number(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	}
	return 0, false
}

// tokens is a crude standard analyzer: lower-cased runs of letters and
// digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}
