package prom

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promgo/prom/internal/expo"
)

// handlerRegistry returns a registry with the gauges a, b and c, set to 1,
// 2 and 3, and a counter hits_total at 4.
func handlerRegistry(t *testing.T) *Registry {
	t.Helper()
	reg := NewRegistry()
	for i, name := range []string{"a", "b", "c"} {
		Must(NewGauge(name, "Gauge "+name+".", WithRegistry(reg))).Set(float64(i + 1))
	}
	Must(NewCounter("hits_total", "Hits.", WithRegistry(reg))).Add(4)
	return reg
}

// serve runs one request through h and returns the recorded response.
func serve(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, vs := range header {
		req.Header[k] = vs
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// bufLogger returns a logger writing to a buffer safe for concurrent use.
func bufLogger() (*log.Logger, *syncBuffer) {
	var b syncBuffer
	return log.New(&b, "", 0), &b
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// gunzip decompresses b, failing the test on an error.
func gunzip(t *testing.T, b []byte) string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip.NewReader: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("reading gzip body: %v", err)
	}
	return string(out)
}

// formats lists every exposition format the package has, without naming
// them: the formats are numbered from 0, and ContentType is empty past the
// last one.
func formats() []Format {
	var fs []Format
	for f := Format(0); f < 64 && f.ContentType() != ""; f++ {
		fs = append(fs, f)
	}
	return fs
}

func TestHandlerMethods(t *testing.T) {
	h := Handler(handlerRegistry(t))
	get := serve(h, http.MethodGet, "/metrics", nil)
	if get.Code != http.StatusOK {
		t.Fatalf("GET: status %d, want 200", get.Code)
	}
	for _, tc := range []struct {
		method   string
		code     int
		wantBody bool
	}{
		{http.MethodGet, http.StatusOK, true},
		{http.MethodHead, http.StatusOK, false},
		{http.MethodPost, http.StatusMethodNotAllowed, true},
		{http.MethodPut, http.StatusMethodNotAllowed, true},
		{http.MethodDelete, http.StatusMethodNotAllowed, true},
		{http.MethodOptions, http.StatusMethodNotAllowed, true},
	} {
		t.Run(tc.method, func(t *testing.T) {
			rec := serve(h, tc.method, "/metrics", nil)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d", rec.Code, tc.code)
			}
			if got := rec.Body.Len() > 0; got != tc.wantBody {
				t.Errorf("body present = %v, want %v", got, tc.wantBody)
			}
			if tc.code == http.StatusMethodNotAllowed {
				if got := rec.Header().Get("Allow"); got != "GET, HEAD" {
					t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
				}
				return
			}
			if got, want := rec.Header().Get("Content-Length"), strconv.Itoa(get.Body.Len()); got != want {
				t.Errorf("Content-Length = %s, want %s (the GET body's length)", got, want)
			}
			if got, want := rec.Header().Get("Content-Type"), FormatText.ContentType(); got != want {
				t.Errorf("Content-Type = %q, want %q", got, want)
			}
		})
	}
}

// TestHandlerHeaderLines: an Accept or Accept-Encoding header sent on
// several lines is one list, as HTTP reads it (only the first line was
// read).
func TestHandlerHeaderLines(t *testing.T) {
	h := Handler(handlerRegistry(t))
	for _, tc := range []struct {
		name     string
		header   http.Header
		format   Format
		encoding string
	}{
		{"two Accept lines", http.Header{"Accept": {"text/plain;version=0.0.4;q=0.1", "application/openmetrics-text;version=1.0.0"}}, FormatOpenMetrics, ""},
		{"one Accept line", http.Header{"Accept": {"text/plain;version=0.0.4;q=0.1,application/openmetrics-text;version=1.0.0"}}, FormatOpenMetrics, ""},
		{"two Accept-Encoding lines", http.Header{"Accept-Encoding": {"br", "gzip"}}, FormatText, "gzip"},
		{"gzip refused on a later line", http.Header{"Accept-Encoding": {"*", "gzip;q=0"}}, FormatText, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(h, http.MethodGet, "/metrics", tc.header)
			if got, want := rec.Header().Get("Content-Type"), tc.format.ContentType(); got != want {
				t.Errorf("Content-Type %q, want %q", got, want)
			}
			if got := rec.Header().Get("Content-Encoding"); got != tc.encoding {
				t.Errorf("Content-Encoding %q, want %q", got, tc.encoding)
			}
		})
	}
}

