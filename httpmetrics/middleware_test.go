package httpmetrics_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// usersMux is the aioprometheus FastAPI example's app: / and
// /users/{user_id}.
func usersMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ServeMux middleware example")
	})
	mux.HandleFunc("GET /users/{user_id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.PathValue("user_id"))
	})
	mux.HandleFunc("/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
	})
	return mux
}

// TestRoutePatternForms checks the route recorded for every form of a
// ServeMux pattern: with and without a method, the method followed by
// several spaces or tabs, with a host.
func TestRoutePatternForms(t *testing.T) {
	tests := []struct{ pattern, path, route string }{
		{"GET /a/{id}", "/a/1", "/a/{id}"},
		{"GET\t/b", "/b", "/b"},
		{"GET  \t /c/{x...}", "/c/1/2", "/c/{x...}"},
		{"/d/", "/d/e", "/d/"},
		{"/{$}", "/", "/{$}"},
		{"example.com/e/{id}", "/e/1", "example.com/e/{id}"},
		{"GET example.com/f", "/f", "example.com/f"},
	}
	mw, reg := newMiddleware(t)
	mux := http.NewServeMux()
	for _, tt := range tests {
		mux.HandleFunc(tt.pattern, func(http.ResponseWriter, *http.Request) {})
	}
	h := mw.Wrap(mux)
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "http://example.com"+tt.path, nil)
		h.ServeHTTP(httptest.NewRecorder(), r)
		wantValue(t, fmt.Sprintf("requests for pattern %q", tt.pattern), requests(t, reg, "GET", tt.route), 1)
	}
}

func TestRouteTemplate(t *testing.T) {
	mw, reg := newMiddleware(t)
	s := serve(t, mw.Wrap(usersMux()))

	if body := s.get(t, "/users/1", 200); body != "1" {
		t.Errorf("GET /users/1 answered %q, want 1", body)
	}
	s.get(t, "/users/2", 200)
	s.get(t, "/", 200)
	s.do(t, http.MethodHead, "/users/3", nil) // GET patterns match HEAD too

	wantValue(t, "requests GET /users/{user_id}", requests(t, reg, "GET", "/users/{user_id}"), 2)
	wantValue(t, "responses GET /users/{user_id} 200", responses(t, reg, "GET", "/users/{user_id}", "200"), 2)
	wantValue(t, "requests HEAD /users/{user_id}", requests(t, reg, "HEAD", "/users/{user_id}"), 1)
	wantValue(t, "requests GET /{$}", requests(t, reg, "GET", "/{$}"), 1)
	if n := durationCount(t, reg, "GET", "/users/{user_id}"); n != 2 {
		t.Errorf("duration count = %d, want 2", n)
	}
	for _, l := range samples(t, reg, "http_server_requests_total") {
		if strings.Contains(l, "/users/1") || strings.Contains(l, "/users/2") {
			t.Errorf("a raw path became a label: %s", l)
		}
	}
}

func TestUnmatched(t *testing.T) {
	mw, reg := newMiddleware(t)
	s := serve(t, mw.Wrap(usersMux()))

	s.get(t, "/no/such/page", 404)
	s.get(t, "/users/1/extra", 404)
	s.do(t, http.MethodPost, "/users/1", nil) // 405: the path matches, the method does not

	wantValue(t, "requests GET unmatched", requests(t, reg, "GET", httpmetrics.Unmatched), 2)
	wantValue(t, "responses GET unmatched 404", responses(t, reg, "GET", httpmetrics.Unmatched, "404"), 2)
	wantValue(t, "responses POST unmatched 405", responses(t, reg, "POST", httpmetrics.Unmatched, "405"), 1)
}

func TestUnknownMethod(t *testing.T) {
	mw, reg := newMiddleware(t, httpmetrics.WithMethods("PROPFIND"))
	s := serve(t, mw.Wrap(usersMux()))

	if code, _ := s.do(t, "FOO", "/items/1", nil); code != http.StatusAccepted {
		t.Errorf("FOO /items/1: status %d, want 202", code)
	}
	s.do(t, "BREW", "/items/2", nil)
	s.do(t, "get", "/items/3", nil) // methods are case-sensitive
	s.do(t, "PROPFIND", "/items/4", nil)
	s.do(t, "FOO", "/users/1", nil) // 405

	wantValue(t, "requests other /items/{id}", requests(t, reg, httpmetrics.OtherMethod, "/items/{id}"), 3)
	wantValue(t, "responses other /items/{id} 202", responses(t, reg, httpmetrics.OtherMethod, "/items/{id}", "202"), 3)
	wantValue(t, "requests PROPFIND /items/{id}", requests(t, reg, "PROPFIND", "/items/{id}"), 1)
	wantValue(t, "requests other unmatched", requests(t, reg, httpmetrics.OtherMethod, httpmetrics.Unmatched), 1)
	for _, l := range samples(t, reg, "http_server_") {
		if strings.Contains(l, "FOO") || strings.Contains(l, "BREW") {
			t.Errorf("an invented method became a label: %s", l)
		}
	}
}

