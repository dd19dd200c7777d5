package config

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import "testing"

// TestFileDestinationsSharingADirRefused: two `file` destinations
// writing into one directory, e.g.
//
//   - {name: siem,       type: file, file: {dir: /var/log/logrouter}}
//   - {name: opensearch, type: file, file: {dir: /var/log/logrouter}}
//
// (a common set-up when a sidecar shipper tails one log directory) are now
// refused by checkOwnedDirs ("share a directory: each destination must own
// its directory alone"). But a file destination writes only
// dir/<name>-YYYYMMDDTHH[.N].ndjson (docs/configuration.md, file.New) and
// its start-up scan (RotatingFile.nextIndex) looks only at names with its
// own "<name>-" prefix: unlike archive_dir and s3 it never takes, finalizes,
// uploads or deletes what else is in the directory, so the rationale of the
// check does not apply and the configuration, valid and working before this
// change, is refused on upgrade. The check should cover archive_dir and s3
// directories (and a file dir equal to the quarantine's, which replay
// reads), not file destinations beside each other.
func TestFileDestinationsSharingADirRefused(t *testing.T) {
	faultBaseParses(t)
	dests := `
  - name: siem
    type: file
    file: {dir: /var/log/logrouter}
  - name: opensearch
    type: file
    file: {dir: /var/log/logrouter}`
	if _, err := Parse("c.yaml", []byte(faultConfig("", dests))); err != nil {
		t.Fatalf("two file destinations writing <name>-*.ndjson into one directory are refused: %v", err)
	}
}
