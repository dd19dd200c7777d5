package siem

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/logrouter/logrouter/pipeline"
)

// TestConfirmWithCloseTLSPartialRead: with confirm_with_close, Write
// documents "Nil means every message was ... (with confirm_with_close: read
// by the receiver)", and the package documentation "Write returns nil only
// once the receiver closed its side too, that is after it read everything".
// Here a TLS receiver reads only the first 300 bytes of the batch and then
// closes its connection the ordinary way (tls.Conn.Close: close_notify, then
// a TCP close that resets, because unread data is left in its socket): a
// receiver shutting down, or giving up on a session. Most of the batch was
// never read, so Write must not return nil. awaitClose used to take the
// receiver's close_notify (io.EOF) for success without noticing that the
// TCP connection under it ended in a reset rather than a clean close, and
// the events were acknowledged to the queue and lost. (Over plain TCP the
// same receiver was always detected: its close is a bare reset.)
func TestConfirmWithCloseTLSPartialRead(t *testing.T) {
	dir, srvConf := testPKI(t)
	srvConf.ClientAuth = tls.NoClientCert
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	var mu sync.Mutex
	var readBytes []int
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			raw, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := tls.Server(raw, srvConf)
				_ = c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, 300)
				n, _ := io.ReadFull(c, buf)
				mu.Lock()
				readBytes = append(readBytes, n)
				mu.Unlock()
				_ = c.Close() // close_notify, then close (a reset: data is left unread)
			}()
		}
	}()

	s := newTestSyslog(t, SyslogConfig{
		Address: ln.Addr().String(), TLS: &TLSConfig{CAFile: filepath.Join(dir, "ca.pem")},
		ConfirmWithClose: true, ReconnectBackoffMin: time.Millisecond, ReconnectBackoffMax: 5 * time.Millisecond,
	})
	b := makeBatch(idRange(0, 50, "ws"), pipeline.P1) // about 5 KB framed
	defer b.Release()
	err = s.Write(context.Background(), b)
	mu.Lock()
	got := append([]int(nil), readBytes...)
	mu.Unlock()
	if err == nil {
		t.Errorf("Write returned nil (delivered), but the receiver read only %v bytes of each connection before closing it", got)
	}
}
