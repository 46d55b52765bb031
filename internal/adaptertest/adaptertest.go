// Package adaptertest holds the helpers that the router adapters' tests
// (contrib/chi, contrib/gin, contrib/echo) share: a real server, requests on
// fresh connections, and reading the httpmetrics counters back.
package adaptertest

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// Serve starts a real server on 127.0.0.1 for h, closed when the test ends.
// Its error log (a recovered panic, say) is discarded.
func Serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// Do sends a request on a fresh connection (the transport retries a GET
// whose reused connection a panic closed, which would count twice) and
// returns the status, or 0 when the server closed the connection.
func Do(t testing.TB, s *httptest.Server, method, path string) int {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// Counter reads one series of a registered counter; 0 when it does not
// exist.
func Counter(t testing.TB, reg *prom.Registry, name string, labels prom.Labels) float64 {
	t.Helper()
	c, ok := reg.Get(name)
	if !ok {
		t.Fatalf("%s is not registered", name)
	}
	v, _ := c.(*prom.Counter).Get(labels)
	return v
}

// Want fails the test unless the counter's series holds value, showing the
// exposition.
func Want(t testing.TB, reg *prom.Registry, name string, labels prom.Labels, value float64) {
	t.Helper()
	if got := Counter(t, reg, name, labels); got != value {
		body, _, _ := prom.Render(reg, "")
		t.Errorf("%s%v = %v, want %v; exposition:\n%s", name, labels, got, value, body)
	}
}

// Shape is the registry's exposition without the durations' values, to
// compare what two middlewares record.
func Shape(t testing.TB, reg *prom.Registry) string {
	t.Helper()
	body, _, err := prom.Render(reg, "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		if i := strings.LastIndexByte(l, ' '); i > 0 && strings.HasPrefix(l, httpmetrics.DurationName) {
			l = l[:i]
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}
