package syslog

import (
	"context"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestUDPSecondListenerRefused: a second listener on the UDP address
// (another router process of the same user, a restarted one whose old
// process still runs) fails with "address already in use", as before
// udp.readers; with SO_REUSEPORT on every socket a second group used to
// bind and the kernel silently split the senders over both processes.
func TestUDPSecondListenerRefused(t *testing.T) {
	if !reusePortSpreads {
		t.Skip("Linux only")
	}
	first, err := listenUDP("127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for _, pc := range first {
			pc.Close()
		}
	}()
	addr := first[0].LocalAddr().String()
	second, err := listenUDP(addr, 2)
	if err == nil {
		for _, pc := range second {
			pc.Close()
		}
		t.Fatalf("a second udp.readers group bound %s, already held by the first: traffic is split between them", addr)
	}
}

// TestUDPShutdownUnderSustainedLoad: a UDP reader used to check closing
// only when a read timed out. Under a sustained stream (batches fill before
// batch_wait, here 1s, so no read times out) Shutdown waited for the
// readers forever, past its context (found by review; it predates
// udp.readers). Readers now check on every datagram and Shutdown wakes
// them.
func TestUDPShutdownUnderSustainedLoad(t *testing.T) {
	for _, tc := range []struct {
		name           string
		readers, batch int
	}{{"readers2_batch20", 2, 20}, {"readers1_batch20", 1, 20}, {"readers2_batch1000", 2, 0}} {
		t.Run(tc.name, func(t *testing.T) { shutdownUnderLoad(t, tc.readers, tc.batch) })
	}
}

func shutdownUnderLoad(t *testing.T, readers, batch int) {
	cfg := Config{UDP: &UDPConfig{Address: "127.0.0.1:0", Readers: readers}, BatchEvents: batch, BatchWait: time.Second}
	cfg.SetDefaults()
	f := startServer(t, cfg)
	udp, _, _ := f.srv.Addrs()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("udp", udp)
			if err != nil {
				return
			}
			defer c.Close()
			msg := []byte(`<14>1 2026-11-28T10:00:00Z h app - - - {"run":"load"}`)
			for !stop.Load() {
				_, _ = c.Write(msg)
			}
		}()
	}
	defer func() { stop.Store(true); wg.Wait() }()
	time.Sleep(300 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(ctx) }()
	select {
	case <-done:
		t.Logf("Shutdown returned")
	case <-time.After(5 * time.Second):
		stop.Store(true)
		wg.Wait()
		<-done
		t.Fatal("Shutdown with a 1s context had not returned after 5s of sustained UDP traffic")
	}
}

// TestUDPReadersDefaultFollowsGOMAXPROCS: the default follows GOMAXPROCS,
// which follows a container's CPU limit, not runtime.NumCPU (the node's
// CPUs): a pod limited to 2 CPUs on a 32-core node would get 8 sockets (8
// x receive_buffer_bytes of kernel buffer) and 8 parsers for 2 CPUs.
func TestUDPReadersDefaultFollowsGOMAXPROCS(t *testing.T) {
	if runtime.NumCPU() < 2 {
		t.Skip("needs 2 CPUs")
	}
	prev := runtime.GOMAXPROCS(1) // what a 1-CPU container limit gives
	defer runtime.GOMAXPROCS(prev)
	c := Config{UDP: &UDPConfig{}}
	c.SetDefaults()
	if c.UDP.Readers != 1 {
		t.Errorf("GOMAXPROCS 1 (CPU limit 1): default udp.readers %d, want 1", c.UDP.Readers)
	}
}

// TestUDPPortZeroCollides: binding port 0 with SO_REUSEPORT set, Linux
// treats every port held by another SO_REUSEPORT socket of the same user
// as free, so the "new" port could be one another udp.readers group
// (another test's server) already held, the two silently sharing the
// traffic. The port is now reserved without the option first.
func TestUDPPortZeroCollides(t *testing.T) {
	if !reusePortSpreads {
		t.Skip("Linux only")
	}
	seen := map[string]bool{}
	var all []*net.UDPConn
	defer func() {
		for _, pc := range all {
			pc.Close()
		}
	}()
	shared := 0
	for range 1000 {
		pcs, err := listenUDP("127.0.0.1:0", 2)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, pcs...)
		a := pcs[0].LocalAddr().String()
		if seen[a] {
			shared++
		}
		seen[a] = true
	}
	if shared > 0 {
		t.Errorf("%d of 1000 udp.readers groups bound to 127.0.0.1:0 got a port another group already held", shared)
	}
}

// TestUDPAddressForms: the address forms bind
// every socket to one address.
func TestUDPAddressForms(t *testing.T) {
	for _, a := range []string{":0", "0.0.0.0:0", "127.0.0.1:0", "[::]:0", "[::1]:0", "localhost:0"} {
		pcs, err := listenUDP(a, 3)
		if err != nil {
			t.Errorf("%s: %v", a, err)
			continue
		}
		for _, pc := range pcs[1:] {
			if pc.LocalAddr().String() != pcs[0].LocalAddr().String() {
				t.Errorf("%s: sockets on %s and %s", a, pcs[0].LocalAddr(), pc.LocalAddr())
			}
		}
		t.Logf("%s -> %s x%d", a, pcs[0].LocalAddr(), len(pcs))
		for _, pc := range pcs {
			pc.Close()
		}
	}
}
