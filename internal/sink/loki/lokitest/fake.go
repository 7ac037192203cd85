package lokitest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/grafana/loki/pkg/push"
	"github.com/klauspost/compress/snappy"
)

// Push is one request FakeLoki received.
type Push struct {
	N          int // 0-based arrival number
	Path       string
	Header     http.Header
	Query      url.Values
	Compressed int // body bytes
	Raw        int // uncompressed protobuf bytes
	Req        push.PushRequest
	DecodeErr  error
}

// Entries returns the number of entries in the push.
func (p *Push) Entries() int {
	n := 0
	for _, s := range p.Req.Streams {
		n += len(s.Entries)
	}
	return n
}

// Response is what FakeLoki answers to one push.
type Response struct {
	Status int // 0: 204
	Header http.Header
	Body   string
}

// Responder chooses the answer to push p.
type Responder func(p *Push) Response

// FakeLoki records every push. By default it answers 204, or 400 when the
// body cannot be decoded.
type FakeLoki struct {
	*httptest.Server

	mu      sync.Mutex
	pushes  []*Push
	respond Responder
}

// NewFakeLoki starts a FakeLoki (TLS when tls is true); it is closed at the
// end of the test.
func NewFakeLoki(t testing.TB, tls bool, respond Responder) *FakeLoki {
	f := &FakeLoki{respond: respond}
	h := http.HandlerFunc(f.serve)
	if tls {
		f.Server = httptest.NewTLSServer(h)
	} else {
		f.Server = httptest.NewServer(h)
	}
	t.Cleanup(f.Close)
	return f
}

// SetResponder replaces the responder.
func (f *FakeLoki) SetResponder(r Responder) {
	f.mu.Lock()
	f.respond = r
	f.mu.Unlock()
}

// Pushes returns the pushes received so far.
func (f *FakeLoki) Pushes() []*Push {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*Push(nil), f.pushes...)
}

func (f *FakeLoki) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	p := &Push{Path: r.URL.Path, Header: r.Header.Clone(), Query: r.URL.Query(), Compressed: len(body)}
	if err == nil && r.Header.Get("Content-Type") != "application/x-protobuf" {
		err = errContentType
	}
	if err == nil {
		var raw []byte
		raw, err = snappy.Decode(nil, body)
		p.Raw = len(raw)
		if err == nil {
			err = p.Req.Unmarshal(raw)
		}
	}
	p.DecodeErr = err
	f.mu.Lock()
	p.N = len(f.pushes)
	f.pushes = append(f.pushes, p)
	respond := f.respond
	f.mu.Unlock()

	resp := Response{Status: http.StatusNoContent}
	switch {
	case err != nil:
		resp = Response{Status: http.StatusBadRequest, Body: "cannot decode push: " + err.Error()}
	case respond != nil:
		resp = respond(p)
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if resp.Status == 0 {
		resp.Status = http.StatusNoContent
	}
	w.WriteHeader(resp.Status)
	_, _ = io.WriteString(w, resp.Body)
}

type constErr string

func (e constErr) Error() string { return string(e) }

const errContentType = constErr("Content-Type is not application/x-protobuf")
