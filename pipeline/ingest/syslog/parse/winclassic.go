package parse

import (
	"bytes"
	"time"
)

// parseWinClassic parses the classic rendering of a Windows event that
// Splunk's WinEventLog source types carry (the Universal Forwarder's
// WinEventLog inputs without renderXml, forwarded to HEC):
//
//	11/28/2026 10:00:00 AM
//	LogName=Security
//	EventCode=4625
//	ComputerName=DC01.corp.example.com
//	...
//	Message=An account failed to log on.
//
//	Subject:
//		Security ID:		S-1-0-0
//	...
//
// The first line, the forwarder's local time, is optional. The key=value
// lines until Message= (only the keys Splunk writes: another key and the
// text is not this format) become winlog.* as Winlogbeat names them; the message
// is kept whole, and the labelled values of its sections that have a name
// in the event's XML form (Account For Which Logon Failed: Account Name is
// TargetUserName in a 4625) are also written as winlog.event_data.*, so that
// the rules and profiles see the same fields as from XmlWinEventLog or
// Winlogbeat. Values under labels not in classicKeys stay in the message
// only.
func (p *Parser) parseWinClassic(b []byte) bool {
	if len(b) < len("LogName=") || (b[0] != 'L' && (b[0] < '0' || b[0] > '9')) {
		return false
	}
	w := &p.win
	rest := b
	var date []byte
	if b[0] != 'L' {
		line, next := cutLine(b)
		if !classicDate(line) {
			return false
		}
		date, rest = line, next
	}
	if !hasPrefix(rest, "LogName=") {
		return false
	}
	w.reset()
	w.f[wTime] = span{b: date}
	var msg []byte
	for len(rest) > 0 {
		if hasPrefix(rest, "Message=") {
			msg = bytes.TrimRight(rest[len("Message="):], " \t\r\n")
			break
		}
		line, next := cutLine(rest)
		rest = next
		if len(line) == 0 {
			continue
		}
		eq := bytes.IndexByte(line, '=')
		if eq <= 0 {
			return false // not the key=value header of this format
		}
		k, v := line[:eq], bytes.TrimSpace(line[eq+1:])
		switch string(k) {
		case "LogName":
			w.f[wChannel] = span{b: v}
		case "EventCode":
			w.f[wEventID] = span{b: v}
		case "EventType":
			w.f[wEventType] = span{b: v}
		case "ComputerName":
			w.f[wComputer] = span{b: v}
		case "SourceName":
			w.f[wProvider] = span{b: v}
		case "Type":
			w.f[wLevel] = span{b: v}
		case "RecordNumber":
			w.f[wRecordID] = span{b: v}
		case "Keywords":
			if len(v) > 0 {
				w.keywords = append(w.keywords, span{b: v})
			}
		case "TaskCategory":
			w.f[wTask] = span{b: v}
		case "OpCode":
			w.f[wOpcode] = span{b: v}
		case "Sid":
			w.f[wUserID] = span{b: v}
		case "User":
			if string(v) != "NOT_TRANSLATED" { // no account name for the Sid
				w.f[wUserName] = span{b: v}
			}
		case "SidType":
			w.f[wUserType] = span{b: v}
		default:
			return false // not a key of this format: whatever it is, kept as text
		}
	}
	if len(w.f[wChannel].b) == 0 || len(w.f[wEventID].b) == 0 {
		return false
	}
	w.f[wMessage] = span{b: msg}
	if equalFold(w.f[wChannel].b, "microsoft-windows-sysmon/operational") {
		p.sysmonData(msg)
	} else {
		p.classicData(msg)
	}
	return true
}

