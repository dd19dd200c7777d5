package main

// Fault tests from a review of the deployment artefacts: each failed
// before its fix (the comments describe what was found).

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter"
	"github.com/logrouter/logrouter/internal/app"
	"github.com/logrouter/logrouter/internal/config"
)

// endpointPropagation is how long, at least, a Service may go on sending new
// connections and datagrams to a pod after the pod is told to stop.
// Kubernetes (Pod lifecycle, "Termination of Pods") sends SIGTERM to the
// container and removes the pod from the Service's EndpointSlices at the
// same time; every node's kube-proxy (and any cloud load balancer) then
// reprograms its rules on its own schedule, typically within a few seconds.
// Until it has, kube-proxy still picks the terminating pod for new TCP
// connections, and UDP flows already tracked by conntrack keep landing on
// it. The usual remedy is a preStop hook that waits that long before SIGTERM
// (the kubelet runs it first and counts it in the grace period).
const endpointPropagation = 5 * time.Second

// reviewPodSpec is the part of a workload that the shutdown checks read.
type reviewPodSpec struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				Containers                    []struct {
					Name      string `yaml:"name"`
					Lifecycle struct {
						PreStop *struct {
							Sleep *struct {
								Seconds int `yaml:"seconds"`
							} `yaml:"sleep"`
							Exec *struct {
								Command []string `yaml:"command"`
							} `yaml:"exec"`
						} `yaml:"preStop"`
					} `yaml:"lifecycle"`
				} `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func readReviewObjects(t *testing.T, file string) map[string]reviewPodSpec {
	return readManifestObjects(t, file, func(o *reviewPodSpec) string { return o.Kind + "/" + o.Metadata.Name })
}

// readManifestObjects decodes every YAML document of the manifest file
// into a T, keyed by key (kind/name).
func readManifestObjects[T any](t *testing.T, file string, key func(*T) string) map[string]T {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]T{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var o T
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		objs[key(&o)] = o
	}
	return objs
}

// routerServesAfterUnready runs the router (HTTP input, a file destination),
// starts its graceful shutdown as SIGTERM does (App.Shutdown, called by
// App.Run), and returns how long its HTTP listener still accepts new
// connections after /readyz first stops answering 200: the time the router
// itself leaves the Service to stop sending to it.
func routerServesAfterUnready(t *testing.T) time.Duration {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse("review.yaml", []byte(strings.ReplaceAll(`
log: {level: error, format: json}
admin: {address: "127.0.0.1:0"}
inputs:
  http:
    address: "127.0.0.1:0"
    tokens: [{name: t, token: tok}]
rules: {dir: rules}
destinations:
  - {name: out, type: file, file: {dir: DATA/out}}
