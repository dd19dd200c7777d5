package loadgen

import "time"

// finding is a GuardDuty finding type.
type finding struct {
	typ, title, desc string
	severity         float64
	action           int // one of the gd* action shapes
	port             int
}

const (
	gdPortProbe = iota
	gdNetworkConnection
	gdDNSRequest
	gdAPICall
)

var findings = []finding{
	{"Recon:EC2/PortProbeUnprotectedPort", "Unprotected port on EC2 instance is being probed.",
		"EC2 instance has an unprotected port which is being probed by a known malicious host.", 2, gdPortProbe, 22},
	{"Recon:EC2/PortProbeUnprotectedPort", "Unprotected port on EC2 instance is being probed.",
		"EC2 instance has an unprotected port which is being probed by a known malicious host.", 2, gdPortProbe, 3389},
	{"UnauthorizedAccess:EC2/SSHBruteForce", "SSH brute force attacks against an EC2 instance.",
		"EC2 instance has been involved in SSH brute force attacks.", 2, gdNetworkConnection, 22},
	{"UnauthorizedAccess:EC2/TorClient", "EC2 instance is communicating with Tor Entry/Guard Nodes.",
		"EC2 instance is making connections to a Tor Entry/Guard node.", 8, gdNetworkConnection, 9001},
	{"CryptoCurrency:EC2/BitcoinTool.B!DNS", "Bitcoin-related domain name queried by EC2 instance.",
		"EC2 instance is querying a domain name that is associated with Bitcoin-related activity.", 8, gdDNSRequest, 53},
	{"Backdoor:EC2/C&CActivity.B!DNS", "Command and Control server domain name queried by EC2 instance.",
		"EC2 instance is querying a domain name associated with a known Command & Control server.", 8, gdDNSRequest, 53},
	{"Discovery:IAMUser/AnomalousBehavior", "API commonly used in Discovery tactics was invoked.",
		"APIs commonly used in Discovery tactics were invoked in an anomalous way.", 5, gdAPICall, 0},
	{"UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "Credentials for an EC2 instance role used from an external IP address.",
		"Credentials created for an EC2 instance were used from an external IP address.", 8, gdAPICall, 0},
}

var gdAPIs = []struct{ name, service string }{
	{"ListBuckets", "s3.amazonaws.com"}, {"GetCallerIdentity", "sts.amazonaws.com"},
	{"DescribeInstances", "ec2.amazonaws.com"}, {"ListUsers", "iam.amazonaws.com"},
}

var gdDomains = []string{"pool.minexmr.com", "xmr-eu1.nanopool.org", "update-check.top", "x7kq2p.duckdns.org"}

type geoInfo struct{ city, country, code, asn, org string }

var geo = []geoInfo{
	{"Amsterdam", "Netherlands", "NL", "14061", "DigitalOcean, LLC"},
	{"Moscow", "Russia", "RU", "49505", "Selectel"},
	{"Shanghai", "China", "CN", "4812", "China Telecom Group"},
	{"Sao Paulo", "Brazil", "BR", "28573", "Claro NXT"},
	{"Ashburn", "United States", "US", "14618", "Amazon.com, Inc."},
	{"Frankfurt am Main", "Germany", "DE", "24940", "Hetzner Online GmbH"},
	{"Hanoi", "Vietnam", "VN", "7552", "Viettel Group"},
}