func TestPanic(t *testing.T) {
	mw, reg := newMiddleware(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) {
		panic("boom")
	})
	mux.HandleFunc("GET /late-boom", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		panic("late boom")
	})
	mux.HandleFunc("GET /abort", func(w http.ResponseWriter, r *http.Request) {
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("GET /late-abort", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusAccepted)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	})
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) {})
	s := serve(t, mw.Wrap(mux))
	// A fresh connection for each panicking request: the transport retries
	// a GET whose reused connection closed without an answer, and the
	// retry would count twice.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	// get sends GET path and returns the status, or 0 when the connection
	// closed without an answer.
	get := func(path string) int {
		resp, err := client.Get(s.URL + path)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	// net/http recovers the panic and closes the connection without an
	// answer: the client sees a transport error.
	if code := get("/boom"); code != 0 {
		t.Errorf("GET /boom: status %d, want the connection closed", code)
	}
	// The server still serves.
	s.get(t, "/ok", 200)

	wantValue(t, "panics /boom", panics(t, reg, "GET", "/boom"), 1)
	wantValue(t, "requests /boom", requests(t, reg, "GET", "/boom"), 1)
	wantValue(t, "responses /boom 500", responses(t, reg, "GET", "/boom", "500"), 1)
	if n := durationCount(t, reg, "GET", "/boom"); n != 1 {
		t.Errorf("duration count /boom = %d, want 1", n)
	}
	if got := inFlight(t, reg); got != 0 {
		t.Errorf("in flight = %v after the panic, want 0", got)
	}
	// The panic reached the server with its value and its stack, which
	// shows the handler that panicked.
	logged := s.log.String()
	if !strings.Contains(logged, "http: panic serving") || !strings.Contains(logged, "boom") {
		t.Errorf("the server did not log the panic; its log:\n%s", logged)
	}
	if !strings.Contains(logged, "TestPanic.func1") {
		t.Errorf("the logged stack lacks the panicking handler:\n%s", logged)
	}

	// A panic after the header was sent counts the response once, with
	// the status sent.
	get("/late-boom")
	wantValue(t, "panics /late-boom", panics(t, reg, "GET", "/late-boom"), 1)
	wantValue(t, "responses /late-boom 202", responses(t, reg, "GET", "/late-boom", "202"), 1)
	wantValue(t, "responses /late-boom 500", responses(t, reg, "GET", "/late-boom", "500"), 0)

	// http.ErrAbortHandler goes on to the server, which aborts quietly.
	before := s.log.String()
	if code := get("/abort"); code != 0 {
		t.Errorf("GET /abort: status %d, want the connection closed", code)
	}
	s.get(t, "/ok", 200)
	if after := s.log.String(); after != before {
		t.Errorf("the server logged an ErrAbortHandler panic, so the value was changed:\n%s", after[len(before):])
	}
	// An abort is no panic, and no response was sent.
	wantValue(t, "requests /abort", requests(t, reg, "GET", "/abort"), 1)
	wantValue(t, "panics /abort", panics(t, reg, "GET", "/abort"), 0)
	wantValue(t, "responses /abort 500", responses(t, reg, "GET", "/abort", "500"), 0)
	if n := durationCount(t, reg, "GET", "/abort"); n != 0 {
		t.Errorf("duration count /abort = %d, want 0", n)
	}

	// An abort after the header: the response begun counts, once.
	get("/late-abort")
	wantValue(t, "panics /late-abort", panics(t, reg, "GET", "/late-abort"), 0)
	wantValue(t, "responses /late-abort 202", responses(t, reg, "GET", "/late-abort", "202"), 1)
	if got := inFlight(t, reg); got != 0 {
		t.Errorf("in flight = %v after the aborts, want 0", got)
	}
}

