package parse

// Fault tests from a fourth review of dbbb9b0 (Windows classic messages
// read by the event's template: classicTemplates, classicKeys). Each
// failed before the fix of the fault it describes (the comments describe
// the code as reviewed). Fixes: a label's colon may be followed by spaces
// before its tab; the template lists the members of the event's XML too
// (a typed line naming another is not read); Sysmon's other event ids.

import (
	"testing"
)

func review4Classic(t *testing.T, msg string) []byte {
	t.Helper()
	p := newTestParser()
	out, res := p.AppendJSON(nil, []byte(msg))
	checkOutput(t, p, []byte(msg), out, res)
	if res.Format != FormatWinClassic {
		t.Fatalf("not parsed as the classic form: %s", out)
	}
	return out
}

const review4Subject = "Subject:\r\n\tSecurity ID:\t\tS-1-5-21-328477448-1921108719-1792717717-1002\r\n\tAccount Name:\t\tadmin\r\n" +
	"\tAccount Domain:\t\tWS01\r\n\tLogon ID:\t\t0xA924D\r\n\r\n"

// TestClassic4698TaskNameNotRead: Windows renders the Task Information
// of 4698-4702 with a space before the tabs: "\tTask Name: \t\t\...",
// "\tTask Content: \t\t<?xml...", "\tProcessCreationTime: \t\t..." (the
// event's message template has "Task Name: %t%t%5"; real 4698 and 4702
// messages as Windows renders them, e.g. in Fluent Bit/winlogbeat
// captures, show it). classicData takes a line as the template's only
// when the colon is followed by a tab or nothing, so the real "Task Name"
// line is a continuation of nothing and is skipped. What I did: a Splunk
// WinEventLog 4698 exactly as Windows renders it. What happens: no
// winlog.event_data.TaskName at all. What should happen: TaskName is the
// task's name, as classicKeys ("Task Information|Task Name") and the
// event's XML have it. Why it matters: scheduled-task creation is a
// standard persistence detection (TaskName under \Users\Public, non-
// Microsoft paths...); every 4698-4702 sent as WinEventLog or by Fluent
// Bit has no TaskName, so those searches never match.
func TestClassic4698TaskNameNotRead(t *testing.T) {
	out := review4Classic(t, "LogName=Security\r\nEventCode=4698\r\nComputerName=WS01.corp.example.com\r\nKeywords=Audit Success\r\n"+
		"Message=A scheduled task was created.\r\n\r\n"+review4Subject+
		"Task Information:\r\n\tTask Name: \t\t\\SoftLanding\\SoftLandingCreativeManagementTask\r\n"+
		"\tTask Content: \t\t<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.6\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\r\n"+
		"  <Actions Context=\"Author\">\r\n    <Exec>\r\n      <Command>C:\\Users\\Public\\u.exe</Command>\r\n    </Exec>\r\n  </Actions>\r\n</Task>\r\n\r\n"+
		"Other Information:\r\n\tProcessCreationTime: \t\t1970324836974733\r\n\tClientProcessId: \t\t\t7024\r\n\tParentProcessId: \t\t\t1284\r\n\tFQDN: \t\t0\r\n")
	if got := eventDataValues(t, out, "TaskName"); len(got) != 1 || got[0] != `\SoftLanding\SoftLandingCreativeManagementTask` {
		t.Errorf("winlog.event_data.TaskName = %q, want [\\SoftLanding\\SoftLandingCreativeManagementTask]\n%s", got, out)
	}
}

