package prom

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// HandlerOption configures [Handler]. Without options a Handler serves every
// family, has no timeout and no limit on concurrent scrapes, and serves what
// it could collect when a collector fails ([ContinueOnError]).
type HandlerOption func(*handlerOptions)

type handlerOptions struct {
	errorLog    *log.Logger
	errors      ErrorHandling
	maxInFlight int
	timeout     time.Duration
	created     bool
}

// ErrorHandling says what [Handler] does when collecting metrics fails: a
// custom collector returns an error or panics, or a metric cannot be written.
// Either way the error is logged (see [WithErrorLog]).
type ErrorHandling int

const (
	// ContinueOnError serves the metrics that could be collected, with
	// status 200, and logs the error. It is the default: one broken
	// collector does not blind the scraper to everything else.
	ContinueOnError ErrorHandling = iota
	// HTTPErrorOnError answers 500 with the error text and no metrics, so
	// the scrape fails as a whole (up is 0 in Prometheus).
	HTTPErrorOnError
)

// WithErrorHandling sets what the handler does when collection fails; the
// default is [ContinueOnError]. A timeout ([WithTimeout]) answers 503
// whatever the mode.
func WithErrorHandling(mode ErrorHandling) HandlerOption {
	return func(o *handlerOptions) { o.errors = mode }
}

// WithErrorLog logs collection errors, timeouts and recovered panics to l;
// by default (or when l is nil) they go to the standard logger, which
// [log/slog.SetDefault] redirects to slog. It takes a *log.Logger, as
// http.Server.ErrorLog does, so that one logger serves both; for a slog
// handler h, pass slog.NewLogLogger(h, slog.LevelError).
func WithErrorLog(l *log.Logger) HandlerOption {
	return func(o *handlerOptions) { o.errorLog = l }
}

// WithMaxRequestsInFlight limits the scrapes collected at once to n: a
// further scrape is answered 503 at once rather than queued, so a burst of
// scrapers cannot pile up collections. n <= 0 means no limit (the default).
//
// A scrape holds its place until its collection ends, even when
// [WithTimeout] has already answered the client: a collector that ignores
// its context keeps its place, and the limit bounds how many of them run.
func WithMaxRequestsInFlight(n int) HandlerOption {
	return func(o *handlerOptions) { o.maxInFlight = n }
}

// WithTimeout bounds each scrape's collection to d: the context given to
// collectors is the request's (so a client that goes away cancels it too)
// with this deadline. When the deadline passes the handler answers 503
// with a message naming the timeout, whatever the [ErrorHandling] mode: a
// scrape cut off at an arbitrary family would make the missing series
// look stale to Prometheus, while a failed scrape shows plainly as up 0.
// The handler answers at the deadline even when a collector ignores its
// context; that collection then ends in the background. d <= 0 means no
// timeout (the default).
func WithTimeout(d time.Duration) HandlerOption {
	return func(o *handlerOptions) { o.timeout = d }
}

// WithCreatedSamples adds a _created sample (the time the series was
// created) to counters, histograms and summaries in OpenMetrics output.
// The other formats are unaffected.
func WithCreatedSamples() HandlerOption {
	return func(o *handlerOptions) { o.created = true }
}

// Handler returns an http.Handler that serves reg (nil means [Default]) to
// scrapers, for any mux. It answers GET and HEAD (405 otherwise), chooses
// the format from the Accept header, and compresses with gzip when the
// client accepts it. The query parameter name[], repeated, keeps only the
// families named: /metrics?name[]=a&name[]=b. The body is rendered in memory
// and written at once, so a slow client holds no lock; a HEAD request gets
// the headers, Content-Length included, without the body.
//
// Collection errors are handled as [WithErrorHandling] says, by default by
// serving what could be collected and logging the error. A panic in a
// collector or in the handler itself is recovered and logged; it never
// takes the server down. The handler is safe for concurrent use.
func Handler(reg *Registry, opts ...HandlerOption) http.Handler {
	if reg == nil {
		reg = Default
	}
	h := &handler{reg: reg}
	for _, o := range opts {
		if o != nil {
			o(&h.opts)
		}
	}
	if h.opts.maxInFlight > 0 {
		h.inFlight = make(chan struct{}, h.opts.maxInFlight)
	}
	return h
}

type handler struct {
	reg      *Registry
	opts     handlerOptions
	inFlight chan struct{} // a semaphore; nil without a limit
}

// errScrapeTimeout is the cause of a collection context whose WithTimeout
// deadline passed.
var errScrapeTimeout = errors.New("prom: collecting metrics timed out")