func TestHandlerGzip(t *testing.T) {
	h := Handler(handlerRegistry(t))
	plain := serve(h, http.MethodGet, "/metrics", nil).Body.String()
	if !strings.Contains(plain, "\nb 2\n") {
		t.Fatalf("uncompressed body lacks b 2:\n%s", plain)
	}
	for _, tc := range []struct {
		acceptEncoding string
		gzip           bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"gzip; q=0", false},
		{"gzip;q=0.0", false},
		{"gzip;q=0.001", true},
		{"gzip;q=1.0", true},
		{"gzip;q=nonsense", false},
		{"deflate, br", false},
		{"deflate, gzip;q=0.5", true},
		{"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
		{"*", true},
		{"*;q=0", false},
		{"gzip;q=0, *", false}, // gzip refused by name beats the wildcard
		{"identity", false},
		{"x-gzip", true},
		{"X-GZIP;q=0.5, identity", true},
		{"x-gzip;q=0, *", false},
	} {
		t.Run(tc.acceptEncoding, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				rec := serve(h, method, "/metrics", http.Header{"Accept-Encoding": {tc.acceptEncoding}})
				if rec.Code != http.StatusOK {
					t.Fatalf("%s: status %d", method, rec.Code)
				}
				hdr := rec.Header()
				if got := hdr.Get("Content-Encoding") == "gzip"; got != tc.gzip {
					t.Errorf("%s: Content-Encoding %q, want gzip = %v", method, hdr.Get("Content-Encoding"), tc.gzip)
				}
				if vary := strings.Join(hdr.Values("Vary"), ","); !strings.Contains(vary, "Accept-Encoding") {
					t.Errorf("%s: Vary = %q, want Accept-Encoding in it", method, vary)
				}
				if method == http.MethodHead {
					if rec.Body.Len() != 0 {
						t.Errorf("HEAD: body of %d bytes", rec.Body.Len())
					}
					get := serve(h, http.MethodGet, "/metrics", http.Header{"Accept-Encoding": {tc.acceptEncoding}})
					if got, want := hdr.Get("Content-Length"), strconv.Itoa(get.Body.Len()); got != want {
						t.Errorf("HEAD: Content-Length %s, want %s", got, want)
					}
					continue
				}
				if got, want := hdr.Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want {
					t.Errorf("GET: Content-Length %s, body %s bytes", got, want)
				}
				body := rec.Body.String()
				if tc.gzip {
					body = gunzip(t, rec.Body.Bytes())
				}
				if body != plain {
					t.Errorf("GET: body differs from the uncompressed one:\n%s", body)
				}
			}
		})
	}
}

// TestHandlerFormats checks that each format is served with its own
// Content-Type when the Accept header names it, whatever formats exist.
func TestHandlerFormats(t *testing.T) {
	reg := handlerRegistry(t)
	h := Handler(reg)
	for _, f := range formats() {
		t.Run(f.String(), func(t *testing.T) {
			rec := serve(h, http.MethodGet, "/metrics", http.Header{"Accept": {f.ContentType()}})
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != f.ContentType() {
				t.Errorf("Content-Type = %q, want %q", got, f.ContentType())
			}
			want, err := reg.Append(context.Background(), nil, f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Errorf("body differs from Append's:\n%q\nwant:\n%q", rec.Body.Bytes(), want)
			}
		})
	}
}

func TestHandlerNameFilter(t *testing.T) {
	reg := handlerRegistry(t)
	calls := 0
	Must(NewGaugeFunc("f", "Function.", func() float64 { calls++; return 5 }, WithRegistry(reg)))
	h := Handler(reg)
	for _, tc := range []struct {
		query string
		want  []string // the sample lines, in order
		calls int      // of the GaugeFunc's function
	}{
		{"", []string{"a 1", "b 2", "c 3", "f 5", "hits_total 4"}, 1},
		{"?name[]=a", []string{"a 1"}, 0},
		{"?name[]=a&name[]=c", []string{"a 1", "c 3"}, 0},
		{"?name%5B%5D=c&name%5B%5D=b", []string{"b 2", "c 3"}, 0},
		{"?name[]=hits_total", []string{"hits_total 4"}, 0},
		{"?name[]=f&name[]=a", []string{"a 1", "f 5"}, 1},
		{"?name[]=missing", nil, 0},
		{"?name[]=", nil, 0},
		{"?other=x", []string{"a 1", "b 2", "c 3", "f 5", "hits_total 4"}, 1},
		{"?name=a", []string{"a 1", "b 2", "c 3", "f 5", "hits_total 4"}, 1},
	} {
		t.Run(tc.query, func(t *testing.T) {
			calls = 0
			rec := serve(h, http.MethodGet, "/metrics"+tc.query, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := samples(rec.Body.String()); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("samples %q, want %q", got, tc.want)
			}
			if calls != tc.calls {
				t.Errorf("the GaugeFunc's function ran %d times, want %d", calls, tc.calls)
			}
		})
	}
}

