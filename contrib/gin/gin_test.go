package promgin_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/promgo/prom/internal/adaptertest"

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
