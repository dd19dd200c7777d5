// Package tlsconf builds the client-side TLS that every outbound
// destination (OpenSearch, Splunk HEC, syslog, Kafka) configures the same
// way: a CA bundle, an optional client certificate for mutual TLS, and the
// escape hatch of not verifying (tests only). Both files are read again
// when they change (a rotated CA bundle or a renewed client certificate in
// a Kubernetes secret), so that neither needs a restart.
package tlsconf

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
)

// Client is the TLS of one outbound destination: a base configuration and,
// with a CA bundle file, that bundle as it is at each new connection.
//
// crypto/tls reads RootCAs once per handshake from the tls.Config it is
// given, and offers a client no callback for them (VerifyConnection sees no
// server name for an IP address destination, so it cannot verify as
// RootCAs would). So a connection that should see a rotated bundle must be
// dialled with a tls.Config made for it: Config, Dial, and the hooks of
// Transport do that. Connections already open stay as they were verified.
type Client struct {
	base  *tls.Config
	roots *CAPool // nil: the system roots (or no verification)
}

// NewClient returns a TLS 1.2+ client. caFile (PEM, empty: the system
// roots) verifies the server and is read again when it changes (checked at
// most every CheckEvery, at a new connection); certFile and keyFile (PEM,
// both or neither) authenticate the client and are read again too.
// serverName, when set, is the name every server certificate is verified
// against (otherwise each connection's host). Errors name the YAML keys
// (tls.ca_file, tls.cert_file/key_file) so the operator knows which setting
// to fix. log (nil: slog.Default) gets the reloads.
func NewClient(caFile, certFile, keyFile string, insecureSkipVerify bool, serverName string, log *slog.Logger) (*Client, error) {
	c := &Client{base: &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecureSkipVerify, ServerName: serverName}} //nolint:gosec // operator's explicit choice
	if caFile != "" {
		roots, err := loadCAPool(caFile, log, "CA bundle (tls.ca_file)")
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		c.roots = roots
		c.base.RootCAs = roots.Current()
	}
	if certFile != "" {
		kp, err := LoadKeyPair(certFile, keyFile, log)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		c.base.GetClientCertificate = kp.GetClientCertificate
	}
	return c, nil
}

// Config returns a new tls.Config for one connection: the base with the
// CA bundle as it is now. The caller may change it.
func (c *Client) Config() *tls.Config {
	tc := c.base.Clone()
	if c.roots != nil {
		tc.RootCAs = c.roots.Current()
	}
	return tc
}

// Reloads reports whether the CA bundle is a file read again when it
// changes (otherwise one tls.Config serves every connection).
func (c *Client) Reloads() bool { return c.roots != nil }

// DialFunc is the shape of net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Dial connects to addr with dial (nil: a zero net.Dialer) and completes
// the TLS handshake with Config, verifying the server against the
// configured server name or else addr's host, within ctx. The connection
// is closed when the handshake fails.
func (c *Client) Dial(ctx context.Context, dial DialFunc, network, addr string) (net.Conn, error) {
	return dialTLS(ctx, dial, c.Config(), network, addr)
}

func dialTLS(ctx context.Context, dial DialFunc, tc *tls.Config, network, addr string) (net.Conn, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	if tc.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		tc.ServerName = host
	}
	raw, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	conn := tls.Client(raw, tc)
	if err := conn.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, err
	}
	return conn, nil
}

// Transport configures tr's TLS: TLSClientConfig is the base, and, when
// the CA bundle reloads, DialTLSContext dials each connection with the
// bundle as it is then (on tr's DialContext, within TLSHandshakeTimeout,
// offering the protocols tr offers: HTTP/2 where tr attempts it).
//
// net/http uses DialTLSContext for direct HTTPS connections and for the
// hop to an HTTPS proxy; the destination's handshake inside a proxy's
// CONNECT tunnel uses TLSClientConfig, so through a proxy the bundle read
// at start verifies the destination until a restart.
func (c *Client) Transport(tr *http.Transport) {
	tr.TLSClientConfig = c.base.Clone()
	if c.roots == nil {
		return
	}
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		// tr.TLSClientConfig's NextProtos are set by tr before its first
		// dial (h2 where it attempts HTTP/2) and not changed after.
		tc := tr.TLSClientConfig.Clone()
		tc.RootCAs = c.roots.Current()
		if d := tr.TLSHandshakeTimeout; d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return dialTLS(ctx, tr.DialContext, tc, network, addr)
	}
}
