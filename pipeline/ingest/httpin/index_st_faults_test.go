package httpin

import "testing"

// TestIndexSourceTypeDropsDateSuffix: shippers' default indices carry the
// day (Vector's vector-%Y.%m.%d): as the events' source type, each day was
// a new one (an archive partition, a counter label, no profile).
func TestIndexSourceTypeDropsDateSuffix(t *testing.T) {
	for in, want := range map[string]string{
		"vector-2026.12.02":     "vector",
		"logstash-2026.12.02":   "logstash",
		"fluent-bit-2026-12-02": "fluent-bit",
		"app_20261202":          "app",
		"audit-2026.12":         "audit",
		"fortinet.fortigate":    "fortinet.fortigate",
		"filebeat-8.11.0":       "filebeat-8.11.0",
		"2026.12.02":            "2026.12.02",
		"logs-12345678":         "logs-12345678",
		"x-2026.1a.02":          "x-2026.1a.02",
	} {
		if got := string(indexSourceType([]byte(in))); got != want {
			t.Errorf("indexSourceType(%q) = %q, want %q", in, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = indexSourceType([]byte("vector-2026.12.02")) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
