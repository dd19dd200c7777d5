package loadgen

import "time"

// fortiDev is a FortiGate; date and time are in its local zone.
type fortiDev struct {
	name, id, tz string
	off          int
}

var fortiDevs = []fortiDev{
	{"FGT-HQ-FRA-01", "FG100FTK22004317", "+0100", 60},
	{"FGT-HQ-FRA-02", "FG100FTK22004402", "+0100", 60},
	{"FGT-BR-NYC-01", "FG60FTK2109A3C1D", "-0500", -300},
	{"FGT-BR-SIN-01", "FGT60F3G21005566", "+0800", 480},
}

type fortiSvc struct {
	service, app, appcat string
	port, proto          int
}

var fortiSvcs = []fortiSvc{
	{"HTTPS", "HTTPS.BROWSER", "Web.Client", 443, 6},
	{"HTTPS", "Microsoft.Portal", "Collaboration", 443, 6},
	{"HTTPS", "Google.Services", "General.Interest", 443, 6},
	{"HTTP", "HTTP.BROWSER", "Web.Client", 80, 6},
	{"DNS", "DNS", "Network.Service", 53, 17},
	{"NTP", "NTP", "Network.Service", 123, 17},
	{"SSH", "SSH", "Remote.Access", 22, 6},
	{"RDP", "RDP", "Remote.Access", 3389, 6},
	{"SMTP", "SMTP", "Email", 25, 6},
	{"tcp/8443", "", "unscanned", 8443, 6},
}

var fortiPolicies = []struct {
	id   int
	name string
}{{12, "LAN-to-Internet"}, {14, "Guest-WiFi-Internet"}, {31, "Servers-Outbound"}, {7, "VPN-to-DC"}, {2, "Implicit-Deny"}}

var fortiActions = []string{"close", "close", "close", "accept", "timeout", "client-rst", "server-rst", "deny"}

// fortiGate appends a FortiGate traffic log, parsed from key=value to JSON by
// the log shipper (numeric fields converted, ids kept as strings).
func (m *Mix) fortiGate(b []byte) []byte {
	d := &fortiDevs[m.skew(len(fortiDevs))]
	svc := &fortiSvcs[m.skew(len(fortiSvcs))]
	e := m.endpoint()
	m.lastHost = d.name
	t := wall(m.now, d.off)
	action := pickS(m, fortiActions)
	local := m.chance(6)
	pol := &fortiPolicies[m.skew(len(fortiPolicies)-1)]
	if action == "deny" {
		pol = &fortiPolicies[len(fortiPolicies)-1]
	}
	m.fortiSession += int64(1 + m.n(30))
	b = append(b, `{"date":"`...)
	b = appendDate(b, t, '-')
	b = append(b, `","time":"`...)
	b = appendClock(b, t)
	b = append(b, `","devname":"`...)
	b = append(b, d.name...)
	b = append(b, `","devid":"`...)
	b = append(b, d.id...)
	b = append(b, `","eventtime":"`...)
	b = appendInt(b, int(m.now))
	b = append(b, `","tz":"`...)
	b = append(b, d.tz...)
	if local {
		b = append(b, `","logid":"0001000014","type":"traffic","subtype":"local","level":"notice","vd":"root","srcip":"`...)
		b = m.appendPublicIP(b)
	} else {
		b = append(b, `","logid":"0000000013","type":"traffic","subtype":"forward","level":"notice","vd":"root","srcip":"`...)
		b = append(b, e.ip...)
	}
	b = append(b, `","srcport":`...)
	b = m.appendEphemeral(b)
	if local {
		b = append(b, `,"srcintf":"wan1","srcintfrole":"wan","dstip":"`...)
		b = appendIPv4(b, 198, 51, 100, 2)
		b = append(b, `","dstport":443,"dstintf":"root","dstintfrole":"undefined`...)
	} else {
		b = append(b, `,"srcintf":"port1","srcintfrole":"lan","dstip":"`...)
		b = m.appendDestIP(b)
		b = append(b, `","dstport":`...)
		b = appendInt(b, svc.port)
		b = append(b, `,"dstintf":"wan1","dstintfrole":"wan`...)
	}
	b = append(b, `","srccountry":"Reserved","dstcountry":"`...)
	b = append(b, pickS(m, []string{"United States", "United States", "Germany", "Ireland", "Netherlands", "Singapore"})...)
	b = append(b, `","sessionid":`...)
	b = appendInt(b, int(m.fortiSession))
	b = append(b, `,"proto":`...)
	b = appendInt(b, svc.proto)
	b = append(b, `,"action":"`...)
	b = append(b, action...)
	b = append(b, `","policyid":`...)
	if local {
		b = append(b, `0,"policytype":"local-in-policy`...)
	} else {
		b = appendInt(b, pol.id)
		b = append(b, `,"policytype":"policy","poluuid":"`...)
		b = appendUUID(b, uint64(pol.id)*0x9e3779b97f4a7c15, uint64(pol.id)*0xbf58476d1ce4e5b9)
		b = append(b, `","policyname":"`...)
		b = append(b, pol.name...)
	}
	b = append(b, `","service":"`...)
	b = append(b, svc.service...)
	b = append(b, `","trandisp":"snat","transip":"`...)
	b = appendIPv4(b, 198, 51, 100, 1+m.n(4))
	b = append(b, `","transport":`...)
	b = m.appendEphemeral(b)
	if svc.app != "" {
		b = append(b, `,"app":"`...)
		b = append(b, svc.app...)
		b = append(b, `","appcat":"`...)
	} else {
		b = append(b, `,"appcat":"`...)
	}
	b = append(b, svc.appcat...)
	dur := m.skew(600)
	sent, rcvd := 0, 0
	if action != "deny" {
		sent, rcvd = 40+m.n(20000), m.n(2_000_000)
	}
	b = append(b, `","duration":`...)
	b = appendInt(b, dur)
	b = append(b, `,"sentbyte":`...)
	b = appendInt(b, sent)
	b = append(b, `,"rcvdbyte":`...)
	b = appendInt(b, rcvd)
	b = append(b, `,"sentpkt":`...)
	b = appendInt(b, sent/600+1)
	b = append(b, `,"rcvdpkt":`...)
	b = appendInt(b, rcvd/1400)
	b = append(b, `,"osname":"`...)
	b = append(b, pickS(m, []string{"Windows", "Windows", "macOS", "iOS", "Android", "Linux"})...)
	b = append(b, `","srcmac":"`...)
	b = append(b, e.mac...)
	b = append(b, `","srcserver":0}`...)
	return b
}

