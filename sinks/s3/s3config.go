package s3

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/logrouter/logrouter/internal/redact"
)

// TypeS3 is the destination type name of S3Archive in configuration.
const TypeS3 = "s3"

// Defaults for S3Config.
const (
	DefaultPartSize          = 16 << 20
	DefaultUploadConcurrency = 4
	// MinPartSize and MaxPartSize are S3's limits on a multipart part.
	MinPartSize = 5 << 20
	MaxPartSize = 5 << 30
	// MaxUploadConcurrency bounds upload_concurrency.
	MaxUploadConcurrency = 64
	// DefaultMaxStagedBytes is max_staged_bytes when unset.
	DefaultMaxStagedBytes = 16 << 30
)

// Object Lock modes accepted by "object_lock.mode".
const (
	ObjectLockGovernance = "GOVERNANCE"
	ObjectLockCompliance = "COMPLIANCE"
)

// Server-side encryption settings accepted by "sse".
const (
	SSES3      = "AES256"
	SSEKMS     = "aws:kms"
	SSEKMSDSSE = "aws:kms:dsse"
)

// StorageClasses lists the values accepted by "storage_class" (empty means
// the bucket's default, STANDARD on AWS). Athena cannot read GLACIER and
// DEEP_ARCHIVE objects until they are restored; GLACIER_IR can be queried.
var StorageClasses = []string{
	"STANDARD", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
	"GLACIER_IR", "GLACIER", "DEEP_ARCHIVE", "REDUCED_REDUNDANCY",
}

// S3Config configures the S3 archive (type "s3"). Zero values mean the
// documented defaults. The keys that decide object keys and contents
// (prefix, node, key_template, compression, gzip_level, zstd_level,
// time_source, max_object_bytes, max_object_age, max_open_objects) mean
// what they mean for archive_dir (see Config), so both write the same
// layout.
type S3Config struct {
	// Bucket is the destination bucket. Required. With object_lock, the
	// bucket must have been created with Object Lock enabled.
	Bucket string `yaml:"bucket"`
	// Prefix is {prefix}. Default "logs".
	Prefix string `yaml:"prefix"`
	// Region is the bucket's region. Default: the SDK's chain (AWS_REGION,
	// the shared config's profile); required when that yields none and no
	// endpoint is set ("us-east-1" with an endpoint).
	Region string `yaml:"region"`
	// Endpoint is a custom S3 endpoint URL (MinIO, SeaweedFS, Ceph, a VPC
	// endpoint), for example "https://minio.internal:9000". Default: AWS.
	Endpoint string `yaml:"endpoint"`
	// PathStyle addresses buckets as endpoint/bucket/key instead of
	// bucket.endpoint/key; most S3-compatible stores need it.
	PathStyle bool `yaml:"path_style"`
	// AccessKeyID and SecretAccessKey are static credentials, for tests and
	// stores without IAM. Write them as ${ENV_VAR}. Default: the SDK's
	// credential chain (environment, shared config and profile, web
	// identity / IRSA, ECS and EC2 instance roles), which is what
	// production should use.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	// StagingDir is where events are written (fsynced) before upload: a
	// LocalArchive directory owned by this destination alone. Required. It
	// must hold the backlog while S3 is unreachable (see
	// S3Archive.Backlog).
	StagingDir string `yaml:"staging_dir"`
	// Compression is "zstd" (default) or "gzip".
	Compression string `yaml:"compression"`
	// ZstdLevel is "fastest" (default), "default" or "better".
	ZstdLevel string `yaml:"zstd_level"`
	// GzipLevel is the gzip level, 1 (default) to 9.
	GzipLevel int `yaml:"gzip_level"`
	// KeyTemplate is the object key template (see Layout). Default
	// DefaultKeyTemplate. For S3 its file name must start with
	// "{node}-{start}" and contain {seq}, like "{node}-{start}-{seq}":
	// keys must never repeat, since a PutObject to an existing key
	// replaces the archived object. {start} keeps them apart across
	// restarts (when {seq} starts again at 1), {seq} within a second, and
	// start-up tells this node's unfinished multipart uploads from other
	// nodes' by "{node}-{start}" (node "a" must not take "a-b-...").
	KeyTemplate string `yaml:"key_template"`
	// TimeSource is "event" (default) or "ingest"; see Config.
	TimeSource string `yaml:"time_source"`
	// MaxObjectBytes rolls an object at this many uncompressed bytes.
	// Default 128 MiB.
	MaxObjectBytes int64 `yaml:"max_object_bytes"`
	// MaxObjectAge rolls an object at this age, so events reach S3 within
	// about max_object_age plus the upload. Default 5m.
	MaxObjectAge time.Duration `yaml:"max_object_age"`
	// MaxOpenObjects bounds the objects open at once. Default 256.
	MaxOpenObjects int `yaml:"max_open_objects"`
	// PartSize is the multipart part size; objects of at least this size
	// are uploaded in parts, smaller ones with one PutObject. 5 MiB to 5
	// GiB, default 16 MiB. An upload holds up to about three parts in
	// memory, so uploads use at most upload_concurrency x 3 x part_size
	// (192 MiB at the defaults; objects of max_object_bytes 128 MiB
	// uncompressed are ~16 MiB compressed, so most need one part's worth).
	PartSize int64 `yaml:"part_size"`
	// UploadConcurrency is how many objects are uploaded at once (the
	// parts of one object go one after another). Default 4, at most 64.
	UploadConcurrency int `yaml:"upload_concurrency"`
	// MaxStagedBytes bounds the compressed bytes of rolled objects waiting
	// in staging_dir for upload (Backlog): at it, Write refuses new events
	// with a retryable error (StagingFullError), so that they wait in the
	// destination's queue, whose max_bytes and on_full then apply, instead
	// of filling the volume that the queues share. Default 16 GiB; size it
	// with the queues' max_bytes to the volume. Objects still open are not
	// counted (at most max_open_objects, each under max_object_bytes).
	MaxStagedBytes int64 `yaml:"max_staged_bytes"`
	// ObjectLock sets a retention on every object; omit it for none.
	ObjectLock ObjectLockConfig `yaml:"object_lock"`
	// SSE is the server-side encryption: "" (the bucket's default),
	// "AES256" (SSE-S3), "aws:kms" (SSE-KMS) or "aws:kms:dsse".
	SSE string `yaml:"sse"`
	// KMSKeyID is the KMS key (ID, ARN or alias) with sse "aws:kms" or
	// "aws:kms:dsse". Default: the account's aws/s3 key.
	KMSKeyID string `yaml:"kms_key_id"`
	// StorageClass is the objects' storage class (see StorageClasses).
	// Default: the bucket's default (STANDARD).
	StorageClass string `yaml:"storage_class"`
	// Node is {node}. It must be unique among the writers to a bucket and
	// prefix. Default os.Hostname().
	Node string `yaml:"node"`
}

