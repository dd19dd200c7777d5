package normalize

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"net/netip"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/valyala/fastjson"
	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter/internal/yamlerr"
)

// ProfileSpec is a normalization profile as written in YAML (files in
// rules/profiles/): how events of one source type map into the normalized
// (ECS) schema. No Go code is needed to onboard a new source.
//
//	profiles:
//	  - name: fortinet.fortigate          # the source type it defines
//	    source_types: [fortinet.firewall]  # other names that select it ("app.*" = prefix)
//	    synonyms: [fgt_traffic]            # other names of this very source: renamed to its name
//	    detect:                            # when an event arrives without a known source type
//	      present: [devid, logid]
//	      equals: {type: traffic}
//	    timestamp: {fields: [eventtime], join: [date, time]}
//	    rename: {action: event.action, sentbyte: source.bytes}
//	    convert: {source.bytes: int, source.ip: ip}   # on the renamed names
//	    drop: [vd]
//	    set: {observer.vendor: Fortinet}              # only where absent
type ProfileSpec struct {
	Name        string         `yaml:"name"`
	SourceTypes []string       `yaml:"source_types"`
	Detect      *DetectSpec    `yaml:"detect"`
	Timestamp   *TimestampSpec `yaml:"timestamp"`
	Rename      OrderedMap     `yaml:"rename"`
	Convert     OrderedMap     `yaml:"convert"`
	Drop        []string       `yaml:"drop"`
	Set         OrderedMap     `yaml:"set"`
	Parse       *ParseSpec     `yaml:"parse"`

	// Synonyms are other names of the same source, such as the source
	// types Splunk add-ons and HEC clients moved over from Splunk send
	// (aws:cloudtrail, OktaIM2:log): an event sent with one is handled
	// as if it had come with the profile's own name, which becomes its
	// event.dataset (the sender's name is kept in logrouter.sourcetype),
	// so rules and index names see one name per source. A trailing "*"
	// makes a prefix (gws:reports:*). Source types unlike these, which
	// name another source in the same format (checkpoint.firewall for the
	// cef profile), stay in SourceTypes and keep their names.
	Synonyms []string `yaml:"synonyms"`
	// ValuesOnly names rename sources moved only as plain values: one that
	// arrives as an object is a shipper's own and stays where it is
	// (FortiGate's agent= pair is a user agent, Filebeat's agent object
	// describes Filebeat and is no user_agent.original).
	ValuesOnly []string `yaml:"values_only"`
	// DropValues names, by the renamed path, a value that means "none" for
	// that field: it is removed (before convert), as a "-" is. Firewalls
	// write 0.0.0.0 and port 0 in their NAT columns for a connection that
	// was not translated (Check Point's xlatesrc, PAN-OS natsrc): as
	// addresses they would say the connection was translated to 0.0.0.0.
	DropValues OrderedMap `yaml:"drop_values"`
	// NoneValues are words the source writes for "none" in any field
	// (Junos: N/A, None, UNKNOWN): a field the profile renames whose value
	// is one of them is dropped as the event is walked, before renames into
	// one field rank (so another source's real value wins), as Elastic's
	// pipelines remove them before renaming; a split pattern's key that
	// takes one sets nothing.
	NoneValues []string `yaml:"none_values"`
	// Lift names lists of one-member objects whose members belong to the
	// object holding the list: OpenTelemetry's Windows receiver writes an
	// event's data as event_data.data [{"TargetUserName":"jdoe"},
	// {"IpAddress":"10.0.0.1"}], Winlogbeat and NXLog as members of one
	// object. Each element's members are walked as members of that object
	// (event_data.TargetUserName), so the profile's renames apply to them;
	// an empty name becomes paramN, N the element's position in the list
	// (as Winlogbeat names unnamed event data). A list with an element
	// that is not an object, or that is not a list, stays as it is. A
	// variant without a lift of its own lifts what its base lifts.
	Lift []string `yaml:"lift"`
	// Split names string fields that hold two values around a separator:
	// Sysmon's User "CORP\jdoe" (domain, then name), a Kerberos service
	// ticket's TargetUserName "jdoe@CORP.EXAMPLE.COM" (name, then realm).
	// See SplitSpec.
	Split []SplitSpec `yaml:"split"`
	// Copy writes each field's value (a string, or a number's digits as a
	// string; a boolean as a boolean; a list of such values as that list)
	// at its new path too, where that is absent, after the renames and
	// before Split: Windows' winlog.event_id as ECS event.code (rules read
	// the first, searches the second). A from path may index a list by
	// number (events.0.name) or by selector
	// (events.0.parameters[name=is_suspicious].boolValue): see listPath.
	Copy OrderedMap `yaml:"copy"`
	// Map derives a field from another's value by a table: Okta's
	// outcome.result DENY is ECS event.outcome "failure". See MapSpec.
	Map []MapSpec `yaml:"map"`

	File string `yaml:"-"`
	Line int    `yaml:"-"`
}

// SplitSpec splits the string at Field (after renames) at the first
// Separator into the two paths of Into, when both parts are non-empty.
// The field itself stays unless it is one of Into (then it holds its
// part). It is all or nothing: when a path of Into holds another value
// already (a user.domain from TargetDomainName that is not the realm
// after the "@"), nothing is split, so nothing is lost.
//
// With Regex instead of Separator, the field's text is matched against it
// (Go's RE2 syntax: linear time whatever the text) and Into names one path
// per capture group, in order ("" skips one; a group that matched nothing
// sets nothing): the device text that is neither columns nor key=value
// pairs (Azure Firewall's "TCP request from 10.0.0.1:5000 to ...",
// SonicWall's src=10.0.0.1:5000:X1, a BIND query line). A text the regex
// does not match is left alone. Unanchored, it matches anywhere in the
// text. A regex costs an allocation per text it matches (Go's submatch
// indexes).
//
// With Pattern (Elastic's dissect, its common form), the paths are named
// in the text's shape: "Failed %{m} for %{user.name} from %{source.address}
// port %{source.port}". The text must start with the pattern's leading
// literal; each key takes the text up to the next occurrence of the
// literal after it, a key at the end the rest (text after a final literal
// is ignored); %{} and %{?name} take text that is not kept. A key may
// name the kind of text it takes, %{source.port:digits} or
// %{source.ip:ipv4} or %{source.address:token} (no space): a key refused,
// a later literal not found, the match tries the key's literal's next
// occurrence (up to 64 in all). A %{user.name:greedy} key tries its
// literal's occurrences from the last, so a user name holding " from x
// port 1 ssh2" (sshd logs it as the client sent it) does not decide the
// address. A pattern ending with $ (after its last literal) matches only
// a text that ends there: with a greedy key, the last occurrence is then
// the one at the end. Parts are trimmed of spaces and tabs (sudo
// pads its user name). Patterns (a list) are alternatives: the first that
// matches applies. No allocation: for the sources every event of which it
// reads (sshd, sudo).
type SplitSpec struct {
	Field     string   `yaml:"field"`
	Separator string   `yaml:"separator"`
	Regex     string   `yaml:"regex"`
	Pattern   string   `yaml:"pattern"`
	Patterns  []string `yaml:"patterns"`
	Into      []string `yaml:"into"`
}

// dissect is a compiled SplitSpec.Pattern: the leading literal, and each
// key with the literal that ends it (empty for a last key: the rest) and
// the kind of text it takes.
type dissect struct {
	prefix []byte
	keys   []dkey
	end    bool // the pattern ends with $: nothing may follow its last literal
}

type dkey struct {
	sep  []byte
	kind uint8 // keyAny, keyDigits, keyIPv4, keyWord
}

const (
	keyAny = iota
	keyDigits
	keyIPv4
	keyWord   // no space or tab: %{x:token}
	keyGreedy // any text, up to the last occurrence of its literal that lets the rest match: %{x:greedy}
)

// maxDissectTries bounds the literal occurrences a match tries (each a
// scan of the rest of the text): a text crafted with many of them (a user
// name full of " from ") costs a bounded amount, and does not match.
const maxDissectTries = 64

// compileDissect parses a pattern into its literals and key paths ("" for
// a key whose text is not kept).
func compileDissect(pat string) (*dissect, []string, error) {
	d := &dissect{}
	var keys []string
	rest := pat
	if strings.HasSuffix(rest, "$") && !strings.HasSuffix(rest, "}$") {
		d.end, rest = true, rest[:len(rest)-1]
	}
	lit := func() []byte {
		i := strings.Index(rest, "%{")
		if i < 0 {
			i = len(rest)
		}
		l := []byte(rest[:i])
		rest = rest[i:]
		return l
	}
	d.prefix = lit()
	for rest != "" {
		end := strings.IndexByte(rest, '}')
		if end < 0 {
			return nil, nil, fmt.Errorf("pattern %q: %%{ without }", pat)
		}
		name := rest[2:end]
		rest = rest[end+1:]
		kind := uint8(keyAny)
		if c := strings.LastIndexByte(name, ':'); c >= 0 {
			switch name[c+1:] {
			case "digits":
				kind = keyDigits
			case "ipv4":
				kind = keyIPv4
			case "token":
				kind = keyWord
			case "greedy":
				kind = keyGreedy
			default:
				return nil, nil, fmt.Errorf("pattern %q: %%{%s}: a key's kind is digits, ipv4, token or greedy", pat, name)
			}
			name = name[:c]
		}
		if strings.HasPrefix(name, "?") || name == "" {
			name = "" // matched, not kept
		}
		sep := lit()
		if len(sep) == 0 && rest != "" {
			return nil, nil, fmt.Errorf("pattern %q: two keys with nothing between them: which text is whose?", pat)
		}
		keys = append(keys, name)
		d.keys = append(d.keys, dkey{sep: sep, kind: kind})
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("pattern %q: no %%{key}", pat)
	}
	return d, keys, nil
}

// match sets parts (len(d.keys) long, from parts' array) to s's part for
// each key, or reports false. Each key takes the text up to the first
// occurrence of its literal from which the rest of the pattern matches:
// the first, unless a typed key or a later literal refuses it (a user
// name sshd logs as the client sent it may hold " from x port y").
func (d *dissect) match(s []byte, parts [][]byte) ([][]byte, bool) {
	parts = parts[:0]
	for range d.keys {
		parts = append(parts, nil)
	}
	if !bytes.HasPrefix(s, d.prefix) {
		return parts, false
	}
	tries := maxDissectTries
	return parts, d.from(s, len(d.prefix), 0, parts, &tries)
}

func (d *dissect) from(s []byte, pos, k int, parts [][]byte, tries *int) bool {
	if k == len(d.keys) {
		return !d.end || pos == len(s)
	}
	key := &d.keys[k]
	if len(key.sep) == 0 { // the last key: the rest
		if !key.takes(s[pos:]) {
			return false
		}
		parts[k] = s[pos:]
		return true
	}
	if key.kind == keyGreedy { // from the last occurrence back
		for lim := len(s); *tries > 0; *tries-- {
			i := bytes.LastIndex(s[pos:lim], key.sep)
			if i < 0 {
				return false
			}
			end := pos + i
			if d.from(s, end+len(key.sep), k+1, parts, tries) {
				parts[k] = s[pos:end]
				return true
			}
			lim = end + len(key.sep) - 1
		}
		return false
	}
	for at := pos; *tries > 0; *tries-- {
		i := bytes.Index(s[at:], key.sep)
		if i < 0 {
			return false
		}
		end := at + i
		ok := key.takes(s[pos:end])
		if ok && d.from(s, end+len(key.sep), k+1, parts, tries) {
			parts[k] = s[pos:end]
			return true
		}
		if !ok && key.kind != keyIPv4 && end > pos {
			// A digit or token key refused a character: every longer
			// text holds it too. (Not tried again: a crafted text with
			// many literals then costs a try per key, not per pair.)
			return false
		}
		at = end + 1
	}
	return false
}

