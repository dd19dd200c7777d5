package normalize

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/bench/loadgen"
	"github.com/logrouter/logrouter/pipeline"
)

// BenchmarkNormalize measures parse + normalize (no rules) per kind of the
// realistic mix and for the mix as a whole; MB/s is input bytes on one core.
func BenchmarkNormalize(b *testing.B) {
	cfg := testConfig()
	c, err := Compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	bench := func(b *testing.B, events [][]byte) {
		n := c.New()
		var p fastjson.Parser
		size := 0
		for _, e := range events {
			size += len(e)
		}
		m := &pipeline.Meta{Input: "http", Protocol: "hec", Peer: "10.0.0.1", IngestTime: ingest}
		dst := make([]byte, 0, 2*size)
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			dst = dst[:0]
			for _, e := range events {
				v, err := p.ParseBytes(e)
				if err != nil {
					b.Fatal(err)
				}
				if dst, _, err = n.Append(dst, v, nil, m, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	mix := loadgen.New(loadgen.Options{Seed: 1})
	perKind := map[loadgen.Kind][][]byte{}
	var all [][]byte
	for len(all) < 1000 {
		e, k := mix.Next(nil)
		all = append(all, e)
		if len(perKind[k]) < 200 {
			perKind[k] = append(perKind[k], e)
		}
	}
	b.Run("mix", func(b *testing.B) { bench(b, all) })
	for _, k := range loadgen.Kinds {
		if evs := perKind[k]; len(evs) > 0 {
			b.Run(k.String(), func(b *testing.B) { bench(b, evs) })
		}
	}
}

// BenchmarkNormalizeWindowsText measures a Windows event sent as text with
// the starter profiles (windows.eventlog's parse, then its variant): the
// event's XML under XmlWinEventLog and Splunk's classic rendering under
// WinEventLog. MB/s is input bytes on one core.
func BenchmarkNormalizeWindowsText(b *testing.B) {
	if testTextParser == nil {
		b.Skip("no text parser")
	}
	cfg := testConfig()
	cfg.Profiles = starterProfiles(b)
	cfg.CompileMatcher = testMatcher
	cfg.NewTextParser = testTextParser
	c, err := Compile(cfg)
	if err != nil {
		b.Fatal(err)
	}
	xml := []byte(`<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4625</EventID><Version>0</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8010000000000000</Keywords><TimeCreated SystemTime='2026-11-28T10:00:00.123456700Z'/><EventRecordID>908812</EventRecordID><Correlation/><Execution ProcessID='636' ThreadID='4120'/><Channel>Security</Channel><Computer>DC01.corp.example.com</Computer><Security/></System><EventData><Data Name='SubjectUserSid'>S-1-0-0</Data><Data Name='SubjectUserName'>-</Data><Data Name='SubjectDomainName'>-</Data><Data Name='SubjectLogonId'>0x0</Data><Data Name='TargetUserSid'>S-1-0-0</Data><Data Name='TargetUserName'>svc_backup</Data><Data Name='TargetDomainName'>CORP</Data><Data Name='Status'>0xc000006d</Data><Data Name='FailureReason'>%%2313</Data><Data Name='SubStatus'>0xc000006a</Data><Data Name='LogonType'>3</Data><Data Name='LogonProcessName'>NtLmSsp </Data><Data Name='AuthenticationPackageName'>NTLM</Data><Data Name='WorkstationName'>WS-0142</Data><Data Name='IpAddress'>10.20.31.44</Data><Data Name='IpPort'>50112</Data></EventData><RenderingInfo Culture='en-US'><Message>An account failed to log on.</Message><Level>Information</Level><Task>Logon</Task><Opcode>Info</Opcode><Keywords><Keyword>Audit Failure</Keyword></Keywords></RenderingInfo></Event>`)
	classic := []byte("11/28/2026 10:00:00 AM\r\nLogName=Security\r\nEventCode=4625\r\nEventType=0\r\nComputerName=DC01.corp.example.com\r\n" +
		"SourceName=Microsoft Windows security auditing.\r\nType=Information\r\nRecordNumber=908812\r\nKeywords=Audit Failure\r\n" +
		"TaskCategory=Logon\r\nOpCode=Info\r\nMessage=An account failed to log on.\r\n\r\nSubject:\r\n\tSecurity ID:\t\tNULL SID\r\n" +
		"\tAccount Name:\t\t-\r\n\tAccount Domain:\t\t-\r\n\tLogon ID:\t\t0x0\r\n\r\nLogon Type:\t\t\t3\r\n\r\n" +
		"Account For Which Logon Failed:\r\n\tSecurity ID:\t\tNULL SID\r\n\tAccount Name:\t\tsvc_backup\r\n\tAccount Domain:\t\tCORP\r\n\r\n" +
		"Failure Information:\r\n\tFailure Reason:\t\tUnknown user name or bad password.\r\n\tStatus:\t\t\t0xC000006D\r\n\tSub Status:\t\t0xC000006A\r\n\r\n" +
		"Network Information:\r\n\tWorkstation Name:\tWS-0142\r\n\tSource Network Address:\t10.20.31.44\r\n\tSource Port:\t\t50112\r\n")
	for _, tc := range []struct {
		name, st string
		text     []byte
	}{{"xml", "XmlWinEventLog", xml}, {"classic", "WinEventLog", classic}} {
		b.Run(tc.name, func(b *testing.B) {
			n := c.New()
			m := &pipeline.Meta{Input: "http", Protocol: "hec", Peer: "10.0.0.1", IngestTime: ingest}
			em := &EventMeta{SourceType: []byte(tc.st)}
			var dst []byte
			b.SetBytes(int64(len(tc.text)))
			b.ReportAllocs()
			for b.Loop() {
				if dst, _, err = n.Append(dst[:0], nil, tc.text, m, em); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParts measures the batch-envelope and API-page test every input
// makes of every event (Parts), on the realistic mix, none of which is
// one. MB/s is the events' bytes on one core.
func BenchmarkParts(b *testing.B) {
	mix := loadgen.New(loadgen.Options{Seed: 1})
	var objs []*fastjson.Value
	size := 0
	for range 1000 {
		e, _ := mix.Next(nil)
		p := new(fastjson.Parser)
		v, err := p.ParseBytes(e)
		if err != nil {
			b.Fatal(err)
		}
		objs = append(objs, v) // each its own parser: values live until the next parse
		size += len(e)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range objs {
			if parts, _ := Parts(v); parts != nil {
				b.Fatal("an event of the mix taken for an envelope")
			}
		}
	}
}
