package s3

// Fault tests from a review of the S3 archive: each failed before the fix
// of the fault it describes (the comments describe the code as found).

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// TestNodeNameMakesObjectsHiddenFromAthena
//
// What is wrong: for type s3 every object's file name starts with {node}
// (checkS3 requires "{node}-{start}" first), and {node} may begin with '_':
// a node configured as "_edge01" is a clean key component and is used as
// is, and a node whose first byte is not [A-Za-z0-9._-] (".edge01", a
// non-ASCII host name such as "édge01", "@edge01") is sanitized to a name
// starting with '_' ("__dge01-<hash>"). Athena treats every source file
// whose name starts with '_' or '.' as hidden and never reads it (Athena
// user guide, "Considerations and limitations for SQL queries in Amazon
// Athena": "Files treated as hidden – Athena treats source files that start
// with an underscore (_) or a dot (.) as hidden"; Trino's Hive connector
// skips such names when it lists a partition). Validate accepts these nodes
// and the router uploads every event of that node into objects that the
// table printed by `router archive ddl` never returns: the archive is in the
// bucket, under Object Lock, and invisible to every hunt and investigation.
//
// Expected: the configuration is refused (Validate / NewS3Archive says the
// node must not start with '_' or '.'), or {node} is rendered so that no
// object file name starts with '_' or '.'.
//
// Fix: nodeName/Sanitize (layout.go) for the file-name position, or
// S3Config.Validate / checkS3 (s3config.go).
func TestNodeNameMakesObjectsHiddenFromAthena(t *testing.T) {
	for _, node := range []string{"_edge01", ".edge01", "édge01"} {
		t.Run(node, func(t *testing.T) {
			srv := s3test.New(t, testBucket)
			cfg := s3Config(t, srv, S3Config{Node: node})
			if err := cfg.Validate(); err != nil {
				return // refused: fine
			}
			a := openS3(t, srv, cfg)
			if err := a.Write(context.Background(), mkBatch(t0, ev{`{"message":"4625 failed logon"}`, pipeline.P1, "windows.security", t0})); err != nil {
				t.Fatal(err)
			}
			if err := a.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			objects := srv.Objects(t, testBucket)
			if len(objects) == 0 {
				t.Fatal("no object uploaded")
			}
			for key := range objects {
				name := key[strings.LastIndexByte(key, '/')+1:]
				if strings.HasPrefix(name, "_") || strings.HasPrefix(name, ".") {
					t.Errorf("node %q: object s3://%s/%s has a file name Athena treats as hidden (starts with %q): its events are never returned by the DDL's table", node, testBucket, key, name[:1])
				}
			}
		})
	}
}

// TestConfigurationDocIAMForSSEKMSMultipart
//
// What is wrong: docs/configuration.md, the page operators write the
// router's least-privilege IAM policy from, lists for the s3 destination
// "with SSE-KMS `kms:GenerateDataKey`" and nothing else. Every object of at
// least part_size (16 MiB compressed by default; 128 MiB objects of
// max_object_bytes rolled under load) is sent as a multipart upload, and a
// multipart upload with SSE-KMS also needs kms:Decrypt on the key (AWS
// Knowledge Center "Why do I need permission to decrypt the AWS KMS key when
// I run Amazon S3 multipart uploads with SSE-KMS?": "you must have
// kms:GenerateDataKey and kms:Decrypt permissions"; S3 user guide,
// "Multipart upload API and permissions"). The package documentation
// (sinks/s3/doc.go) says so ("kms:GenerateDataKey and kms:Decrypt on the key
// (multipart uploads need both)"), the operator page does not. With the
// documented policy the small objects upload and every large one fails with
// AccessDenied, is retried forever as Permanent, and the staging backlog
// grows until max_staged_bytes stops the destination: on a busy day the
// archive stalls while quiet hours work.
//
// Expected: docs/configuration.md names kms:Decrypt wherever it names
// kms:GenerateDataKey for the s3 destination, as doc.go does.
//
// Fix: docs/configuration.md, the IAM sentence of `type: s3`.
func TestConfigurationDocIAMForSSEKMSMultipart(t *testing.T) {
	pkg, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pkg), "kms:Decrypt") {
		t.Fatal("doc.go no longer names kms:Decrypt; update this test")
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "configuration.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "`type: s3`")
	if i < 0 {
		t.Fatal("docs/configuration.md has no `type: s3` section")
	}
	sec := doc[i:]
	if j := strings.Index(sec[1:], "\n`type: "); j >= 0 {
		sec = sec[:j+1]
	}
	if strings.Contains(sec, "kms:GenerateDataKey") && !strings.Contains(sec, "kms:Decrypt") {
		k := strings.Index(sec, "IAM:")
		t.Errorf("docs/configuration.md's IAM list for type s3 names kms:GenerateDataKey but not kms:Decrypt, which SSE-KMS multipart uploads (every object >= part_size) need:\n%s",
			sec[max(k, 0):min(len(sec), max(k, 0)+300)])
	}
}
