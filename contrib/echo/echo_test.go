package promecho_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/promgo/prom/internal/adaptertest"

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

func TestEcho(t *testing.T) {
	for _, recovery := range []bool{true, false} {
		t.Run(fmt.Sprintf("recovery=%v", recovery), func(t *testing.T) {
			reg := prom.NewRegistry()
			s := adaptertest.Serve(t, newEcho(t, reg, recovery))
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
				if got := adaptertest.Do(t, s, c.method, c.path); got != c.code {
					t.Errorf("%s %s: status %d, want %d", c.method, c.path, got, c.code)
				}
			}

			req, resp := httpmetrics.RequestsName, httpmetrics.ResponsesName
			adaptertest.Want(t, reg, req, prom.Labels{"method": "GET", "route": "/users/:user_id"}, 2)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/users/:user_id", "code": "200"}, 2)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/api/files/:id", "code": "202"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/empty", "code": "200"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/fail", "code": "500"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/teapot", "code": "418"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": httpmetrics.Unmatched, "code": "404"}, 2)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "POST", "route": httpmetrics.Unmatched, "code": "405"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "other", "route": httpmetrics.Unmatched, "code": "405"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/stream", "code": "200"}, 1)
			adaptertest.Want(t, reg, httpmetrics.PanicsName, prom.Labels{"method": "GET", "route": "/boom"}, 1)
			adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/boom", "code": "500"}, 1)
			adaptertest.Want(t, reg, req, prom.Labels{"method": "GET", "route": "/metrics"}, 0)
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
	adaptertest.SizesAndGrouping(t, adaptertest.Serve(t, newEcho(t, reg, true, httpmetrics.WithSizes(), httpmetrics.WithGroupedStatusCodes())), reg, "/users/:user_id")
}

func TestEchoHijack(t *testing.T) {
	reg := prom.NewRegistry()
	adaptertest.Hijack(t, adaptertest.Serve(t, newEcho(t, reg, true)), reg)
}

// TestSameMetricsAsCore checks that Echo records the metrics that the core
// middleware records, with the same names and label names.
func TestSameMetricsAsCore(t *testing.T) {
	echoReg, coreReg := prom.NewRegistry(), prom.NewRegistry()
	adaptertest.Do(t, adaptertest.Serve(t, newEcho(t, echoReg, true, httpmetrics.WithSizes())), "GET", "/")
	mw, err := httpmetrics.New(httpmetrics.WithRegistry(coreReg), httpmetrics.WithSizes())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "echo") })
	adaptertest.Do(t, adaptertest.Serve(t, mw.Wrap(mux)), "GET", "/")
	a := strings.ReplaceAll(adaptertest.Shape(t, echoReg), `route="/"`, `route="/{$}"`)
	if b := adaptertest.Shape(t, coreReg); a != b {
		t.Errorf("Echo records\n%s\nthe core middleware\n%s", a, b)
	}
}

// TestNewTwice creates the middleware twice on one registry.
func TestNewTwice(t *testing.T) {
	reg := prom.NewRegistry()
	a, b := adaptertest.Serve(t, newEcho(t, reg, true)), adaptertest.Serve(t, newEcho(t, reg, true))
	adaptertest.Do(t, a, "GET", "/users/1")
	adaptertest.Do(t, b, "GET", "/users/2")
	adaptertest.Want(t, reg, httpmetrics.RequestsName, prom.Labels{"method": "GET", "route": "/users/:user_id"}, 2)
}
