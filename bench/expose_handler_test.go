package bench

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/promgo/prom"
)

// acceptPrometheusText is the Accept header of a Prometheus 2.x that asks
// for the text format (2.0 to 2.4 sent exactly this; later ones send it with
// scrape_protocols set to PrometheusText0.0.4), so that all three libraries
// write the same format.
const acceptPrometheusText = "text/plain;version=0.0.4;q=1,*/*;q=0.1"

// exposeSamples is the number of sample lines in one Expose10k scrape:
// one per counter series, and per histogram 11 default buckets, +Inf, _sum
// and _count.
const exposeSamples = exposeFamilies*len(exposeMethods)*len(exposeCodes) + exposeHistograms*14

// exposeHandler is one library's way of serving the Expose10k workload
// with gzip.
type exposeHandler struct {
	lib      string
	metadata bool // vm only: turn on HELP and TYPE lines
	handler  func(tb testing.TB) http.Handler
}

var exposeHandlers = []exposeHandler{
	{lib: "prom", handler: func(testing.TB) http.Handler { return prom.Handler(setupPromExpose()) }},
	{lib: "clientgolang", handler: func(testing.TB) http.Handler {
		return promhttp.HandlerFor(setupCGExpose(), promhttp.HandlerOpts{})
	}},
	{lib: "vm", handler: func(tb testing.TB) http.Handler { return vmGzipHandler(setupVMExpose(tb)) }},
	{lib: "vm_metadata", metadata: true, handler: func(tb testing.TB) http.Handler { return vmGzipHandler(setupVMExpose(tb)) }},
}

// vmGzipPool holds gzip writers at the default level, as vm's own push
// code (getGzipWriter in push.go) pools them: vm has no HTTP handler of its
// own, its users write Set.WritePrometheus to the ResponseWriter.
var vmGzipPool sync.Pool

// vmGzipHandler serves set as vm's users do, compressed with gzip when the
// client accepts it.
func vmGzipHandler(set *vm.Set) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			set.WritePrometheus(w)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw, _ := vmGzipPool.Get().(*gzip.Writer)
		if zw == nil {
			zw = gzip.NewWriter(w)
		} else {
			zw.Reset(w)
		}
		set.WritePrometheus(zw)
		zw.Close()
		vmGzipPool.Put(zw)
	})
}

// recorder is a ResponseWriter that counts the body's bytes and keeps them
// only when body is set, so that the benchmark times the handler, not a
// recorder.
type recorder struct {
	header http.Header
	code   int
	n      int
	body   *bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *recorder) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.n += len(p)
	if w.body != nil {
		w.body.Write(p)
	}
	return len(p), nil
}

func (w *recorder) reset() {
	clear(w.header)
	w.code, w.n = 0, 0
	if w.body != nil {
		w.body.Reset()
	}
}

// scrapeRequest is a Prometheus text scrape asking for gzip.
func scrapeRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	r.Header.Set("Accept", acceptPrometheusText)
	r.Header.Set("Accept-Encoding", "gzip")
	return r
}

// checkExposeGzip scrapes h once and checks that the answer is a gzipped
// text exposition of the whole Expose10k workload.
func checkExposeGzip(tb testing.TB, h http.Handler) {
	tb.Helper()
	w := &recorder{header: http.Header{}, body: new(bytes.Buffer)}
	h.ServeHTTP(w, scrapeRequest())
	if w.code != http.StatusOK {
		tb.Fatalf("status %d: %.200q", w.code, w.body)
	}
	if ce := w.header.Get("Content-Encoding"); ce != "gzip" {
		tb.Fatalf("Content-Encoding %q, want gzip", ce)
	}
	if ct := w.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		tb.Fatalf("Content-Type %q, want text/plain", ct)
	}
	zr, err := gzip.NewReader(w.body)
	if err != nil {
		tb.Fatal(err)
	}
	samples := 0
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		if l := sc.Text(); l != "" && l[0] != '#' {
			samples++
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil { // reaches the checksum
		tb.Fatal(err)
	}
	if samples != exposeSamples {
		tb.Fatalf("%d sample lines, want %d", samples, exposeSamples)
	}
}

// setMetadata turns vm's HELP and TYPE lines on or off until the test ends.
func setMetadata(tb testing.TB, on bool) {
	if on {
		vm.ExposeMetadata(true)
		tb.Cleanup(func() { vm.ExposeMetadata(false) })
	}
}

func TestExpose10kHandlerGzip(t *testing.T) {
	for _, e := range exposeHandlers {
		t.Run(e.lib, func(t *testing.T) {
			setMetadata(t, e.metadata)
			checkExposeGzip(t, e.handler(t))
		})
	}
}

// BenchmarkExpose10kHandlerGzip serves the Expose10k workload through each
// library's HTTP handler to a scraper that asks for text and gzip, as
// Prometheus does. The compressed size of one scrape is reported as
// bytes/scrape. As in BenchmarkExpose10k, vm writes no HELP or TYPE lines
// by default, and vm_metadata turns them on.
func BenchmarkExpose10kHandlerGzip(b *testing.B) {
	for _, e := range exposeHandlers {
		b.Run(e.lib, func(b *testing.B) {
			setMetadata(b, e.metadata)
			h := e.handler(b)
			checkExposeGzip(b, h)
			r := scrapeRequest()
			w := &recorder{header: http.Header{}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				w.reset()
				h.ServeHTTP(w, r)
			}
			b.StopTimer()
			if w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
			b.ReportMetric(float64(w.n), "bytes/scrape")
		})
	}
}
