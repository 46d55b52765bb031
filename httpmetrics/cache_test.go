package httpmetrics_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// sendN serves n requests for path through h.
func sendN(h http.Handler, method, path string, n int) {
	for range n {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}
}

// routeMux answers GET /a/{id} with 200 and GET /b with 201.
func routeMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a/{id}", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /b", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	return mux
}

// TestRemovedSeriesRecordedAgain removes the series that requests of a
// route update (by Reset or Delete, as a user of the registry may) and
// checks that the next requests are recorded in new series, visible to a
// scrape: the middleware keeps the series it found for each route between
// requests, and must not keep recording into removed ones.
func TestRemovedSeriesRecordedAgain(t *testing.T) {
	tests := []struct {
		name   string
		remove func(t *testing.T, reg *prom.Registry)
		// The counts for GET /a/{id} after 3 requests, the removal and 2
		// more: requests, responses, duration observations.
		requests, responses float64
		durations           uint64
	}{
		{"requests Reset", func(t *testing.T, reg *prom.Registry) {
			counterOf(t, reg, httpmetrics.RequestsName).Reset()
		}, 2, 5, 5},
		{"responses Reset", func(t *testing.T, reg *prom.Registry) {
			counterOf(t, reg, httpmetrics.ResponsesName).Reset()
		}, 5, 2, 5},
		{"duration Reset", func(t *testing.T, reg *prom.Registry) {
			histogramOf(t, reg, httpmetrics.DurationName).Reset()
		}, 5, 5, 2},
		{"requests DeleteValues", func(t *testing.T, reg *prom.Registry) {
			if !counterOf(t, reg, httpmetrics.RequestsName).DeleteValues("GET", "/a/{id}") {
				t.Fatal("DeleteValues found no series")
			}
		}, 2, 5, 5},
		{"responses Delete", func(t *testing.T, reg *prom.Registry) {
			if !counterOf(t, reg, httpmetrics.ResponsesName).Delete(prom.Labels{"method": "GET", "route": "/a/{id}", "code": "200"}) {
				t.Fatal("Delete found no series")
			}
		}, 5, 2, 5},
		{"duration DeleteValues", func(t *testing.T, reg *prom.Registry) {
			if !histogramOf(t, reg, httpmetrics.DurationName).DeleteValues("GET", "/a/{id}") {
				t.Fatal("DeleteValues found no series")
			}
		}, 5, 5, 2},
		{"another route's series deleted", func(t *testing.T, reg *prom.Registry) {
			counterOf(t, reg, httpmetrics.RequestsName).DeleteValues("GET", "/b")
		}, 5, 5, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mw, reg := newMiddleware(t)
			h := mw.Wrap(routeMux())
			sendN(h, "GET", "/a/1", 3)
			sendN(h, "GET", "/b", 1)
			tt.remove(t, reg)
			sendN(h, "GET", "/a/2", 2)
			wantValue(t, "requests", requests(t, reg, "GET", "/a/{id}"), tt.requests)
			wantValue(t, "responses", responses(t, reg, "GET", "/a/{id}", "200"), tt.responses)
			if n := durationCount(t, reg, "GET", "/a/{id}"); n != tt.durations {
				t.Errorf("duration count = %d, want %d", n, tt.durations)
			}
			// The scrape shows the same.
			want := fmt.Sprintf(`http_server_requests_total{method="GET",route="/a/{id}"} %v`, tt.requests)
			if got := samples(t, reg, "http_server_requests_total{method=\"GET\",route=\"/a/"); len(got) != 1 || got[0] != want {
				t.Errorf("scrape has %q, want %q", got, want)
			}
		})
	}
}

// TestOverflowSeriesNotKept fills the metrics to the registry's series
// limit, so that a third route's requests go to the overflow series, then
// raises the limit: the third route's next requests get series of their
// own.
func TestOverflowSeriesNotKept(t *testing.T) {
	mw, reg := newMiddleware(t)
	reg.SetMaxSeries(2)
	h := mw.Wrap(routeMux())
	sendN(h, "GET", "/a/1", 1)
	sendN(h, "GET", "/b", 1)
	sendN(h, "GET", "/none", 2) // unmatched: the third route, past the limit
	wantValue(t, "unmatched requests at the limit", requests(t, reg, "GET", httpmetrics.Unmatched), 0)
	overflow := `http_server_requests_total{prom_overflow="true"} 2`
	if got := samples(t, reg, "http_server_requests_total{prom"); len(got) != 1 || got[0] != overflow {
		t.Fatalf("scrape has %q, want %q", got, overflow)
	}

	reg.SetMaxSeries(100)
	sendN(h, "GET", "/none", 3)
	wantValue(t, "unmatched requests after raising the limit", requests(t, reg, "GET", httpmetrics.Unmatched), 3)
	wantValue(t, "unmatched responses after raising the limit", responses(t, reg, "GET", httpmetrics.Unmatched, "404"), 3)
}

