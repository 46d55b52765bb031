// Package promgin records the default HTTP metrics of
// [github.com/promgo/prom/httpmetrics] for a gin engine
// ([github.com/gin-gonic/gin]), with the route that gin matched
// (c.FullPath(), such as /users/:user_id) as the route label.
//
// Install the middleware with the engine's Use, after gin.Recovery (as
// gin.Default has it) so that a panic passes through the metrics before
// Recovery turns it into a 500:
//
//	r := gin.New()
//	r.Use(gin.Recovery(), prom.Must(promgin.New()))
//	r.GET("/users/:user_id", getUser)
//	r.GET("/metrics", gin.WrapH(prom.Handler(nil)))
//
// The metrics, their labels and the options are those of httpmetrics.
// Requests that gin matches to no route (404, and 405 with
// HandleMethodNotAllowed) have the route httpmetrics.Unmatched. The status
// code recorded is the final one sent: an informational 1xx sent before it
// (103 Early Hints) is not recorded, as in httpmetrics. gin writes its own
// body for those 404 and 405 responses ("404 page not found") after the
// middleware has returned, so with httpmetrics.WithSizes their response
// size is recorded as 0. A request that a handler dispatches again with
// the engine's HandleContext (an internal redirect) is recorded once, with
// the route it ended at.
//
// # Redirects are not recorded
//
// gin answers some requests that match no route with a redirect before
// any handler runs, engine middleware included, and offers no hook that
// sees them: with RedirectTrailingSlash (on by default), a request for
// /users/1/ when only /users/:user_id exists gets a 301 (307 for methods
// other than GET) to /users/1, and with RedirectFixedPath, a request for
// /USERS/1 or /users//1 one to the route's own path. This middleware
// therefore does not record those requests at all, where httpmetrics.Wrap
// records ServeMux's redirects with the route httpmetrics.Unmatched and
// their status code. To count them, either turn gin's redirects off, so
// that such requests get gin's 404, recorded as unmatched:
//
//	r.RedirectTrailingSlash = false
//	r.RedirectFixedPath = false
//
// or, in place of this package's middleware, wrap the engine in the core
// middleware and name the routes for it with httpmetrics.SetRoute:
//
//	mw := prom.Must(httpmetrics.New())
//	r := gin.New()
//	r.Use(gin.Recovery(), func(c *gin.Context) {
//		httpmetrics.SetRoute(c.Writer, c.FullPath())
//		c.Next()
//	})
//	r.GET("/users/:user_id", getUser)
//	log.Fatal(http.ListenAndServe(":8000", mw.Wrap(r)))
//
// The redirects then count as unmatched with their status code. The core
// middleware, outside gin, does not see the panics that gin.Recovery
// recovers: such a request counts as a 500 response and not in the
// panics counter.
package promgin

import (
	"bufio"
	"net"
	"net/http"
	"sync"

	"github.com/gin-gonic/gin"
	"github.com/promgo/prom/httpmetrics"
)

// New returns gin middleware that records the httpmetrics metrics, created
// as [httpmetrics.New] creates them (and reused when an earlier call created
// them in the same registry).
func New(opts ...httpmetrics.Option) (gin.HandlerFunc, error) {
	mw, err := httpmetrics.New(opts...)
	if err != nil {
		return nil, err
	}
	return Middleware(mw), nil
}

// Middleware returns gin middleware that records into mw, so that one
// Middleware can serve a gin engine and other handlers alike.
func Middleware(mw *httpmetrics.Middleware) gin.HandlerFunc {
	var runs outerRuns
	return func(c *gin.Context) {
		w := &writer{ResponseWriter: c.Writer}
		c.Writer = w
		if outer := runs.enter(c, w); outer != nil {
			// HandleContext runs the engine's middleware again, this
			// one included, for the same Context: this run records the
			// request, the outer one does not.
			outer.nested = true
		} else {
			defer runs.leave(c)
		}
		mw.Observe(c.Request, c.Next, func(panicked bool) httpmetrics.Observation {
			o := httpmetrics.Observation{Route: c.FullPath(), Hijacked: w.hijacked, Nested: w.nested}
			// gin sends the status it holds once the handlers return,
			// even when they wrote nothing; after a panic only what was
			// written went out.
			code := w.Status()
			if code < 200 && code != http.StatusSwitchingProtocols {
				// An informational status (103 Early Hints): gin sends
				// it as it is and ignores the codes set after it (even
				// gin.Recovery's 500), and net/http then sends 200.
				code = http.StatusOK
			}
			if !panicked || w.Written() {
				o.Code = code
			}
			if n := w.Size(); n > 0 {
				o.ResponseSize = int64(n)
			}
			return o
		})
	}
}

// outerRuns holds the writer of each request the middleware is running
// for, by its Context, which HandleContext keeps: a run that finds its
// Context there is a nested one. (A later middleware may replace c.Writer
// too, so a changed writer tells nothing.)
type outerRuns struct {
	mu   sync.Mutex
	runs map[*gin.Context]*writer
}

// enter returns the writer of the run in progress for c, or records w as
// that run's and returns nil.
func (o *outerRuns) enter(c *gin.Context, w *writer) *writer {
	o.mu.Lock()
	defer o.mu.Unlock()
	if outer := o.runs[c]; outer != nil {
		return outer
	}
	if o.runs == nil {
		o.runs = map[*gin.Context]*writer{}
	}
	o.runs[c] = w
	return nil
}

// leave ends the outer run for c.
func (o *outerRuns) leave(c *gin.Context) {
	o.mu.Lock()
	delete(o.runs, c)
	o.mu.Unlock()
}

// writer is gin's ResponseWriter with hijacking noted: gin's own writer
// does not tell a hijacked connection from one that sent a header.
type writer struct {
	gin.ResponseWriter
	hijacked bool
	nested   bool // a nested run, HandleContext's, records the request
}

// Hijack lets the handler take over the connection.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := w.ResponseWriter.Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, brw, err
}

// Unwrap returns gin's writer, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
