package main

// Fault tests from a review of the Kubernetes manifests: each failed before
// the fix it describes (the comments describe the manifests as found).

// Faults found reviewing deploy/kubernetes/*.yaml as an SRE would run them.
// Each test fails against the manifests as they are; its comment says what
// goes wrong in a cluster and the fix.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter/internal/config"
)

type k8sReviewContainer struct {
	Name            string `yaml:"name"`
	Image           string `yaml:"image"`
	ImagePullPolicy string `yaml:"imagePullPolicy"`
	ReadinessProbe  *struct {
		HTTPGet *struct {
			Path string `yaml:"path"`
			Port string `yaml:"port"`
		} `yaml:"httpGet"`
	} `yaml:"readinessProbe"`
}

type k8sReviewObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		// Service
		Selector              map[string]any `yaml:"selector"` // a Service's labels; a workload's matchLabels
		InternalTrafficPolicy string         `yaml:"internalTrafficPolicy"`
		Ports                 []struct {
			Name       string `yaml:"name"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
		// Workloads
		Replicas int `yaml:"replicas"`
		Template struct {
			Metadata struct {
				Labels map[string]string `yaml:"labels"`
			} `yaml:"metadata"`
			Spec struct {
				Affinity *struct {
					PodAntiAffinity *struct {
						Required  []any `yaml:"requiredDuringSchedulingIgnoredDuringExecution"`
						Preferred []any `yaml:"preferredDuringSchedulingIgnoredDuringExecution"`
					} `yaml:"podAntiAffinity"`
				} `yaml:"affinity"`
				TopologySpreadConstraints []struct {
					TopologyKey string `yaml:"topologyKey"`
				} `yaml:"topologySpreadConstraints"`
				Tolerations []struct {
					Key      string `yaml:"key"`
					Operator string `yaml:"operator"`
					Effect   string `yaml:"effect"`
				} `yaml:"tolerations"`
				InitContainers []k8sReviewContainer `yaml:"initContainers"`
				Containers     []k8sReviewContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

func readK8sOps(t *testing.T, file string) map[string]k8sReviewObject {
	t.Helper()
	raw, err := os.ReadFile("../../deploy/kubernetes/" + file)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]k8sReviewObject{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var o k8sReviewObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		objs[o.Kind+"/"+o.Metadata.Name] = o
	}
	return objs
}

// TestGatewayReplicasSpreadOverNodes: the gateway StatefulSet (3
// replicas, each the only holder of its acknowledged-but-undelivered queue
// data on a zonal RWO volume) has neither podAntiAffinity nor
// topologySpreadConstraints. The scheduler may put all three on one node
// (or one zone): losing that node takes every replica, the whole HTTP/syslog
// Service and the Kafka consumer group down at once, and the
// PodDisruptionBudget (maxUnavailable: 1) then only blocks the drain of
// that node instead of protecting anything. Because the PVCs bind to the
// zone of the first scheduling, a co-located start also pins the replicas
// to one zone for ever.
//
// Fix (gateway.yaml, pod template spec): topologySpreadConstraints on
// kubernetes.io/hostname (maxSkew 1, whenUnsatisfiable: DoNotSchedule) and
// topology.kubernetes.io/zone (ScheduleAnyway), selector app: logrouter; or
// a required podAntiAffinity on kubernetes.io/hostname.
func TestGatewayReplicasSpreadOverNodes(t *testing.T) {
	sts, ok := readK8sOps(t, "gateway.yaml")["StatefulSet/logrouter"]
	if !ok {
		t.Fatal("gateway.yaml has no StatefulSet/logrouter")
	}
	pod := sts.Spec.Template.Spec
	spread := false
	for _, c := range pod.TopologySpreadConstraints {
		if c.TopologyKey == "kubernetes.io/hostname" || c.TopologyKey == "topology.kubernetes.io/zone" {
			spread = true
		}
	}
	if a := pod.Affinity; a != nil && a.PodAntiAffinity != nil && len(a.PodAntiAffinity.Required)+len(a.PodAntiAffinity.Preferred) > 0 {
		spread = true
	}
	if sts.Spec.Replicas > 1 && !spread {
		t.Errorf("deploy/kubernetes/gateway.yaml: StatefulSet/logrouter runs %d replicas with no podAntiAffinity and no topologySpreadConstraints: "+
			"all of them (and their queues) may land on one node or zone, and one node failure takes the whole gateway down; "+
			"add topologySpreadConstraints on kubernetes.io/hostname (maxSkew: 1, DoNotSchedule) and topology.kubernetes.io/zone, labelSelector app: logrouter",
			sts.Spec.Replicas)
	}
}

// TestImagesArePinned: both workloads run
// ghcr.io/logrouter/logrouter:latest with no imagePullPolicy, which for
// :latest means Always. Every pod (re)start pulls whatever :latest is at
// that moment: a StatefulSet replica restarted by its liveness probe or a
// node failure comes back on a different release than its siblings (and
// opens queue files written by the old one), a rollback with `kubectl
// rollout undo` changes nothing (the template is the same), and during a
// registry outage no restarted pod can start (ImagePullBackOff) - just
// when queued data needs its router most.
//
// Fix: pin the image to a release tag, preferably with its digest
// (ghcr.io/logrouter/logrouter:vX.Y.Z@sha256:...), in gateway.yaml:135 and
// edge-daemonset.yaml:90 (imagePullPolicy: IfNotPresent then applies).
func TestImagesArePinned(t *testing.T) {
	for file, workload := range map[string]string{"gateway.yaml": "StatefulSet/logrouter", "edge-daemonset.yaml": "DaemonSet/logrouter-edge"} {
		w, ok := readK8sOps(t, file)[workload]
		if !ok {
			t.Fatalf("%s has no %s", file, workload)
		}
		for _, c := range append(w.Spec.Template.Spec.InitContainers, w.Spec.Template.Spec.Containers...) {
			img := c.Image
			if strings.Contains(img, "@sha256:") {
				continue
			}
			tag := ""
			if i := strings.LastIndex(img, ":"); i > strings.LastIndex(img, "/") {
				tag = img[i+1:]
			}
			if tag == "" || tag == "latest" {
				t.Errorf("deploy/kubernetes/%s: %s container %q runs image %q (imagePullPolicy %q, i.e. Always): replicas restarted at different times run different releases, "+
					"rollbacks are no-ops and a registry outage stops every restart; pin a release tag and digest", file, workload, c.Name, img, c.ImagePullPolicy)
			}
		}
	}
}

// TestGatewayReadinessDoesNotGateHTTPOnKafka: the gateway's Service
// (logrouter) sends HEC/_bulk and syslog to the StatefulSet's pods, and
// only to Ready ones. Their readinessProbe is /readyz, which answers 503
// once inputs.kafka has had no partition assigned for ready_grace (30s by
// default, handleReady -> kafkain.Source.Ready; TestKafkaReadiness shows
// it). So Kafka trouble that has nothing to do with HTTP or syslog pulls
// replicas out of the HTTP/syslog Service:
//   - a replica that (re)starts while the brokers are unreachable (a Kafka
//     maintenance, a network partition) never becomes Ready: if all of
//     them restart then (node pool upgrade, a bad config rolled out and
//     back), the Service has no endpoints and HEC and syslog ingestion
//     stop although their queues and destinations are fine;
//   - a StatefulSet rolling update waits for each new pod to be Ready, so
//     it stalls for the whole Kafka outage;
//   - with more replicas than the topic has partitions (docs/kubernetes.md
//     asks for enough partitions, nothing enforces it) the extra replicas
//     are never Ready: they hold no HTTP/syslog traffic and, counted as
//     disrupted, consume the PodDisruptionBudget, so no other replica can
//     be evicted and node drains hang.
//
// Fix: readiness of the HTTP/syslog Service must not depend on Kafka
// assignment: either serve the Kafka consumer and the HTTP/syslog gateway
// from separate workloads, or give /readyz a way to leave the Kafka check
// out (e.g. /readyz?kafka=ignore, code change) and probe that; as a stop-gap
// in the ConfigMap, inputs.kafka.ready_grace: a very long duration, and
// alert on logrouter_kafka_assigned_partitions == 0 instead.
func TestGatewayReadinessDoesNotGateHTTPOnKafka(t *testing.T) {
	objs := readK8sOps(t, "gateway.yaml")
	sts, ok := objs["StatefulSet/logrouter"]
	if !ok {
		t.Fatal("gateway.yaml has no StatefulSet/logrouter")
	}
	cfg, err := config.Parse("gateway.yaml", []byte(reviewExpandForParse(objs["ConfigMap/logrouter-config"].Data["config.yaml"])))
	if err != nil {
		t.Fatal(err)
	}
	cfg.SetDefaults()
	if cfg.Inputs.Kafka == nil || len(sts.Spec.Template.Spec.Containers) != 1 {
		return
	}
	c := sts.Spec.Template.Spec.Containers[0]
	if c.ReadinessProbe == nil || c.ReadinessProbe.HTTPGet == nil || c.ReadinessProbe.HTTPGet.Path != "/readyz" {
		return // probes something that does not hold the Kafka check
	}
	labels := sts.Spec.Template.Metadata.Labels
	for name, o := range objs {
		if o.Kind != "Service" || len(o.Spec.Selector) == 0 {
			continue
		}
		selects := true
		for k, v := range o.Spec.Selector {
			if s, ok := v.(string); !ok || labels[k] != s {
				selects = false
			}
		}
		var fronted []string
		for _, p := range o.Spec.Ports {
			if p.TargetPort != "admin" {
				fronted = append(fronted, p.Name)
			}
		}
		if !selects || len(fronted) == 0 {
			continue
		}
		t.Errorf("deploy/kubernetes/gateway.yaml: %s routes %v (HTTP/syslog) only to Ready pods, and the pods' readiness is /readyz, "+
			"which fails whenever inputs.kafka has no partition assigned %s after start: a Kafka outage during a restart, or more replicas than partitions, "+
			"takes HTTP and syslog ingestion off those replicas (all of them after a full restart), stalls rolling updates and uses up the PodDisruptionBudget. "+
			"Decouple the HTTP/syslog readiness from Kafka assignment (separate workloads, or a /readyz that can leave Kafka out)",
			name, fronted, cfg.Inputs.Kafka.ReadyGrace)
	}
}

// TestEdgeRunsWhereItsLocalServiceSends: the edge Service
// (logrouter-edge) has internalTrafficPolicy: Local, so a shipper's
// traffic goes only to the logrouter-edge pod of its own node, and is
// dropped by kube-proxy when that node has none. The DaemonSet has no
// tolerations, so it is not scheduled on any tainted node (dedicated or GPU
// pools, control-plane nodes, nodes tainted by the node lifecycle
// controller for disk/memory pressure are even evicted), while the node
// shippers it serves (Fluent Bit, Vector, OTel Collector DaemonSets)
// usually tolerate every taint: on those nodes HTTP/TCP sends are refused
// and syslog UDP disappears without a trace.
//
// Fix (edge-daemonset.yaml, pod template spec): tolerations: [{operator:
// Exists}] (or the same tolerations as the shippers), and a
// priorityClassName (e.g. system-node-critical or a dedicated high class)
// so that the pod is not the one evicted or left Pending on a full node.
func TestEdgeRunsWhereItsLocalServiceSends(t *testing.T) {
	objs := readK8sOps(t, "edge-daemonset.yaml")
	ds, ok := objs["DaemonSet/logrouter-edge"]
	if !ok {
		t.Fatal("edge-daemonset.yaml has no DaemonSet/logrouter-edge")
	}
	svc := objs["Service/logrouter-edge"]
	if svc.Spec.InternalTrafficPolicy != "Local" {
		return
	}
	for _, tol := range ds.Spec.Template.Spec.Tolerations {
		if tol.Operator == "Exists" && tol.Key == "" {
			return // tolerates every taint
		}
	}
	t.Errorf("deploy/kubernetes/edge-daemonset.yaml: Service/logrouter-edge is internalTrafficPolicy: Local, but DaemonSet/logrouter-edge tolerates %v only: "+
		"on every tainted node there is no local endpoint and the shippers' traffic there is dropped; add tolerations: [{operator: Exists}] (or the shippers' own)",
		ds.Spec.Template.Spec.Tolerations)
}
