package promgin_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/promgo/prom/internal/adaptertest"

	"github.com/gin-gonic/gin"
	"github.com/promgo/prom"
	promgin "github.com/promgo/prom/contrib/gin"
	"github.com/promgo/prom/httpmetrics"
	"github.com/promgo/prom/promtest"
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

func TestGin(t *testing.T) {
	for _, recovery := range []bool{true, false} {
		t.Run(fmt.Sprintf("recovery=%v", recovery), func(t *testing.T) {
			reg := prom.NewRegistry()
			s := adaptertest.Serve(t, newEngine(t, reg, recovery))
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
				if got := adaptertest.Do(t, s, c.method, c.path); got != c.code {
					t.Errorf("%s %s: status %d, want %d", c.method, c.path, got, c.code)
				}
			}

			req, resp := httpmetrics.RequestsName, httpmetrics.ResponsesName
			adaptertest.Want(t, reg, req, prom.Labels{"method": "GET", "route": "/users/:user_id"}, 2)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/users/:user_id", "code": "200"}, 2)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/api/files/:id", "code": "202"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/empty", "code": "204"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": httpmetrics.Unmatched, "code": "404"}, 2)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "other", "route": httpmetrics.Unmatched, "code": "404"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/stream", "code": "200"}, 1)
			adaptertest.Want(t, reg, httpmetrics.PanicsName, prom.Labels{"method": "GET", "route": "/boom"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/boom", "code": "500"}, 1)
			adaptertest.Want(t, reg, req, prom.Labels{"method": "GET", "route": "/metrics"}, 0)
			c, _ := reg.Get(req)
			for labels := range c.(*prom.Counter).All() {
				if strings.Contains(labels["route"], "such") || strings.Contains(labels["route"], "nothing") {
					t.Errorf("a raw path became a route: %v", labels)
				}
			}
		})
	}
}

// TestGinInformational: a 103 Early Hints sent before the response is not
// recorded as its status code; gin then sends 200, whatever code the
// handler sets after it.
func TestGinInformational(t *testing.T) {
	reg := prom.NewRegistry()
	r := newEngine(t, reg, true)
	hints := func(c *gin.Context) {
		c.Header("Link", "</style.css>; rel=preload; as=style")
		c.Writer.WriteHeader(http.StatusEarlyHints)
		c.Writer.WriteHeaderNow()
	}
	r.GET("/early/string", func(c *gin.Context) { hints(c); c.String(http.StatusCreated, "x") })
	r.GET("/early/nothing", func(c *gin.Context) { hints(c) })
	r.GET("/early/boom", func(c *gin.Context) { hints(c); panic("boom") })
	s := adaptertest.Serve(t, r)
	for _, c := range []struct {
		path string
		code int
	}{
		{"/early/string", 200},
		{"/early/nothing", 200},
		{"/early/boom", 200}, // gin.Recovery cannot set its 500 after the 103
	} {
		if got := adaptertest.Do(t, s, "GET", c.path); got != c.code {
			t.Errorf("GET %s: status %d, want %d", c.path, got, c.code)
		}
		adaptertest.Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": c.path, "code": strconv.Itoa(c.code)}, 1)
		adaptertest.Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": c.path, "code": "103"}, 0)
	}
}

func TestGinSizesAndGrouping(t *testing.T) {
	reg := prom.NewRegistry()
	adaptertest.SizesAndGrouping(t, adaptertest.Serve(t, newEngine(t, reg, true, httpmetrics.WithSizes(), httpmetrics.WithGroupedStatusCodes())), reg, "/users/:user_id")
}

func TestGinHijack(t *testing.T) {
	reg := prom.NewRegistry()
	adaptertest.Hijack(t, adaptertest.Serve(t, newEngine(t, reg, true)), reg)
}

