package syslog

// Review (real shippers): rsyslog's omrelp pointed at the syslog TCP port.

import (
	"net"
	"testing"
	"time"
)

// TestRELPOpenIngestedAsMessages
//
// What the user sees: an rsyslog relay configured with omrelp (rsyslog's
// reliable forwarding, what its documentation recommends for "no loss")
// at logrouter's TCP port delivers nothing: rsyslog waits for the answer
// to its RELP "open" for ever (its queue grows; "regular queue shutdown
// timed out" at stop), while logrouter stores the RELP session offer as
// three syslog events ("1 open 86 relp_version=0", "relp_software=...",
// "commands=syslog"), parse_status raw, and logs nothing. docs/shippers.md
// and docs/configuration.md never say that RELP is not supported.
//
// Cause: serveConn/framer (pipeline/ingest/syslog/framer.go detect) takes
// any stream that is not "LEN SP <" as newline-framed syslog; RELP's
// "TXNR SP open SP LEN SP ..." is not recognized or refused.
//
// Expected: the RELP offer is recognized (at least: not delivered as log
// events; the connection closed and counted or the peer told, and a warning
// naming RELP logged), and the docs say omrelp is not supported.
func TestRELPOpenIngestedAsMessages(t *testing.T) {
	f := faults3Start(t, Config{TCP: &TCPConfig{Address: "127.0.0.1:0"}})
	_, addr, _ := f.srv.Addrs()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Byte for byte what rsyslog 8.2302's omrelp (librelp 1.11.0) sends first.
	open := "1 open 86 relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog\n"
	if _, err := c.Write([]byte(open)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	var got []string
	for _, ev := range f.rec.Events() {
		got = append(got, string(ev.Raw))
	}
	if len(got) > 0 {
		t.Errorf("an omrelp session offer became %d log events:\n%v", len(got), got)
	}
}