// TestGoexit: a handler that ends its goroutine with runtime.Goexit (as
// t.FailNow does) is recorded as a panic that sent no header, and the
// Goexit goes on: nothing recovers it into a return.
func TestGoexit(t *testing.T) {
	mw, reg := newMiddleware(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /exit", func(http.ResponseWriter, *http.Request) { runtime.Goexit() })
	returned := make(chan bool)
	go func() {
		ok := false
		defer func() { returned <- ok }()
		mw.Wrap(mux).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/exit", nil))
		ok = true
	}()
	if <-returned {
		t.Fatal("ServeHTTP returned after runtime.Goexit")
	}
	wantValue(t, "requests /exit", requests(t, reg, "GET", "/exit"), 1)
	wantValue(t, "panics /exit", panics(t, reg, "GET", "/exit"), 1)
}

// TestPanicThroughRecovery puts a recovering middleware outside: it sees
// the original panic value, answers 500, and the client gets it.
func TestPanicThroughRecovery(t *testing.T) {
	mw, reg := newMiddleware(t)
	var recovered any
	recoverer := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if recovered = recover(); recovered != nil {
					http.Error(w, "internal error", http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
	type myErr struct{ error }
	value := myErr{errors.New("db down")}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /boom", func(w http.ResponseWriter, r *http.Request) { panic(value) })
	s := serve(t, recoverer(mw.Wrap(mux)))

	s.get(t, "/boom", 500)
	if recovered != any(value) {
		t.Errorf("the recoverer got %#v, want the handler's panic value %#v", recovered, value)
	}
	wantValue(t, "panics", panics(t, reg, "GET", "/boom"), 1)
	wantValue(t, "responses 500", responses(t, reg, "GET", "/boom", "500"), 1)
}

func TestExcluded(t *testing.T) {
	mw, reg := newMiddleware(t,
		httpmetrics.WithExcludedPaths("/healthz"),
		httpmetrics.WithExcludedPrefixes("/static/"))
	mux := usersMux()
	mux.Handle("GET /metrics", prom.Handler(reg))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /healthz/deep", func(w http.ResponseWriter, r *http.Request) {})
	mux.Handle("GET /static/", http.NotFoundHandler())
	s := serve(t, mw.Wrap(mux))

	s.get(t, "/metrics", 200)
	s.get(t, "/healthz", 200)
	s.get(t, "/static/app.js", 404)
	s.get(t, "/static/css/site.css", 404)
	// Only the in-flight gauge, which exists from the start, is there.
	if got := samples(t, reg, "http_"); len(got) != 1 || got[0] != "http_server_requests_in_flight 0" {
		t.Errorf("excluded requests were recorded: %q", got)
	}
	s.get(t, "/healthz/deep", 200) // an exact exclusion is not a prefix
	wantValue(t, "requests /healthz/deep", requests(t, reg, "GET", "/healthz/deep"), 1)
}

func TestMetricsPath(t *testing.T) {
	mw, reg := newMiddleware(t, httpmetrics.WithMetricsPath("/-/metrics"))
	mux := http.NewServeMux()
	mux.Handle("/-/metrics", prom.Handler(reg))
	mux.Handle("/metrics", prom.Handler(reg))
	s := serve(t, mw.Wrap(mux))
	s.get(t, "/-/metrics", 200)
	s.get(t, "/metrics", 200)
	wantValue(t, "requests /-/metrics", requests(t, reg, "GET", "/-/metrics"), 0)
	wantValue(t, "requests /metrics", requests(t, reg, "GET", "/metrics"), 1)
}

func TestStatusCodes(t *testing.T) {
	codes := map[string]int{"ok": 200, "created": 201, "moved": 301, "missing": 404, "teapot": 418, "down": 503, "custom": 799}
	handler := func() http.Handler {
		mux := http.NewServeMux()
		for name, code := range codes {
			mux.HandleFunc("GET /"+name, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
		}
		mux.HandleFunc("GET /implicit", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") })
		mux.HandleFunc("GET /nothing", func(w http.ResponseWriter, r *http.Request) {})
		mux.HandleFunc("GET /early-hints", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusNoContent)
		})
		mux.HandleFunc("GET /twice", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusConflict)
			w.WriteHeader(http.StatusOK) // superfluous: net/http keeps 409
		})
		return mux
	}

	t.Run("exact", func(t *testing.T) {
		mw, reg := newMiddleware(t)
		s := serve(t, mw.Wrap(handler()))
		for name, code := range codes {
			s.get(t, "/"+name, code)
			wantValue(t, name, responses(t, reg, "GET", "/"+name, fmt.Sprint(code)), 1)
		}
		s.get(t, "/implicit", 200)
		s.get(t, "/nothing", 200)
		s.get(t, "/early-hints", 204)
		s.get(t, "/twice", 409)
		wantValue(t, "implicit", responses(t, reg, "GET", "/implicit", "200"), 1)
		wantValue(t, "nothing", responses(t, reg, "GET", "/nothing", "200"), 1)
		wantValue(t, "early hints 204", responses(t, reg, "GET", "/early-hints", "204"), 1)
		wantValue(t, "early hints 103", responses(t, reg, "GET", "/early-hints", "103"), 0)
		wantValue(t, "twice 409", responses(t, reg, "GET", "/twice", "409"), 1)
		wantValue(t, "twice 200", responses(t, reg, "GET", "/twice", "200"), 0)
	})

	t.Run("grouped", func(t *testing.T) {
		mw, reg := newMiddleware(t, httpmetrics.WithGroupedStatusCodes())
		mux := http.NewServeMux()
		mux.HandleFunc("GET /status/{code}", func(w http.ResponseWriter, r *http.Request) {
			var code int
			fmt.Sscan(r.PathValue("code"), &code)
			w.WriteHeader(code)
		})
		s := serve(t, mw.Wrap(mux))
		for _, code := range []int{200, 201, 204, 302, 404, 418, 500, 503, 799, 999} {
			s.get(t, fmt.Sprintf("/status/%d", code), code)
		}
		for class, want := range map[string]float64{"2xx": 3, "3xx": 1, "4xx": 2, "5xx": 2, "7xx": 1, "9xx": 1} {
			wantValue(t, class, responses(t, reg, "GET", "/status/{code}", class), want)
		}
		for _, l := range samples(t, reg, httpmetrics.ResponsesName) {
			if !strings.Contains(l, `xx"`) {
				t.Errorf("ungrouped code: %s", l)
			}
		}
	})
}

func TestConstLabelsAndNamespace(t *testing.T) {
	mw, reg := newMiddleware(t,
		httpmetrics.WithNamespace("shop"),
		httpmetrics.WithConstLabels(prom.Labels{"server": "api"}))
	s := serve(t, mw.Wrap(usersMux()))
	s.get(t, "/users/7", 200)

	got := samples(t, reg, "shop_http_server_re")
	want := []string{
		`shop_http_server_request_duration_seconds_count{server="api",method="GET",route="/users/{user_id}"} 1`,
		`shop_http_server_requests_in_flight{server="api"} 0`,
		`shop_http_server_requests_total{server="api",method="GET",route="/users/{user_id}"} 1`,
		`shop_http_server_responses_total{server="api",method="GET",route="/users/{user_id}",code="200"} 1`,
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || g == w
		}
		if !found {
			t.Errorf("exposition lacks\n\t%s\nhas:\n\t%s", w, strings.Join(got, "\n\t"))
		}
	}
	if _, ok := reg.Get(httpmetrics.RequestsName); ok {
		t.Errorf("%s registered without its namespace", httpmetrics.RequestsName)
	}

	if _, err := httpmetrics.New(httpmetrics.WithRegistry(prom.NewRegistry()),
		httpmetrics.WithConstLabels(prom.Labels{"route": "x"})); err == nil {
		t.Error("New accepted a constant label named route")
	}
	if _, err := httpmetrics.New(httpmetrics.WithRegistry(prom.NewRegistry()),
		httpmetrics.WithNamespace("bad-name")); err == nil {
		t.Error("New accepted the namespace bad-name")
	}
	if _, err := httpmetrics.New(httpmetrics.WithRegistry(prom.NewRegistry()),
		httpmetrics.WithDurationBuckets(1, 0.5)); err == nil {
		t.Error("New accepted unsorted buckets")
	}
}

