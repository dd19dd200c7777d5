package parse

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fastjson"
)

// classic4625 is a failed logon as Splunk's WinEventLog source type renders
// it (CRLF line ends, tabs between labels and values, as the forwarder
// sends them).
const classic4625 = "11/28/2026 03:04:05 PM\r\nLogName=Security\r\nEventCode=4625\r\nEventType=0\r\n" +
	"ComputerName=DC01.corp.example.com\r\nSourceName=Microsoft Windows security auditing.\r\nType=Information\r\n" +
	"RecordNumber=908812\r\nKeywords=Audit Failure\r\nTaskCategory=Logon\r\nOpCode=Info\r\n" +
	"Message=An account failed to log on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\t-\r\n" +
	"\tAccount Domain:\t\t-\r\n\tLogon ID:\t\t0x0\r\n\r\nLogon Type:\t\t\t3\r\n\r\n" +
	"Account For Which Logon Failed:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\tsvc_backup\r\n\tAccount Domain:\t\tCORP\r\n\r\n" +
	"Failure Information:\r\n\tFailure Reason:\t\tUnknown user name or bad password.\r\n\tStatus:\t\t\t0xC000006D\r\n\tSub Status:\t\t0xC000006A\r\n\r\n" +
	"Process Information:\r\n\tCaller Process ID:\t0x0\r\n\tCaller Process Name:\t-\r\n\r\n" +
	"Network Information:\r\n\tWorkstation Name:\tWS-0142\r\n\tSource Network Address:\t10.20.31.44\r\n\tSource Port:\t\t50112\r\n\r\n" +
	"Detailed Authentication Information:\r\n\tLogon Process:\t\tNtLmSsp \r\n\tAuthentication Package:\tNTLM\r\n\r\n" +
	"This event is generated when a logon request fails. It is generated on the computer where access was attempted.\r\n"