// guardDuty appends a GuardDuty finding as GetFindings and the S3 export
// deliver it.
func (m *Mix) guardDuty(b []byte) []byte {
	f := &findings[m.n(len(findings))]
	s := m.server()
	acct := &m.w.accounts[s.account]
	region := awsRegions[s.region]
	g := &geo[m.n(len(geo))]
	m.lastHost = gdHosts[s.region]
	first := m.now - int64(60+m.n(86400))*int64(time.Second)
	count := 1 + m.skew(400)

	b = append(b, `{"schemaVersion":"2.0","accountId":"`...)
	b = append(b, acct.id...)
	b = append(b, `","region":"`...)
	b = append(b, region...)
	b = append(b, `","partition":"aws","id":"`...)
	id := len(b)
	b = m.appendRandHex(b, 32)
	idEnd := len(b)
	b = append(b, `","arn":"arn:aws:guardduty:`...)
	b = append(b, region...)
	b = append(b, ':')
	b = append(b, acct.id...)
	b = append(b, `:detector/`...)
	b = append(b, acct.detector...)
	b = append(b, `/finding/`...)
	b = append(b, b[id:idEnd]...)
	b = append(b, `","type":"`...)
	b = append(b, f.typ...)
	b = append(b, `","resource":{`...)
	if f.action == gdAPICall {
		u := m.user()
		b = append(b, `"resourceType":"AccessKey","accessKeyDetails":{"accessKeyId":"ASIA`...)
		b = m.appendAlpha(b, base62[:36], 16)
		b = append(b, `","principalId":"`...)
		b = append(b, m.w.roleIDs[0]...)
		b = append(b, ':')
		b = append(b, u.email...)
		b = append(b, `","userName":"`...)
		b = append(b, roleNames[0]...)
		b = append(b, `","userType":"AssumedRole"}}`...)
	} else {
		b = append(b, `"resourceType":"Instance","instanceDetails":{"instanceId":"`...)
		b = append(b, s.instanceID...)
		b = append(b, `","instanceType":"`...)
		b = append(b, pickS(m, []string{"t3.medium", "m6i.large", "c6g.xlarge", "r6i.2xlarge"})...)
		b = append(b, `","imageId":"`...)
		b = append(b, s.ami...)
		b = append(b, `","availabilityZone":"`...)
		b = append(b, region...)
		b = append(b, 'a'+byte(m.n(3)))
		b = append(b, `","networkInterfaces":[{"privateIpAddress":"`...)
		b = append(b, s.ip...)
		b = append(b, `","publicIp":"`...)
		b = appendIPv4(b, pickS(m, []int{3, 18, 34, 52, 54}), m.n(256), m.n(256), 1+m.n(254))
		b = append(b, `"}],"tags":[{"key":"Name","value":"`...)
		b = append(b, s.name...)
		b = append(b, `"}]}}`...)
	}
	b = append(b, `,"service":{"serviceName":"guardduty","detectorId":"`...)
	b = append(b, acct.detector...)
	b = append(b, `","action":{`...)
	switch f.action {
	case gdPortProbe:
		b = append(b, `"actionType":"PORT_PROBE","portProbeAction":{"blocked":false,"portProbeDetails":[{"localPortDetails":{"port":`...)
		b = appendInt(b, f.port)
		b = append(b, `},"remoteIpDetails":{"ipAddressV4":"`...)
		b = append(b, pickS(m, m.w.attacker)...)
		b = m.appendGeo(b, g)
		b = append(b, `}}]}`...)
	case gdNetworkConnection:
		b = append(b, `"actionType":"NETWORK_CONNECTION","networkConnectionAction":{"connectionDirection":"INBOUND","protocol":"TCP","blocked":false,"localPortDetails":{"port":`...)
		b = appendInt(b, f.port)
		b = append(b, `},"remoteIpDetails":{"ipAddressV4":"`...)
		b = append(b, pickS(m, m.w.attacker)...)
		b = m.appendGeo(b, g)
		b = append(b, `}}`...)
	case gdDNSRequest:
		b = append(b, `"actionType":"DNS_REQUEST","dnsRequestAction":{"domain":"`...)
		b = append(b, pickS(m, gdDomains)...)
		b = append(b, `","protocol":"UDP","blocked":false}`...)
	case gdAPICall:
		b = append(b, `"actionType":"AWS_API_CALL","awsApiCallAction":{"api":"`...)
		api := &gdAPIs[m.n(len(gdAPIs))]
		b = append(b, api.name...)
		b = append(b, `","serviceName":"`...)
		b = append(b, api.service...)
		b = append(b, `","callerType":"Remote IP","remoteIpDetails":{"ipAddressV4":"`...)
		b = append(b, pickS(m, m.w.attacker)...)
		b = m.appendGeo(b, g)
		b = append(b, `}}`...)
	}
	b = append(b, `},"resourceRole":"TARGET","eventFirstSeen":"`...)
	b = appendTS(b, first, 0, 0, zoneZ)
	b = append(b, `","eventLastSeen":"`...)
	b = appendTS(b, m.now-int64(m.n(60))*int64(time.Second), 0, 0, zoneZ)
	b = append(b, `","archived":false,"count":`...)
	b = appendInt(b, count)
	b = append(b, `},"severity":`...)
	b = appendFloat(b, f.severity, 1)
	b = append(b, `,"createdAt":"`...)
	b = appendTS(b, first+int64(m.n(300))*int64(time.Second), 3, 0, zoneZ)
	b = append(b, `","updatedAt":"`...)
	b = appendTS(b, m.now, 3, 0, zoneZ)
	b = append(b, `","title":"`...)
	b = append(b, f.title...)
	b = append(b, `","description":"`...)
	b = append(b, f.desc...)
	return append(b, `"}`...)
}

