package normalize

// Review of the dissect patterns (compileDissect, dissect.match/from,
// dkey.takes) and their uses in rules/profiles (review 18h). Each test
// below fails on the code as reviewed; the comment says what is wrong,
// what is expected and where the expected value comes from.

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// dissectStarter is a normalizer with the starter profiles of rules/profiles.
func dissectStarter(t *testing.T) *Normalizer {
	t.Helper()
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

// TestSshdUserNameCannotChooseAddress: linux.auth's sshd
// patterns end with the literal " ssh2", and "text after a final literal is
// ignored", so nothing ties the address to the END of the line. sshd logs
// the user name as the client sent it (auth.c auth_log(): "%s %s%s%s for
// %s%.100s from %.200s port %d ssh2%s%s", authctxt->user, up to 100
// characters, spaces kept). An unauthenticated client that sends the user
// name "root from 6.6.6.6 port 22 ssh2" gets its failed logins written
// with source.address/source.ip 6.6.6.6: the real address (written by sshd
// after the user name) is lost, brute-force aggregation by source.ip blames
// whatever address the attacker typed (an automated block hits a victim).
// docs/schema.md claims the opposite: "so a user name that holds `from x
// port 1` (sshd logs it as the client sent it) does not choose the
// address". Expected: source.address 203.0.113.9, the address sshd wrote
// (the only one that is followed by "ssh2" and then the end or ": " and
// the key's description, the suffix auth_log appends).
func TestSshdUserNameCannotChooseAddress(t *testing.T) {
	n := dissectStarter(t)
	var p fastjson.Parser
	for _, line := range []string{
		"Failed password for invalid user root from 6.6.6.6 port 22 ssh2 from 203.0.113.9 port 50022 ssh2",
		"Failed none for invalid user x from 6.6.6.6 port 22 ssh2 from 203.0.113.9 port 50022 ssh2",
	} {
		out := appendAs(t, n, &p, `{"message":"`+line+`","process":{"name":"sshd"}}`, "linux.auth")
		if !strings.Contains(out, `"address":"203.0.113.9"`) || strings.Contains(out, `6.6.6.6","port`) {
			t.Errorf("%s:\n got: %s\nwant source.address 203.0.113.9 (the connection's), not the 6.6.6.6 typed in the user name", line, out)
		}
	}
}

// TestSshdLongCraftedUserNameStillMatches: the 64-try bound is shared by
// all keys of a match and spent on every (literal occurrence, later
// literal occurrence) pair. A 99-character user name, "from" ten times
// then "port" ten times (sshd accepts and logs it: %.100s), costs more than
// 64 tries before the match reaches the real " from ", so neither of the
// two sshd "Failed ..." patterns matches, and the line keeps no
// user.name, no source.address/ip/port and, above all, no event.outcome
// failure: the attacker's failed logins drop out of every brute-force
// search on event.outcome:failure by source.ip. Expected (OpenSSH auth.c
// format; elastic/integrations packages/system/data_stream/auth/
// elasticsearch/ingest_pipeline/message.yml, whose grok "...for (invalid
// user)?%{DATA:user.name} from %{IPORHOST:source.address} port
// %{NUMBER:source.port:long} ssh2..." backtracks without a bound and
// matches): source.address 203.0.113.9, source.port 50022, event.outcome
// failure.
func TestSshdLongCraftedUserNameStillMatches(t *testing.T) {
	user := strings.TrimSpace(strings.Repeat("from ", 10) + strings.Repeat("port ", 10))
	if len(user) > 100 {
		t.Fatalf("user name %d long: sshd logs 100 characters", len(user))
	}
	line := "Failed password for invalid user " + user + " from 203.0.113.9 port 50022 ssh2"
	n := dissectStarter(t)
	var p fastjson.Parser
	out := appendAs(t, n, &p, `{"message":"`+line+`","process":{"name":"sshd"}}`, "linux.auth")
	for _, want := range []string{`"address":"203.0.113.9"`, `"port":50022`, `"outcome":"failure"`} {
		if !strings.Contains(out, want) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s", line, out, want)
		}
	}
	// The same at the level of the dissect itself: the pattern as written
	// in rules/profiles/40-os.yaml does not match a line it describes.
	d, _, err := compileDissect("%{system.auth.ssh.event} %{system.auth.ssh.method} for invalid user %{user.name:greedy} from %{source.address:token} port %{source.port:digits} ssh2")
	if err != nil {
		t.Fatal(err)
	}
	if parts, ok := d.match([]byte(line), nil); !ok {
		t.Errorf("pattern does not match %q (the 64 tries are spent before the real \" from \")", line)
	} else if string(parts[3]) != "203.0.113.9" {
		t.Errorf("address %q", parts[3])
	}
}