// TestWinClassic: Splunk's classic rendering becomes winlog.* with the
// message's labelled values under the names the event's XML gives them.
func TestWinClassic(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip(err)
	}
	tests := []struct {
		name string
		loc  *time.Location
		msg  string
		want map[string]string // dotted path -> value; "" must be absent
	}{
		{"4625 with the forwarder's time line", time.UTC, classic4625, map[string]string{
			"timestamp":                                   "2026-11-28T15:04:05.000Z",
			"winlog.channel":                              "Security",
			"winlog.event_id":                             "4625",
			"winlog.computer_name":                        "DC01.corp.example.com",
			"winlog.record_id":                            "908812",
			"winlog.task":                                 "Logon",
			"winlog.keywords.0":                           "Audit Failure",
			"winlog.event_data.SubjectUserName":           "-",
			"winlog.event_data.TargetUserName":            "svc_backup",
			"winlog.event_data.TargetDomainName":          "CORP",
			"winlog.event_data.LogonType":                 "3",
			"winlog.event_data.SubStatus":                 "0xC000006A",
			"winlog.event_data.IpAddress":                 "10.20.31.44",
			"winlog.event_data.IpPort":                    "50112",
			"winlog.event_data.WorkstationName":           "WS-0142",
			"winlog.event_data.LogonProcessName":          "NtLmSsp",
			"winlog.event_data.AuthenticationPackageName": "NTLM",
			"log.level":                                   "Information",
			"event.dataset":                               "windows.security",
			"logrouter.payload":                           "windows_classic",
		}},
		{"local time in the parser's zone, 12 AM is midnight", ny,
			"11/28/2026 12:30:00 AM\nLogName=Security\nEventCode=4634\nMessage=An account was logged off.\n\nSubject:\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1013\n\tAccount Name:\t\tmrivera\n\tAccount Domain:\t\tCORP\n\tLogon ID:\t\t0x3E7A91C\n\nLogon Type:\t\t\t10\n",
			map[string]string{
				"timestamp": "2026-11-28T05:30:00.000Z",
				// A logoff's "Subject" is the account logged off: Target*
				// in its XML.
				"winlog.event_data.TargetUserName":  "mrivera",
				"winlog.event_data.TargetUserSid":   "S-1-5-21-1-2-3-1013",
				"winlog.event_data.TargetLogonId":   "0x3E7A91C",
				"winlog.event_data.SubjectUserName": "",
				"winlog.event_data.LogonType":       "10",
			}},
		{"12 PM is noon; 4776 has no sections", time.UTC,
			"11/28/2026 12:00:00 PM\nLogName=Security\nEventCode=4776\nMessage=The computer attempted to validate the credentials for an account.\n\nAuthentication Package:\tMICROSOFT_AUTHENTICATION_PACKAGE_V1_0\nLogon Account:\tjdoe\nSource Workstation:\tWS-0099\nError Code:\t0xC000006A\n",
			map[string]string{
				"timestamp":                        "2026-11-28T12:00:00.000Z",
				"winlog.event_data.TargetUserName": "jdoe",
				"winlog.event_data.Workstation":    "WS-0099",
				"winlog.event_data.Status":         "0xC000006A",
				"winlog.event_data.PackageName":    "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0",
			}},
		{"no time line; a System event's account", time.UTC,
			"LogName=System\nSourceName=Service Control Manager\nEventCode=7036\nEventType=4\nType=Information\nComputerName=FS02\nUser=NT AUTHORITY\\SYSTEM\nSid=S-1-5-18\nSidType=1\nTaskCategory=None\nOpCode=None\nRecordNumber=77120\nKeywords=Classic\nMessage=The Windows Update service entered the running state.",
			map[string]string{
				"timestamp":              "",
				"winlog.user.identifier": "S-1-5-18",
				"winlog.user.name":       "NT AUTHORITY\\SYSTEM",
				"winlog.user.type":       "1",
				"winlog.provider_name":   "Service Control Manager",
				"message":                "The Windows Update service entered the running state.",
				"winlog.event_data":      "",
				"event.dataset":          "",
				"logrouter.payload":      "windows_classic",
			}},
		{"Sysmon: Name: value lines, a value on two lines, a name shown twice dropped", time.UTC,
			"LogName=Microsoft-Windows-Sysmon/Operational\r\nEventCode=1\r\nMessage=Process Create:\r\nRuleName: -\r\nProcessId: 7720\r\n" +
				"Image: C:\\Windows\\System32\\cmd.exe\r\nCommandLine: cmd.exe /c \"echo a\r\nUser: CORP\\admin\"\r\nUser: CORP\\mrivera\r\n",
			map[string]string{
				"winlog.event_data.ProcessId": "7720",
				"winlog.event_data.Image":     "C:\\Windows\\System32\\cmd.exe",
				"winlog.event_data.User":      "", // shown twice: one of the two was typed into the command line
				"logrouter.payload":           "windows_classic",
			}},
		{"a byte order mark and a line end before the text", time.UTC,
			"\xEF\xBB\xBF\r\nLogName=Security\r\nEventCode=4625\r\nMessage=x",
			map[string]string{"winlog.event_id": "4625"}},
		{"NOT_TRANSLATED is no account name", time.UTC,
			"LogName=Application\nEventCode=1000\nUser=NOT_TRANSLATED\nSid=S-1-5-21-1-2-3-500\nMessage=x",
			map[string]string{"winlog.user.name": "", "winlog.user.identifier": "S-1-5-21-1-2-3-500"}},
		{"a key Splunk does not write: not this format", time.UTC,
			"LogName=Security\nEventCode=4625\nColour=blue\nMessage=x",
			map[string]string{"winlog": "", "logrouter.payload": ""}},
		{"no EventCode: not this format", time.UTC,
			"LogName=Security\nMessage=x",
			map[string]string{"winlog": ""}},
		{"a time line that is no time: not this format", time.UTC,
			"13/28/2026 10:00:00 AM\nLogName=Security\nEventCode=4625\nMessage=x",
			map[string]string{"winlog": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := New(Options{Location: tc.loc, Now: func() time.Time { return testNow }})
			msg := []byte(tc.msg)
			out, res := p.AppendJSON(nil, msg)
			checkOutput(t, p, msg, out, res)
			v, err := fastjson.ParseBytes(out)
			if err != nil {
				t.Fatal(err)
			}
			for path, want := range tc.want {
				got := v.Get(strings.Split(path, ".")...)
				switch {
				case want == "" && got != nil:
					t.Errorf("%s = %s, want it absent\n%s", path, got, out)
				case want != "" && (got == nil || string(got.GetStringBytes()) != want):
					t.Errorf("%s = %v, want %q\n%s", path, got, want, out)
				}
			}
		})
	}
}