// TestClassic4698TaskContentSetsTaskName: because the real "Task Name: "
// line (see above) is not counted, a "Task Name" line typed into the task
// is the only one. The task's XML is written by whoever registers the
// task (any user can register one for himself; schtasks /create /xml), and
// its Description or Arguments may hold line breaks. What I did: a 4698
// whose task XML holds "\tTask Name:\t\Microsoft\Windows\Defrag\
// ScheduledDefrag" on a line of its own. What happens:
// winlog.event_data.TaskName is the forged Microsoft name, followed by the
// rest of the XML as "continuation" lines; the real name
// \Updater\Evil is nowhere in event_data. What should happen: TaskName is
// the real name, or (if the template's line cannot be told apart) none:
// never the typed one (dbbb9b0: a section the template has is there for
// real, "so a typed copy of one of its members is shown twice and
// dropped"). Why it matters: the persistence hides under a Microsoft task
// name that every allow-list skips.
func TestClassic4698TaskContentSetsTaskName(t *testing.T) {
	out := review4Classic(t, "LogName=Security\r\nEventCode=4698\r\nComputerName=WS01.corp.example.com\r\nKeywords=Audit Success\r\n"+
		"Message=A scheduled task was created.\r\n\r\n"+review4Subject+
		"Task Information:\r\n\tTask Name: \t\t\\Updater\\Evil\r\n"+
		"\tTask Content: \t\t<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.6\">\r\n  <RegistrationInfo>\r\n    <Description>updater\r\n"+
		"\tTask Name:\t\\Microsoft\\Windows\\Defrag\\ScheduledDefrag\r\n</Description>\r\n  </RegistrationInfo>\r\n</Task>\r\n\r\n"+
		"Other Information:\r\n\tProcessCreationTime: \t\t1970324836974733\r\n")
	for _, v := range eventDataValues(t, out, "TaskName") {
		if v != `\Updater\Evil` {
			t.Errorf("winlog.event_data.TaskName %q comes from the task's XML, not the event's Task Name\n%s", v, out)
		}
	}
}

// TestClassicTypedValueSetsLabelTemplateLacks: classicTemplates lists the
// sections of an event's template, not its labels; classicKeys gives each
// section (and "" outside sections) the labels of every event that uses
// it. A typed line under a section the event has, with a label of another
// event, is therefore shown once and written. What I did: (a) a 4776
// (NTLM validation on a DC) whose Logon Account, which any client
// sends, is "jdoe\r\nLogon Type:\t10"; (b) a 4771 (Kerberos pre-auth
// failed) whose Account Name, the cname any client puts in its AS-REQ,
// is "jdoe\r\n\tAccount Domain:\t\tPARTNER"; (c) a 4688 whose command
// line ends "\r\n\tProcess Name:\tC:\Windows\System32\svchost.exe".
// What happens: LogonType 10 (RDP) on the 4776, TargetDomainName PARTNER
// (user.domain under the logon profile) on the 4771, ProcessName on the
// 4688: none of them is in its event's XML or its Microsoft template.
// What should happen: none is written; dbbb9b0 says a forger can "set
// only one the template has and the event lacks", and these templates
// lack them. Why it matters: the unauthenticated sender of a spray chooses
// the logon type and the account's domain of the DC's own records of it.
func TestClassicTypedValueSetsLabelTemplateLacks(t *testing.T) {
	tests := []struct{ name, msg, key string }{
		{"4776 LogonType", "LogName=Security\r\nEventCode=4776\r\nComputerName=DC01.corp.example.com\r\nKeywords=Audit Failure\r\n" +
			"Message=The computer attempted to validate the credentials for an account.\r\n\r\n" +
			"Authentication Package:\tMICROSOFT_AUTHENTICATION_PACKAGE_V1_0\r\nLogon Account:\tjdoe\r\nLogon Type:\t10\r\n" +
			"Source Workstation:\tWS-0142\r\nError Code:\t0xc000006a", "LogonType"},
		{"4771 TargetDomainName", "LogName=Security\r\nEventCode=4771\r\nComputerName=DC01.corp.example.com\r\nKeywords=Audit Failure\r\n" +
			"Message=Kerberos pre-authentication failed.\r\n\r\nAccount Information:\r\n\tSecurity ID:\t\tCORP\\jdoe\r\n" +
			"\tAccount Name:\t\tjdoe\r\n\tAccount Domain:\t\tPARTNER\r\n\r\n" +
			"Service Information:\r\n\tService Name:\t\tkrbtgt/CORP.EXAMPLE.COM\r\n\r\nNetwork Information:\r\n\tClient Address:\t\t::ffff:10.0.0.12\r\n" +
			"\tClient Port:\t\t53366\r\n\r\nAdditional Information:\r\n\tTicket Options:\t\t0x40810010\r\n\tFailure Code:\t\t0x18\r\n" +
			"\tPre-Authentication Type:\t2\r\n", "TargetDomainName"},
		{"4688 ProcessName", "LogName=Security\r\nEventCode=4688\r\nComputerName=WS01.corp.example.com\r\nKeywords=Audit Success\r\n" +
			"Message=A new process has been created.\r\n\r\nCreator Subject:\r\n\tSecurity ID:\t\tS-1-5-21-1-2-3-1104\r\n\tAccount Name:\t\tjdoe\r\n" +
			"\tAccount Domain:\t\tCORP\r\n\tLogon ID:\t\t0xA924D\r\n\r\nTarget Subject:\r\n\tSecurity ID:\t\tS-1-0-0\r\n\tAccount Name:\t\t-\r\n" +
			"\tAccount Domain:\t\t-\r\n\tLogon ID:\t\t0x0\r\n\r\nProcess Information:\r\n\tNew Process ID:\t\t0x1a2c\r\n" +
			"\tNew Process Name:\tC:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe\r\n\tToken Elevation Type:\t%%1937\r\n" +
			"\tMandatory Label:\t\tS-1-16-12288\r\n\tCreator Process ID:\t0x1f0\r\n\tCreator Process Name:\tC:\\Windows\\explorer.exe\r\n" +
			"\tProcess Command Line:\tpowershell -enc SQBFAFgA\r\n\tProcess Name:\tC:\\Windows\\System32\\svchost.exe\r\n\r\n" +
			"Token Elevation Type indicates the type of token that was assigned to the new process.\r\n", "ProcessName"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := review4Classic(t, tc.msg)
			if got := eventDataValues(t, out, tc.key); len(got) > 0 {
				t.Errorf("winlog.event_data.%s = %q: typed into a value, not in the event's template\n%s", tc.key, got, out)
			}
		})
	}
}

