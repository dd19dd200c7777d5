package loadgen

import "time"

// appService is a service writing structured JSON logs.
type appService struct {
	name, version, namespace, podHash string
	tsStyle                           int // how its logger writes ts
	routes                            []string
}

const (
	tsEpochFrac  = iota // zap: 1795824000.1234567
	tsRFC3339Z          // logrus/slog: 2026-11-28T10:00:00.123456789Z
	tsEpochMilli        // pino: 1795824000123
	tsRFC3339Off        // log4j2 JsonLayout with the pod's zone: 2026-11-28T11:00:00.123+01:00
)

var appServices = []appService{
	{"checkout-api", "2.14.3", "shop", "7c9f8b6d5", tsEpochFrac, []string{"/api/v1/cart", "/api/v1/checkout", "/api/v1/orders/{id}", "/healthz"}},
	{"payments", "5.2.0", "shop", "5d8f7c9b4", tsRFC3339Z, []string{"/v2/payments", "/v2/payments/{id}/capture", "/v2/refunds"}},
	{"catalog", "1.9.12", "shop", "64bf9d7c8", tsEpochMilli, []string{"/products", "/products/{id}", "/search"}},
	{"auth-gateway", "3.0.7", "platform", "9f6c5b8d7", tsEpochFrac, []string{"/oauth2/token", "/oauth2/authorize", "/userinfo"}},
	{"billing-batch", "0.31.0", "finance", "6b7d9c5f4", tsRFC3339Off, []string{"/jobs/invoice-run", "/jobs/dunning"}},
	{"notification-svc", "4.4.1", "platform", "8c7b6d5f9", tsRFC3339Z, []string{"/v1/notify/email", "/v1/notify/push"}},
}

var appMessages = []struct{ level, logger, caller, msg, err string }{
	{"info", "http.server", "httpserver/middleware.go", "request completed", ""},
	{"info", "http.server", "httpserver/middleware.go", "request completed", ""},
	{"info", "http.server", "httpserver/middleware.go", "request completed", ""},
	{"debug", "db.pool", "store/pool.go", "acquired connection from pool", ""},
	{"info", "cache", "cache/loader.go", "cache miss, loading from upstream", ""},
	{"warn", "http.client", "upstream/client.go", "upstream slow, retrying", "context deadline exceeded"},
	{"error", "http.server", "httpserver/errors.go", "request failed", "pq: duplicate key value violates unique constraint \"orders_pkey\""},
	{"error", "http.client", "upstream/client.go", "call to upstream failed", "dial tcp 10.100.3.17:8080: connect: connection refused"},
	{"info", "kafka.consumer", "events/consumer.go", "committed offsets", ""},
	{"warn", "auth", "auth/jwt.go", "token validation failed", "token is expired"},
}

var httpMethods = []string{"GET", "GET", "GET", "POST", "POST", "PUT", "DELETE"}

var httpStatus = []int{200, 200, 200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 429, 500, 502, 503}

