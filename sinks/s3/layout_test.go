package s3

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

func TestDefaultKey(t *testing.T) {
	l, err := NewLayout(LayoutConfig{Node: "ip-10-0-0-5"})
	if err != nil {
		t.Fatal(err)
	}
	p := Partition{Priority: pipeline.P1, SourceType: "crowdstrike.falcon", Hour: HourOf(time.Date(2024, 5, 1, 13, 59, 59, 0, time.UTC).UnixNano())}
	start := time.Date(2024, 5, 1, 15, 15, 2, 999, time.FixedZone("x", 2*3600))
	got := l.Key(p, start, 42)
	want := "logs/priority=P1/source_type=crowdstrike.falcon/dt=2024-05-01/hour=13/ip-10-0-0-5-20240501T131502Z-000042.ndjson.zst"
	if got != want {
		t.Fatalf("Key =\n%s\nwant\n%s", got, want)
	}
	if got := l.Key(p, start, 1234567); !strings.HasSuffix(got, "-1234567.ndjson.zst") {
		t.Fatalf("seq past 6 digits: %s", got)
	}
	g, err := NewLayout(LayoutConfig{Node: "n", Compression: "gzip", Prefix: "a/b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Key(Partition{Priority: pipeline.PriorityNone, SourceType: "", Hour: -1}, start, 7); got != "a/b/priority=none/source_type=unknown/dt=1969-12-31/hour=23/n-20240501T131502Z-000007.ndjson.gz" {
		t.Fatalf("gzip key = %s", got)
	}
	if g.Ext() != ".ndjson.gz" || l.Ext() != ".ndjson.zst" {
		t.Fatal("Ext")
	}
}

func TestHourOf(t *testing.T) {
	for _, c := range []struct {
		ns   int64
		want int64
	}{{0, 0}, {int64(time.Hour) - 1, 0}, {int64(time.Hour), 1}, {-1, -1}, {-int64(time.Hour), -1}, {-int64(time.Hour) - 1, -2}} {
		if got := HourOf(c.ns); got != c.want {
			t.Errorf("HourOf(%d) = %d, want %d", c.ns, got, c.want)
		}
	}
}

func TestTemplateValidation(t *testing.T) {
	good := []struct{ tmpl, comp, key string }{
		{"{source_type}/{seq}", "", "src/000001.ndjson.zst"},
		{"x/{date}T{hour}/{start}.json.zst", "zstd", "x/2024-05-01T13/20240501T131502Z.json.zst"},
		{"{prefix}/{node}_{seq}.ndjson.gz", "gzip", "logs/n_000001.ndjson.gz"},
		{"y=1/a+b/{priority}-{seq}", "gzip", "y=1/a+b/P2-000001.ndjson.gz"},
	}
	p := Partition{Priority: pipeline.P2, SourceType: "src", Hour: HourOf(time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC).UnixNano())}
	start := time.Date(2024, 5, 1, 13, 15, 2, 0, time.UTC)
	for _, c := range good {
		l, err := NewLayout(LayoutConfig{KeyTemplate: c.tmpl, Compression: c.comp, Node: "n"})
		if err != nil {
			t.Errorf("%q: %v", c.tmpl, err)
			continue
		}
		if got := l.Key(p, start, 1); got != c.key {
			t.Errorf("%q: key %q, want %q", c.tmpl, got, c.key)
		}
	}
	bad := []struct{ tmpl, comp, msg string }{
		{"{prefix}/{bogus}/{seq}", "", "unknown placeholder {bogus}"},
		{"{prefix}/{source_type}", "", "must contain {seq} or {start}"},
		{"{seq}/file", "", "must contain {seq} or {start}"},
		{"/abs/{seq}", "", "relative"},
		{"a//{seq}", "", "doubled '/'"},
		{"a/{seq}/", "", "end with '/'"},
		{"../{seq}", "", "must not start with '.'"},
		{"a/./{seq}", "", "must not start with '.'"},
		{"a/.{seq}", "", "must not start with '.'"},
		{"a\\b/{seq}", "", "not allowed"},
		{"a b/{seq}", "", "not allowed"},
		{"a/{seq", "", "unclosed"},
		{"a/seq}", "", "unmatched"},
		{"a/{seq}.ndjson.gz", "zstd", "does not match the compression"},
		{"a/{seq}.ndjson.zst", "gzip", "does not match the compression"},
		{"a/{seq}", "lz4", `"compression"`},
	}
	for _, c := range bad {
		_, err := NewLayout(LayoutConfig{KeyTemplate: c.tmpl, Compression: c.comp, Node: "n"})
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%q: err = %v, want it to mention %q", c.tmpl, err, c.msg)
		}
	}
}

func TestSanitize(t *testing.T) {
	long := strings.Repeat("abc", 40)
	for _, c := range []struct{ in, want string }{
		{"crowdstrike.falcon", "crowdstrike.falcon"},
		{"../../etc/passwd", "_._._etc_passwd"},
		{"a/b\x00c", "a_b_c"},
		{"..", "_."},
		{".", "_"},
		{"", "unknown"},
		{".hidden", "_hidden"},
		{"a...b", "a.b"},
		{"ünï", "__n__"},
		{"C:\\win", "C__win"},
		{long, long[:64]},
		{"x" + strings.Repeat("/", 100), "x" + strings.Repeat("_", 63)},
	} {
		got := Sanitize(c.in)
		if got != c.want {
			t.Errorf("Sanitize(%q) = %q, want %q", c.in, got, c.want)
		}
		if len(got) > 64 || strings.ContainsAny(got, "/\\\x00") || got[0] == '.' || strings.Contains(got, "..") {
			t.Errorf("Sanitize(%q) = %q is unsafe", c.in, got)
		}
	}
	if got := sanitizePath("../a//b/..//"); got != "_./a/b/_." {
		t.Errorf("sanitizePath = %q", got)
	}
	if got := sanitizePath("///"); got != "unknown" {
		t.Errorf("sanitizePath(///) = %q", got)
	}
}

func TestKeysStayLocal(t *testing.T) {
	evil := []string{"../../etc/passwd", "a/b\x00c", "..", "/", "/etc/passwd", "..\\..\\x", "./.", "a/../../b", strings.Repeat("../", 50)}
	l, err := NewLayout(LayoutConfig{Node: "../../node", Prefix: "../../p/./.."})
	if err != nil {
		t.Fatal(err)
	}
	depth := strings.Count(l.Key(Partition{Priority: pipeline.P3, SourceType: "benign"}, time.Unix(0, 0), 1), "/")
	for _, s := range evil {
		key := l.Key(Partition{Priority: pipeline.P3, SourceType: s}, time.Unix(0, 0), 1)
		if !filepath.IsLocal(key) || strings.Contains(key, "..") || strings.Contains(key, "/.") {
			t.Errorf("source %q gives unsafe key %q", s, key)
		}
		if n := strings.Count(key, "/"); n != depth {
			t.Errorf("source %q changed the key depth: %q", s, key)
		}
	}
}

func BenchmarkSanitizeClean(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = Sanitize("crowdstrike.falcon")
	}
}