// sysmonData adds the values of a Sysmon message to w.data: its lines are
// "Name: value" with the names of the event's XML Data (RuleName,
// UtcTime, Image, CommandLine, User...), after a first line naming the
// event ("Process Create:"). A line that is not "Name: value" continues
// the value before it; a name shown twice is not written (see
// classicData).
func (p *Parser) sysmonData(msg []byte) {
	w := &p.win
	names, known := sysmonTemplates[string(w.f[wEventID].b)]
	if !known {
		return // see classicTemplates
	}
	_, rest := cutLine(msg)
	last := -1
	for len(rest) > 0 && len(w.data) < maxWinMembers {
		var line []byte
		line, rest = cutLine(rest)
		c := bytes.IndexByte(line, ':')
		if c <= 0 || !sysmonName(line[:c]) || (c+1 < len(line) && line[c+1] != ' ') || !inList(names, line[:c]) {
			if last >= 0 && len(bytes.TrimSpace(line)) > 0 {
				v := &w.data[last].val
				t := bytes.TrimRight(line, " \t")
				v.b = msg[cap(msg)-cap(v.b) : cap(msg)-cap(t)+len(t)]
			}
			continue
		}
		last = -1
		if v := bytes.TrimSpace(line[c+1:]); len(v) > 0 {
			last = len(w.data)
			w.data = append(w.data, winMember{key: span{b: line[:c]}, val: span{b: v}, data: true})
		} else {
			w.data = append(w.data, winMember{key: span{b: line[:c]}}) // counted, not written
		}
	}
	dropRepeated(w.data)
}

// sysmonTemplates lists, by Sysmon event id, the names its message shows
// (Sysmon's schema): a line with another name was typed into a value (a
// command line) and is not read; see classicTemplates.
var sysmonTemplates = map[string][]string{
	"1": {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "FileVersion", "Description", "Product", "Company",
		"OriginalFileName", "CommandLine", "CurrentDirectory", "User", "LogonGuid", "LogonId", "TerminalSessionId",
		"IntegrityLevel", "Hashes", "ParentProcessGuid", "ParentProcessId", "ParentImage", "ParentCommandLine", "ParentUser"},
	"3": {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "User", "Protocol", "Initiated", "SourceIsIpv6",
		"SourceIp", "SourceHostname", "SourcePort", "SourcePortName", "DestinationIsIpv6", "DestinationIp",
		"DestinationHostname", "DestinationPort", "DestinationPortName"},
	"5": {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "User"},
	"7": {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "ImageLoaded", "FileVersion", "Description", "Product",
		"Company", "OriginalFileName", "Hashes", "Signed", "Signature", "SignatureStatus", "User"},
	"8": {"RuleName", "UtcTime", "SourceProcessGuid", "SourceProcessId", "SourceImage", "TargetProcessGuid", "TargetProcessId",
		"TargetImage", "NewThreadId", "StartAddress", "StartModule", "StartFunction", "SourceUser", "TargetUser"},
	"10": {"RuleName", "UtcTime", "SourceProcessGUID", "SourceProcessId", "SourceThreadId", "SourceImage", "TargetProcessGUID",
		"TargetProcessId", "TargetImage", "GrantedAccess", "CallTrace", "SourceUser", "TargetUser"},
	"11":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetFilename", "CreationUtcTime", "User"},
	"12":  {"RuleName", "EventType", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetObject", "User"},
	"13":  {"RuleName", "EventType", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetObject", "Details", "User"},
	"22":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "QueryName", "QueryStatus", "QueryResults", "Image", "User"},
	"23":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "User", "Image", "TargetFilename", "Hashes", "IsExecutable", "Archived"},
	"2":   {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetFilename", "CreationUtcTime", "PreviousCreationUtcTime", "User"},
	"4":   {"UtcTime", "State", "Version", "SchemaVersion"},
	"6":   {"RuleName", "UtcTime", "ImageLoaded", "Hashes", "Signed", "Signature", "SignatureStatus"},
	"9":   {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "Device", "User"},
	"14":  {"RuleName", "EventType", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetObject", "NewName", "User"},
	"15":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "TargetFilename", "CreationUtcTime", "Hash", "Contents", "User"},
	"16":  {"UtcTime", "Configuration", "ConfigurationFileHash"},
	"17":  {"RuleName", "EventType", "UtcTime", "ProcessGuid", "ProcessId", "PipeName", "Image", "User"},
	"18":  {"RuleName", "EventType", "UtcTime", "ProcessGuid", "ProcessId", "PipeName", "Image", "User"},
	"19":  {"RuleName", "EventType", "UtcTime", "Operation", "User", "EventNamespace", "Name", "Query"},
	"20":  {"RuleName", "EventType", "UtcTime", "Operation", "User", "Name", "Type", "Destination"},
	"21":  {"RuleName", "EventType", "UtcTime", "Operation", "User", "Consumer", "Filter"},
	"24":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "Session", "ClientInfo", "Hashes", "Archived", "User"},
	"25":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "Type", "User"},
	"26":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "User", "Image", "TargetFilename", "Hashes", "IsExecutable"},
	"27":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "User", "Image", "TargetFilename", "Hashes"},
	"28":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "User", "Image", "TargetFilename", "Hashes", "IsExecutable"},
	"29":  {"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "User", "Image", "TargetFilename", "Hashes"},
	"255": {"UtcTime", "ID", "Description"},
}

