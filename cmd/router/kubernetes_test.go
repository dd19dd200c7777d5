package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/logrouter/logrouter/internal/config"
	"github.com/logrouter/logrouter/internal/testutil"
)

type k8sProbe struct {
	HTTPGet struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"`
	} `yaml:"httpGet"`
}

// k8sObject is the part of a Kubernetes object these checks read.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		ServiceName string `yaml:"serviceName"`
		// Service
		Ports []struct {
			Name       string `yaml:"name"`
			TargetPort string `yaml:"targetPort"`
			Protocol   string `yaml:"protocol"`
		} `yaml:"ports"`
		Template struct {
			Spec struct {
				TerminationGracePeriodSeconds int `yaml:"terminationGracePeriodSeconds"`
				Containers                    []struct {
					Args []string `yaml:"args"`
					Env  []struct {
						Name string `yaml:"name"`
					} `yaml:"env"`
					Ports []struct {
						Name          string `yaml:"name"`
						ContainerPort int    `yaml:"containerPort"`
						Protocol      string `yaml:"protocol"`
					} `yaml:"ports"`
					StartupProbe   k8sProbe `yaml:"startupProbe"`
					ReadinessProbe k8sProbe `yaml:"readinessProbe"`
					LivenessProbe  k8sProbe `yaml:"livenessProbe"`
					VolumeMounts   []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name     string `yaml:"name"`
					HostPath *struct {
						Path string `yaml:"path"`
					} `yaml:"hostPath"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
					Projected *struct {
						Sources []struct {
							ConfigMap struct {
								Name  string `yaml:"name"`
								Items []struct {
									Key  string `yaml:"key"`
									Path string `yaml:"path"`
								} `yaml:"items"`
							} `yaml:"configMap"`
						} `yaml:"sources"`
					} `yaml:"projected"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		VolumeClaimTemplates []struct {
			Metadata struct {
				Name string `yaml:"name"`
			} `yaml:"metadata"`
		} `yaml:"volumeClaimTemplates"`
	} `yaml:"spec"`
}

// TestKubernetesManifests keeps deploy/kubernetes/*.yaml true: each
// manifest's config passes `router validate` (with the repository's rules
// where the manifest mounts them), and its workload matches that config:
// the pod sets every ${VAR} it reads, exposes every listener, probes the
// admin port, outlives shutdown_timeout on SIGTERM, keeps queues,
// quarantine and S3 staging on its durable volume (the root file system is
// read-only), and mounts every starter profile.
func TestKubernetesManifests(t *testing.T) {
	for _, m := range []struct {
		file, configMap, workload string
		objects                   []string
	}{
		{"gateway.yaml", "logrouter-config", "StatefulSet/logrouter",
			[]string{"ServiceAccount/logrouter", "Service/logrouter", "Service/logrouter-pods", "PodDisruptionBudget/logrouter"}},
		{"edge-daemonset.yaml", "logrouter-edge-config", "DaemonSet/logrouter-edge", []string{"Service/logrouter-edge"}},
	} {
		t.Run(m.file, func(t *testing.T) {
			checkManifest(t, "../../deploy/kubernetes/"+m.file, m.configMap, m.workload, m.objects)
		})
	}
	files, _ := filepath.Glob("../../deploy/kubernetes/*.yaml")
	files = slices.DeleteFunc(files, func(f string) bool {
		return filepath.Base(f) == "alerts.yaml" // TestAlertRulesUseExportedMetrics
	})
	if len(files) != 2 {
		t.Errorf("deploy/kubernetes holds %v: add the new manifest to this test", files)
	}
}

func checkManifest(t *testing.T, file, configMap, workload string, others []string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string]k8sObject{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if o.Kind == "" || o.Metadata.Name == "" {
			t.Fatalf("an object without kind or name: %+v", o)
		}
		objs[o.Kind+"/"+o.Metadata.Name] = o
	}
	for _, want := range append([]string{"ConfigMap/" + configMap, workload}, others...) {
		if _, ok := objs[want]; !ok {
			t.Errorf("%s lacks %s", file, want)
		}
	}
	text := objs["ConfigMap/"+configMap].Data["config.yaml"]
	if text == "" {
		t.Fatalf("ConfigMap %s has no config.yaml", configMap)
	}
	sts := objs[workload]
	pod := sts.Spec.Template.Spec
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers, want the router alone", len(pod.Containers))
	}
	c := pod.Containers[0]

	// Every variable the config reads is set by the pod.
	var env []string
	for _, e := range c.Env {
		env = append(env, e.Name)
	}
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)(:-[^}]*)?\}`).FindAllStringSubmatch(text, -1) {
		if !slices.Contains(env, m[1]) {
			t.Errorf("the config reads ${%s}; the pod does not set it", m[1])
		}
	}

	// The config validates, with the repository's rules and a certificate
	// where the pod mounts them.
	dir := t.TempDir()
	cert, key, _ := testutil.SelfSigned(t, dir)
	rulesDir, _ := filepath.Abs("../../rules")
	local := strings.NewReplacer("/etc/logrouter/rules", rulesDir,
		"/etc/logrouter/tls/tls.crt", cert, "/etc/logrouter/tls/tls.key", key,
		"/var/lib/logrouter", filepath.Join(dir, "data")).Replace(text)
	for _, v := range env {
		t.Setenv(v, "x-"+strings.ToLower(v))
	}
	t.Setenv("LOGROUTER_HASH_KEY", "00112233445566778899aabbccddeeff")
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(local), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := run(t, "", "validate", "-c", cfgPath); err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("the manifest's config does not validate: %v\n%s", err, out)
	}
	cfg, err := config.Parse("gateway.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	cfg.SetDefaults()

	// The pod runs that config.
	mounts := map[string]string{} // path -> volume
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	if !slices.Contains(c.Args, "/etc/logrouter/config/config.yaml") || mounts["/etc/logrouter/config"] != "config" {
		t.Errorf("args %v and mounts %v: the router does not read the ConfigMap", c.Args, mounts)
	}
	configMaps := map[string]string{}
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil {
			configMaps[v.Name] = v.ConfigMap.Name
		}
	}
	if configMaps["config"] != configMap {
		t.Errorf("volume config is %q, want ConfigMap %s", configMaps["config"], configMap)
	}

	// Every listener has a container port.
	type port struct {
		n     int
		proto string
	}
	var ports []port
	for _, p := range c.Ports {
		ports = append(ports, port{p.ContainerPort, p.Protocol})
	}
	listen := func(what, addr, proto string) {
		_, p, _ := net.SplitHostPort(addr)
		n, err := strconv.Atoi(p)
		if err != nil || !slices.Contains(ports, port{n, proto}) {
			t.Errorf("%s listens on %s/%s; the pod has no such port (%v)", what, addr, proto, ports)
		}
	}
	listen("inputs.http", cfg.Inputs.HTTP.Address, "TCP")
	listen("inputs.syslog.udp", cfg.Inputs.Syslog.UDP.Address, "UDP")
	listen("inputs.syslog.tcp", cfg.Inputs.Syslog.TCP.Address, "TCP")
	if cfg.Inputs.Syslog.TLS != nil && cfg.Inputs.Syslog.TLS.CertFile != "" {
		listen("inputs.syslog.tls", cfg.Inputs.Syslog.TLS.Address, "TCP")
	}
	listen("admin", cfg.Admin.Address, "TCP")
	if (c.ReadinessProbe.HTTPGet.Path != "/readyz" && c.ReadinessProbe.HTTPGet.Path != "/readyz?kafka=ignore") || c.LivenessProbe.HTTPGet.Path != "/healthz" || c.StartupProbe.HTTPGet.Path != "/healthz" ||
		c.ReadinessProbe.HTTPGet.Port != "admin" || c.LivenessProbe.HTTPGet.Port != "admin" || c.StartupProbe.HTTPGet.Port != "admin" {
		t.Errorf("probes %+v %+v %+v, want a startup probe (queue recovery precedes the admin listener), /readyz and /healthz on the admin port",
			c.StartupProbe, c.ReadinessProbe, c.LivenessProbe)
	}
	named := map[string]port{}
	for _, p := range c.Ports {
		named[p.Name] = port{p.ContainerPort, p.Protocol}
	}
	if _, adminPort, _ := net.SplitHostPort(cfg.Admin.Address); strconv.Itoa(named["admin"].n) != adminPort {
		t.Errorf("the port named admin is %d; the admin listener is %s", named["admin"].n, cfg.Admin.Address)
	}
	// Services send to ports the pod has, with their protocol.
	for name, o := range objs {
		if o.Kind != "Service" {
			continue
		}
		for _, sp := range o.Spec.Ports {
			if p, ok := named[sp.TargetPort]; !ok || p.proto != sp.Protocol {
				t.Errorf("%s port %s targets %s/%s; the pod has %v", name, sp.Name, sp.TargetPort, sp.Protocol, named)
			}
		}
	}
	if sts.Kind == "StatefulSet" {
		if h, ok := objs["Service/"+sts.Spec.ServiceName]; !ok || h.Kind != "Service" {
			t.Errorf("serviceName %q names no Service in the manifest", sts.Spec.ServiceName)
		}
	}

	// SIGTERM: the grace period covers the router's shutdown.
	if grace := time.Duration(pod.TerminationGracePeriodSeconds) * time.Second; grace <= cfg.ShutdownTimeout {
		t.Errorf("terminationGracePeriodSeconds %s does not exceed shutdown_timeout %s: the kubelet kills the router mid-drain", grace, cfg.ShutdownTimeout)
	}

	// Durable state is on a volume that outlives the pod: the
	// StatefulSet's claim, or the DaemonSet's node directory.
	durableVol := ""
	if len(sts.Spec.VolumeClaimTemplates) == 1 {
		durableVol = sts.Spec.VolumeClaimTemplates[0].Metadata.Name
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			durableVol = v.Name
		}
	}
	if durableVol == "" || mounts["/var/lib/logrouter"] != durableVol {
		t.Fatalf("no claim or hostPath volume mounted at /var/lib/logrouter (%v)", mounts)
	}
	durable := []string{cfg.Queue.Dir, cfg.Quarantine.Dir}
	for _, d := range cfg.Destinations {
		if d.S3 != nil {
			durable = append(durable, d.S3.StagingDir)
		}
	}
	for _, d := range durable {
		if !strings.HasPrefix(d, "/var/lib/logrouter/") {
			t.Errorf("%s is not on the persistent volume: an acknowledged event kept there would not survive the pod", d)
		}
	}

	// Every starter profile is mounted under rules/profiles.
	profiles, _ := filepath.Glob("../../rules/profiles/*.yaml")
	var mounted []string
	for _, v := range pod.Volumes {
		if v.Name != "rules" || v.Projected == nil {
			continue
		}
		for _, s := range v.Projected.Sources {
			for _, it := range s.ConfigMap.Items {
				if it.Path != "profiles/"+it.Key {
					t.Errorf("profile item %s mounted at %s", it.Key, it.Path)
				}
				mounted = append(mounted, it.Key)
			}
		}
	}
	for _, p := range profiles {
		if !slices.Contains(mounted, filepath.Base(p)) {
			t.Errorf("rules/profiles/%s is not in the rules volume's items", filepath.Base(p))
		}
	}
	if mounts["/etc/logrouter/rules"] != "rules" || cfg.Rules.Dir != "/etc/logrouter/rules" {
		t.Errorf("rules.dir %s, mounts %v: the rules volume is not where the config reads it", cfg.Rules.Dir, mounts)
	}
}