func TestHandlerCreatedSamples(t *testing.T) {
	reg := handlerRegistry(t)
	openMetrics := Format(-1)
	for _, f := range formats() {
		if strings.Contains(f.ContentType(), "openmetrics") {
			openMetrics = f
		}
	}
	if openMetrics < 0 {
		t.Skip("no OpenMetrics format yet")
	}
	accept := http.Header{"Accept": {openMetrics.ContentType()}}
	for _, tc := range []struct {
		name    string
		opts    []HandlerOption
		created bool
	}{
		{"default", nil, false},
		{"WithCreatedSamples", []HandlerOption{WithCreatedSamples()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := serve(Handler(reg, tc.opts...), http.MethodGet, "/metrics", accept)
			if got := rec.Header().Get("Content-Type"); got != openMetrics.ContentType() {
				t.Fatalf("Content-Type %q, want %q", got, openMetrics.ContentType())
			}
			if got := strings.Contains(rec.Body.String(), "hits_created"); got != tc.created {
				t.Errorf("hits_created present = %v, want %v:\n%s", got, tc.created, rec.Body)
			}
		})
	}
	// The text format has no _created samples, with the option or not.
	rec := serve(Handler(reg, WithCreatedSamples()), http.MethodGet, "/metrics", nil)
	if strings.Contains(rec.Body.String(), "_created") {
		t.Errorf("text format with _created samples:\n%s", rec.Body)
	}
}

// TestHandlerWithoutOpenMetrics checks that WithoutOpenMetrics answers
// every request for OpenMetrics in the text format, and leaves protobuf.
func TestHandlerWithoutOpenMetrics(t *testing.T) {
	reg := handlerRegistry(t)
	h := Handler(reg, WithoutOpenMetrics())
	protobuf := "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
	for _, tc := range []struct {
		accept string
		want   Format
	}{
		{"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", FormatText},
		{"application/openmetrics-text", FormatText},
		{protobuf + ",application/openmetrics-text;version=1.0.0;q=0.8,text/plain;version=0.0.4;q=0.5", FormatProtobuf},
		{"application/openmetrics-text;q=0.9," + protobuf + ";q=0.5", FormatProtobuf},
		{"", FormatText},
	} {
		rec := serve(h, http.MethodGet, "/metrics", http.Header{"Accept": {tc.accept}})
		if got := rec.Header().Get("Content-Type"); got != tc.want.ContentType() {
			t.Errorf("Accept %q: Content-Type %q, want %q", tc.accept, got, tc.want.ContentType())
			continue
		}
		want, err := reg.Append(context.Background(), nil, tc.want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec.Body.Bytes(), want) {
			t.Errorf("Accept %q: body %q, want %q", tc.accept, rec.Body, want)
		}
	}
	// Without the option, the same first header gets OpenMetrics.
	rec := serve(Handler(reg), http.MethodGet, "/metrics", http.Header{"Accept": {"application/openmetrics-text"}})
	if got := rec.Header().Get("Content-Type"); got != FormatOpenMetrics.ContentType() {
		t.Errorf("default handler: Content-Type %q", got)
	}
}

func TestHandlerErrorHandling(t *testing.T) {
	newReg := func(t *testing.T) *Registry {
		reg := handlerRegistry(t)
		reg.MustRegister(collectorFunc{names: []string{"broken"}, fn: func(ctx context.Context, w *MetricWriter) error {
			return errors.New("backend unreachable")
		}})
		reg.MustRegister(collectorFunc{names: []string{"panicky"}, fn: func(ctx context.Context, w *MetricWriter) error {
			panic("collector bug")
		}})
		return reg
	}
	for _, tc := range []struct {
		name string
		opts []HandlerOption
		code int
		body []string // substrings of the body
		not  []string // strings the body must not hold
	}{
		{"default", nil, http.StatusOK, []string{"a 1\n", "c 3\n"}, []string{"backend unreachable"}},
		{"ContinueOnError", []HandlerOption{WithErrorHandling(ContinueOnError)}, http.StatusOK, []string{"a 1\n", "hits_total 4\n"}, []string{"panicked"}},
		{"HTTPErrorOnError", []HandlerOption{WithErrorHandling(HTTPErrorOnError)}, http.StatusInternalServerError,
			[]string{"backend unreachable", `"panicky" panicked: collector bug`}, []string{"a 1", "# TYPE"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, logged := bufLogger()
			h := Handler(newReg(t), append(tc.opts, WithErrorLog(l))...)
			rec := serve(h, http.MethodGet, "/metrics", http.Header{"Accept-Encoding": {"gzip"}})
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d:\n%s", rec.Code, tc.code, rec.Body)
			}
			body := rec.Body.String()
			if rec.Header().Get("Content-Encoding") == "gzip" {
				body = gunzip(t, rec.Body.Bytes())
			}
			wantParts(t, "body", body, tc.body, tc.not)
			for _, s := range []string{"backend unreachable", "collector bug"} {
				if !strings.Contains(logged.String(), s) {
					t.Errorf("log lacks %q: %q", s, logged)
				}
			}
		})
	}
}

// panickyWriter is a ResponseWriter whose Write panics.
type panickyWriter struct{ *httptest.ResponseRecorder }

func (panickyWriter) Write([]byte) (int, error) { panic("writer bug") }

