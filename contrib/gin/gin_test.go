package promgin_test

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

	"github.com/gin-gonic/gin"
	"github.com/promgo/prom"
	promgin "github.com/promgo/prom/contrib/gin"
	"github.com/promgo/prom/httpmetrics"
)

func init() { gin.SetMode(gin.TestMode) }

// newEngine is the aioprometheus FastAPI example's app on gin, plus a
// group, a panicking route, a streaming route and a hijacking one. With
// recovery, gin.Recovery comes before the metrics.
func newEngine(t *testing.T, reg *prom.Registry, recovery bool, opts ...httpmetrics.Option) *gin.Engine {
	t.Helper()
	mw, err := promgin.New(append([]httpmetrics.Option{httpmetrics.WithRegistry(reg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := gin.New()
	if recovery {
		r.Use(gin.Recovery())
	}
	r.Use(mw)
	r.GET("/", func(c *gin.Context) { c.String(200, "gin") })
	r.GET("/users/:user_id", func(c *gin.Context) { c.String(200, c.Param("user_id")) })
	r.GET("/boom", func(c *gin.Context) { panic("boom") })
	r.GET("/empty", func(c *gin.Context) { c.Status(http.StatusNoContent) })
	r.GET("/stream", func(c *gin.Context) {
		for i := range 3 {
			fmt.Fprintf(c.Writer, "event %d\n", i)
			if err := http.NewResponseController(c.Writer).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}
	})
	r.GET("/ws", func(c *gin.Context) {
		conn, brw, err := http.NewResponseController(c.Writer).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
		brw.Flush()
	})
	r.GET("/metrics", gin.WrapH(prom.Handler(reg)))
	api := r.Group("/api")
	api.GET("/files/:id", func(c *gin.Context) { c.Status(http.StatusAccepted) })
	return r
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

func TestGin(t *testing.T) {
	for _, recovery := range []bool{true, false} {
		t.Run(fmt.Sprintf("recovery=%v", recovery), func(t *testing.T) {
			reg := prom.NewRegistry()
			s := serve(t, newEngine(t, reg, recovery))
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
				{"GET", "/empty", 204},
				{"GET", "/no/such/page", 404},
				{"GET", "/api/nothing", 404},
				{"FOO", "/users/1", 404},
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
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/empty", "code": "204"}, 1)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": httpmetrics.Unmatched, "code": "404"}, 2)
			want(t, reg, resp, prom.Labels{"method": "other", "route": httpmetrics.Unmatched, "code": "404"}, 1)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/stream", "code": "200"}, 1)
			want(t, reg, httpmetrics.PanicsName, prom.Labels{"method": "GET", "route": "/boom"}, 1)
			want(t, reg, resp, prom.Labels{"method": "GET", "route": "/boom", "code": "500"}, 1)
			want(t, reg, req, prom.Labels{"method": "GET", "route": "/metrics"}, 0)
			c, _ := reg.Get(req)
			for labels := range c.(*prom.Counter).All() {
				if strings.Contains(labels["route"], "such") || strings.Contains(labels["route"], "nothing") {
					t.Errorf("a raw path became a route: %v", labels)
				}
			}
		})
	}
}

func TestGinSizesAndGrouping(t *testing.T) {
	reg := prom.NewRegistry()
	s := serve(t, newEngine(t, reg, true, httpmetrics.WithSizes(), httpmetrics.WithGroupedStatusCodes()))
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

func TestGinHijack(t *testing.T) {
	reg := prom.NewRegistry()
	s := serve(t, newEngine(t, reg, true))
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

// TestSameMetricsAsCore checks that gin records the metrics that the core
// middleware records, with the same names and label names.
func TestSameMetricsAsCore(t *testing.T) {
	ginReg, coreReg := prom.NewRegistry(), prom.NewRegistry()
	do(t, serve(t, newEngine(t, ginReg, true, httpmetrics.WithSizes())), "GET", "/")
	mw, err := httpmetrics.New(httpmetrics.WithRegistry(coreReg), httpmetrics.WithSizes())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "gin") })
	do(t, serve(t, mw.Wrap(mux)), "GET", "/")
	a := strings.ReplaceAll(shape(t, ginReg), `route="/"`, `route="/{$}"`)
	if b := shape(t, coreReg); a != b {
		t.Errorf("gin records\n%s\nthe core middleware\n%s", a, b)
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
	a, b := serve(t, newEngine(t, reg, true)), serve(t, newEngine(t, reg, true))
	do(t, a, "GET", "/users/1")
	do(t, b, "GET", "/users/2")
	want(t, reg, httpmetrics.RequestsName, prom.Labels{"method": "GET", "route": "/users/:user_id"}, 2)
}