// takes reports whether v (spaces around it aside) is text of the key's
// kind.
func (k *dkey) takes(v []byte) bool {
	switch k.kind {
	case keyDigits:
		v = bytes.Trim(v, " \t")
		if len(v) == 0 {
			return false
		}
		for _, c := range v {
			if c < '0' || c > '9' {
				return false
			}
		}
	case keyIPv4: // four numbers 0-255 without leading zeros, as netip reads them
		v = bytes.Trim(v, " \t")
		dots, run, val := 0, 0, 0
		for i, c := range v {
			switch {
			case c >= '0' && c <= '9':
				if run > 0 && val == 0 { // a leading zero
					return false
				}
				run, val = run+1, val*10+int(c-'0')
				if val > 255 {
					return false
				}
			case c == '.' && run > 0 && i < len(v)-1:
				dots, run, val = dots+1, 0, 0
			default:
				return false
			}
		}
		return dots == 3 && run > 0
	case keyWord:
		v = bytes.Trim(v, " \t")
		return len(v) > 0 && bytes.IndexAny(v, " \t") < 0
	}
	return true
}

// MapSpec writes To from the value of Field (after renames and converts)
// looked up in Values, the way Elastic's ingest pipelines turn a vendor's
// result codes into ECS values: {SUCCESS: success, DENY: failure}. Keys
// are matched ignoring ASCII case; a string or a number matches its text.
// A key ending in "*" matches the values that start with what precedes
// it (Okta's dotted event types: "group.*"); a value listed whole wins over
// a prefix, and a longer prefix over a shorter one.
// A value not listed gets Default, or nothing when Default is empty. To
// (default: Field itself, whose value is then replaced) is written only
// where absent, so a value the sender set is kept; with another To, the
// vendor's own value stays in Field.
type MapSpec struct {
	Field   string     `yaml:"field"`
	To      string     `yaml:"to"`
	Values  OrderedMap `yaml:"values"`
	Default string     `yaml:"default"`
}

// mapOp is a compiled MapSpec: keys[i] (as written) maps to the JSON
// literal lits[i]; def is the default's literal, nil for none.
type mapOp struct {
	field Path
	list  listPath // field indexes a list (winlog.keywords.0)
	to    [][]byte
	self  bool
	keys  [][]byte
	lits  [][]byte
	pre   []bool // keys[i] is a prefix (written with a trailing "*")
	def   []byte
}

// copyOp is one entry of ProfileSpec.Copy.
type copyOp struct {
	from Path
	to   [][]byte
	list listPath // from indexes a list (events.0.name)
}

// listPath is a path into a list (events.0.name), for copy and map: lists
// are the candidate paths of the list, one per number or selector segment
// (events), ins the keys below each, the index or selector first (0,
// name). A selector picks the element of a list of objects by a member's
// value: parameters[name=is_suspicious] is the (last) element of the list
// parameters whose member name is the string is_suspicious (Google
// Workspace's and Microsoft 365's name/value lists); in ins it is
// "[name=is_suspicious]", after the list's own key. Zero for a path without
// a number segment after the first and without a selector.
type listPath struct {
	lists []Path
	ins   [][]string
}

func newListPath(p string) listPath {
	var lp listPath
	// keys: the path's segments with each selector as a key of its own
	// after its list's key; at: where a list's contents start in keys.
	var keys []string
	var at []int
	for i, seg := range strings.Split(p, ".") {
		if k, sel, ok := cutSelector(seg); ok {
			keys = append(keys, k)
			at = append(at, len(keys))
			keys = append(keys, sel)
			continue
		}
		if _, err := strconv.ParseUint(seg, 10, 31); err == nil && i > 0 {
			at = append(at, len(keys))
		}
		keys = append(keys, seg)
	}
	for _, i := range at {
		list := strings.Join(keys[:i], ".")
		if strings.Contains(list, ".[") {
			continue // under an element a selector picked: no node has that path
		}
		lp.lists = append(lp.lists, CompilePath(list))
		lp.ins = append(lp.ins, keys[i:])
	}
	return lp
}

// cutSelector splits a path segment key[name=value] into key and the
// selector "[name=value]". ok is false for a segment without one (see
// checkSelectors for the forms refused).
func cutSelector(seg string) (key, sel string, ok bool) {
	i := strings.IndexByte(seg, '[')
	if i <= 0 || !strings.HasSuffix(seg, "]") {
		return "", "", false
	}
	return seg[:i], seg[i:], true
}

// checkSelectors refuses a malformed selector in a copy or map source: one
// per segment, key[name=value] with all three parts non-empty.
func checkSelectors(p string) error {
	for _, seg := range strings.Split(p, ".") {
		if !strings.ContainsAny(seg, "[]") {
			continue
		}
		k, sel, ok := cutSelector(seg)
		if !ok || k == "" || strings.ContainsAny(k, "[]") {
			return fmt.Errorf("segment %q: a selector is list[member=value] (parameters[name=is_suspicious]), after the list's name", seg)
		}
		inner := sel[1 : len(sel)-1]
		name, want, found := strings.Cut(inner, "=")
		if !found || name == "" || want == "" || strings.ContainsAny(inner, "[]") {
			return fmt.Errorf("segment %q: a selector is list[member=value] (parameters[name=is_suspicious]) with a member name and a value", seg)
		}
	}
	return nil
}

// checkTarget checks a copy's or map's target: a field path without a
// selector, which reads a list and cannot write one.
func checkTarget(to string) error {
	if strings.ContainsAny(to, "[]") {
		return fmt.Errorf("to %q: a selector ([member=value]) reads a list element; a target is a field path without one", to)
	}
	if err := checkPath(to); err != nil {
		return fmt.Errorf("%q: %w", to, err)
	}
	return nil
}

// selectorParts returns a selector key's member name and value, ok false
// for a key that is no selector.
func selectorParts(k string) (name, want string, ok bool) {
	if len(k) < 4 || k[0] != '[' || k[len(k)-1] != ']' {
		return "", "", false
	}
	return strings.Cut(k[1:len(k)-1], "=")
}

// newCopyOp compiles copy from -> to. A segment of from that is a number
// after the first indexes a list: Google Workspace's activity names the
// action as events.0.name, the first of its events; a selector segment
// picks a list's element by a member's value (see listPath).
func newCopyOp(from, to string) copyOp {
	return copyOp{from: CompilePath(from), to: splitPath(to), list: newListPath(from)}
}

// splitOp is a compiled SplitSpec.
type splitOp struct {
	field Path
	sep   []byte
	re    *regexp.Regexp // instead of sep: one part per capture group
	pat   *dissect       // instead of sep: one part per key
	alt   bool           // another of the patterns of the split before it
	segs  [][][]byte     // per part; nil: skipped
	self  []bool         // part k goes to the field itself
}

// DetectSpec recognizes a source by its fields: every path in Present
// exists, every path in Equals has that string value, and Expr (an
// expr-lang expression, as in rules) is true. Present and Equals are checked
// first: they are cheap and narrow the events Expr runs on.
type DetectSpec struct {
	Present []string   `yaml:"present"`
	Equals  OrderedMap `yaml:"equals"`
	Expr    string     `yaml:"expr"`
	// Dataset names the source type of a detected event from one of its
	// fields, as "zeek.{_path}": a record with "_path":"dns" is zeek.dns.
	// The field is read before renames; a value that is not a short
	// lower-case name ([a-z0-9_], at most 64 bytes) gives the profile's
	// name. Without braces it is the name itself: profiles that map parts
	// of one source differently (by event id) name one source type.
	// Default: the profile's name.
	Dataset string `yaml:"dataset"`
}

// Matcher evaluates a detect expression against the event Build has just
// made (it looks fields up with LookupPath). It must be safe for concurrent
// use by many Normalizers.
type Matcher interface {
	Match(n *Normalizer) bool
}

// TimestampSpec says where a source keeps its time: Fields are tried in
// order before the global timestamp_fields; Join names fields whose string
// values, joined with a space, form the time ("date" "time" -> "2026-11-28
// 10:00:00"; a third field may hold a zone offset).
type TimestampSpec struct {
	Fields []string `yaml:"fields"`
	Join   []string `yaml:"join"`
}

// ParseSpec splits a text field into columns: the delimited lines AWS and
// others write (VPC Flow Logs' space-separated records, ELB and CloudFront
// access logs), which arrive as a message (HEC raw, a CloudWatch Logs log
// event, a file tail). The field's text is split at Separator (one
// character, default a space); a column in double quotes is taken whole,
// without them ("GET http://x/ HTTP/1.1"). When it has at least as many
// columns as Columns names (extra ones at the end are ignored: AWS adds
// fields at the end of its formats), each column becomes a string at the
// path named in its place ("" skips it; "-", the formats' "no value",
// sets nothing) and the field is removed unless KeepField; otherwise the
// event is left as it was. The columns are set before convert and the
// timestamp, which use their names.
type ParseSpec struct {
	Field     string   `yaml:"field"`     // default message
	Separator string   `yaml:"separator"` // default " "
	Columns   []string `yaml:"columns"`
	KeepField bool     `yaml:"keep_field"`
	// Header is the first column of a format's header line (the field
	// names a file starts with, as VPC Flow Logs' S3 objects do): a line
	// whose first column is this is left whole, not parsed as a record.
	Header string `yaml:"header"`
	// Format is "columns" (the default: Separator, Columns, Header) or
	// "syslog": the field's text is parsed as the syslog input parses a
	// message (an optional syslog header, then CEF, LEEF, PAN-OS CSV,
	// FortiGate and other key=value pairs, Cisco ASA, Snare or JSON) and
	// the fields it yields join the event as if they had arrived with it,
	// so the profile's renames apply to them. The event's own fields win
	// where both have one (a shipper's event.dataset, host, @timestamp);
	// objects merge. The raw device line that Filebeat's firewall modules
	// and Splunk's text source types (pan:traffic, fgt_traffic) carry in
	// message is then mapped like the same line sent over syslog. Plain
	// text, and an event the syslog input already parsed, are left alone.
	//
	// "windows" is "syslog" for a Windows event sent as text: the field is
	// parsed only when it is the whole event (no other field but
	// @timestamp: a Winlogbeat event's message is left alone, whatever it
	// holds) and it is one in XML (<Event ...>, as Splunk's
	// XmlWinEventLog source types and Windows Event Forwarding send it;
	// NXLog's to_xml() record), or in Splunk's classic WinEventLog
	// rendering (LogName=...), into winlog.* as Winlogbeat names it (NXLog's
	// record: its own field names, which the profile renames); any other
	// text is left alone. The parse runs before the profile's
	// variants are detected, so that their detect rules see the parsed
	// winlog.channel and winlog.event_id; a variant without a parse of its
	// own uses its base's.
	Format string `yaml:"format"`
}

// parser is a compiled ParseSpec.
type parser struct {
	field   Path
	sep     byte
	columns [][][]byte // nil: skipped
	keep    bool
	header  []byte
	syslog  bool // Format syslog or windows: TextParser, no columns
	windows bool // Format windows: only text that is a Windows event
}

