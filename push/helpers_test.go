package push

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// request is what a fake gateway saw of one request.
type request struct {
	Method, EscapedPath string
	RawQuery            string
	Header              http.Header
	Body                []byte // decompressed when Content-Encoding is gzip
	HasBody             bool   // Content-Length > 0 or chunked
}

// fakeGateway records requests and answers each with status and message.
type fakeGateway struct {
	mu      sync.Mutex
	reqs    []request
	status  int
	message string
	// seen, when set, is called with the number of requests so far as each
	// one is recorded, before it is answered.
	seen func(n int)
}

func newFakeGateway(t *testing.T) (*fakeGateway, *httptest.Server) {
	g := &fakeGateway{status: http.StatusOK}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv
}

func (g *fakeGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "bad gzip: "+err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.reqs = append(g.reqs, request{
		Method:      r.Method,
		EscapedPath: r.URL.EscapedPath(),
		RawQuery:    r.URL.RawQuery,
		Header:      r.Header.Clone(),
		Body:        b,
		HasBody:     r.ContentLength > 0 || len(r.TransferEncoding) > 0,
	})
	status, msg := g.status, g.message
	if g.seen != nil {
		g.seen(len(g.reqs))
	}
	g.mu.Unlock()
	if status != http.StatusOK {
		http.Error(w, msg, status)
	}
}

func (g *fakeGateway) requests() []request {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]request(nil), g.reqs...)
}

func (g *fakeGateway) answer(status int, message string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.status, g.message = status, message
}

// newServer starts an httptest server closed at the end of the test.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
