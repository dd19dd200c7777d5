package rules

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/logrouter/logrouter/pipeline"
)

// TestMisnamedTestFileErrorSaysWhatToDo
//
// Fault: a rule test file whose name does not end exactly in _test.yaml
// (a SOC engineer's "12-p1-local-test.yaml" or "12-p1-local_tests.yaml")
// is loaded as a rule file. The error is
//
//	12-p1-local-test.yaml:1: unknown key "tests" (in rules.File); check its spelling and indentation
//
// which sends the engineer to the spelling of "tests" (correct) and its
// indentation (correct), never to the file name, the only thing wrong. The
// same message refuses a hot reload in a running router.
//
// Expected: the task brief and rules/README.md ("It compiles every rule
// file (all problems are reported at once, with file and line)"; test
// files are "*_test.yaml"): an error that names what to do - here, that a
// file holding tests: must be named *_test.yaml.
// Actual: "check its spelling and indentation", with the Go type name
// rules.File, nothing about the file name.
//
// Severity: low (loud, but misleading: costs the engineer time, and a
// reload of the ConfigMap is refused until the file is renamed).
func TestMisnamedTestFileErrorSaysWhatToDo(t *testing.T) {
	test := []byte("tests:\n  - name: acme critical\n    sourcetype: acme.ids\n    event: {severity: 9}\n    expect: {priority: P1}\n")
	for _, name := range []string{"12-p1-local-test.yaml", "12-p1-local_tests.yaml"} {
		fsys := fstest.MapFS{
			"rules/10-p1.yaml": {Data: []byte("rules:\n  - {name: acme, priority: P1, expr: 'severity > 8'}\n")},
			"rules/" + name:    {Data: test},
		}
		_, err := Load(fsys, "rules", pipeline.P3)
		if err == nil {
			t.Fatalf("%s: loaded without error", name)
		}
		if !strings.Contains(err.Error(), "_test.yaml") {
			t.Errorf("%s: the error does not say that a test file must be named *_test.yaml: %v", name, err)
		}
	}
}
