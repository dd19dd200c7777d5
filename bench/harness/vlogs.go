package harness

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"time"

	"github.com/valyala/fastjson"
)

// vlogsPeer is VictoriaLogs, a real server of the Elasticsearch bulk API
// (../shared/peers/README.md), standing in for OpenSearch with
// -opensearch vlogs: the router's opensearch destination writes to its
// /insert/elasticsearch/_bulk, and after the run the harness reads every
// event of the run back with a LogsQL query. It has no _id (a resent
// document is stored again, where OpenSearch answers 409) and no ingest
// time, so duplicates show and latency does not.
type vlogsPeer struct {
	proc *process
	base string
	hc   *http.Client
}

func startVictoriaLogs(ctx context.Context, bin, dir string) (*vlogsPeer, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	// loadgen's events carry their own times, from 2026-11-28 on: keep
	// every age (the default retention, 7 days, drops older ones silently,
	// with 201 answers).
	p, err := startProcess(bin, []string{"-httpListenAddr=" + addr, "-storageDataPath=" + filepath.Join(dir, "vlogs-data"),
		"-retentionPeriod=100y", "-futureRetention=100y", "-loggerLevel=WARN"}, dir, filepath.Join(dir, "victoria-logs.log"), nil)
	if err != nil {
		return nil, err
	}
	v := &vlogsPeer{proc: p, base: "http://" + addr, hc: &http.Client{Transport: &http.Transport{}}}
	if err := waitHTTP(ctx, v.base+"/health", p, 30*time.Second); err != nil {
		v.close()
		return nil, fmt.Errorf("victoria-logs: %w", err)
	}
	return v, nil
}

// dest is the router's opensearch destination writing to VictoriaLogs:
// the headers name the message and time fields, as its docs ask.
func (v *vlogsPeer) dest() map[string]any {
	return map[string]any{"name": "opensearch", "type": "opensearch", "opensearch": map[string]any{
		"urls":    []any{v.base + "/insert/elasticsearch"},
		"headers": map[string]any{"VL-Msg-Field": "message", "VL-Time-Field": "@timestamp"},
	}}
}

// verify flushes VictoriaLogs and records every stored event of run in d.
func (v *vlogsPeer) verify(ctx context.Context, d *Dest, run string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, v.base+"/internal/force_flush", nil)
	res, err := v.hc.Do(req)
	if err != nil {
		return fmt.Errorf("victoria-logs: flush: %w", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	q := url.Values{"query": {fmt.Sprintf("bench_run:=%q | fields bench_seq", run)}}
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, v.base+"/select/logsql/query", nil)
	req.URL.RawQuery = q.Encode()
	res, err = v.hc.Do(req)
	if err != nil {
		return fmt.Errorf("victoria-logs: query: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
		return fmt.Errorf("victoria-logs: query: %s: %s", res.Status, b)
	}
	var p fastjson.Parser
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		row, err := p.ParseBytes(sc.Bytes())
		if err != nil {
			d.invalid.Add(1)
			continue
		}
		seq, err := strconv.ParseUint(string(row.GetStringBytes("bench_seq")), 10, 64)
		if err != nil || seq >= maxSeq {
			d.invalid.Add(1)
			continue
		}
		d.record(seq, 0, 0, 0)
	}
	return sc.Err()
}

func (v *vlogsPeer) close() {
	v.hc.CloseIdleConnections()
	_ = v.proc.stop(10 * time.Second)
}
