// Package tlsconf builds the client-side tls.Config that every outbound
// destination (OpenSearch, Splunk HEC, syslog, Kafka) configures the same
// way: a CA bundle, an optional client certificate for mutual TLS, and the
// escape hatch of not verifying (tests only).
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Client returns a TLS 1.2+ client configuration. caFile (PEM, empty: the
// system roots) verifies the server; certFile and keyFile (PEM, both or
// neither) authenticate the client. Errors name the YAML keys (tls.ca_file,
// tls.cert_file/key_file) so the operator knows which setting to fix.
func Client(caFile, certFile, keyFile string, insecureSkipVerify bool) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecureSkipVerify} //nolint:gosec // operator's explicit choice
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file: no PEM certificate in %s", caFile)
		}
		tc.RootCAs = pool
	}
	if certFile != "" {
		// Loaded again when the files change (a renewal), see KeyPair.
		kp, err := LoadKeyPair(certFile, keyFile, nil)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		tc.GetClientCertificate = kp.GetClientCertificate
	}
	return tc, nil
}
