package httpmetrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// discardWriter is a ResponseWriter that costs nothing, so that the
// numbers below are the middleware's own.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}

// benchMux routes like a small service.
func benchMux() *http.ServeMux {
	mux := http.NewServeMux()
	body := []byte("ok")
	mux.HandleFunc("GET /users/{user_id}", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { w.Write(body) })
	return mux
}

// TestAllocs holds the middleware to its budget: one allocation per
// request (the ResponseWriter wrapper) on top of what the mux itself does,
// and none for Observe.
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need a normal run")
	}
	w := &discardWriter{h: http.Header{}}
	r := httptest.NewRequest(http.MethodGet, "/users/42", nil)
	mux := benchMux()
	base := testing.AllocsPerRun(1000, func() { mux.ServeHTTP(w, r) })

	for name, opts := range map[string][]httpmetrics.Option{
		"default": nil,
		"grouped": {httpmetrics.WithGroupedStatusCodes()},
		"sizes":   {httpmetrics.WithSizes()},
	} {
		mw, _ := newMiddleware(t, opts...)
		h := mw.Wrap(mux)
		h.ServeHTTP(w, r) // creates the series
		if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }) - base; n > 1 {
			t.Errorf("%s: the middleware allocates %v times per request; want at most 1", name, n)
		}
	}

	// Requests whose series the middleware cannot keep between requests
	// allocate no more: a metric at its series limit (the overflow series
	// is never kept), and combinations past the 4096 it keeps.
	mw, reg := newMiddleware(t)
	reg.SetMaxSeries(1)
	h := mw.Wrap(mux)
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil)) // takes the one series
	h.ServeHTTP(w, r)
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, r) }) - base; n > 1 {
		t.Errorf("at the series limit: the middleware allocates %v times per request; want at most 1", n)
	}
	mw, _ = newMiddleware(t, httpmetrics.WithRouteFunc(func(r *http.Request) string { return r.URL.Path }))
	h = mw.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for i := range 4100 {
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, fmt.Sprintf("/r/%d", i), nil))
	}
	last := httptest.NewRequest(http.MethodGet, "/r/4099", nil)
	if n := testing.AllocsPerRun(1000, func() { h.ServeHTTP(w, last) }); n > 1 {
		t.Errorf("past the combinations kept: the middleware allocates %v times per request; want at most 1", n)
	}

	mw, _ = newMiddleware(t)
	serve := func() {}
	report := func(bool) httpmetrics.Observation {
		return httpmetrics.Observation{Route: "/users/{user_id}", Code: 200, ResponseSize: 2}
	}
	mw.Observe(r, serve, report)
	if n := testing.AllocsPerRun(1000, func() { mw.Observe(r, serve, report) }); n != 0 {
		t.Errorf("Observe allocates %v times per request; want 0", n)
	}
}

// BenchmarkMiddleware measures a request through a ServeMux with and
// without the middleware; the difference is the middleware's cost.
func BenchmarkMiddleware(b *testing.B) {
	r := httptest.NewRequest(http.MethodGet, "/users/42", nil)
	run := func(b *testing.B, h http.Handler) {
		b.ReportAllocs()
		w := &discardWriter{h: http.Header{}}
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	}
	newMW := func(b *testing.B, opts ...httpmetrics.Option) *httpmetrics.Middleware {
		mw, err := httpmetrics.New(append([]httpmetrics.Option{httpmetrics.WithRegistry(prom.NewRegistry())}, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		return mw
	}
	b.Run("mux-alone", func(b *testing.B) { run(b, benchMux()) })
	b.Run("mux+middleware", func(b *testing.B) { run(b, newMW(b).Wrap(benchMux())) })
	b.Run("mux+middleware+sizes", func(b *testing.B) { run(b, newMW(b, httpmetrics.WithSizes()).Wrap(benchMux())) })
	b.Run("handler+middleware", func(b *testing.B) {
		// No mux: the middleware around a bare handler (route unmatched).
		run(b, newMW(b).Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	})
	b.Run("Observe", func(b *testing.B) {
		mw := newMW(b)
		b.ReportAllocs()
		report := func(bool) httpmetrics.Observation {
			return httpmetrics.Observation{Route: "/users/{user_id}", Code: 200, ResponseSize: 2}
		}
		for b.Loop() {
			mw.Observe(r, func() {}, report)
		}
	})
	b.Run("mux+middleware-parallel", func(b *testing.B) {
		h := newMW(b).Wrap(benchMux())
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			w := &discardWriter{h: http.Header{}}
			r := httptest.NewRequest(http.MethodGet, "/users/42", nil)
			for pb.Next() {
				h.ServeHTTP(w, r)
			}
		})
	})
}
