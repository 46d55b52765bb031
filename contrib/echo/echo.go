// Package promecho records the default HTTP metrics of
// [github.com/promgo/prom/httpmetrics] for an Echo server
// ([github.com/labstack/echo/v4]), with the route that Echo matched
// (c.Path(), such as /users/:user_id) as the route label.
//
// Install the middleware with Use, after Echo's Recover, so that a panic
// passes through the metrics before Recover turns it into a 500:
//
//	e := echo.New()
//	e.Use(middleware.Recover(), prom.Must(promecho.New()))
//	e.GET("/users/:user_id", getUser)
//	e.GET("/metrics", echo.WrapHandler(prom.Handler(nil)))
//
// The metrics, their labels and the options are those of httpmetrics.
// Requests that Echo matches to no route (404, 405) have the route
// httpmetrics.Unmatched.
//
// When a handler returns an error, the middleware passes it to Echo's
// HTTPErrorHandler at once, as Echo's RequestLogger does with HandleError,
// so that the status code recorded is the one sent; it then returns the
// error, which the default error handler ignores for a response already
// sent. A custom error handler should do the same (check
// c.Response().Committed). Middleware registered before this one (Recover
// among them) sees the error but can no longer change the response.
package promecho

import (
	"bufio"
	"net"
	"net/http"
	"reflect"

	"github.com/labstack/echo/v4"
	"github.com/promgo/prom/httpmetrics"
)

// New returns Echo middleware that records the httpmetrics metrics,
// created as [httpmetrics.New] creates them (and reused when an earlier
// call created them in the same registry).
func New(opts ...httpmetrics.Option) (echo.MiddlewareFunc, error) {
	mw, err := httpmetrics.New(opts...)
	if err != nil {
		return nil, err
	}
	return Middleware(mw), nil
}

// Middleware returns Echo middleware that records into mw, so that one
// Middleware can serve an Echo server and other handlers alike.
func Middleware(mw *httpmetrics.Middleware) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res := c.Response()
			w := &writer{ResponseWriter: res.Writer}
			res.Writer = w
			var err error
			mw.Observe(c.Request(), func() {
				if err = next(c); err != nil {
					c.Error(err)
				}
			}, func(panicked bool) httpmetrics.Observation {
				o := httpmetrics.Observation{Route: Route(c), ResponseSize: res.Size, Hijacked: w.hijacked}
				if res.Committed {
					o.Code = res.Status
				}
				return o
			})
			return err
		}
	}
}

// Echo's handlers for requests that match no route.
var (
	notFound         = reflect.ValueOf(echo.NotFoundHandler).Pointer()
	methodNotAllowed = reflect.ValueOf(echo.MethodNotAllowedHandler).Pointer()
)

// Route returns the route that Echo matched for c, or "" when it matched
// none. Echo sets c.Path() to a route's path for some requests that no
// route takes (a longer path under /users/:id, a method the path does not
// have), with its own 404 or 405 handler; those count as matching none.
func Route(c echo.Context) string {
	if h := c.Handler(); h != nil {
		if p := reflect.ValueOf(h).Pointer(); p == notFound || p == methodNotAllowed {
			return ""
		}
	}
	return c.Path()
}

// writer notes hijacking, which Echo's Response does not record. Echo's
// Response reaches it through http.ResponseController, and the controller
// reaches the server's writer through Unwrap.
type writer struct {
	http.ResponseWriter
	hijacked bool
}

// Hijack lets the handler take over the connection.
func (w *writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, brw, err
}

// Flush sends buffered data to the client, for code that asserts
// http.Flusher on c.Response().Writer.
func (w *writer) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// FlushError is Flush that returns the error, for http.ResponseController.
func (w *writer) FlushError() error { return http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap returns the writer underneath, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