func compileParse(ps *ParseSpec) (*parser, error) {
	field := ps.Field
	if field == "" {
		field = "message"
	}
	if err := checkPath(field); err != nil {
		return nil, fmt.Errorf("parse.field: %w", err)
	}
	sep := ps.Separator
	if sep == "" {
		sep = " "
	}
	if len(sep) != 1 || sep == `"` {
		return nil, fmt.Errorf("parse.separator %q: one character other than a double quote (\" \" or \"\\t\")", ps.Separator)
	}
	switch ps.Format {
	case "", "columns":
	case "syslog", "windows":
		if len(ps.Columns) > 0 || ps.Separator != "" || ps.Header != "" {
			return nil, fmt.Errorf("parse: format %s takes no columns, separator or header (the parser names the fields)", ps.Format)
		}
		return &parser{field: CompilePath(field), keep: ps.KeepField, syslog: true, windows: ps.Format == "windows"}, nil
	default:
		return nil, fmt.Errorf("parse.format %q: columns (the default), syslog or windows", ps.Format)
	}
	if len(ps.Columns) == 0 {
		return nil, errors.New("parse.columns: name the field of each column (\"\" skips one)")
	}
	pr := &parser{field: CompilePath(field), sep: sep[0], keep: ps.KeepField}
	if ps.Header != "" {
		pr.header = []byte(ps.Header)
	}
	named := 0
	for i, c := range ps.Columns {
		if c == "" {
			pr.columns = append(pr.columns, nil)
			continue
		}
		if err := checkPath(c); err != nil {
			return nil, fmt.Errorf("parse.columns[%d]: %w", i, err)
		}
		for _, r := range reserved {
			if c == r || strings.HasPrefix(c, r+".") {
				return nil, fmt.Errorf("parse.columns[%d] %q: %q is written by logrouter itself", i, c, r)
			}
		}
		if c == field || (ps.KeepField && strings.HasPrefix(c, field+".")) {
			return nil, fmt.Errorf("parse.columns[%d] %q: that is, or is under, the field being parsed (%s), which keep_field keeps as a string; name another", i, c, field)
		}
		pr.columns = append(pr.columns, splitPath(c))
		named++
	}
	if named == 0 {
		return nil, errors.New("parse.columns: every column is skipped")
	}
	return pr, nil
}

// nextColumn returns the first column of s (quotes removed) and the rest
// after its separator; ok is false when s is empty.
func nextColumn(s []byte, sep byte) (col, rest []byte, ok bool) {
	if len(s) == 0 {
		return nil, nil, false
	}
	if s[0] == '"' {
		for i := 1; i < len(s); i++ {
			if s[i] == '"' && (i+1 == len(s) || s[i+1] == sep) {
				if i+1 == len(s) {
					return s[1:i], nil, true
				}
				return s[1:i], s[i+2:], true
			}
		}
		// No closing quote: the column runs to the separator, quote kept.
	}
	if i := bytes.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, nil, true
}

// parseColumns applies p to the event's field; see ParseSpec.
func (n *Normalizer) parseColumns(p *parser) {
	c := n.findPath(&p.field)
	if c < 0 {
		return
	}
	text := bytes.TrimRight(n.stringOf(c), "\r\n")
	if len(text) == 0 {
		return
	}
	// Count first: a line that does not fit the format is left whole.
	count := 0
	for rest, ok := text, true; ok && count < len(p.columns); count++ {
		if _, rest, ok = nextColumn(rest, p.sep); !ok {
			break
		}
	}
	if count < len(p.columns) {
		return
	}
	if p.header != nil {
		if first, _, _ := nextColumn(text, p.sep); bytes.Equal(first, p.header) {
			return // the format's header line
		}
	}
	if !p.keep {
		// Removed first: a column may be under its path (field log,
		// column log.level makes log an object).
		n.nodes[c].kind = kRemoved
	}
	rest := text
	for _, segs := range p.columns {
		var col []byte
		col, rest, _ = nextColumn(rest, p.sep)
		if segs == nil || len(col) == 0 || (len(col) == 1 && col[0] == '-') {
			continue
		}
		t := n.setPath(segs, kStr, 0)
		n.nodes[t].data = col
	}
}

// parseText applies a parse with format syslog to the event's field: the
// text parser's object is walked into the root as a second source, under
// the profile's renames, the event's own fields winning (see
// ParseSpec.Format). The object lives in the Normalizer's buffers until the
// next Build.
func (n *Normalizer) parseText(p *parser) {
	if n.c.newTextParser == nil || n.childH(0, keyLogrouter, hashLogrouter) >= 0 {
		return // parsed by the syslog input already (its parse_status), or an edge's event
	}
	c := n.findPath(&p.field)
	if c < 0 {
		return
	}
	text := n.stringOf(c)
	if len(text) == 0 {
		return
	}
	if n.tpReuse {
		// Rebuilt for a variant after its base parsed the same text
		// (Build): that object is walked again, not parsed again.
		n.tpReuse = false
		switch {
		case n.tpObj == nil:
		case n.tpMsg:
			n.walkUnderlay(n.tpObj)
		default:
			n.applyParsed(p, c, n.tpObj)
		}
		return
	}
	n.tpObj, n.tpMsg = nil, false
	if p.windows && !n.alone(&p.field) {
		n.parseWindowsMessage(text)
		return
	}
	if p.windows && !windowsText(text) {
		return
	}
	if n.tp == nil {
		n.tp = n.c.newTextParser()
	}
	if rc, is := n.tp.(ReceiveClock); is && n.meta != nil {
		// The year of a date without one is inferred from when the
		// event came in, not from this machine's clock (a replay).
		rc.SetReceived(n.meta.IngestTime)
	}
	var out []byte
	var ok bool
	if p.windows {
		wp, is := n.tp.(WindowsTextParser)
		if !is {
			return
		}
		out, ok = wp.AppendWindowsJSON(n.tpBuf[:0], text, n.tzDef)
	} else {
		out, ok = n.tp.AppendJSON(n.tpBuf[:0], text, n.tzDef)
	}
	n.tpBuf = out
	if !ok {
		return
	}
	v, err := n.tpJSON.ParseBytes(out)
	if err != nil {
		return // the parser's output is valid JSON; left whole if not
	}
	o, err := v.Object()
	if err != nil {
		return
	}
	n.tpObj = o
	n.applyParsed(p, c, o)
}

// applyParsed walks o, the object parsed from field c's text, into the
// tree as a second source (the event's own fields win), and removes the
// field unless the parse keeps it.
func (n *Normalizer) applyParsed(p *parser, c int32, o *fastjson.Object) {
	if n.fields+countKeys(o) > n.c.maxFields {
		// Too many fields with the parsed ones: the line stays whole
		// rather than the event be refused for what it carried as text.
		return
	}
	if !p.keep {
		n.nodes[c].kind = kRemoved
	}
	own := n.childH(0, keyTimestamp, hashTimestamp)
	n.walkUnderlay(o)
	if own < 0 {
		// The parser's "timestamp" (the header's, or the payload's date
		// and time): Build removes it unless it became @timestamp.
		n.parsedTS = n.childH(0, keyTimestamp, hashTimestamp)
		if n.parsedTS >= 0 && headerFirst(o) {
			n.hdrTS = n.parsedTS
		}
	}
}

// walkUnderlay walks o into the root, the event's own fields winning.
func (n *Normalizer) walkUnderlay(o *fastjson.Object) {
	n.path = n.path[:0]
	n.underlay = true
	n.walk(0, o, true)
	n.underlay = false
	n.path = n.path[:0]
}

// Paths parseWindowsMessage reads.
var (
	pathWinChannel   = CompilePath("winlog.channel")
	pathWinEventID   = CompilePath("winlog.event_id")
	pathWinEventData = CompilePath("winlog.event_data")
)

// parseWindowsMessage, for format windows, adds winlog.event_data from the
// rendered message (text) of a structured Security event that came
// without its data by name: Fluent Bit's winevtlog sends the event's
// values by position only (StringInserts), so its logons had no account
// and no source address. Only the Security channel: its messages are
// Windows' templates, where only the inserted values are someone's
// (duplicates dropped, see the parser); an Application event's message is
// all someone's, and is never read as fields. The message stays.
func (n *Normalizer) parseWindowsMessage(text []byte) {
	ch := n.findPath(&pathWinChannel)
	if ch < 0 || !bytes.Equal(n.stringOf(ch), []byte("Security")) || n.findPath(&pathWinEventData) >= 0 {
		return
	}
	id := n.findPath(&pathWinEventID)
	if id < 0 {
		return
	}
	var idText []byte
	if nd := &n.nodes[id]; nd.kind == kValue && nd.val.Type() == fastjson.TypeNumber {
		idText = nd.val.MarshalTo(n.scratch[:0])
		n.scratch = idText
	} else if idText = n.stringOf(id); idText == nil {
		return
	}
	if n.tp == nil {
		n.tp = n.c.newTextParser()
	}
	wp, is := n.tp.(WindowsTextParser)
	if !is {
		return
	}
	out, ok := wp.AppendWindowsMessage(n.tpBuf[:0], idText, text)
	n.tpBuf = out
	if !ok {
		return
	}
	v, err := n.tpJSON.ParseBytes(out)
	if err != nil {
		return
	}
	o, err := v.Object()
	if err != nil || n.fields+countKeys(o) > n.c.maxFields {
		return
	}
	n.tpObj, n.tpMsg = o, true
	n.walkUnderlay(o)
}

// alone reports whether the field is the event's only one (@timestamp
// aside; a nested field's top-level member counts as the field): a
// Windows event sent as text is the whole event. One that came
// with fields of its own (Winlogbeat's winlog.*, NXLog's Channel) is
// structured already, and its message is what the event says, which
// anyone who can write an event log entry chooses: parsing it would let
// them add fields to the event.
func (n *Normalizer) alone(field *Path) bool {
	top := field.s // the field's top-level member: the first segment
	if i := strings.IndexByte(top, '.'); i >= 0 {
		top = top[:i]
	}
	for m := n.nodes[0].first; m >= 0; m = n.nodes[m].next {
		if nd := &n.nodes[m]; nd.kind != kRemoved && string(nd.key) != "@timestamp" && string(nd.key) != top && string(nd.key) != field.s {
			return false
		}
	}
	return true
}

// windowsText reports whether text starts like a Windows event in XML or
// in Splunk's classic rendering (see ParseSpec.Format "windows"); the
// parser decides whether it is one.
func windowsText(text []byte) bool {
	t := bytes.TrimLeft(text, " \t\r\n")
	t = bytes.TrimLeft(bytes.TrimPrefix(t, []byte("\xEF\xBB\xBF")), " \t\r\n") // a byte order mark
	if bytes.HasPrefix(t, []byte("<Event")) || bytes.HasPrefix(t, []byte("<?xml")) || bytes.HasPrefix(t, []byte("LogName=")) {
		return true
	}
	// The classic rendering's first line: "11/28/2026 10:00:00 AM".
	if len(t) > 0 && t[0] >= '0' && t[0] <= '9' {
		if i := bytes.IndexByte(t, '\n'); i > 0 && i < 32 {
			return bytes.HasPrefix(t[i+1:], []byte("LogName="))
		}
	}
	return false
}

// countKeys returns the keys of o and of the objects in it, as walk counts
// fields.
func countKeys(o *fastjson.Object) int {
	k := 0
	o.Visit(func(_ []byte, v *fastjson.Value) {
		k++
		if v.Type() == fastjson.TypeObject {
			inner, _ := v.Object()
			k += countKeys(inner)
		}
	})
	return k
}

// OrderedMap is a YAML mapping of strings that keeps the file's order.
type OrderedMap struct {
	Keys   []string
	Values []string
}

