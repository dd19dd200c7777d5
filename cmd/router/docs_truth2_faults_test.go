package main

// Tests from a review of the documentation against today's behaviour
// (2026-11-30): each reads a doc, checks a claim against the code or the
// starter rules, and fails until the doc is corrected.

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/ingest/syslog/parse"
	"github.com/logrouter/logrouter/pipeline/normalize"
	"github.com/logrouter/logrouter/rules"
)

func readDoc2(t *testing.T, f string) string {
	t.Helper()
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// docSection2 returns the text of f from the line starting with head to
// the next heading of the same or a higher level.
func docSection2(t *testing.T, text, head string) string {
	t.Helper()
	i := strings.Index(text, "\n"+head+"\n")
	if i < 0 {
		t.Fatalf("no section %q", head)
	}
	rest := text[i+1+len(head):]
	level := strings.Repeat("#", strings.Index(head, " "))
	for _, l := range regexp.MustCompile(`(?m)^#+ `).FindAllStringIndex(rest, -1) {
		if l[1]-1-l[0] <= len(level) {
			return rest[:l[0]]
		}
	}
	return rest
}

// TestDocsRuleInventoryListsEveryRule: rules/README.md, "Rule
// inventory", is the table an analyst reads to learn which rule routes a
// source where; it lists 53 rules. The starter set now has 90: today's
// coverage reviews (e508941, 56fc7f2, 1852a11, 0adb80d, 4da6627, 9c929c0)
// added 37 rules that are in no row (edr-cisco-secure-endpoint,
// edr-falco-alert, ndr-meraki-ids, edr-cortex-xdr-incident(-resolved),
// idp-cisco-ise, saas-audit, web-waf, fw-other-syslog, ...), so a reader
// cannot tell that Falco, Cybereason, Symantec, Meraki IDS... are P1 or
// that GitHub/Slack audit, WAFs, ISE, Vault are P2. Fix: one row per
// rule, with the rule's priority.
func TestDocsRuleInventoryListsEveryRule(t *testing.T) {
	set, err := rules.Load(logrouter.StarterRules, "rules", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	inv := docSection2(t, readDoc2(t, "../../rules/README.md"), "## Rule inventory")
	row := regexp.MustCompile("(?m)^\\| `([a-z0-9_.-]+)` \\| (P[123]) \\|")
	listed := map[string]string{}
	for _, m := range row.FindAllStringSubmatch(inv, -1) {
		listed[m[1]] = m[2]
	}
	var missing []string
	for i, r := range set.Rules {
		p, ok := listed[r.Name]
		if !ok {
			missing = append(missing, r.Name+" ("+set.Priority(i).String()+")")
			continue
		}
		if p != set.Priority(i).String() {
			t.Errorf("rules/README.md inventory: %s is %s there, %s in the rules", r.Name, p, set.Priority(i))
		}
		delete(listed, r.Name)
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		t.Errorf("rules/README.md, \"Rule inventory\": %d of the %d starter rules have no row: %s", len(missing), len(set.Rules), strings.Join(missing, ", "))
	}
	for n := range listed {
		t.Errorf("rules/README.md inventory lists %s, which is no starter rule", n)
	}
}

// TestDocsAllStarterRulesNativeClaim: rules/README.md:164-165 says
// "`go run ./cmd/router validate` reports how many rules compiled
// natively; all the starter rules do." validate says "90 rules, 89
// natively compiled": cloud-aws-securityhub-inspector runs on expr's VM,
// as the same file's inventory (line 321), README.md:68 and
// docs/architecture.md:144 say. Fix: "all the starter rules but one do
// (cloud-aws-securityhub-inspector)".
func TestDocsAllStarterRulesNativeClaim(t *testing.T) {
	set, err := rules.Load(logrouter.StarterRules, "rules", pipeline.P3)
	if err != nil {
		t.Fatal(err)
	}
	var vm []string
	for _, r := range set.Rules {
		if !r.Native() {
			vm = append(vm, r.Name)
		}
	}
	text := readDoc2(t, "../../rules/README.md")
	claim := regexp.MustCompile(`reports how many rules compiled natively;\s+all\s+the starter rules do\.`)
	if len(vm) > 0 && claim.MatchString(text) {
		t.Errorf("rules/README.md says all the starter rules compile natively; %d of %d do not: %s", len(vm), len(set.Rules), strings.Join(vm, ", "))
	}
}

// TestDocsStarterSourcesCount: README.md:56 says the profiles in
// rules/profiles/ cover "20 starter sources". The starter profiles hold 60
// profiles, of which 52 are sources of their own (the rest are variants
// that name their base in detect.dataset, such as windows.eventlog.logon);
// today's 80-more-sources.yaml alone adds 21. Fix: the number of
// sources, or no number.
func TestDocsStarterSourcesCount(t *testing.T) {
	specs, err := normalize.LoadProfiles(logrouter.StarterRules, "rules/profiles")
	if err != nil {
		t.Fatal(err)
	}
	// A source is a source type the profiles name: variants name theirs
	// in detect.dataset (windows.eventlog.logon, pfsense.filterlog.ipv4:
	// with or without a base profile of that name); a dataset made from a
	// field (zeek.{_path}) is the profile's own.
	sources := map[string]bool{}
	for _, s := range specs {
		key := s.Name
		if s.Detect != nil && s.Detect.Dataset != "" && !strings.Contains(s.Detect.Dataset, "{") {
			key = s.Detect.Dataset
		}
		sources[key] = true
	}
	base := len(sources)
	re := regexp.MustCompile(`\b(\d+) starter sources\b`)
	for i, line := range strings.Split(readDoc2(t, "../../README.md"), "\n") {
		for _, m := range re.FindAllStringSubmatch(line, -1) {
			if n, _ := strconv.Atoi(m[1]); n != base {
				t.Errorf("README.md:%d says %q; the starter profiles cover %d sources (%d profiles with their variants)", i+1, m[0], base, len(specs))
			}
		}
	}
}

// TestDocsQuarantineRecordKeysDocumented: docs/configuration.md,
// "quarantine", gives the record format as
// {"time","reason","detail","input","protocol","peer","destination","raw"}
// plus "default_source_type" and "default_index" (and later "event",
// "raw_base64"). Since ae3adcd a HEC request's query metadata is in the
// record too, as "source_type", "default_host", "default_source" and
// "default_time" (sinks/quarantine/quarantine.go, type line), which a
// replay applies and which a reader of the files (jq, an audit) meets
// undocumented; "status" (a destination's HTTP status) is not documented
// either. Fix: name every key of the record in that section.
func TestDocsQuarantineRecordKeysDocumented(t *testing.T) {
	src := readDoc2(t, "../../sinks/quarantine/quarantine.go")
	i := strings.Index(src, "type line struct {")
	if i < 0 {
		t.Fatal("sinks/quarantine/quarantine.go: no type line struct")
	}
	body := src[i : i+strings.Index(src[i:], "\n}\n")]
	keys := regexp.MustCompile("json:\"([a-z_0-9]+)").FindAllStringSubmatch(body, -1)
	if len(keys) < 10 {
		t.Fatalf("only %d keys found in type line", len(keys))
	}
	sec := docSection2(t, readDoc2(t, "../../docs/configuration.md"), "## `quarantine`")
	var missing []string
	for _, k := range keys {
		if !strings.Contains(sec, `"`+k[1]+`"`) && !strings.Contains(sec, "`"+k[1]+"`") {
			missing = append(missing, k[1])
		}
	}
	if len(missing) > 0 {
		t.Errorf("docs/configuration.md, quarantine: the record's keys %s are not documented (sinks/quarantine/quarantine.go writes them)", strings.Join(missing, ", "))
	}
}

// TestDocsSyslogTimezoneScope: inputs.syslog.timezone is documented
// as "of RFC 3164 timestamps, which carry none" (docs/configuration.md:128,
// config.example.yaml:71). Since fce7746 a LEEF event's devTime without a
// zone is its time, read in that zone (pipeline/ingest/syslog/parse/
// leeftime.go), in an RFC 5424 message too; so are FortiGate's date/time
// without tz, Snare's and the classic WinEventLog's wall clock. An
// operator whose QRadar-style LEEF senders write local devTime cannot
// learn from the docs that this setting moves those events' @timestamp.
// Fix: say the zone applies to every time without one (RFC 3164 headers,
// LEEF devTime, FortiGate date/time, Snare/WinEventLog).
func TestDocsSyslogTimezoneScope(t *testing.T) {
	p := parse.New(parse.Options{Location: time.FixedZone("X", 5*3600)})
	out, _ := p.AppendJSON(nil, []byte("<13>1 - qradar-relay app - - - LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=10.50.1.1\tdevTime=Nov 28 2026 08:25:00\tdevTimeFormat=MMM dd yyyy HH:mm:ss"))
	if !strings.Contains(string(out), `"timestamp":"2026-11-28T03:25:00.000Z"`) {
		t.Fatalf("precondition: the LEEF devTime is no longer read in the input's zone: %s", out)
	}
	mentions := regexp.MustCompile(`LEEF|devTime|payload|FortiGate|without a zone|Snare`)
	cfg := readDoc2(t, "../../docs/configuration.md")
	for i, l := range strings.Split(cfg, "\n") {
		if strings.HasPrefix(l, "| `timezone` |") && !mentions.MatchString(l) {
			t.Errorf("docs/configuration.md:%d: %q; the zone is also that of a LEEF devTime (and FortiGate's, Snare's times) without one", i+1, l)
		}
	}
	for i, l := range strings.Split(readDoc2(t, "../../config.example.yaml"), "\n") {
		if strings.Contains(l, "timezone:") && strings.Contains(l, "RFC 3164") && !mentions.MatchString(l) {
			t.Errorf("config.example.yaml:%d: %q; the zone is also that of a LEEF devTime (and FortiGate's, Snare's times) without one", i+1, strings.TrimSpace(l))
		}
	}
}
