package s3

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// maxS3Key is S3's limit on the length of an object key, in bytes.
const maxS3Key = 1024

// fuzzTemplates are the key templates FuzzKeyLayout picks from; index
// len(fuzzTemplates) means the fuzzed template itself.
var fuzzTemplates = []string{
	"", // DefaultKeyTemplate
	"{prefix}/{priority}/{source_type}/{date}/{hour}/{node}-{start}-{seq}",
	"{prefix}/source_type={source_type}/{node}-{start}-{seq}.ndjson.zst",
	"{prefix}/{source_type}.{priority}/{date}T{hour}/{node}_{seq}",
	"{prefix}/{source_type}-{source_type}/{seq}",
	"{source_type}/{seq}",
	"x/{date}T{hour}/{start}.json.zst",
	"y=1/a+b/{priority}-{seq}",
}

// FuzzKeyLayout renders object keys from fuzzed event data (source type,
// priority, event time) and object data (start time, sequence), under
// fuzzed prefixes, nodes and templates, and checks that every key is a safe
// S3 key inside the archive: relative, '/'-separated segments of
// [A-Za-z0-9._=+-] only (so no NUL, control character, backslash or
// space), no empty, "." or ".." segment, no segment starting with '.',
// starting with the sanitized prefix and '/', with the layout's extension,
// taken by the S3 uploader (validKey), and no longer than S3's 1024 bytes
// for the built-in templates under a prefix of up to 256 bytes. The source type reaches the key only through
// Sanitize: two source types that differ only in unsafe bytes may give the
// same key, but neither escapes. With the default template the key parses
// back into its documented fields and has no ".." anywhere.
func FuzzKeyLayout(f *testing.F) {
	t0 := time.Date(2024, 5, 1, 13, 15, 2, 0, time.UTC).UnixNano()
	for _, s := range []struct {
		prefix, node, tmpl string
		sel                uint8
		st                 string
		prio               uint8
		evTime             int64
	}{
		{"logs", "ip-10-0-0-5", "", 0, "crowdstrike.falcon", 1, t0},
		{"", "", "", 0, "", 0, 0},
		{"a/b", "n", "", 0, "aws.cloudtrail", 3, -1},
		{"../../p/./..", "../../node", "", 0, "../../etc/passwd", 2, t0},
		{"//x//", "a b", "", 1, "..", 9, -int64(time.Hour) - 1},
		{"logs", "n", "", 2, "a/b\x00c\\d", 1, 1 << 62},
		{"logs", "n", "", 3, "trailing.", 1, -1 << 63},
		{"logs", "n", "", 4, strings.Repeat("x", 200), 1, 1<<63 - 1},
		{"p", "n", "", 5, "..\\..\\x", 2, t0},
		{"p", "n", "", 6, "\r\n\t", 3, t0},
		{"p", "n", "", 7, "ünï", 3, t0},
		{"q", "n", "{prefix}/{source_type}/{node}.{seq}", 8, "./.", 1, t0},
		{"q", "n", "{node}{source_type}{priority}{seq}.ndjson.gz", 8, ".", 1, t0},
		{"q", "", "a/{start}", 8, "x", 1, t0},
		{"q", "n", "../{seq}", 8, "x", 1, t0},
	} {
		f.Add(s.prefix, s.node, s.tmpl, s.sel, s.st, s.prio, s.evTime, t0, uint64(42), false)
		f.Add(s.prefix, s.node, s.tmpl, s.sel, s.st, s.prio, s.evTime, s.evTime, uint64(1234567), true)
	}
	f.Fuzz(func(t *testing.T, prefix, node, tmpl string, sel uint8, st string, prio uint8, evTime, startNs int64, seq uint64, gzip bool) {
		if node == "" {
			node = "n" // not os.Hostname: keep runs reproducible
		}
		idx := int(sel) % (len(fuzzTemplates) + 1)
		builtin := idx < len(fuzzTemplates)
		if builtin {
			tmpl = fuzzTemplates[idx]
		}
		comp := CompressionZstd
		if gzip {
			comp = CompressionGzip
		}
		l, err := NewLayout(LayoutConfig{Prefix: prefix, Node: node, KeyTemplate: tmpl, Compression: comp})
		if err != nil {
			if builtin && !strings.HasSuffix(tmpl, ".zst") {
				t.Fatalf("built-in template %q refused: %v", tmpl, err)
			}
			return
		}
		p := Partition{Priority: pipeline.Priority(prio), SourceType: st, Hour: HourOf(evTime)}
		start := time.Unix(0, startNs)
		key := l.Key(p, start, seq)
		where := func() string {
			return "prefix " + strconv.Quote(prefix) + " node " + strconv.Quote(node) + " template " + strconv.Quote(tmpl) +
				" source " + strconv.Quote(st) + ": key " + strconv.Quote(key)
		}

		// Sanitize: safe, bounded, idempotent, clean values kept.
		san := Sanitize(st)
		if err := checkSegment(san, false); err != nil || len(san) > maxValueLen || strings.Contains(san, "..") {
			t.Fatalf("Sanitize(%q) = %q: unsafe (%v)", st, san, err)
		}
		if Sanitize(san) != san {
			t.Fatalf("Sanitize not idempotent: %q -> %q -> %q", st, san, Sanitize(san))
		}
		if isClean(st) && san != st {
			t.Fatalf("Sanitize changed clean %q to %q", st, san)
		}

		// The key is a safe relative path of safe segments.
		if key == "" || key[0] == '/' || strings.HasSuffix(key, "/") || strings.Contains(key, "//") {
			t.Fatalf("%s: not a relative path of non-empty segments", where())
		}
		for seg := range strings.SplitSeq(key, "/") {
			if err := checkSegment(seg, true); err != nil {
				t.Fatalf("%s: segment %q: %v", where(), seg, err)
			}
		}
		if !filepath.IsLocal(filepath.FromSlash(key)) {
			t.Fatalf("%s: not local", where())
		}
		ext := l.Ext()
		if !strings.HasSuffix(key, ext[strings.LastIndexByte(ext, '.'):]) {
			t.Fatalf("%s: does not end with the compression's extension %q", where(), ext)
		}
		// The S3 uploader takes every key the layout renders, whatever
		// extension the template ends with.
		if !validKey(key) && len(key) <= maxS3Key {
			t.Fatalf("%s: refused by the S3 uploader's validKey", where())
		}
		if !strings.HasPrefix(key, l.staticPrefix()) {
			t.Fatalf("%s: does not start with the static prefix %q", where(), l.staticPrefix())
		}
		wantPrefix := DefaultPrefix
		if prefix != "" {
			wantPrefix = sanitizePath(prefix)
		}
		if strings.HasPrefix(tmpl, "{prefix}/") || tmpl == "" {
			if !strings.HasPrefix(key, wantPrefix+"/") {
				t.Fatalf("%s: does not start with the prefix %q", where(), wantPrefix+"/")
			}
			if cleanPath(prefix) && !strings.HasPrefix(key, prefix+"/") {
				t.Fatalf("%s: does not start with the configured clean prefix", where())
			}
		}
		// Event data is bounded: sanitized values are at most 64 bytes
		// (source types 200).
		if bound := keyBound(l); len(key) > bound {
			t.Fatalf("%s: %d bytes, more than the template allows (%d)", where(), len(key), bound)
		}
		if builtin && len(prefix) <= 256 && len(key) > maxS3Key {
			t.Fatalf("%s: %d bytes, over S3's limit of %d", where(), len(key), maxS3Key)
		}

		// The source type counts only through its sanitized form (cut at
		// maxSourceTypeLen, or less where its segment holds more).
		sst := string(appendSanitized(nil, st, maxSourceTypeLen))
		if err := checkSegment(sst, false); err != nil || len(sst) > maxSourceTypeLen || strings.Contains(sst, "..") {
			t.Fatalf("sanitized source type %q = %q (%v)", st, sst, err)
		}
		if k2 := l.Key(Partition{Priority: p.Priority, SourceType: sst, Hour: p.Hour}, start, seq); k2 != key {
			t.Fatalf("%s: the sanitized source type %q gives another key %q", where(), sst, k2)
		}

		// The default template parses back into its fields.
		if tmpl == "" {
			if strings.Contains(key, "..") {
				t.Fatalf("%s: contains \"..\"", where())
			}
			segs := strings.Split(key, "/")
			np := strings.Count(wantPrefix, "/") + 1
			if len(segs) != np+5 {
				t.Fatalf("%s: %d segments, want %d", where(), len(segs), np+5)
			}
			ht := HourTime(p.Hour)
			name := l.Node() + "-" + start.UTC().Format(StartLayout) + "-" + pad6(seq) + ext
			want := []string{"priority=" + p.Priority.String(), "source_type=" + sst,
				"dt=" + ht.Format("2006-01-02"), "hour=" + ht.Format("15"), name}
			for i, w := range want {
				if segs[np+i] != w {
					t.Fatalf("%s: segment %d is %q, want %q", where(), np+i, segs[np+i], w)
				}
			}
			if strings.Join(segs[:np], "/") != wantPrefix {
				t.Fatalf("%s: prefix segments %q, want %q", where(), segs[:np], wantPrefix)
			}
		}
	})
}