// UnmarshalYAML keeps key order.
func (m *OrderedMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: expected a mapping", n.Line)
	}
	// YAML merge keys (<<: *anchor, or a list of them) first: profiles of
	// one source share their renames that way. As YAML has it, a key of a
	// mapping earlier in the list wins over a later one, and the mapping's
	// own keys override merged ones (in their place); one merge key per
	// mapping, as the decoder allows.
	mergeAt := -1
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag != "!!merge" {
			continue
		}
		if mergeAt >= 0 {
			return fmt.Errorf("line %d: a second merge key (<<) in one mapping (the first at line %d): list the anchors in one, <<: [*a, *b]", k.Line, n.Content[mergeAt].Line)
		}
		mergeAt = i
		srcs := []*yaml.Node{v}
		if v.Kind == yaml.SequenceNode {
			srcs = v.Content
		}
		for _, src := range srcs {
			var sub OrderedMap
			if err := sub.UnmarshalYAML(src); err != nil {
				return fmt.Errorf("line %d: merge key: %w", k.Line, err)
			}
			for j, key := range sub.Keys {
				if slices.Contains(m.Keys, key) {
					continue // an earlier mapping of the list named it
				}
				m.Keys = append(m.Keys, key)
				m.Values = append(m.Values, sub.Values[j])
			}
		}
	}
	merged := len(m.Keys)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			continue
		}
		if k.Kind == yaml.AliasNode {
			k = k.Alias // *src: user.name renames what src's anchor holds
		}
		if v.Kind == yaml.AliasNode {
			v = v.Alias
		}
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: the value of %q must be a scalar", v.Line, k.Value)
		}
		// A key written twice: one of its values would be silently
		// ignored (a later rename line overriding an earlier one; two
		// detect.equals values no event has at once). The decoder refuses
		// it in every other mapping.
		for j := 0; j < i; j += 2 {
			prev := n.Content[j]
			if prev.Kind == yaml.AliasNode {
				prev = prev.Alias
			}
			if prev.Tag != "!!merge" && prev.Value == k.Value {
				return fmt.Errorf("line %d: key %q is written twice (first at line %d): keep one", k.Line, k.Value, prev.Line)
			}
		}
		if at := slices.Index(m.Keys[:merged], k.Value); at >= 0 {
			m.Values[at] = v.Value
			continue
		}
		m.Keys = append(m.Keys, k.Value)
		m.Values = append(m.Values, v.Value)
	}
	return nil
}

// LoadProfiles reads every *.yaml in dir (file-name order). A missing dir
// means no profiles.
func LoadProfiles(fsys fs.FS, dir string) ([]ProfileSpec, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("profiles: read %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && (strings.HasSuffix(e.Name(), ".yaml") || strings.HasSuffix(e.Name(), ".yml")) {
			names = append(names, path.Join(dir, e.Name()))
		}
	}
	sort.Strings(names)
	var out []ProfileSpec
	var errs []error
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var f struct {
			// Shared holds YAML anchors for the profiles to merge
			// (rename: {<<: *windows_renames, ...}); it is not read.
			Shared   yaml.Node     `yaml:"shared"`
			Profiles []ProfileSpec `yaml:"profiles"`
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
			errs = append(errs, errors.New(yamlerr.Format(name, err)))
			continue
		}
		if err := yamlerr.NoFurtherDocument(name, dec, "a profile file"); err != nil {
			errs = append(errs, err)
			continue
		}
		var doc yaml.Node
		_ = yaml.Unmarshal(data, &doc)
		lines, empty := listLines(&doc, "profiles")
		if empty > 0 {
			// The decoder drops a null item: the profiles after it would
			// be numbered with the lines of those before.
			errs = append(errs, fmt.Errorf("%s:%d: an empty item in profiles (a \"-\" with nothing after it): remove it, or complete the profile", name, empty))
			continue
		}
		for i := range f.Profiles {
			f.Profiles[i].File = name
			if i < len(lines) {
				f.Profiles[i].Line = lines[i]
			}
		}
		out = append(out, f.Profiles...)
	}
	return out, errors.Join(errs...)
}

// listLines returns the line of each item of the list under key, and the
// line of the first null item (0 if none).
func listLines(doc *yaml.Node, key string) (lines []int, empty int) {
	if len(doc.Content) == 0 {
		return nil, 0
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			for _, it := range m.Content[i+1].Content {
				if empty == 0 && it.Kind == yaml.ScalarNode && it.Tag == "!!null" {
					empty = it.Line
				}
				lines = append(lines, it.Line)
			}
			return lines, empty
		}
	}
	return nil, 0
}

// conversion kinds
const (
	convInt uint8 = iota + 1
	convFloat
	convBool
	convIP
	convLower // a string in ASCII lower case (ECS keyword values such as event.outcome)
	convString
	// convAddress keeps an ECS .address as it is and, when it is an IP
	// address, also writes it (as ip does) at the sibling .ip where that is
	// absent: ECS's "store the raw address in the .address field, then
	// duplicate it to .ip" (CloudTrail's sourceIPAddress is an address or
	// an AWS service's name).
	convAddress
	// convList keeps a list as it is and sets aside any other value (a
	// string, a number, an object): a field a vendor writes as a list of
	// objects in most records and as one string in others (Microsoft 365's
	// Parameters) has one mapping in OpenSearch, which refuses the other
	// shape. convObjects keeps only a list of objects: Microsoft 365's
	// ModifiedProperties is a list of {Name, NewValue, OldValue} objects
	// in Azure AD records and a list of property names in Exchange's.
	convList
	convObjects
)

var convNames = map[string]uint8{"int": convInt, "long": convInt, "integer": convInt, "float": convFloat, "double": convFloat,
	"bool": convBool, "boolean": convBool, "ip": convIP, "address": convAddress, "string": convString, "keyword": convString, "lower": convLower, "list": convList, "objects": convObjects}

// profile is a compiled ProfileSpec.
type profile struct {
	name      string
	actions   actionTable // global renames/drops with this profile's on top
	actionsOn bool
	present   []Path
	eqPaths   []Path
	eqValues  [][]byte
	match     Matcher // detect.expr, or nil
	// detect.dataset: the source type of a detected event is dsPrefix,
	// the string at dsField and dsSuffix (dsField nil: the name).
	dsField            *Path
	dsPrefix, dsSuffix string
	dsConst            string // detect.dataset without a field
	// variants are the profiles whose constant detect.dataset is this
	// profile's name, in file order: an event this profile was selected
	// for by its source type is checked against their detects too.
	variants []*profile
	ts       []Path
	join     []Path
	renames  []rename
	converts []conversion
	drops    []Path
	sets     []constant
	parse    *parser
	// nonePaths and noneVals: fields whose value, as text, says "none"
	// (DropValues).
	nonePaths []Path
	noneVals  [][]byte
	noneWords [][]byte // NoneValues
	splits    []splitOp
	copies    []copyOp
	maps      []mapOp
	// acts and lifts are what actions was built from, kept for the
	// variants (compile time only).
	acts  map[string]action
	lifts []string
}

type rename struct {
	from Path
	to   [][]byte
}

type conversion struct {
	p    Path
	kind uint8
	ip   [][]byte // convAddress: the sibling ip's path
}

type constant struct {
	segs [][]byte
	lit  []byte
}

// profiles indexes compiled profiles by source type.
type profiles struct {
	byName   map[string]*profile
	prefixes []prefixProfile
	detect   []*profile
	// synonyms map another name of a source to its profile's source type
	// name (Synonyms); synPrefixes are the ones written with a "*".
	synonyms    map[string]string
	synPrefixes []prefixSynonym
}

type prefixSynonym struct {
	prefix, name string
	owner        string // the profile that lists it
}

type prefixProfile struct {
	prefix string
	p      *profile
}

