package httpmetrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// tinyRouter stands for a router whose route is known only to itself.
type tinyRouter struct {
	routes map[string]http.HandlerFunc // by prefix
}

// match returns the route template for a path and its handler.
func (t *tinyRouter) match(path string) (string, http.HandlerFunc) {
	for prefix, h := range t.routes {
		if strings.HasPrefix(path, prefix) {
			return prefix + "*", h
		}
	}
	return "", http.NotFound
}

// statusWriter is the router's own ResponseWriter, which knows the status.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// An adapter for a router calls Observe with the router's handler chain and
// a function that reports what the router knows once the chain is done;
// the contrib modules for chi, gin and echo are such adapters.
func ExampleMiddleware_Observe() {
	reg := prom.NewRegistry()
	mw := prom.Must(httpmetrics.New(httpmetrics.WithRegistry(reg)))
	router := &tinyRouter{routes: map[string]http.HandlerFunc{
		"/assets/": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("asset")) },
	}}

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		route, h := router.match(r.URL.Path)
		mw.Observe(r,
			func() { h(sw, r) },
			func(panicked bool) httpmetrics.Observation {
				return httpmetrics.Observation{Route: route, Code: sw.code}
			})
	}))
	defer srv.Close()
	get(srv.URL, "/assets/app.js", "/assets/site.css", "/nothing")

	printSamples(reg, "http_server_responses_total")
	// Output:
	// http_server_responses_total{method="GET",route="/assets/*",code="200"} 2
	// http_server_responses_total{method="GET",route="unmatched",code="404"} 1
}
