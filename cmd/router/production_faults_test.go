package main

// Fault tests from a review of the deployment artefacts: each failed
// before its fix (the comments describe what was found).

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// projectVolume lays files out under dir as the kubelet writes a ConfigMap,
// Secret or projected volume (its atomic writer): the files in a
// timestamped directory, "..data" a link to it, and each top-level entry a
// link into "..data".
func projectVolume(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	ts := filepath.Join(dir, "..2026_11_29_12_00_00.000000001")
	top := map[string]bool{}
	for name, data := range files {
		p := filepath.Join(ts, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		top[strings.SplitN(name, "/", 2)[0]] = true
	}
	if err := os.Symlink(filepath.Base(ts), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for name := range top {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestProductionExampleFromTheConfigMapMount: docs/examples/production.yaml
// is "logrouter in production" (the pod name as node, the pod's IRSA role,
// staging and queues on the persistent volume at /var/lib/logrouter), and
// the way to run a config in production is deploy/kubernetes/gateway.yaml
// with docs/kubernetes.md: the config is the ConfigMap mounted at
// /etc/logrouter/config/config.yaml and the rules volume is at
// /etc/logrouter/rules. But its rules.dir is "../../rules", relative to the
// config file's directory (app.RulesFor): from the mount that is
// /etc/rules, which no volume provides. Used as the gateway's config, every
// replica exits at start ("rules: open .../etc/rules: no such file or
// directory") and the StatefulSet's rollout stops on a crash-looping pod.
//
// The pod's file system is laid out under a temporary root, the ConfigMap
// and the rules volume as the kubelet writes them, and `router validate`
// runs on the config where the pod reads it.
//
// Expected: the example validates there: rules: {dir: /etc/logrouter/rules}
// (TestProductionExample would then map that path to ../../rules, as
// TestKubernetesManifests does for the manifests).
func TestProductionExampleFromTheConfigMapMount(t *testing.T) {
	for _, v := range []string{"LOGROUTER_NODE", "LOGROUTER_HEC_TOKEN", "LOGROUTER_CLOUDTRAIL_TOKEN", "KAFKA_PASSWORD", "SPLUNK_HEC_TOKEN"} {
		t.Setenv(v, "x-"+strings.ToLower(v))
	}
	t.Setenv("LOGROUTER_HASH_KEY", "00112233445566778899aabbccddeeff")
	raw, err := os.ReadFile("../../docs/examples/production.yaml")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	// Absolute paths of the pod, under root.
	text := strings.NewReplacer("/etc/", root+"/etc/", "/var/lib/logrouter", root+"/var/lib/logrouter").Replace(string(raw))

	// The rules volume (gateway.yaml: logrouter-rules, and the profiles
	// placed by item under profiles/).
	rules := map[string][]byte{}
	for _, pat := range []string{"../../rules/*.yaml", "../../rules/profiles/*.yaml"} {
		files, _ := filepath.Glob(pat)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel("../../rules", f)
			rules[filepath.ToSlash(rel)] = b
		}
	}
	rulesDir := filepath.Join(root, "etc/logrouter/rules")
	configDir := filepath.Join(root, "etc/logrouter/config")
	for _, d := range []string{rulesDir, configDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	projectVolume(t, rulesDir, rules)
	projectVolume(t, configDir, map[string][]byte{"config.yaml": []byte(text)})

	cfgPath := filepath.Join(configDir, "config.yaml")
	out, err := run(t, "", "validate", "-c", cfgPath)
	if err != nil || !strings.Contains(out, "OK") {
		t.Errorf("docs/examples/production.yaml as the gateway's ConfigMap (/etc/logrouter/config/config.yaml, rules at /etc/logrouter/rules): "+
			"the router does not start: %v\n%s", err, out)
	}
}
