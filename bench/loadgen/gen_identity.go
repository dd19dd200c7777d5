package loadgen

import "time"

var bruteUsers = []string{"admin", "root", "test", "oracle", "ubuntu", "user", "postgres", "git", "ftpuser", "pi", "deploy", "support"}

var sudoCommands = []string{
	"/usr/bin/systemctl restart nginx",
	"/usr/bin/journalctl -u kubelet --since -1h",
	"/usr/bin/apt-get upgrade -y",
	"/usr/bin/docker ps -a",
	"/bin/cat /etc/shadow",
	"/usr/bin/vim /etc/ssh/sshd_config",
}

// linuxAuth appends an sshd, sudo, su or systemd-logind event as a log
// shipper (Vector, Fluent Bit) sends /var/log/auth.log lines.
func (m *Mix) linuxAuth(b []byte) []byte {
	s := m.server()
	u := m.user()
	m.lastHost = s.name
	b = append(b, `{"timestamp":"`...)
	if s.off == 0 {
		b = appendTS(b, m.now, 6, 0, zoneZ)
	} else {
		b = appendTS(b, m.now, 6, s.off, zoneColon)
	}
	b = append(b, `","host":"`...)
	b = append(b, s.name...)
	r, k := m.n(100), m.n(10)
	program, severity := "CRON", "info"
	switch {
	case r < 70:
		program = "sshd"
	case r < 85:
		program, severity = "sudo", "notice"
		if k >= 8 {
			severity = "alert"
		}
	case r < 90:
		program = "su"
	case r < 96:
		program = "systemd-logind"
	}
	b = append(b, `","program":"`...)
	b = append(b, program...)
	b = append(b, `","pid":`...)
	b = appendInt(b, 1000+m.n(4_000_000))
	b = append(b, `,"facility":"`...)
	if program == "CRON" || program == "sudo" {
		b = append(b, `authpriv`...)
	} else {
		b = append(b, `auth`...)
	}
	b = append(b, `","severity":"`...)
	b = append(b, severity...)
	b = append(b, `","message":"`...)
	switch program {
	case "sshd":
		attacker := pickS(m, m.w.attacker)
		switch {
		case k < 3:
			b = append(b, `Failed password for invalid user `...)
			b = append(b, pickS(m, bruteUsers)...)
			b = append(b, ` from `...)
			b = append(b, attacker...)
			b = append(b, ` port `...)
			b = m.appendEphemeral(b)
			b = append(b, ` ssh2`...)
		case k < 5:
			b = append(b, `Invalid user `...)
			b = append(b, pickS(m, bruteUsers)...)
			b = append(b, ` from `...)
			b = append(b, attacker...)
			b = append(b, ` port `...)
			b = m.appendEphemeral(b)
		case k < 6:
			b = append(b, `Failed password for `...)
			b = append(b, u.sam...)
			b = append(b, ` from `...)
			b = append(b, m.w.ws[u.ws].ip...)
			b = append(b, ` port `...)
			b = m.appendEphemeral(b)
			b = append(b, ` ssh2`...)
		case k < 8:
			b = append(b, `Accepted publickey for `...)
			b = append(b, u.sam...)
			b = append(b, ` from `...)
			b = append(b, m.w.ws[u.ws].ip...)
			b = append(b, ` port `...)
			b = m.appendEphemeral(b)
			b = append(b, ` ssh2: ED25519 SHA256:`...)
			b = m.appendAlpha(b, base64Std, 43)
		case k < 9:
			b = append(b, `Received disconnect from `...)
			b = append(b, attacker...)
			b = append(b, ` port `...)
			b = m.appendEphemeral(b)
			b = append(b, `:11: Bye Bye [preauth]`...)
		default:
			b = append(b, `pam_unix(sshd:session): session opened for user `...)
			b = append(b, u.sam...)
			b = append(b, `(uid=`...)
			b = appendInt(b, u.uid)
			b = append(b, `) by (uid=0)`...)
		}
	case "sudo":
		if k < 8 {
			b = append(b, u.sam...)
			b = append(b, ` : TTY=pts/`...)
			b = appendInt(b, m.n(4))
			b = append(b, ` ; PWD=/home/`...)
			b = append(b, u.sam...)
			b = append(b, ` ; USER=root ; COMMAND=`...)
			b = append(b, pickS(m, sudoCommands)...)
		} else {
			b = append(b, u.sam...)
			b = append(b, ` : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/`...)
			b = append(b, u.sam...)
			b = append(b, ` ; USER=root ; COMMAND=/bin/bash`...)
		}
	case "su":
		b = append(b, `pam_unix(su-l:session): session opened for user postgres(uid=113) by `...)
		b = append(b, u.sam...)
		b = append(b, `(uid=`...)
		b = appendInt(b, u.uid)
		b = append(b, ')')
	case "systemd-logind":
		b = append(b, `New session `...)
		b = appendInt(b, 1000+m.n(90000))
		b = append(b, ` of user `...)
		b = append(b, u.sam...)
		b = append(b, '.')
	default:
		b = append(b, `pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)`...)
	}
	b = append(b, `","source_type":"file","file":"/var/log/auth.log","offset":`...)
	b = appendInt(b, 100000+m.n(1<<24))
	b = append(b, `,"host_ip":"`...)
	b = append(b, s.ip...)
	b = append(b, `","agent":{"type":"vector","version":"0.43.1"},"labels":{"env":"prod","dc":"`...)
	b = append(b, dcs[s.region]...)
	return append(b, `"}}`...)
}

