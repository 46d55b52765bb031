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
	noOM        bool // WithoutOpenMetrics
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

// WithoutOpenMetrics answers in the text format (or protobuf, when asked
// for it) where a scraper would take OpenMetrics, as client_golang's
// handler does unless told otherwise. Prometheus 2 asks for OpenMetrics
// first, and stores what it reads there in OpenMetrics' spelling: a
// counter named without _total gains it, and a bucket's le and a
// quantile take OpenMetrics' canonical form (le="1.0" where the text
// format writes le="1"). A program that moves from client_golang keeps its
// series' names and labels with this option, and the samples that
// OpenMetrics forbids and [FormatOpenMetrics] leaves out (a negative or NaN
// sum with a histogram's count beside it, a negative quantile: a summary
// of clock skew, a histogram with negative buckets); it gives up
// exemplars, which the text format cannot carry (protobuf scrapes keep
// them). It also suits
// scrapers with a strict OpenMetrics parser when the registry holds
// families whose OpenMetrics family names meet, such as package
// collectors' go_memstats_alloc_bytes and go_memstats_alloc_bytes_total
// (see there), which Prometheus ingests.
func WithoutOpenMetrics() HandlerOption {
	return func(o *handlerOptions) { o.noOM = true }
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
// A streamed scrape (see [Handler]) collects as it writes, so it holds its
// place until its body has been written.
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
// families named: /metrics?name[]=a&name[]=b. A HEAD request gets the
// headers, Content-Length included, without the body.
//
// The body is streamed: rendered, and compressed, in chunks of 64 KiB that
// go to the client as they are ready, so that a scrape holds a few small
// buffers (and, with gzip, a compressor's 1 MiB of state) however many
// series it writes. A body no longer than a chunk is sent whole, with its
// Content-Length; a longer one is sent without (chunked, in HTTP/1.1).
// Custom collectors and GaugeFunc functions run before the first byte is
// written; the built-in metrics are then read as they are written. Reading them takes no lock, so a slow client slows only its own
// scrape. A scrape cut short once its body has begun (the client went
// away, the server is shutting down) is aborted, so that the client sees
// an error rather than a well-formed scrape that lacks series. With
// [WithTimeout] or [HTTPErrorOnError], where the status depends on how the
// collection ends, the body is rendered whole in memory (in 80 KiB pieces)
// before it is sent, with its Content-Length unless gzip compresses it on
// the way.
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

// errRenderPanicked marks a panic of the rendering itself, outside any
// collector (the registry contains those).
var errRenderPanicked = errors.New("prom: rendering metrics panicked")

// streamChunk is the size of the pieces a scrape is rendered and sent in.
// A body (compressed, when it is) no longer than this is sent whole, with
// its Content-Length.
const streamChunk = 64 << 10

// gzipPool holds writers at BestSpeed: compression is most of a scrape's
// cost, and the faster level keeps scrapes short. A writer holds about
// 1 MiB of state, whatever the size of the scrapes it compresses.
var gzipPool = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := &scrapeResponse{w: w, head: r.Method == http.MethodHead, length: -1}
	defer s.release()
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.logf("prom: metrics handler panicked: %v", p)
			if !s.started {
				h.fail(w, http.StatusInternalServerError, "prom: internal error while serving metrics")
			}
		}
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.format = negotiate(headerList(r.Header, "Accept"), !h.opts.noOM)
	s.gzip = acceptsGzip(headerList(r.Header, "Accept-Encoding"))
	o := renderOptions{names: nameFilter(r), created: h.opts.created}
	if h.inFlight != nil {
		select {
		case h.inFlight <- struct{}{}:
		default:
			http.Error(w, "prom: too many scrapes in flight (limit "+strconv.Itoa(cap(h.inFlight))+")", http.StatusServiceUnavailable)
			return
		}
	}
	if h.opts.timeout > 0 || h.opts.errors == HTTPErrorOnError {
		h.serveWhole(s, r, o)
	} else {
		h.serveStreamed(s, r, o)
	}
}

// headerList returns a header's values as one comma-separated list, as
// HTTP reads a header sent on several lines.
func headerList(h http.Header, name string) string {
	vs := h.Values(name)
	if len(vs) == 1 {
		return vs[0] // no allocation in the usual case
	}
	return strings.Join(vs, ",")
}