// sysmonName reports whether b is a Data name of Sysmon's: a letter, then
// letters and digits (SourceIsIpv6).
func sysmonName(b []byte) bool {
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return len(b) > 0
}

// dropRepeated marks the members whose key appears more than once as not
// written: the message shows them twice, so one was typed into another
// value.
func dropRepeated(ms []winMember) {
	for i := range ms {
		for j := i + 1; j < len(ms); j++ {
			if string(ms[i].key.b) == string(ms[j].key.b) {
				ms[i].data, ms[j].data = false, false
			}
		}
	}
}

// classicData adds the labelled values of message msg's sections that
// classicKeys names to w.data.
//
// The message is free text: Windows writes the values into its template
// as they are, so a value can span lines (the privileges of a 4672, a
// command line) and a value someone typed (the user name of a failed
// logon, a workstation name) can hold lines that look like the
// template's. A line is the template's when it is blank, a heading
// ("Subject:") or "label:" followed by a tab or nothing; any other line
// continues the value before it. Only the sections of the event's template
// are read (classicTemplates: others were typed), and a member that the
// message shows twice is ambiguous (one of the two was typed into another
// value) and is not written at all: an injected line can hide a field, and
// set only one the template has and the event lacks.
func (p *Parser) classicData(msg []byte) {
	w := &p.win
	tmpl, known := classicTemplates[string(w.f[wEventID].b)]
	if !known {
		return // no template known: nothing in the message can be told from typed text
	}
	_, rest := cutLine(msg) // the event's description
	logoff := string(w.f[wEventID].b) == "4634" || string(w.f[wEventID].b) == "4647"
	var sec []byte
	last := -1 // the member a continuation line extends, -1: none
	for len(rest) > 0 && len(w.data) < maxWinMembers {
		var line []byte
		line, rest = cutLine(rest)
		t := bytes.TrimSpace(line)
		if len(t) == 0 {
			last = -1
			continue
		}
		c := bytes.IndexByte(t, ':')
		if c <= 0 || !templateGap(t[c+1:]) || bytes.IndexByte(t[:c], '\t') >= 0 {
			// Not a template line: the value before it goes on, through
			// this line (offsets in msg: cap(msg)-cap(x) for x in msg).
			if last >= 0 {
				v := &w.data[last].val
				from := cap(msg) - cap(v.b)
				to := cap(msg) - cap(t) + len(t)
				v.b = msg[from:to]
			}
			continue
		}
		last = -1
		indented := line[0] == '\t' || line[0] == ' '
		label, val := t[:c], bytes.TrimSpace(t[c+1:])
		if !indented {
			if len(val) == 0 {
				sec = label // a section's heading
				continue
			}
			sec = nil // a value of its own ("Logon Type:  3"), outside sections
		}
		if !inList(tmpl.sections, sec) {
			continue // a section the event's template lacks: typed into a value
		}
		w.kbuf = append(append(append(w.kbuf[:0], sec...), '|'), label...)
		key, ok := classicKeys[string(w.kbuf)]
		if !ok {
			continue
		}
		if logoff {
			// 4634 and 4647 show the account logged off as "Subject";
			// their XML names it Target*.
			if k, ok := subjectToTarget[string(key)]; ok {
				key = k
			}
		}
		if !inList(tmpl.keys, key) {
			continue // a member the event's template lacks: typed into a value
		}
		if len(val) == 0 || (bytes.HasSuffix(key, sidSuffix) && !hasPrefix(val, "S-1-")) {
			// Counted (a typed copy of it is then shown twice), not
			// written: empty, or a "Security ID" Windows rendered as the
			// account's name (CORP\jdoe, NULL SID), which is no SID.
			w.data = append(w.data, winMember{key: span{b: key}})
			continue
		}
		last = len(w.data)
		w.data = append(w.data, winMember{key: span{b: key}, val: span{b: val}, data: true})
	}
	dropRepeated(w.data) // shown twice: neither is written
	if string(w.f[wEventID].b) == "1102" {
		// The audit log cleared: its XML carries the account in
		// UserData/LogFileCleared.
		w.user, w.data = append(w.user, w.data...), w.data[:0]
		w.userName = span{b: logFileCleared}
	}
}