func TestHandlerRecoversPanics(t *testing.T) {
	l, logged := bufLogger()
	h := Handler(handlerRegistry(t), WithErrorLog(l))
	w := panickyWriter{httptest.NewRecorder()}
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("ServeHTTP panicked: %v", p)
			}
		}()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	}()
	if !strings.Contains(logged.String(), "panicked: writer bug") {
		t.Errorf("log %q lacks the panic", logged)
	}

	// http.ErrAbortHandler is how a handler asks the server to abort the
	// response; it must go through.
	h = Handler(handlerRegistry(t), WithErrorLog(l))
	w = panickyWriter{httptest.NewRecorder()}
	defer func() {
		if p := recover(); p != http.ErrAbortHandler {
			t.Errorf("recovered %v, want http.ErrAbortHandler", p)
		}
	}()
	h.ServeHTTP(abortWriter{w}, httptest.NewRequest(http.MethodGet, "/metrics", nil))
}

type abortWriter struct{ panickyWriter }

func (abortWriter) Write([]byte) (int, error) { panic(http.ErrAbortHandler) }

// gate is a custom collector that blocks each scrape until it is released
// or the scrape's context is done, and reports both.
type gate struct {
	entered chan struct{} // receives once per scrape that reached Collect
	release chan struct{} // closed to let scrapes go on
	sawDone chan error    // receives ctx's error when a scrape saw ctx done
	// ignoreCtx makes Collect wait for release alone.
	ignoreCtx bool
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 16), release: make(chan struct{}), sawDone: make(chan error, 16)}
}

func (g *gate) Describe() []string { return []string{"gated"} }

func (g *gate) Collect(ctx context.Context, w *MetricWriter) error {
	g.entered <- struct{}{}
	if g.ignoreCtx {
		<-g.release
	} else {
		select {
		case <-g.release:
		case <-ctx.Done():
			g.sawDone <- ctx.Err()
			return ctx.Err()
		}
	}
	w.Gauge("gated", "Collected behind a gate.", 1, nil)
	return nil
}

// waitFor receives from ch or fails the test after a generous delay.
func waitFor[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestHandlerMaxRequestsInFlight(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  []HandlerOption
		limit int // 0: none
	}{
		{"limit 1", []HandlerOption{WithMaxRequestsInFlight(1)}, 1},
		{"limit 3", []HandlerOption{WithMaxRequestsInFlight(3)}, 3},
		{"limit 2 with timeout", []HandlerOption{WithMaxRequestsInFlight(2), WithTimeout(time.Minute)}, 2},
		{"no limit", []HandlerOption{WithMaxRequestsInFlight(0)}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry()
			g := newGate()
			reg.MustRegister(g)
			h := Handler(reg, tc.opts...)

			// Hold as many scrapes as the limit lets in (4 without one)
			// at the gate.
			held := tc.limit
			if held == 0 {
				held = 4
			}
			codes := make(chan int, held)
			for range held {
				go func() { codes <- serve(h, http.MethodGet, "/metrics", nil).Code }()
			}
			for range held {
				waitFor(t, g.entered, "a scrape to reach the collector")
			}
			// A further scrape is refused at once, or held too without a
			// limit.
			if tc.limit > 0 {
				start := time.Now()
				rec := serve(h, http.MethodGet, "/metrics", nil)
				if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "too many scrapes") {
					t.Errorf("scrape beyond the limit: status %d %q, want 503 too many scrapes", rec.Code, rec.Body)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("scrape beyond the limit answered after %v, want at once", d)
				}
			} else {
				go func() { codes <- serve(h, http.MethodGet, "/metrics", nil).Code }()
				waitFor(t, g.entered, "a further scrape to reach the collector")
				held++
			}
			close(g.release)
			for range held {
				if code := waitFor(t, codes, "a held scrape to end"); code != http.StatusOK {
					t.Errorf("held scrape: status %d, want 200", code)
				}
			}
			// Every place is free again.
			for range max(tc.limit, 1) {
				eventuallyOK(t, h)
			}
		})
	}
}

