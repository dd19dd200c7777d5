package s3

// Fault tests from a review of the DDL against Athena and the key layout:
// each failed before its fix (the comments describe what was found).

// Review tests: the Athena DDL (ddl.go) against the keys the writer renders
// and the JSON the normalizer writes. Each test states the behaviour Athena
// needs; each fails on the mismatch it names and passes once it is fixed,
// whichever side (DDL or writer) the fix is made on.

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// reviewTBLProps returns the 'key'='value' pairs of a DDL statement
// (TBLPROPERTIES and SERDEPROPERTIES alike).
func reviewTBLProps(ddl string) map[string]string {
	m := map[string]string{}
	for _, s := range regexp.MustCompile(`'([^']+)'='([^']*)'`).FindAllStringSubmatch(ddl, -1) {
		m[s[1]] = s[2]
	}
	return m
}

// reviewColumns returns the data columns (name -> Hive type) of the
// CREATE EXTERNAL TABLE statement, in order.
func reviewColumns(t *testing.T, ddl string) (names []string, types map[string]string) {
	t.Helper()
	start := strings.Index(ddl, "CREATE EXTERNAL TABLE")
	if start < 0 {
		t.Fatalf("no CREATE EXTERNAL TABLE in:\n%s", ddl)
	}
	body := ddl[start:]
	body = body[strings.Index(body, "(\n")+2:]
	body = body[:strings.Index(body, "\n)")]
	types = map[string]string{}
	for _, line := range strings.Split(body, "\n") {
		m := regexp.MustCompile("^\\s*`([^`]+)`\\s+(.+?),?$").FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("cannot parse column line %q", line)
		}
		names = append(names, m[1])
		types[m[1]] = m[2]
	}
	return names, types
}

// reviewProjectedDates evaluates a date projection's range the way Athena
// does at query time now (UTC; NOW, NOW-nUNIT, NOW+nUNIT or a fixed date in
// the projection's format) and returns its first and last dates as
// yyyy-MM-dd.
func reviewProjectedDates(t *testing.T, props map[string]string, col string, now time.Time) (first, last string) {
	t.Helper()
	if got := props["projection."+col+".type"]; got != "date" {
		t.Fatalf("projection.%s.type = %q, want date", col, got)
	}
	if got := props["projection."+col+".format"]; got != "yyyy-MM-dd" {
		t.Fatalf("projection.%s.format = %q; this test only evaluates yyyy-MM-dd", col, got)
	}
	rng := strings.Split(props["projection."+col+".range"], ",")
	if len(rng) != 2 {
		t.Fatalf("projection.%s.range = %q", col, props["projection."+col+".range"])
	}
	eval := func(s string) string {
		s = strings.TrimSpace(s)
		if d, err := time.Parse("2006-01-02", s); err == nil {
			return d.Format("2006-01-02")
		}
		m := regexp.MustCompile(`^NOW(?:([+-])(\d+)(YEARS?|MONTHS?|WEEKS?|DAYS?|HOURS?|MINUTES?|SECONDS?))?$`).FindStringSubmatch(s)
		if m == nil {
			t.Fatalf("cannot evaluate range bound %q", s)
		}
		tm := now.UTC()
		if m[1] != "" {
			n, _ := strconv.Atoi(m[2])
			if m[1] == "-" {
				n = -n
			}
			switch strings.TrimSuffix(m[3], "S") {
			case "YEAR":
				tm = tm.AddDate(n, 0, 0)
			case "MONTH":
				tm = tm.AddDate(0, n, 0)
			case "WEEK":
				tm = tm.AddDate(0, 0, 7*n)
			case "DAY":
				tm = tm.AddDate(0, 0, n)
			case "HOUR":
				tm = tm.Add(time.Duration(n) * time.Hour)
			case "MINUTE":
				tm = tm.Add(time.Duration(n) * time.Minute)
			case "SECOND":
				tm = tm.Add(time.Duration(n) * time.Second)
			}
		}
		return tm.Format("2006-01-02")
	}
	return eval(rng[0]), eval(rng[1])
}

