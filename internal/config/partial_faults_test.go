package config

import (
	"strings"
	"testing"
)

// Review of 9eec28d (router archive ddl: need only the s3 destination's own
// ${VAR}s). Fixed: CheckDestination collects the unset references from the
// destination's item in the expanded YAML node tree (aliases and merges
// followed, whatever the layout), refuses a name used twice and a type
// without its block; ParsePartial refuses a second document. CheckDestination must report every unset ${VAR} that the
// chosen destination's settings were made of, so that a DDL is never
// printed with a bucket, prefix or key_template that silently became "".

func reviewFind(t *testing.T, p *Partial, name string) Destination {
	t.Helper()
	for _, d := range p.Destinations {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no destination %s", name)
	return Destination{}
}

// TestPartialOneLineFlowList: with the destinations list written in
// flow style on one line, findSpans gives every item but the last the span
// [L, L-1] (the next item starts on the same line): nothing is inside it,
// so the archive's unset ${REVIEW_PREFIX} is not reported and the DDL is
// printed with the default prefix (LOCATION s3://acme-archive/logs/, not
// where the router writes). Expected: the unset
// variable is reported (or, when the span cannot be told, every unset one).
func TestPartialOneLineFlowList(t *testing.T) {
	t.Setenv("REVIEW_PREFIX", "")
	const doc = `node: n1
destinations: [{name: archive, type: s3, s3: {bucket: acme-archive, prefix: "${REVIEW_PREFIX}", staging_dir: /var/lib/s}}, {name: splunk, type: splunk_hec, splunk_hec: {url: "https://splunk:8088", token: t}}]
routing: {all: [archive], P1: [splunk]}
`
	p, err := ParsePartial("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	d := reviewFind(t, p, "archive")
	if err := p.CheckDestination(d); err == nil || !strings.Contains(err.Error(), "REVIEW_PREFIX") {
		t.Errorf("prefix %q came from the unset ${REVIEW_PREFIX}, yet CheckDestination: %v", d.S3.Prefix, err)
	}
}

// TestPartialAliasFromAnotherItem: a destination's s3 block merged
// from an anchor written in another item (<<: *base) takes its prefix from
// a ${VAR} outside its own span: the unset variable is not reported and
// the DDL of archive-us is printed with the default prefix. Expected: the
// unset variable that archive-us's settings hold is reported.
func TestPartialAliasFromAnotherItem(t *testing.T) {
	t.Setenv("REVIEW_PREFIX", "")
	const doc = `node: n1
destinations:
  - name: archive-eu
    type: s3
    s3: &base
      bucket: acme-eu
      prefix: ${REVIEW_PREFIX}
      staging_dir: /var/lib/eu
  - name: archive-us
    type: s3
    s3:
      <<: *base
      bucket: acme-us
      staging_dir: /var/lib/us
routing: {all: [archive-eu, archive-us]}
`
	p, err := ParsePartial("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	d := reviewFind(t, p, "archive-us")
	if d.S3.Bucket != "acme-us" {
		t.Fatalf("control: merge not applied: %+v", d.S3)
	}
	if err := p.CheckDestination(d); err == nil || !strings.Contains(err.Error(), "REVIEW_PREFIX") {
		t.Errorf("archive-us's prefix %q came from the unset ${REVIEW_PREFIX} (through *base), yet CheckDestination: %v", d.S3.Prefix, err)
	}
}

// TestPartialDuplicateName: ParsePartial validates nothing, so two
// items named alike are accepted; spans keeps the last one's lines while
// s3Destination (cmd/router) takes the first s3 one, whose unset
// ${REVIEW_PREFIX} is then not reported. Expected: an error (Parse refuses
// the name used twice, as router archive ddl did before).
func TestPartialDuplicateName(t *testing.T) {
	t.Setenv("REVIEW_PREFIX", "")
	const doc = `node: n1
destinations:
  - name: archive
    type: s3
    s3:
      bucket: acme-archive
      prefix: ${REVIEW_PREFIX}
      staging_dir: /var/lib/s
  - name: archive
    type: splunk_hec
    splunk_hec: {url: "https://splunk:8088", token: t}
routing: {all: [archive]}
`
	p, err := ParsePartial("t.yaml", []byte(doc))
	if err != nil {
		return // refused: fine
	}
	d := reviewFind(t, p, "archive") // the first: the s3 one, as s3Destination finds it
	if err := p.CheckDestination(d); err == nil {
		t.Errorf("prefix %q came from the unset ${REVIEW_PREFIX} of a name used twice, yet no error", d.S3.Prefix)
	}
}

// TestPartialNameFromVariable: a destination named by a ${VAR}
// (set) is never found in spans (findSpans reads the masked text, so the
// name there is the mask token): CheckDestination falls back to requiring
// every unset variable of the file, against docs/configuration.md ("only
// those written in that destination's block must be set").
func TestPartialNameFromVariable(t *testing.T) {
	t.Setenv("REVIEW_ARCHIVE_NAME", "archive")
	t.Setenv("REVIEW_HEC_TOKEN", "")
	const doc = `node: n1
inputs:
  http:
    tokens:
      - {name: edge, token: "${REVIEW_HEC_TOKEN}"}
destinations:
  - name: ${REVIEW_ARCHIVE_NAME}
    type: s3
    s3:
      bucket: acme-archive
      prefix: logs
      staging_dir: /var/lib/s
routing: {all: [archive]}
`
	p, err := ParsePartial("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckDestination(reviewFind(t, p, "archive")); err != nil {
		t.Errorf("the archive's block is whole, yet: %v", err)
	}
}

// TestPartialSecondDocument: Parse refuses a second YAML document
// (yamlerr.NoFurtherDocument); ParsePartial ignores it, so router archive
// ddl prints a table from a file the router refuses. Expected: an error.
func TestPartialSecondDocument(t *testing.T) {
	const doc = `node: n1
destinations:
  - name: archive
    type: s3
    s3: {bucket: acme-archive, prefix: logs, staging_dir: /var/lib/s}
routing: {all: [archive]}
---
destinations:
  - name: archive
    type: s3
    s3: {bucket: other, prefix: x, staging_dir: /var/lib/s}
`
	if _, err := Parse("t.yaml", []byte(doc)); err == nil {
		t.Fatal("control: Parse accepted a second document")
	}
	if _, err := ParsePartial("t.yaml", []byte(doc)); err == nil {
		t.Error("ParsePartial accepted a second document, which Parse refuses")
	}
}

// TestPartialTypeWithoutBlock: type s3 without its s3 block passes
// CheckDestination (the block is only validated when set), and router
// archive ddl then dereferences d.S3 == nil (archive_cmd.go: *d.S3).
// Expected: CheckDestination reports the missing block, as Validate does.
func TestPartialTypeWithoutBlock(t *testing.T) {
	const doc = `node: n1
destinations:
  - name: archive
    type: s3
routing: {all: [archive]}
`
	p, err := ParsePartial("t.yaml", []byte(doc))
	if err != nil {
		return
	}
	d := reviewFind(t, p, "archive")
	if err := p.CheckDestination(d); err == nil && d.S3 == nil {
		t.Error("type s3 without an s3 block passed CheckDestination (archive ddl then dereferences a nil *S3Config)")
	}
}
