package osfake

import (
	"net/http"
	"path"
	"strings"

	"github.com/valyala/fastjson"
)

// FilterPath is OpenSearch's response filtering, the filter_path query
// parameter every REST endpoint takes: a comma-separated list of dotted
// field paths whose segments may hold * wildcards ("items.*.status"), a
// segment ** standing for any number of levels, and paths prefixed with -
// excluded. Arrays are transparent: a path goes through an array into each
// of its elements. What no inclusion names is left out, and so are objects
// and arrays left empty by the filtering (an array element too: a filter
// that names a field some items lack shortens the items array, which is
// why bulk clients always include items.*.status). OpenSearch filters
// successful answers only; an error document is sent whole.
type FilterPath struct {
	inc, exc [][]string
}

// ParseFilterPath parses a filter_path value; nil when it names nothing
// (the whole answer is sent).
func ParseFilterPath(s string) *FilterPath {
	f := &FilterPath{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		exclude := strings.HasPrefix(p, "-")
		p = strings.TrimPrefix(p, "-")
		if p == "" {
			continue
		}
		segs := strings.Split(p, ".")
		if exclude {
			f.exc = append(f.exc, segs)
		} else {
			f.inc = append(f.inc, segs)
		}
	}
	if len(f.inc) == 0 && len(f.exc) == 0 {
		return nil
	}
	return f
}

// pos is a position in one pattern: the segments before seg matched.
type pos struct{ pat, seg int }

func advance(pats [][]string, in []pos, key string) []pos {
	var out []pos
	var step func(p pos)
	step = func(p pos) {
		if p.seg == len(pats[p.pat]) {
			return
		}
		seg := pats[p.pat][p.seg]
		if seg == "**" {
			out = append(out, p)        // ** takes this level and stays
			step(pos{p.pat, p.seg + 1}) // or stands for no level at all
			return
		}
		if ok, _ := path.Match(seg, key); ok || seg == key {
			out = append(out, pos{p.pat, p.seg + 1})
		}
	}
	for _, p := range in {
		step(p)
	}
	return out
}

func complete(pats [][]string, ps []pos) bool {
	for _, p := range ps {
		rest := pats[p.pat][p.seg:]
		for len(rest) > 0 && rest[0] == "**" {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			return true
		}
	}
	return false
}

// Keeps reports whether the value at keys (array levels left out, as
// filter_path writes them) is in the filtered answer, assuming it is a
// scalar or holds something: for writers that build answers by hand.
func (f *FilterPath) Keeps(keys ...string) bool {
	if f == nil {
		return true
	}
	inc, exc := f.start()
	for _, k := range keys {
		inc, exc = advance(f.inc, inc, k), advance(f.exc, exc, k)
		if complete(f.exc, exc) {
			return false
		}
	}
	return len(f.inc) == 0 || complete(f.inc, inc)
}

func (f *FilterPath) start() (inc, exc []pos) {
	for i := range f.inc {
		inc = append(inc, pos{i, 0})
	}
	for i := range f.exc {
		exc = append(exc, pos{i, 0})
	}
	return inc, exc
}

// Apply filters a JSON answer. A body that is not JSON is returned as it is.
func (f *FilterPath) Apply(body []byte) []byte {
	if f == nil {
		return body
	}
	var p fastjson.Parser
	v, err := p.ParseBytes(body)
	if err != nil {
		return body
	}
	inc, exc := f.start()
	out, ok := f.value(nil, v, inc, exc, len(f.inc) == 0)
	if !ok {
		return []byte("{}")
	}
	return out
}

// value appends v as filtered to dst; ok is false when nothing of it is
// kept. all: an inclusion already matched all of v.
func (f *FilterPath) value(dst []byte, v *fastjson.Value, inc, exc []pos, all bool) ([]byte, bool) {
	if complete(f.exc, exc) {
		return dst, false
	}
	all = all || complete(f.inc, inc)
	if !all && len(inc) == 0 {
		return dst, false
	}
	switch v.Type() {
	case fastjson.TypeObject:
		o, _ := v.Object()
		mark := len(dst)
		dst = append(dst, '{')
		n := 0
		o.Visit(func(k []byte, c *fastjson.Value) {
			key := string(k)
			at := len(dst)
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, key)
			dst = append(dst, ':')
			var ok bool
			dst, ok = f.value(dst, c, advance(f.inc, inc, key), advance(f.exc, exc, key), all)
			if !ok {
				dst = dst[:at]
				return
			}
			n++
		})
		if n == 0 && !(all && o.Len() == 0) {
			return dst[:mark], false
		}
		return append(dst, '}'), true
	case fastjson.TypeArray:
		a, _ := v.Array()
		mark := len(dst)
		dst = append(dst, '[')
		n := 0
		for _, c := range a {
			at := len(dst)
			if n > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			dst, ok = f.value(dst, c, inc, exc, all)
			if !ok {
				dst = dst[:at]
				continue
			}
			n++
		}
		if n == 0 && !(all && len(a) == 0) {
			return dst[:mark], false
		}
		return append(dst, ']'), true
	default:
		if !all {
			return dst, false
		}
		return v.MarshalTo(dst), true
	}
}

// filterWriter holds an answer back until the handler returns, then sends
// it filtered (2xx) or whole (an error document).
type filterWriter struct {
	http.ResponseWriter
	f      *FilterPath
	status int
	buf    []byte
}

func (w *filterWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *filterWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.buf = append(w.buf, b...)
	return len(b), nil
}

func (w *filterWriter) finish() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	body := w.buf
	if w.status >= 200 && w.status < 300 && len(body) > 0 {
		body = w.f.Apply(body)
	}
	w.ResponseWriter.Header().Del("Content-Length")
	w.ResponseWriter.WriteHeader(w.status)
	_, _ = w.ResponseWriter.Write(body)
}
