package loadgen

import "time"

// detection is one CrowdStrike Falcon detection scenario.
type detection struct {
	scenario, description               string
	tactic, tacticID, technique, techID string
	objective                           string
	severity                            int
	fileName, filePath, cmd             string
	parent, parentCmd                   string
}

var severityNames = [...]string{"", "Informational", "Low", "Medium", "High", "Critical"}

var detections = []detection{
	{"Suspicious Activity", "A process launched an encoded PowerShell command, a common way to hide malicious scripts.",
		"Execution", "TA0002", "PowerShell", "T1059.001", "Follow Through", 4,
		"powershell.exe", `\Device\HarddiskVolume3\Windows\System32\WindowsPowerShell\v1.0`,
		`powershell.exe -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA`,
		"WINWORD.EXE", `"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE" /n "Invoice_0923.docm"`},
	{"Credential Theft", "A process attempted to access LSASS memory, possibly to dump credentials.",
		"Credential Access", "TA0006", "OS Credential Dumping", "T1003.001", "Gain Access", 5,
		"rundll32.exe", `\Device\HarddiskVolume3\Windows\System32`,
		`rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 672 C:\Windows\Temp\lsass.dmp full`,
		"cmd.exe", `C:\Windows\system32\cmd.exe /Q /c`},
	{"Known Malware", "This file meets the on-sensor machine learning high confidence threshold for malicious files.",
		"Machine Learning", "CSTA0004", "Sensor-based ML", "CST0007", "Falcon Detection Method", 4,
		"setup_update.exe", `\Device\HarddiskVolume3\Users\Public\Downloads`,
		`"C:\Users\Public\Downloads\setup_update.exe" /S`,
		"explorer.exe", `C:\Windows\Explorer.EXE`},
	{"Ransomware", "A process deleted volume shadow copies, which ransomware does before encrypting files.",
		"Impact", "TA0040", "Inhibit System Recovery", "T1490", "Keep Access", 5,
		"vssadmin.exe", `\Device\HarddiskVolume3\Windows\System32`,
		`vssadmin.exe delete shadows /all /quiet`,
		"cmd.exe", `cmd.exe /c vssadmin.exe delete shadows /all /quiet & bcdedit /set {default} recoveryenabled No`},
	{"Lateral Movement", "A process created a remote service using PsExec-like behaviour.",
		"Lateral Movement", "TA0008", "Remote Services", "T1021.002", "Explore", 3,
		"PSEXESVC.exe", `\Device\HarddiskVolume3\Windows`,
		`C:\Windows\PSEXESVC.exe`,
		"services.exe", `C:\Windows\system32\services.exe`},
	{"Discovery", "A process enumerated domain admins and trusts, which adversaries do after gaining a foothold.",
		"Discovery", "TA0007", "Account Discovery", "T1087.002", "Explore", 2,
		"net.exe", `\Device\HarddiskVolume3\Windows\System32`,
		`net group "Domain Admins" /domain`,
		"cmd.exe", `C:\Windows\system32\cmd.exe`},
	{"Persistence", "A scheduled task was created to run a script from a user-writable directory at logon.",
		"Persistence", "TA0003", "Scheduled Task/Job", "T1053.005", "Keep Access", 3,
		"schtasks.exe", `\Device\HarddiskVolume3\Windows\System32`,
		`schtasks /create /tn "OneDrive Sync" /tr "C:\Users\Public\sync.vbs" /sc onlogon /rl highest`,
		"wscript.exe", `"C:\Windows\System32\WScript.exe" "C:\Users\Public\Downloads\update.js"`},
	{"Defense Evasion", "A process attempted to disable Microsoft Defender real-time protection.",
		"Defense Evasion", "TA0005", "Impair Defenses", "T1562.001", "Keep Access", 4,
		"powershell.exe", `\Device\HarddiskVolume3\Windows\System32\WindowsPowerShell\v1.0`,
		`powershell.exe Set-MpPreference -DisableRealtimeMonitoring $true`,
		"cmd.exe", `C:\Windows\system32\cmd.exe /c start /b powershell.exe`},
	{"Command and Control", "A process made a DNS request to a domain associated with Cobalt Strike infrastructure.",
		"Command and Control", "TA0011", "Application Layer Protocol", "T1071.001", "Contact Controlled Systems", 5,
		"dllhost.exe", `\Device\HarddiskVolume3\Windows\SysWOW64`,
		`C:\Windows\SysWOW64\dllhost.exe`,
		"rundll32.exe", `rundll32.exe C:\ProgramData\msupdate.dll,DllRegisterServer`},
	{"Exploit Mitigation", "A process exhibited behaviour consistent with exploitation of a web server.",
		"Initial Access", "TA0001", "Exploit Public-Facing Application", "T1190", "Gain Access", 4,
		"cmd.exe", `\Device\HarddiskVolume3\Windows\System32`,
		`cmd.exe /c whoami & ipconfig /all`,
		"w3wp.exe", `c:\windows\system32\inetsrv\w3wp.exe -ap "DefaultAppPool" -v "v4.0"`},
}