// appendGeo closes the ipAddressV4 string and appends GuardDuty's enrichment
// of a remote address.
func (m *Mix) appendGeo(b []byte, g *geoInfo) []byte {
	b = append(b, `","country":{"countryName":"`...)
	b = append(b, g.country...)
	b = append(b, `"},"city":{"cityName":"`...)
	b = append(b, g.city...)
	b = append(b, `"},"organization":{"asn":"`...)
	b = append(b, g.asn...)
	b = append(b, `","asnOrg":"`...)
	b = append(b, g.org...)
	return append(b, `"}`...)
}

var gdHosts = []string{"guardduty.us-east-1.amazonaws.com", "guardduty.eu-central-1.amazonaws.com", "guardduty.us-west-2.amazonaws.com"}

// apiCall is a CloudTrail event shape.
type apiCall struct {
	source, name string
	readOnly     bool
	data         bool // a data event (S3 object level, Lambda Invoke)
	params       string
}

var apiCalls = []apiCall{
	{"ec2.amazonaws.com", "DescribeInstances", true, false, `{"instancesSet":{},"filterSet":{}}`},
	{"s3.amazonaws.com", "GetObject", true, true, `{"bucketName":"acme-prod-invoices","Host":"acme-prod-invoices.s3.us-east-1.amazonaws.com","key":"2026/11/inv-88213.pdf"}`},
	{"s3.amazonaws.com", "PutObject", false, true, `{"bucketName":"acme-prod-backups","Host":"acme-prod-backups.s3.us-east-1.amazonaws.com","key":"pg/base/000000010000A2B4.gz"}`},
	{"sts.amazonaws.com", "AssumeRole", true, false, `{"roleArn":"arn:aws:iam::730519284476:role/terraform-ci","roleSessionName":"terraform-1795","durationSeconds":3600}`},
	{"sts.amazonaws.com", "GetCallerIdentity", true, false, `null`},
	{"iam.amazonaws.com", "ListRoles", true, false, `{"maxItems":100}`},
	{"iam.amazonaws.com", "CreateAccessKey", false, false, `{"userName":"svc-reporting"}`},
	{"kms.amazonaws.com", "Decrypt", true, false, `{"encryptionAlgorithm":"SYMMETRIC_DEFAULT","keyId":"alias/prod-secrets"}`},
	{"ssm.amazonaws.com", "GetParameter", true, false, `{"name":"/prod/db/password","withDecryption":true}`},
	{"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", false, false, `{"groupId":"sg-0a1b2c3d4e5f60718","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]}}]}}`},
	{"logs.amazonaws.com", "CreateLogStream", false, false, `{"logGroupName":"/aws/lambda/invoice-processor","logStreamName":"2026/11/28/[$LATEST]4f1c"}`},
	{"signin.amazonaws.com", "ConsoleLogin", false, false, `null`},
	{"guardduty.amazonaws.com", "ListFindings", true, false, `{"detectorId":"6cc6a0f1b2c3d4e5f60718293a4b5c6d","maxResults":50}`},
}

var awsUserAgents = []string{
	"aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/macos#24.1.0 md/arch#arm64 lang/python#3.12.6",
	"Boto3/1.35.71 md/Botocore#1.35.71 ua/2.0 os/linux#6.1.115 lang/python#3.12.7",
	"aws-sdk-go-v2/1.32.5 os/linux lang/go#1.23.3 md/GOOS#linux md/GOARCH#amd64",
	"APN/1.0 HashiCorp/1.0 Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-aws/5.78.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
}

