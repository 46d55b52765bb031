package promecho_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/promgo/prom"
	promecho "github.com/promgo/prom/contrib/echo"
	"github.com/promgo/prom/httpmetrics"
)

// newEcho is the aioprometheus FastAPI example's app on Echo, plus a
// group, routes that panic, fail and stream, and one that hijacks. With
// recovery, Echo's Recover middleware comes before the metrics.
func newEcho(t *testing.T, reg *prom.Registry, recovery bool, opts ...httpmetrics.Option) *echo.Echo {
	t.Helper()
	mw, err := promecho.New(append([]httpmetrics.Option{httpmetrics.WithRegistry(reg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	if recovery {
		e.Use(middleware.Recover())
	}
	e.Use(mw)
	e.GET("/", func(c echo.Context) error { return c.String(200, "echo") })
	e.GET("/users/:user_id", func(c echo.Context) error { return c.String(200, c.Param("user_id")) })
	e.GET("/boom", func(c echo.Context) error { panic("boom") })
	e.GET("/fail", func(c echo.Context) error { return errors.New("db down") })
	e.GET("/teapot", func(c echo.Context) error { return echo.NewHTTPError(http.StatusTeapot) })
	e.GET("/empty", func(c echo.Context) error { return nil })
	e.GET("/stream", func(c echo.Context) error {
		for i := range 3 {
			fmt.Fprintf(c.Response(), "event %d\n", i)
			c.Response().Flush()
		}
		return nil
	})
	e.GET("/ws", func(c echo.Context) error {
		conn, brw, err := c.Response().Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return err
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
		return brw.Flush()
	})
	e.GET("/metrics", echo.WrapHandler(prom.Handler(reg)))
	api := e.Group("/api")
	api.GET("/files/:id", func(c echo.Context) error { return c.NoContent(http.StatusAccepted) })
	return e
}

func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewUnstartedServer(h)
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// do sends a request on a fresh connection (the transport retries a GET
// whose reused connection a panic closed, which would count twice) and
// returns the status, or 0 when the server closed the connection.
func do(t *testing.T, s *httptest.Server, method, path string) int {
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

func counter(t *testing.T, reg *prom.Registry, name string, labels prom.Labels) float64 {
	t.Helper()
	c, ok := reg.Get(name)
	if !ok {
		t.Fatalf("%s is not registered", name)
	}
	v, _ := c.(*prom.Counter).Get(labels)
	return v
}

func want(t *testing.T, reg *prom.Registry, name string, labels prom.Labels, value float64) {
	t.Helper()
	if got := counter(t, reg, name, labels); got != value {
		body, _, _ := prom.Render(reg, "")
		t.Errorf("%s%v = %v, want %v; exposition:\n%s", name, labels, got, value, body)
	}
}

func TestEcho(t *testing.T) {
	for _, recovery := range []bool{true, false} {
		t.Run(fmt.Sprintf("recovery=%v", recovery), func(t *testing.T) {
			reg := prom.NewRegistry()
			s := serve(t, newEcho(t, reg, recovery))
			boom := 0 // the server closes the connection
			if recovery {
				boom = 500
			}
			for _, c := range []struct {
				method, path string
				code         int
			}{
				{"GET", "/", 200},
				{"GET", "/users/1", 200},
				{"GET", "/users/2", 200},
				{"GET", "/api/files/7", 202},
				{"GET", "/empty", 200},
				{"GET", "/fail", 500},
				{"GET", "/teapot", 418},
				{"GET", "/no/such/page", 404},
				{"GET", "/api/files", 404},
				{"POST", "/users/1", 405},
				{"FOO", "/users/1", 405},
				{"GET", "/metrics", 200},
				{"GET", "/boom", boom},
				{"GET", "/stream", 200},
			} {
				if got := do(t, s, c.method, c.path); got != c.code {
					t.Errorf("%s %s: status %d, want %d", c.method, c.path, got, c.code)
				}
			}

			req, resp := httpmetrics.RequestsName, httpmetrics.ResponsesName
			want(t, reg, req, prom.Labels{"method": "GET", "route": "/users/:user_id"}, 2)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/users/:user_id", "code": "200"}, 2)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/api/files/:id", "code": "202"}, 1)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/empty", "code": "200"}, 1)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/fail", "code": "500"}, 1)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/teapot", "code": "418"}, 1)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": httpmetrics.Unmatched, "code": "404"}, 2)
			want(t, reg, resp, prom.Labels{"method": "POST", "route": httpmetrics.Unmatched, "code": "405"}, 1)
			want(t, reg, resp, prom.Labels{"method": "other", "route": httpmetrics.Unmatched, "code": "405"}, 1)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/stream", "code": "200"}, 1)
			want(t, reg, httpmetrics.PanicsName, prom.Labels{"method": "GET", "route": "/boom"}, 1)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/boom", "code": "500"}, 1)
			want(t, reg, req, prom.Labels{"method": "GET", "route": "/metrics"}, 0)
			c, _ := reg.Get(req)
			for labels := range c.(*prom.Counter).All() {
				if strings.Contains(labels["route"], "such") || labels["route"] == "/api/files" {
					t.Errorf("a raw path became a route: %v", labels)
				}
			}
		})
	}
}

