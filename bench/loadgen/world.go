package loadgen

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
)

// world is the synthetic organisation every Mix draws from: it is built once,
// from a fixed seed, so that streams of different seeds describe the same
// users, hosts and accounts, and it is read-only afterwards.
type world struct {
	users    []user
	ws       []endpoint // workstations and laptops
	servers  []server
	files    []fileInfo // executables seen in FDR telemetry
	malware  []string   // SHA-256 of files detections point at
	attacker []string   // external addresses that keep coming back
	cid      string     // Falcon customer id
	accounts []awsAccount
	roleIDs  []string // AROA... ids of the assumed roles
}

type user struct {
	sam, display, email, oktaID, sid string
	uid                              int // Linux uid
	ws                               int // index of the primary workstation
}

type endpoint struct {
	name, ip, mac, aid string
	platform           string // Win, Mac
}

type server struct {
	name, ip, aid, instanceID, ami, uuid string
	off                                  int // syslog time zone, minutes east of UTC
	account, region                      int // indexes into accounts, regions
	os                                   int // index into vulnOS
}

type fileInfo struct {
	image, cmd, sha256, md5, parent string
}

type awsAccount struct {
	id, detector, alias string
}

var (
	worldOnce sync.Once
	theWorld  *world
)

func getWorld() *world {
	worldOnce.Do(func() { theWorld = buildWorld() })
	return theWorld
}

func buildWorld() *world {
	r := rand.New(rand.NewPCG(20261128, 1))
	hex := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteByte(hexDigits[r.IntN(16)])
		}
		return sb.String()
	}
	alpha := func(alphabet string, n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteByte(alphabet[r.IntN(len(alphabet))])
		}
		return sb.String()
	}
	mac := func(oui string) string {
		return oui + ":" + hex(2) + ":" + hex(2) + ":" + hex(2)
	}
	w := &world{cid: hex(32)}

	// Workstations: corporate naming, some unrenamed laptops.
	prefixes := []string{"FIN", "ENG", "HR", "MKT", "OPS", "SALES", "LEGAL", "IT", "SEC", "EXEC"}
	for i := range 600 {
		var name string
		switch {
		case i%17 == 5:
			name = "DESKTOP-" + strings.ToUpper(alpha(base62[:36], 7))
		case i%3 == 0:
			name = prefixes[i%len(prefixes)] + "-WS-" + strconv.Itoa(1000+i*7%9000)
		default:
			name = prefixes[i%len(prefixes)] + "-LT-" + strconv.Itoa(1000+i*13%9000)
		}
		platform := "Win"
		if i%9 == 4 {
			platform = "Mac"
		}
		w.ws = append(w.ws, endpoint{
			name:     name,
			ip:       "10." + strconv.Itoa(20+i/240) + "." + strconv.Itoa(i%240/10*10+r.IntN(8)) + "." + strconv.Itoa(10+r.IntN(240)),
			mac:      mac(pickStr(r, []string{"3c:52:82", "f8:75:a4", "8c:16:45", "a4:83:e7", "00:15:5d"})),
			aid:      hex(32),
			platform: platform,
		})
	}

	// Users: first.last@example.com, sam = first initial + last name.
	for i := range 600 {
		f := firstNames[r.IntN(len(firstNames))]
		l := lastNames[r.IntN(len(lastNames))]
		sam := strings.ToLower(f[:1] + l)
		if i >= 300 {
			sam += strconv.Itoa(i % 100)
		}
		local := strings.ToLower(f + "." + l)
		if i >= 300 {
			local += strconv.Itoa(i % 100)
		}
		w.users = append(w.users, user{
			sam:     sam,
			display: f + " " + l,
			email:   local + "@example.com",
			oktaID:  "00u" + alpha(base62, 17),
			sid:     "S-1-5-21-3623811015-3361044348-30300820-" + strconv.Itoa(1104+i),
			uid:     1001 + i,
			ws:      i,
		})
	}

	w.accounts = []awsAccount{
		{id: "418295730164", detector: hex(32), alias: "acme-prod"},
		{id: "730519284476", detector: hex(32), alias: "acme-staging"},
		{id: "902384615527", detector: hex(32), alias: "acme-security"},
	}
	for range roleNames {
		w.roleIDs = append(w.roleIDs, "AROA"+strings.ToUpper(alpha(base62[:36], 17)))
	}

	// Servers: Linux fleet in AWS and two data centres.
	offs := []int{0, 0, 0, 60, 60, -300, -300, -480, 330}
	for i := range 150 {
		role := serverRoles[i%len(serverRoles)]
		w.servers = append(w.servers, server{
			name:       role + "-" + pickStr(r, []string{"prod", "prod", "stg"}) + "-" + appendPadS(1+i/len(serverRoles), 2),
			ip:         "10." + strconv.Itoa(100+i%4) + "." + strconv.Itoa(r.IntN(16)) + "." + strconv.Itoa(4+r.IntN(250)),
			aid:        hex(32),
			instanceID: "i-0" + hex(16),
			ami:        "ami-0" + hex(16),
			uuid:       string(appendUUID(nil, r.Uint64(), r.Uint64())),
			os:         r.IntN(len(vulnOS)),
			off:        offs[i%len(offs)],
			account:    i % 2,
			region:     i % len(awsRegions),
		})
	}

	for _, p := range processes {
		w.files = append(w.files, fileInfo{image: p.image, cmd: p.cmd, parent: p.parent, sha256: hex(64), md5: hex(32)})
	}
	for range 200 {
		w.malware = append(w.malware, hex(64))
	}
	pub := []int{23, 31, 37, 45, 46, 62, 77, 80, 85, 89, 91, 92, 93, 103, 104, 109, 116, 139, 141, 146, 159, 162, 167, 176, 178, 179, 185, 188, 193, 194, 195, 212, 213, 217}
	for range 96 {
		w.attacker = append(w.attacker, strconv.Itoa(pub[r.IntN(len(pub))])+"."+strconv.Itoa(r.IntN(256))+"."+strconv.Itoa(r.IntN(256))+"."+strconv.Itoa(1+r.IntN(254)))
	}
	return w
}

