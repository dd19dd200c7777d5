package queue

import (
	"hash/crc32"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/logrouter/logrouter/internal/wal"
	"github.com/logrouter/logrouter/pipeline"
)

// TestUndecodableEntryDeliveredByReleaseThatDecodes: a skipUndecodable
// entry (an earlier start could not decode the record and counted it lost)
// only stops a release that cannot decode the record either from counting
// it again. A release that can (the roll-forward) counts it waiting at
// start and delivers it.
func TestUndecodableEntryDeliveredByReleaseThatDecodes(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, wal.OS, Config{Dir: dir, BatchEvents: 10, MaxInFlight: 1})
	e.close()
	logDir := filepath.Join(dir, "dest", "p2")
	l, _, err := wal.Open(wal.OS, logDir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	bb := batch(pipeline.P2)
	valid := string(bb.Events[0].Raw)
	payload := appendEvents(nil, bb.Events)
	at, _, err := l.Append(payload, uint32(len(bb.Events)))
	if err != nil {
		t.Fatal(err)
	}
	bb.Release()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	sk := &skipSet{path: logDir + ".skip", m: map[wal.Pos]skipEntry{}}
	if err := sk.add(wal.OS, at, skipEntry{kind: skipUndecodable, check: withdrawnCheck(crc32.Checksum(payload, crcTable), len(payload))}); err != nil {
		t.Fatal(err)
	}

	e.reg = prometheus.NewRegistry()
	e.m = NewMetrics(e.reg)
	e.open()
	defer e.close()
	if got := e.val(e.m.Recovered); got < 1 {
		t.Errorf("recovered %v at start: the record this release decodes must count as waiting", got)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if strings.Contains(strings.Join(e.sink.delivered(), ","), valid) {
			return
		}
	}
	t.Errorf("the record an earlier start could not decode was never delivered by a release that can")
}