// ObjectLockConfig configures S3 Object Lock retention per object.
type ObjectLockConfig struct {
	// Mode is "GOVERNANCE" (users with s3:BypassGovernanceRetention can
	// still delete) or "COMPLIANCE" (nobody, root included, can delete or
	// shorten the retention before it ends). Empty: no retention.
	Mode string `yaml:"mode"`
	// RetainDays is the retention from the upload time, in days. Required
	// with mode.
	RetainDays int `yaml:"retain_days"`
	// LegalHold puts a legal hold on every object (needs
	// s3:PutObjectLegalHold); it lasts until removed, independent of mode.
	LegalHold bool `yaml:"legal_hold"`
}

// Enabled reports whether objects get a retention or a legal hold.
func (o ObjectLockConfig) Enabled() bool { return o.Mode != "" || o.LegalHold }

// withDefaults returns c with every zero field set to its default (Node is
// left to NewLayout).
func (c S3Config) withDefaults() S3Config {
	l := c.staging().withDefaults()
	c.Prefix, c.Compression, c.ZstdLevel, c.GzipLevel = l.Prefix, l.Compression, l.ZstdLevel, l.GzipLevel
	c.TimeSource, c.MaxObjectBytes, c.MaxObjectAge, c.MaxOpenObjects = l.TimeSource, l.MaxObjectBytes, l.MaxObjectAge, l.MaxOpenObjects
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.UploadConcurrency == 0 {
		c.UploadConcurrency = DefaultUploadConcurrency
	}
	if c.MaxStagedBytes == 0 {
		c.MaxStagedBytes = DefaultMaxStagedBytes
	}
	c.ObjectLock.Mode = strings.ToUpper(c.ObjectLock.Mode)
	c.StorageClass = strings.ToUpper(c.StorageClass)
	return c
}

// staging returns the LocalArchive configuration of the staging directory:
// the same layout, fsync on.
func (c S3Config) staging() Config {
	return Config{
		Dir:            c.StagingDir,
		Prefix:         c.Prefix,
		Node:           c.Node,
		KeyTemplate:    c.KeyTemplate,
		Compression:    c.Compression,
		GzipLevel:      c.GzipLevel,
		ZstdLevel:      c.ZstdLevel,
		MaxObjectBytes: c.MaxObjectBytes,
		MaxObjectAge:   c.MaxObjectAge,
		MaxOpenObjects: c.MaxOpenObjects,
		TimeSource:     c.TimeSource,
		Fsync:          new(true), // the staging's object is the only copy once the queue deleted its events
	}
}

// Layout returns the key-layout part of c.
func (c S3Config) Layout() LayoutConfig { return c.staging().Layout() }