var logFileCleared = []byte("LogFileCleared")

var sidSuffix = []byte("Sid")

// templateGap reports whether b, what follows a label's colon, is how the
// templates go on: nothing, or a tab after any spaces ("Task Name: \t\t").
func templateGap(b []byte) bool {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return len(b) == 0 || b[0] == '\t'
}

// inList reports whether b is one of list (a template's sections, "" for
// outside them, or its members).
func inList(list []string, b []byte) bool {
	for _, s := range list {
		if s == string(b) {
			return true
		}
	}
	return false
}

// classicTemplates lists, by event id, the sections ("" for the values
// outside sections) of the message templates of the Security events whose
// values classicKeys names (Microsoft's "4625(F): An account failed to
// log on." and the others), and the members of the event's XML. A
// section the event's template lacks is text someone typed into a value,
// and is not read, nor is a member its XML lacks; a member it has is
// there for real, so a typed copy of it is shown twice and dropped. What
// is left to a forger is a member the template has and the event itself
// lacks (a label a newer Windows version added). An event id not listed
// gets no data from its message.
var classicTemplates = func() map[string]classicTemplate {
	subject := []string{"SubjectUserSid", "SubjectUserName", "SubjectDomainName", "SubjectLogonId"}
	target := []string{"TargetSid", "TargetUserName", "TargetDomainName"}
	with := func(a []string, b ...string) []string { return append(append([]string(nil), a...), b...) }
	logonNet := []string{"LogonType", "LogonProcessName", "AuthenticationPackageName", "WorkstationName",
		"TransmittedServices", "LmPackageName", "KeyLength", "ProcessId", "ProcessName", "IpAddress", "IpPort"}
	t := map[string]classicTemplate{
		"1102": {[]string{"Subject"}, subject},
		"4624": {[]string{"Subject", "Logon Information", "New Logon", "Process Information", "Network Information", "Detailed Authentication Information", ""},
			with(with(subject, logonNet...), "TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonGuid",
				"ImpersonationLevel", "RestrictedAdminMode", "TargetOutboundUserName", "TargetOutboundDomainName",
				"VirtualAccount", "TargetLinkedLogonId", "ElevatedToken")},
		"4625": {[]string{"Subject", "Account For Which Logon Failed", "Failure Information", "Process Information", "Network Information", "Detailed Authentication Information", ""},
			with(with(subject, logonNet...), "TargetUserSid", "TargetUserName", "TargetDomainName", "Status", "FailureReason", "SubStatus")},
		"4634": {[]string{"Subject", ""}, []string{"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "LogonType"}},
		"4647": {[]string{"Subject"}, []string{"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId"}},
		"4648": {[]string{"Subject", "Account Whose Credentials Were Used", "Target Server", "Process Information", "Network Information"},
			with(subject, "LogonGuid", "TargetUserName", "TargetDomainName", "TargetLogonGuid", "TargetServerName", "TargetInfo",
				"ProcessId", "ProcessName", "IpAddress", "IpPort")},
		"4672": {[]string{"Subject", ""}, with(subject, "PrivilegeList")},
		"4688": {[]string{"Subject", "Creator Subject", "Target Subject", "Process Information"},
			with(subject, "NewProcessId", "NewProcessName", "TokenElevationType", "ProcessId", "CommandLine",
				"TargetUserSid", "TargetUserName", "TargetDomainName", "TargetLogonId", "ParentProcessName", "MandatoryLabel")},
		"4697": {[]string{"Subject", "Service Information"},
			with(subject, "ServiceName", "ServiceFileName", "ServiceType", "ServiceStartType", "ServiceAccount")},
		"4720": {[]string{"Subject", "New Account", "Attributes"}, with(with(subject, target...), "SamAccountName", "DisplayName", "UserPrincipalName")},
		"4740": {[]string{"Subject", "Account That Was Locked Out", "Additional Information"}, with(subject, target...)},
		"4768": {[]string{"Account Information", "Service Information", "Network Information", "Additional Information"},
			with(target, "ServiceName", "ServiceSid", "TicketOptions", "Status", "TicketEncryptionType", "PreAuthType", "IpAddress", "IpPort")},
		"4769": {[]string{"Account Information", "Service Information", "Network Information", "Additional Information"},
			[]string{"TargetUserName", "TargetDomainName", "ServiceName", "ServiceSid", "TicketOptions", "TicketEncryptionType",
				"IpAddress", "IpPort", "Status", "LogonGuid", "TransmittedServices"}},
		"4770": {[]string{"Account Information", "Service Information", "Network Information", "Additional Information"},
			[]string{"TargetUserName", "TargetDomainName", "ServiceName", "ServiceSid", "TicketOptions", "TicketEncryptionType", "IpAddress", "IpPort"}},
		"4771": {[]string{"Account Information", "Service Information", "Network Information", "Additional Information"},
			[]string{"TargetUserName", "TargetSid", "ServiceName", "TicketOptions", "Status", "PreAuthType", "IpAddress", "IpPort"}},
		"4776": {[]string{""}, []string{"PackageName", "TargetUserName", "Workstation", "Status"}},
	}
	for _, id := range []string{"4698", "4699", "4700", "4701", "4702"} {
		t[id] = classicTemplate{[]string{"Subject", "Task Information"}, with(subject, "TaskName")}
	}
	for _, id := range []string{"4722", "4723", "4724", "4725", "4726", "4738", "4767"} {
		t[id] = classicTemplate{[]string{"Subject", "Target Account"}, with(subject, target...)}
	}
	for _, id := range []string{"4727", "4731", "4754"} {
		t[id] = classicTemplate{[]string{"Subject", "New Group"}, with(subject, target...)}
	}
	for _, id := range []string{"4728", "4729", "4732", "4733", "4756", "4757"} {
		t[id] = classicTemplate{[]string{"Subject", "Member", "Group"}, with(with(subject, target...), "MemberName", "MemberSid")}
	}
	for _, id := range []string{"4730", "4734", "4735", "4737", "4755", "4758"} {
		t[id] = classicTemplate{[]string{"Subject", "Group"}, with(subject, target...)}
	}
	return t
}()

// classicTemplate is what an event id's message template holds: its
// sections and the members of its XML.
type classicTemplate struct {
	sections []string
	keys     []string
}

// cutLine returns b's first line (without its \r\n or \n) and the rest.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return bytes.TrimSuffix(b, []byte{'\r'}), nil
	}
	return bytes.TrimSuffix(b[:i], []byte{'\r'}), b[i+1:]
}

