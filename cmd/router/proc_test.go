package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// routerBinary builds cmd/router once per test run.
func routerBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "logrouter-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "router")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binPath = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v\n%s", buildErr, binPath)
	}
	return binPath
}

// proc is a running router process.
type proc struct {
	cmd   *exec.Cmd
	http  string
	admin string
	logs  *bufio.Scanner
	tail  chan []string
}

// startRouter runs the binary on cfgPath and waits until it is ready.
func startRouter(t *testing.T, cfgPath string) *proc {
	t.Helper()
	cmd := exec.Command(routerBinary(t), "run", "-c", cfgPath)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: bufio.NewScanner(stderr), tail: make(chan []string, 1)}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	// The config must log at info: "logrouter ready" carries the addresses.
	ready := make(chan []string, 1)
	go func() {
		var seen []string
		for p.logs.Scan() {
			seen = append(seen, p.logs.Text())
			var rec struct{ Msg, HTTP, Admin string }
			if json.Unmarshal(p.logs.Bytes(), &rec) == nil && rec.Msg == "logrouter ready" {
				p.http, p.admin = rec.HTTP, rec.Admin
				break
			}
		}
		ready <- seen
	}()
	select {
	case seen := <-ready:
		if p.admin == "" {
			t.Fatalf("router did not become ready:\n%s", strings.Join(seen, "\n"))
		}
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("router not ready after 30s")
	}
	go func() {
		var lines []string
		for p.logs.Scan() {
			lines = append(lines, p.logs.Text())
		}
		p.tail <- lines
	}()
	return p
}

// wait waits for the process to exit within d and returns its error and the
// log lines it wrote after becoming ready.
func (p *proc) wait(t *testing.T, d time.Duration) (error, []string) {
	t.Helper()
	// Read stderr to its end (the process exited) before Wait: Wait closes
	// the pipe, and lines still unread would be lost.
	select {
	case tail := <-p.tail:
		return p.cmd.Wait(), tail
	case <-time.After(d):
		t.Fatalf("router did not exit within %v", d)
	}
	return nil, nil
}

func writeConfig(t *testing.T, dir, tmpl string) string {
	t.Helper()
	rulesDir, _ := filepath.Abs("../../rules")
	cfg := strings.NewReplacer("DATA", dir, "RULES", rulesDir).Replace(tmpl)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