// Validate reports every configuration error; the messages name the yaml key
// (relative to the s3 block, whose path the caller prefixes) and say how to
// fix it. It touches neither the file system nor the network.
func (c S3Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch b := strings.TrimSpace(c.Bucket); {
	case b == "":
		add(`"bucket" is required: set it to the name of the archive bucket`)
	case b != c.Bucket || strings.ContainsAny(b, "/ \t") || strings.HasPrefix(b, "s3:"):
		add(`"bucket" must be a bare bucket name like "acme-security-archive", not %q: put key prefixes in "prefix"`, c.Bucket)
	case strings.HasPrefix(b, "arn:") || strings.Contains(b, ":"):
		// An ARN pasted from an IAM policy: the SDK refuses every request
		// before sending it, which would look like an outage.
		add(`"bucket" must be the bucket's name like "acme-security-archive", not an ARN or other name with ':' (%q)`, c.Bucket)
	}
	if r := c.Region; r != "" && strings.IndexFunc(r, func(c rune) bool { return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') }) >= 0 {
		add(`"region" must be a region name like "eu-west-1", not %q`, r)
	}
	if strings.TrimSpace(c.StagingDir) == "" {
		add(`"staging_dir" is required: set it to a local directory, owned by this destination alone, that holds events until they are uploaded`)
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add(`"endpoint" must be a URL like "https://minio.internal:9000", not %q`, redact.URL(c.Endpoint))
		}
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		add(`"access_key_id" and "secret_access_key" go together: set both (as ${ENV_VAR}) or neither to use the AWS credential chain`)
	}
	c = c.withDefaults()
	c.staging().validateObjects(add)
	lc := c.Layout()
	if lc.Node == "" {
		lc.Node = "node"
	}
	if l, err := NewLayout(lc); err == nil {
		if err := l.checkS3(); err != nil {
			add("%v", err)
		}
	}
	if c.PartSize < MinPartSize || c.PartSize > MaxPartSize {
		add(`"part_size" must be between 5 MiB (%d) and 5 GiB, got %d: omit it for the default of 16 MiB`, MinPartSize, c.PartSize)
	}
	if c.UploadConcurrency < 1 || c.UploadConcurrency > MaxUploadConcurrency {
		add(`"upload_concurrency" must be between 1 and %d, got %d: omit it for the default of %d`, MaxUploadConcurrency, c.UploadConcurrency, DefaultUploadConcurrency)
	}
	if c.MaxStagedBytes < 0 {
		add(`"max_staged_bytes" must be positive, got %d: omit it for the default of 16 GiB`, c.MaxStagedBytes)
	}
	ol := c.ObjectLock
	switch ol.Mode {
	case "":
		if ol.RetainDays != 0 {
			add(`"object_lock.retain_days" needs "object_lock.mode": set it to %q or %q`, ObjectLockGovernance, ObjectLockCompliance)
		}
	case ObjectLockGovernance, ObjectLockCompliance:
		if ol.RetainDays <= 0 {
			add(`"object_lock.retain_days" must be a positive number of days with "object_lock.mode", got %d`, ol.RetainDays)
		} else if ol.RetainDays > 36500 {
			add(`"object_lock.retain_days" must be at most 36500 (100 years), got %d`, ol.RetainDays)
		}
	default:
		add(`"object_lock.mode" must be %q or %q, not %q (omit object_lock for no retention)`, ObjectLockGovernance, ObjectLockCompliance, c.ObjectLock.Mode)
	}
	switch c.SSE {
	case "", SSES3:
		if c.KMSKeyID != "" {
			add(`"kms_key_id" needs "sse": %q`, SSEKMS)
		}
	case SSEKMS, SSEKMSDSSE:
	default:
		add(`"sse" must be "" (the bucket's default), %q, %q or %q, not %q`, SSES3, SSEKMS, SSEKMSDSSE, c.SSE)
	}
	if c.StorageClass != "" && !slices.Contains(StorageClasses, c.StorageClass) {
		add(`"storage_class" must be one of %s, not %q`, strings.Join(StorageClasses, ", "), c.StorageClass)
	}
	return errors.Join(errs...)
}

// checkS3 checks what the S3 archive needs of a key template beyond Layout's
// rules: the file name starts with "{node}-{start}" and contains {seq}.
func (l *Layout) checkS3() error {
	name := l.fileName()
	if len(name) < 3 || name[0].ph != phNode || name[1].ph != literal || name[1].lit != "-" || name[2].ph != phStart {
		return errors.New(`"key_template": for s3 the file name (after the last '/') must start with "{node}-{start}", like "{node}-{start}-{seq}": start-up aborts this node's unfinished multipart uploads by that name (the {start} timestamp tells node "a" from node "a-b"), and {start} keeps keys from repeating after a restart, when {seq} starts again at 1`)
	}
	for _, p := range name {
		if p.ph == phSeq {
			return nil
		}
	}
	return errors.New(`"key_template": for s3 the file name (after the last '/') must contain {seq}, like "{node}-{start}-{seq}": keys must never repeat, and without {seq} two objects of one partition opened within the same second get the same key, so the second upload overwrites the first archived object (S3 PutObject replaces an existing key)`)
}

// ownsFileName reports whether name, the last segment of a key, is one of
// this node's: checkS3 makes every file name start with "{node}-{start}", so
// it must be this node's name, '-' and a {start} timestamp. The timestamp
// is parsed, not skipped: matching "{node}-" alone would take the file
// names of node "node1-b" ("node1-b-20240501T120000Z-...") for node1's.
func (l *Layout) ownsFileName(name string) bool {
	rest, ok := strings.CutPrefix(name, l.node+"-")
	if !ok || len(rest) < len(StartLayout) {
		return false
	}
	_, err := time.Parse(StartLayout, rest[:len(StartLayout)])
	return err == nil
}
