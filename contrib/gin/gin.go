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
// HandleMethodNotAllowed) have the route httpmetrics.Unmatched.
package promgin

import (
	"bufio"
	"net"
	"net/http"

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
	return func(c *gin.Context) {
		w := &writer{ResponseWriter: c.Writer}
		c.Writer = w
		mw.Observe(c.Request, c.Next, func(panicked bool) httpmetrics.Observation {
			o := httpmetrics.Observation{Route: c.FullPath(), Hijacked: w.hijacked}
			// gin sends the status it holds once the handlers return,
			// even when they wrote nothing; after a panic only what was
			// written went out.
			if !panicked || w.Written() {
				o.Code = w.Status()
			}
			if n := w.Size(); n > 0 {
				o.ResponseSize = int64(n)
			}
			return o
		})
	}
}

// writer is gin's ResponseWriter with hijacking noted: gin's own writer
// does not tell a hijacked connection from one that sent a header.
type writer struct {
	gin.ResponseWriter
	hijacked bool
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