var reviewDt = regexp.MustCompile(`/dt=(\d{4}-\d{2}-\d{2})/`)

// TestDDLDateRangeCoversRetention: the table must be able to read every
// object the configuration keeps. With Object Lock retention of 7 years
// (2555 days, a common compliance period), an object written 6 years ago is
// still in the bucket and must be queryable: its dt (the UTC date the
// writer rendered) must lie inside the projected dt range. Athena generates
// no partition outside 'projection.dt.range' (dates before its start are
// ignored, see "How to use the date type" in the Athena guide), and ddl.go
// hard-codes 'NOW-5YEARS,NOW', so years 6 and 7 of the retained archive can
// never be queried.
func TestDDLDateRangeCoversRetention(t *testing.T) {
	cfg := S3Config{Bucket: "acme-security-archive", StagingDir: "/var/lib/logrouter/s3", Node: "node1",
		ObjectLock: ObjectLockConfig{Mode: ObjectLockCompliance, RetainDays: 2555}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	written := now.AddDate(-6, 0, 0) // still retained: 6 years < 2555 days
	if written.AddDate(0, 0, cfg.ObjectLock.RetainDays).Before(now) {
		t.Fatal("test setup: the object is no longer retained")
	}
	l, err := NewLayout(cfg.Layout())
	if err != nil {
		t.Fatal(err)
	}
	key := l.Key(Partition{Priority: pipeline.P1, SourceType: "crowdstrike.falcon", Hour: HourOf(written.UnixNano())}, written, 1)
	dt := reviewDt.FindStringSubmatch(key)[1]

	ddl := DDL(cfg, "security.logrouter_archive")
	first, last := reviewProjectedDates(t, reviewTBLProps(ddl), "dt", now)
	if dt < first || dt > last {
		t.Errorf("object %s (written %s, retained %d days by Object Lock) has dt=%s, outside the projected dt range %s..%s ('projection.dt.range'='%s'): Athena never reads it",
			key, written.Format("2006-01-02"), cfg.ObjectLock.RetainDays, dt, first, last, reviewTBLProps(ddl)["projection.dt.range"])
	}
}

// TestDDLDateRangeCoversEventDatedKeys: with the default time_source
// "event" the writer dates keys by the event's own time, unbounded (unlike
// the OpenSearch sink, which has index_date_max_age/max_future). Every key
// the writer produces must be inside the projected dt range when it is
// queried (now): a backfilled or mis-dated event 6 years old, or one from a
// clock 36 hours fast, is written under a dt that 'NOW-5YEARS,NOW' never
// generates, so it is missing from every query (the old one forever, the
// future one until its date arrives). Fixed either by clamping the key date
// in the writer or by projecting the dates the writer can render.
func TestDDLDateRangeCoversEventDatedKeys(t *testing.T) {
	now := time.Now().UTC()
	a := newArchive(t, Config{}) // real clock, time_source: event
	write(t, a, mkBatch(now,
		ev{`{"n":"old"}`, pipeline.P1, "fw", now.AddDate(-6, 0, 0)},
		ev{`{"n":"fast clock"}`, pipeline.P1, "fw", now.Add(36 * time.Hour)},
		ev{`{"n":"now"}`, pipeline.P1, "fw", now},
	))
	if err := a.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	final, _ := listing(t, a.Dir())
	if len(final) == 0 {
		t.Fatal("nothing written")
	}
	ddl := DDL(S3Config{Bucket: "b", StagingDir: a.Dir()}, "t")
	first, last := reviewProjectedDates(t, reviewTBLProps(ddl), "dt", time.Now().UTC())
	for key, content := range final {
		m := reviewDt.FindStringSubmatch("/" + key)
		if m == nil {
			t.Fatalf("no dt in key %s", key)
		}
		if m[1] < first || m[1] > last {
			t.Errorf("key %s (%s) has dt=%s, outside the projected dt range %s..%s: Athena does not read it",
				key, strings.TrimSpace(content), m[1], first, last)
		}
	}
}

// TestDDLStructColumnsMatchNormalizedEvents: a column typed struct<...>
// can only be read from a JSON object. Both OpenX JSON SerDe readers fail the
// query on a scalar there: rcongiu's JsonStructObjectInspector throws "Data
// is not JSONObject but java.lang.String", Trino's (Athena engine v3)
// RowDecoder "Primitive can not be coerced to a ROW"; ignore.malformed.json
// does not help, the line is valid JSON. The normalizer keeps an event's own
// scalar host, user, source, log, process (its own golden test "host scalar
// blocks host.name: kept as is"), so one such event makes every query that
// touches its object fail ('use.null.for.invalid.data' would only turn the
// failure into a NULL, losing the value). Expected: every struct column of the DDL holds an
// object (or is absent) in normalized events; ddl.go's own comment promises
// "Only fields whose JSON type is the same for every source are typed other
// than string".
func TestDDLStructColumnsMatchNormalizedEvents(t *testing.T) {
	ddl := DDL(S3Config{Bucket: "b", StagingDir: "/s"}, "t")
	names, types := reviewColumns(t, ddl)
	props := reviewTBLProps(ddl)

	c, err := normalize.Compile(normalize.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	n := c.New()
	meta := &pipeline.Meta{Input: "http", Protocol: "ndjson", Peer: "10.0.0.9", Token: "fw", IngestTime: time.Now().UnixNano()}
	inputs := []string{
		`{"host":"fw01","message":"deny tcp"}`,                         // syslog-style host name
		`{"user":"alice","event":{"action":"login"}}`,                  // user as a plain name
		`{"source":"WinEventLog:Security","message":"4625"}`,           // Splunk-style source
		`{"log":"auth failure","process":"sshd"}`,                      // log line / process name
		`{"destination":"10.0.0.1","source":{"ip":"10.9.9.9"}}`,        // flat destination
		`{"host":{"name":"ws1"},"user":{"name":"bob"},"message":"ok"}`, // ECS-shaped: fine
	}
	var p fastjson.Parser
	for _, in := range inputs {
		v, err := p.Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		out, _, err := n.Append(nil, v, nil, meta, &normalize.EventMeta{})
		if err != nil {
			t.Fatalf("normalize %s: %v", in, err)
		}
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("normalized %s: %v", out, err)
		}
		for _, col := range names {
			key := col
			if m, ok := props["mapping."+col]; ok {
				key = m
			}
			raw, ok := doc[key]
			if !ok || string(raw) == "null" || !strings.HasPrefix(types[col], "struct<") {
				continue
			}
			if raw[0] != '{' {
				t.Errorf("column `%s` is %s, but the normalized event %s has %q: %s: Athena fails the query (\"Primitive can not be coerced to a ROW\")",
					col, types[col], out, key, raw)
			}
		}
	}
	// What the DDL does get right, so the check above is not vacuous.
	if props["mapping.ts"] != "@timestamp" || types["ts"] != "string" {
		t.Errorf("ts must map @timestamp: %s", fmt.Sprint(props))
	}
}

// TestDDLReadsGlacierStorageClass: storage_class GLACIER and
// DEEP_ARCHIVE are accepted (StorageClasses: "Athena cannot read GLACIER and
// DEEP_ARCHIVE objects until they are restored"), but Athena skips a table's
// S3 Glacier Flexible Retrieval and Deep Archive objects, restored or not,
// unless the table has 'read_restored_glacier_objects'='true' (Athena guide,
// "Query restored Amazon S3 Glacier objects"; engine v3). The DDL for such a
// destination must set it, else every object of the archive is silently
// skipped even after a restore.
func TestDDLReadsGlacierStorageClass(t *testing.T) {
	for _, sc := range []string{"GLACIER", "DEEP_ARCHIVE"} {
		cfg := S3Config{Bucket: "b", StagingDir: "/s", StorageClass: sc}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		ddl := DDL(cfg, "t")
		if got := reviewTBLProps(ddl)["read_restored_glacier_objects"]; !strings.EqualFold(got, "true") {
			t.Errorf("storage_class %s: TBLPROPERTIES lack 'read_restored_glacier_objects'='true' (got %q); Athena skips every object of the table, restored or not", sc, got)
		}
	}
}
