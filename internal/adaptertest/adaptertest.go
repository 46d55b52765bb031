// Package adaptertest holds the helpers that the router adapters' tests
// (contrib/chi, contrib/gin, contrib/echo) share: a real server, requests on
// fresh connections, and reading the httpmetrics counters back.
package adaptertest

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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

// Hijack upgrades a connection on GET /ws of s, whose handler answers 101
// and closes it, and checks that the middleware recording into reg counts
// the request once and no response.
func Hijack(t testing.TB, s *httptest.Server, reg *prom.Registry) {
	t.Helper()
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	// The handler closes the connection as it returns; the recording
	// follows.
	io.Copy(io.Discard, conn)
	labels := prom.Labels{"method": "GET", "route": "/ws"}
	deadline := time.Now().Add(5 * time.Second)
	for Counter(t, reg, httpmetrics.RequestsName, labels) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	Want(t, reg, httpmetrics.RequestsName, labels, 1)
	c, _ := reg.Get(httpmetrics.ResponsesName)
	for labels := range c.(*prom.Counter).All() {
		t.Errorf("a hijacked connection was counted as a response: %v", labels)
	}
}

// SizesAndGrouping sends GET /users/12345 (answered "12345" by the route
// userRoute) and GET /nothing to s, whose middleware records into reg with
// WithSizes and WithGroupedStatusCodes, and checks the grouped codes and
// the response size.
func SizesAndGrouping(t testing.TB, s *httptest.Server, reg *prom.Registry, userRoute string) {
	t.Helper()
	Do(t, s, "GET", "/users/12345")
	Do(t, s, "GET", "/nothing")
	Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": userRoute, "code": "2xx"}, 1)
	Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": httpmetrics.Unmatched, "code": "4xx"}, 1)
	h, _ := reg.Get(httpmetrics.ResponseSizeName)
	v, _ := h.(*prom.Histogram).Get(prom.Labels{"method": "GET", "route": userRoute})
	if v.Count != 1 || v.Sum != 5 {
		t.Errorf("response size: %+v, want one observation of 5 bytes", v)
	}
}
