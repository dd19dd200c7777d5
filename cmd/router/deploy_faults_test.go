package main

// Fault tests from a review of the deployment artefacts (Dockerfile,
// deploy/kubernetes/*.yaml, docs/kubernetes.md and the configs the
// manifests mount): each failed against the files as they were found (the
// comments describe them so); each says what goes wrong in a cluster.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/kafkacfg"
	"github.com/logrouter/logrouter/internal/tlsconf"
)

// deployReviewObject is the part of a manifest's objects these tests read.
type deployReviewObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				Containers []struct {
					Name string `yaml:"name"`
					Env  []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					Resources struct {
						Requests map[string]string `yaml:"requests"`
						Limits   map[string]string `yaml:"limits"`
					} `yaml:"resources"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name   string `yaml:"name"`
					Secret *struct {
						SecretName string `yaml:"secretName"`
					} `yaml:"secret"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
					Projected *struct {
						Sources []map[string]any `yaml:"sources"`
					} `yaml:"projected"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func deployReviewRead(t *testing.T, file string) map[string]deployReviewObject {
	t.Helper()
	return readManifestObjects(t, filepath.Join("../../deploy/kubernetes", file),
		func(o *deployReviewObject) string { return o.Kind + "/" + o.Metadata.Name })
}

// deployReviewManifests are the workloads and the ConfigMaps holding their
// config.
var deployReviewManifests = []struct{ file, configMap, workload string }{
	{"gateway.yaml", "logrouter-config", "StatefulSet/logrouter"},
	{"edge-daemonset.yaml", "logrouter-edge-config", "DaemonSet/logrouter-edge"},
}

// deployReviewPrivateName reports whether host is a name that only a
// private CA can certify: publicly trusted CAs may not issue certificates
// for internal names (CA/Browser Forum Baseline Requirements, since 2015).
// That is a Kubernetes name completed by the pod's DNS search path (a
// single label, "<statefulset>-<n>.<headless service>", or under .svc /
// .cluster.local), or a name under a suffix reserved for private use
// (.internal, reserved by ICANN in 2024; .local).
func deployReviewPrivateName(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if net.ParseIP(h) != nil {
		return false
	}
	if !strings.Contains(h, ".") {
		return true
	}
	for _, s := range []string{".internal", ".local", ".svc", ".cluster.local", ".localdomain"} {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return regexp.MustCompile(`^[a-z0-9-]+-[0-9]+\.[a-z0-9-]+$`).MatchString(h)
}

// deployReviewPKI is a private CA and a server certificate for host signed
// by it: what a broker or HEC endpoint with a private name presents.
func deployReviewPKI(t *testing.T, dir, host string) (caFile string, server tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "cluster CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
}

// deployReviewHandshake serves cert over TLS on loopback and completes a
// handshake to it with client, verifying the name host.
func deployReviewHandshake(t *testing.T, cert tls.Certificate, client *tls.Config, host string) error {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		_ = c.(*tls.Conn).Handshake()
		_ = c.Close()
	}()
	defer func() { _ = ln.Close(); <-done }()
	cfg := client.Clone()
	if cfg.ServerName == "" {
		cfg.ServerName = host // as kafka-go's dialer and net/http do
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ln.Addr().String(), cfg)
	if err != nil {
		return err
	}
	return c.Close()
}

// TestTLSPeersWithPrivateNamesTrustTheirCA: both manifests reach
// their Kafka brokers as kafka-0.kafka:9092 ... (a Kafka StatefulSet's pods
// under its headless Service, completed by the pod's search path to
// kafka-0.kafka.logging.svc.cluster.local) with `tls: {}`, and the gateway
// sends P1 to https://splunk-hec.acme.internal:8088 with no tls block. No
// publicly trusted CA may certify such names (CA/B Forum Baseline
// Requirements forbid internal names; .internal is reserved by ICANN for
// private use), so those endpoints present certificates of a private CA
// (Strimzi's cluster CA, the company CA). An empty tls block, or none,
// verifies against the system roots only (tlsconf.Client with no ca_file:
// the image's Debian bundle), and no volume in either pod holds a CA. Every
// handshake fails with "x509: certificate signed by unknown authority":
//   - the edge acknowledges the node's logs into its hostPath queue and can
//     never deliver them: the queue fills (5 GiB) and the node's shippers
//     then get 503s;
//   - the gateway never joins its consumer group (no partition: the edges'
//     data stays in Kafka), and P1 to Splunk is retried for ever.
//
// Every probe stays green meanwhile. docs/examples/production.yaml, for the
// very same endpoints, sets tls: {ca_file: /etc/kafka/ca.pem} and
// splunk_hec.tls: {ca_file: /etc/logrouter/splunk-ca.pem}.
//
// The test presents, for each such peer, a server certificate for its name
// signed by a private CA, and handshakes with the TLS settings of the
// manifest's config (a ca_file the pod mounts from a Secret or ConfigMap is
// taken to hold that CA).
//
// Fix: mount the Kafka cluster CA (e.g. a volume from the Secret
// kafka-cluster-ca-cert at /etc/logrouter/kafka-ca) in both workloads and
// set inputs.kafka.tls / destinations[kafka].kafka.tls to {ca_file:
// /etc/logrouter/kafka-ca/ca.crt}; the same for splunk_hec.tls.ca_file in
// gateway.yaml (or point them at endpoints with publicly trusted names).
func TestTLSPeersWithPrivateNamesTrustTheirCA(t *testing.T) {
	for _, m := range deployReviewManifests {
		objs := deployReviewRead(t, m.file)
		cfg, err := config.Parse(m.file, []byte(reviewExpandForParse(objs["ConfigMap/"+m.configMap].Data["config.yaml"])))
		if err != nil {
			t.Fatal(err)
		}
		w, ok := objs[m.workload]
		if !ok || len(w.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: no %s with one container", m.file, m.workload)
		}
		pod := w.Spec.Template.Spec
		fileVolumes := map[string]bool{} // volumes that can hold a CA bundle
		for _, v := range pod.Volumes {
			if v.Secret != nil || v.ConfigMap != nil || v.Projected != nil {
				fileVolumes[v.Name] = true
			}
		}
		mounted := func(path string) bool {
			for _, vm := range pod.Containers[0].VolumeMounts {
				if fileVolumes[vm.Name] && strings.HasPrefix(path, strings.TrimSuffix(vm.MountPath, "/")+"/") {
					return true
				}
			}
			return false
		}

		type peer struct {
			what, host string
			tls        func(caFile string) (*tls.Config, error) // caFile: the test's CA for a mounted ca_file
			caFile     string                                   // as configured
		}
		var peers []peer
		kafkaPeer := func(what string, brokers []string, tb *kafkacfg.TLS) {
			if tb == nil || tb.InsecureSkipVerify || len(brokers) == 0 {
				return
			}
			host, _, _ := net.SplitHostPort(brokers[0])
			c := *tb
			peers = append(peers, peer{what, host, func(ca string) (*tls.Config, error) {
				c.CAFile, c.CertFile, c.KeyFile = ca, "", ""
				tc, err := kafkacfg.TLSClient(&c)
				if err != nil {
					return nil, err
				}
				return tc.Config(), nil
			}, tb.CAFile})
		}
		if k := cfg.Inputs.Kafka; k != nil {
			kafkaPeer("inputs.kafka", k.Brokers, k.TLS)
		}
		for _, d := range cfg.Destinations {
			if d.Kafka != nil {
				kafkaPeer("destinations["+d.Name+"].kafka", d.Kafka.Brokers, d.Kafka.TLS)
			}
			if h := d.SplunkHEC; h != nil {
				u, err := url.Parse(h.URL)
				if err != nil || u.Scheme != "https" || (h.TLS != nil && h.TLS.InsecureSkipVerify) {
					continue
				}
				ca := ""
				if h.TLS != nil {
					ca = h.TLS.CAFile
				}
				peers = append(peers, peer{"destinations[" + d.Name + "].splunk_hec", u.Hostname(), func(ca string) (*tls.Config, error) {
					tc, err := tlsconf.NewClient(ca, "", "", false, "", nil)
					if err != nil {
						return nil, err
					}
					return tc.Config(), nil
				}, ca})
			}
		}

		for _, p := range peers {
			if !deployReviewPrivateName(p.host) {
				continue
			}
			dir := t.TempDir()
			testCA, cert := deployReviewPKI(t, dir, p.host)
			use := ""
			if p.caFile != "" {
				if !mounted(p.caFile) {
					t.Errorf("deploy/kubernetes/%s: %s.tls.ca_file %s is not on a Secret or ConfigMap volume of %s: the router exits at start (tls.ca_file: no such file)",
						m.file, p.what, p.caFile, m.workload)
					continue
				}
				use = testCA // the mounted Secret holds the cluster's CA
			}
			client, err := p.tls(use)
			if err != nil {
				t.Fatalf("%s: %s: %v", m.file, p.what, err)
			}
			if err := deployReviewHandshake(t, cert, client, p.host); err != nil {
				t.Errorf("deploy/kubernetes/%s: %s reaches %s, a name only a private CA can certify, but trusts the system roots only (ca_file %q, no CA volume): "+
					"every TLS handshake fails (%v), so nothing is ever delivered or consumed while the probes stay green. "+
					"Mount the CA (Secret volume) and set tls.ca_file, as docs/examples/production.yaml does for the same endpoints",
					m.file, p.what, p.host, p.caFile, err)
			}
		}
	}
}

// TestScaleDownDrainConfigIsAccepted: docs/kubernetes.md, "Scaling
// down", tells the operator that a removed replica's PVC still holds
// acknowledged, undelivered events and gives, as the way to deliver them,
// "run a one-off pod with the PVC mounted and a configuration without
// inputs until logrouter_queue_bytes is 0 and the quarantine is replayed;
// then delete the PVC". The router refuses any configuration without an
// input (config.Validate: "inputs: no input is configured; add
// inputs.http, inputs.syslog or inputs.kafka"): `router run` exits 1 at
// once, so the documented drain never starts, and an operator who follows
// it and then deletes the PVC "after draining" loses the queued events
// (the acknowledged data the StatefulSet's volume exists to keep).
//
// The test takes the gateway ConfigMap's config, removes its inputs as
// the docs say, and runs `router validate` on it.
//
// Fix (docs/kubernetes.md, Scaling down): give the drain pod a config
// whose only input cannot take traffic, e.g. inputs: {http: {address:
// "127.0.0.1:8088"}} (loopback only: no Service sends to it; the admin
// listener stays up for /metrics and POST /admin/replay), with node set to
// the removed replica's pod name (S3 staging recognizes its own unfinished
// uploads by it) and the same normalize.hash_key; or let the router run
// with no inputs (config.Validate) as a drain mode.
func TestScaleDownDrainConfigIsAccepted(t *testing.T) {
	doc, err := os.ReadFile("../../docs/kubernetes.md")
	if err != nil {
		t.Fatal(err)
	}
	// The drain configuration the docs prescribe now: the gateway's, with
	// its inputs reduced to one on loopback.
	const drainInputs = `inputs: {http: {address: "127.0.0.1:8088"}}`
	if !strings.Contains(string(doc), drainInputs) {
		t.Fatalf("docs/kubernetes.md (Scaling down) no longer gives the drain configuration's inputs %s: update this test with what it prescribes", drainInputs)
	}
	objs := deployReviewRead(t, "gateway.yaml")
	text := objs["ConfigMap/logrouter-config"].Data["config.yaml"]
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil || len(root.Content) != 1 {
		t.Fatalf("gateway.yaml config: %v", err)
	}
	m := root.Content[0]
	var loopback yaml.Node
	if err := yaml.Unmarshal([]byte(drainInputs), &loopback); err != nil {
		t.Fatal(err)
	}
	replaced := false
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "inputs" {
			m.Content[i+1] = loopback.Content[0].Content[1]
			replaced = true
			break
		}
	}
	if !replaced {
		t.Fatal("gateway.yaml config has no inputs")
	}
	drain, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	rulesDir, _ := filepath.Abs("../../rules")
	local := strings.NewReplacer("/etc/logrouter/rules", rulesDir, "/var/lib/logrouter", filepath.Join(dir, "data")).Replace(string(drain))
	for _, v := range []string{"LOGROUTER_NODE", "LOGROUTER_ADMIN_TOKEN", "LOGROUTER_HEC_TOKEN", "LOGROUTER_CLOUDTRAIL_TOKEN", "SPLUNK_HEC_TOKEN", "KAFKA_PASSWORD"} {
		t.Setenv(v, "x-"+strings.ToLower(v)+"-0123456789abcdef")
	}
	t.Setenv("LOGROUTER_HASH_KEY", "00112233445566778899aabbccddeeff")
	path := filepath.Join(dir, "drain.yaml")
	if err := os.WriteFile(path, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "", "validate", "-c", path); err != nil || !strings.Contains(out, "OK") {
		t.Errorf("docs/kubernetes.md (Scaling down) prescribes a one-off pod running the gateway's config with one loopback input to drain a removed replica's PVC, "+
			"but the router refuses that config, so the drain pod exits at start and the queued, acknowledged events are never delivered "+
			"(then lost when the PVC is deleted as the docs say next): %v\n%s", err, out)
	}
}

// deployReviewCPU parses a Kubernetes CPU quantity ("250m", "2", "1.5") in
// cores; 0 when q is empty.
func deployReviewCPU(t *testing.T, q string) float64 {
	t.Helper()
	if q == "" {
		return 0
	}
	if v, ok := strings.CutSuffix(q, "m"); ok {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("cpu %q: %v", q, err)
		}
		return n / 1000
	}
	n, err := strconv.ParseFloat(q, 64)
	if err != nil {
		t.Fatalf("cpu %q: %v", q, err)
	}
	return n
}

// TestGOMAXPROCSEnvKeepsTheFsyncHeadroom: `router run` raises
// GOMAXPROCS to min(4 x CPUs, 8) because a goroutine blocked in fsync keeps
// its P for up to 10 ms: docs/architecture.md ("GOMAXPROCS") measured that
// with GOMAXPROCS=2 both Ps sat in fsync, normalization starved and durable
// throughput halved (performance.md: "with GOMAXPROCS=2 the disk figure
// halves"). app.TuneGOMAXPROCS skips that raise whenever the GOMAXPROCS
// variable is set. The edge DaemonSet sets GOMAXPROCS "2" (to avoid the
// node's core count, having no CPU limit), which pins every edge, whose
// queue is fsync: always, to exactly the configuration measured at half
// throughput. (docs/kubernetes.md meanwhile says the manifests leave
// GOMAXPROCS to start from the node's CPUs, which neither does.) The
// gateway sets "8", four times its 2-core request: the router's own rule.
//
// The test applies the manifest's value as the Go runtime does at start,
// lets app.TuneGOMAXPROCS run, and compares the result with what the
// router's rule gives for the CPUs the pod is given (its CPU limit, else
// its request, rounded up).
//
// Fix (edge-daemonset.yaml, env GOMAXPROCS): "8" like the gateway (four
// times the 2 cores it is meant to use; at least min(4 x request, 8)), and
// correct docs/kubernetes.md ("Memory and CPU") to say that both manifests
// set GOMAXPROCS, which turns the raise off.
func TestGOMAXPROCSEnvKeepsTheFsyncHeadroom(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(prev) })
	for _, m := range deployReviewManifests {
		w := deployReviewRead(t, m.file)[m.workload]
		if len(w.Spec.Template.Spec.Containers) != 1 {
			t.Fatalf("%s: no %s with one container", m.file, m.workload)
		}
		c := w.Spec.Template.Spec.Containers[0]
		env := ""
		for _, e := range c.Env {
			if e.Name == "GOMAXPROCS" {
				env = e.Value
			}
		}
		if env == "" {
			continue // the router tunes it itself
		}
		n, err := strconv.Atoi(env)
		if err != nil || n < 1 {
			t.Errorf("deploy/kubernetes/%s: GOMAXPROCS %q is not a positive integer (the Go runtime ignores it)", m.file, env)
			continue
		}
		cpus := deployReviewCPU(t, c.Resources.Limits["cpu"])
		if cpus == 0 {
			cpus = deployReviewCPU(t, c.Resources.Requests["cpu"])
		}
		want := min(4*max(int(math.Ceil(cpus)), 1), 8)

		// As the process starts with GOMAXPROCS=n in its environment.
		t.Setenv("GOMAXPROCS", env)
		runtime.GOMAXPROCS(n)
		_, after := app.TuneGOMAXPROCS()
		if after < want {
			t.Errorf("deploy/kubernetes/%s: %s sets GOMAXPROCS=%s, so router run keeps %d Ps (the raise is skipped when the variable is set); "+
				"for the %.2g CPU(s) the pod is given the router's rule is min(4 x CPUs, 8) = %d: with fsync: always queues, threads in fsync hold the Ps "+
				"and durable throughput halves (docs/architecture.md, GOMAXPROCS). Set GOMAXPROCS to at least %d (8 for the 2 cores the edge is meant to use, as the gateway does)",
				m.file, m.workload, env, after, cpus, want, want)
		}
	}
}