func TestTwoMiddlewaresOneRegistry(t *testing.T) {
	reg := prom.NewRegistry()
	opts := []httpmetrics.Option{httpmetrics.WithRegistry(reg), httpmetrics.WithSizes()}
	first, err := httpmetrics.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	second, err := httpmetrics.New(opts...)
	if err != nil {
		t.Fatalf("second New on the same registry: %v", err)
	}
	a := serve(t, first.Wrap(usersMux()))
	b := serve(t, second.Wrap(usersMux()))
	a.get(t, "/users/1", 200)
	b.get(t, "/users/2", 200)
	b.get(t, "/users/3", 200)
	wantValue(t, "requests from both", requests(t, reg, "GET", "/users/{user_id}"), 3)
	// The probe series that checked the labels are gone.
	for _, l := range samples(t, reg, "http_") {
		if strings.Contains(l, "probe") {
			t.Errorf("a probe series was left: %s", l)
		}
	}

	// A third, in the default registry, does not mix with them.
	third, err := httpmetrics.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for c := range prom.Default.All() {
			prom.Default.Unregister(c)
		}
	})
	if _, err := httpmetrics.New(); err != nil {
		t.Fatalf("second New on prom.Default: %v", err)
	}
	serve(t, third.Wrap(usersMux())).get(t, "/users/4", 200)
	wantValue(t, "requests in the first registry", requests(t, reg, "GET", "/users/{user_id}"), 3)
	wantValue(t, "requests in prom.Default", requests(t, prom.Default, "GET", "/users/{user_id}"), 1)
}

func TestReuseConflicts(t *testing.T) {
	tests := []struct {
		name  string
		taken func(reg *prom.Registry) error
		opts  []httpmetrics.Option
	}{
		{"counter with other labels", func(reg *prom.Registry) error {
			_, err := prom.NewCounter(httpmetrics.RequestsName, "h", prom.WithRegistry(reg), prom.WithLabelNames("method", "path"))
			return err
		}, nil},
		{"counter with labels in another order", func(reg *prom.Registry) error {
			_, err := prom.NewCounter(httpmetrics.ResponsesName, "h", prom.WithRegistry(reg), prom.WithLabelNames("code", "method", "route"))
			return err
		}, nil},
		{"counter without declared labels", func(reg *prom.Registry) error {
			_, err := prom.NewCounter(httpmetrics.PanicsName, "h", prom.WithRegistry(reg))
			return err
		}, nil},
		{"gauge under a counter's name", func(reg *prom.Registry) error {
			_, err := prom.NewGauge(httpmetrics.RequestsName, "h", prom.WithRegistry(reg))
			return err
		}, nil},
		{"labelled in-flight gauge", func(reg *prom.Registry) error {
			_, err := prom.NewGauge(httpmetrics.InFlightName, "h", prom.WithRegistry(reg), prom.WithLabelNames("method"))
			return err
		}, nil},
		{"other constant labels", func(reg *prom.Registry) error {
			_, err := httpmetrics.New(httpmetrics.WithRegistry(reg), httpmetrics.WithConstLabels(prom.Labels{"app": "a"}))
			return err
		}, []httpmetrics.Option{httpmetrics.WithConstLabels(prom.Labels{"app": "b"})}},
		{"other buckets", func(reg *prom.Registry) error {
			_, err := httpmetrics.New(httpmetrics.WithRegistry(reg))
			return err
		}, []httpmetrics.Option{httpmetrics.WithDurationBuckets(0.1, 1)}},
		{"status classes beside codes", func(reg *prom.Registry) error {
			_, err := httpmetrics.New(httpmetrics.WithRegistry(reg))
			return err
		}, []httpmetrics.Option{httpmetrics.WithGroupedStatusCodes()}},
		{"status codes beside classes", func(reg *prom.Registry) error {
			_, err := httpmetrics.New(httpmetrics.WithRegistry(reg), httpmetrics.WithGroupedStatusCodes())
			return err
		}, nil},
		{"namespaced status classes beside codes", func(reg *prom.Registry) error {
			_, err := httpmetrics.New(httpmetrics.WithRegistry(reg), httpmetrics.WithNamespace("shop"))
			return err
		}, []httpmetrics.Option{httpmetrics.WithGroupedStatusCodes(), httpmetrics.WithNamespace("shop")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prom.NewRegistry()
			if err := tt.taken(reg); err != nil {
				t.Fatal(err)
			}
			names := func() (n []string) {
				for c := range reg.All() {
					n = append(n, c.Describe()[0])
				}
				return n
			}
			before := names()
			_, err := httpmetrics.New(append([]httpmetrics.Option{httpmetrics.WithRegistry(reg)}, tt.opts...)...)
			if err == nil {
				t.Fatal("New succeeded")
			}
			if !strings.HasPrefix(err.Error(), "httpmetrics: ") {
				t.Errorf("error %q does not say where it comes from", err)
			}
			t.Log(err)
			// What the failed New created is unregistered again.
			if after := names(); !slices.Equal(after, before) {
				t.Errorf("after the failed New the registry holds %q; want %q as before", after, before)
			}
		})
	}
}

func TestInFlight(t *testing.T) {
	mw, reg := newMiddleware(t)
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	})
	s := serve(t, mw.Wrap(mux))

	const n = 3
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := s.Client().Get(s.URL + "/slow")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	for range n {
		<-entered
	}
	wantValue(t, "in flight during the slow requests", inFlight(t, reg), n)
	wantValue(t, "requests before they end", requests(t, reg, "GET", "/slow"), 0)
	close(release)
	wg.Wait()
	wantValue(t, "in flight after", inFlight(t, reg), 0)
	wantValue(t, "requests after", requests(t, reg, "GET", "/slow"), n)
}