var dcs = []string{"aws-use1", "fra1", "aws-usw2"}

// oktaEvent is an Okta System Log event type.
type oktaEvent struct {
	eventType, legacy, message, severity string
	failure, reason                      string
	sso                                  bool
}

var oktaEvents = []oktaEvent{
	{"user.session.start", "core.user_auth.login_success", "User login to Okta", "INFO", "", "", false},
	{"user.session.start", "core.user_auth.login_failed", "User login to Okta", "WARN", "FAILURE", "INVALID_CREDENTIALS", false},
	{"user.authentication.sso", "app.auth.sso", "User single sign on to app", "INFO", "", "", true},
	{"user.authentication.sso", "app.auth.sso", "User single sign on to app", "INFO", "", "", true},
	{"user.authentication.auth_via_mfa", "core.user.factor.attempt_success", "Authentication of user via MFA", "INFO", "", "", false},
	{"user.mfa.okta_verify.deny_push", "core.user.factor.attempt_fail", "User rejected Okta push verify", "WARN", "FAILURE", "PUSH_REJECTED", false},
	{"policy.evaluate_sign_on", "", "Evaluation of sign-on policy", "INFO", "ALLOW", "Sign-on policy evaluation resulted in ALLOW", false},
	{"user.session.end", "core.user_auth.logout_success", "User logout from Okta", "INFO", "", "", false},
	{"user.account.lock", "core.user.account.locked", "Max sign in attempts exceeded", "WARN", "", "", false},
}

var oktaApps = []struct{ id, name string }{
	{"0oa1x8k2vbTQ9pWy5697", "Salesforce.com"}, {"0oa2m4n6p8QR0sTu1697", "Slack"},
	{"0oa3b5c7d9EF1gHi2697", "AWS IAM Identity Center"}, {"0oa4j6k8l0MN2oPq3697", "GitHub Enterprise Cloud"},
	{"0oa5r7s9t1UV3wXy4697", "Workday"}, {"0oa6z8a0b2CD4eFg5697", "Zoom"},
}

var cities = []struct{ city, state, country, postal, lat, lon string }{
	{"Frankfurt am Main", "Hesse", "Germany", "60311", "50.1109", "8.6821"},
	{"New York", "New York", "United States", "10001", "40.7506", "-73.9972"},
	{"Berlin", "Land Berlin", "Germany", "10115", "52.5244", "13.4105"},
	{"London", "England", "United Kingdom", "EC1A", "51.5164", "-0.0930"},
	{"Singapore", "Singapore", "Singapore", "018989", "1.2929", "103.8547"},
	{"Austin", "Texas", "United States", "78701", "30.2711", "-97.7437"},
}

