package syslog

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"time"
)

// Config is the syslog input (`inputs.syslog`). Each transport listens when
// its block is present (TLS also needs cert_file and key_file).
type Config struct {
	// Name labels the input in metrics and event metadata. Default "syslog".
	Name string     `yaml:"name"`
	UDP  *UDPConfig `yaml:"udp"`
	TCP  *TCPConfig `yaml:"tcp"`
	TLS  *TLSConfig `yaml:"tls"`
	// MaxMessageBytes bounds one message; longer ones are cut to it (or
	// quarantined, see OnOversize), counted, and the connection goes on.
	// Default 64 KiB.
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// OnOversize is "truncate" (default: keep the first max_message_bytes)
	// or "quarantine" (store those bytes in quarantine, deliver nothing).
	OnOversize string `yaml:"on_oversize"`
	// MaxConnections bounds concurrent TCP+TLS connections; past it new
	// connections are closed at once and counted. A TLS connection takes its
	// slot only once its handshake completed; handshakes in progress are
	// bounded separately, by the same number. Default 1024.
	MaxConnections int `yaml:"max_connections"`
	// MaxConnectionsPerIP bounds the TCP+TLS connections of one source
	// address, TLS handshakes in progress included; past it that address's
	// new connections are closed at once and counted, so that one host
	// cannot take every max_connections slot. Default 64 (a relay or a NAT
	// gateway that many senders share needs more); -1 lifts the bound.
	MaxConnectionsPerIP int `yaml:"max_connections_per_ip"`
	// IdleTimeout closes a connection that sent nothing for this long.
	// Default 10m. It is also how long a TCP peer that connects and never
	// sends holds its slot: senders such as rsyslog keep quiet connections
	// open for good, so it is not shortened for new connections; a short
	// value makes those senders reconnect more often, a long one lets idle
	// peers hold slots longer (max_connections_per_ip bounds each address).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// BatchEvents and BatchWait bound how long messages wait before they are
	// handed to the destinations' queues (per connection, per UDP socket).
	// Defaults 1000 and 50ms.
	BatchEvents int           `yaml:"batch_events"`
	BatchWait   time.Duration `yaml:"batch_wait"`
	// MaxInflightBytes bounds the messages all connections and UDP sockets
	// hold together, in batches being filled and batches waiting for the
	// destinations' queues (a refused batch is held and re-sent): once it
	// is spent, a connection hands its batch over at once and is not read
	// until the batch before it is accepted (TCP backpressure; UDP drops,
	// counted). Default a quarter of the memory limit (GOMEMLIMIT, set
	// from the container's), at least 64 MiB; 1 GiB without a limit.
	MaxInflightBytes int64 `yaml:"max_inflight_bytes"`
	// Timezone of RFC 3164 timestamps, which carry none (IANA name).
	// Default UTC.
	Timezone string `yaml:"timezone"`
	// SourceType applies to messages no vendor format was recognized in.
	// Default "syslog".
	SourceType string `yaml:"source_type"`
	// AppSourceTypes maps an APP-NAME/TAG (exact, case-sensitive) to the
	// source type of its messages, which then selects its normalization
	// profile: {myapp: app.myapp, filterlog: pfsense.filterlog}. It wins
	// over the built-in detection (sshd, sudo... -> linux.auth; CEF vendors).
	AppSourceTypes map[string]string `yaml:"app_source_types"`
	// MaxSenders bounds the per-sender parse-quality series; further senders
	// are counted as "other". Default 1000.
	MaxSenders int `yaml:"max_senders"`
	// KeepOriginal keeps the raw message as event.original when a payload
	// (JSON, CEF, LEEF, key=value, CSV) was extracted from it.
	KeepOriginal bool `yaml:"keep_original"`
}

// UDPConfig is the UDP listener.
type UDPConfig struct {
	Address string `yaml:"address"` // default ":5514"
	// ReceiveBufferBytes sizes the socket's kernel receive buffer (bursts
	// beyond it are dropped by the kernel and counted). Default 8 MiB; the
	// kernel caps it at net.core.rmem_max unless the process may force it.
	ReceiveBufferBytes int `yaml:"receive_buffer_bytes"`
	// Readers is how many sockets share the address (SO_REUSEPORT), each
	// read, parsed and normalized by a goroutine of its own: one reader
	// takes about one core, so a busy UDP port needs several. The kernel
	// spreads datagrams over the sockets by sender address and port, so
	// each sender's messages stay in order on one socket. Each socket has
	// its own receive_buffer_bytes. Default the CPUs the process may use
	// (a container's CPU limit), at most 8; always 1 outside Linux.
	Readers int `yaml:"readers"`
}

// maxUDPReaders bounds udp.readers.
const maxUDPReaders = 64

// TCPConfig is the plain TCP listener (RFC 6587 framing, auto-detected).
type TCPConfig struct {
	Address string `yaml:"address"` // default ":5514"
}

// TLSConfig is the TLS listener (RFC 5425), optionally with client
// certificates (mTLS).
type TLSConfig struct {
	Address  string `yaml:"address"` // default ":6514"
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
	// ClientCAFile, when set, verifies client certificates against it.
	ClientCAFile string `yaml:"client_ca_file"`
	// RequireClientCert refuses clients without a valid certificate.
	// Without it, client_ca_file only checks the certificates clients
	// choose to send (a warning is logged at start).
	RequireClientCert bool `yaml:"require_client_cert"`
	// HandshakeTimeout bounds the TLS handshake, which runs as soon as a
	// connection is accepted; a peer that has not completed it by then is
	// closed and counted. Default 10s; at most 1m.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
}