// classicDate reports whether line is "MM/DD/YYYY hh:mm:ss AM" (or PM), the
// time line Splunk writes first (one-digit month, day and hour accepted).
func classicDate(line []byte) bool {
	_, ok := classicParts(line)
	return ok
}

// classicParts splits "M/D/YYYY h:mm:ss AM" into month, day, year, hour
// (0-23), minute and second.
func classicParts(s []byte) ([6]int, bool) {
	var v [6]int
	seps := [...]byte{'/', '/', ' ', ':', ':', ' '}
	for k := 0; k < 6; k++ {
		n, d := 0, 0
		for d < len(s) && s[d] >= '0' && s[d] <= '9' && d < 4 {
			n = n*10 + int(s[d]-'0')
			d++
		}
		if d == 0 || d >= len(s) || s[d] != seps[k] {
			return v, false
		}
		v[k] = n
		s = s[d+1:]
	}
	if len(s) != 2 || (s[1] != 'M' && s[1] != 'm') {
		return v, false
	}
	h := v[3]
	if h < 1 || h > 12 || v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 31 || v[4] > 59 || v[5] > 60 || v[2] < 1970 {
		return v, false
	}
	switch s[0] {
	case 'A', 'a':
		if h == 12 {
			h = 0
		}
	case 'P', 'p':
		if h != 12 {
			h += 12
		}
	default:
		return v, false
	}
	v[3] = h
	return v, true
}

