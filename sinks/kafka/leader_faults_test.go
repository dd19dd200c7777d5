package kafka

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/logrouter/logrouter/pipeline"
)

// review2Proxy forwards a listening address to target (the one bootstrap
// address of a sink) until kill, which closes it and every connection.
type review2Proxy struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func newReview2Proxy(t *testing.T, target string) *review2Proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &review2Proxy{ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			p.wg.Add(2)
			go func() { defer p.wg.Done(); _, _ = io.Copy(u, c); u.Close() }()
			go func() { defer p.wg.Done(); _, _ = io.Copy(c, u); c.Close() }()
		}
	}()
	t.Cleanup(p.kill)
	return p
}

func (p *review2Proxy) kill() {
	_ = p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// (From a review of 8aca3f9. Fixed: refreshMetadata builds a new
// transport and swaps it in only once it has read the metadata; the
// current one, with its last known layout, stays while the brokers named
// in brokers cannot be reached.)
//
// TestLeaderMoveWithBootstrapDownStopsEveryPartition: produce.go
// refreshMetadata drops the transport's pools (CloseIdleConnections) on
// NOT_LEADER (or a transport error). kafka-go's pool keeps its last known
// cluster layout when a metadata refresh fails (transport.go update: "we
// prioritize a previously known state of the cluster to reduce the impact
// of transient failures"); a new pool has none, so while the bootstrap
// address cannot be reached (the one broker of `brokers` restarting in a
// rolling restart, a bootstrap load balancer or DNS name down) every later
// Write fails whole at checkTopics ("looking up topics"), including the
// partitions whose leaders are up and answer. Before 8aca3f9 only the
// moved partition failed. Expected: the events of partitions that did not
// move are still delivered.
func TestLeaderMoveWithBootstrapDownStopsEveryPartition(t *testing.T) {
	c := newCluster(t, kfake.NumBrokers(3))
	px := newReview2Proxy(t, c.ListenAddrs()[0])
	s := newSink(t, c, Config{Topic: "logs", Brokers: []string{px.ln.Addr().String()}, WriteTimeout: 3 * time.Second})
	var evs []ev
	for i := range 40 {
		evs = append(evs, ev{raw: `{"a":1}`, hash: uint64(i + 1), prio: pipeline.P1})
	}
	b := mkBatch(evs...)
	defer b.Release()
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	// The bootstrap address goes away; the brokers themselves stay up and
	// one partition's leadership moves.
	px.kill()
	old := c.LeaderFor("logs", 0)
	if err := c.MoveTopicPartition("logs", 0, (old+1)%3); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		err := s.Write(context.Background(), b)
		var be *pipeline.BatchError
		switch {
		case err == nil:
		case errors.As(err, &be) && len(be.Items) < len(evs):
			t.Logf("write %d: %d of %d events not delivered", i, len(be.Items), len(evs))
		default:
			t.Fatalf("write %d after the leader of one partition moved while the bootstrap address is down: nothing delivered though three of four partition leaders are up: %v", i, err)
		}
		time.Sleep(1100 * time.Millisecond) // past refreshMetadata's once a second
	}
}