// eventuallyOK scrapes h until it answers 200: a collection that ended
// frees its place in flight a moment after the collector returns.
func eventuallyOK(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec := serve(h, http.MethodGet, "/metrics", nil)
		if rec.Code == http.StatusOK {
			return rec
		}
		if time.Now().After(deadline) {
			t.Fatalf("scrape: status %d, want 200:\n%s", rec.Code, rec.Body)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestHandlerTimeout(t *testing.T) {
	const timeout = 100 * time.Millisecond
	for _, tc := range []struct {
		name      string
		ignoreCtx bool // the collector ignores ctx: the handler answers anyway
		mode      ErrorHandling
	}{
		{"collector honours ctx", false, ContinueOnError},
		{"collector honours ctx, HTTPErrorOnError", false, HTTPErrorOnError},
		{"collector ignores ctx", true, ContinueOnError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := handlerRegistry(t)
			g := newGate()
			g.ignoreCtx = tc.ignoreCtx
			reg.MustRegister(g)
			l, logged := bufLogger()
			h := Handler(reg, WithTimeout(timeout), WithErrorHandling(tc.mode), WithMaxRequestsInFlight(1), WithErrorLog(l))

			start := time.Now()
			rec := serve(h, http.MethodGet, "/metrics", nil)
			elapsed := time.Since(start)
			if rec.Code != http.StatusServiceUnavailable {
				t.Fatalf("status %d, want 503:\n%s", rec.Code, rec.Body)
			}
			if !strings.Contains(rec.Body.String(), "longer than the timeout of 100ms") {
				t.Errorf("body %q does not name the timeout", rec.Body)
			}
			if strings.Contains(rec.Body.String(), "a 1") {
				t.Errorf("partial metrics served on timeout:\n%s", rec.Body)
			}
			if elapsed < timeout || elapsed > timeout+5*time.Second {
				t.Errorf("answered after %v, want about %v", elapsed, timeout)
			}
			if !strings.Contains(logged.String(), "timeout") {
				t.Errorf("log %q does not mention the timeout", logged)
			}
			if tc.ignoreCtx {
				// The collection goes on and keeps its place in flight.
				if rec := serve(h, http.MethodGet, "/metrics", nil); rec.Code != http.StatusServiceUnavailable {
					t.Errorf("scrape while the abandoned one runs: status %d, want 503", rec.Code)
				}
				close(g.release)
				// Once it ends, its place is free again.
				eventuallyOK(t, h)
				return
			}
			if err := waitFor(t, g.sawDone, "the collector to see ctx done"); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("collector saw %v, want context.DeadlineExceeded", err)
			}
			// A scrape within the timeout is served.
			close(g.release)
			if rec := eventuallyOK(t, h); !strings.Contains(rec.Body.String(), "gated 1") {
				t.Errorf("scrape in time lacks gated 1:\n%s", rec.Body)
			}
		})
	}
}

// TestHandlerTimeoutStopsFunctions checks that a scrape past its deadline
// calls no more GaugeFunc functions, gives its place in flight back once
// the running one returns, and counts the function that overran as failed,
// as it counts a custom collector.
func TestHandlerTimeoutStopsFunctions(t *testing.T) {
	reg := handlerRegistry(t)
	entered, release := make(chan struct{}, 1), make(chan struct{})
	Must(NewGaugeFunc("f_blocks", "Blocks.", func() float64 {
		entered <- struct{}{}
		<-release
		return 1
	}, WithRegistry(reg)))
	var later atomic.Int32
	for i := range 10 {
		Must(NewGaugeFunc("f_later_"+strconv.Itoa(i), "After the blocking one.", func() float64 { later.Add(1); return 2 }, WithRegistry(reg)))
	}
	l, _ := bufLogger()
	h := Handler(reg, WithTimeout(50*time.Millisecond), WithMaxRequestsInFlight(1), WithErrorLog(l))
	if rec := serve(h, http.MethodGet, "/metrics", nil); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", rec.Code)
	}
	waitFor(t, entered, "the blocking function to run")
	close(release)
	// Once the abandoned collection ends, its place is free: a filtered
	// scrape, which calls no function, is served.
	deadline := time.Now().Add(10 * time.Second)
	for serve(h, http.MethodGet, "/metrics?name[]=a", nil).Code != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the abandoned scrape kept its place in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := later.Load(); n != 0 {
		t.Errorf("the abandoned scrape called %d functions after its deadline", n)
	}
	out, _ := reg.Append(context.Background(), nil, FormatText)
	if want := failuresMetric + `{collector="f_blocks"} 1` + "\n"; !strings.Contains(string(out), want) {
		t.Errorf("output lacks %q:\n%s", want, out)
	}
}

// TestHandlerClientGone checks that a client going away cancels the
// collection through the request's context.
func TestHandlerClientGone(t *testing.T) {
	for _, opts := range [][]HandlerOption{nil, {WithTimeout(time.Minute)}} {
		reg := NewRegistry()
		g := newGate()
		reg.MustRegister(g)
		l, logged := bufLogger()
		h := Handler(reg, append(opts, WithErrorLog(l))...)
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { h.ServeHTTP(rec, req); close(done) }()
		waitFor(t, g.entered, "the scrape to reach the collector")
		cancel()
		if err := waitFor(t, g.sawDone, "the collector to see ctx done"); !errors.Is(err, context.Canceled) {
			t.Errorf("collector saw %v, want context.Canceled", err)
		}
		waitFor(t, done, "ServeHTTP to return")
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("status %d, want 503", rec.Code)
		}
		if logged.String() != "" {
			t.Errorf("a client going away was logged: %q", logged)
		}
	}
}

