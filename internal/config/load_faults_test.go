package config

// Fault tests from a review: each failed before the fix of the bug it
// describes (the comments describe the code as it was found).

import (
	"net"
	"strings"
	"testing"
)

// TestListenAddressWithInvalidPortAccepted: the listen addresses
// (admin.address, inputs.http.address, inputs.syslog.{udp,tcp,tls}.address)
// are never checked. A port out of range (":70000") or a missing port
// ("8088", which is also what `address: ${PORT}` gives with PORT=8088, or
// "localhost") passes Parse, so `router validate` says OK, and `router run`
// then fails at start with
// "listen tcp: address 70000: invalid port" / "missing port in address".
// checkListeners skips every address net.SplitHostPort refuses, silently.
// Each listener's Validate (or checkListeners) should refuse an address
// that is not host:port with a port 0..65535, naming the key and saying
// how to write it (":8088", "127.0.0.1:8088").
func TestListenAddressWithInvalidPortAccepted(t *testing.T) {
	faultBaseParses(t)
	for _, tc := range []struct{ key, yaml string }{
		{"admin.address", strings.Replace(faultConfig("", ""), "127.0.0.1:18686", "127.0.0.1:70000", 1)},
		{"admin.address", strings.Replace(faultConfig("", ""), "127.0.0.1:18686", "localhost", 1)},
		{"inputs.http.address", strings.Replace(faultConfig("", ""), "127.0.0.1:18088", "8088", 1)},
		{"inputs.syslog.tcp.address", faultConfig("  syslog:\n    tcp: {address: ':99999'}\n", "")},
		{"inputs.syslog.udp.address", faultConfig("  syslog:\n    udp: {address: '5514'}\n", "")},
	} {
		// What `router run` does with it: the listener cannot be opened.
		addr := ""
		c, err := Parse("c.yaml", []byte(tc.yaml))
		if err != nil {
			if !strings.Contains(err.Error(), tc.key) {
				t.Errorf("%s: refused, but the error does not name the key: %v", tc.key, err)
			}
			continue
		}
		switch tc.key {
		case "admin.address":
			addr = c.Admin.Address
		case "inputs.http.address":
			addr = c.Inputs.HTTP.Address
		case "inputs.syslog.tcp.address":
			addr = c.Inputs.Syslog.TCP.Address
		case "inputs.syslog.udp.address":
			addr = c.Inputs.Syslog.UDP.Address
		}
		network := "tcp"
		if strings.Contains(tc.key, "udp") {
			network = "udp"
		}
		var lerr error
		if network == "udp" {
			var pc net.PacketConn
			if pc, lerr = net.ListenPacket(network, addr); lerr == nil {
				pc.Close()
			}
		} else {
			var ln net.Listener
			if ln, lerr = net.Listen(network, addr); lerr == nil {
				ln.Close()
			}
		}
		t.Errorf("%s: %q passes validation; `router run` then fails at start: %v", tc.key, addr, lerr)
	}
}

// TestListenerConflictThroughHostName: checkListeners compares the
// hosts of two listeners as strings, so admin.address "localhost:18088" and
// inputs.http.address "127.0.0.1:18088" are not seen to overlap, although
// localhost is 127.0.0.1: `router validate` says OK and `router run` fails
// with "bind: address already in use" (shown below with two real
// listeners), the very crash loop the check exists to prevent. Host names
// should be resolved (or "localhost" at least treated as loopback) before
// comparing, or refused as listen hosts.
func TestListenerConflictThroughHostName(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	yaml := strings.Replace(faultConfig("", ""), "127.0.0.1:18686", "localhost:"+port, 1)
	yaml = strings.Replace(yaml, "127.0.0.1:18088", "127.0.0.1:"+port, 1)
	if _, err := Parse("c.yaml", []byte(yaml)); err != nil {
		if !strings.Contains(err.Error(), "same TCP port") {
			t.Fatalf("refused for another reason: %v", err)
		}
		return
	}
	a, err := net.Listen("tcp", "localhost:"+port)
	if err != nil {
		t.Skipf("localhost does not resolve to a listenable address here: %v", err)
	}
	defer a.Close()
	b, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err == nil {
		b.Close()
		t.Skip("localhost is not 127.0.0.1 on this host")
	}
	t.Errorf("admin.address localhost:%s and inputs.http.address 127.0.0.1:%s pass validation; at start the second listener fails: %v", port, port, err)
}

// TestP1RoutedToNothingAccepted: a routing that sends P1 (EDR, NDR
// and cloud threat findings: what the router exists to deliver) to no
// destination at all passes Parse, and `router validate` answers OK.
// Below, routing has no P1 and no "all" (a typo such as "P1:" left empty
// while moving destinations around, or the archive's "all" removed).
// `router run` then acknowledges every P1 event and drops it (the engine
// only logs a warning at start, and counts the drops), so senders never
// resend them. Validate should refuse a P1 that reaches no destination
// (routing.P1 and routing.all both empty), saying to add one.
func TestP1RoutedToNothingAccepted(t *testing.T) {
	faultBaseParses(t)
	yaml := strings.Replace(faultConfig("", ""), "routing:\n  all: [archive]", "routing:\n  P1: []\n  P2: [archive]\n  P3: [archive]", 1)
	c, err := Parse("c.yaml", []byte(yaml))
	if err != nil {
		if !strings.Contains(err.Error(), "P1") {
			t.Fatalf("refused, but without naming P1: %v", err)
		}
		return
	}
	if len(c.Routing.P1) == 0 && len(c.Routing.All) == 0 {
		t.Errorf("routing sends P1 events to no destination and validation accepts it: `router run` acknowledges and drops every P1 finding")
	}
}

// TestTypeErrorPrintsExpandedSecret: a ${VAR} is expanded before the
// document is decoded, and a decoding error quotes the scalar it could not
// decode (yaml.v3 prints values of up to 10 bytes whole, longer ones'
// first 7 bytes). So a secret written where a list or a mapping belongs,
// such as
//
//	inputs:
//	  http:
//	    tokens: ${LOGROUTER_HEC_TOKEN}
//
// is printed by `router validate` (CI logs) and by `router run`:
// "cannot unmarshal !!str `<the token>` into []httpin.Token". The loader
// promises that values from the environment are taken as data only; an
// error about such a value should name the key, the line and the variable
// (${LOGROUTER_HEC_TOKEN}), never its value.
func TestTypeErrorPrintsExpandedSecret(t *testing.T) {
	const secret = "Zq7!xw9#Lp"
	t.Setenv("LR_REVIEW_HEC_TOKEN", secret)
	yaml := faultConfig("    tokens: ${LR_REVIEW_HEC_TOKEN}\n", "")
	_, err := Parse("c.yaml", []byte(yaml))
	if err == nil {
		t.Fatal("a scalar where tokens needs a list was accepted")
	}
	if strings.Contains(err.Error(), secret[:7]) {
		t.Errorf("the error prints the value of LR_REVIEW_HEC_TOKEN (a secret): %v", err)
	}
}
