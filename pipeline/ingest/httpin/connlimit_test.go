package httpin

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnectionsPerIPBounded: the HTTP input had no bound on connections,
// so one host could hold every file descriptor of the router (thousands of
// idle keep-alive connections). Past max_connections_per_ip a new
// connection of that address is closed before a request is read, and a
// slot that frees up is taken again.
func TestConnectionsPerIPBounded(t *testing.T) {
	f := newFixture(t, Config{Address: "127.0.0.1:0", MaxConnectionsPerIP: 2}, nil)
	if err := f.srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = f.srv.Shutdown(ctx)
	}()
	// get sends one request on c and reports its status (0: the connection
	// was closed).
	get := func(c net.Conn) int {
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return 0
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0
		}
		res.Body.Close()
		return res.StatusCode
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", f.srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := dial(), dial()
	defer a.Close()
	defer b.Close()
	if get(a) == 0 || get(b) == 0 {
		t.Fatal("the first two connections were refused")
	}
	c := dial()
	if s := get(c); s != 0 {
		t.Errorf("a third connection of one address got %d, want it closed", s)
	}
	c.Close()
	a.Close()
	var ok bool
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && !ok; time.Sleep(20 * time.Millisecond) {
		d := dial()
		ok = get(d) != 0
		d.Close()
	}
	if !ok {
		t.Error("a slot freed by a closed connection was not given again")
	}
	var n float64
	mfs, _ := f.eng.Metrics().Registry.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "logrouter_http_connections_refused_total" {
			for _, m := range mf.GetMetric() {
				if strings.Contains(m.String(), "max_connections_per_ip") {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	if n < 1 {
		t.Errorf("refusals counted: %v, want at least 1", n)
	}
}