// TestHandlerOverHTTP runs the handler behind a real server, where the
// transport decompresses gzip and HEAD has no body.
func TestHandlerOverHTTP(t *testing.T) {
	srv := httptest.NewServer(Handler(handlerRegistry(t)))
	defer srv.Close()
	client := srv.Client()
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Uncompressed || !strings.Contains(string(body), "hits_total 4") {
		t.Errorf("GET: status %d, uncompressed by the transport %v:\n%s", resp.StatusCode, resp.Uncompressed, body)
	}
	resp, err = client.Head(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ContentLength <= 0 {
		t.Errorf("HEAD: status %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
	}
}

// TestHandlerConcurrent runs many scrapes at once under the race detector.
func TestHandlerConcurrent(t *testing.T) {
	reg := handlerRegistry(t)
	h := Handler(reg, WithTimeout(time.Minute))
	want := serve(h, http.MethodGet, "/metrics", nil).Body.String()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hdr := http.Header{}
			if i%2 == 0 {
				hdr.Set("Accept-Encoding", "gzip")
			}
			rec := serve(h, http.MethodGet, "/metrics", hdr)
			body := rec.Body.String()
			if i%2 == 0 {
				zr, err := gzip.NewReader(rec.Body)
				if err != nil {
					t.Errorf("scrape %d: %v", i, err)
					return
				}
				b, err := io.ReadAll(zr)
				if err != nil {
					t.Errorf("scrape %d: %v", i, err)
				}
				body = string(b)
			}
			if body != want {
				t.Errorf("scrape %d differs:\n%s", i, body)
			}
		}()
	}
	wg.Wait()
}

// streamRegistry returns the fixture's metrics plus enough series (with
// distinct values, so that gzip does not squeeze them below a chunk) that
// every format's body, compressed or not, spans several streamChunks.
func streamRegistry(t testing.TB) *Registry {
	reg := fixture(t)
	for f := range 60 {
		c := Must(NewCounter("stream_"+strconv.Itoa(f)+"_total", "Streamed.", WithRegistry(reg), WithLabelNames("series")))
		for s := range 200 {
			c.WithValues("s" + strconv.Itoa(s)).Add(float64(f*1000+s) * 1.37)
		}
	}
	h := Must(NewHistogram("stream_seconds", "Streamed histogram.", WithRegistry(reg), WithLabelNames("series")))
	for s := range 50 {
		h.WithValues("s" + strconv.Itoa(s)).Observe(float64(s) / 7)
	}
	return reg
}