func TestDurationHistogram(t *testing.T) {
	mw, reg := newMiddleware(t, httpmetrics.WithDurationBuckets(0.01, 0.05, 10))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fast", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(60 * time.Millisecond) })
	s := serve(t, mw.Wrap(mux))
	for range 4 {
		s.get(t, "/fast", 200)
	}
	s.get(t, "/slow", 200)

	h := histogramOf(t, reg, httpmetrics.DurationName)
	slow, _ := h.Get(prom.Labels{"method": "GET", "route": "/slow"})
	if slow.Count != 1 || slow.Sum < 0.06 {
		t.Errorf("/slow: count %d, sum %v; want 1 and at least 0.06", slow.Count, slow.Sum)
	}
	// 60ms is above the 0.05 bound and within 10.
	if slow.Buckets[1].Count != 0 || slow.Buckets[2].Count != 1 {
		t.Errorf("/slow buckets = %+v", slow.Buckets)
	}
	fast, _ := h.Get(prom.Labels{"method": "GET", "route": "/fast"})
	if fast.Count != 4 || fast.Buckets[3].Count != 4 {
		t.Errorf("/fast: %+v, want 4 observations", fast)
	}
}

func TestSizes(t *testing.T) {
	mw, reg := newMiddleware(t, httpmetrics.WithSizes())
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// HTTP/1 handlers read the body before answering. The LimitReader
		// hides bytes.Reader's WriteTo, so io.Copy calls the wrapper's
		// ReadFrom.
		b, _ := io.ReadAll(r.Body)
		io.Copy(w, io.LimitReader(bytes.NewReader(b), int64(len(b))))
	})
	s := serve(t, mw.Wrap(mux))
	s.do(t, http.MethodPost, "/echo", strings.NewReader(strings.Repeat("x", 1000))) // Content-Length
	// A reader of unknown length is sent chunked; the handler reads it all.
	s.do(t, http.MethodPost, "/echo", io.MultiReader(strings.NewReader(strings.Repeat("y", 300))))

	labels := prom.Labels{"method": "POST", "route": "/echo"}
	req, _ := histogramOf(t, reg, httpmetrics.RequestSizeName).Get(labels)
	resp, _ := histogramOf(t, reg, httpmetrics.ResponseSizeName).Get(labels)
	if req.Count != 2 || req.Sum != 1300 {
		t.Errorf("request sizes: count %d, sum %v; want 2 and 1300", req.Count, req.Sum)
	}
	if resp.Count != 2 || resp.Sum != 1300 {
		t.Errorf("response sizes: count %d, sum %v; want 2 and 1300", resp.Count, resp.Sum)
	}
	// Without WithSizes there are no size metrics.
	_, plain := newMiddleware(t)
	if _, ok := plain.Get(httpmetrics.RequestSizeName); ok {
		t.Errorf("%s registered without WithSizes", httpmetrics.RequestSizeName)
	}
}

func TestFlush(t *testing.T) {
	mw, reg := newMiddleware(t)
	next := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		f, ok := w.(http.Flusher)
		if !ok {
			t.Error("the wrapper is not an http.Flusher")
			return
		}
		for i := range 3 {
			fmt.Fprintf(w, "event %d\n", i)
			f.Flush()
			<-next // the client must have read the event before the next one
		}
	})
	mux.HandleFunc("GET /controller", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		io.WriteString(w, "first\n")
		if err := rc.Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
		<-next
		io.WriteString(w, "second\n")
	})
	s := serve(t, mw.Wrap(mux))

	for path, lines := range map[string]int{"/stream": 3, "/controller": 2} {
		resp, err := s.Client().Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		for i := range lines {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: reading line %d: %v (was it flushed?)", path, i, err)
			}
			t.Logf("%s: %q", path, line)
			if i < lines-1 || path == "/stream" {
				next <- struct{}{}
			}
		}
		// The body ends once the handler has returned and been recorded.
		io.Copy(io.Discard, br)
		resp.Body.Close()
	}
	wantValue(t, "responses /stream 200", responses(t, reg, "GET", "/stream", "200"), 1)
	wantValue(t, "responses /controller 200", responses(t, reg, "GET", "/controller", "200"), 1)
}

func TestHijack(t *testing.T) {
	for _, via := range []string{"Hijacker", "ResponseController"} {
		t.Run(via, func(t *testing.T) {
			mw, reg := newMiddleware(t)
			mux := http.NewServeMux()
			mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
				var conn net.Conn
				var brw *bufio.ReadWriter
				var err error
				if via == "Hijacker" {
					hj, ok := w.(http.Hijacker)
					if !ok {
						t.Error("the wrapper is not an http.Hijacker")
						return
					}
					conn, brw, err = hj.Hijack()
				} else {
					conn, brw, err = http.NewResponseController(w).Hijack()
				}
				if err != nil {
					t.Errorf("Hijack: %v", err)
					return
				}
				defer conn.Close()
				brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
				brw.Flush()
				line, _ := brw.ReadString('\n')
				brw.WriteString("echo: " + line)
				brw.Flush()
			})
			s := serve(t, mw.Wrap(mux))

			conn, err := net.Dial("tcp", s.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusSwitchingProtocols {
				t.Fatalf("status %d, want 101", resp.StatusCode)
			}
			fmt.Fprintf(conn, "hello\n")
			if line, err := br.ReadString('\n'); err != nil || line != "echo: hello\n" {
				t.Fatalf("read %q, %v; want the echo", line, err)
			}
			conn.Close()

			// The handler returns after the echo; wait for the recording.
			deadline := time.Now().Add(5 * time.Second)
			for requests(t, reg, "GET", "/ws") == 0 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			wantValue(t, "requests /ws", requests(t, reg, "GET", "/ws"), 1)
			wantValue(t, "in flight", inFlight(t, reg), 0)
			if got := samples(t, reg, httpmetrics.ResponsesName); len(got) != 0 {
				t.Errorf("a hijacked connection was counted as a response: %q", got)
			}
			if n := durationCount(t, reg, "GET", "/ws"); n != 0 {
				t.Errorf("a hijacked connection was timed: %d", n)
			}
		})
	}
}