routing: {all: [out]}
queue: {dir: DATA/queue}
quarantine: {dir: DATA/quarantine}
shutdown_timeout: 20s
`, "DATA", dir)))
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(cfg, app.RulesSource{FS: logrouter.StarterRules, Dir: cfg.Rules.Dir}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	httpAddr, readyz := a.HTTPAddr(), "http://"+a.AdminAddr()+"/readyz"
	client := &http.Client{Timeout: time.Second}
	ready := func() bool {
		res, err := client.Get(readyz)
		if err != nil {
			return false // the admin listener closed: unready as well
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}
	if !ready() {
		t.Fatal("/readyz is not 200 after Start")
	}
	stopped := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		stopped <- a.Shutdown(ctx)
	}()
	defer func() { <-stopped }()
	deadline := time.Now().Add(5 * time.Second)
	for ready() {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still 200 5s after the shutdown started")
		}
		time.Sleep(2 * time.Millisecond)
	}
	unready := time.Now()
	for time.Since(unready) < 2*endpointPropagation {
		c, err := net.DialTimeout("tcp", httpAddr, 200*time.Millisecond)
		if err != nil {
			return time.Since(unready)
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(unready)
}

// TestGatewayKeepsServingUntilEndpointsAreRemoved: on SIGTERM the
// router turns /readyz to 503 and, in the same instant, closes its HTTP,
// syslog TCP/TLS listeners and UDP sockets (App.Shutdown: ready.Store(false)
// then in.Shutdown, sl.Shutdown). Kubernetes removes a terminating pod from
// the Service concurrently with SIGTERM, not before it, so for the seconds
// kube-proxy takes to catch up, the gateway Service keeps routing new HEC,
// _bulk and syslog TCP connections to a closed port (connection refused
// during every rollout and node drain) and syslog UDP datagrams, pinned to
// the pod by conntrack, into a closed socket: dropped, with nobody told.
//
// Expected: the gateway's container waits for the endpoints to be removed
// before the router stops listening: a preStop hook of the sleep kind (the
// image is distroless: no shell and no sleep binary for an exec hook) of at
// least endpointPropagation, e.g. lifecycle: {preStop: {sleep: {seconds:
// 10}}}, with terminationGracePeriodSeconds still above that plus
// shutdown_timeout (the kubelet counts the hook in the grace period); or the
// router itself keeps accepting that long after /readyz turns 503.
//
// The edge DaemonSet is left out: its Service is internalTrafficPolicy:
// Local, and no other endpoint on the node can take over, so a delay there
// only moves the gap.
func TestGatewayKeepsServingUntilEndpointsAreRemoved(t *testing.T) {
	objs := readReviewObjects(t, "../../deploy/kubernetes/gateway.yaml")
	sts, ok := objs["StatefulSet/logrouter"]
	if !ok {
		t.Fatal("gateway.yaml has no StatefulSet/logrouter")
	}
	cfg, err := config.Parse("gateway.yaml", []byte(reviewExpandForParse(objs["ConfigMap/logrouter-config"].Data["config.yaml"])))
	if err != nil {
		t.Fatal(err)
	}
	pod := sts.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want the router alone", len(pod.Containers))
	}
	var preStop time.Duration
	if h := pod.Containers[0].Lifecycle.PreStop; h != nil {
		switch {
		case h.Sleep != nil:
			preStop = time.Duration(h.Sleep.Seconds) * time.Second
		case h.Exec != nil:
			t.Errorf("preStop exec %v: the image is distroless (only /router, which has no sleep command): the hook fails and SIGTERM follows at once; use the sleep action", h.Exec.Command)
		}
	}
	grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second
	if preStop > 0 && grace <= preStop+cfg.ShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds %s does not exceed preStop %s + shutdown_timeout %s: the kubelet kills the router mid-drain", grace, preStop, cfg.ShutdownTimeout)
	}
	if preStop >= endpointPropagation {
		return
	}
	served := routerServesAfterUnready(t)
	if served < endpointPropagation {
		t.Errorf("deploy/kubernetes/gateway.yaml: the router container has no preStop delay (preStop %s) and the router stops accepting %s after /readyz turns 503: "+
			"on every rollout or drain the Service still routes new connections and UDP datagrams to the pod for the seconds kube-proxy needs (connection refused; syslog UDP dropped). "+
			"Add lifecycle: {preStop: {sleep: {seconds: 10}}} (at least %s) and keep terminationGracePeriodSeconds > preStop + shutdown_timeout (%s)",
			preStop, served.Round(time.Millisecond), endpointPropagation, cfg.ShutdownTimeout)
	}
}

// reviewExpandForParse fills the ${VAR}s of a manifest's config so that
// config.Parse accepts it (the values do not matter here).
func reviewExpandForParse(text string) string {
	for _, v := range []string{"LOGROUTER_NODE", "LOGROUTER_ADMIN_TOKEN", "LOGROUTER_HEC_TOKEN", "LOGROUTER_CLOUDTRAIL_TOKEN",
		"SPLUNK_HEC_TOKEN", "KAFKA_PASSWORD"} {
		text = strings.ReplaceAll(text, "${"+v+"}", "x-"+strings.ToLower(v)+"-0123456789abcdef")
	}
	return strings.ReplaceAll(text, "${LOGROUTER_HASH_KEY}", "00112233445566778899aabbccddeeff")
}
