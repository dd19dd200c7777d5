package config

import (
	"strings"
	"testing"
)

// TestPartialNeedsOnlyItsDestinationsVariables: router archive ddl reads
// the s3 destination alone, so the file's other secrets (here a HEC token
// and a Kafka password) need not be set where the table is made; a
// variable of the destination's own block still must be, and its block is
// validated.
func TestPartialNeedsOnlyItsDestinationsVariables(t *testing.T) {
	const doc = `node: n1
inputs:
  http:
    tokens:
      - {name: edge, token: "${PARTIAL_TEST_HEC_TOKEN}"}
destinations:
  - name: archive
    type: s3
    s3:
      bucket: ${PARTIAL_TEST_BUCKET}
      prefix: logs
      staging_dir: /var/lib/logrouter/staging
  - name: splunk
    type: splunk_hec
    splunk_hec: {url: "https://splunk:8088", token: "${PARTIAL_TEST_SPLUNK}"}
routing: {all: [archive], P1: [splunk]}
`
	if _, err := Parse("t.yaml", []byte(doc)); err == nil {
		t.Fatal("control: Parse accepted unset variables")
	}
	find := func(p *Partial, name string) Destination {
		for _, d := range p.Destinations {
			if d.Name == name {
				return d
			}
		}
		t.Fatalf("no destination %s", name)
		return Destination{}
	}

	t.Setenv("PARTIAL_TEST_BUCKET", "acme-archive")
	p, err := ParsePartial("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	d := find(p, "archive")
	if err := p.CheckDestination(d); err != nil {
		t.Errorf("the archive's block is whole, yet: %v", err)
	}
	if d.S3.Bucket != "acme-archive" || d.S3.Prefix != "logs" {
		t.Errorf("s3 block %+v", d.S3)
	}
	if err := p.CheckDestination(find(p, "splunk")); err == nil || !strings.Contains(err.Error(), "t.yaml:15: environment variable PARTIAL_TEST_SPLUNK is not set") {
		t.Errorf("splunk's unset token: %v", err)
	} else if strings.Contains(err.Error(), "PARTIAL_TEST_HEC_TOKEN") {
		t.Errorf("a variable outside the destination named: %v", err)
	}

	t.Setenv("PARTIAL_TEST_BUCKET", "")
	p, err = ParsePartial("t.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	err = p.CheckDestination(find(p, "archive"))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:10: environment variable PARTIAL_TEST_BUCKET is not set") {
		t.Errorf("the archive's unset bucket: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), "PARTIAL_TEST_HEC_TOKEN") {
		t.Errorf("a variable outside the destination named: %v", err)
	}
}

// TestPartialKeepsStrictKeys: unknown keys are still errors with their line.
func TestPartialKeepsStrictKeys(t *testing.T) {
	_, err := ParsePartial("t.yaml", []byte("node: n1\ndestinatons: []\n"))
	if err == nil || !strings.Contains(err.Error(), "t.yaml:2") {
		t.Errorf("unknown key: %v", err)
	}
}