func pickStr(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

func appendPadS(v, width int) string { return string(appendPad(nil, v, width)) }

// Helpers drawing from the world.

func (m *Mix) user() *user         { return &m.w.users[m.skew(len(m.w.users))] }
func (m *Mix) endpoint() *endpoint { return &m.w.ws[m.skew(len(m.w.ws))] }
func (m *Mix) server() *server     { return &m.w.servers[m.skew(len(m.w.servers))] }

// appendPublicIP appends an Internet address: a known bad actor a quarter of
// the time, else anything plausible.
func (m *Mix) appendPublicIP(b []byte) []byte {
	if m.chance(25) {
		return append(b, pickS(m, m.w.attacker)...)
	}
	return appendIPv4(b, pickS(m, publicFirstOctets), m.n(256), m.n(256), 1+m.n(254))
}

// appendDestIP appends a popular Internet destination (SaaS, CDN) or a random
// one.
func (m *Mix) appendDestIP(b []byte) []byte {
	if m.chance(60) {
		return append(b, pickS(m, popularIPs)...)
	}
	return appendIPv4(b, pickS(m, publicFirstOctets), m.n(256), m.n(256), 1+m.n(254))
}

var publicFirstOctets = []int{3, 13, 18, 20, 23, 34, 35, 40, 44, 52, 54, 64, 66, 72, 74, 81, 87, 94, 104, 108, 140, 142, 151, 157, 172, 184, 199, 204, 216}

var popularIPs = []string{
	"142.250.185.78", "142.250.74.110", "172.217.16.142", "13.107.42.14", "20.190.159.2",
	"52.96.165.18", "40.126.32.134", "104.16.132.229", "104.18.32.7", "151.101.1.69",
	"151.101.65.140", "199.232.58.133", "23.45.190.36", "184.25.56.123", "52.216.204.21",
	"54.231.193.44", "3.5.17.203", "18.165.83.44", "140.82.121.4", "140.82.114.25",
	"185.199.108.133", "34.107.221.82", "35.190.80.1", "8.8.8.8", "1.1.1.1",
	"17.253.144.10", "31.13.92.36", "157.240.221.35", "13.32.99.97", "52.84.151.12",
}

var firstNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Chris", "Karen",
	"Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley", "Steven", "Emily",
	"Priya", "Wei", "Olga", "Mohammed", "Fatima", "Hiroshi", "Ana", "Lukas", "Sofia", "Mateo",
	"Aisha", "Jan", "Noah", "Chloe", "Raj", "Ingrid", "Pierre", "Elena",
}

var lastNames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
	"Thompson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen", "King", "Wright",
	"Patel", "Chen", "Kowalski", "Nguyen", "Muller", "Rossi", "Dubois", "Tanaka", "Silva", "Schmidt",
	"Ivanova", "Okafor", "Larsen", "Novak", "Fischer", "Kim",
}

