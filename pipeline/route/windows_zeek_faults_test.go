package route_test

// Fault tests from a review (each failed before its fix) of the Windows Security profiles
// (rules/profiles/40-os.yaml, windows.eventlog.*) and of the stock Zeek log
// detection (rules/profiles/20-ndr.yaml), run through the example router
// (the embedded config, starter rules and profiles). Each failed against the
// code and profiles as they were found; the comments describe them.

import (
	"testing"

	"github.com/valyala/fastjson"

	"github.com/logrouter/logrouter/pipeline"
	"github.com/logrouter/logrouter/pipeline/normalize"
)

// reviewNormalize runs one raw event through the example router as an input
// with em would, and returns the normalized event.
func reviewNormalize(t *testing.T, raw string, em normalize.EventMeta) *fastjson.Value {
	t.Helper()
	r := exampleRouter(t)
	w := r.NewWorker()
	var p fastjson.Parser
	v, err := p.Parse(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	b := pipeline.NewBatch()
	defer b.Release()
	if err := w.Add(b, v, nil, &em); err != nil {
		t.Fatal(err)
	}
	out, err := fastjson.ParseBytes(append([]byte(nil), b.Events[0].Raw...))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestWindowsOpcodeOneTypeAcrossShippers: the windows.eventlog
// profiles rename Fluent Bit's Opcode (and NXLog's, and OpenTelemetry's
// opcode) to winlog.opcode, where Winlogbeat writes the opcode's NAME, a
// string ("Info"; Winlogbeat's fields reference: winlog.opcode, keyword).
// NXLog's Opcode and OpenTelemetry's opcode are that name too, but Fluent
// Bit's winevtlog writes the NUMBER (fluent/fluent-bit
// plugins/in_winevtlog/pack.c: "Opcode" packed with
// flb_log_event_encoder_append_body_uint8). All of them get one source type,
// windows.eventlog, hence one OpenSearch index per day, and the index
// template maps only strings explicitly (sinks/opensearch/bootstrap.go:
// strings_as_keyword): when a Fluent Bit event is the first of the day,
// winlog.opcode becomes a long, and from then on every Winlogbeat, NXLog and
// OpenTelemetry event of that index ("Info" is no long) is refused by
// OpenSearch (mapper_parsing_exception). Who: any site mixing Fluent Bit
// with another Windows shipper. The analyst loses the day's Windows events
// in OpenSearch (the P2 destination) for all the other shippers.
// Event shapes: Fluent Bit pack.c (above); Winlogbeat 8 raw Security event
// (winlog.opcode "Info", as in Elastic's winlogbeat exported fields).
func TestWindowsOpcodeOneTypeAcrossShippers(t *testing.T) {
	fluentBit := `{"ProviderName": "Microsoft-Windows-Security-Auditing", "ProviderGuid": "{54849625-5478-4994-A5BA-3E3B0328C30D}",
		"Qualifiers": "", "EventID": 4625, "Version": 0, "Level": 0, "Task": 12544, "Opcode": 0, "Keywords": "0x8010000000000000",
		"TimeCreated": "2026-11-29 11:00:00 +0100", "EventRecordID": 98765, "ActivityID": "", "RelatedActivityID": "",
		"ProcessID": 684, "ThreadID": 1234, "Channel": "Security", "Computer": "DC01.contoso.local", "UserID": "",
		"Message": "An account failed to log on."}`
	winlogbeat := `{"@timestamp": "2026-11-29T10:00:00.123Z", "agent": {"type": "winlogbeat", "version": "8.11.0"},
		"host": {"name": "DC01.contoso.local"}, "event": {"code": "4625", "kind": "event"},
		"winlog": {"channel": "Security", "event_id": "4625", "provider_name": "Microsoft-Windows-Security-Auditing",
			"computer_name": "DC01.contoso.local", "opcode": "Info", "task": "Logon", "keywords": ["Audit Failure"],
			"event_data": {"TargetUserName": "administrator", "TargetDomainName": "CONTOSO", "LogonType": "3"}}}`
	fb := reviewNormalize(t, fluentBit, normalize.EventMeta{})
	wb := reviewNormalize(t, winlogbeat, normalize.EventMeta{})
	for _, ev := range []*fastjson.Value{fb, wb} {
		if st := string(ev.GetStringBytes("event", "dataset")); st != "windows.eventlog" {
			t.Fatalf("source type %q, want windows.eventlog (one index): %s", st, ev)
		}
	}
	if wb.Get("winlog", "opcode").Type() != fastjson.TypeString {
		t.Fatalf("Winlogbeat's winlog.opcode is not a string: %s", wb)
	}
	if op := fb.Get("winlog", "opcode"); op != nil && op.Type() != fastjson.TypeString {
		t.Errorf("Fluent Bit's Opcode becomes winlog.opcode %s (a %s) where Winlogbeat's is %s (a string), in the same index: %s",
			op, op.Type(), wb.Get("winlog", "opcode"), fb)
	}
}

// TestWindowsTokenSourceTypeSkipsAccounts: the account mapping by
// event id (windows.eventlog.logon: TargetUserName -> user.name for 4625)
// lives in profiles selected only by detection; Normalizer.Build runs
// detection only when no source type selects a profile. An HTTP input
// token whose source_type is windows.eventlog (the name logrouter itself
// gives these events; docs/shippers.md has NXLog post to /ingest with a
// token) is the input's default source type, which selects the generic
// windows.eventlog profile: detection never runs and a failed logon (4625)
// keeps its account only in winlog.event_data.TargetUserName, with no
// user.name, exactly what commit c5eca98 set out to fix ("a failed logon
// (4625), the most searched Windows event, had no user.name"). The same
// event from the same NXLog with a token without a source type gets
// user.name. Who: NXLog (and any shipper) on a token with a windows.*
// or system.security source type. The analyst loses user.name on every
// logon, failure, account and group event of that token: searches,
// dashboards and brute-force detections on user.name miss them.
// Event shape: Microsoft, 4625(F) Event XML
// (https://learn.microsoft.com/en-us/previous-versions/windows/it-pro/windows-10/security/threat-protection/auditing/event-4625)
// in NXLog im_msvistalog to_json form (EventData at the top level,
// https://docs.nxlog.co/refman/current/im/msvistalog.html).
func TestWindowsTokenSourceTypeSkipsAccounts(t *testing.T) {
	nxlog := `{"EventTime": "2026-11-29T10:00:00Z", "Hostname": "DC01.contoso.local", "EventType": "AUDIT_FAILURE",
		"Severity": "ERROR", "EventID": 4625, "SourceName": "Microsoft-Windows-Security-Auditing", "Channel": "Security",
		"Category": "Logon", "Message": "An account failed to log on.",
		"SubjectUserSid": "S-1-0-0", "SubjectUserName": "-", "SubjectDomainName": "-", "SubjectLogonId": "0x0",
		"TargetUserSid": "S-1-0-0", "TargetUserName": "administrator", "TargetDomainName": "CONTOSO",
		"Status": "0xc000006d", "SubStatus": "0xc000006a", "LogonType": "3", "WorkstationName": "KALI",
		"IpAddress": "185.220.101.4", "IpPort": "0", "SourceModuleName": "eventlog", "SourceModuleType": "im_msvistalog"}`
	noToken := reviewNormalize(t, nxlog, normalize.EventMeta{})
	if got := string(noToken.GetStringBytes("user", "name")); got != "administrator" {
		t.Fatalf("without a source type: user.name %q, want administrator (the premise of this test): %s", got, noToken)
	}
	tok := reviewNormalize(t, nxlog, normalize.EventMeta{DefaultSourceType: []byte("windows.eventlog")})
	if got := string(tok.GetStringBytes("user", "name")); got != "administrator" {
		t.Errorf("with the token's source type windows.eventlog: user.name %q, want administrator as without one: %s", got, tok)
	}
}

// TestZeekStockLogsTakenForConn: commit c82f715 made zeek.conn's
// detection `present: [uid, id.orig_h]` with dataset "zeek.{_path}" and no
// _path in stock JSON logs, so EVERY stock Zeek log that is not caught by
// the four field-based profiles before it is labelled zeek.conn: per Zeek's
// scripts every log of a connection has uid and id (kerberos.log, ssh.log,
// smtp.log, ftp.log, rdp.log, smb_*.log, weird.log...), and an ssl.log
// record of a handshake the server never answered has no version and no
// cipher (base/protocols/ssl/main.zeek: both &optional, set only in
// ssl_server_hello), so it misses zeek.ssl too. Before the commit these
// records had no Zeek source type; now they are conn records: the
// zeek.conn index and its dashboards (connection counts, conn_state,
// long-connection and beaconing hunts) mix Kerberos tickets, SSH
// sessions and failed TLS handshakes with connections; zeek.conn's renames
// move kerberos.log's service principal (`service`, e.g.
// MSSQLSvc/sql01...:1433, the Kerberoasting pivot) into network.protocol;
// and fields of unrelated logs share one mapping (kerberos.log's `from` is
// a time, a number in Zeek's JSON; smtp.log's `from` is a string: whichever
// comes first, OpenSearch refuses the other). Who: Zeek with its own JSON
// writer (LogAscii::use_json=T), tailed by a shipper without _path, as the
// commit describes. Event shapes: Zeek base/protocols/krb/main.zeek,
// ssh/main.zeek, ssl/main.zeek (KRB::Info, SSH::Info, SSL::Info).
func TestZeekStockLogsTakenForConn(t *testing.T) {
	for _, c := range []struct{ name, raw string }{
		{"kerberos.log", `{"ts": 1700000000.123456, "uid": "CHhAvVGS1DHFjwGM9", "id.orig_h": "10.0.0.5", "id.orig_p": 49152,
			"id.resp_h": "10.0.0.1", "id.resp_p": 88, "request_type": "TGS", "client": "jdoe/CONTOSO.LOCAL",
			"service": "MSSQLSvc/sql01.contoso.local:1433", "success": true, "till": 1700036000.0, "cipher": "rc4-hmac",
			"forwardable": true, "renewable": true}`},
		{"ssh.log", `{"ts": 1700000000.123456, "uid": "CHhAvVGS1DHFjwGM9", "id.orig_h": "203.0.113.9", "id.orig_p": 40022,
			"id.resp_h": "10.0.0.22", "id.resp_p": 22, "version": 2, "auth_success": false, "auth_attempts": 6,
			"direction": "INBOUND", "client": "SSH-2.0-libssh2_1.9.0", "server": "SSH-2.0-OpenSSH_8.9p1",
			"cipher_alg": "aes128-ctr", "mac_alg": "hmac-sha2-256", "compression_alg": "none", "kex_alg": "curve25519-sha256",
			"host_key_alg": "ssh-ed25519", "host_key": "e4:ff:65:d7:be:5d:c8:44:1d:89:6b:50:f5:50:a0:ce"}`},
		{"ssl.log (no server hello)", `{"ts": 1700000000.123456, "uid": "CHhAvVGS1DHFjwGM9", "id.orig_h": "10.0.0.5",
			"id.orig_p": 49152, "id.resp_h": "93.184.216.34", "id.resp_p": 443, "server_name": "c2.example.net",
			"resumed": false, "established": false, "ssl_history": "C"}`},
	} {
		ev := reviewNormalize(t, c.raw, normalize.EventMeta{})
		if st := string(ev.GetStringBytes("event", "dataset")); st == "zeek.conn" {
			t.Errorf("%s is taken for conn.log (event.dataset zeek.conn): %s", c.name, ev)
		}
	}
}
