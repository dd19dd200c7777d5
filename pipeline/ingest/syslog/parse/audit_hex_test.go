package parse

import (
	"testing"

	"github.com/valyala/fastjson"
)

// TestAuditHexStrings: auditd writes the strings a user controls quoted,
// or hex-encoded when they hold a space, a quote or a control character.
// An account "john doe" is acct=6A6F686E20646F65; a proctitle's arguments
// are NUL-separated. Bare hex values of those keys are decoded; quoted
// values, other keys and values that are not all upper-case hex are not.
func TestAuditHexStrings(t *testing.T) {
	for _, tc := range []struct {
		msg, key, want string
	}{
		{`<86>Nov 28 10:00:00 h audispd: type=USER_AUTH msg=audit(1795860000.123:456): pid=1 uid=0 msg='op=PAM:authentication acct=6A6F686E20646F65 exe="/usr/sbin/sshd" res=failed'`, "acct", "john doe"},
		{`<86>Nov 28 10:00:00 h audispd: type=USER_AUTH msg=audit(1795860000.123:456): pid=1 uid=0 msg='op=PAM:authentication acct="root" exe="/usr/sbin/sshd" res=failed'`, "acct", "root"},
		{`<86>Nov 28 10:00:00 h audit: type=PROCTITLE msg=audit(1795860000.123:457): proctitle=6375726C00687474703A2F2F78`, "proctitle", "curl http://x"},
		{`<86>Nov 28 10:00:00 h audit: type=SYSCALL msg=audit(1795860000.123:458): arch=c000003e syscall=59 success=yes pid=42 key=BEEF comm="bash"`, "key", "BEEF"},
		{`<86>Nov 28 10:00:00 h audit: type=SYSCALL msg=audit(1795860000.123:459): arch=c000003e syscall=59 success=yes pid=42 comm=ABC exe="/bin/x"`, "comm", "ABC"},
	} {
		p := newTestParser()
		out, _ := p.AppendJSON(nil, []byte(tc.msg))
		v, err := fastjson.ParseBytes(out)
		if err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		got := string(v.GetStringBytes(tc.key))
		if tc.key == "acct" {
			got = string(v.GetStringBytes("acct"))
			if got == "" {
				got = string(v.GetStringBytes("user", "name"))
			}
		}
		if got != tc.want {
			t.Errorf("%s: %s = %q, want %q\n%s", tc.msg, tc.key, got, tc.want, out)
		}
	}
}