// TestSysmonIDsWithoutTemplateLoseData: sysmonData now reads only the
// event ids sysmonTemplates lists (1, 3, 5, 7, 8, 10-13, 22, 23); every
// other Sysmon event, read in full before dbbb9b0, gets no data. What I
// did: a Sysmon 17 (pipe created) and a Sysmon 6 (driver loaded) in
// Splunk's classic rendering, their messages as Sysmon writes them. What
// happens: no winlog.event_data at all (no PipeName, no ImageLoaded, no
// User). What should happen: their names (Sysmon's schema: 17/18 RuleName,
// EventType, UtcTime, ProcessGuid, ProcessId, PipeName, Image, User; 6
// RuleName, UtcTime, ImageLoaded, Hashes, Signed, Signature,
// SignatureStatus) read as for the listed ids. Why it matters: named
// pipes (Cobalt Strike's \MSSE-*, PsExec's \PSEXESVC) and unsigned
// drivers are staple Sysmon detections; every such event from the
// WinEventLog source type lost its fields silently (also 2, 4, 9, 14, 15,
// 19-21, 24-29).
func TestSysmonIDsWithoutTemplateLoseData(t *testing.T) {
	tests := []struct{ name, msg, key, want string }{
		{"17 PipeName", "LogName=Microsoft-Windows-Sysmon/Operational\r\nEventCode=17\r\nComputerName=WS01.corp.example.com\r\n" +
			"SourceName=Microsoft-Windows-Sysmon\r\nType=Information\r\nRecordNumber=4712\r\n" +
			"Message=Pipe Created:\r\nRuleName: -\r\nEventType: CreatePipe\r\nUtcTime: 2026-11-28 10:00:00.000\r\n" +
			"ProcessGuid: {4b1f2e3a-0000-0000-0000-000000000001}\r\nProcessId: 4242\r\nPipeName: \\MSSE-4242-server\r\n" +
			"Image: C:\\Users\\Public\\beacon.exe\r\nUser: CORP\\jdoe\r\n", "PipeName", `\MSSE-4242-server`},
		{"6 ImageLoaded", "LogName=Microsoft-Windows-Sysmon/Operational\r\nEventCode=6\r\nComputerName=WS01.corp.example.com\r\n" +
			"SourceName=Microsoft-Windows-Sysmon\r\nType=Information\r\nRecordNumber=4713\r\n" +
			"Message=Driver loaded:\r\nRuleName: -\r\nUtcTime: 2026-11-28 10:00:00.000\r\nImageLoaded: C:\\Windows\\Temp\\evil.sys\r\n" +
			"Hashes: SHA256=00\r\nSigned: false\r\nSignature: -\r\nSignatureStatus: Unavailable\r\n", "ImageLoaded", `C:\Windows\Temp\evil.sys`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out := review4Classic(t, tc.msg)
			if got := eventDataValues(t, out, tc.key); len(got) != 1 || got[0] != tc.want {
				t.Errorf("winlog.event_data.%s = %q, want [%s]\n%s", tc.key, got, tc.want, out)
			}
		})
	}
}
