package harness

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/valyala/fastjson"
)

// server is an HTTP server on a loopback port of its own.
type server struct {
	ln  net.Listener
	srv *http.Server
	wg  sync.WaitGroup
}

func startServer(h http.Handler) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &server{ln: ln, srv: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = s.srv.Serve(ln)
	}()
	return s, nil
}

// URL is the server's base URL.
func (s *server) URL() string { return "http://" + s.ln.Addr().String() }

// Close stops the server and waits for its goroutines.
func (s *server) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	s.wg.Wait()
}

// work is the per-request state receivers pool: a body buffer, a gzip
// reader and a JSON parser, so a request allocates nothing per event.
type work struct {
	body bytes.Buffer
	out  bytes.Buffer
	gz   *gzip.Reader
	p    fastjson.Parser
	ap   fastjson.Parser // action lines of _bulk
	acts []bulkAction    // a _bulk body's action lines, read once
}

var workPool = sync.Pool{New: func() any { return new(work) }}

// readBody reads r's body, gunzipped when it says so, into w.body.
func (w *work) readBody(r *http.Request) error {
	w.body.Reset()
	var src io.Reader = r.Body
	switch r.Header.Get("Content-Encoding") {
	case "", "identity":
	case "gzip":
		if w.gz == nil {
			gz, err := gzip.NewReader(r.Body)
			if err != nil {
				return err
			}
			w.gz = gz
		} else if err := w.gz.Reset(r.Body); err != nil {
			return err
		}
		src = w.gz
	default:
		return errors.New("unsupported Content-Encoding " + r.Header.Get("Content-Encoding"))
	}
	_, err := w.body.ReadFrom(src)
	return err
}

// nextObject returns the first JSON object of b (after white space) and
// what follows it; ok is false when b holds no complete object. Strings are
// skipped with their escapes, so braces inside them do not count.
func nextObject(b []byte) (obj, rest []byte, ok bool) {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	if i == len(b) || b[i] != '{' {
		return nil, b[i:], false
	}
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			for j++; j < len(b) && b[j] != '"'; j++ {
				if b[j] == '\\' {
					j++
				}
			}
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return b[i : j+1], b[j+1:], true
			}
		}
	}
	return nil, b[i:], false
}