// falconDetection appends a Falcon streaming API DetectionSummaryEvent.
func (m *Mix) falconDetection(b []byte) []byte {
	d := &detections[m.n(len(detections))]
	u := m.user()
	e := &m.w.ws[u.ws]
	m.lastHost = e.name
	m.falconOffset += int64(1 + m.n(40))
	start := m.now - int64(5+m.n(600))*int64(time.Second)
	eventType := "DetectionSummaryEvent"
	if m.chance(30) {
		eventType = "EppDetectionSummaryEvent"
	}
	b = append(b, `{"metadata":{"customerIDString":"`...)
	b = append(b, m.w.cid...)
	b = append(b, `","offset":`...)
	b = appendInt(b, int(m.falconOffset))
	b = append(b, `,"eventType":"`...)
	b = append(b, eventType...)
	b = append(b, `","eventCreationTime":`...)
	b = appendEpochMillis(b, m.now)
	b = append(b, `,"version":"1.0"},"event":{"ProcessStartTime":`...)
	b = appendEpochSec(b, start)
	b = append(b, `,"ProcessEndTime":0,"ProcessId":`...)
	pid := 30000000000 + m.n(1<<30)
	b = appendInt(b, pid)
	b = append(b, `,"ParentProcessId":`...)
	b = appendInt(b, pid-1-m.n(50000))
	b = append(b, `,"ComputerName":"`...)
	b = append(b, e.name...)
	b = append(b, `","UserName":"`...)
	b = append(b, u.sam...)
	b = append(b, `","DetectName":"`...)
	b = append(b, d.scenario...)
	b = append(b, `","DetectDescription":"`...)
	b = append(b, d.description...)
	b = append(b, `","Severity":`...)
	b = appendInt(b, d.severity)
	b = append(b, `,"SeverityName":"`...)
	b = append(b, severityNames[d.severity]...)
	b = append(b, `","FileName":"`...)
	b = append(b, d.fileName...)
	b = append(b, `","FilePath":`...)
	b = appendQ(b, d.filePath)
	b = append(b, `,"CommandLine":`...)
	b = appendQ(b, d.cmd)
	b = append(b, `,"SHA256String":"`...)
	b = append(b, pickS(m, m.w.malware)...)
	b = append(b, `","MD5String":"`...)
	b = m.appendRandHex(b, 32)
	b = append(b, `","MachineDomain":"CORP","LocalIP":"`...)
	b = append(b, e.ip...)
	b = append(b, `","MACAddress":"`...)
	b = append(b, e.mac...)
	b = append(b, `","SensorId":"`...)
	b = append(b, e.aid...)
	b = append(b, `","DetectId":"ldt:`...)
	b = append(b, e.aid...)
	b = append(b, ':')
	b = appendInt(b, 100000000000+m.n(1<<30))
	b = append(b, `","Tactic":"`...)
	b = append(b, d.tactic...)
	b = append(b, `","TacticId":"`...)
	b = append(b, d.tacticID...)
	b = append(b, `","Technique":"`...)
	b = append(b, d.technique...)
	b = append(b, `","TechniqueId":"`...)
	b = append(b, d.techID...)
	b = append(b, `","Objective":"`...)
	b = append(b, d.objective...)
	b = append(b, `","ParentImageFileName":"`...)
	b = append(b, d.parent...)
	b = append(b, `","ParentCommandLine":`...)
	b = appendQ(b, d.parentCmd)
	if m.chance(70) {
		b = append(b, `,"PatternDispositionValue":16,"PatternDispositionDescription":"Prevention, process killed."}}`...)
	} else {
		b = append(b, `,"PatternDispositionValue":0,"PatternDispositionDescription":"Detection, standard detection."}}`...)
	}
	return b
}