// serveStreamed renders the scrape in chunks straight into the response,
// through gzip when the client asked for it, so that it holds a few small
// buffers rather than the whole body. It serves ContinueOnError without a
// timeout, where nothing that happens once the body has begun changes the
// status.
func (h *handler) serveStreamed(s *scrapeResponse, r *http.Request, o renderOptions) {
	defer h.release()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s.stop = cancel // a failed write stops the collection
	out := s.body()
	err := h.collect(ctx, s.format, o, func(p []byte) []byte {
		out.Write(p)
		return p[:0]
	})
	switch {
	case s.panicked != nil:
		panic(s.panicked) // the ResponseWriter's, as if it had panicked here
	case s.err != nil:
		return // the client is gone
	case err != nil && h.collectionFailed(s, ctx, err):
		return
	}
	s.end()
}

// serveWhole renders the whole scrape in memory before it answers, for the
// modes where how the collection ends decides the status: WithTimeout
// (503 at the deadline) and HTTPErrorOnError (500 on an error). The body
// is held in pooled chunks, so that a large one needs no large buffer.
func (h *handler) serveWhole(s *scrapeResponse, r *http.Request, o renderOptions) {
	ctx := r.Context()
	var body *chunks
	var err error
	if h.opts.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, h.opts.timeout, errScrapeTimeout)
		defer cancel()
		body, err = h.collectAsync(ctx, s.format, o)
	} else {
		body = new(chunks)
		err = h.collect(ctx, s.format, o, body.take)
		h.release()
	}
	if body != nil {
		defer body.release()
	}
	if err != nil && h.collectionFailed(s, ctx, err) {
		return
	}
	if !s.gzip {
		s.length = body.n
	}
	out := s.body()
	for _, b := range body.bufs {
		out.Write(*b)
	}
	s.end()
}

// collectionFailed handles a collection error: it answers with an error
// status and returns true, or logs the error and returns false when the
// metrics are to be served anyway (ContinueOnError). Once part of the body
// has been sent, a scrape cut short is aborted instead, so that the client
// sees an error rather than a well-formed scrape that lacks series.
func (h *handler) collectionFailed(s *scrapeResponse, ctx context.Context, err error) bool {
	var code int
	var msg string
	switch {
	case ctx.Err() != nil && errors.Is(context.Cause(ctx), errScrapeTimeout):
		code, msg = http.StatusServiceUnavailable, "prom: collecting metrics took longer than the timeout of "+h.opts.timeout.String()
		h.logf("%s: %v", msg, err)
	case ctx.Err() != nil:
		// The client went away or the server is shutting down: nobody
		// is waiting for the metrics, and nothing went wrong here.
		code, msg = http.StatusServiceUnavailable, "prom: scrape cancelled: "+context.Cause(ctx).Error()
	case h.opts.errors == HTTPErrorOnError:
		h.logf("prom: error collecting metrics: %v", err)
		code, msg = http.StatusInternalServerError, "prom: error collecting metrics:\n"+err.Error()
	case errors.Is(err, errRenderPanicked):
		h.logf("%v", err)
		code, msg = http.StatusInternalServerError, "prom: internal error while serving metrics"
	default:
		h.logf("prom: metrics collected with errors: %v", err)
		return false
	}
	if s.started {
		panic(http.ErrAbortHandler)
	}
	http.Error(s.w, msg, code)
	return true
}

// collect renders the registry and hands the exposition to flush in
// chunks (see renderChunked), turning a panic into an error.
func (h *handler) collect(ctx context.Context, f Format, o renderOptions, flush func([]byte) []byte) (err error) {
	buf := getBuffer()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: %v", errRenderPanicked, p)
		}
	}()
	*buf, err = h.reg.renderChunked(ctx, (*buf)[:0], f, o, streamChunk, flush)
	putBuffer(buf) // on a panic, left to the garbage collector
	return err
}

