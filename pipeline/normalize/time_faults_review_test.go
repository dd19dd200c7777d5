package normalize

// A review of how event times are read, end to end (normalize side). Each
// test fails against the code as found and passes once the fault it
// describes is fixed.

import (
	"testing"
	"testing/fstest"
	"time"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
)

// review17tCompile compiles testConfig with the profiles of yaml (one
// profiles file).
func review17tCompile(t *testing.T, yaml string) *Normalizer {
	t.Helper()
	specs, err := LoadProfiles(fstest.MapFS{"p/review17t.yaml": {Data: []byte(yaml)}}, "p")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Profiles = specs
	return mustCompile(t, cfg).New()
}

func review17tTimestamp(t *testing.T, out string) string {
	t.Helper()
	return string(fastjson.MustParse(out).GetStringBytes("@timestamp"))
}

// TestReview17tConvertFloatTimestampField
//
// What is wrong: a profile that converts its time field to a number with
// `convert: {ts: float}` and names it in `timestamp: {fields: [ts]}` gets
// the ingest time as @timestamp, not the event's time. convert (profile.go)
// writes the float with strconv.AppendFloat(f, 'g', -1): shortest digits,
// and %e form once the exponent reaches 6 digits, so every epoch in seconds
// becomes "1.300475167096535e+09". parseTimeNode (normalize.go) reads a
// converted, unquoted literal (kLit) with timeparse.ParseEpoch only, which
// refuses an exponent; ParseNumber, which the same function uses for a JSON
// number, would read it. The event is then dated at its ingestion: the
// wrong OpenSearch daily index and archive hour for any backlog, and a
// SIEM correlation window that misses it. The converted value itself is
// written as 1.300475167096535e+09 while @timestamp says otherwise.
//
// Real source: Zeek's ASCII logs (the default writer; TSV, "#separator
// \x09") start each record with ts in epoch seconds with microseconds:
// "1300475167.096535	CRCC5OdDlXe	141.142.220.202	5353	224.0.0.251	5353	udp
// dns	..." (docs.zeek.org, "Zeek Logs" / conn.log, the 2011 sample trace).
// Such a profile is the documented way to onboard a delimited format
// (docs/schema.md, "parses a delimited text field into columns"), and
// float is a documented conversion.
//
// Expected: docs/schema.md, Profiles, steps 3 and 6: converts happen on
// the new names, then "takes @timestamp from its timestamp fields"; the
// README's normalization row: @timestamp "from the event's own time field
// (epoch s/ms/µs/ns ...)". The converted ts denotes 1300475167.096535 s,
// so @timestamp is 2011-03-18T19:06:07.096535Z.
func TestReview17tConvertFloatTimestampField(t *testing.T) {
	n := review17tCompile(t, `profiles:
  - name: zeek.conn_tsv
    parse:
      separator: "\t"
      columns: [ts, zeek.session_id, source.ip, source.port, destination.ip, destination.port, network.transport, network.protocol]
    convert: {ts: float, source.port: int, destination.port: int, source.ip: ip, destination.ip: ip}
    timestamp: {fields: [ts]}
`)
	line := "1300475167.096535\tCRCC5OdDlXe\t141.142.220.202\t5353\t224.0.0.251\t5353\tudp\tdns"
	out, _ := normalizeOne(t, n, line, &EventMeta{SourceType: []byte("zeek.conn_tsv")})
	want := time.Unix(1300475167, 96535000).UTC().Format("2006-01-02T15:04:05.000000Z")
	if got := review17tTimestamp(t, out); got != want {
		t.Errorf("@timestamp %s, want %s (the converted ts); ingest time is %s\n%s",
			got, want, time.Unix(0, ingest).UTC().Format(time.RFC3339), out)
	}
}