// app appends an application JSON log line (zap, slog, pino, log4j2 styles).
func (m *Mix) app(b []byte) []byte {
	svc := &appServices[m.skew(len(appServices))]
	msg := &appMessages[m.n(len(appMessages))]
	node := m.n(24)
	m.lastHost = k8sNodes[node]
	b = append(b, `{"ts":`...)
	switch svc.tsStyle {
	case tsEpochFrac:
		b = appendEpochFrac(b, m.now, 7)
	case tsRFC3339Z:
		b = append(b, '"')
		b = appendTS(b, m.now, 9, 0, zoneZ)
		b = append(b, '"')
	case tsEpochMilli:
		b = appendEpochMillis(b, m.now)
	default:
		b = append(b, '"')
		b = appendTS(b, m.now, 3, 60, zoneColon)
		b = append(b, '"')
	}
	b = append(b, `,"level":"`...)
	b = append(b, msg.level...)
	b = append(b, `","logger":"`...)
	b = append(b, msg.logger...)
	b = append(b, `","caller":"`...)
	b = append(b, msg.caller...)
	b = append(b, ':')
	b = appendInt(b, 40+m.n(400))
	b = append(b, `","msg":"`...)
	b = append(b, msg.msg...)
	b = append(b, `","service":"`...)
	b = append(b, svc.name...)
	b = append(b, `","version":"`...)
	b = append(b, svc.version...)
	b = append(b, `","env":"prod","trace_id":"`...)
	b = m.appendRandHex(b, 32)
	b = append(b, `","span_id":"`...)
	b = m.appendRandHex(b, 16)
	b = append(b, '"')
	if msg.err != "" {
		b = append(b, `,"error":`...)
		b = appendQ(b, msg.err)
	}
	if msg.logger == "http.server" || msg.logger == "http.client" || msg.logger == "auth" {
		status := pickS(m, httpStatus)
		if msg.level == "error" {
			status = 500 + m.n(4)
		}
		b = append(b, `,"http":{"method":"`...)
		b = append(b, pickS(m, httpMethods)...)
		b = append(b, `","route":"`...)
		b = append(b, pickS(m, svc.routes)...)
		b = append(b, `","status_code":`...)
		b = appendInt(b, status)
		b = append(b, `,"duration_ms":`...)
		b = appendFloat(b, float64(1+m.skew(3_000_000))/1000, 3)
		b = append(b, `,"response_bytes":`...)
		b = appendInt(b, m.n(60000))
		b = append(b, `,"client_ip":"`...)
		if m.chance(70) {
			b = appendIPv4(b, 10, 100+m.n(4), m.n(16), 4+m.n(250))
		} else {
			b = m.appendPublicIP(b)
		}
		b = append(b, `","user_agent":"`...)
		b = append(b, pickS(m, userAgents[:7])...)
		b = append(b, `"}`...)
	} else {
		b = append(b, `,"db":{"system":"postgresql","name":"`...)
		b = append(b, svc.namespace...)
		b = append(b, `","pool_in_use":`...)
		b = appendInt(b, m.n(50))
		b = append(b, `,"elapsed_ms":`...)
		b = appendFloat(b, float64(m.skew(200_000))/1000, 3)
		b = append(b, '}')
	}
	b = append(b, `,"k8s":{"namespace":"`...)
	b = append(b, svc.namespace...)
	b = append(b, `","pod":"`...)
	b = append(b, svc.name...)
	b = append(b, '-')
	b = append(b, svc.podHash...)
	b = append(b, '-')
	b = m.appendAlpha(b, "bcdfghjklmnpqrstvwxz2456789", 5) // Kubernetes' name suffix alphabet
	b = append(b, `","node":"`...)
	b = append(b, k8sNodes[node]...)
	return append(b, `"}}`...)
}

var k8sNodes = func() []string {
	s := make([]string, 24)
	for i := range s {
		s[i] = "ip-10-100-" + string(appendPad(nil, i/4, 1)) + "-" + string(appendPad(nil, 17+i*9, 1)) + ".ec2.internal"
	}
	return s
}()

// plugin is a vulnerability scanner check.
type plugin struct {
	id                 int
	name, family, sev  string
	sevID              int
	cvss3              float64
	cves               []string
	port               int
	proto, service     string
	solution           string
	exploitable, patch bool
}

var plugins = []plugin{
	{57582, "SSL Self-Signed Certificate", "General", "medium", 2, 6.5, nil, 443, "tcp", "www", "Purchase or generate a proper SSL certificate for this service.", false, false},
	{51192, "SSL Certificate Cannot Be Trusted", "General", "medium", 2, 6.5, nil, 8443, "tcp", "www", "Purchase or generate a proper SSL certificate for this service.", false, false},
	{104743, "TLS Version 1.0 Protocol Detection", "Service detection", "medium", 2, 6.5, nil, 443, "tcp", "www", "Enable support for TLS 1.2 and 1.3, and disable support for TLS 1.0.", false, false},
	{42873, "SSL Medium Strength Cipher Suites Supported (SWEET32)", "General", "high", 3, 7.5, []string{"CVE-2016-2183"}, 443, "tcp", "www", "Reconfigure the affected application if possible to avoid use of medium strength ciphers.", false, false},
	{187315, "SSH Terrapin Prefix Truncation Weakness (CVE-2023-48795)", "Misc.", "medium", 2, 5.9, []string{"CVE-2023-48795"}, 22, "tcp", "ssh", "Contact the vendor for an update with the strict key exchange countermeasures or disable the affected algorithms.", false, true},
	{201194, "OpenSSH < 9.8 RCE (regreSSHion)", "Misc.", "high", 3, 8.1, []string{"CVE-2024-6387"}, 22, "tcp", "ssh", "Upgrade to OpenSSH version 9.8 / 9.8p1 or later.", true, true},
	{156032, "Apache Log4j 2.x < 2.16.0 RCE", "Misc.", "critical", 4, 10.0, []string{"CVE-2021-44228", "CVE-2021-45046"}, 8080, "tcp", "www", "Upgrade to Apache Log4j version 2.16.0 or later.", true, true},
	{97833, "MS17-010: Security Update for Microsoft Windows SMB Server (ETERNALBLUE)", "Windows", "critical", 4, 8.1, []string{"CVE-2017-0143", "CVE-2017-0144", "CVE-2017-0145"}, 445, "tcp", "cifs", "Microsoft has released a set of patches for Windows.", true, true},
	{35291, "SSL Certificate Signed Using Weak Hashing Algorithm", "General", "medium", 2, 7.5, []string{"CVE-2004-2761"}, 443, "tcp", "www", "Contact the Certificate Authority to have the SSL certificate reissued.", false, false},
	{11219, "Nessus SYN scanner", "Port scanners", "info", 0, 0, nil, 22, "tcp", "ssh", "Protect your target with an IP filter.", false, false},
	{10863, "SSL Certificate Information", "General", "info", 0, 0, nil, 443, "tcp", "www", "n/a", false, false},
	{22964, "Service Detection", "Service detection", "info", 0, 0, nil, 443, "tcp", "www", "n/a", false, false},
}

