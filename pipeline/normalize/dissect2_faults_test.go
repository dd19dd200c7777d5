package normalize

// Review 18i of c86180a: the dissect engine's `greedy` key kind
// (dissect.from), the stricter `ipv4` kind (dkey.takes), the 64-try bound,
// and the linux.auth (sshd, sudo) and cisco.asa patterns of
// rules/profiles. Each test but TestIPv4Kind (a guard) fails on
// the code as committed; its comment says what is wrong, what is expected
// and where the expected value comes from. Regressions of c86180a (they
// pass with the profiles of d45c902): CertKeyIDChoosesAddress,
// CertKeyIDCannotSpendTries, SudoWithoutTTY, SudoChrootTTY (user.name).
// Run: go test ./pipeline/normalize/ -run Review18i

import (
	"strings"
	"testing"

	"github.com/valyala/fastjson"
)

// dissect2Auth normalizes message as a linux.auth event of program prog.
func dissect2Auth(t *testing.T, prog, message string) string {
	t.Helper()
	n := dissectStarter(t)
	var p fastjson.Parser
	return appendAs(t, n, &p, `{"message":"`+message+`","process":{"name":"`+prog+`"}}`, "linux.auth")
}

// The sshd patterns as rules/profiles/40-os.yaml writes them.
const (
	// The linux.auth pattern for a line with the offered key after "ssh2: ".
	dissect2SshdInvalid = "%{system.auth.ssh.event:token} %{system.auth.ssh.method:token} for invalid user %{user.name} from %{source.address:token} port %{source.port:digits} ssh2: %{system.auth.ssh.signature}"
)

// TestSshdCertKeyIDCannotChooseAddress: the greedy user key takes
// the LAST " from " followed by an address, "port", digits and "ssh2"
// (text after " ssh2" is ignored). But sshd writes, after the connection's
// "from <addr> port <p> ssh2", ": " and the key the client offered, and
// for a certificate its key ID as the client's certificate holds it
// (openssh-portable auth.c format_method_key(): "%s %s ID %s (serial
// %llu) CA %s %s%s%s", sshkey_type(key), fp, key->cert->key_id, ...;
// auth2-pubkey.c calls auth2_record_key(authctxt, authenticated, key) for
// failed attempts too, so any client offering a self-signed certificate
// gets its key ID logged on a "Failed publickey" line, at INFO for an
// invalid user). A key ID "x from 6.6.6.6 port 22 ssh2" now chooses
// source.address/ip 6.6.6.6 and port 22, and user.name becomes "bob from
// 203.0.113.9 port 50022 ssh2: ED25519-CERT ... ID x": the greedy kind
// moved the hole from the user name (before it) to the key ID (after
// it). Before c86180a (first occurrence) this line gave 203.0.113.9.
// Expected: source.address 203.0.113.9, source.port 50022, user.name bob
// (the address sshd writes right after the user name; Elastic's grok
// "... for (invalid user)?%{DATA:user.name} from %{IPORHOST:source.address}
// port %{NUMBER:source.port:long} ssh2(: %{GREEDYDATA:system.auth.ssh.signature})?",
// elastic/integrations packages/system/data_stream/auth/elasticsearch/
// ingest_pipeline/message.yml, takes that one).
func TestSshdCertKeyIDCannotChooseAddress(t *testing.T) {
	line := "Failed publickey for invalid user bob from 203.0.113.9 port 50022 ssh2: ED25519-CERT SHA256:Kq3uBCeVr6Y1dE0mJ0pQ4x2v6o4pA0R7cLr5hX1nWc8 ID x from 6.6.6.6 port 22 ssh2 (serial 1) CA ED25519 SHA256:9zWm1lq0oWc5vB6yS1fA2d3e4f5g6h7i8j9k0l1m2n3"
	out := dissect2Auth(t, "sshd", line)
	for _, want := range []string{`"address":"203.0.113.9"`, `"port":50022`, `"user":{"name":"bob"}`, `"outcome":"failure"`} {
		if !strings.Contains(out, want) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s", line, out, want)
		}
	}
	// At the level of the dissect itself.
	d, _, err := compileDissect(dissect2SshdInvalid)
	if err != nil {
		t.Fatal(err)
	}
	if parts, ok := d.match([]byte(line), nil); !ok {
		t.Errorf("pattern does not match %q", line)
	} else if string(parts[3]) != "203.0.113.9" || string(parts[4]) != "50022" {
		t.Errorf("address %q port %q, want 203.0.113.9 50022 (user.name %q)", parts[3], parts[4], parts[2])
	}
}

