package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// time the instrumentation and the mux, not a recorder.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

var okBody = []byte("ok")

func userHandler(w http.ResponseWriter, _ *http.Request) { w.Write(okBody) }

func usersMux(h http.Handler) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /users/{user_id}", h)
	return mux
}

// middlewareHandlers builds the same service three ways: the mux alone,
// wrapped in prom's httpmetrics, and with client_golang's documented
// promhttp chain (in-flight gauge, duration histogram and counter by code
// and method, curried with the route template) around the route.
func middlewareHandlers() map[string]http.Handler {
	mw, err := httpmetrics.New(httpmetrics.WithRegistry(prom.NewRegistry()))
	if err != nil {
		panic(err)
	}
	reg := prometheus.NewRegistry()
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{Name: "http_requests_in_flight", Help: "h"})
	counter := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "http_requests_total", Help: "h"}, []string{"handler", "code", "method"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "http_request_duration_seconds", Help: "h", Buckets: prometheus.DefBuckets}, []string{"handler", "method"})
	reg.MustRegister(inFlight, counter, duration)
	route := prometheus.Labels{"handler": "/users/{user_id}"}
	cg := promhttp.InstrumentHandlerInFlight(inFlight,
		promhttp.InstrumentHandlerDuration(duration.MustCurryWith(route),
			promhttp.InstrumentHandlerCounter(counter.MustCurryWith(route), http.HandlerFunc(userHandler))))
	return map[string]http.Handler{
		"prom":         mw.Wrap(usersMux(http.HandlerFunc(userHandler))),
		"clientgolang": usersMux(cg),
		"mux_only":     usersMux(http.HandlerFunc(userHandler)),
	}
}

// BenchmarkMiddleware times one request through each handler; mux_only is
// the floor both instrumentations add to.
func BenchmarkMiddleware(b *testing.B) {
	hs := middlewareHandlers()
	for _, lib := range []string{"prom", "clientgolang", "mux_only"} {
		b.Run(lib, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/users/42", nil)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				hs[lib].ServeHTTP(w, r)
			}
		})
	}
}

// BenchmarkMiddlewareParallel is BenchmarkMiddleware from every P at once.
func BenchmarkMiddlewareParallel(b *testing.B) {
	hs := middlewareHandlers()
	for _, lib := range []string{"prom", "clientgolang", "mux_only"} {
		b.Run(lib, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := httptest.NewRequest(http.MethodGet, "/users/42", nil)
				w := &discardWriter{h: http.Header{}}
				for pb.Next() {
					hs[lib].ServeHTTP(w, r)
				}
			})
		})
	}
}