// TestSameMetricsAsCore checks that gin records the metrics that the core
// middleware records, with the same names and label names.
func TestSameMetricsAsCore(t *testing.T) {
	ginReg, coreReg := prom.NewRegistry(), prom.NewRegistry()
	adaptertest.Do(t, adaptertest.Serve(t, newEngine(t, ginReg, true, httpmetrics.WithSizes())), "GET", "/")
	mw, err := httpmetrics.New(httpmetrics.WithRegistry(coreReg), httpmetrics.WithSizes())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "gin") })
	adaptertest.Do(t, adaptertest.Serve(t, mw.Wrap(mux)), "GET", "/")
	a := strings.ReplaceAll(adaptertest.Shape(t, ginReg), `route="/"`, `route="/{$}"`)
	if b := adaptertest.Shape(t, coreReg); a != b {
		t.Errorf("gin records\n%s\nthe core middleware\n%s", a, b)
	}
}

// TestNewTwice creates the middleware twice on one registry.
func TestNewTwice(t *testing.T) {
	reg := prom.NewRegistry()
	a, b := adaptertest.Serve(t, newEngine(t, reg, true)), adaptertest.Serve(t, newEngine(t, reg, true))
	adaptertest.Do(t, a, "GET", "/users/1")
	adaptertest.Do(t, b, "GET", "/users/2")
	adaptertest.Want(t, reg, httpmetrics.RequestsName, prom.Labels{"method": "GET", "route": "/users/:user_id"}, 2)
}