// gzipPool holds writers at BestSpeed: compression is most of a scrape's
// cost, and the faster level keeps scrapes short and their buffers few.
var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	wrote := false // whether the response has begun
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.logf("prom: metrics handler panicked: %v", p)
			if !wrote {
				h.fail(w, http.StatusInternalServerError, "prom: internal error while serving metrics")
			}
		}
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f := NegotiateFormat(r.Header.Get("Accept"))
	o := renderOptions{names: nameFilter(r), created: h.opts.created}
	if h.inFlight != nil {
		select {
		case h.inFlight <- struct{}{}:
		default:
			http.Error(w, "prom: too many scrapes in flight (limit "+strconv.Itoa(cap(h.inFlight))+")", http.StatusServiceUnavailable)
			return
		}
	}

	ctx := r.Context()
	var buf *[]byte
	var err error
	if h.opts.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, h.opts.timeout, errScrapeTimeout)
		defer cancel()
		buf, err = h.collectAsync(ctx, f, o)
	} else {
		buf = getBuffer()
		*buf, err = h.collect(ctx, (*buf)[:0], f, o)
		h.release()
	}
	if buf != nil {
		defer putBuffer(buf)
	}

	if err != nil {
		switch {
		case ctx.Err() != nil && errors.Is(context.Cause(ctx), errScrapeTimeout):
			msg := "prom: collecting metrics took longer than the timeout of " + h.opts.timeout.String()
			h.logf("%s: %v", msg, err)
			http.Error(w, msg, http.StatusServiceUnavailable)
			return
		case ctx.Err() != nil:
			// The client went away or the server is shutting down: nobody
			// is waiting for the metrics, and nothing went wrong here.
			http.Error(w, "prom: scrape cancelled: "+context.Cause(ctx).Error(), http.StatusServiceUnavailable)
			return
		case h.opts.errors == HTTPErrorOnError:
			h.logf("prom: error collecting metrics: %v", err)
			http.Error(w, "prom: error collecting metrics:\n"+err.Error(), http.StatusInternalServerError)
			return
		default:
			h.logf("prom: metrics collected with errors: %v", err)
		}
	}

	hdr := w.Header()
	hdr.Set("Content-Type", f.ContentType())
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	body := *buf
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		zbuf := getBuffer()
		defer putBuffer(zbuf)
		*zbuf = gzipAppend((*zbuf)[:0], body)
		body = *zbuf
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	wrote = true
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Write(body)
}

// collect renders the registry, turning a panic into an error.
func (h *handler) collect(ctx context.Context, dst []byte, f Format, o renderOptions) (out []byte, err error) {
	out = dst
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("prom: collecting metrics panicked: %v", p)
		}
	}()
	return h.reg.render(ctx, dst, f, o)
}

// collectAsync collects in a goroutine and returns when it is done or when
// ctx is, whichever comes first. An abandoned collection recycles its own
// buffer and releases its in-flight place when it ends.
func (h *handler) collectAsync(ctx context.Context, f Format, o renderOptions) (*[]byte, error) {
	type result struct {
		buf *[]byte
		err error
	}
	done := make(chan result)
	abandoned := make(chan struct{})
	go func() {
		defer h.release()
		buf := getBuffer()
		var err error
		*buf, err = h.collect(ctx, (*buf)[:0], f, o)
		select {
		case done <- result{buf, err}:
		case <-abandoned:
			putBuffer(buf)
		}
	}()
	select {
	case res := <-done:
		return res.buf, res.err
	case <-ctx.Done():
		close(abandoned)
		return nil, context.Cause(ctx)
	}
}

// release frees the scrape's place under WithMaxRequestsInFlight.
func (h *handler) release() {
	if h.inFlight != nil {
		<-h.inFlight
	}
}

// fail writes an error response, for the panic path: a ResponseWriter
// that panicked once may panic again.
func (h *handler) fail(w http.ResponseWriter, code int, msg string) {
	defer func() {
		if p := recover(); p != nil {
			h.logf("prom: writing the error response panicked too: %v", p)
		}
	}()
	http.Error(w, msg, code)
}

func (h *handler) logf(format string, args ...any) {
	if h.opts.errorLog != nil {
		h.opts.errorLog.Printf(format, args...)
		return
	}
	log.Printf(format, args...)
}

// nameFilter returns the families that the name[] query parameters ask
// for, or nil when there are none.
func nameFilter(r *http.Request) map[string]bool {
	if r.URL == nil || r.URL.RawQuery == "" {
		return nil
	}
	names, ok := r.URL.Query()["name[]"]
	if !ok {
		return nil
	}
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// gzipAppend appends the gzip compression of p to dst.
func gzipAppend(dst, p []byte) []byte {
	zw := gzipPool.Get().(*gzip.Writer)
	aw := appendWriter{b: dst}
	zw.Reset(&aw)
	zw.Write(p) // an appendWriter never fails
	zw.Close()
	zw.Reset(io.Discard) // drop the reference to aw's buffer
	gzipPool.Put(zw)
	return aw.b
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: gzip
// listed with a q-value above 0, or else * with one.
func acceptsGzip(header string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.TrimSpace(coding)
		switch {
		case strings.EqualFold(coding, "gzip"):
			return qValue(params) > 0
		case coding == "*":
			star = qValue(params) > 0
		}
	}
	return star
}

// qValue returns the q parameter among a coding's parameters: 1 when there
// is none, 0 when it is not a number in [0, 1].
func qValue(params string) float64 {
	for p := range strings.SplitSeq(params, ";") {
		k, v, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0
		}
		return q
	}
	return 1
}

type appendWriter struct{ b []byte }

func (w *appendWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