// cloudTrail appends one CloudTrail record (an element of Records[]).
func (m *Mix) cloudTrail(b []byte) []byte {
	c := &apiCalls[m.skew(len(apiCalls))]
	s := m.server()
	acct := &m.w.accounts[s.account]
	region := awsRegions[s.region]
	if c.source == "signin.amazonaws.com" || c.source == "iam.amazonaws.com" {
		region = "us-east-1"
	}
	m.lastHost = "cloudtrail.amazonaws.com"
	role := m.n(len(roleNames))
	u := m.user()
	console := c.name == "ConsoleLogin"
	switch {
	case console:
		role = m.n(3) // people sign in through IAM Identity Center
	case c.name == "AuthorizeSecurityGroupIngress":
		role = 6 // network changes go through infrastructure as code
	}
	b = append(b, `{"eventVersion":"1.10","userIdentity":{"type":"AssumedRole","principalId":"`...)
	b = append(b, m.w.roleIDs[role]...)
	b = append(b, ':')
	if role < 3 {
		b = append(b, u.email...)
	} else {
		b = append(b, s.instanceID...) // a workload's session: its instance
	}
	b = append(b, `","arn":"arn:aws:sts::`...)
	b = append(b, acct.id...)
	b = append(b, `:assumed-role/`...)
	b = append(b, roleNames[role]...)
	b = append(b, '/')
	if role < 3 {
		b = append(b, u.email...)
	} else {
		b = append(b, s.instanceID...)
	}
	b = append(b, `","accountId":"`...)
	b = append(b, acct.id...)
	b = append(b, `","accessKeyId":"ASIA`...)
	b = m.appendAlpha(b, base62[:36], 16)
	b = append(b, `","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"`...)
	b = append(b, m.w.roleIDs[role]...)
	b = append(b, `","arn":"arn:aws:iam::`...)
	b = append(b, acct.id...)
	b = append(b, `:role/`...)
	b = append(b, roleNames[role]...)
	b = append(b, `","accountId":"`...)
	b = append(b, acct.id...)
	b = append(b, `","userName":"`...)
	b = append(b, roleNames[role]...)
	b = append(b, `"},"attributes":{"creationDate":"`...)
	b = appendTS(b, m.now-int64(m.n(3600))*int64(time.Second), 0, 0, zoneZ)
	b = append(b, `","mfaAuthenticated":"false"}}},"eventTime":"`...)
	b = appendTS(b, m.now, 0, 0, zoneZ)
	b = append(b, `","eventSource":"`...)
	b = append(b, c.source...)
	b = append(b, `","eventName":"`...)
	b = append(b, c.name...)
	b = append(b, `","awsRegion":"`...)
	b = append(b, region...)
	b = append(b, `","sourceIPAddress":"`...)
	switch {
	case role >= 3 && role != 6:
		b = append(b, s.ip...)
	case m.chance(5):
		b = append(b, pickS(m, m.w.attacker)...)
	default:
		b = appendIPv4(b, 198, 51, 100, 10+m.n(20)) // office egress
	}
	b = append(b, `","userAgent":"`...)
	switch {
	case console:
		b = append(b, awsUserAgents[4]...)
	case role < 3: // people use the CLI and SDKs
		b = append(b, pickS(m, awsUserAgents[:3])...)
	case role == 6: // terraform-ci
		b = append(b, awsUserAgents[3]...)
	default: // workloads
		b = append(b, pickS(m, awsUserAgents[1:3])...)
	}
	b = append(b, '"')
	s3 := c.source == "s3.amazonaws.com"
	switch {
	case s3 && m.chance(5):
		b = append(b, `,"errorCode":"AccessDenied","errorMessage":"Access Denied"`...)
	case c.name == "DescribeInstances" && m.chance(5):
		b = append(b, `,"errorCode":"Client.UnauthorizedOperation","errorMessage":"You are not authorized to perform this operation."`...)
	}
	b = append(b, `,"requestParameters":`...)
	b = append(b, c.params...)
	if console {
		b = append(b, `,"responseElements":{"ConsoleLogin":"`...)
		b = append(b, pickS(m, []string{"Success", "Success", "Success", "Failure"})...)
		b = append(b, `"},"additionalEventData":{"MobileVersion":"No","MFAUsed":"Yes"}`...)
	} else {
		b = append(b, `,"responseElements":null`...)
	}
	b = append(b, `,"requestID":"`...)
	if s3 {
		b = m.appendAlpha(b, base62[:36], 16)
	} else {
		b = m.appendUUID(b)
	}
	b = append(b, `","eventID":"`...)
	b = m.appendUUID(b)
	if c.readOnly {
		b = append(b, `","readOnly":true`...)
	} else {
		b = append(b, `","readOnly":false`...)
	}
	switch {
	case console:
		b = append(b, `,"eventType":"AwsConsoleSignIn","managementEvent":true,"eventCategory":"Management"`...)
	case c.data:
		b = append(b, `,"eventType":"AwsApiCall","managementEvent":false,"eventCategory":"Data"`...)
	default:
		b = append(b, `,"eventType":"AwsApiCall","managementEvent":true,"eventCategory":"Management"`...)
	}
	b = append(b, `,"recipientAccountId":"`...)
	b = append(b, acct.id...)
	b = append(b, `","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
	b = append(b, c.source[:len(c.source)-len("amazonaws.com")]...)
	b = append(b, region...)
	return append(b, `.amazonaws.com"}}`...)
}