// TestGinRedirects checks what the package doc says of gin's trailing-slash
// and fixed-path redirects, which gin sends before any middleware runs:
// this middleware records nothing for them; with the redirects off, gin
// answers 404, recorded as unmatched; and the core middleware wrapping the
// engine, with the routes named by httpmetrics.SetRoute, records them as
// unmatched with their status code.
func TestGinRedirects(t *testing.T) {
	// noRedirects sends a request on a fresh connection without following
	// a redirect and returns the status.
	noRedirects := func(t *testing.T, url, method, path string) int {
		t.Helper()
		req, err := http.NewRequest(method, url+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{
			Transport:     &http.Transport{DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	// requests is the number of requests recorded.
	requests := func(t *testing.T, reg *prom.Registry) float64 {
		t.Helper()
		c, _ := reg.Get(httpmetrics.RequestsName)
		n := 0.0
		for _, v := range c.(*prom.Counter).All() {
			n += v
		}
		return n
	}
	for _, setup := range []struct {
		name string
		// serve returns the handler to serve, built on reg.
		serve func(t *testing.T, reg *prom.Registry, redirects bool) http.Handler
	}{
		{"promgin", func(t *testing.T, reg *prom.Registry, redirects bool) http.Handler {
			r := newEngine(t, reg, true)
			r.RedirectTrailingSlash, r.RedirectFixedPath = redirects, redirects
			r.POST("/users/:user_id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
			return r
		}},
		{"core", func(t *testing.T, reg *prom.Registry, redirects bool) http.Handler {
			mw, err := httpmetrics.New(httpmetrics.WithRegistry(reg))
			if err != nil {
				t.Fatal(err)
			}
			r := gin.New()
			r.RedirectTrailingSlash, r.RedirectFixedPath = redirects, redirects
			r.Use(gin.Recovery(), func(c *gin.Context) {
				httpmetrics.SetRoute(c.Writer, c.FullPath())
				c.Next()
			})
			r.GET("/users/:user_id", func(c *gin.Context) { c.String(200, c.Param("user_id")) })
			r.POST("/users/:user_id", func(c *gin.Context) { c.Status(http.StatusNoContent) })
			return mw.Wrap(r)
		}},
	} {
		for _, c := range []struct {
			redirects    bool
			method, path string
			code         int
			recorded     bool // by this package's middleware
		}{
			{true, "GET", "/users/1/", 301, false},
			{true, "POST", "/users/1/", 307, false},
			{true, "GET", "/USERS/1", 301, false},
			{true, "GET", "/users//1", 301, false},
			{false, "GET", "/users/1/", 404, true},
			{false, "POST", "/users/1/", 404, true},
			{false, "GET", "/USERS/1", 404, true},
		} {
			name := fmt.Sprintf("%s/redirects=%v/%s_%s", setup.name, c.redirects, c.method, c.path)
			t.Run(name, func(t *testing.T) {
				reg := prom.NewRegistry()
				s := adaptertest.Serve(t, setup.serve(t, reg, c.redirects))
				if got := noRedirects(t, s.URL, c.method, c.path); got != c.code {
					t.Errorf("%s %s: status %d, want %d", c.method, c.path, got, c.code)
				}
				if setup.name == "promgin" && !c.recorded {
					if n := requests(t, reg); n != 0 {
						t.Errorf("%s %s: %v requests recorded, want none", c.method, c.path, n)
					}
				} else {
					adaptertest.Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": c.method, "route": httpmetrics.Unmatched, "code": strconv.Itoa(c.code)}, 1)
				}
				// The route itself is recorded as usual.
				if got := adaptertest.Do(t, s, "GET", "/users/1"); got != 200 {
					t.Errorf("GET /users/1: status %d, want 200", got)
				}
				adaptertest.Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": "/users/:user_id", "code": "200"}, 1)
			})
		}
	}
}

// TestGinHandleContext: a handler that dispatches the request again with
// the engine's HandleContext, which runs the middleware again, has it
// recorded once, with the route it ended at.
func TestGinHandleContext(t *testing.T) {
	reg := prom.NewRegistry()
	r := gin.New()
	r.Use(gin.Recovery(), prom.Must(promgin.New(httpmetrics.WithRegistry(reg))))
	r.GET("/new", func(c *gin.Context) { c.String(http.StatusOK, "new") })
	r.GET("/old", func(c *gin.Context) {
		c.Request.URL.Path = "/new"
		r.HandleContext(c)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/old")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	b, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{
		`http_server_requests_total{method="GET",route="/new"} 1`,
		`http_server_responses_total{method="GET",route="/new",code="200"} 1`,
		`http_server_request_duration_seconds_count{method="GET",route="/new"} 1`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("lacks %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, `route="/old"`) {
		t.Errorf("the first route is recorded too:\n%s", got)
	}
}

// bodyLogWriter is a common gin middleware's writer: it counts the body
// it passes on, and replaces c.Writer for the rest of the request.
type bodyLogWriter struct {
	gin.ResponseWriter
	n int
}

func (w *bodyLogWriter) Write(b []byte) (int, error) {
	w.n += len(b)
	return w.ResponseWriter.Write(b)
}

// TestGinLaterWriterReplaced: a middleware after promgin that replaces
// c.Writer (and does not put it back) leaves the request recorded once,
// with its route, also when the handler then dispatches it again.
func TestGinLaterWriterReplaced(t *testing.T) {
	for _, redispatch := range []bool{false, true} {
		reg := prom.NewRegistry()
		r := gin.New()
		r.Use(gin.Recovery(), prom.Must(promgin.New(httpmetrics.WithRegistry(reg))), func(c *gin.Context) {
			c.Writer = &bodyLogWriter{ResponseWriter: c.Writer}
			c.Next()
		})
		r.GET("/users/:id", func(c *gin.Context) { c.String(http.StatusOK, "hi") })
		r.GET("/old", func(c *gin.Context) {
			c.Request.URL.Path = "/users/2"
			r.HandleContext(c)
		})
		path := "/users/1"
		if redispatch {
			path = "/old"
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK || rec.Body.String() != "hi" {
			t.Fatalf("%s: status %d, body %q", path, rec.Code, rec.Body)
		}
		adaptertest.Want(t, reg, httpmetrics.RequestsName, prom.Labels{"method": "GET", "route": "/users/:id"}, 1)
		adaptertest.Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": "/users/:id", "code": "200"}, 1)
	}
}
