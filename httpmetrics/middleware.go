package httpmetrics

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Middleware records HTTP metrics for the requests it sees. Create it with
// [New]; [Middleware.Wrap] instruments an http.Handler, and
// [Middleware.Observe] is the same recording for router adapters.
//
// A Middleware is safe for concurrent use. Several Middlewares created with
// the same registry and options share one set of metrics.
type Middleware struct {
	m        *metrics
	group    bool
	methods  []string
	exact    []string
	prefixes []string
	route    func(*http.Request) string
	cache    *seriesCache
}

// New creates the metrics in the registry (see [WithRegistry]) and returns
// a Middleware that records into them. When an earlier New created them in
// that registry already, the new Middleware records into the same metrics;
// New fails when a metric name is taken by a metric of another type or with
// other labels, constant labels or buckets, or by the responses counter of
// a Middleware that groups status codes otherwise ([WithGroupedStatusCodes]:
// codes and classes would not add up), and on invalid options (a
// namespace or constant label that makes an invalid name, unsorted
// buckets): servers that share a registry need the same [WithConstLabels],
// or a registry each.
func New(opts ...Option) (*Middleware, error) {
	c := config{metricsPath: defaultMetricsPath}
	for _, opt := range opts {
		if opt != nil {
			opt(&c)
		}
	}
	m, err := newMetrics(&c)
	if err != nil {
		return nil, err
	}
	mw := &Middleware{
		m:        m,
		group:    c.group,
		methods:  append(slices.Clip(standardMethods), c.methods...),
		exact:    c.exact,
		prefixes: c.prefixes,
		route:    c.route,
		cache:    newSeriesCache(m),
	}
	if c.metricsPath != "" {
		mw.exact = append(mw.exact[:len(mw.exact):len(mw.exact)], c.metricsPath)
	}
	return mw, nil
}

// Wrap returns next instrumented; its type, func(http.Handler)
// http.Handler, fits any router's Use. By default the route is the pattern
// that [http.ServeMux] matched, so wrap the mux itself (or let the mux call
// the wrapped handler): the mux sets the pattern on the request it receives,
// and a middleware in between that replaces the request
// (r.WithContext(...)) hides it, and every request is then [Unmatched].
// Put such middlewares outside:
//
//	handler := requestID(mw.Wrap(mux))
//
// [http.TimeoutHandler] is such a middleware; put it around each handler on
// the mux instead, mux.Handle(pattern, http.TimeoutHandler(h, d, msg)), and
// a request that times out is recorded under its route with the 503 its
// client received. Around the middleware it would hide that 503 (what is
// recorded is what the handler wrote after the deadline).
//
// [WithRouteFunc] and [SetRoute] name the route for other routers.
//
// The wrapped handler sees one ResponseWriter wrapper whose Unwrap method
// returns the original writer, so [http.ResponseController] reaches it;
// the wrapper also implements http.Flusher, http.Hijacker, http.Pusher
// and io.ReaderFrom (they return [http.ErrNotSupported] where the original
// writer cannot).
func (mw *Middleware) Wrap(next http.Handler) http.Handler {
	return &handler{mw: mw, next: next}
}

type handler struct {
	mw   *Middleware
	next http.Handler
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mw := h.mw
	if mw.excluded(r.URL.Path) {
		h.next.ServeHTTP(w, r)
		return
	}
	rw := &responseWriter{rw: w}
	s := mw.begin(r)
	returned := false
	defer func() {
		var p any // see Observe
		if !returned {
			p = recover()
		}
		o := Observation{Code: rw.code, ResponseSize: rw.size, Hijacked: rw.hijacked}
		switch {
		case rw.routeSet:
			o.Route = rw.route
		case mw.route != nil:
			o.Route = mw.route(r)
		default:
			o.Route = muxRoute(r, rw.code, rw.Header())
		}
		mw.end(&s, o, !returned, p == any(http.ErrAbortHandler))
		if p != nil {
			panic(p)
		}
	}()
	h.next.ServeHTTP(rw, r)
	returned = true
}

// Observation is what a router adapter reports about a request to
// [Middleware.Observe].
type Observation struct {
	// Route is the route template that the router matched, such as
	// /users/{id}, or "" when it matched none: then the request is
	// recorded with the route [Unmatched]. It must never be the raw path.
	Route string
	// Code is the final status code sent, or 0 when none was: then the
	// response is recorded as 200 (what net/http sends for a handler that
	// writes nothing) after a normal return and as 500 after a panic.
	Code int
	// ResponseSize is the number of response body bytes written.
	ResponseSize int64
	// Hijacked reports that the handler took over the connection: the
	// request is recorded in the requests counter (and the panics counter
	// if it panicked) and nowhere else, so no status code is made up for
	// it.
	Hijacked bool
	// Nested reports that the request was recorded by an Observe that
	// serve ran: a router that dispatches a request again through its own
	// middleware (gin's HandleContext) records it there, with the route
	// it ended at, and the outer Observe records nothing.
	Nested bool
}