// panFW is a PAN-OS firewall.
type panFW struct {
	name, serial string
	off          int
}

var panFWs = []panFW{
	{"PA-3220-DC1-A", "013201012345", -300},
	{"PA-3220-DC1-B", "013201012346", -300},
	{"PA-VM-AWS-USE1", "007954000123456", 0},
}

type panApp struct {
	app, category, subcat string
	port                  int
	proto                 string
}

var panApps = []panApp{
	{"ssl", "computer-and-internet-info", "encrypted-tunnel", 443, "tcp"},
	{"web-browsing", "business-and-economy", "internet-utility", 80, "tcp"},
	{"ms-office365-base", "computer-and-internet-info", "office-programs", 443, "tcp"},
	{"dns-base", "any", "infrastructure", 53, "udp"},
	{"ldap", "any", "auth-service", 389, "tcp"},
	{"ms-rdp", "any", "remote-access", 3389, "tcp"},
	{"ssh", "any", "encrypted-tunnel", 22, "tcp"},
	{"postgres", "any", "database", 5432, "tcp"},
	{"incomplete", "any", "", 443, "tcp"},
}

var panThreats = []struct{ name, subtype, severity, action string }{
	{"Apache Log4j Remote Code Execution Vulnerability(91991)", "vulnerability", "critical", "reset-both"},
	{"HTTP Directory Traversal Vulnerability(30844)", "vulnerability", "medium", "alert"},
	{"SSH2 Login Attempt(31914)", "vulnerability", "informational", "alert"},
	{"Suspicious DNS Query (generic:update-check.top)(109001001)", "spyware", "medium", "sinkhole"},
	{"Virus/Win32.WGeneric.dnxzob(539012345)", "virus", "medium", "reset-both"},
}

var panEndReasons = []string{"tcp-fin", "tcp-fin", "aged-out", "tcp-rst-from-client", "tcp-rst-from-server", "policy-deny", "threat"}