// okta appends an Okta System Log event as /api/v1/logs returns it.
func (m *Mix) okta(b []byte) []byte {
	ev := &oktaEvents[m.n(len(oktaEvents))]
	u := m.user()
	c := &cities[m.skew(len(cities))]
	m.lastHost = "example.okta.com"
	b = append(b, `{"uuid":"`...)
	b = m.appendUUID(b)
	b = append(b, `","published":"`...)
	b = appendTS(b, m.now, 3, 0, zoneZ)
	b = append(b, `","eventType":"`...)
	b = append(b, ev.eventType...)
	b = append(b, `","version":"0","severity":"`...)
	b = append(b, ev.severity...)
	b = append(b, `","legacyEventType":`...)
	if ev.legacy == "" {
		b = append(b, `null`...)
	} else {
		b = appendQ(b, ev.legacy)
	}
	b = append(b, `,"displayMessage":"`...)
	b = append(b, ev.message...)
	b = append(b, `","actor":{"id":"`...)
	b = append(b, u.oktaID...)
	b = append(b, `","type":"User","alternateId":"`...)
	b = append(b, u.email...)
	b = append(b, `","displayName":"`...)
	b = append(b, u.display...)
	b = append(b, `"},"client":{"userAgent":{"rawUserAgent":"`...)
	ua := m.n(4)
	b = append(b, userAgents[ua]...)
	b = append(b, `","os":"`...)
	b = append(b, [...]string{"Windows 10", "Mac OS X", "Windows 10", "iOS"}[ua]...)
	b = append(b, `","browser":"`...)
	b = append(b, [...]string{"CHROME", "SAFARI", "FIREFOX", "SAFARI"}[ua]...)
	b = append(b, `"},"zone":"null","device":"`...)
	if ua == 3 {
		b = append(b, `Mobile`...)
	} else {
		b = append(b, `Computer`...)
	}
	b = append(b, `","ipAddress":"`...)
	if ev.failure == "FAILURE" && m.chance(50) {
		b = append(b, pickS(m, m.w.attacker)...)
	} else {
		b = appendIPv4(b, 198, 51, 100, 10+m.n(20))
	}
	b = append(b, `","geographicalContext":{"city":"`...)
	b = append(b, c.city...)
	b = append(b, `","state":"`...)
	b = append(b, c.state...)
	b = append(b, `","country":"`...)
	b = append(b, c.country...)
	b = append(b, `","postalCode":"`...)
	b = append(b, c.postal...)
	b = append(b, `","geolocation":{"lat":`...)
	b = append(b, c.lat...)
	b = append(b, `,"lon":`...)
	b = append(b, c.lon...)
	b = append(b, `}}},"outcome":{"result":"`...)
	if ev.failure == "" {
		b = append(b, `SUCCESS","reason":null}`...)
	} else {
		b = append(b, ev.failure...)
		b = append(b, `","reason":"`...)
		b = append(b, ev.reason...)
		b = append(b, `"}`...)
	}
	b = append(b, `,"transaction":{"type":"WEB","id":"`...)
	b = m.appendAlpha(b, base62, 27)
	b = append(b, `","detail":{}},"authenticationContext":{"authenticationStep":0,"externalSessionId":"102`...)
	b = m.appendAlpha(b, base62, 22)
	b = append(b, `"},"securityContext":{"asNumber":7922,"asOrg":"comcast","isp":"comcast cable communications","domain":"comcast.net","isProxy":false}`...)
	if ev.sso {
		app := &oktaApps[m.skew(len(oktaApps))]
		b = append(b, `,"target":[{"id":"`...)
		b = append(b, app.id...)
		b = append(b, `","type":"AppInstance","alternateId":"`...)
		b = append(b, app.name...)
		b = append(b, `","displayName":"`...)
		b = append(b, app.name...)
		b = append(b, `"}]`...)
	} else {
		b = append(b, `,"target":null`...)
	}
	return append(b, '}')
}