// fdr appends a Falcon Data Replicator raw telemetry record: every value is a
// string, as FDR writes them.
func (m *Mix) fdr(b []byte) []byte {
	var (
		aid, localIP, platform string
		procs                  = m.w.files[:16]
	)
	if m.chance(80) {
		e := m.endpoint()
		aid, localIP, platform, m.lastHost = e.aid, e.ip, e.platform, e.name
		if platform == "Mac" {
			procs = m.w.files[16:18]
		}
	} else {
		s := m.server()
		aid, localIP, platform, m.lastHost = s.aid, s.ip, "Lin", s.name
		procs = m.w.files[16:]
	}
	ctx := m.now - int64(m.n(5000))*int64(time.Microsecond)
	kind := m.n(10)
	b = append(b, `{"event_simpleName":"`...)
	switch {
	case kind < 6:
		b = append(b, `ProcessRollup2","name":"ProcessRollup2V19`...)
	case kind < 8:
		b = append(b, `DnsRequest","name":"DnsRequestV4`...)
	default:
		b = append(b, `NetworkConnectIP4","name":"NetworkConnectIP4V5`...)
	}
	b = append(b, `","aid":"`...)
	b = append(b, aid...)
	b = append(b, `","aip":"`...)
	b = m.appendPublicIP(b)
	b = append(b, `","cid":"`...)
	b = append(b, m.w.cid...)
	b = append(b, `","event_platform":"`...)
	b = append(b, platform...)
	b = append(b, `","timestamp":"`...)
	b = appendEpochMillis(b, m.now)
	b = append(b, `","ContextTimeStamp":"`...)
	b = appendEpochFrac(b, ctx, 3)
	b = append(b, `","id":"`...)
	b = m.appendUUID(b)
	b = append(b, `","ConfigBuild":"1007.3.0019507.1","ConfigStateHash":"`...)
	b = appendInt(b, 1000000000+m.n(1<<31-1000000000))
	b = append(b, `","EffectiveTransmissionClass":"2","Entitlements":"15","ContextProcessId":"`...)
	b = appendInt(b, 30000000000+m.n(1<<30))
	b = append(b, `","ContextThreadId":"`...)
	b = appendInt(b, 100000000000+m.n(1<<30))
	switch {
	case kind < 6:
		p := pickS(m, procs)
		b = append(b, `","RawProcessId":"`...)
		b = appendInt(b, 4+m.n(40000)*4)
		b = append(b, `","TargetProcessId":"`...)
		b = appendInt(b, 30000000000+m.n(1<<30))
		b = append(b, `","ParentProcessId":"`...)
		b = appendInt(b, 30000000000+m.n(1<<30))
		b = append(b, `","ProcessStartTime":"`...)
		b = appendEpochFrac(b, ctx, 3)
		b = append(b, `","ImageFileName":`...)
		b = appendQ(b, p.image)
		b = append(b, `,"CommandLine":`...)
		b = appendQ(b, p.cmd)
		b = append(b, `,"ParentBaseFileName":`...)
		b = appendQ(b, p.parent)
		b = append(b, `,"SHA256HashData":"`...)
		b = append(b, p.sha256...)
		b = append(b, `","MD5HashData":"`...)
		b = append(b, p.md5...)
		if platform == "Win" {
			u := m.user()
			b = append(b, `","UserSid":"`...)
			b = append(b, u.sid...)
			b = append(b, `","SessionId":"`...)
			b = appendInt(b, 1+m.n(3))
			b = append(b, `","IntegrityLevel":"8192","TokenType":"1`...)
		} else {
			b = append(b, `","UID":"`...)
			b = appendInt(b, 1001+m.n(40))
		}
		b = append(b, `","ProcessSxsFlags":"1600"}`...)
	case kind < 8:
		b = append(b, `","DomainName":"`...)
		b = append(b, pickS(m, dnsNames)...)
		b = append(b, `","RequestType":"`...)
		b = append(b, pickS(m, []string{"1", "1", "1", "28", "5", "65"})...)
		b = append(b, `","InterfaceIndex":"0","DualRequest":"0"}`...)
	default:
		b = append(b, `","LocalAddressIP4":"`...)
		b = append(b, localIP...)
		b = append(b, `","LocalPort":"`...)
		b = m.appendEphemeral(b)
		b = append(b, `","RemoteAddressIP4":"`...)
		b = m.appendDestIP(b)
		b = append(b, `","RemotePort":"`...)
		b = append(b, pickS(m, []string{"443", "443", "443", "80", "53", "445", "3389", "8443", "22"})...)
		b = append(b, `","Protocol":"6","ConnectionDirection":"0","ConnectionFlags":"0","InContext":"0"}`...)
	}
	return b
}

var dnsNames = []string{
	"login.microsoftonline.com", "outlook.office365.com", "www.google.com", "update.googleapis.com",
	"teams.microsoft.com", "github.com", "api.github.com", "s3.amazonaws.com", "slack.com",
	"ts.falcon.crowdstrike.com", "ctldl.windowsupdate.com", "zoom.us", "cdn.jsdelivr.net",
	"example.okta.com", "wpad.corp.example.com", "dc01.corp.example.com", "fileshare.corp.example.com",
	"x7kq2p.duckdns.org", "update-check.top",
}