// TestResponseController checks that the controller reaches the server's
// own writer through Unwrap, for the methods the wrapper does not have.
func TestResponseController(t *testing.T) {
	mw, _ := newMiddleware(t)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /rc", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		for name, err := range map[string]error{
			"SetReadDeadline":  rc.SetReadDeadline(time.Now().Add(time.Minute)),
			"SetWriteDeadline": rc.SetWriteDeadline(time.Now().Add(time.Minute)),
			"EnableFullDuplex": rc.EnableFullDuplex(),
		} {
			if err != nil {
				t.Errorf("ResponseController.%s through the wrapper: %v", name, err)
			}
		}
		if _, ok := w.(io.ReaderFrom); !ok {
			t.Error("the wrapper is not an io.ReaderFrom")
		}
		if u, ok := w.(interface{ Unwrap() http.ResponseWriter }); !ok || u.Unwrap() == nil {
			t.Error("the wrapper has no Unwrap")
		}
		if err := w.(http.Pusher).Push("/x", nil); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("Push over HTTP/1.1 = %v, want ErrNotSupported", err)
		}
	})
	s := serve(t, mw.Wrap(mux))
	s.do(t, http.MethodPost, "/rc", strings.NewReader("body"))
}

// TestHTTP2 serves over HTTP/2, where hijacking is not possible: the
// wrapper says so rather than claiming success, and flushing works.
func TestHTTP2(t *testing.T) {
	mw, reg := newMiddleware(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /h2", func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 2 {
			t.Errorf("protocol %s, want HTTP/2", r.Proto)
		}
		if _, _, err := http.NewResponseController(w).Hijack(); !errors.Is(err, http.ErrNotSupported) {
			t.Errorf("Hijack over HTTP/2 = %v, want ErrNotSupported", err)
		}
		io.WriteString(w, "a")
		if err := http.NewResponseController(w).Flush(); err != nil {
			t.Errorf("Flush over HTTP/2: %v", err)
		}
	})
	s := &server{log: &syncBuffer{}}
	s.Server = newTLSServer(t, mw.Wrap(mux))
	s.get(t, "/h2", 200)
	wantValue(t, "responses", responses(t, reg, "GET", "/h2", "200"), 1)
}

func TestSetRouteAndRouteFunc(t *testing.T) {
	t.Run("SetRoute under StripPrefix", func(t *testing.T) {
		mw, reg := newMiddleware(t)
		api := http.NewServeMux()
		api.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
			if !httpmetrics.SetRoute(w, "/api"+r.Pattern[len("GET "):]) {
				t.Error("SetRoute did not find the middleware's writer")
			}
		})
		root := http.NewServeMux()
		root.Handle("/api/", http.StripPrefix("/api", api))
		s := serve(t, mw.Wrap(root))
		s.get(t, "/api/users/1", 200)
		s.get(t, "/api/nothing", 404)
		wantValue(t, "requests /api/users/{id}", requests(t, reg, "GET", "/api/users/{id}"), 1)
		wantValue(t, "requests /api/", requests(t, reg, "GET", "/api/"), 1)
	})
	t.Run("SetRoute outside a middleware", func(t *testing.T) {
		if httpmetrics.SetRoute(nopWriter{}, "/x") {
			t.Error("SetRoute reported success without a middleware")
		}
	})
	t.Run("WithRouteFunc", func(t *testing.T) {
		mw, reg := newMiddleware(t, httpmetrics.WithRouteFunc(func(r *http.Request) string {
			if strings.HasPrefix(r.URL.Path, "/v1/") {
				return "/v1/*"
			}
			return ""
		}))
		s := serve(t, mw.Wrap(http.NotFoundHandler()))
		s.get(t, "/v1/a", 404)
		s.get(t, "/v1/b", 404)
		s.get(t, "/other", 404)
		wantValue(t, "requests /v1/*", requests(t, reg, "GET", "/v1/*"), 2)
		wantValue(t, "requests unmatched", requests(t, reg, "GET", httpmetrics.Unmatched), 1)
	})
}