func compileProfiles(specs []ProfileSpec, global map[string]action, compileMatcher func(string) (Matcher, error)) (*profiles, error) {
	ps := &profiles{byName: map[string]*profile{}, synonyms: map[string]string{}}
	var errs []error
	type claim struct{ owner, at string }
	synAt := map[string]claim{} // synonym -> the profile that claimed it
	for i := range specs {
		sp := &specs[i]
		at := fmt.Sprintf("%s:%d: profile %q", sp.File, sp.Line, sp.Name)
		if sp.Name == "" {
			errs = append(errs, fmt.Errorf("%s:%d: a profile needs a name (the source type it defines)", sp.File, sp.Line))
			continue
		}
		p := &profile{name: sp.Name}
		for _, st := range append([]string{sp.Name}, sp.SourceTypes...) {
			if strings.HasSuffix(st, "*") {
				ps.prefixes = append(ps.prefixes, prefixProfile{strings.TrimSuffix(st, "*"), p})
				continue
			}
			if prev, dup := ps.byName[st]; dup {
				errs = append(errs, fmt.Errorf("%s: source type %q is already claimed by profile %q", at, st, prev.name))
				continue
			}
			ps.byName[st] = p
		}
		for _, syn := range sp.Synonyms {
			canon := sp.Name
			if sp.Detect != nil && sp.Detect.Dataset != "" && !strings.ContainsAny(sp.Detect.Dataset, "{}") {
				canon = sp.Detect.Dataset // a variant names its base's source type
			}
			switch {
			case strings.TrimSuffix(syn, "*") == "" || strings.ContainsAny(strings.TrimSuffix(syn, "*"), "*\"\\ \t\r\n"):
				errs = append(errs, fmt.Errorf("%s: synonym %q: write a source type name (a trailing * makes a prefix)", at, syn))
			case genericSourceType([]byte(syn)):
				errs = append(errs, fmt.Errorf("%s: synonym %q is one of Splunk's catch-all JSON source types, which name no source", at, syn))
			case synAt[syn].owner != "":
				errs = append(errs, fmt.Errorf("%s: synonym %q is already claimed by profile %q", at, syn, synAt[syn].owner))
			case strings.HasSuffix(syn, "*"):
				synAt[syn] = claim{sp.Name, at}
				ps.synPrefixes = append(ps.synPrefixes, prefixSynonym{strings.TrimSuffix(syn, "*"), canon, sp.Name})
			default:
				synAt[syn] = claim{sp.Name, at}
				ps.synonyms[syn] = canon
			}
		}
		if d := sp.Detect; d != nil {
			for _, f := range d.Present {
				if err := checkPath(f); err != nil {
					errs = append(errs, fmt.Errorf("%s: detect.present: %w", at, err))
				}
				p.present = append(p.present, CompilePath(f))
			}
			for k, key := range d.Equals.Keys {
				if err := checkPath(key); err != nil {
					errs = append(errs, fmt.Errorf("%s: detect.equals: %w", at, err))
				}
				p.eqPaths = append(p.eqPaths, CompilePath(key))
				p.eqValues = append(p.eqValues, []byte(d.Equals.Values[k]))
			}
			if strings.TrimSpace(d.Expr) != "" {
				if compileMatcher == nil {
					errs = append(errs, fmt.Errorf("%s: detect.expr needs the rules engine (load profiles with the rules)", at))
				} else if m, err := compileMatcher(d.Expr); err != nil {
					errs = append(errs, fmt.Errorf("%s: detect.expr: %w", at, err))
				} else {
					p.match = m
				}
			}
			if len(p.present)+len(p.eqPaths) == 0 && strings.TrimSpace(d.Expr) == "" {
				errs = append(errs, fmt.Errorf("%s: detect needs present, equals or expr", at))
			}
			if d.Dataset != "" && !strings.ContainsAny(d.Dataset, "{}") {
				// A constant: profiles for parts of one source (by event
				// id, say) that name the same source type.
				if !datasetName(d.Dataset, true) || strings.Trim(d.Dataset, ".-") != d.Dataset || strings.Contains(d.Dataset, "..") {
					errs = append(errs, fmt.Errorf(`%s: detect.dataset %q: lower-case letters, digits, '.', '_' or '-'`, at, d.Dataset))
				}
				p.dsConst = d.Dataset
			} else if d.Dataset != "" {
				open, end := strings.IndexByte(d.Dataset, '{'), strings.IndexByte(d.Dataset, '}')
				field := ""
				if open >= 0 && end > open {
					field = d.Dataset[open+1 : end]
				}
				rest := ""
				if end >= 0 {
					rest = d.Dataset[end+1:]
				}
				switch {
				case field == "" || strings.ContainsAny(rest, "{}") || strings.ContainsAny(d.Dataset[:open], "{}"):
					errs = append(errs, fmt.Errorf(`%s: detect.dataset %q: write one field in braces, as "zeek.{_path}"`, at, d.Dataset))
				case checkPath(field) != nil:
					errs = append(errs, fmt.Errorf("%s: detect.dataset: %w", at, checkPath(field)))
				case !datasetName(d.Dataset[:open]+"x"+rest, true):
					errs = append(errs, fmt.Errorf(`%s: detect.dataset %q: the text around the field must be lower-case letters, digits, '.', '_' or '-'`, at, d.Dataset))
				default:
					fp := CompilePath(field)
					p.dsField, p.dsPrefix, p.dsSuffix = &fp, d.Dataset[:open], rest
				}
			}
			ps.detect = append(ps.detect, p)
		}
		if t := sp.Timestamp; t != nil {
			for _, f := range append(slices.Clip(t.Fields), t.Join...) {
				if err := checkPath(f); err != nil {
					errs = append(errs, fmt.Errorf("%s: timestamp: %w", at, err))
				}
			}
			for _, f := range t.Fields {
				p.ts = append(p.ts, CompilePath(f))
			}
			for _, f := range t.Join {
				p.join = append(p.join, CompilePath(f))
			}
		}
		for k, from := range sp.Rename.Keys {
			to := sp.Rename.Values[k]
			if err := checkSourcePath(from); err != nil {
				errs = append(errs, fmt.Errorf("%s: rename %q: %w", at, from, err))
				continue
			}
			if strings.HasSuffix(from, "*") {
				errs = append(errs, fmt.Errorf("%s: rename %q: a wildcard names the members of an object whose members are renamed; rename those (two matching objects would go to one target)", at, from))
				continue
			}
			if err := checkPath(to); err != nil {
				errs = append(errs, fmt.Errorf("%s: rename %q -> %q: %w", at, from, to, err))
				continue
			}
			for _, r := range reserved {
				if to == r || strings.HasPrefix(to, r+".") {
					errs = append(errs, fmt.Errorf("%s: rename %q -> %q: %q is written by logrouter itself", at, from, to, r))
				}
			}
			p.renames = append(p.renames, rename{CompilePath(from), splitPath(to)})
		}
		for k, f := range sp.DropValues.Keys {
			if err := checkPath(f); err != nil {
				errs = append(errs, fmt.Errorf("%s: drop_values %q: %w", at, f, err))
				continue
			}
			p.nonePaths = append(p.nonePaths, CompilePath(f))
			p.noneVals = append(p.noneVals, []byte(sp.DropValues.Values[k]))
		}
		for _, w := range sp.NoneValues {
			p.noneWords = append(p.noneWords, []byte(w))
		}
		for k, from := range sp.Copy.Keys {
			to := sp.Copy.Values[k]
			where := fmt.Sprintf("%s: copy %s", at, from)
			bad := false
			if err := checkListSource(from); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				bad = true
			}
			if err := checkTarget(to); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				bad = true
			}
			for _, r := range reserved {
				if !bad && (to == r || strings.HasPrefix(to, r+".")) {
					errs = append(errs, fmt.Errorf("%s: to %q: %q is written by logrouter itself", where, to, r))
					bad = true
				}
			}
			if !bad && (to == from || strings.HasPrefix(to, from+".") || strings.HasPrefix(from, to+".")) {
				errs = append(errs, fmt.Errorf("%s: to %q: the field itself, or a path inside it", where, to))
				bad = true
			}
			if !bad {
				p.copies = append(p.copies, newCopyOp(from, to))
			}
		}
		// A split with patterns is one split per pattern, each after the
		// first an alternative (applied only when none before it matched).
		var splits []SplitSpec
		var alts []bool
		for _, sl := range sp.Split {
			if len(sl.Patterns) == 0 {
				splits, alts = append(splits, sl), append(alts, false)
				continue
			}
			if sl.Pattern != "" || sl.Regex != "" || sl.Separator != "" {
				errs = append(errs, fmt.Errorf("%s: split (%s): patterns is one of separator, regex, pattern and patterns: one of them", at, sl.Field))
				continue
			}
			for k, pat := range sl.Patterns {
				one := sl
				one.Patterns = nil
				one.Pattern = pat
				splits, alts = append(splits, one), append(alts, k > 0)
			}
		}
		for i, sl := range splits {
			where := fmt.Sprintf("%s: split[%d] (%s)", at, i, sl.Field)
			if err := checkPath(sl.Field); err != nil {
				errs = append(errs, fmt.Errorf("%s: field: %w", where, err))
				continue
			}
			op := splitOp{field: CompilePath(sl.Field), sep: []byte(sl.Separator)}
			switch {
			case (sl.Regex != "") && (sl.Separator != "") || sl.Pattern != "" && (sl.Regex != "" || sl.Separator != ""):
				errs = append(errs, fmt.Errorf("%s: a separator, a regex or a pattern: one of them", where))
				continue
			case sl.Pattern != "":
				if len(sl.Into) > 0 {
					errs = append(errs, fmt.Errorf("%s: a pattern names its paths itself (%%{path}): no into", where))
					continue
				}
				d, keys, err := compileDissect(sl.Pattern)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", where, err))
					continue
				}
				op.pat, sl.Into = d, keys
			case sl.Regex != "":
				re, err := regexp.Compile(sl.Regex)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: regex: %w", where, err))
					continue
				}
				if re.NumSubexp() == 0 || len(sl.Into) != re.NumSubexp() {
					errs = append(errs, fmt.Errorf("%s: the regex has %d capture groups and into names %d paths: one per group (\"\" skips one)", where, re.NumSubexp(), len(sl.Into)))
					continue
				}
				op.re = re
			case sl.Separator == "" || len(sl.Into) != 2:
				errs = append(errs, fmt.Errorf("%s: needs a separator and into: [two paths] (the parts before and after it), or a regex and a path per capture group", where))
				continue
			}
			op.segs, op.self = make([][][]byte, len(sl.Into)), make([]bool, len(sl.Into))
			bad, named := false, map[string]bool{}
			for k, to := range sl.Into {
				if to == "" && (op.re != nil || op.pat != nil) {
					continue // a group or key not kept
				}
				if named[to] {
					errs = append(errs, fmt.Errorf("%s: into names %q twice", where, to))
					bad = true
					continue
				}
				named[to] = true
				if err := checkPath(to); err != nil {
					errs = append(errs, fmt.Errorf("%s: into %q: %w", where, to, err))
					bad = true
					continue
				}
				for _, r := range reserved {
					if to == r || strings.HasPrefix(to, r+".") {
						errs = append(errs, fmt.Errorf("%s: into %q: %q is written by logrouter itself", where, to, r))
						bad = true
					}
				}
				if to != sl.Field && (strings.HasPrefix(to, sl.Field+".") || strings.HasPrefix(sl.Field, to+".")) {
					errs = append(errs, fmt.Errorf("%s: into %q: a path inside the field, or the field inside it", where, to))
					bad = true
				}
				op.segs[k], op.self[k] = splitPath(to), to == sl.Field
			}
			if !bad {
				op.alt = alts[i]
				p.splits = append(p.splits, op)
			}
		}
		for i, ms := range sp.Map {
			where := fmt.Sprintf("%s: map[%d] (%s)", at, i, ms.Field)
			to := ms.To
			if to == "" {
				to = ms.Field
			}
			bad := false
			if err := checkListSource(ms.Field); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				bad = true
			}
			if !bad && to == ms.Field && strings.ContainsAny(to, "[]") {
				errs = append(errs, fmt.Errorf("%s: a list element ([member=value]) is not mapped in place: name the field to write (to:)", where))
				bad = true
			} else if err := checkTarget(to); err != nil && to != ms.Field {
				errs = append(errs, fmt.Errorf("%s: %w", where, err))
				bad = true
			}
			for _, r := range reserved {
				if !bad && (to == r || strings.HasPrefix(to, r+".")) {
					errs = append(errs, fmt.Errorf("%s: to %q: %q is written by logrouter itself", where, to, r))
					bad = true
				}
			}
			if len(ms.Values.Keys) == 0 {
				errs = append(errs, fmt.Errorf("%s: needs values: {value sent: value written, ...}", where))
				bad = true
			}
			if bad {
				continue
			}
			op := mapOp{field: CompilePath(ms.Field), list: newListPath(ms.Field), to: splitPath(to), self: to == ms.Field}
			for k, key := range ms.Values.Keys {
				pre := strings.HasSuffix(key, "*")
				op.pre = append(op.pre, pre)
				key = strings.TrimSuffix(key, "*")
				op.keys = append(op.keys, []byte(key))
				op.lits = append(op.lits, AppendString(nil, []byte(ms.Values.Values[k])))
			}
			if ms.Default != "" {
				op.def = AppendString(nil, []byte(ms.Default))
			}
			p.maps = append(p.maps, op)
		}
		for _, f := range sp.ValuesOnly {
			if !slices.Contains(sp.Rename.Keys, f) {
				errs = append(errs, fmt.Errorf("%s: values_only %q is not a rename source of this profile", at, f))
			}
		}
		// Renames are applied while the input is walked, so a source must be
		// a field as it arrives, never the product of another rename.
		for k, from := range sp.Rename.Keys {
			for j, to := range sp.Rename.Values {
				if j != k && (from == to || strings.HasPrefix(from, to+".")) {
					errs = append(errs, fmt.Errorf("%s: rename %q: that path only exists after rename %q -> %q; name the field as it arrives (%q)",
						at, from, sp.Rename.Keys[j], to, sp.Rename.Keys[j]+strings.TrimPrefix(from, to)))
				}
			}
		}
		for k, f := range sp.Convert.Keys {
			if err := checkPath(f); err != nil {
				errs = append(errs, fmt.Errorf("%s: convert %q: %w", at, f, err))
				continue
			}
			kind, ok := convNames[sp.Convert.Values[k]]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: convert %q: %q is not int, float, bool, ip, address, string, lower, list or objects", at, f, sp.Convert.Values[k]))
				continue
			}
			cv := conversion{p: CompilePath(f), kind: kind}
			if kind == convAddress {
				parent, _, _ := strings.Cut(f, ".address")
				if !strings.HasSuffix(f, ".address") || strings.Contains(parent, ".address") {
					errs = append(errs, fmt.Errorf("%s: convert %q: address applies to an ECS .address field (source.address, client.address ...), whose sibling .ip it writes", at, f))
					continue
				}
				cv.ip = splitPath(parent + ".ip")
			}
			p.converts = append(p.converts, cv)
		}
		for _, f := range sp.Drop {
			if err := checkSourcePath(f); err != nil {
				errs = append(errs, fmt.Errorf("%s: drop %q: %w", at, f, err))
				continue
			}
			p.drops = append(p.drops, CompilePath(f))
		}
		if sp.Parse != nil {
			pr, err := compileParse(sp.Parse)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", at, err))
			}
			p.parse = pr
		}
		// The walk applies renames and drops: the global ones, then this
		// profile's on top (same source path: the profile wins).
		acts := make(map[string]action, len(global)+len(p.renames)+len(p.drops))
		for k, v := range global {
			acts[k] = v
		}
		for _, r := range p.renames {
			a := acts[r.from.s]
			a.target, a.drop = r.to, false
			// A rename below a wildcard moves plain values only: two
			// members' objects would go to one target unranked.
			a.within = renameWithin(r.from.s, string(bytes.Join(r.to, []byte(".")))) || slices.Contains(sp.ValuesOnly, r.from.s) ||
				strings.Contains(r.from.s, "*")
			acts[r.from.s] = a
			markInterior(acts, r.from.s)
		}
		for _, d := range p.drops {
			a := acts[d.s]
			a.drop, a.target = true, nil
			acts[d.s] = a
			markInterior(acts, d.s)
		}
		for _, f := range sp.Lift {
			if err := checkPath(f); err != nil || !strings.Contains(f, ".") {
				errs = append(errs, fmt.Errorf("%s: lift %q: name a list inside an object (event_data.data), whose members it moves into", at, f))
				continue
			}
			if a := acts[f]; a.drop || a.target != nil {
				errs = append(errs, fmt.Errorf("%s: lift %q: the path is also renamed or dropped; keep one", at, f))
				continue
			}
			a := acts[f]
			a.lift = true
			acts[f] = a
			markInterior(acts, f)
		}
		if err := overlappingWild(acts); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", at, err))
		}
		p.actions = newActionTable(acts)
		p.actionsOn = len(acts) > 0
		p.acts, p.lifts = acts, sp.Lift
		for k, f := range sp.Set.Keys {
			if err := checkPath(f); err != nil {
				errs = append(errs, fmt.Errorf("%s: set %q: %w", at, f, err))
				continue
			}
			p.sets = append(p.sets, constant{splitPath(f), literal(sp.Set.Values[k])})
		}
	}
	sort.SliceStable(ps.prefixes, func(i, j int) bool { return len(ps.prefixes[i].prefix) > len(ps.prefixes[j].prefix) })
	sort.SliceStable(ps.synPrefixes, func(i, j int) bool { return len(ps.synPrefixes[i].prefix) > len(ps.synPrefixes[j].prefix) })
	// Checked after the loop: the other profile may come later.
	for _, syn := range slices.Sorted(maps.Keys(synAt)) {
		if p, ok := ps.byName[syn]; ok {
			errs = append(errs, fmt.Errorf("%s: synonym %q is also a source type of profile %q: keep it in one of the two lists", synAt[syn].at, syn, p.name))
		}
		// A variant's synonym names its base; with no profile of that
		// name, its own (else the synonym would select nothing, and, as
		// a source type sent, keep detection from running).
		if canon, ok := ps.synonyms[syn]; ok && ps.byName[canon] == nil {
			ps.synonyms[syn] = synAt[syn].owner
		}
	}
	for i := range ps.synPrefixes {
		if sp := &ps.synPrefixes[i]; ps.byName[sp.name] == nil {
			sp.name = sp.owner
		}
	}
	for _, p := range ps.detect {
		if base := ps.byName[p.dsConst]; p.dsConst != "" && base != nil && base != p {
			base.variants = append(base.variants, p)
			if p.parse == nil && base.parse != nil && base.parse.syslog {
				// The variant was detected on the text its base parsed:
				// rebuilt with the variant, the event is parsed again.
				p.parse = base.parse
			}
			if len(p.lifts) == 0 && len(base.lifts) > 0 {
				// Detected on the lists its base lifted: lifted again.
				for _, f := range base.lifts {
					if a := p.acts[f]; !a.drop && a.target == nil {
						a.lift = true
						p.acts[f] = a
						markInterior(p.acts, f)
					}
				}
				p.actions, p.actionsOn = newActionTable(p.acts), true
			}
		}
	}
	return ps, errors.Join(errs...)
}