func TestEchoSizesAndGrouping(t *testing.T) {
	reg := prom.NewRegistry()
	s := serve(t, newEcho(t, reg, true, httpmetrics.WithSizes(), httpmetrics.WithGroupedStatusCodes()))
	do(t, s, "GET", "/users/12345")
	do(t, s, "GET", "/nothing")
	want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": "/users/:user_id", "code": "2xx"}, 1)
	want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": httpmetrics.Unmatched, "code": "4xx"}, 1)
	h, _ := reg.Get(httpmetrics.ResponseSizeName)
	v, _ := h.(*prom.Histogram).Get(prom.Labels{"method": "GET", "route": "/users/:user_id"})
	if v.Count != 1 || v.Sum != 5 {
		t.Errorf("response size: %+v, want one observation of 5 bytes", v)
	}
}

func TestEchoHijack(t *testing.T) {
	reg := prom.NewRegistry()
	s := serve(t, newEcho(t, reg, true))
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
	io.Copy(io.Discard, conn) // until the handler closes the connection
	labels := prom.Labels{"method": "GET", "route": "/ws"}
	deadline := time.Now().Add(5 * time.Second)
	for counter(t, reg, httpmetrics.RequestsName, labels) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	want(t, reg, httpmetrics.RequestsName, labels, 1)
	c, _ := reg.Get(httpmetrics.ResponsesName)
	for labels := range c.(*prom.Counter).All() {
		t.Errorf("a hijacked connection was counted as a response: %v", labels)
	}
}

// TestSameMetricsAsCore checks that Echo records the metrics that the core
// middleware records, with the same names and label names.
func TestSameMetricsAsCore(t *testing.T) {
	echoReg, coreReg := prom.NewRegistry(), prom.NewRegistry()
	do(t, serve(t, newEcho(t, echoReg, true, httpmetrics.WithSizes())), "GET", "/")
	mw, err := httpmetrics.New(httpmetrics.WithRegistry(coreReg), httpmetrics.WithSizes())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "echo") })
	do(t, serve(t, mw.Wrap(mux)), "GET", "/")
	a := strings.ReplaceAll(shape(t, echoReg), `route="/"`, `route="/{$}"`)
	if b := shape(t, coreReg); a != b {
		t.Errorf("Echo records\n%s\nthe core middleware\n%s", a, b)
	}
}

// shape is the exposition's lines without the durations' values.
func shape(t *testing.T, reg *prom.Registry) string {
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

// TestNewTwice creates the middleware twice on one registry.
func TestNewTwice(t *testing.T) {
	reg := prom.NewRegistry()
	a, b := serve(t, newEcho(t, reg, true)), serve(t, newEcho(t, reg, true))
	do(t, a, "GET", "/users/1")
	do(t, b, "GET", "/users/2")
	want(t, reg, httpmetrics.RequestsName, prom.Labels{"method": "GET", "route": "/users/:user_id"}, 2)
}
