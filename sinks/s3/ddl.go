package s3

import (
	"fmt"
	"strings"
)

// ddlColumns are the table's columns: the common fields of logrouter's
// normalized schema (ECS names). An event without a field reads NULL there;
// fields that are not columns need a column added (ALTER TABLE ... ADD
// COLUMNS) before they can be queried. Only fields logrouter itself always
// writes as objects (event, logrouter) are structs: a struct column fails
// every query that reads it once one event holds a plain value there, and
// an event's own "host": "fw01" is kept as it is. The other objects are
// string columns holding the JSON text, read with json_extract_scalar
// (json_extract_scalar(source, '$.ip')). logrouter.unconverted, the values
// set aside because they did not convert, is a map by the field's path
// (logrouter.unconverted['source.ip']).
var ddlColumns = []struct{ name, typ string }{
	{"ts", "string"}, // @timestamp, see 'mapping.ts'
	{"message", "string"},
	{"event", "struct<dataset:string,kind:string,action:string,outcome:string,ingested:string>"},
	{"source", "string"},
	{"destination", "string"},
	{"host", "string"},
	{"user", "string"},
	{"process", "string"},
	{"log", "string"},
	{"logrouter", "struct<input:string,protocol:string,peer:string,token:string,index:string,source:string,unconverted:map<string,string>>"},
}

// ddlPartitions maps key placeholders to partition columns and their
// projection. The source type is the column source_type because source is
// the ECS source struct.
var ddlPartitions = map[placeholder]struct {
	column     string
	projection []string // TBLPROPERTIES after 'projection.<column>.'
}{
	phPriority:   {"priority", []string{"type'='enum", "values'='P1,P2,P3"}},
	phSourceType: {"source_type", []string{"type'='injected"}},
	// Keys are dated by the event's own time (time_source: event), which
	// may be any date, and objects may stay for decades under Object
	// Lock: from 1970 (a reset device clock) to two days ahead (a clock
	// running fast). Queries should constrain dt.
	phDate: {"dt", []string{"type'='date", "format'='yyyy-MM-dd", "range'='1970-01-01,NOW+2DAYS", "interval'='1", "interval.unit'='DAYS"}},
	phHour: {"hour", []string{"type'='integer", "range'='0,23", "digits'='2"}},
}

// DDL returns the Athena (Glue/Hive) CREATE EXTERNAL TABLE statement for the
// objects cfg writes, as table (a name, optionally db.name): JSON lines read
// with the OpenX JSON SerDe (malformed lines are skipped; @timestamp is the
// column ts), partitioned by the key's priority, source_type, dt and hour
// (for the default layout) with partition projection, so no partitions ever
// need to be added. Athena reads .zst and .gz objects by their extension.
//
// source_type is an injected partition: every query must constrain it with
// = or IN (WHERE source_type = 'crowdstrike.falcon'). The partition columns
// come from the placeholders in the key template's directories; a template
// whose directories also hold {node}, {start} or {seq} cannot be projected
// and DDL says so in a comment. cfg should be valid (see Validate); an
// invalid key template gives a comment with the error instead of a
// statement.
func DDL(cfg S3Config, table string) string {
	cfg = cfg.withDefaults()
	lc := cfg.Layout()
	if lc.Node == "" {
		lc.Node = "node"
	}
	l, err := NewLayout(lc)
	if err != nil {
		return fmt.Sprintf("-- cannot build the table: %v\n", err)
	}
	// The directory part of the template, as a location template.
	var loc strings.Builder
	var parts []placeholder
	var unprojectable []string
	dirEnd := -1 // the last literal holding a '/'
	for i := len(l.parts) - 1; i >= 0; i-- {
		if l.parts[i].ph == literal && strings.Contains(l.parts[i].lit, "/") {
			dirEnd = i
			break
		}
	}
	for i, pt := range l.parts[:dirEnd+1] {
		switch pt.ph {
		case literal:
			lit := pt.lit
			if i == dirEnd {
				lit = lit[:strings.LastIndexByte(lit, '/')+1]
			}
			loc.WriteString(lit)
		case phPrefix:
			loc.WriteString(l.prefix)
		case phPriority, phSourceType, phDate, phHour:
			p := ddlPartitions[pt.ph]
			loc.WriteString("${" + p.column + "}")
			seen := false
			for _, q := range parts {
				seen = seen || q == pt.ph
			}
			if !seen {
				parts = append(parts, pt.ph)
			}
		default:
			for name, ph := range placeholders {
				if ph == pt.ph {
					unprojectable = append(unprojectable, "{"+name+"}")
				}
			}
		}
	}
	base := "s3://" + cfg.Bucket + "/"
	location := base + l.staticPrefix()

	var b strings.Builder
	if len(unprojectable) > 0 {
		fmt.Fprintf(&b, "-- key_template directories hold %s, which partition projection cannot express: the table below will find no objects; keep {node}, {start} and {seq} in the file name.\n", strings.Join(unprojectable, ", "))
	}
	fmt.Fprintf(&b, "CREATE EXTERNAL TABLE IF NOT EXISTS %s (\n", quoteTable(table))
	for i, c := range ddlColumns {
		fmt.Fprintf(&b, "  `%s` %s%s\n", c.name, c.typ, comma(i, len(ddlColumns)))
	}
	b.WriteString(")\n")
	if len(parts) > 0 {
		b.WriteString("PARTITIONED BY (\n")
		for i, ph := range parts {
			fmt.Fprintf(&b, "  `%s` string%s\n", ddlPartitions[ph].column, comma(i, len(parts)))
		}
		b.WriteString(")\n")
	}
	b.WriteString("ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'\n")
	// Case-sensitive: by default the SerDe lower-cases keys, and an event
	// holding both "Event" (a Windows event rendered from XML) and the
	// normalizer's "event", or "Message" and "message", is then a
	// duplicate key: skipped as malformed, a row of NULLs. The columns
	// are lower case, as logrouter writes them.
	b.WriteString("WITH SERDEPROPERTIES (\n  'ignore.malformed.json'='true',\n  'case.insensitive'='false',\n  'mapping.ts'='@timestamp'\n)\n")
	b.WriteString("STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n")
	b.WriteString("OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n")
	fmt.Fprintf(&b, "LOCATION '%s'\n", location)
	props := []string{}
	if cfg.StorageClass == "GLACIER" || cfg.StorageClass == "DEEP_ARCHIVE" {
		// Athena skips these classes, restored objects too, unless told
		// (engine v3). GLACIER_IR is read as any other.
		props = append(props, "'read_restored_glacier_objects'='true'")
	}
	if len(parts) > 0 {
		props = append(props, "'projection.enabled'='true'")
		for _, ph := range parts {
			p := ddlPartitions[ph]
			for _, kv := range p.projection {
				props = append(props, "'projection."+p.column+"."+kv+"'")
			}
		}
		props = append(props, "'storage.location.template'='"+base+loc.String()+"'")
	}
	if len(props) > 0 {
		b.WriteString("TBLPROPERTIES (\n")
		for i, p := range props {
			fmt.Fprintf(&b, "  %s%s\n", p, comma(i, len(props)))
		}
		b.WriteString(")")
	}
	b.WriteString(";\n")
	return b.String()
}

func comma(i, n int) string {
	if i < n-1 {
		return ","
	}
	return ""
}

// quoteTable backquotes each part of a db.table name.
func quoteTable(t string) string {
	if t == "" {
		t = "logrouter_archive"
	}
	parts := strings.Split(t, ".")
	for i, p := range parts {
		parts[i] = "`" + strings.ReplaceAll(p, "`", "") + "`"
	}
	return strings.Join(parts, ".")
}
