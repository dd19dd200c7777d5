// Package kafkacfg holds the connection settings shared by the Kafka input
// and output: brokers' TLS and SASL, turned into kafka-go Dialers and
// Transports.
package kafkacfg

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol/metadata"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/logrouter/logrouter/internal/tlsconf"
)

// TLS configures encryption to the brokers.
type TLS struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
}

// SASL configures authentication to the brokers.
type SASL struct {
	// Mechanism is plain, scram-sha-256 or scram-sha-512.
	Mechanism string `yaml:"mechanism"`
	Username  string `yaml:"username"`
	// Password: use ${ENV_VAR} in the config file.
	Password string `yaml:"password"`
	// AllowPlaintext lets mechanism plain run without tls: plain sends the
	// password as it is, so without tls anyone on the path reads it. Only
	// for a broker on loopback or a network you trust.
	AllowPlaintext bool `yaml:"allow_plaintext"`
}

// PlainWithoutTLS is the error for SASL plain without TLS (see
// SASL.AllowPlaintext); prefix is the YAML path of the block.
func PlainWithoutTLS(prefix string) error {
	return fmt.Errorf("%s.sasl: mechanism plain sends the password in clear without tls: add a tls block, use scram-sha-256/512, or set sasl.allow_plaintext: true for a broker on loopback or a trusted network", prefix)
}

// Validate checks both blocks (either may be nil); prefix is the YAML path.
func Validate(prefix string, t *TLS, s *SASL) error {
	if t != nil && (t.CertFile == "") != (t.KeyFile == "") {
		return fmt.Errorf("%s.tls: set both cert_file and key_file, or neither", prefix)
	}
	if s != nil {
		switch s.Mechanism {
		case "plain", "scram-sha-256", "scram-sha-512":
		default:
			return fmt.Errorf("%s.sasl.mechanism: %q is not plain, scram-sha-256 or scram-sha-512", prefix, s.Mechanism)
		}
		if s.Username == "" || s.Password == "" {
			return fmt.Errorf("%s.sasl: username and password are required (use ${ENV_VAR} for the password)", prefix)
		}
		if s.Mechanism == "plain" && t == nil && !s.AllowPlaintext {
			return PlainWithoutTLS(prefix)
		}
		if _, err := Mechanism(s); err != nil {
			return fmt.Errorf("%s.%w", prefix, err)
		}
	}
	return nil
}

// MaxTopicLen is Kafka's limit on topic names.
const MaxTopicLen = 249

// TopicByte reports whether c may be in a Kafka topic name (A-Z, a-z, 0-9,
// '.', '_', '-').
func TopicByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// CheckTopic refuses a name Kafka does not allow for a topic (a pattern
// such as logs-*, a space, a slash): such a topic never exists, so a
// consumer would wait for it forever.
func CheckTopic(name string) error {
	if name == "." || name == ".." || len(name) > MaxTopicLen {
		return fmt.Errorf("%q is not a Kafka topic name (not . or .., at most %d bytes)", name, MaxTopicLen)
	}
	for i := 0; i < len(name); i++ {
		if !TopicByte(name[i]) {
			return fmt.Errorf("%q is not a Kafka topic name: only A-Z, a-z, 0-9, '.', '_' and '-' are allowed (list each topic; patterns are not supported)", name)
		}
	}
	return nil
}

// CheckBroker refuses a broker address the client could never dial: not
// host:port, an empty host, or a port outside 1..65535.
func CheckBroker(b string) error {
	host, port, err := net.SplitHostPort(b)
	if err != nil || host == "" {
		return fmt.Errorf("%q is not host:port: write it like \"kafka-1.example.com:9092\"", b)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%q has no valid port: write it like \"kafka-1.example.com:9092\"", b)
	}
	return nil
}

// TLSClient builds the brokers' client TLS, or nil when t is nil. Its CA
// bundle and client certificate are read again when they change.
func TLSClient(t *TLS) (*tlsconf.Client, error) {
	if t == nil {
		return nil, nil
	}
	return tlsconf.NewClient(t.CAFile, t.CertFile, t.KeyFile, t.InsecureSkipVerify, "", nil)
}

// tlsHooks returns what a kafka-go Transport (Dial, TLS) or Dialer
// (DialFunc, TLS) takes for c: with a CA bundle that reloads, a dial that
// makes each connection with the bundle as it is then (kafka-go's own TLS
// takes one tls.Config for the transport's life); otherwise that one
// config. Both nil for plaintext (c nil).
func tlsHooks(c *tlsconf.Client) (func(context.Context, string, string) (net.Conn, error), *tls.Config) {
	switch {
	case c == nil:
		return nil, nil
	case c.Reloads():
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		return func(ctx context.Context, network, addr string) (net.Conn, error) {
			return c.Dial(ctx, d.DialContext, network, addr)
		}, nil
	default:
		return nil, c.Config()
	}
}

// Transport returns a kafka-go Transport to the brokers with c (nil:
// plaintext) and m (nil: no SASL).
func Transport(dialTimeout time.Duration, clientID string, c *tlsconf.Client, m sasl.Mechanism) *kafka.Transport {
	dial, tc := tlsHooks(c)
	return &kafka.Transport{DialTimeout: dialTimeout, ClientID: clientID, SASL: m, Dial: dial, TLS: tc}
}

