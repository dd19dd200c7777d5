package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// The S3 peer's credentials and bucket. gofakes3 accepts any signature; a
// SeaweedFS started without -s3.config accepts any key.
const (
	s3AccessKey = "lrbench"
	s3SecretKey = "lrbench-secret"
	s3Region    = "us-east-1"
	s3Bucket    = "lrbench"
)

// s3Peer is the S3 server the archive goes to with -archive s3: gofakes3 in
// the harness process (in memory, its CPU counted as the harness's), or an
// external server such as SeaweedFS (`weed mini`, ../shared/peers) given
// by endpoint.
type s3Peer struct {
	endpoint string
	prefix   string
	client   *s3.Client
	srv      *server // nil for an external server
}

func startS3(ctx context.Context, endpoint, run string) (*s3Peer, error) {
	p := &s3Peer{endpoint: endpoint, prefix: "lrbench/" + run}
	if endpoint == "" {
		mem := s3mem.New()
		if err := mem.CreateBucket(s3Bucket); err != nil {
			return nil, err
		}
		srv, err := startServer(gofakes3.New(mem).Server())
		if err != nil {
			return nil, err
		}
		p.srv, p.endpoint = srv, srv.URL()
	}
	p.client = s3.New(s3.Options{
		Region:       s3Region,
		BaseEndpoint: aws.String(p.endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s3AccessKey, s3SecretKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{}, Timeout: 2 * time.Minute},
	})
	if p.srv == nil {
		_, err := p.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(s3Bucket)})
		var owned *types.BucketAlreadyOwnedByYou
		var exists *types.BucketAlreadyExists
		if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
			return nil, fmt.Errorf("s3 peer %s: create bucket %s: %w", p.endpoint, s3Bucket, err)
		}
	}
	return p, nil
}

// dest is the router's archive destination writing to the peer.
func (p *s3Peer) dest(stagingDir string) map[string]any {
	return map[string]any{"name": "archive", "type": "s3", "s3": map[string]any{
		"bucket": s3Bucket, "prefix": p.prefix, "region": s3Region,
		"endpoint": p.endpoint, "path_style": true,
		"access_key_id": s3AccessKey, "secret_access_key": s3SecretKey,
		"staging_dir": stagingDir, "compression": "zstd",
	}}
}

// verify reads back every object under the run's prefix into d (after the
// router stopped, so that it uploaded what it had staged). It returns the
// number of objects.
func (p *s3Peer) verify(ctx context.Context, d *Dest) (int, error) {
	var or objectReader
	defer or.Close()
	n := 0
	pages := s3.NewListObjectsV2Paginator(p.client, &s3.ListObjectsV2Input{Bucket: aws.String(s3Bucket), Prefix: aws.String(p.prefix + "/")})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return n, fmt.Errorf("s3 peer: list %s: %w", p.prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			out, err := p.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s3Bucket), Key: o.Key})
			if err != nil {
				return n, fmt.Errorf("s3 peer: get %s: %w", key, err)
			}
			n++
			d.requests.Add(1)
			d.stored.Add(uint64(aws.ToInt64(o.Size)))
			err = or.read(d, key, out.Body, false)
			out.Body.Close()
			if err != nil {
				return n, fmt.Errorf("s3 peer: %s: %w", key, err)
			}
		}
	}
	return n, nil
}

func (p *s3Peer) close() {
	p.client.Options().HTTPClient.(*http.Client).CloseIdleConnections()
	if p.srv != nil {
		p.srv.Close()
	}
}
