package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// KeyPair is a certificate and key loaded from files and loaded again when
// the files change, so that a renewal (cert-manager rewriting a Kubernetes
// TLS secret, which the kubelet swaps in place in the pod's volume) is
// served without a restart. Handshakes check the files at most once every
// CheckEvery; a pair that does not load (half written, or a key that does
// not match) is logged and the last good one kept.
type KeyPair struct {
	certFile, keyFile string
	log               *slog.Logger
	every             time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp
	checked time.Time
}

// CheckEvery bounds how often a handshake looks at the files.
const CheckEvery = 2 * time.Second

type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{st.ModTime(), st.Size()}, nil
}

// LoadKeyPair loads certFile and keyFile (PEM). The error names the files;
// callers prefix their YAML keys.
func LoadKeyPair(certFile, keyFile string, log *slog.Logger) (*KeyPair, error) {
	if log == nil {
		log = slog.Default()
	}
	k := &KeyPair{certFile: certFile, keyFile: keyFile, log: log, every: CheckEvery}
	if err := k.load(); err != nil {
		return nil, err
	}
	k.checked = time.Now()
	return k, nil
}

func (k *KeyPair) load() error {
	cs, err := stampOf(k.certFile)
	if err != nil {
		return err
	}
	ks, err := stampOf(k.keyFile)
	if err != nil {
		return err
	}
	c, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		return err
	}
	k.cert, k.stamp = &c, [2]fileStamp{cs, ks}
	return nil
}

// current returns the pair, loading it again first when the files changed
// since the last check (at most every CheckEvery).
func (k *KeyPair) current() *tls.Certificate {
	k.mu.Lock()
	defer k.mu.Unlock()
	if now := time.Now(); now.Sub(k.checked) >= k.every {
		k.checked = now
		cs, err1 := stampOf(k.certFile)
		ks, err2 := stampOf(k.keyFile)
		if err1 == nil && err2 == nil && (cs != k.stamp[0] || ks != k.stamp[1]) {
			if err := k.load(); err != nil {
				k.log.Error("TLS certificate files changed but do not load; serving the previous certificate until they do",
					"cert_file", k.certFile, "key_file", k.keyFile, "err", err)
			} else {
				k.log.Info("TLS certificate reloaded", "cert_file", k.certFile, "not_after", k.cert.Leaf.NotAfter)
			}
		}
	}
	return k.cert
}

// GetCertificate is for tls.Config.GetCertificate (servers).
func (k *KeyPair) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return k.current(), nil
}

// GetClientCertificate is for tls.Config.GetClientCertificate (clients
// with mutual TLS).
func (k *KeyPair) GetClientCertificate(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return k.current(), nil
}

// Server returns a TLS 1.2+ server configuration serving k.
func (k *KeyPair) Server() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: k.GetCertificate}
}

// CAPool is a PEM bundle of certificate authorities loaded from a file and
// loaded again when the file changes (a rotated client CA in a Kubernetes
// secret), checked at most once every CheckEvery; a bundle that does not
// load (half written, no certificate) is logged and the last good one kept.
type CAPool struct {
	file  string
	log   *slog.Logger
	every time.Duration
	what  string // the file, as the reload log lines name it

	mu      sync.Mutex
	pool    *x509.CertPool
	stamp   fileStamp
	checked time.Time
}

// LoadCAPool loads file. The error names the file; callers prefix their
// YAML keys.
func LoadCAPool(file string, log *slog.Logger) (*CAPool, error) {
	return loadCAPool(file, log, "client CA file")
}

func loadCAPool(file string, log *slog.Logger, what string) (*CAPool, error) {
	if log == nil {
		log = slog.Default()
	}
	c := &CAPool{file: file, log: log, every: CheckEvery, what: what}
	if err := c.load(); err != nil {
		return nil, err
	}
	c.checked = time.Now()
	return c, nil
}

func (c *CAPool) load() error {
	st, err := stampOf(c.file)
	if err != nil {
		return err
	}
	pem, err := os.ReadFile(c.file)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return fmt.Errorf("no PEM certificate in %s", c.file)
	}
	c.pool, c.stamp = pool, st
	return nil
}

// Current returns the pool, loading the file again first when it changed
// since the last check (at most every CheckEvery).
func (c *CAPool) Current() *x509.CertPool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) >= c.every {
		c.checked = now
		if st, err := stampOf(c.file); err == nil && st != c.stamp {
			if err := c.load(); err != nil {
				c.log.Error(c.what+" changed but does not load; verifying with the previous CAs until it does", "file", c.file, "err", err)
			} else {
				c.log.Info(c.what+" reloaded", "file", c.file)
			}
		}
	}
	return c.pool
}

// VerifyClients makes tc verify client certificates against the pool as it
// is at each handshake (tc's other settings as they are), with auth
// (tls.VerifyClientCertIfGiven or tls.RequireAndVerifyClientCert).
func (c *CAPool) VerifyClients(tc *tls.Config, auth tls.ClientAuthType) {
	tc.ClientAuth = auth
	tc.ClientCAs = c.Current()
	base := tc.Clone()
	tc.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cc := base.Clone()
		cc.ClientCAs = c.Current()
		return cc, nil
	}
}
