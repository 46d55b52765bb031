package promchi_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/promgo/prom/internal/adaptertest"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/promgo/prom"
	promchi "github.com/promgo/prom/contrib/chi"
	"github.com/promgo/prom/httpmetrics"
)

// newRouter is the aioprometheus FastAPI example's app on chi, plus a
// mounted API, a panicking route, a streaming route and a hijacking one.
func newRouter(t *testing.T, reg *prom.Registry, opts ...httpmetrics.Option) *chi.Mux {
	t.Helper()
	mw, err := promchi.New(append([]httpmetrics.Option{httpmetrics.WithRegistry(reg)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(mw)
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "chi") })
	r.Get("/users/{user_id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, chi.URLParam(r, "user_id"))
	})
	r.Get("/boom", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	r.Get("/stream", func(w http.ResponseWriter, r *http.Request) {
		for i := range 3 {
			fmt.Fprintf(w, "event %d\n", i)
			if err := http.NewResponseController(w).Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
		}
	})
	r.Get("/ws", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
		brw.Flush()
	})
	r.Handle("/metrics", prom.Handler(reg))
	r.Route("/api", func(r chi.Router) {
		r.Get("/files/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	})
	return r
}

func TestChi(t *testing.T) {
	reg := prom.NewRegistry()
	s := adaptertest.Serve(t, newRouter(t, reg))

	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/", 200},
		{"GET", "/users/1", 200},
		{"GET", "/users/2", 200},
		{"GET", "/api/files/7", 202},
		{"GET", "/api/files/8", 202},
		{"GET", "/no/such/page", 404},
		{"GET", "/api/nothing", 404},
		{"POST", "/users/1", 405},
		{"FOO", "/users/1", 405},
		{"GET", "/metrics", 200},
		{"GET", "/boom", 0},
		{"GET", "/stream", 200},
	} {
		if got := adaptertest.Do(t, s, c.method, c.path); got != c.code {
			t.Errorf("%s %s: status %d, want %d", c.method, c.path, got, c.code)
		}
	}

	req := httpmetrics.RequestsName
	resp := httpmetrics.ResponsesName
	adaptertest.Want(t, reg, req, prom.Labels{"method": "GET", "route": "/users/{user_id}"}, 2)
	adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/users/{user_id}", "code": "200"}, 2)
	adaptertest.Want(t, reg, req, prom.Labels{"method": "GET", "route": "/"}, 1)
	adaptertest.Want(t, reg, req, prom.Labels{"method": "GET", "route": "/api/files/{id}"}, 2)
	adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/api/files/{id}", "code": "202"}, 2)
	adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": httpmetrics.Unmatched, "code": "404"}, 1)
	adaptertest.Want(t, reg, resp, prom.Labels{"method": "POST", "route": httpmetrics.Unmatched, "code": "405"}, 1)
	adaptertest.Want(t, reg, resp, prom.Labels{"method": "other", "route": httpmetrics.Unmatched, "code": "405"}, 1)
	// Under a mounted router, a path it does not know has the mount's
	// pattern: one series per mount.
	adaptertest.Want(t, reg, resp, prom.Labels{"method": "GET", "route": "/api/*", "code": "404"}, 1)
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
}

// TestChiRecoverer puts chi's Recoverer before the metrics: it answers 500
// to the panic that the metrics middleware lets through.
func TestChiRecoverer(t *testing.T) {
	reg := prom.NewRegistry()
	mw, err := promchi.New(httpmetrics.WithRegistry(reg), httpmetrics.WithGroupedStatusCodes())
	if err != nil {
		t.Fatal(err)
	}
	r := chi.NewRouter()
	r.Use(middleware.Recoverer, mw)
	r.Get("/boom/{n}", func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	s := adaptertest.Serve(t, r)
	for i := range 2 {
		if got := adaptertest.Do(t, s, "GET", fmt.Sprintf("/boom/%d", i)); got != 500 {
			t.Errorf("status %d, want 500 from Recoverer", got)
		}
	}
	adaptertest.Want(t, reg, httpmetrics.PanicsName, prom.Labels{"method": "GET", "route": "/boom/{n}"}, 2)
	adaptertest.Want(t, reg, httpmetrics.ResponsesName, prom.Labels{"method": "GET", "route": "/boom/{n}", "code": "5xx"}, 2)
}

func TestChiHijack(t *testing.T) {
	reg := prom.NewRegistry()
	adaptertest.Hijack(t, adaptertest.Serve(t, newRouter(t, reg)), reg)
}

// TestSameMetricsAsCore checks that chi records the metrics that the core
// middleware records, with the same names and label names.
func TestSameMetricsAsCore(t *testing.T) {
	chiReg, coreReg := prom.NewRegistry(), prom.NewRegistry()
	serveOnce := func(h http.Handler) { adaptertest.Do(t, adaptertest.Serve(t, h), "GET", "/users/1") }
	serveOnce(newRouter(t, chiReg, httpmetrics.WithSizes()))
	mw, err := httpmetrics.New(httpmetrics.WithRegistry(coreReg), httpmetrics.WithSizes())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{user_id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.PathValue("user_id"))
	})
	serveOnce(mw.Wrap(mux))
	if a, b := adaptertest.Shape(t, chiReg), adaptertest.Shape(t, coreReg); a != b {
		t.Errorf("chi records\n%s\nthe core middleware\n%s", a, b)
	}
}