// TestRenderChunked checks that a registry rendered in chunks of any size
// is the same bytes as rendered whole, in every format, whether the buffer
// is reused or each chunk kept (as chunks does), and that no chunk but the
// last is shorter than asked.
func TestRenderChunked(t *testing.T) {
	t.Parallel() // self-contained (its own registries)
	ctx := context.Background()
	for _, reg := range []*Registry{fixture(t), streamRegistry(t)} {
		for _, f := range formats() {
			want, err := reg.render(ctx, nil, f, renderOptions{created: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, chunk := range []int{1, 7, 100, 4096, streamChunk, len(want) + 1} {
				var got []byte
				var pieces []int
				buf, err := reg.renderChunked(ctx, nil, f, renderOptions{created: true}, chunk, func(p []byte) []byte {
					got = append(got, p...)
					pieces = append(pieces, len(p))
					return p[:0]
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(buf) != 0 {
					t.Errorf("%v, chunk %d: %d bytes left in the buffer", f, chunk, len(buf))
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%v, chunk %d: the chunks (%d bytes) differ from the whole rendering (%d bytes)", f, chunk, len(got), len(want))
				}
				var kept chunks
				if _, err := reg.renderChunked(ctx, nil, f, renderOptions{created: true}, chunk, kept.take); err != nil {
					t.Fatal(err)
				}
				var joined []byte
				for _, b := range kept.bufs {
					joined = append(joined, *b...)
				}
				if !bytes.Equal(joined, want) || kept.n != len(want) {
					t.Errorf("%v, chunk %d: the chunks kept (%d bytes, counted %d) differ from the whole rendering (%d bytes)", f, chunk, len(joined), kept.n, len(want))
				}
				kept.release()
				for i, n := range pieces[:max(len(pieces)-1, 0)] {
					if n < chunk {
						t.Errorf("%v, chunk %d: piece %d of %d bytes", f, chunk, i, n)
					}
				}
			}
		}
	}
}

// TestHandlerStreamed checks that a body longer than a chunk is streamed,
// without Content-Length, and decodes to exactly what is rendered whole,
// in every format, with gzip or not; that the modes which render whole
// before answering send the same, with its Content-Length unless it is
// compressed as it goes; and that HEAD gives the GET body's length.
func TestHandlerStreamed(t *testing.T) {
	reg := streamRegistry(t)
	streamed := Handler(reg)
	whole := Handler(reg, WithErrorHandling(HTTPErrorOnError))
	timed := Handler(reg, WithTimeout(time.Minute))
	for _, f := range formats() {
		want, err := reg.Append(context.Background(), nil, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, gz := range []bool{false, true} {
			t.Run(f.String()+" gzip "+strconv.FormatBool(gz), func(t *testing.T) {
				hdr := http.Header{"Accept": {f.ContentType()}}
				if gz {
					hdr.Set("Accept-Encoding", "gzip")
				}
				for name, h := range map[string]http.Handler{"streamed": streamed, "HTTPErrorOnError": whole, "WithTimeout": timed} {
					rec := serve(h, http.MethodGet, "/metrics", hdr)
					if rec.Code != http.StatusOK {
						t.Fatalf("%s: status %d", name, rec.Code)
					}
					wantCL := "" // streamed
					if name != "streamed" && !gz {
						wantCL = strconv.Itoa(len(want))
					}
					if cl := rec.Header().Get("Content-Length"); cl != wantCL {
						t.Errorf("%s: Content-Length %q on a body of %d bytes, want %q", name, cl, rec.Body.Len(), wantCL)
					}
					if got := rec.Header().Get("Content-Type"); got != f.ContentType() {
						t.Errorf("%s: Content-Type %q", name, got)
					}
					body := rec.Body.Bytes()
					if gz {
						if ce := rec.Header().Get("Content-Encoding"); ce != "gzip" {
							t.Fatalf("%s: Content-Encoding %q", name, ce)
						}
						body = []byte(gunzip(t, body))
					}
					if !bytes.Equal(body, want) {
						t.Errorf("%s: the body (%d bytes) differs from Append's (%d bytes)", name, len(body), len(want))
					}
					head := serve(h, http.MethodHead, "/metrics", hdr)
					if got, want := head.Header().Get("Content-Length"), strconv.Itoa(rec.Body.Len()); got != want || head.Body.Len() != 0 {
						t.Errorf("%s: HEAD: Content-Length %s, body %d bytes; want %s and none", name, got, head.Body.Len(), want)
					}
				}
			})
		}
	}
}

// TestHandlerErrorsOnLargeBody checks the error modes on a body longer
// than a chunk: HTTPErrorOnError still answers 500 and nothing else, and
// ContinueOnError serves the rest whole and logs the error.
func TestHandlerErrorsOnLargeBody(t *testing.T) {
	reg := streamRegistry(t)
	reg.MustRegister(collectorFunc{names: []string{"broken"}, fn: func(context.Context, *MetricWriter) error {
		return errors.New("backend unreachable")
	}})
	gz := http.Header{"Accept-Encoding": {"gzip"}}

	l, logged := bufLogger()
	rec := serve(Handler(reg, WithErrorHandling(HTTPErrorOnError), WithErrorLog(l)), http.MethodGet, "/metrics", gz)
	if rec.Code != http.StatusInternalServerError || rec.Header().Get("Content-Encoding") != "" ||
		!strings.Contains(rec.Body.String(), "backend unreachable") || strings.Contains(rec.Body.String(), "stream_") {
		t.Errorf("HTTPErrorOnError: status %d, Content-Encoding %q:\n%.300s", rec.Code, rec.Header().Get("Content-Encoding"), rec.Body)
	}
	if !strings.Contains(logged.String(), "backend unreachable") {
		t.Errorf("HTTPErrorOnError: log %q lacks the error", logged)
	}

	l, logged = bufLogger()
	rec = serve(Handler(reg, WithErrorLog(l)), http.MethodGet, "/metrics", gz)
	if rec.Code != http.StatusOK {
		t.Fatalf("ContinueOnError: status %d", rec.Code)
	}
	body := gunzip(t, rec.Body.Bytes())
	if !strings.Contains(body, "stream_59_total{series=\"s199\"}") || !strings.Contains(body, "stream_seconds_count") {
		t.Errorf("ContinueOnError: the body lacks series:\n%.300s", body)
	}
	if !strings.Contains(logged.String(), "backend unreachable") {
		t.Errorf("ContinueOnError: log %q lacks the error", logged)
	}
}

// blockStream registers in streamRegistry's reg a gauge stream_7_blocking
// whose encoding blocks its scrape: it sends on entered, then waits for
// release. 57 of the registry's 60 counter families (more than a chunk,
// compressed or not) come before it and the rest after: a streamed scrape
// stops there with its body begun. It is a built-in family to the
// registry, written while the body streams, as no user code is (a
// GaugeFunc's function runs before anything is written).
func blockStream(reg *Registry) (entered, release chan struct{}) {
	b := &blockingFamily{entered: make(chan struct{}, 1), release: make(chan struct{})}
	b.m.name, b.m.help, b.m.typ = "stream_7_blocking", "Blocks the scrape.", expo.Gauge
	reg.MustRegister(b)
	return b.entered, b.release
}

type blockingFamily struct {
	m                familyMeta
	entered, release chan struct{}
}

func (b *blockingFamily) Describe() []string { return []string{b.m.name} }
func (b *blockingFamily) Collect(ctx context.Context, w *MetricWriter) error {
	return collectVia(ctx, b, w)
}
func (b *blockingFamily) meta() *familyMeta { return &b.m }
func (b *blockingFamily) encode(enc expo.Encoder) {
	b.entered <- struct{}{}
	<-b.release
	b.m.start(enc)
	enc.Value(&expo.Labels{}, 1)
}

// TestHandlerAbortsCutStream checks that a streamed scrape whose context
// ends after the body has begun is aborted with http.ErrAbortHandler, so
// that the client does not take what it got for a whole scrape, and that
// nothing is logged for it.
func TestHandlerAbortsCutStream(t *testing.T) {
	for _, gz := range []bool{false, true} {
		reg := streamRegistry(t)
		entered, release := blockStream(reg)
		l, logged := bufLogger()
		h := Handler(reg, WithErrorLog(l))
		ctx, cancel := context.WithCancel(context.Background())
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(ctx)
		if gz {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		rec := httptest.NewRecorder()
		panicked := make(chan any, 1)
		go func() {
			defer func() { panicked <- recover() }()
			h.ServeHTTP(rec, req)
		}()
		waitFor(t, entered, "the scrape to reach the blocking family")
		if rec.Body.Len() == 0 || rec.Header().Get("Content-Length") != "" {
			t.Errorf("gzip %v: %d bytes sent, Content-Length %q before the blocking family; want a streamed body begun", gz, rec.Body.Len(), rec.Header().Get("Content-Length"))
		}
		cancel()
		close(release)
		if p := waitFor(t, panicked, "ServeHTTP to return"); p != http.ErrAbortHandler {
			t.Errorf("gzip %v: ServeHTTP ended with %v, want a panic with http.ErrAbortHandler", gz, p)
		}
		if logged.String() != "" {
			t.Errorf("gzip %v: a cancelled scrape was logged: %q", gz, logged)
		}
	}
}

// TestHandlerStreamClientGone runs streamed gzip scrapes over HTTP whose
// clients go away in the middle of the body: the handlers end, nothing
// leaks and the server goes on serving whole scrapes.
func TestHandlerStreamClientGone(t *testing.T) {
	reg := streamRegistry(t)
	entered, release := blockStream(reg)
	l, logged := bufLogger()
	srv := httptest.NewServer(Handler(reg, WithErrorLog(l), WithMaxRequestsInFlight(1)))
	defer srv.Close()
	for range 3 {
		g := checkGoroutines()
		tr := &http.Transport{}
		ctx, cancel := context.WithCancel(context.Background())
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Encoding") != "gzip" {
			t.Fatalf("status %d, Content-Encoding %q", resp.StatusCode, resp.Header.Get("Content-Encoding"))
		}
		if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, entered, "the scrape to reach the blocking family")
		cancel() // the client goes away with the body half read
		resp.Body.Close()
		tr.CloseIdleConnections()
		release <- struct{}{}
		g.verify(t) // the handler has returned
	}
	close(release)
	// With WithMaxRequestsInFlight(1), every abandoned scrape gave its
	// place back.
	rec := serve(srv.Config.Handler, http.MethodGet, "/metrics", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "stream_7_blocking 1\n") {
		t.Errorf("scrape after the disconnects: status %d, stream_7_blocking 1 missing", rec.Code)
	}
	if logged.String() != "" {
		t.Errorf("clients going away were logged: %q", logged)
	}
}

// TestBufferPoolBound checks that buffers grown past maxPooledBuffer are
// not pooled.
func TestBufferPoolBound(t *testing.T) {
	big := make([]byte, 0, maxPooledBuffer+1)
	putBuffer(&big)
	for range 100 {
		if b := getBuffer(); cap(*b) > maxPooledBuffer {
			t.Fatalf("the pool returned a buffer of %d bytes", cap(*b))
		}
	}
}

// BenchmarkHandlerLoopback serves 100,000 series (the load test's
// registry) over loopback to 4 scrapers per CPU at once, streamed (the
// default) and rendered whole first (HTTPErrorOnError), with and without
// gzip; the client reads and drops the body.
func BenchmarkHandlerLoopback(b *testing.B) {
	reg := NewRegistry()
	for f := range loadFamilies {
		c := Must(NewCounter("load_f"+strconv.Itoa(f)+"_total", "A counter.", WithRegistry(reg), WithLabelNames("series")))
		for s := range loadSeries {
			c.WithValues("s" + strconv.Itoa(s)).Add(float64(s * f))
		}
	}
	for _, gz := range []bool{false, true} {
		for _, mode := range []struct {
			name string
			opts []HandlerOption
		}{
			{"streamed", nil},
			{"whole", []HandlerOption{WithErrorHandling(HTTPErrorOnError)}},
		} {
			b.Run("gzip="+strconv.FormatBool(gz)+"/"+mode.name, func(b *testing.B) {
				srv := httptest.NewServer(Handler(reg, mode.opts...))
				defer srv.Close()
				tr := &http.Transport{DisableCompression: !gz, MaxIdleConnsPerHost: 16}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: tr}
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						resp, err := client.Get(srv.URL)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				})
			})
		}
	}
}