// markInterior marks every proper prefix of path as interior in acts, so
// that the walk looks for actions below it, and notes a wildcard segment
// (see wildSegment) on the prefix above it.
func markInterior(acts map[string]action, path string) {
	for i := 0; i < len(path); i++ {
		if path[i] != '.' {
			continue
		}
		a := acts[path[:i]]
		a.interior = true
		seg := path[i+1:]
		if j := strings.IndexByte(seg, '.'); j >= 0 {
			seg = seg[:j]
		}
		if strings.HasSuffix(seg, "*") && !slices.ContainsFunc(a.wild, func(w wildSegment) bool { return string(w.seg) == seg }) {
			a.wild = append(slices.Clip(a.wild), wildSegment{prefix: []byte(seg[:len(seg)-1]), seg: []byte(seg)})
		}
		acts[path[:i]] = a
	}
}

// overlappingWild refuses two wildcard segments under one object where
// one's prefix begins the other's (junos@* and junos@2636*): a member is
// read as one segment only, so the paths below the other would silently
// not apply to it.
func overlappingWild(acts map[string]action) error {
	var errs []error
	for p, a := range acts {
		for i, x := range a.wild {
			for _, y := range a.wild[i+1:] {
				if bytes.HasPrefix(x.prefix, y.prefix) || bytes.HasPrefix(y.prefix, x.prefix) {
					errs = append(errs, fmt.Errorf("wildcards %s.%s and %s.%s overlap: a member is read as one of them only; write the paths under one", p, x.seg, p, y.seg))
				}
			}
		}
	}
	// A path naming a member literally where a wildcard of its object
	// also takes it: the member is read as the wildcard's, and the
	// literal path would silently never apply.
	for k := range acts {
		for i := 0; i < len(k); i++ {
			if k[i] != '.' {
				continue
			}
			seg := k[i+1:]
			if j := strings.IndexByte(seg, '.'); j >= 0 {
				seg = seg[:j]
			}
			for _, w := range acts[k[:i]].wild {
				if seg != string(w.seg) && strings.HasPrefix(seg, string(w.prefix)) {
					errs = append(errs, fmt.Errorf("%q names %s.%s, which the wildcard %s.%s takes: write the path with the wildcard", k, k[:i], seg, k[:i], w.seg))
				}
			}
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// checkWild refuses a '*' anywhere but at the end of a segment after the
// first (a wildcard segment, see wildSegment) in a rename or drop source.
func checkWild(path string) error {
	wilds := 0
	for i, seg := range strings.Split(path, ".") {
		k := strings.IndexByte(seg, '*')
		if k >= 0 {
			wilds++
		}
		switch {
		case wilds > 1:
			return fmt.Errorf("%q: one wildcard (*) per path: members below two would rank by the inner one only", path)
		case k < 0:
		case i == 0:
			return fmt.Errorf("%q: a wildcard (*) cannot stand in the first segment; name the object that holds the members (log.syslog.structured_data.junos@*)", path)
		case k != len(seg)-1 || seg == "*":
			return fmt.Errorf("%q: a wildcard (*) ends a segment after a prefix (junos@*): the members whose key begins with it", path)
		}
	}
	return nil
}

// literal renders a YAML scalar as JSON: numbers and booleans as such,
// anything else as a string.
func literal(v string) []byte {
	if v == "true" || v == "false" {
		return []byte(v)
	}
	if validNumber([]byte(v)) {
		return []byte(v)
	}
	return AppendString(nil, []byte(v))
}

// canonical returns the profile source type that st is a synonym of, or
// nil when it is none.
func (ps *profiles) canonical(st []byte) []byte {
	if ps == nil || len(st) == 0 {
		return nil
	}
	if name, ok := ps.synonyms[string(st)]; ok {
		return s2b(name)
	}
	for _, sp := range ps.synPrefixes {
		if len(st) >= len(sp.prefix) && string(st[:len(sp.prefix)]) == sp.prefix {
			return s2b(sp.name)
		}
	}
	return nil
}

// lookup returns the profile selected by a source type, or nil.
func (ps *profiles) lookup(st []byte) *profile {
	if ps == nil || len(st) == 0 {
		return nil
	}
	if p, ok := ps.byName[string(st)]; ok {
		return p
	}
	for _, pp := range ps.prefixes {
		if len(st) >= len(pp.prefix) && string(st[:len(pp.prefix)]) == pp.prefix {
			return pp.p
		}
	}
	return nil
}

// detectProfile returns the first profile whose detection matches the event.
func (n *Normalizer) detectProfile() *profile {
	if n.c.profiles == nil {
		return nil
	}
	return n.firstDetected(n.c.profiles.detect)
}

// firstDetected returns the first of ps whose detect holds for the tree.
func (n *Normalizer) firstDetected(ps []*profile) *profile {
outer:
	for _, p := range ps {
		for i := range p.present {
			if n.findPath(&p.present[i]) < 0 {
				continue outer
			}
		}
		for i := range p.eqPaths {
			c := n.findPath(&p.eqPaths[i])
			if c < 0 || !bytes.Equal(n.stringOf(c), p.eqValues[i]) {
				continue outer
			}
		}
		if p.match != nil && !p.match.Match(n) {
			continue
		}
		return p
	}
	return nil
}

// applyProfile parses, converts and sets fields of the built tree
// (renames and drops happened during the walk).
func (n *Normalizer) applyProfile(p *profile, parsed bool) {
	switch {
	case p.parse == nil || parsed:
	case p.parse.syslog:
		n.parseText(p.parse)
	default:
		n.parseColumns(p.parse)
	}
	for i := range p.nonePaths {
		if c := n.findPath(&p.nonePaths[i]); c >= 0 && n.textIs(c, p.noneVals[i]) {
			n.nodes[c].kind = kRemoved
		}
	}

	for i := range p.copies {
		n.copyValue(&p.copies[i])
	}
	done := false // an alternative of this run of patterns matched
	for i := range p.splits {
		op := &p.splits[i]
		if !op.alt {
			done = false
		}
		if done {
			continue
		}
		done = n.split(op) && op.pat != nil
	}
	for i := range p.converts {
		if c := n.findPath(&p.converts[i].p); c >= 0 {
			if p.converts[i].kind == convAddress {
				n.addressIP(c, p.converts[i].ip)
				continue
			}
			if !n.convert(c, p.converts[i].kind) {
				n.setAside(c, &p.converts[i].p)
			}
		}
	}
	for i := range p.maps {
		n.mapValue(&p.maps[i])
	}
	for i := range p.sets {
		if c := n.setMissing(p.sets[i].segs); c >= 0 {
			n.nodes[c].kind = kLit
			n.nodes[c].data = p.sets[i].lit
		}
	}
}

// mapValue applies one MapSpec (see there).
func (n *Normalizer) mapValue(op *mapOp) {
	var v []byte
	c := n.findPath(&op.field)
	if c < 0 {
		if v = n.listText(&op.list); v == nil || op.self {
			return
		}
	} else {
		var ok bool
		if v, ok = n.textOf(c); !ok {
			return // an object, an array, null: no value to look up
		}
	}
	lit := op.def
	best := -1 // the longest prefix matched
	for i, k := range op.keys {
		if !op.pre[i] {
			if len(k) == len(v) && bytes.EqualFold(k, v) {
				lit, best = op.lits[i], len(v)+1
				break
			}
			continue
		}
		if len(k) > best && len(k) <= len(v) && bytes.EqualFold(k, v[:len(k)]) {
			lit, best = op.lits[i], len(k)
		}
	}
	if lit == nil {
		return
	}
	if !op.self {
		if c = n.setMissing(op.to); c < 0 {
			return // the sender's own value stays
		}
	}
	nd := &n.nodes[c]
	nd.kind, nd.data, nd.val = kLit, lit, nil
}

// textOf returns leaf c's value as text: a string's characters, a number
// or a boolean as written. Not for objects, arrays and null.
func (n *Normalizer) textOf(c int32) ([]byte, bool) {
	nd := &n.nodes[c]
	switch nd.kind {
	case kStr:
		return nd.data, true
	case kLit:
		d := nd.data
		if len(d) >= 2 && d[0] == '"' {
			if bytes.IndexByte(d, '\\') >= 0 {
				return nil, false // an escaped literal: no table key is written so
			}
			return d[1 : len(d)-1], true
		}
		return d, len(d) > 0 && d[0] != 'n' // null
	case kValue:
		switch nd.val.Type() {
		case fastjson.TypeString:
			b, _ := nd.val.StringBytes()
			return b, true
		case fastjson.TypeNumber:
			n.scratch = nd.val.MarshalTo(n.scratch[:0])
			return n.scratch, true
		case fastjson.TypeTrue:
			return textTrue, true
		case fastjson.TypeFalse:
			return textFalse, true
		}
	}
	return nil, false
}

var textTrue, textFalse = []byte("true"), []byte("false")

// split applies one SplitSpec (see there): all or nothing. It reports
// whether the field's text matched (whatever it could write).
func (n *Normalizer) split(op *splitOp) bool {
	c := n.findPath(&op.field)
	if c < 0 {
		return false
	}
	s := n.stringOf(c)
	if s == nil && (op.re != nil || op.pat != nil) {
		s = n.numberText(c) // a number's digits: its parts are strings
	}
	var pair [2][]byte
	var parts [][]byte
	switch {
	case op.pat != nil:
		rp, ok := op.pat.match(s, n.reParts[:0])
		n.reParts = rp
		if !ok {
			return false
		}
		for k := range rp {
			if rp[k] = bytes.Trim(rp[k], " \t"); len(rp[k]) == 0 || (!op.self[k] && n.noneText(rp[k])) {
				rp[k] = nil // an empty key sets nothing, nor does the source's word for none
			}
		}
		parts = rp
	case op.re != nil:
		// Match first: it does not allocate, the submatch indexes do, so
		// only the texts that match cost an allocation.
		if !op.re.Match(s) {
			return false
		}
		m := op.re.FindSubmatchIndex(s)
		if m == nil {
			return false
		}
		rp := n.reParts[:0] // not parts: pair would escape with it
		for k := range op.segs {
			var part []byte
			if a, b := m[2*k+2], m[2*k+3]; a >= 0 && b > a {
				part = s[a:b]
			}
			rp = append(rp, part)
		}
		n.reParts, parts = rp, rp
	default:
		i := bytes.Index(s, op.sep)
		if i <= 0 || i+len(op.sep) >= len(s) {
			return false
		}
		pair = [2][]byte{s[:i], s[i+len(op.sep):]}
		parts = pair[:]
	}
	for k := range parts {
		if op.segs[k] != nil && parts[k] != nil && !op.self[k] && !n.canHold(op.segs[k], parts[k]) {
			return false
		}
	}
	for k := range parts {
		switch {
		case op.segs[k] == nil || parts[k] == nil:
		case op.self[k]:
			nd := &n.nodes[c]
			nd.kind, nd.data, nd.val = kStr, parts[k], nil
		default:
			if t := n.setMissing(op.segs[k]); t >= 0 {
				n.nodes[t].data = parts[k]
			}
		}
	}
	return true
}

// copyValue applies one copyOp: a string's or a number's text written at
// op.to as a string, a boolean as a boolean, a list of strings, numbers and
// booleans as that list, where that is absent.
func (n *Normalizer) copyValue(op *copyOp) {
	c := n.findPath(&op.from)
	if c < 0 {
		v := n.listValue(&op.list)
		if v == nil {
			return
		}
		switch v.Type() {
		case fastjson.TypeTrue:
			n.copyBool(op, textTrue)
		case fastjson.TypeFalse:
			n.copyBool(op, textFalse)
		case fastjson.TypeArray:
			n.copyList(op, v)
		default:
			if s := n.valueText(v); s != nil {
				if t := n.setCopied(op.to); t >= 0 {
					n.nodes[t].data = s
				}
			}
		}
		return
	}
	s := n.stringOf(c)
	if s == nil {
		if s = n.numberText(c); s == nil {
			if b, ok := n.boolText(c); ok {
				n.copyBool(op, b)
			} else if nd := &n.nodes[c]; nd.kind == kValue && nd.val.Type() == fastjson.TypeArray {
				n.copyList(op, nd.val)
			}
			return // an object, null
		}
	}
	if t := n.setCopied(op.to); t >= 0 {
		n.nodes[t].data = s
	}
}

// copyList writes list v at op.to, where that is absent, when its elements
// are all strings, numbers or booleans (Google's multiValue parameters: a
// sign-in's challenge methods, the password and then the second factor).
// The copy shares the event's value: nothing is allocated.
func (n *Normalizer) copyList(op *copyOp, v *fastjson.Value) {
	a, _ := v.Array()
	if len(a) == 0 {
		return
	}
	for _, e := range a {
		switch e.Type() {
		case fastjson.TypeString, fastjson.TypeNumber, fastjson.TypeTrue, fastjson.TypeFalse:
		default:
			return // objects, lists, null: not a list of values
		}
	}
	if t := n.setCopied(op.to); t >= 0 {
		n.nodes[t].kind, n.nodes[t].val = kValue, v
	}
}

// copyBool writes boolean literal b (textTrue or textFalse) at op.to where
// that is absent.
func (n *Normalizer) copyBool(op *copyOp, b []byte) {
	if t := n.setCopied(op.to); t >= 0 {
		n.nodes[t].kind, n.nodes[t].data = kLit, b
	}
}

// boolText returns textTrue or textFalse for a boolean node c.
func (n *Normalizer) boolText(c int32) ([]byte, bool) {
	nd := &n.nodes[c]
	switch {
	case nd.kind == kValue && nd.val.Type() == fastjson.TypeTrue,
		nd.kind == kLit && string(nd.data) == "true":
		return textTrue, true
	case nd.kind == kValue && nd.val.Type() == fastjson.TypeFalse,
		nd.kind == kLit && string(nd.data) == "false":
		return textFalse, true
	}
	return nil, false
}

// listText returns the text of the value at lp (a string's characters, a
// number as written, true or false; valid until the next Build), read in
// the first candidate list the event has, or nil: nothing there, or an
// object, an array or null.
func (n *Normalizer) listText(lp *listPath) []byte {
	return n.valueText(n.listValue(lp))
}

// valueText returns v's text as listText does (nil for nil, an object, an
// array or null).
func (n *Normalizer) valueText(v *fastjson.Value) []byte {
	if v == nil {
		return nil
	}
	switch v.Type() {
	case fastjson.TypeString:
		s, _ := v.StringBytes()
		return s
	case fastjson.TypeNumber:
		start := len(n.lits)
		n.lits = v.MarshalTo(n.lits)
		return n.lits[start:len(n.lits):len(n.lits)]
	case fastjson.TypeTrue:
		return textTrue
	case fastjson.TypeFalse:
		return textFalse
	}
	return nil
}

// listValue returns the value at lp, read in the first candidate list the
// event has, or nil.
func (n *Normalizer) listValue(lp *listPath) *fastjson.Value {
	for i := range lp.lists {
		c := n.findPath(&lp.lists[i])
		if c >= 0 && n.nodes[c].kind == kValue && n.nodes[c].val.Type() == fastjson.TypeArray {
			return member(n.nodes[c].val, lp.ins[i])
		}
	}
	return nil
}

// member returns the value at keys below v (a list's elements by number or
// by selector, an object's members by name, the last of a repeated name,
// as the event is written), or nil. Unlike fastjson's Get it allocates
// nothing when a name meets a list.
func member(v *fastjson.Value, keys []string) *fastjson.Value {
	for _, k := range keys {
		switch v.Type() {
		case fastjson.TypeArray:
			a, _ := v.Array()
			if name, want, ok := selectorParts(k); ok {
				// The last element whose member name is the string want,
				// as the last of a repeated name wins in an object.
				var last *fastjson.Value
				for _, e := range a {
					if e.Type() != fastjson.TypeObject {
						continue
					}
					if m := objectMember(e, name); m != nil && m.Type() == fastjson.TypeString {
						if b, _ := m.StringBytes(); string(b) == want {
							last = e
						}
					}
				}
				if v = last; v == nil {
					return nil
				}
				continue
			}
			i := listIndex(k)
			if i < 0 || i >= len(a) {
				return nil
			}
			v = a[i]
		case fastjson.TypeObject:
			if v = objectMember(v, k); v == nil {
				return nil
			}
		default:
			return nil
		}
	}
	return v
}

// objectMember returns object v's member k, the last of a repeated name,
// or nil.
func objectMember(v *fastjson.Value, k string) *fastjson.Value {
	o, _ := v.Object()
	var last *fastjson.Value
	o.Visit(func(key []byte, m *fastjson.Value) {
		if string(key) == k {
			last = m
		}
	})
	return last
}

// listIndex returns k as a list index, or -1 when it is no decimal number
// of at most 9 digits (without strconv, whose error would allocate).
func listIndex(k string) int {
	if len(k) == 0 || len(k) > 9 {
		return -1
	}
	i := 0
	for j := 0; j < len(k); j++ {
		if k[j] < '0' || k[j] > '9' {
			return -1
		}
		i = i*10 + int(k[j]-'0')
	}
	return i
}

// numberText returns the text of number node c, copied into the event's
// literals (valid until the next Build), or nil when c is no number.
func (n *Normalizer) numberText(c int32) []byte {
	nd := &n.nodes[c]
	isNum := nd.kind == kValue && nd.val.Type() == fastjson.TypeNumber ||
		nd.kind == kLit && len(nd.data) > 0 && (nd.data[0] == '-' || nd.data[0] >= '0' && nd.data[0] <= '9')
	if !isNum {
		return nil
	}
	t, _ := n.textOf(c)
	start := len(n.lits)
	n.lits = append(n.lits, t...)
	return n.lits[start:len(n.lits):len(n.lits)]
}

// canHold reports whether segs can take the string v: nothing is there
// (and no value blocks the path), or v already is.
func (n *Normalizer) canHold(segs [][]byte, v []byte) bool {
	c := int32(0)
	for i, s := range segs {
		if c = n.child(c, s); c < 0 || n.nodes[c].kind == kRemoved {
			return true
		}
		if i < len(segs)-1 && n.nodes[c].kind != kObject {
			return false
		}
	}
	return n.nodes[c].kind != kObject && bytes.Equal(n.stringOf(c), v) && n.stringOf(c) != nil
}

// textIs reports whether leaf c, a string or a number, reads as want.
func (n *Normalizer) textIs(c int32, want []byte) bool {
	nd := &n.nodes[c]
	if nd.kind == kValue && nd.val.Type() == fastjson.TypeNumber {
		n.scratch = nd.val.MarshalTo(n.scratch[:0])
		return bytes.Equal(n.scratch, want)
	}
	s := n.stringOf(c)
	return s != nil && bytes.Equal(s, want)
}

// convert rewrites a leaf to the wanted JSON type when its value allows it;
// a placeholder for none ("-" or blank) removes the field. It reports false
// for a scalar that does not convert to int, float, bool or ip (left as it
// was: the caller sets it aside).
func (n *Normalizer) convert(c int32, kind uint8) bool {
	nd := &n.nodes[c]
	var s []byte
	isNum := false
	switch nd.kind {
	case kStr:
		s = nd.data
	case kValue:
		switch nd.val.Type() {
		case fastjson.TypeString:
			s, _ = nd.val.StringBytes()
		case fastjson.TypeNumber:
			n.scratch = nd.val.MarshalTo(n.scratch[:0])
			s, isNum = n.scratch, true
		case fastjson.TypeTrue:
			s = textTrue // not a literal: s reaches ParseAddr, and would escape
		case fastjson.TypeFalse:
			s = textFalse
		case fastjson.TypeArray:
			// Left as it is when every element is one the field's type
			// takes (a list of addresses on an ip field); else set aside.
			if kind == convObjects {
				return allObjects(nd.val)
			}
			return !typedConv(kind) || listFits(nd.val, kind)
		default:
			return true // null: left as it is
		}
	case kObject:
		// An object where a number, boolean, address or list belongs: its
		// mapping would refuse the document.
		return !typedConv(kind) && kind != convList && kind != convObjects || nd.val == nil
	default:
		return true // a literal logrouter wrote: left as it is
	}
	if !isNum && (isPlaceholder(s) || typedConv(kind) && noneWord(s)) {
		// "-" (Windows' IpAddress and IpPort of a local logon, VPC Flow
		// Logs' NODATA records, web servers' empty fields) or nothing
		// where a converted value belongs: the field has no value. Left
		// as it was, an ip or long mapping refuses the whole document,
		// and a keyword holds a value that means none.
		nd.kind = kRemoved
		return true
	}
	start := len(n.lits)
	switch kind {
	case convInt:
		if !decimalText(s) {
			return false // not parsed: a failed parse allocates its error
		}
		if ip := intPart(s); integerText(ip) {
			i, err := strconv.ParseInt(b2s(ip), 10, 64)
			if err != nil {
				return false // past int64
			}
			n.lits = strconv.AppendInt(n.lits, i, 10) // "42" and "42.000" exactly
		} else if f, err := strconv.ParseFloat(b2s(s), 64); err == nil && f == float64(int64(f)) && math.Abs(f) <= 1<<53 {
			n.lits = strconv.AppendInt(n.lits, int64(f), 10) // "4.2e1"; past 2^53 a float64 is no longer the integer written
		} else {
			return false
		}
	case convFloat:
		if !decimalText(s) {
			return false
		}
		f, err := strconv.ParseFloat(b2s(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return false // JSON has no NaN or Infinity
		}
		// Without an exponent in the range of epoch times and measures
		// (1300475167.096535, not 1.300475167096535e+09), as JSON
		// encoders write them; 'g' beyond it.
		if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
			n.lits = strconv.AppendFloat(n.lits, f, 'f', -1, 64)
		} else {
			n.lits = strconv.AppendFloat(n.lits, f, 'g', -1, 64)
		}
	case convBool:
		switch {
		case oneOfFold(s, trueWords...):
			n.lits = append(n.lits, "true"...)
		case oneOfFold(s, falseWords...):
			n.lits = append(n.lits, "false"...)
		default:
			return false
		}
	case convIP:
		if !addrText(s) {
			return false
		}
		a, err := netip.ParseAddr(b2s(s))
		if err != nil {
			return false
		}
		// Unmapped (::ffff:10.0.0.1 is 10.0.0.1) and without an IPv6 zone
		// (fe80::1%eth0): OpenSearch's ip type takes neither.
		ip := a.Unmap().WithZone("").AppendTo(n.scratch[:0])
		n.scratch = ip[:0] // grown once, then reused: no allocation per event
		n.lits = AppendString(n.lits, ip)
	case convString:
		if nd.kind == kStr || (nd.kind == kValue && nd.val.Type() == fastjson.TypeString) {
			return true // a string already: nothing to copy
		}
		n.lits = AppendString(n.lits, s)
	case convList, convObjects:
		return false // a value where a list belongs: set aside
	case convLower:
		if isNum {
			return true
		}
		b := append(n.scratch[:0], s...)
		for i, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		n.scratch = b[:0]
		n.lits = AppendString(n.lits, b)
	}
	nd.kind, nd.data, nd.val = kLit, n.lits[start:len(n.lits):len(n.lits)], nil
	return true
}

var keyUnconverted = []byte("unconverted")

// setAside moves leaf c, whose value did not convert to the type its field
// p is mapped with (an ECS ip or long), to logrouter.unconverted under
// p's path, as a string: left in place, OpenSearch would refuse the whole
// document (mapper_parsing_exception), and a replay would be refused
// again; removed, the value would be lost. Unlike the rest of logrouter.*
// (ingest metadata) it is the event's own content and stays in the content
// hash: two events that differ only there are not repeats.
func (n *Normalizer) setAside(c int32, p *Path) {
	s, ok := n.textOf(c)
	if nd := &n.nodes[c]; !ok && nd.val != nil && (nd.kind == kObject || nd.kind == kValue) {
		// A list or an object: its JSON text (as it arrived).
		n.scratch = nd.val.MarshalTo(n.scratch[:0])
		s, ok = n.scratch, true
	}
	if !ok {
		return
	}
	start := len(n.lits)
	n.lits = AppendString(n.lits, s)
	lit := n.lits[start:len(n.lits):len(n.lits)]
	n.nodes[c].kind = kRemoved
	lr := n.setH(0, keyLogrouter, hashLogrouter, kObject, 0)
	n.nodes[lr].skip = true
	u := n.set(lr, keyUnconverted, kObject, 0)
	n.nodes[u].hashed = true
	d := n.set(u, s2b(p.s), kLit, 0)
	n.nodes[d].data = lit
}

// The texts convert reads as booleans (any case).
var (
	trueWords  = []string{"true", "1", "yes", "y", "on"}
	falseWords = []string{"false", "0", "no", "n", "off"}
)

// typedConv reports whether kind is a conversion to a type an index maps
// strictly (int, float, bool, ip): a value that is none of them is set
// aside.
func typedConv(kind uint8) bool {
	return kind == convInt || kind == convFloat || kind == convBool || kind == convIP
}

// allObjects reports whether every element of list v is an object.
func allObjects(v *fastjson.Value) bool {
	a, _ := v.Array()
	for _, e := range a {
		if e.Type() != fastjson.TypeObject {
			return false
		}
	}
	return true
}

// listFits reports whether every element of list v is null or a value of
// kind (checked as convert would convert it, without allocating).
func listFits(v *fastjson.Value, kind uint8) bool {
	a, _ := v.Array()
	for _, e := range a {
		var s []byte
		switch e.Type() {
		case fastjson.TypeNull:
			continue
		case fastjson.TypeString:
			s, _ = e.StringBytes()
		case fastjson.TypeNumber:
			if kind == convInt || kind == convFloat {
				continue
			}
			return false
		case fastjson.TypeTrue, fastjson.TypeFalse:
			if kind == convBool {
				continue
			}
			return false
		default:
			return false
		}
		switch kind {
		case convInt, convFloat:
			if !decimalText(s) {
				return false
			}
			if _, err := strconv.ParseFloat(b2s(s), 64); err != nil {
				return false
			}
		case convBool:
			if !oneOfFold(s, trueWords...) && !oneOfFold(s, falseWords...) {
				return false
			}
		case convIP:
			if !addrText(s) {
				return false
			}
			if _, err := netip.ParseAddr(b2s(s)); err != nil {
				return false
			}
		}
	}
	return true
}

// decimalText reports whether s is a decimal number as Go writes one
// (sign, digits with single underscores between them, a point, an
// exponent): convert parses only those, because a failed parse allocates
// its error, and a source whose every port is "49538/tcp" or
// "1024-65535" would allocate for every event. (Go's hex floats, inf and
// NaN are not numbers a field of a log is converted from.)
func decimalText(s []byte) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	i, intDigits := digitRun(s, i)
	frac := 0
	if i < len(s) && s[i] == '.' {
		i, frac = digitRun(s, i+1)
	}
	if intDigits+frac == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		var exp int
		if i, exp = digitRun(s, i); exp == 0 {
			return false
		}
	}
	return i == len(s)
}

// digitRun returns the end of the digits from s[i] (single underscores
// between digits allowed) and how many digits there are.
func digitRun(s []byte, i int) (int, int) {
	n := 0
	for i < len(s) {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			n++
			i++
		case c == '_' && n > 0 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			i++
		default:
			return i, n
		}
	}
	return i, n
}

