package app

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/conservation"
	"github.com/logrouter/logrouter/sinks/s3"
	"github.com/logrouter/logrouter/sinks/s3/s3test"
)

// faultAlertSeries returns the logrouter_* series the shipped alert rules
// (deploy/kubernetes/alerts.yaml) read, histogram suffixes removed.
func faultAlertSeries(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/kubernetes/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Spec struct {
			Groups []struct {
				Rules []struct {
					Expr string `yaml:"expr"`
				} `yaml:"rules"`
			} `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	re := regexp.MustCompile(`logrouter_[a-z0-9_]+`)
	for _, g := range doc.Spec.Groups {
		for _, r := range g.Rules {
			for _, s := range re.FindAllString(r.Expr, -1) {
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					s = strings.TrimSuffix(s, suf)
				}
				read[s] = true
			}
		}
	}
	return read
}

// TestS3ArchiveOutageIsAlerted: the gateway manifest archives every
// event to S3. When S3 fails every upload, the archive's queue keeps
// draining into the local staging directory (the sink accepted the batch),
// so logrouter_queue_retries_total and logrouter_queue_bytes stay 0 for the
// archive: LogrouterDestinationFailing and LogrouterQueueFilling cannot
// fire until max_staged_bytes (15 GiB compressed in gateway.yaml, ~10x that
// of raw events) is full. The only signals are logrouter_s3_upload_errors_total
// and logrouter_s3_backlog_{objects,bytes}, which no shipped alert reads.
func TestS3ArchiveOutageIsAlerted(t *testing.T) {
	srv := s3test.New(t, "archive")
	srv.SetFault(func(r *s3test.Request) s3test.Fault {
		switch r.Op {
		case s3test.OpPutObject, s3test.OpUploadPart, s3test.OpCreateMultipartUpload:
			return s3test.Status503 // an S3 (or VPC endpoint) outage
		}
		return s3test.Forward
	})
	data := t.TempDir()
	a := destApp(t, data, []config.Destination{{Name: "archive", Type: "s3", S3: &s3.S3Config{
		Bucket: "archive", Endpoint: srv.URL, PathStyle: true, Region: s3test.Region,
		AccessKeyID: s3test.AccessKeyID, SecretAccessKey: s3test.SecretAccessKey,
		StagingDir: filepath.Join(data, "staging"), MaxObjectAge: 200 * time.Millisecond, TimeSource: "ingest"}}}, config.Routing{})
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = a.Shutdown(ctx) // S3 is down: what is staged stays staged
	}()
	s := conservation.NewSender("s3review")
	sendBatches(t, a, s, "fwsecret", 5, 100)

	values := func() map[string]float64 {
		out := map[string]float64{}
		mfs, err := a.eng.Metrics().Registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				dest := ""
				for _, l := range m.GetLabel() {
					if l.GetName() == "destination" {
						dest = l.GetValue()
					}
				}
				if dest != "archive" {
					continue
				}
				v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
				out[mf.GetName()] += v
			}
		}
		return out
	}
	deadline := time.Now().Add(20 * time.Second)
	var v map[string]float64
	for {
		v = values()
		if v["logrouter_s3_upload_errors_total"] >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v["logrouter_s3_upload_errors_total"] == 0 {
		t.Fatalf("no S3 upload error was counted: the fault was not injected (%v)", v)
	}
	t.Logf("archive after S3 failed every upload: %v", v)

	// What an alert could see of it.
	alerted := faultAlertSeries(t)
	var seen []string
	for name, val := range v {
		if val == 0 || !alerted[name] {
			continue
		}
		switch name {
		case "logrouter_queue_max_bytes": // a constant, not a symptom
			continue
		}
		seen = append(seen, name)
	}
	sort.Strings(seen)
	if len(seen) == 0 {
		var s3Series []string
		for name := range v {
			if strings.HasPrefix(name, "logrouter_s3_") {
				s3Series = append(s3Series, name)
			}
		}
		sort.Strings(s3Series)
		t.Errorf("S3 failed %v upload attempts and %v bytes are staged, undelivered, but every series alerts.yaml reads is quiet for destination archive "+
			"(logrouter_queue_retries_total=%v, logrouter_queue_bytes=%v): no shipped alert fires for an S3 outage until max_staged_bytes fills. "+
			"The signals exist (%v) but alerts.yaml reads none of them",
			v["logrouter_s3_upload_errors_total"], v["logrouter_s3_backlog_bytes"],
			v["logrouter_queue_retries_total"], v["logrouter_queue_bytes"], s3Series)
	}
}