var serverRoles = []string{"web", "api", "db-pg", "redis", "k8s-node", "bastion", "jenkins", "kafka", "es-data", "vpn-gw", "mail-relay", "ldap"}

var awsRegions = []string{"us-east-1", "eu-central-1", "us-west-2"}

var roleNames = []string{
	"AWSReservedSSO_Admin_4b1c3f2e8d9a7b6c",
	"AWSReservedSSO_ReadOnly_9e2d7c1b5a3f8e4d",
	"AWSReservedSSO_Dev_2c8b4e6f1d7a9c3e",
	"github-actions-deploy",
	"eks-node-group-prod",
	"lambda-invoice-processor",
	"terraform-ci",
	"SecurityAudit-Prowler",
}

// processes is the software inventory FDR ProcessRollup2 events report.
var processes = []struct{ image, cmd, parent string }{
	{`\Device\HarddiskVolume3\Windows\System32\svchost.exe`, `C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule`, `services.exe`},
	{`\Device\HarddiskVolume3\Windows\System32\svchost.exe`, `C:\Windows\System32\svchost.exe -k NetworkService -p -s Dnscache`, `services.exe`},
	{`\Device\HarddiskVolume3\Program Files\Google\Chrome\Application\chrome.exe`, `"C:\Program Files\Google\Chrome\Application\chrome.exe" --type=renderer --lang=en-US --num-raster-threads=4`, `chrome.exe`},
	{`\Device\HarddiskVolume3\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, `"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe" --type=utility --utility-sub-type=network.mojom.NetworkService`, `msedge.exe`},
	{`\Device\HarddiskVolume3\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, `powershell.exe -ExecutionPolicy Bypass -File C:\ProgramData\Intune\Scripts\compliance.ps1`, `AgentExecutor.exe`},
	{`\Device\HarddiskVolume3\Windows\System32\cmd.exe`, `C:\Windows\system32\cmd.exe /c "git rev-parse --abbrev-ref HEAD"`, `Code.exe`},
	{`\Device\HarddiskVolume3\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`, `"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE" /recycle`, `explorer.exe`},
	{`\Device\HarddiskVolume3\Program Files\Microsoft Office\root\Office16\EXCEL.EXE`, `"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE" /dde`, `explorer.exe`},
	{`\Device\HarddiskVolume3\Users\Public\AppData\Local\Microsoft\Teams\current\Teams.exe`, `"C:\Users\Public\AppData\Local\Microsoft\Teams\current\Teams.exe" --process-start-args "--profile=AAD"`, `explorer.exe`},
	{`\Device\HarddiskVolume3\Windows\System32\conhost.exe`, `\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`, `cmd.exe`},
	{`\Device\HarddiskVolume3\Windows\System32\rundll32.exe`, `C:\Windows\system32\rundll32.exe C:\Windows\system32\PcaSvc.dll,PcaPatchSdbTask`, `svchost.exe`},
	{`\Device\HarddiskVolume3\Windows\System32\wbem\WmiPrvSE.exe`, `C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`, `svchost.exe`},
	{`\Device\HarddiskVolume3\Program Files\Git\cmd\git.exe`, `"C:\Program Files\Git\cmd\git.exe" fetch --prune origin`, `Code.exe`},
	{`\Device\HarddiskVolume3\Windows\System32\taskhostw.exe`, `taskhostw.exe Install $(Arg0)`, `svchost.exe`},
	{`\Device\HarddiskVolume3\Windows\System32\SearchProtocolHost.exe`, `"C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe5_ Global\UsGthrCtrlFltPipeMssGthrPipe5 1`, `SearchIndexer.exe`},
	{`\Device\HarddiskVolume3\Windows\System32\msiexec.exe`, `C:\Windows\System32\MsiExec.exe -Embedding 6F2A1C0E9B4D3A8F7E6D5C4B3A291807`, `msiexec.exe`},
	{`/usr/bin/curl`, `curl -fsSL https://packages.example.com/repo/gpg.key`, `bash`},
	{`/usr/bin/python3.11`, `/usr/bin/python3 /opt/app/manage.py runworker --queue default`, `systemd`},
	{`/usr/sbin/sshd`, `sshd: deploy [priv]`, `sshd`},
	{`/usr/bin/sudo`, `sudo systemctl restart nginx`, `bash`},
}
