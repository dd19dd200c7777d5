package tlsconf

import (
	"crypto/tls"
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