// TestReview17tGlobalTimestampFieldsSkipProfileValues
//
// What is wrong: normalize.timestamp_fields (the global list: @timestamp,
// timestamp, time, ts, ...) never reads a value a profile produced. findTime
// (normalize.go) skips every node whose kind is not kValue: a column of a
// profile's parse (kStr) and a converted value (kLit) are passed over, and
// the event gets the ingest time although its "timestamp" or "time" field
// holds a valid time. The same value arriving as a JSON member is read.
//
// Real sources: a delimited log whose first column is its time, onboarded
// with `parse: {columns: [timestamp, ...]}` and no `timestamp:` of its own
// (the global list already names "timestamp"); a JSON source whose epoch
// "time" arrives as a string and is converted with `convert: {time: int}`
// so that OpenSearch maps it as a number (pino, the "time" of Splunk's HEC
// events re-exported, Check Point's time: "1764331200").
//
// Expected: docs/configuration.md, normalize: timestamp_fields are "tried
// in order; the first that parses becomes @timestamp"; docs/schema.md,
// Profiles step 6: the profile's timestamp fields come "before the global
// list", so without them the global list applies to the event as the
// profile left it (columns and conversions use the new names, step 2-3).
// Both events below are dated 2025-11-28T12:00:00Z, a year before their
// ingestion (testMeta's 2026-11-28T12:00:00Z).
func TestReview17tGlobalTimestampFieldsSkipProfileValues(t *testing.T) {
	n := review17tCompile(t, `profiles:
  - name: acme.audit
    parse:
      columns: [timestamp, user.name, event.action]
  - name: acme.app
    convert: {time: int}
`)
	for _, c := range []struct{ st, in string }{
		{"acme.audit", "2025-11-28T12:00:00Z alice login"},  // a parse column (kStr)
		{"acme.app", `{"time":"1764331200","msg":"login"}`}, // a converted value (kLit)
	} {
		out, _ := normalizeOne(t, n, c.in, &EventMeta{SourceType: []byte(c.st)})
		if got, want := review17tTimestamp(t, out), "2025-11-28T12:00:00.000Z"; got != want {
			t.Errorf("%s %s: @timestamp %s, want %s (its own time, found by normalize.timestamp_fields)\n%s",
				c.st, c.in, got, want, out)
		}
	}
}

// TestReview17tTextParseYearFromWallClock
//
// What is wrong: a profile's `parse: {format: syslog}` (linux.auth for
// linux_secure over HEC, the firewall profiles for the device line in a
// Filebeat module's message) infers the year of an RFC 3164 header against
// the machine's clock at the moment of normalization, not against the
// event's ingest time. NewTextParser (syslog/parse/text.go) builds its
// Parser with Options{} (Now nil: time.Now), while the normalizer reads
// every other year-less time against the ingest time (profileTime and
// findTime: now := time.Unix(0, ingest)). A record replayed from the
// quarantine with its receive time (?ingest_time=, "so that an event
// without a time of its own keeps the @timestamp, index date and archive
// partition it would have had", internal/app/admin.go; README: replayed
// input records keep "the time they were received") is dated in the
// replay's year: a "Jan  5" line received in January and replayed the next
// December becomes next January (a year in the future), an older one
// lands in the wrong year's index and partition.
//
// Expected: internal/timeparse.Parse: "now is used only to infer the year
// ... (the receive time)"; syslog/parse Options.Now: "returns the receive
// time, used to infer the year of RFC 3164 timestamps". The receive time
// of this event is its ingest time, 2020-01-05T12:00:00Z, so the line
// "Jan  5 10:00:00" is 2020-01-05T10:00:00Z whenever it is normalized.
func TestReview17tTextParseYearFromWallClock(t *testing.T) {
	if testTextParser == nil {
		t.Skip("no text parser registered (matcher_ext_test.go)")
	}
	cfg := testConfig()
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	n := mustCompile(t, cfg).New()
	obj := fastjson.MustParse(`{"message":"Jan  5 10:00:00 bastion01 sshd[4121]: Failed password for root from 198.51.100.23 port 41234 ssh2"}`)
	recv := time.Date(2020, 1, 5, 12, 0, 0, 0, time.UTC)
	bm := &pipeline.Meta{Input: "replay", Protocol: "replay", Peer: "127.0.0.1", IngestTime: recv.UnixNano()}
	out, _, err := n.Append(nil, obj, nil, bm, &EventMeta{SourceType: []byte("linux_secure")})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := review17tTimestamp(t, string(out)), "2020-01-05T10:00:00.000Z"; got != want {
		t.Errorf("@timestamp %s, want %s (the year of its receive time, 2020)\n%s", got, want, out)
	}
}
