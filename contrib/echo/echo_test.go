package promecho_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

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

// TestEchoInformational checks that an informational response sent before
// the final one (103 Early Hints) is not recorded as the status code, as
// httpmetrics.Wrap does, while 101 Switching Protocols, which no other
// follows, is.
func TestEchoInformational(t *testing.T) {
	reg := prom.NewRegistry()
	e := newEcho(t, reg, true)
	hints := func(c echo.Context) {
		c.Response().Header().Set("Link", "</style.css>; rel=preload; as=style")
		c.Response().WriteHeader(http.StatusEarlyHints)
	}
	// Echo's Response ignores a WriteHeader after the 103 (it logs
	// "response already committed"), so the body goes out with 200.
	e.GET("/early/string", func(c echo.Context) error { hints(c); return c.String(http.StatusCreated, "x") })
	e.GET("/early/nothing", func(c echo.Context) error { hints(c); return nil })
	e.GET("/early/flush", func(c echo.Context) error { hints(c); c.Response().Flush(); return nil })
	e.GET("/early/direct", func(c echo.Context) error {
		hints(c)
		c.Response().Writer.WriteHeader(http.StatusAccepted)
		return nil
	})
	e.GET("/early/error", func(c echo.Context) error {
		c.Response().Writer.WriteHeader(http.StatusEarlyHints)
		return echo.NewHTTPError(http.StatusTeapot)
	})
	e.GET("/switch", func(c echo.Context) error { c.Response().WriteHeader(http.StatusSwitchingProtocols); return nil })
	s := adaptertest.Serve(t, e)
	for _, c := range []struct {
		path string
		code int
	}{
		{"/early/string", 200},
		{"/early/nothing", 200},
		{"/early/flush", 200},
		{"/early/direct", 202},
		{"/early/error", 418},
	} {
		if got := adaptertest.Do(t, s, "GET", c.path); got != c.code {
			t.Errorf("GET %s: status %d, want %d", c.path, got, c.code)
		}
		code := strconv.Itoa(c.code)
		adaptertest.Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": c.path, "code": code}, 1)
		adaptertest.Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": c.path, "code": "103"}, 0)
	}

	// The Go client does not return a 101 to a request that asked for no
	// upgrade: read it off the connection.
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /switch HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("GET /switch: status %d, want 101", resp.StatusCode)
	}
	labels := prom.Labels{"method": "GET", "route": "/switch", "code": "101"}
	for deadline := time.Now().Add(5 * time.Second); adaptertest.Counter(t, reg, httpmetrics.ResponsesName, labels) == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	adaptertest.Want(t, reg, httpmetrics.ResponsesName, labels, 1)
}

// TestEchoGroupNotFound checks that the catch-all routes that Group.Use
// registers for a group with middleware, so that its middleware runs for
// paths that no route takes, count as no route, and that the routes an
// application registers itself keep their paths: an explicit /* route
// that answers 404, and a RouteNotFound route that answers with content.
func TestEchoGroupNotFound(t *testing.T) {
	reg := prom.NewRegistry()
	e := newEcho(t, reg, true)
	// The group's middleware denies requests with ?deny, before any
	// handler runs.
	deny := func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.QueryParam("deny") != "" {
				return echo.NewHTTPError(http.StatusForbidden)
			}
			return next(c)
		}
	}
	admin := e.Group("/admin", deny)
	admin.GET("/users/:id", func(c echo.Context) error { return c.String(200, c.Param("id")) })
	admin.POST("/users", func(c echo.Context) error { return c.NoContent(http.StatusCreated) })
	files := e.Group("/files")
	files.Use(deny)
	files.GET("/*", func(c echo.Context) error {
		if c.Param("*") == "missing" {
			return c.NoContent(http.StatusNotFound)
		}
		return c.String(200, c.Param("*"))
	})
	e.RouteNotFound("/app/*", func(c echo.Context) error { return c.String(200, "index") })
	e.RouteNotFound("/old/*", func(c echo.Context) error { return c.NoContent(http.StatusGone) })
	s := adaptertest.Serve(t, e)

	for _, c := range []struct {
		method, path string
		code         int
		route        string
	}{
		{"GET", "/admin/users/1", 200, "/admin/users/:id"},
		{"POST", "/admin/users", 201, "/admin/users"},
		{"GET", "/admin/users/1?deny=1", 403, "/admin/users/:id"},
		{"GET", "/admin/no/such/page", 404, httpmetrics.Unmatched},
		{"GET", "/admin", 404, httpmetrics.Unmatched},
		{"GET", "/admin/", 404, httpmetrics.Unmatched},
		{"GET", "/admin/nope?deny=1", 403, httpmetrics.Unmatched},
		{"DELETE", "/admin/users/1", 404, httpmetrics.Unmatched},
		{"GET", "/files/a.txt", 200, "/files/*"},
		{"GET", "/files/missing", 404, "/files/*"},
		{"POST", "/files/a.txt", 404, httpmetrics.Unmatched},
		{"GET", "/app/settings", 200, "/app/*"},
		{"GET", "/old/page", 410, httpmetrics.Unmatched},
	} {
		labels := prom.Labels{"method": c.method, "route": c.route, "code": strconv.Itoa(c.code)}
		before := adaptertest.Counter(t, reg, httpmetrics.ResponsesName, labels)
		if got := adaptertest.Do(t, s, c.method, c.path); got != c.code {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, got, c.code)
		}
		if got := adaptertest.Counter(t, reg, httpmetrics.ResponsesName, labels); got != before+1 {
			body, _, _ := prom.Render(reg, "")
			t.Errorf("%s %s: %v counted %v times, want once; exposition:\n%s", c.method, c.path, labels, got-before, body)
		}
	}
}