// Observe records one request for a router adapter. It calls serve, which
// runs the router's handler chain for r, then report, which returns what
// only the router knows (route, status, size, hijacking), and records the
// request; the in-flight gauge counts it while serve runs. When serve
// panics, report is still called, with panicked true (it is also true
// after runtime.Goexit), and after the recording the panic goes on with
// its value, to the framework's or the server's recovery: Observe recovers
// it only to tell [net/http.ErrAbortHandler] from the others (see the
// package doc) and panics with it again. Requests to excluded paths are served
// and not recorded: report is not called. Observe keeps neither function,
// and does not allocate unless [WithSizes] is set and the request body's
// length is unknown.
func (mw *Middleware) Observe(r *http.Request, serve func(), report func(panicked bool) Observation) {
	if mw.excluded(r.URL.Path) {
		serve()
		return
	}
	s := mw.begin(r)
	returned := false
	defer func() {
		// A panic is recovered only to tell http.ErrAbortHandler, with
		// which a handler ends its response quietly, from the others, and
		// goes on with its value once the request is recorded (the stack
		// it began in is still below). recover returns nil after
		// runtime.Goexit, which goes on by itself.
		var p any
		if !returned {
			p = recover()
		}
		mw.end(&s, report(!returned), !returned, p == any(http.ErrAbortHandler))
		if p != nil {
			panic(p)
		}
	}()
	serve()
	returned = true
}

// excluded reports whether requests to path are left unrecorded.
func (mw *Middleware) excluded(path string) bool {
	for _, p := range mw.exact {
		if path == p {
			return true
		}
	}
	for _, p := range mw.prefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// state is what a request's recording keeps between begin and end.
type state struct {
	start   time.Duration // on the monotonic clock; see monotonic
	method  string
	reqSize int64         // Content-Length, or -1
	body    *countingBody // counts the body when its length is unknown
}

// begin starts recording r: the in-flight gauge goes up.
func (mw *Middleware) begin(r *http.Request) state {
	mw.m.inFlight.Inc()
	s := state{start: monotonic(), method: mw.method(r.Method), reqSize: r.ContentLength}
	if mw.m.reqSize != nil && s.reqSize < 0 && r.Body != nil && r.Body != http.NoBody {
		s.body = &countingBody{ReadCloser: r.Body}
		r.Body = s.body
	}
	return s
}

// end records the request that begin started.
func (mw *Middleware) end(s *state, o Observation, panicked, aborted bool) {
	m := mw.m
	m.inFlight.Dec()
	if o.Nested {
		return
	}
	route := o.Route
	if route == "" {
		route = Unmatched
	}
	if aborted {
		// net/http closes the connection without a response (or cuts
		// the one begun) and logs nothing: no panic, no made-up 500.
		panicked = false
		o.Hijacked = o.Hijacked || o.Code == 0
	}
	if panicked {
		m.panics.WithValues(s.method, route).Inc()
	}
	code := o.Code
	if code == 0 {
		code = http.StatusOK
		if panicked {
			code = http.StatusInternalServerError
		}
	}
	size := s.reqSize // the request's size, or -1 when unknown
	if s.body != nil {
		size = s.body.n.Load()
	}
	key := mw.codeKey(code, o.Hijacked)
	n := mw.cache.removalCount()
	rs := mw.cache.find(s.method, route, key, n)
	if rs == nil {
		found := mw.lookup(s.method, route, code, key, size >= 0)
		mw.cache.add(m, found, n)
		rs = &found
	}
	rs.requests.Inc()
	if o.Hijacked {
		return
	}
	rs.responses.Inc()
	rs.duration.Observe((monotonic() - s.start).Seconds())
	if m.respSize != nil {
		if size >= 0 {
			rs.reqSize.Observe(float64(size))
		}
		rs.respSize.Observe(float64(o.ResponseSize))
	}
}

// lookup finds the series that a request of method, route and code (whose
// key is key: see codeKey) updates, creating them if needed; the request
// size's series only when sized, so that no series is made without an
// observation.
func (mw *Middleware) lookup(method, route string, code, key int, sized bool) routeSeries {
	m := mw.m
	rs := routeSeries{method: method, route: route, code: key, requests: m.requests.WithValues(method, route)}
	if key < 0 {
		return rs // hijacked: no response
	}
	rs.responses = m.responses.WithValues(method, route, mw.code(code))
	rs.duration = m.duration.WithValues(method, route)
	if m.respSize != nil {
		rs.respSize = m.respSize.WithValues(method, route)
		if sized {
			rs.reqSize = m.reqSize.WithValues(method, route)
		}
	}
	return rs
}

// epoch is the start of the monotonic clock that [monotonic] reads.
var epoch = time.Now()

// monotonic returns the time on the monotonic clock: since epoch. It reads
// one clock where time.Now reads two (the wall clock too), which a
// request's duration does not need: on the virtual machines measured, each
// read costs 20-30 ns.
func monotonic() time.Duration { return time.Since(epoch) }

// countingBody counts the bytes read from a request body of unknown length.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64 // read by end, perhaps while a handler's goroutine reads
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
