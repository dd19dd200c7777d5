package normalize

// Fault tests from a third review of af518b2 (format windows reads the
// rendered message of a structured Security event without its data:
// Fluent Bit's winevtlog). Each failed before the fix of the fault it
// describes (the comments describe the code as reviewed). Fix: the
// message is read by the event's template (classicTemplates), and a
// "Security ID" that is no SID is not written.

import (
	"strings"
	"testing"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/valyala/fastjson"
)

func review3Normalizer(t *testing.T) *Normalizer {
	t.Helper()
	if testTextParser == nil || testMatcher == nil {
		t.Skip("no text parser or matcher (matcher_ext_test.go)")
	}
	cfg := testConfig()
	cfg.Profiles = starterProfiles(t)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	c, err := Compile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c.New()
}

// TestFluentBitMessageSIDsAreNames: the rendered message of a Security
// event does not show SIDs. EvtFormatMessage (what Event Viewer shows, what
// Fluent Bit's winevtlog sends as Message) writes a win:SID insert as the
// account it resolves to: "Security ID: CORP\jdoe", "SYSTEM", "NULL SID"
// for S-1-0-0 (the well-known 4625 text "Security ID: NULL SID"); only an
// unresolvable SID is shown as S-1-.... The event's XML, Winlogbeat and
// Fluent Bit's own StringInserts carry the SID string.
//
// What I did: a Fluent Bit 4624 (network logon) with its message as
// Windows renders it: Subject "Security ID: NULL SID", New Logon
// "Security ID: CORP\jdoe"; the SIDs are in StringInserts as Fluent Bit
// sends them. What happens: classicKeys maps "Security ID" to
// SubjectUserSid/TargetUserSid, so winlog.event_data.SubjectUserSid is
// "NULL SID" and the logon variant's rename of TargetUserSid makes user.id
// "CORP\jdoe" (likewise user.target.id in 4720-4726, group.id
// "CORP\Domain Admins" in 4728). What should happen: a *Sid member holds a
// SID or is not written (docs/schema.md: the message's values are written
// "under the names the XML gives them"; ECS user.id of a Windows account
// is its SID, as Winlogbeat, NXLog and OpenTelemetry events of the same
// logon give it). Why it matters: the same logon has user.id S-1-5-21-...
// from every other shipper and "CORP\jdoe" from Fluent Bit; searches and
// rules by SID (S-1-5-18 for SYSTEM, a group's RID 512/544 for Domain
// Admins/Administrators) miss every Fluent Bit event, and user.id
// "NULL SID" looks like a real account identifier. The commit's own rule
// test writes "Security ID: S-1-0-0" in the message, which Windows never
// renders, so it did not see this.
func TestFluentBitMessageSIDsAreNames(t *testing.T) {
	n := review3Normalizer(t)
	const ev = `{"ProviderName":"Microsoft-Windows-Security-Auditing","EventID":4624,"Version":2,"Level":0,"Task":12544,"Opcode":0,` +
		`"TimeCreated":"2026-11-29 11:00:00 +0100","EventRecordID":908814,"ProcessID":636,"ThreadID":4120,"Channel":"Security","Computer":"DC01.corp.example.com","UserID":"",` +
		`"Message":"An account was successfully logged on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tNULL SID\r\n\tAccount Name:\t\t-\r\n\tAccount Domain:\t\t-\r\n\tLogon ID:\t\t0x0\r\n\r\n` +
		`Logon Information:\r\n\tLogon Type:\t\t3\r\n\tRestricted Admin Mode:\t-\r\n\tVirtual Account:\t\tNo\r\n\tElevated Token:\t\tNo\r\n\r\nImpersonation Level:\t\tImpersonation\r\n\r\n` +
		`New Logon:\r\n\tSecurity ID:\t\tCORP\\jdoe\r\n\tAccount Name:\t\tjdoe\r\n\tAccount Domain:\t\tCORP\r\n\tLogon ID:\t\t0x8A1B2C\r\n\tLinked Logon ID:\t\t0x0\r\n` +
		`\tNetwork Account Name:\t-\r\n\tNetwork Account Domain:\t-\r\n\tLogon GUID:\t\t{00000000-0000-0000-0000-000000000000}\r\n\r\n` +
		`Process Information:\r\n\tProcess ID:\t\t0x0\r\n\tProcess Name:\t\t-\r\n\r\nNetwork Information:\r\n\tWorkstation Name:\tWS-0142\r\n\tSource Network Address:\t10.20.31.44\r\n\tSource Port:\t\t50112\r\n\r\n` +
		`Detailed Authentication Information:\r\n\tLogon Process:\t\tNtLmSsp \r\n\tAuthentication Package:\tNTLM\r\n\tTransited Services:\t-\r\n\tPackage Name (NTLM only):\tNTLM V2\r\n\tKey Length:\t\t128",` +
		`"StringInserts":["S-1-0-0","-","-","0x0","S-1-5-21-1377283216-344919071-3415362939-1104","jdoe","CORP","0x8a1b2c","3","NtLmSsp ","NTLM","WS-0142",` +
		`"{00000000-0000-0000-0000-000000000000}","-","NTLM V2","128","0x0","-","10.20.31.44","50112","%%1833","-","-","-","%%1843","0x0","%%1843"]}`
	var p fastjson.Parser
	v, err := p.Parse(ev)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := n.Append(nil, v, nil, &pipeline.Meta{Input: "t", IngestTime: ingest}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Lookup("user.name"); string(got.Str) != "jdoe" {
		t.Fatalf("not read as the logon variant does (user.name %q): %s", got.Str, out)
	}
	for _, path := range []string{"user.id", "winlog.event_data.SubjectUserSid", "winlog.event_data.TargetUserSid"} {
		got := n.Lookup(path)
		if got.Kind != Missing && !strings.HasPrefix(string(got.Str), "S-1-") {
			t.Errorf("%s = %q: an account name where a SID belongs (want the SID or nothing)", path, got.Str)
		}
	}
}