// classicTime is the time of the classic format's first line, in the
// parser's zone (the forwarder writes its local time, without a zone).
func (p *Parser) classicTime(b []byte) (int64, bool) {
	v, ok := classicParts(b)
	if !ok {
		return 0, false
	}
	return time.Date(v[2], time.Month(v[0]), v[1], v[3], v[4], v[5], 0, p.loc).UnixNano(), true
}

// classicKeys names, by "section|label" ("|label" outside sections), the
// event_data member of the event's XML form that a message line shows.
// From Microsoft's message templates of the Security events the starter
// profiles and rules read (logons, account and group management,
// Kerberos, NTLM, processes, services, scheduled tasks).
var classicKeys = func() map[string][]byte {
	subject := map[string]string{
		"Security ID": "SubjectUserSid", "Account Name": "SubjectUserName",
		"Account Domain": "SubjectDomainName", "Logon ID": "SubjectLogonId",
	}
	target := map[string]string{
		"Security ID": "TargetUserSid", "Account Name": "TargetUserName",
		"Account Domain": "TargetDomainName", "Logon ID": "TargetLogonId",
		"Linked Logon ID": "TargetLinkedLogonId", "Logon GUID": "LogonGuid",
		"Network Account Name": "TargetOutboundUserName", "Network Account Domain": "TargetOutboundDomainName",
	}
	account := map[string]string{ // account management: the account's SID is TargetSid
		"Security ID": "TargetSid", "Account Name": "TargetUserName", "Account Domain": "TargetDomainName",
	}
	group := map[string]string{
		"Security ID": "TargetSid", "Group Name": "TargetUserName", "Group Domain": "TargetDomainName",
		"Account Name": "TargetUserName", "Account Domain": "TargetDomainName",
	}
	sections := map[string]map[string]string{
		"Subject":                        {"Security ID": "SubjectUserSid", "Account Name": "SubjectUserName", "Account Domain": "SubjectDomainName", "Domain Name": "SubjectDomainName", "Logon ID": "SubjectLogonId"},
		"Creator Subject":                subject,
		"New Logon":                      target,
		"Account For Which Logon Failed": target,
		"Target Subject":                 target,
		"Account Whose Credentials Were Used": {
			"Account Name": "TargetUserName", "Account Domain": "TargetDomainName", "Logon GUID": "TargetLogonGuid",
		},
		"New Account":                 account,
		"Target Account":              account,
		"Account That Was Locked Out": account,
		"Group":                       group,
		"New Group":                   group,
		"Member":                      {"Security ID": "MemberSid", "Account Name": "MemberName"},
		"Logon Information":           {"Logon Type": "LogonType", "Elevated Token": "ElevatedToken", "Virtual Account": "VirtualAccount", "Restricted Admin Mode": "RestrictedAdminMode"},
		"Failure Information":         {"Failure Reason": "FailureReason", "Status": "Status", "Sub Status": "SubStatus"},
		"Detailed Authentication Information": {
			"Logon Process": "LogonProcessName", "Authentication Package": "AuthenticationPackageName",
			"Transited Services": "TransmittedServices", "Package Name (NTLM only)": "LmPackageName", "Key Length": "KeyLength",
		},
		"Network Information": {
			"Workstation Name": "WorkstationName", "Source Network Address": "IpAddress", "Source Port": "IpPort",
			"Client Address": "IpAddress", "Client Port": "IpPort", "Network Address": "IpAddress", "Port": "IpPort",
		},
		"Process Information": {
			"Process ID": "ProcessId", "Process Name": "ProcessName",
			"Caller Process ID": "ProcessId", "Caller Process Name": "ProcessName",
			"New Process ID": "NewProcessId", "New Process Name": "NewProcessName",
			"Token Elevation Type": "TokenElevationType", "Mandatory Label": "MandatoryLabel",
			"Creator Process ID": "ProcessId", "Creator Process Name": "ParentProcessName",
			"Process Command Line": "CommandLine",
		},
		"Account Information": {
			"Account Name": "TargetUserName", "Account Domain": "TargetDomainName",
			"Supplied Realm Name": "TargetDomainName", "User ID": "TargetSid", "Security ID": "TargetSid",
			"Logon GUID": "LogonGuid",
		},
		"Service Information": {
			"Service Name": "ServiceName", "Service ID": "ServiceSid", "Service File Name": "ServiceFileName",
			"Service Type": "ServiceType", "Service Start Type": "ServiceStartType", "Service Account": "ServiceAccount",
		},
		"Additional Information": {
			"Ticket Options": "TicketOptions", "Ticket Encryption Type": "TicketEncryptionType",
			"Result Code": "Status", "Failure Code": "Status", "Pre-Authentication Type": "PreAuthType",
			"Caller Computer Name": "TargetDomainName", "Transited Services": "TransmittedServices",
		},
		"Target Server":    {"Target Server Name": "TargetServerName", "Additional Information": "TargetInfo"},
		"Task Information": {"Task Name": "TaskName"},
		"Attributes": {
			"SAM Account Name": "SamAccountName", "Display Name": "DisplayName",
			"User Principal Name": "UserPrincipalName",
		},
		"": {
			"Logon Type": "LogonType", "Privileges": "PrivilegeList", "Impersonation Level": "ImpersonationLevel",
			// 4776 (NTLM credential validation) has no sections.
			"Authentication Package": "PackageName", "Logon Account": "TargetUserName",
			"Source Workstation": "Workstation", "Error Code": "Status",
		},
	}
	m := make(map[string][]byte)
	for sec, labels := range sections {
		for label, key := range labels {
			m[sec+"|"+label] = []byte(key)
		}
	}
	return m
}()

// subjectToTarget renames a Subject member for the logoff events.
var subjectToTarget = map[string][]byte{
	"SubjectUserSid": []byte("TargetUserSid"), "SubjectUserName": []byte("TargetUserName"),
	"SubjectDomainName": []byte("TargetDomainName"), "SubjectLogonId": []byte("TargetLogonId"),
}
