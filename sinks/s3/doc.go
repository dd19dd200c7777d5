// Package s3 archives events as compressed NDJSON objects under a key layout
// that is meant to be queried in place (Athena, Trino, ClickHouse s3()) and
// shared by every archive backend: the local directory archive, LocalArchive
// ("type: archive_dir"), and the S3 archive, S3Archive ("type: s3"), which
// stages objects in a LocalArchive and uploads them (see S3Archive). DDL
// gives the Athena table over the S3 layout.
//
// # Key layout
//
// The default key is
//
//	{prefix}/priority={priority}/source_type={source_type}/dt={date}/hour={hour}/{node}-{start}-{seq}.ndjson.zst
//
// for example logs/priority=P1/source_type=crowdstrike.falcon/dt=2024-05-01/hour=13/
// ip-10-0-0-5-20240501T131502Z-000042.ndjson.zst. {date} and {hour} are the
// UTC hour bucket of the events (time_source: event or ingest), {start} the
// object's creation time. Every value that comes from data or configuration is
// sanitized (see Sanitize), so no event can steer a key outside the archive.
//
// # Object format
//
// An object is a concatenation of frames, one per Write and partition: a zstd
// frame (RFC 8878, with content size and xxhash checksum) or a gzip member
// (RFC 1952), each holding whole lines, every line an event's Raw JSON
// followed by '\n'. Concatenated frames and members are valid files for
// zstd -d, gunzip, Go's readers and Athena.
//
// # Lifecycle and crashes
//
// While open an object is the file dir/<key>.partial; it is rolled (fsynced,
// closed, renamed to dir/<key>) when its uncompressed size reaches
// max_object_bytes, when it reaches max_object_age, when it is the least
// recently written object and another must be opened beyond
// max_open_objects, and at Close. Readers should list only names without the
// .partial suffix: those are complete and immutable.
//
// A crash leaves *.partial files. Writes append whole frames, so they hold
// whole frames except, at worst, the last one, which a crash during write(2)
// (or a filesystem that extended the file but lost its last data) can leave
// torn. New finalizes every *.partial under dir before accepting writes: for
// zstd it walks the frame and block headers (cheap: a few bytes per 128 KiB
// block) and truncates the file before the first frame that is incomplete or
// whose header does not parse; for gzip, whose members carry no length, it
// decompresses the file once and truncates after the last member with a valid
// trailer. A file left empty is removed; the rest is fsynced and renamed.
// Truncation is reported through WithErrorHandler. Corruption inside a
// structurally complete zstd frame is not detected by the header walk; a
// reader then fails on that frame (its checksum), and only on it when the
// reader decodes frame by frame, since frames are independent.
//
// Durability: Write returning nil means the frames were written with
// write(2), and fsynced first with "fsync: true" (always on for the S3
// archive's staging). Without fsync, a machine crash (not a process crash)
// can lose the last writes.
//
// # S3
//
// S3Archive uploads each rolled object to s3://bucket/<key> and then deletes
// it locally; see S3Archive for retries, multipart cleanup and Close. The
// IAM policy needs s3:PutObject on bucket/prefix/*, s3:AbortMultipartUpload
// and s3:ListBucketMultipartUploads (on the bucket); with object_lock also
// s3:PutObjectRetention and, with legal_hold, s3:PutObjectLegalHold; with
// SSE-KMS kms:GenerateDataKey and kms:Decrypt on the key (multipart uploads
// need both). Object Lock needs a bucket created with Object Lock enabled
// (which turns versioning on). Add a lifecycle rule
// AbortIncompleteMultipartUpload as a backstop.
package s3