// TestExpiringMetricsReused creates one of the middleware's metrics with
// an idle expiry before the middleware, which then records into it: a
// series in use must not expire, so every request is counted, whichever
// of the metrics expires.
func TestExpiringMetricsReused(t *testing.T) {
	const expiry = 80 * time.Millisecond
	expiring := []prom.Option{prom.WithLabelNames("method", "route"), prom.WithIdleExpiry(expiry)}
	tests := []struct {
		name   string
		create func(reg *prom.Registry) error
		count  func(t *testing.T, reg *prom.Registry) float64
	}{
		{httpmetrics.RequestsName, func(reg *prom.Registry) error {
			_, err := prom.NewCounter(httpmetrics.RequestsName, "Requests.", append(expiring, prom.WithRegistry(reg))...)
			return err
		}, func(t *testing.T, reg *prom.Registry) float64 { return requests(t, reg, "GET", "/a/{id}") }},
		{httpmetrics.ResponsesName, func(reg *prom.Registry) error {
			_, err := prom.NewCounter(httpmetrics.ResponsesName, "Responses.", prom.WithRegistry(reg),
				prom.WithLabelNames("method", "route", "code"), prom.WithIdleExpiry(expiry))
			return err
		}, func(t *testing.T, reg *prom.Registry) float64 { return responses(t, reg, "GET", "/a/{id}", "200") }},
		{httpmetrics.DurationName, func(reg *prom.Registry) error {
			_, err := prom.NewHistogram(httpmetrics.DurationName, "Durations.", append(expiring,
				prom.WithRegistry(reg), prom.WithUnit("seconds"), prom.WithBuckets(prom.DefaultBuckets()...))...)
			return err
		}, func(t *testing.T, reg *prom.Registry) float64 {
			return float64(durationCount(t, reg, "GET", "/a/{id}"))
		}},
		{httpmetrics.ResponseSizeName, func(reg *prom.Registry) error {
			_, err := prom.NewHistogram(httpmetrics.ResponseSizeName, "Sizes.", append(expiring,
				prom.WithRegistry(reg), prom.WithUnit("bytes"), prom.WithBuckets(prom.ExponentialBuckets(64, 4, 10)...))...)
			return err
		}, func(t *testing.T, reg *prom.Registry) float64 {
			v, _ := histogramOf(t, reg, httpmetrics.ResponseSizeName).Get(prom.Labels{"method": "GET", "route": "/a/{id}"})
			return float64(v.Count)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prom.NewRegistry()
			if err := tt.create(reg); err != nil {
				t.Fatal(err)
			}
			mw, err := httpmetrics.New(httpmetrics.WithRegistry(reg), httpmetrics.WithSizes())
			if err != nil {
				t.Fatal(err)
			}
			h := mw.Wrap(routeMux())
			n := 0
			for end := time.Now().Add(4 * expiry); time.Now().Before(end); n++ {
				sendN(h, "GET", "/a/1", 1)
				samples(t, reg, "http_server_") // a scrape sweeps idle series
				time.Sleep(expiry / 16)
			}
			wantValue(t, "count", tt.count(t, reg), float64(n))
		})
	}
}

// TestUnknownSizeMakesNoSeries observes a request whose body size is
// unknown (no Content-Length, no body: what an adapter may pass) with
// WithSizes: its request-size series is not made, so it takes no room
// under the series limit from a later request whose size is known.
func TestUnknownSizeMakesNoSeries(t *testing.T) {
	mw, reg := newMiddleware(t, httpmetrics.WithSizes())
	unknown := httptest.NewRequest(http.MethodGet, "/u", nil)
	unknown.ContentLength, unknown.Body = -1, nil
	report := func(route string) func(bool) httpmetrics.Observation {
		return func(bool) httpmetrics.Observation { return httpmetrics.Observation{Route: route} }
	}
	for range 2 {
		mw.Observe(unknown, func() {}, report("/u"))
	}
	sizes := histogramOf(t, reg, httpmetrics.RequestSizeName)
	if v, ok := sizes.Get(prom.Labels{"method": "GET", "route": "/u"}); ok {
		t.Errorf("request size of /u = %+v, want no series", v)
	}
	reg.SetMaxSeries(1)
	mw.Observe(httptest.NewRequest(http.MethodPost, "/k", strings.NewReader("12345")), func() {}, report("/k"))
	if v, ok := sizes.Get(prom.Labels{"method": "POST", "route": "/k"}); !ok || v.Count != 1 || v.Sum != 5 {
		t.Errorf("request size of /k = %+v (found %v), want one observation of 5", v, ok)
	}
	// A sized request of /u then makes its series.
	reg.SetMaxSeries(0)
	mw.Observe(httptest.NewRequest(http.MethodPost, "/u", strings.NewReader("123")), func() {}, report("/u"))
	if v, ok := sizes.Get(prom.Labels{"method": "POST", "route": "/u"}); !ok || v.Count != 1 {
		t.Errorf("request size of POST /u = %+v (found %v), want one observation", v, ok)
	}
}

