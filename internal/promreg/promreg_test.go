package promreg

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegisterReturnsTheRegisteredCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "x_total", Help: "x"}
	a, err := Register(reg, prometheus.NewCounterVec(opts, []string{"input"}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Register(reg, prometheus.NewCounterVec(opts, []string{"input"}))
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("the second registration returned a collector the registry does not gather")
	}
	b.WithLabelValues("two").Inc()
	if n := testutil.CollectAndCount(reg, "x_total"); n != 1 {
		t.Fatalf("registry has %d series, want the second input's 1", n)
	}
	if _, err := Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "other"}, []string{"input"})); err == nil {
		t.Fatal("a clashing description registered without error")
	}
}