// integerText reports whether s is a sign and decimal digits only, what
// ParseInt takes in base 10.
func integerText(s []byte) bool {
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) > 0
}

// addrText reports whether s can be an IP address: an IPv4 dotted quad,
// or hex digits, dots and at least two colons (IPv6), then any zone after
// '%': as decimalText, for ParseAddr ("10.0.0.1:51234", "cafe" and host
// names are not parsed).
func addrText(s []byte) bool {
	colons, dots := 0, 0
	for _, c := range s {
		if c == '%' {
			break
		}
		switch {
		case c == ':':
			colons++
		case c == '.':
			dots++
		case c >= '0' && c <= '9', c|0x20 >= 'a' && c|0x20 <= 'f':
		default:
			return false
		}
	}
	if colons >= 2 {
		return true
	}
	if colons > 0 || dots != 3 {
		return false
	}
	for _, c := range s { // IPv4: digits and dots only
		if c != '.' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// addressIP writes address node c's value at ip (its sibling .ip) where
// that is absent, when the value is an IP address (see convAddress).
func (n *Normalizer) addressIP(c int32, ip [][]byte) {
	s, ok := n.textOf(c)
	if !ok || (n.nodes[c].kind == kLit && len(n.nodes[c].data) > 0 && n.nodes[c].data[0] != '"') {
		return // not a string
	}
	if !addrText(s) {
		return // a name (CloudTrail's ec2.amazonaws.com): not parsed, no error allocated
	}
	a, err := netip.ParseAddr(b2s(s))
	if err != nil {
		return
	}
	start := len(n.lits)
	n.lits = a.Unmap().WithZone("").AppendTo(n.lits)
	if d := n.setMissing(ip); d >= 0 {
		n.nodes[d].data = n.lits[start:len(n.lits):len(n.lits)]
	}
}

// b2s views b as a string without copying; only for parsing calls that do
// not keep the string.
func b2s(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func oneOfFold(b []byte, words ...string) bool {
	for _, w := range words {
		if bytes.EqualFold(b, s2b(w)) {
			return true
		}
	}
	return false
}

// intPart returns s without a fraction of zeros ("42.000" -> "42"), else s.
func intPart(s []byte) []byte {
	for i, c := range s {
		if c != '.' {
			continue
		}
		for _, d := range s[i+1:] {
			if d != '0' {
				return s
			}
		}
		if i+1 == len(s) {
			return s // "42." is not a number ParseInt or JSON takes
		}
		return s[:i]
	}
	return s
}

// datasetName reports whether s may be (part of) a dataset named by
// detect.dataset: lower-case letters, digits and '_' (and, with punct, '.'
// and '-'), 1 to 64 bytes.
func datasetName(s string, punct bool) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || punct && (c == '.' || c == '-')) {
			return false
		}
	}
	return true
}

// noneWord reports whether s is a word for none that some vendors write
// where a typed value belongs (Entra ID's callerIpAddress "<null>",
// "N/A", "null"): not a value an ip, number or bool mapping takes, so it
// removes the field as "-" does. Strings and lower-case keywords keep
// them: there they may be values.
func noneWord(s []byte) bool {
	t := bytes.TrimSpace(s)
	// Every converted value passes here: an address or a port is never
	// one of these short words, and is done with at the length check.
	return len(t) >= 2 && len(t) <= 6 && oneOfFold(t, "<null>", "null", "(null)", "nil", "none", "n/a", "na")
}

// isPlaceholder reports whether s stands for no value: "-" or blank.
func isPlaceholder(s []byte) bool {
	t := bytes.TrimSpace(s)
	return len(t) == 0 || (len(t) == 1 && t[0] == '-')
}