// xmlText is what an XML parser reads from s written with xml.EscapeText:
// s with the characters XML cannot carry replaced by U+FFFD.
func xmlText(t *testing.T, s []byte) string {
	var esc bytes.Buffer
	if err := xml.EscapeText(&esc, s); err != nil {
		t.Fatal(err)
	}
	var got struct {
		V string `xml:",chardata"`
	}
	if err := xml.Unmarshal(append(append([]byte("<a>"), esc.Bytes()...), "</a>"...), &got); err != nil {
		t.Fatalf("encoding/xml cannot read back %q: %v", esc.Bytes(), err)
	}
	return got.V
}

// FuzzWinXML: an event written by encoding/xml's escaping (entities and
// character references for what needs them) parses back to its Data
// values and its Computer, as an XML parser reads them; arbitrary bytes
// after "<Event" are handled like any message.
func FuzzWinXML(f *testing.F) {
	f.Add([]byte("TargetUserName\x00jdoe\x00IpAddress\x0010.0.0.1\x00CommandLine\x00a \"b\" & <c> 'd'\r\n\te"))
	f.Add([]byte("x\x00\x00y\x00  \x00z\x00\xff\xfe bad utf-8 \x01 control"))
	f.Add([]byte(" xmlns='u'><System><EventID>1</EventID></System><EventData><Data Name='a'>&#x41;&bogus;&#;&#xFFFFFFFF;</Data></EventData></Event>"))
	p := newTestParser()
	var dst []byte
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, msg := range [][]byte{
			append([]byte("<Event"), b...),
			append([]byte("<13>Nov 28 10:00:00 host tag: <Event"), b...),
		} {
			var res Result
			dst, res = p.AppendJSON(dst[:0], msg)
			checkOutput(t, p, msg, dst, res)
		}

		keys, vals := splitPairs(b)
		if len(keys) == 0 {
			return
		}
		var x bytes.Buffer
		x.WriteString(`<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><EventID>4624</EventID><Channel>Security</Channel><Computer>`)
		xml.EscapeText(&x, vals[0])
		x.WriteString(`</Computer></System><EventData>`)
		want := map[string]string{}
		blank := map[string]bool{} // written as white space only: indentation, not a value
		var order []string
		for i, k := range keys {
			if _, dup := want[string(k)]; dup {
				continue
			}
			want[string(k)] = xmlText(t, vals[i])
			order = append(order, string(k))
			x.WriteString(`<Data Name="`)
			x.Write(k)
			x.WriteString(`">`)
			at := x.Len()
			xml.EscapeText(&x, vals[i])
			blank[string(k)] = len(bytes.TrimSpace(x.Bytes()[at:])) == 0
			x.WriteString(`</Data>`)
		}
		x.WriteString(`</EventData></Event>`)
		msg := x.Bytes()
		out, res := p.AppendJSON(nil, msg)
		checkOutput(t, p, msg, out, res)
		if res.Format != FormatWinXML {
			t.Fatalf("not parsed as a Windows event: %s\n%s", out, msg)
		}
		v, _ := fastjson.ParseBytes(out)
		if got, w := string(v.GetStringBytes("winlog", "computer_name")), sanitize([]byte(xmlText(t, vals[0]))); got != w {
			t.Errorf("computer_name %q, want %q\n%s", got, w, out)
		}
		data := v.Get("winlog", "event_data")
		for _, k := range order {
			w := want[k]
			got := data.Get(k)
			if blank[k] {
				if got != nil {
					t.Errorf("%s = %s for a blank value\n%s", k, got, out)
				}
				continue
			}
			if got == nil || string(got.GetStringBytes()) != sanitize([]byte(w)) {
				t.Errorf("%s = %v, want %q\n%s", k, got, w, out)
			}
		}
	})
}