// maxHandshakeTimeout bounds tls.handshake_timeout: a longer one would let
// peers that never finish a handshake hold sockets as idle ones do.
const maxHandshakeTimeout = time.Minute

// SetDefaults fills unset fields.
func (c *Config) SetDefaults() {
	if c.Name == "" {
		c.Name = "syslog"
	}
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = 64 << 10
	}
	if c.OnOversize == "" {
		c.OnOversize = "truncate"
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = 1024
	}
	if c.MaxConnectionsPerIP == 0 {
		c.MaxConnectionsPerIP = 64
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 10 * time.Minute
	}
	if c.BatchEvents == 0 {
		c.BatchEvents = 1000
	}
	if c.BatchWait == 0 {
		c.BatchWait = 50 * time.Millisecond
	}
	if c.MaxInflightBytes == 0 {
		c.MaxInflightBytes = defaultInflightBytes()
	}
	if c.Timezone == "" {
		c.Timezone = "UTC"
	}
	if c.SourceType == "" {
		c.SourceType = "syslog"
	}
	if c.MaxSenders == 0 {
		c.MaxSenders = 1000
	}
	if c.UDP != nil {
		if c.UDP.Address == "" {
			c.UDP.Address = ":5514"
		}
		if c.UDP.ReceiveBufferBytes == 0 {
			c.UDP.ReceiveBufferBytes = 8 << 20
		}
		if c.UDP.Readers == 0 {
			// GOMAXPROCS follows a container's CPU limit (and is read
			// before `router run` raises it).
			c.UDP.Readers = min(runtime.GOMAXPROCS(0), runtime.NumCPU(), 8)
		}
	}
	if c.TCP != nil && c.TCP.Address == "" {
		c.TCP.Address = ":5514"
	}
	if c.TLS != nil {
		if c.TLS.Address == "" {
			c.TLS.Address = ":6514"
		}
		if c.TLS.HandshakeTimeout == 0 {
			c.TLS.HandshakeTimeout = 10 * time.Second
		}
	}
}

// Validate checks the configuration; prefix is its YAML path.
func (c *Config) Validate(prefix string) error {
	if c.UDP != nil && c.UDP.ReceiveBufferBytes < 0 {
		return fmt.Errorf("%s.udp.receive_buffer_bytes: %d is negative: omit it for the default of 8 MiB", prefix, c.UDP.ReceiveBufferBytes)
	}
	for app, st := range c.AppSourceTypes {
		if app == "" || st == "" {
			return fmt.Errorf("%s.app_source_types: %q: %q: neither the app name nor the source type may be empty", prefix, app, st)
		}
	}
	switch {
	case c.MaxMessageBytes < 480 || c.MaxMessageBytes > 16<<20:
		return fmt.Errorf("%s.max_message_bytes: %d is outside 480 (RFC 5424's minimum) .. 16 MiB", prefix, c.MaxMessageBytes)
	case c.OnOversize != "truncate" && c.OnOversize != "quarantine":
		return fmt.Errorf("%s.on_oversize: %q is not truncate or quarantine", prefix, c.OnOversize)
	case c.MaxConnections < 1 || c.BatchEvents < 1 || c.BatchWait <= 0 || c.IdleTimeout <= 0 || c.MaxSenders < 1:
		return fmt.Errorf("%s: max_connections, batch_events, batch_wait, idle_timeout and max_senders must be positive", prefix)
	case c.MaxInflightBytes < 1<<20:
		return fmt.Errorf("%s.max_inflight_bytes: %d is below 1 MiB", prefix, c.MaxInflightBytes)
	case c.MaxConnectionsPerIP < -1:
		return fmt.Errorf("%s.max_connections_per_ip: %d: set a positive bound, or -1 for none", prefix, c.MaxConnectionsPerIP)
	}
	if c.UDP == nil && c.TCP == nil && c.TLS == nil {
		return fmt.Errorf("%s: no transport: add udp: {}, tcp: {} or tls: {cert_file: ..., key_file: ...} (each listens on its default port unless address is set), or remove the syslog block", prefix)
	}
	if u := c.UDP; u != nil && (u.Readers < 1 || u.Readers > maxUDPReaders) {
		return fmt.Errorf("%s.udp.readers: %d is outside 1..%d (default: the number of CPUs, at most 8)", prefix, u.Readers, maxUDPReaders)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		return fmt.Errorf("%s.timezone: %w: use an IANA zone name such as Europe/Berlin, or UTC (the zone of RFC 3164 times, which carry none)", prefix, err)
	}
	if t := c.TLS; t != nil {
		if (t.CertFile == "") != (t.KeyFile == "") {
			return fmt.Errorf("%s.tls: set both cert_file and key_file (or neither: TLS then stays off)", prefix)
		}
		if t.RequireClientCert && t.ClientCAFile == "" {
			return fmt.Errorf("%s.tls.require_client_cert: needs client_ca_file to verify client certificates against", prefix)
		}
		if t.HandshakeTimeout <= 0 || t.HandshakeTimeout > maxHandshakeTimeout {
			return fmt.Errorf("%s.tls.handshake_timeout: %s is outside (0, %s]: a TLS handshake takes well under a second; set a few seconds (default 10s)", prefix, t.HandshakeTimeout, maxHandshakeTimeout)
		}
	}
	return nil
}

// defaultInflightBytes is max_inflight_bytes when unset: a quarter of the
// runtime's memory limit (which `router run` sets from the container's
// limit), at least 64 MiB; 1 GiB without a limit.
func defaultInflightBytes() int64 {
	if lim := debug.SetMemoryLimit(-1); lim > 0 && lim < math.MaxInt64 {
		return max(lim/4, 64<<20)
	}
	return 1 << 30
}
