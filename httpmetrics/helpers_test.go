package httpmetrics_test

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// server serves h through mw on a real http.Server on 127.0.0.1, and logs
// what the server logs (panics among them) into a buffer.
type server struct {
	*httptest.Server
	log *syncBuffer
}

func serve(t *testing.T, h http.Handler) *server {
	t.Helper()
	s := &server{Server: httptest.NewUnstartedServer(h), log: &syncBuffer{}}
	s.Config.ErrorLog = log.New(s.log, "", 0)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// newTLSServer serves h over HTTPS with HTTP/2 on 127.0.0.1.
func newTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// do sends a request and returns the status code and body; it fails the
// test on a transport error.
func (s *server) do(t *testing.T, method, path string, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}

// get is do for a GET without a body, expecting want.
func (s *server) get(t *testing.T, path string, want int) string {
	t.Helper()
	code, body := s.do(t, http.MethodGet, path, nil)
	if code != want {
		t.Errorf("GET %s: status %d, want %d", path, code, want)
	}
	return body
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newMiddleware creates a Middleware on a new registry.
func newMiddleware(t *testing.T, opts ...httpmetrics.Option) (*httpmetrics.Middleware, *prom.Registry) {
	t.Helper()
	reg := prom.NewRegistry()
	mw, err := httpmetrics.New(append([]httpmetrics.Option{httpmetrics.WithRegistry(reg)}, opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return mw, reg
}

// metricOf returns the registered metric called name, of type M.
func metricOf[M prom.Collector](t *testing.T, reg *prom.Registry, name string) M {
	t.Helper()
	c, ok := reg.Get(name)
	if !ok {
		t.Fatalf("%s is not registered", name)
	}
	m, ok := c.(M)
	if !ok {
		t.Fatalf("%s is a %T", name, c)
	}
	return m
}

func counterOf(t *testing.T, reg *prom.Registry, name string) *prom.Counter {
	t.Helper()
	return metricOf[*prom.Counter](t, reg, name)
}

func histogramOf(t *testing.T, reg *prom.Registry, name string) *prom.Histogram {
	t.Helper()
	return metricOf[*prom.Histogram](t, reg, name)
}

func gaugeOf(t *testing.T, reg *prom.Registry, name string) *prom.Gauge {
	t.Helper()
	return metricOf[*prom.Gauge](t, reg, name)
}

// requests returns http_server_requests_total for a method and route, and
// responses the count of responses with a code.
func requests(t *testing.T, reg *prom.Registry, method, route string) float64 {
	t.Helper()
	v, _ := counterOf(t, reg, httpmetrics.RequestsName).Get(prom.Labels{"method": method, "route": route})
	return v
}

func responses(t *testing.T, reg *prom.Registry, method, route, code string) float64 {
	t.Helper()
	v, _ := counterOf(t, reg, httpmetrics.ResponsesName).Get(prom.Labels{"method": method, "route": route, "code": code})
	return v
}

func panics(t *testing.T, reg *prom.Registry, method, route string) float64 {
	t.Helper()
	v, _ := counterOf(t, reg, httpmetrics.PanicsName).Get(prom.Labels{"method": method, "route": route})
	return v
}

func durationCount(t *testing.T, reg *prom.Registry, method, route string) uint64 {
	t.Helper()
	v, _ := histogramOf(t, reg, httpmetrics.DurationName).Get(prom.Labels{"method": method, "route": route})
	return v.Count
}

func inFlight(t *testing.T, reg *prom.Registry) float64 {
	t.Helper()
	v, _ := gaugeOf(t, reg, httpmetrics.InFlightName).Get(nil)
	return v
}

// samples returns the sample lines of reg's text exposition whose metric
// name begins with prefix.
func samples(t *testing.T, reg *prom.Registry, prefix string) []string {
	t.Helper()
	body, _, err := prom.Render(reg, "")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// seriesCount counts the series of every metric in reg.
func seriesCount(reg *prom.Registry) int {
	n := 0
	for c := range reg.All() {
		switch m := c.(type) {
		case *prom.Counter:
			for range m.All() {
				n++
			}
		case *prom.Gauge:
			for range m.All() {
				n++
			}
		case *prom.Histogram:
			for range m.All() {
				n++
			}
		}
	}
	return n
}

func wantValue(t *testing.T, what string, got, want float64) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