// FuzzWinClassic: a classic rendering with arbitrary values (one line
// each) parses back to them; arbitrary bytes after "LogName=" are handled
// like any message.
func FuzzWinClassic(f *testing.F) {
	f.Add([]byte("DC01\x00jdoe\x00CORP\x0010.1.2.3"))
	f.Add([]byte("a b\x00 \x00\xff\x00x:y"))
	f.Add([]byte("Security\nEventCode=4625\nMessage=An account failed to log on.\n\nSubject:\n\tAccount Name:\tx"))
	p := newTestParser()
	var dst []byte
	f.Fuzz(func(t *testing.T, b []byte) {
		if out, ok := p.AppendWindowsMessage(nil, []byte("4625"), b); ok && !json.Valid(out) {
			t.Fatalf("AppendWindowsMessage: invalid JSON %s", out)
		} else if !ok && len(out) != 0 {
			t.Fatalf("AppendWindowsMessage: not ok, but wrote %q", out)
		}
		for _, msg := range [][]byte{
			append([]byte("LogName="), b...),
			append([]byte("11/28/2026 10:00:00 AM\nLogName="), b...),
		} {
			var res Result
			dst, res = p.AppendJSON(dst[:0], msg)
			checkOutput(t, p, msg, dst, res)
		}
		parts := bytes.Split(b, []byte{0})
		for len(parts) < 4 {
			parts = append(parts, nil)
		}
		for i, s := range parts[:4] {
			// One line each, without the padding the format trims.
			s = bytes.Map(func(r rune) rune {
				if r == '\n' || r == '\r' {
					return ' '
				}
				return r
			}, s)
			parts[i] = bytes.TrimSpace(s)
		}
		host, user, domain, ip := parts[0], parts[1], parts[2], parts[3]
		var m bytes.Buffer
		m.WriteString("LogName=Security\r\nEventCode=4625\r\nComputerName=")
		m.Write(host)
		m.WriteString("\r\nMessage=An account failed to log on.\r\n\r\nAccount For Which Logon Failed:\r\n\tAccount Name:\t\t")
		m.Write(user)
		m.WriteString("\r\n\tAccount Domain:\t\t")
		m.Write(domain)
		m.WriteString("\r\n\r\nNetwork Information:\r\n\tSource Network Address:\t")
		m.Write(ip)
		m.WriteString("\r\n")
		msg := m.Bytes()
		out, res := p.AppendJSON(nil, msg)
		checkOutput(t, p, msg, out, res)
		if res.Format != FormatWinClassic {
			t.Fatalf("not parsed as a Windows event: %s\n%q", out, msg)
		}
		v, _ := fastjson.ParseBytes(out)
		for _, c := range []struct {
			path []string
			want []byte
		}{
			{[]string{"winlog", "computer_name"}, host},
			{[]string{"winlog", "event_data", "TargetUserName"}, user},
			{[]string{"winlog", "event_data", "TargetDomainName"}, domain},
			{[]string{"winlog", "event_data", "IpAddress"}, ip},
		} {
			got := v.Get(c.path...)
			if len(c.want) == 0 {
				if got != nil {
					t.Errorf("%v = %s for an empty value\n%s", c.path, got, out)
				}
				continue
			}
			if got == nil || string(got.GetStringBytes()) != sanitize(c.want) {
				t.Errorf("%v = %v, want %q\n%s", c.path, got, c.want, out)
			}
		}
	})
}

// TestAppendWindowsMessage: a Security event's rendered message alone
// (Fluent Bit's winevtlog) gives its labelled values as event_data.
func TestAppendWindowsMessage(t *testing.T) {
	p := newTestParser()
	msg := []byte("An account failed to log on.\r\n\r\nAccount For Which Logon Failed:\r\n\tAccount Name:\t\tjdoe\r\n\r\nNetwork Information:\r\n\tSource Network Address:\t10.0.0.1\r\n")
	out, ok := p.AppendWindowsMessage([]byte("x"), []byte("4625"), msg)
	if want := `x{"winlog":{"event_data":{"TargetUserName":"jdoe","IpAddress":"10.0.0.1"}}}`; !ok || string(out) != want {
		t.Errorf("got %s %v, want %s", out, ok, want)
	}
	if out, ok := p.AppendWindowsMessage([]byte("x"), []byte("4625"), []byte("no labelled values")); ok || string(out) != "x" {
		t.Errorf("a message without values: %q %v", out, ok)
	}
	id := []byte("4625")
	if n := testing.AllocsPerRun(100, func() { out, _ = p.AppendWindowsMessage(out[:0], id, msg) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

// TestWinXMLParamNames: unnamed Data, and Data named "Data", are paramN by
// their position among the event's data, as Winlogbeat names them.
func TestWinXMLParamNames(t *testing.T) {
	p := newTestParser()
	msg := []byte(`<Event><System><EventID>7036</EventID><Channel>System</Channel></System><EventData>` +
		`<Data>a</Data><Data Name="Version">1</Data><Data Name="Data">b</Data><Data>c</Data></EventData></Event>`)
	out, res := p.AppendJSON(nil, msg)
	checkOutput(t, p, msg, out, res)
	if want := `"event_data":{"param1":"a","Version":"1","param3":"b","param4":"c"}`; !bytes.Contains(out, []byte(want)) {
		t.Errorf("got %s\nwant %s", out, want)
	}
}