// collectAsync collects in a goroutine and returns when it is done or when
// ctx is, whichever comes first. An abandoned collection recycles its own
// buffer and releases its in-flight place when it ends.
func (h *handler) collectAsync(ctx context.Context, f Format, o renderOptions) (*chunks, error) {
	type result struct {
		body *chunks
		err  error
	}
	done := make(chan result)
	abandoned := make(chan struct{})
	go func() {
		defer h.release()
		body := new(chunks)
		err := h.collect(ctx, f, o, body.take)
		select {
		case done <- result{body, err}:
		case <-abandoned:
			body.release()
		}
	}()
	select {
	case res := <-done:
		return res.body, res.err
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

// acceptsGzip reports whether an Accept-Encoding header allows gzip: gzip
// (or x-gzip, its old name, which RFC 9110 has recipients take as gzip)
// listed with a q-value above 0, or else * with one.
func acceptsGzip(header string) bool {
	star := false
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.TrimSpace(coding)
		switch {
		case strings.EqualFold(coding, "gzip") || strings.EqualFold(coding, "x-gzip"):
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

// scrapeResponse is where a scrape's body goes. It holds back the first
// streamChunk bytes, so that a short body is sent whole with its
// Content-Length, and streams the rest to the client as it comes; a HEAD
// request's body is counted and not sent. The headers go out with the
// first bytes, so that an error found before then can still be answered
// with its status. A panic of the ResponseWriter is recovered and kept,
// so that it does not unwind through the collection (whose recovery would
// take it for a collector's); the handler raises it again.
type scrapeResponse struct {
	w      http.ResponseWriter
	head   bool
	format Format
	gzip   bool

	length   int                // the body's length when known in advance, else -1
	zw       *gzip.Writer       // over the response, when gzip
	pending  *[]byte            // the bytes held back, until started
	n        int                // the body's bytes so far
	started  bool               // the headers have gone to w
	err      error              // the first failed write: later ones fail too
	panicked any                // what w panicked with
	stop     context.CancelFunc // called when a write fails; may be nil
}

// errWriterPanicked is the write error of a ResponseWriter that panicked.
var errWriterPanicked = errors.New("prom: the ResponseWriter panicked")

// body returns the writer for the body: s itself, or a pooled gzip writer
// over it.
func (s *scrapeResponse) body() io.Writer {
	if !s.gzip {
		return s
	}
	if s.zw == nil {
		s.zw = gzipPool.Get().(*gzip.Writer)
		s.zw.Reset(s)
	}
	return s.zw
}

func (s *scrapeResponse) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	s.n += len(p)
	switch {
	case s.head:
		return len(p), nil
	case s.started:
	case s.pending == nil && len(p) <= streamChunk:
		s.pending = getBuffer()
		fallthrough
	case s.pending != nil && len(*s.pending)+len(p) <= streamChunk:
		*s.pending = append(*s.pending, p...)
		return len(p), nil
	default: // the body is longer than a chunk: stream it
		s.start(s.length)
		if s.pending != nil {
			s.send(*s.pending)
		}
	}
	s.send(p)
	if s.err != nil {
		return 0, s.err
	}
	return len(p), nil
}

// start sets the headers, with the Content-Length unless it is negative,
// and marks the response begun.
func (s *scrapeResponse) start(contentLength int) {
	s.started = true
	hdr := s.w.Header()
	hdr.Set("Content-Type", s.format.ContentType())
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	if s.gzip {
		hdr.Set("Content-Encoding", "gzip")
	}
	if contentLength >= 0 {
		hdr.Set("Content-Length", strconv.Itoa(contentLength))
	}
}

// send writes p to the client.
func (s *scrapeResponse) send(p []byte) {
	if s.err != nil || len(p) == 0 {
		return
	}
	defer func() {
		if v := recover(); v != nil {
			s.panicked, s.err = v, errWriterPanicked
			s.stopCollection()
		}
	}()
	if _, err := s.w.Write(p); err != nil {
		s.err = err
		s.stopCollection()
	}
}

func (s *scrapeResponse) stopCollection() {
	if s.stop != nil {
		s.stop()
	}
}

// end completes the body: it ends the gzip stream and sends what is held
// back, with the headers when they have not gone yet.
func (s *scrapeResponse) end() {
	if s.zw != nil {
		s.zw.Close()
	}
	if !s.started && s.err == nil {
		s.start(s.n)
		if s.pending != nil {
			s.send(*s.pending)
		} else { // HEAD, or an empty body
			s.w.WriteHeader(http.StatusOK)
		}
	}
	if s.panicked != nil {
		panic(s.panicked)
	}
}

// release returns the pooled gzip writer and buffer.
func (s *scrapeResponse) release() {
	if s.zw != nil {
		s.zw.Reset(io.Discard) // drop the reference to s
		gzipPool.Put(s.zw)
		s.zw = nil
	}
	if s.pending != nil {
		putBuffer(s.pending)
		s.pending = nil
	}
}
