package tlsconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientErrorsNameTheSetting(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ca, cert, key, want string
	}{
		{ca: filepath.Join(dir, "missing.pem"), want: "tls.ca_file"},
		{ca: notPEM, want: "no PEM certificate"},
		{cert: notPEM, key: notPEM, want: "tls.cert_file/key_file"},
	} {
		if _, err := Client(tc.ca, tc.cert, tc.key, false); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Client(%q, %q, %q) = %v, want an error with %q", tc.ca, tc.cert, tc.key, err, tc.want)
		}
	}
	c, err := Client("", "", "", false)
	if err != nil || c.RootCAs != nil || len(c.Certificates) != 0 || c.MinVersion == 0 {
		t.Fatalf("Client with no files = %+v, %v", c, err)
	}
}