// TestManyRoutes records more method, route and code combinations than
// the middleware keeps series for between requests (4096): all are counted.
func TestManyRoutes(t *testing.T) {
	mw, reg := newMiddleware(t, httpmetrics.WithRouteFunc(func(r *http.Request) string { return r.URL.Path }))
	h := mw.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	const routes = 5000
	for round := range 2 {
		for i := range routes {
			sendN(h, "GET", fmt.Sprintf("/r/%d", i), 1)
		}
		for _, i := range []int{0, 4095, 4096, routes - 1} {
			wantValue(t, fmt.Sprintf("round %d: requests of /r/%d", round, i), requests(t, reg, "GET", fmt.Sprintf("/r/%d", i)), float64(round+1))
		}
	}
}

// TestRouteFromReusedBytes gives routes as strings that share a buffer
// the route function then overwrites: each request is still counted under
// the route it had.
func TestRouteFromReusedBytes(t *testing.T) {
	buf := []byte("/x/0000")
	var mu sync.Mutex
	mw, reg := newMiddleware(t, httpmetrics.WithRouteFunc(func(r *http.Request) string {
		mu.Lock()
		defer mu.Unlock()
		copy(buf, r.URL.Path)
		return unsafeString(buf)
	}))
	h := mw.Wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	const routes = 64
	for round := range 2 {
		for i := range routes {
			sendN(h, "GET", fmt.Sprintf("/x/%04d", i), 1)
		}
		for i := range routes {
			route := fmt.Sprintf("/x/%04d", i)
			wantValue(t, fmt.Sprintf("round %d: requests %s", round, route), requests(t, reg, "GET", route), float64(round+1))
		}
	}
}

// TestResetWhileServing resets the metrics while requests are served from
// several goroutines; once the resets stop, every request is counted
// again. Run it with -race.
func TestResetWhileServing(t *testing.T) {
	mw, reg := newMiddleware(t, httpmetrics.WithSizes())
	h := mw.Wrap(routeMux())
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				sendN(h, "GET", "/a/1", 1)
				sendN(h, "GET", "/b", 1)
			}
		}()
	}
	names := []string{httpmetrics.RequestsName, httpmetrics.ResponsesName}
	for i := range 200 {
		counterOf(t, reg, names[i%2]).Reset()
		histogramOf(t, reg, httpmetrics.DurationName).DeleteValues("GET", "/a/{id}")
		time.Sleep(100 * time.Microsecond)
	}
	stop.Store(true)
	wg.Wait()
	counterOf(t, reg, httpmetrics.RequestsName).Reset()
	counterOf(t, reg, httpmetrics.ResponsesName).Reset()
	histogramOf(t, reg, httpmetrics.DurationName).Reset()
	histogramOf(t, reg, httpmetrics.ResponseSizeName).Reset()
	sendN(h, "GET", "/a/1", 7)
	wantValue(t, "requests", requests(t, reg, "GET", "/a/{id}"), 7)
	wantValue(t, "responses", responses(t, reg, "GET", "/a/{id}", "200"), 7)
	if n := durationCount(t, reg, "GET", "/a/{id}"); n != 7 {
		t.Errorf("duration count = %d, want 7", n)
	}
	v, _ := histogramOf(t, reg, httpmetrics.ResponseSizeName).Get(prom.Labels{"method": "GET", "route": "/a/{id}"})
	if v.Count != 7 {
		t.Errorf("response size count = %d, want 7", v.Count)
	}
	if !strings.Contains(strings.Join(samples(t, reg, "http_server_requests_total"), "\n"), `route="/a/{id}"} 7`) {
		t.Errorf("scrape lacks the 7 requests: %q", samples(t, reg, "http_server_requests_total"))
	}
}

// unsafeString returns b as a string without copying it.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