var emailSubjects = []string{
	"RE: Q4 budget review",
	"Invoice INV-2026-88213 from Northwind Traders",
	"Your weekly Jira digest",
	"[Action required] Password expires in 3 days",
	"Meeting notes: platform sync",
	"Shared document: FY27 hiring plan.xlsx",
	"DocuSign: Please review and sign the NDA",
	"Urgent wire transfer request",
	"Your package could not be delivered - reschedule now",
	"Re: Re: customer escalation #48213",
	"Out of Office: Re: vendor onboarding",
	"[GitHub] A new SSH key was added to your account",
}

var externalSenders = []string{
	"billing@northwind-traders.com", "notifications@github.com", "jira@example.atlassian.net",
	"dse@docusign.net", "no-reply@accounts.google.com", "support@paypa1-secure.com",
	"ceo.office@examp1e.com", "tracking@dhl-parcel-info.net", "newsletter@techweekly.io",
}

var emailStatus = []string{"Delivered", "Delivered", "Delivered", "Delivered", "Delivered", "Delivered", "FilteredAsSpam", "Quarantined", "Expanded", "Failed"}

// email appends a Microsoft 365 message trace record (Get-MessageTrace, the
// Reporting Web Service MessageTrace report).
func (m *Mix) email(b []byte) []byte {
	u := m.user()
	m.lastHost = "reports.office365.com"
	inbound := m.chance(65)
	b = append(b, `{"Organization":"example.onmicrosoft.com","MessageId":"<`...)
	if inbound {
		b = m.appendRandHex(b, 24)
		b = append(b, `@`...)
		b = append(b, pickS(m, []string{"mail.gmail.com", "mx.northwind-traders.com", "smtp.sendgrid.net", "github.com"})...)
	} else {
		// Exchange Online: <{server}{32 hex}@{server}.namprd11.prod.outlook.com>
		var srv [13]byte
		server := append(append(srv[:0], "PH0PR11MB"...), '0'+byte(m.n(10)), '0'+byte(m.n(10)), '0'+byte(m.n(10)), '0'+byte(m.n(10)))
		b = append(b, server...)
		b = m.appendRandHex(b, 32)
		b = append(b, '@')
		b = append(b, server...)
		b = append(b, `.namprd11.prod.outlook.com`...)
	}
	b = append(b, `>","Received":"`...)
	b = appendTS(b, m.now, 7, 0, zoneZ)
	b = append(b, `","SenderAddress":"`...)
	if inbound {
		b = append(b, pickS(m, externalSenders)...)
	} else {
		b = append(b, u.email...)
	}
	b = append(b, `","RecipientAddress":"`...)
	if inbound {
		b = append(b, u.email...)
	} else {
		b = append(b, pickS(m, externalSenders[:5])...)
	}
	b = append(b, `","Subject":`...)
	b = appendQ(b, pickS(m, emailSubjects))
	b = append(b, `,"Status":"`...)
	b = append(b, pickS(m, emailStatus)...)
	b = append(b, `","ToIP":`...)
	if inbound {
		b = append(b, `null,"FromIP":"`...)
		b = m.appendPublicIP(b)
	} else {
		b = append(b, '"')
		b = m.appendDestIP(b)
		b = append(b, `","FromIP":"`...)
		b = appendIPv4(b, 40, 107, m.n(256), 1+m.n(254))
	}
	b = append(b, `","Size":`...)
	b = appendInt(b, 2000+m.skew(8_000_000))
	b = append(b, `,"MessageTraceId":"`...)
	b = m.appendUUID(b)
	b = append(b, `","StartDate":"`...)
	day := m.now - m.now%int64(24*time.Hour)
	b = appendTS(b, day-int64(24*time.Hour), 0, 0, zoneZ)
	b = append(b, `","EndDate":"`...)
	b = appendTS(b, day, 0, 0, zoneZ)
	b = append(b, `","Index":`...)
	b = appendInt(b, m.n(5000))
	b = append(b, `,"Direction":"`...)
	if inbound {
		b = append(b, `Inbound`...)
	} else {
		b = append(b, `Outbound`...)
	}
	return append(b, `"}`...)
}