// checkSegment checks one key segment (or a sanitized value, which must
// not contain '/' nor '=' '+'): non-empty, not starting with '.', made of
// [A-Za-z0-9._-] (plus '=' and '+' in keys).
func checkSegment(s string, inKey bool) error {
	if s == "" {
		return errString("empty")
	}
	if s[0] == '.' {
		return errString("starts with '.'")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		case inKey && (c == '=' || c == '+'):
		default:
			return errString("byte " + strconv.QuoteRune(rune(c)) + " not allowed")
		}
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

// cleanPath reports whether sanitizePath leaves p as it is.
func cleanPath(p string) bool {
	if p == "" {
		return false
	}
	for s := range strings.SplitSeq(p, "/") {
		if !isClean(s) {
			return false
		}
	}
	return true
}

func pad6(seq uint64) string {
	s := strconv.FormatUint(seq, 10)
	for len(s) < 6 {
		s = "0" + s
	}
	return s
}

// keyBound is the longest key l can render: literals, prefix and node as
// they are, and the longest value of each other placeholder.
func keyBound(l *Layout) int {
	n := 0
	for _, pt := range l.parts {
		switch pt.ph {
		case literal:
			n += len(pt.lit)
		case phPrefix:
			n += len(l.prefix)
		case phNode:
			n += len(l.node)
		case phPriority:
			n += len("none")
		case phSourceType:
			n += maxSourceTypeLen
		case phDate:
			n += len("-292277026596-12-04") // HourTime's range
		case phHour:
			n += 2
		case phStart:
			n += len("-292277026596" + "1204T155431Z")
		case phSeq:
			n += 20
		}
	}
	return n
}