// TestConnectRedirect sends CONNECT to /tree/<random>, where only
// /tree/{x}/ is registered: ServeMux redirects and sets the pattern to the
// client's own path plus a slash, which must not become a label.
func TestConnectRedirect(t *testing.T) {
	mw, reg := newMiddleware(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/tree/{x}/", func(w http.ResponseWriter, r *http.Request) {})
	s := serve(t, mw.Wrap(mux))
	for i := range 3 {
		conn, err := net.Dial("tcp", s.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "CONNECT /tree/random%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		conn.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusTemporaryRedirect && resp.StatusCode != http.StatusMovedPermanently {
			t.Fatalf("status %d, want 307 (or 301 before Go 1.26)", resp.StatusCode)
		}
	}
	wantValue(t, "CONNECT unmatched", requests(t, reg, "CONNECT", httpmetrics.Unmatched), 3)
	for _, l := range samples(t, reg, "http_server_requests_total") {
		if strings.Contains(l, "random") {
			t.Errorf("a raw path became a label: %s", l)
		}
	}
}

// TestTrailingSlashRedirect sends GET and POST to /items/<n>, where only
// /items/{id}/ is registered: ServeMux redirects them, and before Go 1.25
// (golang/go#73688) set the pattern to the client's own path plus a slash.
// Whatever the Go release, no raw path becomes a label, and the requests
// make at most one route per method.
func TestTrailingSlashRedirect(t *testing.T) {
	mw, reg := newMiddleware(t)
	mux := http.NewServeMux()
	mux.HandleFunc("/items/{id}/", func(w http.ResponseWriter, r *http.Request) {})
	s := serve(t, mw.Wrap(mux))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for i := range 5 {
		for _, method := range []string{http.MethodGet, http.MethodPost} {
			req, err := http.NewRequest(method, fmt.Sprintf("%s/items/n%d", s.URL, i), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 3 {
				t.Fatalf("%s /items/n%d: status %d, want a redirect", method, i, resp.StatusCode)
			}
		}
	}
	routes := map[string]bool{}
	for _, l := range samples(t, reg, "http_server_requests_total") {
		if strings.Contains(l, "/items/n") {
			t.Errorf("a raw path became a label: %s", l)
		}
		routes[l[:strings.Index(l, "}")]] = true
	}
	if len(routes) > 2 {
		t.Errorf("%d series for two methods: %v", len(routes), routes)
	}
}

// TestMuxRedirects: a redirect that ServeMux makes up itself (to the path
// plus a slash, or to the cleaned path) reached no handler and is recorded
// as unmatched, whatever pattern the mux set; a handler's own redirect,
// to the same kind of target, is recorded under its route.
func TestMuxRedirects(t *testing.T) {
	redirect := func(to func(r *http.Request) string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to(r), http.StatusMovedPermanently) }
	}
	tests := []struct {
		pattern string
		handler http.HandlerFunc // nil: one that must not run
		host    string
		target  string
		route   string
	}{
		{pattern: "/dir/", target: "/dir", route: httpmetrics.Unmatched},
		{pattern: "GET /dir/", target: "/dir", route: httpmetrics.Unmatched},
		{pattern: "GET /dir/", target: "/dir?q=1&r=%2F", route: httpmetrics.Unmatched},
		{pattern: "GET  /dír/", target: "/d%C3%ADr", route: httpmetrics.Unmatched},
		{pattern: "/teams/{id}/", target: "/teams/7", route: httpmetrics.Unmatched},
		{pattern: "/dir/{name}/", target: "/dir/a%2Fb", route: httpmetrics.Unmatched}, // Location /dir/a/b/
		{pattern: "GET /docs/{$}", target: "/docs", route: httpmetrics.Unmatched},
		{pattern: "GET /files/{path...}", target: "/files", route: httpmetrics.Unmatched},
		{pattern: "GET example.com/host/", host: "example.com", target: "/host", route: httpmetrics.Unmatched},
		{pattern: "GET /users/{id}", target: "/users//1", route: httpmetrics.Unmatched},
		{pattern: "GET /users/{id}", target: "/users/./1", route: httpmetrics.Unmatched},
		{pattern: "GET /users/{id}", target: "/x/../users/1?a=b", route: httpmetrics.Unmatched},
		{pattern: "GET /a/b/", target: "/a//b", route: httpmetrics.Unmatched},
		// Handlers that redirect themselves.
		{pattern: "/", handler: redirect(func(r *http.Request) string { return r.URL.Path + "/" }), target: "/a", route: "/"},
		{pattern: "GET /docs", handler: redirect(func(r *http.Request) string { return "/docs/" }), target: "/docs", route: "/docs"},
		{pattern: "GET /{x}", handler: redirect(func(r *http.Request) string { return r.URL.Path + "/" }), target: "/x", route: "/{x}"},
		{pattern: "GET /{x}", handler: redirect(func(r *http.Request) string { return r.URL.Path + "/" }), target: "/a%2Fb", route: "/{x}"},
		{pattern: "GET /login", handler: redirect(func(r *http.Request) string { return "/login" }), target: "/login", route: "/login"},
		{pattern: "GET /old/{id}", handler: redirect(func(r *http.Request) string { return "/new/" + r.PathValue("id") }), target: "/old/3", route: "/old/{id}"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.target, func(t *testing.T) {
			mw, reg := newMiddleware(t)
			mux := http.NewServeMux()
			h := tt.handler
			if h == nil {
				h = func(http.ResponseWriter, *http.Request) { t.Errorf("the handler of %q ran", tt.pattern) }
			}
			mux.HandleFunc(tt.pattern, h)
			req := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.host != "" {
				req.Host = tt.host
			}
			rec := httptest.NewRecorder()
			mw.Wrap(mux).ServeHTTP(rec, req)
			if rec.Code/100 != 3 {
				t.Fatalf("status %d, want a redirect", rec.Code)
			}
			code := strconv.Itoa(rec.Code)
			if got := responses(t, reg, http.MethodGet, tt.route, code); got != 1 {
				t.Errorf("responses{route=%q,code=%q} = %v, want 1; have %q", tt.route, code, got, samples(t, reg, "http_server_responses_total"))
			}
		})
	}
}

