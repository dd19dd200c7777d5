package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/logrouter/logrouter/internal/testutil"
	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// freePorts returns n free TCP ports p whose p+10000 is free too (SeaweedFS
// puts each service's gRPC port there). Both lie below the kernel's
// ephemeral range where it leaves room (10000 <= p, p+10000 < its start),
// so that no outgoing connection of a parallel test can take one between
// this check and weed's bind (testutil.FreePort does the same for one port).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var hold []net.Listener
	defer func() {
		for _, l := range hold {
			l.Close()
		}
	}()
	lo, hi := 20000, 55000
	if eph := testutil.EphemeralLow(); eph-10000 > 10000+20*n {
		lo, hi = 10000, eph-10000
	}
	start := int(time.Now().UnixNano() % int64(hi-lo))
	for i := 0; len(ports) < n && 7*i < hi-lo; i++ {
		p := lo + (start+7*i)%(hi-lo)
		l1, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			continue
		}
		l2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			l1.Close()
			continue
		}
		hold = append(hold, l1, l2)
		ports = append(ports, p)
	}
	if len(ports) < n {
		t.Fatal("no free ports")
	}
	return ports
}

// TestS3ObjectLockSeaweedFS checks Object Lock for real against SeaweedFS
// ("weed mini"): a COMPLIANCE object's version cannot be deleted. Set
// LOGROUTER_WEED to the weed binary to run it.
func TestS3ObjectLockSeaweedFS(t *testing.T) {
	weed := os.Getenv("LOGROUTER_WEED")
	if weed == "" {
		t.Skip("set LOGROUTER_WEED=/path/to/weed (SeaweedFS) to test Object Lock for real")
	}
	p := freePorts(t, 4)
	dir := t.TempDir()
	logf, err := os.Create(filepath.Join(dir, "weed.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(weed, "mini", "-dir="+data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		fmt.Sprint("-master.port=", p[0]), fmt.Sprint("-volume.port=", p[1]), fmt.Sprint("-filer.port=", p[2]),
		fmt.Sprint("-s3.port=", p[3]), "-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false", "-admin.ui=false")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	endpoint := fmt.Sprintf("http://127.0.0.1:%d", p[3])
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	defer hc.Transport.(*http.Transport).CloseIdleConnections()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := hc.Get(endpoint + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("weed mini did not answer on %s: %v\n%s", endpoint, err, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	client := s3test.NewClient(endpoint)
	defer client.Options().HTTPClient.(*http.Client).CloseIdleConnections()
	ctx := context.Background()
	const bucket = "locked"
	for {
		_, err := client.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket), ObjectLockEnabledForBucket: aws.Bool(true)})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("create bucket: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}

	a, err := NewS3Archive("locked", S3Config{
		Bucket: bucket, StagingDir: t.TempDir(), Node: "node1",
		Endpoint: endpoint, PathStyle: true, Region: s3test.Region,
		AccessKeyID: s3test.AccessKeyID, SecretAccessKey: s3test.SecretAccessKey,
		ObjectLock: ObjectLockConfig{Mode: ObjectLockCompliance, RetainDays: 1},
		PartSize:   MinPartSize,
	}, withoutStartDelay(), WithErrorHandler(func(err error) { t.Log(err) }))
	if err != nil {
		t.Fatal(err)
	}
	write(t, a.local, mkBatch(t0, ev{`{"locked":true}`, pipeline.P1, "s", t0}))
	want := append(writeBig(t, a, rand.New(rand.NewPCG(1, 2)), "bulk", 7<<20), `{"locked":true}`) // one multipart object
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := a.Close(cctx); err != nil {
		t.Fatal(err)
	}
	list, err := client.ListObjectVersions(ctx, &awss3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Versions) != 2 {
		t.Fatalf("%d versions, want 2", len(list.Versions))
	}
	var got []string
	for _, v := range list.Versions {
		head, err := client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: v.Key, VersionId: v.VersionId})
		if err != nil {
			t.Fatal(err)
		}
		if head.ObjectLockMode != types.ObjectLockModeCompliance || head.ObjectLockRetainUntilDate == nil ||
			time.Until(*head.ObjectLockRetainUntilDate) < 23*time.Hour {
			t.Fatalf("%s: object lock mode %q until %v", *v.Key, head.ObjectLockMode, head.ObjectLockRetainUntilDate)
		}
		t.Logf("%s: %d bytes, %s until %v", *v.Key, aws.ToInt64(head.ContentLength), head.ObjectLockMode, head.ObjectLockRetainUntilDate)
		g, err := client.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: v.Key})
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(g.Body)
		g.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Split(strings.TrimSuffix(decompress(t, *v.Key, data), "\n"), "\n")...)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("SeaweedFS holds %d lines, want %d", len(got), len(want))
	}
	v := list.Versions[0]
	_, err = client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: v.Key, VersionId: v.VersionId})
	if err == nil {
		t.Fatal("deleted a COMPLIANCE-locked object version")
	}
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) {
		t.Fatalf("delete: %v", err)
	}
	t.Logf("delete refused: %v", err)
	if _, err := client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: v.Key, VersionId: v.VersionId}); err != nil {
		t.Fatalf("locked version gone: %v", err)
	}
}