// panOS appends a PAN-OS TRAFFIC (or THREAT) log with the syslog CSV fields
// named as PAN-OS documents them.
func (m *Mix) panOS(b []byte) []byte {
	fw := &panFWs[m.n(len(panFWs))]
	a := &panApps[m.skew(len(panApps))]
	u := m.user()
	m.lastHost = fw.name
	m.panSeq += int64(1 + m.n(20))
	threat := m.chance(12)
	t := wall(m.now, fw.off)
	start := wall(m.now-int64(m.skew(900))*int64(time.Second), fw.off)
	inbound := a.port == 3389 || a.port == 22 || a.port == 5432 || a.port == 389
	b = append(b, `{"receive_time":"`...)
	b = appendDate(b, t, '/')
	b = append(b, ' ')
	b = appendClock(b, t)
	b = append(b, `","serial":"`...)
	b = append(b, fw.serial...)
	if threat {
		th := &panThreats[m.n(len(panThreats))]
		b = append(b, `","type":"THREAT","subtype":"`...)
		b = append(b, th.subtype...)
		b = append(b, `","threatid":"`...)
		b = append(b, th.name...)
		b = append(b, `","severity":"`...)
		b = append(b, th.severity...)
		b = append(b, `","direction":"client-to-server","action":"`...)
		b = append(b, th.action...)
	} else {
		action := "allow"
		if m.chance(8) {
			action = pickS(m, []string{"deny", "drop", "reset-both"})
		}
		b = append(b, `","type":"TRAFFIC","subtype":"`...)
		if action == "allow" {
			b = append(b, `end`...)
		} else {
			b = append(b, `deny`...)
		}
		b = append(b, `","action":"`...)
		b = append(b, action...)
	}
	b = append(b, `","time_generated":"`...)
	b = appendDate(b, t, '/')
	b = append(b, ' ')
	b = appendClock(b, t)
	b = append(b, `","src":"`...)
	if inbound {
		b = append(b, m.endpoint().ip...)
		b = append(b, `","dst":"`...)
		b = append(b, m.server().ip...)
		b = append(b, `","natsrc":"","natdst":"`...)
	} else {
		b = append(b, m.w.ws[u.ws].ip...)
		b = append(b, `","dst":"`...)
		b = m.appendDestIP(b)
		b = append(b, `","natsrc":"`...)
		b = appendIPv4(b, 203, 0, 113, 10+m.n(4))
		b = append(b, `","natdst":"`...)
	}
	b = append(b, `","rule":"`...)
	switch {
	case inbound:
		b = append(b, `allow-corp-to-dc`...)
	case a.port == 53:
		b = append(b, `allow-dns`...)
	default:
		b = append(b, `allow-web-outbound`...)
	}
	b = append(b, `","rule_uuid":"`...)
	b = appendUUID(b, uint64(a.port)*0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9)
	b = append(b, `","srcuser":"corp\\`...)
	b = append(b, u.sam...)
	b = append(b, `","app":"`...)
	b = append(b, a.app...)
	b = append(b, `","vsys":"vsys1","from":"trust","to":"`...)
	if inbound {
		b = append(b, `dc`...)
	} else {
		b = append(b, `untrust`...)
	}
	b = append(b, `","inbound_if":"ethernet1/2","outbound_if":"ethernet1/1","log_action":"splunk-forward","sessionid":`...)
	b = appendInt(b, 100000+m.n(900000))
	b = append(b, `,"repeatcnt":1,"sport":`...)
	sport := m.between(49152, 65535)
	b = appendInt(b, sport)
	b = append(b, `,"dport":`...)
	b = appendInt(b, a.port)
	b = append(b, `,"natsport":`...)
	if inbound {
		b = append(b, '0')
	} else {
		b = m.appendEphemeral(b)
	}
	b = append(b, `,"natdport":`...)
	if inbound {
		b = append(b, '0')
	} else {
		b = appendInt(b, a.port)
	}
	b = append(b, `,"flags":"0x400019","proto":"`...)
	b = append(b, a.proto...)
	sent, rcvd := 60+m.n(40000), m.n(3_000_000)
	b = append(b, `","bytes":`...)
	b = appendInt(b, sent+rcvd)
	b = append(b, `,"bytes_sent":`...)
	b = appendInt(b, sent)
	b = append(b, `,"bytes_received":`...)
	b = appendInt(b, rcvd)
	b = append(b, `,"packets":`...)
	b = appendInt(b, 2+sent/500+rcvd/1400)
	b = append(b, `,"start":"`...)
	b = appendDate(b, start, '/')
	b = append(b, ' ')
	b = appendClock(b, start)
	b = append(b, `","elapsed":`...)
	b = appendInt(b, int((m.now-start.UnixNano()+int64(fw.off)*int64(time.Minute))/int64(time.Second)))
	b = append(b, `,"category":"`...)
	b = append(b, a.category...)
	b = append(b, `","seqno":`...)
	b = appendInt(b, int(m.panSeq))
	b = append(b, `,"srcloc":"10.0.0.0-10.255.255.255","dstloc":"`...)
	if inbound {
		b = append(b, `10.0.0.0-10.255.255.255`...)
	} else {
		b = append(b, pickS(m, []string{"United States", "United States", "Germany", "Ireland"})...)
	}
	b = append(b, `","session_end_reason":"`...)
	b = append(b, pickS(m, panEndReasons)...)
	b = append(b, `","device_name":"`...)
	b = append(b, fw.name...)
	b = append(b, `","high_res_timestamp":"`...)
	b = appendTS(b, m.now, 3, fw.off, zoneColon)
	return append(b, `"}`...)
}