// Mechanism builds the SASL mechanism, or nil when s is nil.
func Mechanism(s *SASL) (sasl.Mechanism, error) {
	if s == nil {
		return nil, nil
	}
	switch s.Mechanism {
	case "plain":
		return plain.Mechanism{Username: s.Username, Password: s.Password}, nil
	case "scram-sha-256", "scram-sha-512":
		algo := scram.SHA256
		if s.Mechanism == "scram-sha-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, s.Username, s.Password)
		if err != nil {
			// The library's error quotes the password: name the key and
			// the cause only.
			return nil, errors.New("sasl: SCRAM cannot use this username or password: SASLprep (RFC 4013) refuses a character in it, such as a control character (a trailing newline from a Secret made with --from-file: strip it) or an unassigned code point")
		}
		return m, nil
	}
	return nil, fmt.Errorf("sasl.mechanism %q", s.Mechanism)
}

// Dialer builds the kafka-go Dialer for readers and consumer groups.
func Dialer(clientID string, t *TLS, s *SASL) (*kafka.Dialer, error) {
	tc, err := TLSClient(t)
	if err != nil {
		return nil, err
	}
	m, err := Mechanism(s)
	if err != nil {
		return nil, err
	}
	dial, tlsConf := tlsHooks(tc)
	return &kafka.Dialer{ClientID: clientID, Timeout: 10 * time.Second, DualStack: true, SASLMechanism: m, DialFunc: dial, TLS: tlsConf}, nil
}

// ProbeTopic asks the brokers at addr about topic alone and returns the
// answer's error code for it (0: it exists). A listing of every topic, which
// kafka-go's Transport caches and its Conn.ReadPartitions() sends, leaves
// out the topics the client may not describe, without an error: a topic
// missing from it may exist behind an ACL. Asked by name, the broker says
// which (TOPIC_AUTHORIZATION_FAILED, 29, or UNKNOWN_TOPIC_OR_PARTITION, 3).
// The request does not ask the broker to create the topic. tr is a
// template (dial timeout, client id, TLS, SASL): ProbeTopic uses a
// transport of its own for the one request and closes it.
func ProbeTopic(ctx context.Context, addr net.Addr, tr *kafka.Transport, topic string) (int16, error) {
	p := &kafka.Transport{DialTimeout: tr.DialTimeout, ClientID: tr.ClientID, Dial: tr.Dial, TLS: tr.TLS, SASL: tr.SASL,
		MetadataTopics: []string{topic}}
	defer p.CloseIdleConnections()
	r, err := p.RoundTrip(ctx, addr, &metadata.Request{TopicNames: []string{topic}})
	if err != nil {
		var kerr kafka.Error
		if errors.As(err, &kerr) {
			return int16(kerr), nil
		}
		return 0, err
	}
	res, ok := r.(*metadata.Response)
	if !ok {
		return 0, fmt.Errorf("metadata: unexpected response %T", r)
	}
	for _, t := range res.Topics {
		if t.Name == topic {
			return t.ErrorCode, nil
		}
	}
	return int16(kafka.UnknownTopicOrPartition), nil
}

// Explain returns what an operator should do about err, a failure to
// connect, authenticate or be authorized at the brokers, or "" when err is
// none of those it knows. block names the settings in the config
// (inputs.kafka, "destination edge"); s is their SASL block (nil: none),
// group the consumer group ("" for a producer). kafka-go reports these as
// a broker error code or a Go TLS error, which name neither the setting
// nor the fix.
func Explain(block string, s *SASL, group string, err error) string {
	var (
		unknownCA x509.UnknownAuthorityError
		hostname  x509.HostnameError
		notTLS    tls.RecordHeaderError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, kafka.SASLAuthenticationFailed):
		mech, user := "", ""
		if s != nil {
			mech, user = s.Mechanism, s.Username
		}
		return fmt.Sprintf("the brokers refused the credentials of %s.sasl (mechanism %s, username %q): check the username and password, and that the user exists for this mechanism (SCRAM users are per mechanism). "+
			"Azure Event Hubs: mechanism plain, username $ConnectionString, password the namespace's connection string; Amazon MSK: scram-sha-512 and the user of a secret associated with the cluster; Confluent Cloud: plain, an API key and its secret", block, mech, user)
	case errors.Is(err, kafka.UnsupportedSASLMechanism):
		mech := ""
		if s != nil {
			mech = s.Mechanism
		}
		return fmt.Sprintf("the brokers' listener does not enable SASL mechanism %s (%s.sasl.mechanism): use one it enables (the broker's sasl.enabled.mechanisms)", mech, block)
	case errors.Is(err, kafka.GroupAuthorizationFailed) && group != "":
		return fmt.Sprintf("the user may not use consumer group %q (%s.group_id): grant it Read on the group (kafka-acls --add --allow-principal User:NAME --operation Read --group %s)", group, block, group)
	case errors.Is(err, kafka.ClusterAuthorizationFailed):
		return fmt.Sprintf("the brokers refused an operation on the cluster to the user of %s: grant it the cluster permission the operation needs (kafka-acls --cluster)", block)
	case errors.As(err, &unknownCA):
		return fmt.Sprintf("the brokers' certificate is not signed by a CA this router trusts: set %s.tls.ca_file to the PEM of the CA that signed it", block)
	case errors.As(err, &hostname):
		return fmt.Sprintf("the brokers' certificate does not name the address dialled: list the brokers in %s.brokers by a name their certificate holds", block)
	case errors.As(err, &notTLS):
		return fmt.Sprintf("%s.tls is set but the brokers' port does not speak TLS: use the port of their TLS listener, or remove tls", block)
	}
	return ""
}