// TestIPv4KeyRefusesWhatIsNoAddress: %{x:ipv4} is documented as a
// key that takes an IPv4 address (docs/schema.md: "%{source.ip:ipv4}"),
// but dkey.takes counts up to three digits per dotted part without a
// range: "300.1.1.999" and "010.0.0.1" are taken. o365.audit writes that
// part to source.ip ("%{source.ip:ipv4}:%{source.port:digits}"); the ip
// conversion then leaves it as it was, a string that is no address in an
// ip field (docs/schema.md: an ip mapping "would refuse the whole
// document"). Expected: no split (the value is no IPv4 address: RFC 791
// dotted decimal, octets 0-255; Go's netip.ParseAddr refuses both), so
// source.address stays whole and source.ip is not written.
func TestIPv4KeyRefusesWhatIsNoAddress(t *testing.T) {
	k := dkey{kind: keyIPv4}
	for _, v := range []string{"300.1.1.999", "999.999.999.999", "010.0.0.1"} {
		if k.takes([]byte(v)) {
			t.Errorf("ipv4 key takes %q, which is no IPv4 address", v)
		}
	}
	n := dissectStarter(t)
	var p fastjson.Parser
	out := appendAs(t, n, &p, `{"ClientIP":"300.1.1.999:443","OrganizationId":"o","RecordType":15,"Workload":"AzureActiveDirectory","Operation":"UserLoggedIn","CreationTime":"2026-01-01T00:00:00"}`, "o365.audit")
	if strings.Contains(out, `"ip":"300.1.1.999"`) {
		t.Errorf("o365.audit: source.ip is no IP address: %s", out)
	}
}

// TestSudoPatternsLeaveSshdLines: linux.auth's sudo alternatives
// ("%{user.name} : %{}USER=%{user.effective.name} ;") apply to every
// message of the source, not to sudo's, and their first key takes any
// text. An unauthenticated SSH client whose user name is "x : USER=root ;"
// makes sshd log "Disconnected from invalid user x : USER=root ; <addr>
// port <p> [preauth]" (sshd's own line, the user name as sent), which none
// of the sshd patterns reads; the sudo pattern then writes user.name
// "Disconnected from invalid user x" and user.effective.name root: a
// privilege change that never happened, on an sshd event, by a remote
// client. Expected: no user.effective.name (sudo's log line is "user :
// [reason ;] [HOST=...;] TTY=... ; [CHROOT=... ;] PWD=... ; USER=... ;
// [GROUP=... ;] [TSID=... ;] [ENV=... ;] COMMAND=...", sudo-project/sudo
// lib/eventlog/eventlog.c new_logline(); Elastic's pattern anchors TTY=,
// PWD=, USER= and COMMAND= in that order: elastic/integrations
// packages/system/data_stream/auth/elasticsearch/ingest_pipeline/message.yml).
func TestSudoPatternsLeaveSshdLines(t *testing.T) {
	n := dissectStarter(t)
	var p fastjson.Parser
	line := "Disconnected from invalid user x : USER=root ; 203.0.113.9 port 50022 [preauth]"
	out := appendAs(t, n, &p, `{"message":"`+line+`","process":{"name":"sshd"}}`, "linux.auth")
	if strings.Contains(out, `"effective"`) {
		t.Errorf("%s:\n got: %s\nwant no user.effective.name on an sshd line", line, out)
	}
}