// TestSshdCertKeyIDCannotSpendTries: the 64 tries are still a budget
// an unauthenticated client can spend. The greedy key starts from the
// last " from " and, for each occurrence back, the token address key
// scans every later " port " (each a try): a certificate key ID (logged
// after "ssh2: ", see above; it has no 100-character bound as the user
// name has) of ten or more "from a port b" (here twelve, 290 characters)
// costs more than 64 tries before the
// greedy loop reaches the connection's " from ". Neither sshd pattern
// matches: the failed login has no event.outcome, no source.address/ip/
// port, no user.name, and drops out of every brute-force search
// (event.outcome:failure by source.ip), which the commit says it fixed
// ("a 99-character one spent the 64 tries and hid the failed login").
// Expected: source.address 203.0.113.9, source.port 50022, event.outcome
// failure (OpenSSH auth.c auth_log() format; Elastic's grok above matches).
func TestSshdCertKeyIDCannotSpendTries(t *testing.T) {
	line := "Failed publickey for invalid user bob from 203.0.113.9 port 50022 ssh2: ED25519-CERT SHA256:Kq3uBCeVr6Y1dE0mJ0pQ4x2v6o4pA0R7cLr5hX1nWc8 ID " +
		strings.Repeat("from a port b ", 12) + "(serial 1) CA ED25519 SHA256:9zWm1lq0oWc5vB6yS1fA2d3e4f5g6h7i8j9k0l1m2n3"
	out := dissect2Auth(t, "sshd", line)
	for _, want := range []string{`"address":"203.0.113.9"`, `"port":50022`, `"outcome":"failure"`} {
		if !strings.Contains(out, want) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s", line, out, want)
		}
	}
	d, _, err := compileDissect(dissect2SshdInvalid)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.match([]byte(line), nil); !ok {
		t.Errorf("pattern does not match %q (the 64 tries are spent in the key ID)", line)
	}
}

// TestSshdDisconnectedLineNotRead: sshd's "Disconnected from" and
// "Connection closed by" lines name the user as the client sent it, whole,
// then the address WITHOUT " from " (auth2.c input_userauth_request():
// ssh_packet_set_log_preamble(ssh, "%suser %s", valid ? "authenticating " :
// "invalid ", user); packet.c writes "Disconnected from <preamble> <addr>
// port <p>"). linux.auth's first sshd pattern applies to every message:
// its method key (any text) ends at the first " for invalid user ", so a
// client whose user name is "x for invalid user root from 6.6.6.6 port 22
// ssh2" makes sshd's disconnect line read as a sign-in of user "root"
// from 6.6.6.6: produced user.name root, source.address/ip 6.6.6.6,
// source.port 22, system.auth.ssh.event "Disconnected". The greedy key
// changes nothing here: the only " from " after the user is the typed one.
// Expected: neither the typed address nor the typed user (the line's
// address is 203.0.113.9; the attempted name is the whole
// "x for invalid user root from 6.6.6.6 port 22 ssh2").
func TestSshdDisconnectedLineNotRead(t *testing.T) {
	for _, line := range []string{
		"Disconnected from invalid user x for invalid user root from 6.6.6.6 port 22 ssh2 203.0.113.9 port 50022 [preauth]",
		"Connection closed by invalid user x for invalid user root from 6.6.6.6 port 22 ssh2 203.0.113.9 port 50022 [preauth]",
	} {
		out := dissect2Auth(t, "sshd", line)
		if strings.Contains(out, `"6.6.6.6"`) || strings.Contains(out, `"user":{"name":"root"}`) {
			t.Errorf("%s:\n got: %s\nwant no source 6.6.6.6 and no user.name root (typed by the client)", line, out)
		}
	}
}

// TestSudoWithoutTTY: sudo writes "TTY=" only when the caller
// has a terminal (sudo-project/sudo lib/eventlog/eventlog.c
// new_logline(): "if (tty != NULL) ... \"TTY=%s ; \""; plugins/sudoers/
// policy.c sudoers_policy_deserialize_info(): with no tty "ctx->user.
// ttypath remains NULL", and logging.c sudoers_to_eventlog(): evlog->
// ttyname = ctx->user.ttypath). sudo from cron, a systemd unit, Ansible or
// CI logs "deploy : PWD=/home/deploy ; USER=root ; COMMAND=...". Both sudo
// patterns now require "TTY=": no user.name (who ran sudo), no
// user.effective.name, no command. Before c86180a "%{user.name} :
// %{}USER=%{user.effective.name} ; COMMAND=..." read these lines.
// Expected: user.name deploy, user.effective.name root, the command line.
func TestSudoWithoutTTY(t *testing.T) {
	for _, c := range []struct{ line, cmd string }{
		{"deploy : PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx", "/usr/bin/systemctl restart nginx"},
		{"deploy : command not allowed ; PWD=/home/deploy ; USER=root ; COMMAND=/bin/cat /etc/shadow", "/bin/cat /etc/shadow"},
		{"deploy : 3 incorrect password attempts ; PWD=/home/deploy ; USER=root ; COMMAND=/bin/bash", "/bin/bash"},
	} {
		out := dissect2Auth(t, "sudo", c.line)
		for _, want := range []string{`"name":"deploy"`, `"effective":{"name":"root"}`, `"command":"` + c.cmd + `"`} {
			if !strings.Contains(out, want) {
				t.Errorf("%s:\n got: %s\nwant it to contain %s", c.line, out, want)
			}
		}
	}
}