var vulnOS = []string{"Linux Kernel 6.8 on Ubuntu 24.04", "Linux Kernel 5.10 on Amazon Linux 2", "Microsoft Windows Server 2022 Datacenter", "Linux Kernel 5.14 on Red Hat Enterprise Linux 9.4"}

// vuln appends a vulnerability finding as the Tenable.io vulnerability export
// writes it.
func (m *Mix) vuln(b []byte) []byte {
	s := m.server()
	p := &plugins[m.n(len(plugins))]
	m.lastHost = "cloud.tenable.com"
	day := int64(24 * time.Hour)
	first := m.now - int64(1+m.n(180))*day - int64(m.n(86400))*int64(time.Second)
	b = append(b, `{"asset":{"uuid":"`...)
	b = append(b, s.uuid...)
	b = append(b, `","hostname":"`...)
	b = append(b, s.name...)
	b = append(b, `","fqdn":"`...)
	b = append(b, s.name...)
	b = append(b, `.corp.example.com","ipv4":"`...)
	b = append(b, s.ip...)
	b = append(b, `","operating_system":["`...)
	b = append(b, vulnOS[s.os]...)
	b = append(b, `"],"network_id":"00000000-0000-0000-0000-000000000000","tracked":true},"finding_id":"`...)
	b = m.appendUUID(b)
	b = append(b, `","plugin_id":`...)
	b = appendInt(b, p.id)
	b = append(b, `,"plugin_name":"`...)
	b = append(b, p.name...)
	b = append(b, `","plugin_family":"`...)
	b = append(b, p.family...)
	b = append(b, `","severity":"`...)
	b = append(b, p.sev...)
	b = append(b, `","severity_id":`...)
	b = appendInt(b, p.sevID)
	if p.cvss3 > 0 {
		b = append(b, `,"cvss3_base_score":`...)
		b = appendFloat(b, p.cvss3, 1)
		b = append(b, `,"vpr_score":`...)
		b = appendFloat(b, p.cvss3*0.9-float64(m.n(20))/10, 1)
	}
	b = append(b, `,"cve":[`...)
	for i, c := range p.cves {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, c...)
		b = append(b, '"')
	}
	b = append(b, `],"port":{"port":`...)
	b = appendInt(b, p.port)
	b = append(b, `,"protocol":"`...)
	b = append(b, p.proto...)
	b = append(b, `","service":"`...)
	b = append(b, p.service...)
	// Scans start every four hours and take a while to report.
	scan := m.now - 2*int64(time.Hour)
	scan -= scan % int64(4*time.Hour)
	b = append(b, `"},"scan":{"uuid":"`...)
	b = appendUUID(b, uint64(scan)*0x9e3779b97f4a7c15, uint64(scan)^0x94d049bb133111eb)
	b = append(b, `","started_at":"`...)
	b = appendTS(b, scan, 3, 0, zoneZ)
	b = append(b, `"},"state":"`...)
	b = append(b, pickS(m, []string{"OPEN", "OPEN", "OPEN", "REOPENED"})...)
	b = append(b, `","first_found":"`...)
	b = appendTS(b, first, 3, 0, zoneZ)
	b = append(b, `","last_found":"`...)
	b = appendTS(b, m.now, 3, 0, zoneZ)
	b = append(b, `","exploit_available":`...)
	if p.exploitable {
		b = append(b, `true`...)
	} else {
		b = append(b, `false`...)
	}
	b = append(b, `,"patch_available":`...)
	if p.patch {
		b = append(b, `true`...)
	} else {
		b = append(b, `false`...)
	}
	b = append(b, `,"solution":`...)
	b = appendQ(b, p.solution)
	return append(b, '}')
}
