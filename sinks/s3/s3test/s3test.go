// Package s3test runs an in-process S3 (gofakes3 over an in-memory backend)
// behind a reverse proxy that records every request and injects faults, for
// tests of S3 clients.
//
// gofakes3 implements objects and multipart uploads but not Object Lock,
// encryption or storage classes: it stores what it is sent and ignores those
// headers, so tests check them in the recorded requests.
package s3test

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Credentials and region the servers accept (gofakes3 does not check
// signatures).
const (
	AccessKeyID     = "AKIDTEST"
	SecretAccessKey = "secret"
	Region          = "us-east-1"
)

// Operation names of recorded requests.
const (
	OpPutObject               = "PutObject"
	OpCreateMultipartUpload   = "CreateMultipartUpload"
	OpUploadPart              = "UploadPart"
	OpCompleteMultipartUpload = "CompleteMultipartUpload"
	OpAbortMultipartUpload    = "AbortMultipartUpload"
	OpListMultipartUploads    = "ListMultipartUploads"
	OpListObjects             = "ListObjects"
	OpGetObject               = "GetObject"
	OpHeadObject              = "HeadObject"
	OpDeleteObject            = "DeleteObject"
	OpOther                   = "Other"
)

// Request is one request that reached the proxy.
type Request struct {
	Op     string
	Method string
	Bucket string
	Key    string
	Query  url.Values
	Header http.Header
	// Status is the status answered (by the fault or by gofakes3); 0 when
	// the connection was dropped.
	Status int
	// Faulted is set when the proxy answered instead of gofakes3.
	Faulted bool
}

// Fault is what the proxy does with a request instead of forwarding it.
type Fault int

// Faults.
const (
	Forward Fault = iota // no fault
	Status500
	Status503
	Drop // read the request, then close the connection without answering
)

// Server is a fake S3 behind a recording, fault-injecting proxy.
type Server struct {
	// URL is the proxy's URL: point clients here (path-style addressing).
	URL string
	// Client talks to gofakes3 directly, past the proxy and its faults
	// (for setting up and checking).
	Client *s3.Client

	backend *httptest.Server
	proxy   *httptest.Server

	mu    sync.Mutex
	reqs  []*Request
	fault func(r *Request) Fault
}

// New starts a server with the given buckets; t.Cleanup stops it.
func New(t testing.TB, buckets ...string) *Server {
	t.Helper()
	mem := s3mem.New()
	for _, b := range buckets {
		if err := mem.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	s := &Server{}
	s.backend = httptest.NewServer(gofakes3.New(mem).Server())
	target, _ := url.Parse(s.backend.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // clients that give up are expected
	s.proxy = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.serve(rp, w, r)
	}))
	s.URL = s.proxy.URL
	s.Client = NewClient(s.backend.URL)
	t.Cleanup(s.Close)
	return s
}

// NewClient returns an S3 client for endpoint with the test credentials,
// path-style addressing and its own transport.
func NewClient(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{}},
	})
}

// Close stops the proxy and the backend and drops the direct client's
// connections.
func (s *Server) Close() {
	s.proxy.CloseClientConnections()
	s.proxy.Close()
	s.backend.CloseClientConnections()
	s.backend.Close()
	if hc, ok := s.Client.Options().HTTPClient.(*http.Client); ok {
		hc.CloseIdleConnections()
	}
}

// SetFault installs fn, called for every request (with Status unset) to
// decide its fault; nil forwards everything. fn is called with the server's
// lock held: it must not call the Server's methods.
func (s *Server) SetFault(fn func(r *Request) Fault) {
	s.mu.Lock()
	s.fault = fn
	s.mu.Unlock()
}

// Requests returns the requests recorded so far, in arrival order (their
// Status is filled in once answered).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = *r
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	s.reqs = nil
	s.mu.Unlock()
}

// classify names the S3 operation of a path-style request.
func classify(r *http.Request) (op, bucket, key string) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ = strings.Cut(path, "/")
	q := r.URL.Query()
	_, uploads := q["uploads"]
	uploadID := q.Get("uploadId")
	switch r.Method {
	case http.MethodPut:
		switch {
		case key != "" && uploadID != "" && q.Get("partNumber") != "":
			op = OpUploadPart
		case key != "":
			op = OpPutObject
		}
	case http.MethodPost:
		switch {
		case key != "" && uploads:
			op = OpCreateMultipartUpload
		case key != "" && uploadID != "":
			op = OpCompleteMultipartUpload
		}
	case http.MethodDelete:
		switch {
		case key != "" && uploadID != "":
			op = OpAbortMultipartUpload
		case key != "":
			op = OpDeleteObject
		}
	case http.MethodGet:
		switch {
		case key == "" && uploads:
			op = OpListMultipartUploads
		case key == "":
			op = OpListObjects
		default:
			op = OpGetObject
		}
	case http.MethodHead:
		if key != "" {
			op = OpHeadObject
		}
	}
	if op == "" {
		op = OpOther
	}
	return op, bucket, key
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (s *Server) serve(rp *httputil.ReverseProxy, w http.ResponseWriter, r *http.Request) {
	op, bucket, key := classify(r)
	req := &Request{Op: op, Method: r.Method, Bucket: bucket, Key: key, Query: r.URL.Query(), Header: r.Header.Clone()}
	s.mu.Lock()
	fault := Forward
	if s.fault != nil {
		fault = s.fault(req)
	}
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()
	setStatus := func(code int, faulted bool) {
		s.mu.Lock()
		req.Status = code
		req.Faulted = faulted
		s.mu.Unlock()
	}
	switch fault {
	case Status500, Status503:
		_, _ = io.Copy(io.Discard, r.Body)
		code, codeName := http.StatusInternalServerError, "InternalError"
		if fault == Status503 {
			code, codeName = http.StatusServiceUnavailable, "SlowDown"
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>`+codeName+`</Code><Message>injected fault</Message></Error>`)
		setStatus(code, true)
		return
	case Drop:
		_, _ = io.Copy(io.Discard, r.Body)
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
			}
		}
		setStatus(0, true)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	rp.ServeHTTP(sw, r)
	setStatus(sw.status, false)
}

// Objects returns every object of bucket: key -> content.
func (s *Server) Objects(t testing.TB, bucket string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(s.Client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			if _, dup := out[*o.Key]; dup {
				t.Fatalf("ListObjectsV2 lists %s twice", *o.Key)
			}
			g, err := s.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			_, err = io.Copy(&b, g.Body)
			g.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[*o.Key] = b.Bytes()
		}
	}
	return out
}

// Upload is an unfinished multipart upload.
type Upload struct{ Key, UploadID string }

// MultipartUploads returns the unfinished multipart uploads of bucket,
// sorted by key.
func (s *Server) MultipartUploads(t testing.TB, bucket string) []Upload {
	t.Helper()
	var out []Upload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)}
	for {
		page, err := s.Client.ListMultipartUploads(context.Background(), in)
		if err != nil {
			if strings.Contains(err.Error(), "NoSuchUpload") { // gofakes3: none ever
				return nil
			}
			t.Fatal(err)
		}
		for _, u := range page.Uploads {
			out = append(out, Upload{aws.ToString(u.Key), aws.ToString(u.UploadId)})
		}
		if !aws.ToBool(page.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