// TestSudoChrootTTY: sudo writes CHROOT= between TTY= and PWD=
// (eventlog.c new_logline(): HOST, TTY, CHROOT, PWD, USER, GROUP, TSID,
// ENV, COMMAND; sudo -R/--chroot or runchroot in sudoers, sudo 1.9.3+).
// The pattern's tty key (any text) ends at the first " ; PWD=", so it
// takes "pts/0 ; CHROOT=/srv/jail"; where the syslog text parser also
// read the line's pairs (it does for this line: TTY, CHROOT, PWD, USER,
// COMMAND=/bin/ls, the argument cut off) the split's tty differs from the
// pair's, the whole split is refused, and user.name (who ran sudo) is
// lost and the command is "/bin/ls". Produced: no user.name, command
// "/bin/ls", a top-level CHROOT. Before c86180a ("%{user.name} :
// %{}USER=...") user.name was alice. Expected: user.name alice,
// system.auth.sudo.tty pts/0, user.effective.name root, the command line
// "/bin/ls -l" (COMMAND= is the command with its arguments, eventlog.c).
func TestSudoChrootTTY(t *testing.T) {
	line := "alice : TTY=pts/0 ; CHROOT=/srv/jail ; PWD=/home/alice ; USER=root ; COMMAND=/bin/ls -l"
	out := dissect2Auth(t, "sudo", line)
	for _, want := range []string{`"tty":"pts/0"`, `"name":"alice"`, `"effective":{"name":"root"}`, `"command":"/bin/ls -l"`} {
		if !strings.Contains(out, want) {
			t.Errorf("%s:\n got: %s\nwant it to contain %s", line, out, want)
		}
	}
}

// TestAsaGRE: cisco.asa's transport patterns need "connection
// <id> for " or "connection for "; ASA's GRE connection messages say
// "from" (Cisco ASA Series Syslog Messages: "%ASA-6-302017: Built {inbound
// | outbound} GRE connection id from interface:real_address
// (translated_address) [(idfw_user)] to interface:real_address/real_cid
// (translated_address/translated_cid) [(idfw_user)] [(user)]";
// "%ASA-6-302018: Teardown GRE connection id from interface:faddr/fport
// [(idfw_user)] to interface:laddr/lport [(idfw_user)] duration hh:mm:ss
// bytes bytes [(user)]"): no network.transport, and no network.bytes on
// 302018. Not new in c86180a, but the commit's ICMP addition left the
// other connection message of the 302013-302021 range without its
// transport. Expected: network.transport gre; network.bytes 1000.
func TestAsaGRE(t *testing.T) {
	n := dissectStarter(t)
	var p fastjson.Parser
	for _, c := range []struct{ line, want string }{
		{"Built inbound GRE connection 2345 from outside:203.0.113.9 (203.0.113.9) to inside:10.0.0.5/0 (10.0.0.5/0)", `"transport":"gre"`},
		{"Teardown GRE connection 2345 from outside:203.0.113.9/0 to inside:10.0.0.5/0 duration 0:00:10 bytes 1000", `"bytes":1000`},
	} {
		out := appendAs(t, n, &p, `{"message":"`+c.line+`"}`, "cisco.asa")
		if !strings.Contains(out, `"transport":"gre"`) || !strings.Contains(out, c.want) {
			t.Errorf("%s:\n got: %s\nwant network.transport gre and %s", c.line, out, c.want)
		}
	}
}

// TestIPv4Kind: the stricter ipv4 kind, checked against Go's
// netip.ParseAddr (RFC 791 dotted decimal, 0-255, no leading zeros). This
// one passes: kept as a guard for the values around the bounds.
func TestIPv4Kind(t *testing.T) {
	k := dkey{kind: keyIPv4}
	for v, want := range map[string]bool{
		"0.0.0.0": true, "255.255.255.255": true, "10.0.0.1": true, "1.2.3.4": true, " 1.2.3.4\t": true,
		"256.1.1.1": false, "1.2.3.4.": false, ".1.2.3": false, "1..2.3": false, "1.2.3": false, "1.2.3.4.5": false,
		"01.2.3.4": false, "1.2.3.00": false, "1.2.3.4a": false, "": false, "1.2.3.-1": false,
	} {
		if got := k.takes([]byte(v)); got != want {
			t.Errorf("ipv4 takes %q = %v, want %v", v, got, want)
		}
	}
}