// TestCardinality sends 10,000 requests with random paths and random
// methods: the series stay a small fixed number.
func TestCardinality(t *testing.T) {
	mw, reg := newMiddleware(t)
	mux := usersMux()
	mux.HandleFunc("/files/{path...}", func(w http.ResponseWriter, r *http.Request) {})
	s := serve(t, mw.Wrap(mux))
	rng := rand.New(rand.NewPCG(1, 2))
	token := func(alphabet string) string {
		b := make([]byte, 1+rng.IntN(12))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		return string(b)
	}
	methods := []string{"GET", "POST", "DELETE", "HEAD"}
	client := s.Client()
	// ServeMux redirects unclean paths (//, /./); count each request once.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	const n = 10000
	for i := range n {
		method := methods[rng.IntN(len(methods))]
		if rng.IntN(3) == 0 {
			method = token("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
		}
		var path string
		switch rng.IntN(4) {
		case 0:
			path = "/users/" + token("0123456789")
		case 1:
			path = "/files/" + token("abcdef/") + "x"
		default:
			path = "/" + token("abcdefghijklmnopqrstuvwxyz0123456789-._~/")
		}
		req, err := http.NewRequest(method, s.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("request %d, %s %s: %v", i, method, path, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var total float64
	for _, v := range counterOf(t, reg, httpmetrics.RequestsName).All() {
		total += v
	}
	wantValue(t, "requests counted", total, n)
	// methods: GET POST DELETE HEAD other (5); routes: /{$}, /users/{user_id},
	// /items/{id}, /files/{path...}, unmatched (5); codes: a handful.
	series := seriesCount(reg)
	t.Logf("%d requests made %d series", n, series)
	if series > 150 {
		t.Errorf("%d series after %d random requests:\n%s", series, n, strings.Join(samples(t, reg, "http_"), "\n"))
	}
}

func TestConcurrent(t *testing.T) {
	mw, reg := newMiddleware(t, httpmetrics.WithSizes())
	s := serve(t, mw.Wrap(usersMux()))
	var wg sync.WaitGroup
	const workers, each = 8, 50
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				resp, err := s.Client().Get(fmt.Sprintf("%s/users/%d", s.URL, w*each+i))
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	wantValue(t, "requests", requests(t, reg, "GET", "/users/{user_id}"), workers*each)
	wantValue(t, "in flight", inFlight(t, reg), 0)
}

type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}

// TestNoGoroutineLeak sends every kind of request through the middleware
// (plain, panicking, streamed, hijacked, abandoned by the client), closes
// the server, and checks that the goroutine count falls back to where it
// was: the middleware starts nothing that outlives a request.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	mw, reg := newMiddleware(t)
	mux := usersMux()
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("GET /stream", func(w http.ResponseWriter, r *http.Request) {
		for range 3 {
			io.WriteString(w, "chunk\n")
			http.NewResponseController(w).Flush()
		}
	})
	arrived := make(chan struct{}, 1)
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("mark") {
			arrived <- struct{}{}
		}
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n")
		brw.Flush()
	})
	srv := httptest.NewUnstartedServer(mw.Wrap(mux))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the panics are expected
	srv.Start()
	client := &http.Client{Transport: &http.Transport{}}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path := []string{"/users/7", "/panic", "/stream", "/nowhere", "/ws", "/slow"}[i%6]
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+path, nil)
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	// One abandoned request that surely reached its handler: on a loaded
	// machine the 20ms timeouts above may all expire before any /slow
	// request is read.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/slow?mark", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-arrived:
	case <-time.After(10 * time.Second):
		t.Error("the marked /slow request did not reach its handler in 10 s")
	}
	cancel()
	<-done
	client.CloseIdleConnections()
	srv.Close()
	if n := requests(t, reg, "GET", "/slow"); n == 0 {
		t.Error("no abandoned request was counted")
	}
	// srv.Close does not wait for hijacked connections' handlers, and a
	// goroutine from before may end meanwhile, so wait for both facts:
	// no goroutine left over, and every request out of flight.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before || inFlight(t, reg) != 0 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("after 10 s: %d goroutines (%d before), %v in flight\n%s",
				runtime.NumGoroutine(), before, inFlight(t, reg), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestObserveNested: an Observe whose report says Nested records nothing,
// the request having been recorded by the Observe that serve ran, and its
// in-flight count goes again.
func TestObserveNested(t *testing.T) {
	mw, reg := newMiddleware(t)
	r := httptest.NewRequest(http.MethodGet, "/old", nil)
	mw.Observe(r, func() {
		mw.Observe(r, func() {}, func(bool) httpmetrics.Observation {
			return httpmetrics.Observation{Route: "/new", Code: http.StatusOK}
		})
	}, func(bool) httpmetrics.Observation {
		return httpmetrics.Observation{Route: "/old", Code: http.StatusOK, Nested: true}
	})
	wantValue(t, "requests /new", requests(t, reg, "GET", "/new"), 1)
	wantValue(t, "requests /old", requests(t, reg, "GET", "/old"), 0)
	wantValue(t, "in flight", inFlight(t, reg), 0)
}

// TestTimeoutHandlerPerRoute checks the placement of http.TimeoutHandler
// that Wrap's doc recommends, around each handler on the mux: a request
// that times out is recorded under its route with the 503 the client
// received, and one that does not, with its own code.
func TestTimeoutHandlerPerRoute(t *testing.T) {
	mw, reg := newMiddleware(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	mux := http.NewServeMux()
	mux.Handle("GET /slow/{id}", http.TimeoutHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "late" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			w.WriteHeader(599) // after the deadline: swallowed by the TimeoutHandler
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}), 50*time.Millisecond, "timed out"))
	s := serve(t, mw.Wrap(mux))

	s.get(t, "/slow/late", http.StatusServiceUnavailable)
	s.get(t, "/slow/soon", http.StatusAccepted)

	wantValue(t, "responses 503", responses(t, reg, "GET", "/slow/{id}", "503"), 1)
	wantValue(t, "responses 202", responses(t, reg, "GET", "/slow/{id}", "202"), 1)
	wantValue(t, "requests", requests(t, reg, "GET", "/slow/{id}"), 2)
	for _, l := range samples(t, reg, "http_server_responses_total") {
		if strings.Contains(l, "599") || strings.Contains(l, httpmetrics.Unmatched) {
			t.Errorf("recorded %s", l)
		}
	}
}
