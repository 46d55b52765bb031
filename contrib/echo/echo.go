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
// httpmetrics.Unmatched, and so do those that a route registered with
// RouteNotFound answers with an error status: Group.Use registers two
// such routes for a group that has middleware (the group's prefix and
// prefix/*), so that the group's middleware runs for any path under it.
// The status code recorded is the final one sent: an informational 1xx
// response sent before it (103 Early Hints) is not recorded, as in
// httpmetrics.
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
				o := httpmetrics.Observation{Code: w.code, ResponseSize: res.Size, Hijacked: w.hijacked}
				// Echo's Response holds the first code written, which
				// may be an informational one; the writer holds the
				// final one. A writer that a later middleware put in
				// place without passing the header on to this one
				// leaves only Echo's.
				if o.Code == 0 && res.Committed && final(res.Status) {
					o.Code = res.Status
				}
				code := o.Code
				if code == 0 && panicked {
					code = http.StatusInternalServerError
				}
				o.Route = route(c, code)
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
// So do requests that a route registered with RouteNotFound takes, such
// as the catch-all routes that Group.Use registers for a group with
// middleware (/admin and /admin/* for e.Group("/admin")), once c's
// response has an error status (400 or more): a RouteNotFound route that
// answers with a success (a single-page application's index, say) keeps
// its path. A route registered for the request's method with the same
// path (an explicit GET /admin/*) is a match.
func Route(c echo.Context) string {
	code := 0
	if res := c.Response(); res.Committed {
		code = res.Status
	}
	return route(c, code)
}

// route is Route for a response whose status code is code, 0 when none
// was sent.
func route(c echo.Context, code int) string {
	if h := c.Handler(); h != nil {
		if p := reflect.ValueOf(h).Pointer(); p == notFound || p == methodNotAllowed {
			return ""
		}
	}
	p := c.Path()
	// Looking a RouteNotFound route up goes through the router's routes,
	// which Echo copies for the asking: only for error responses.
	if p != "" && code >= http.StatusBadRequest && notFoundRoute(c, p) {
		return ""
	}
	return p
}

// notFoundRoute reports whether path p, which Echo's router matched for
// c, is a route registered with RouteNotFound and not one registered for
// c's method: the router prefers the latter where both exist, so p is
// the RouteNotFound route's only when the method has none. (A route added
// with Router.Add, which Echo keeps out of its list of routes, is not
// seen.)
func notFoundRoute(c echo.Context, p string) bool {
	e, req := c.Echo(), c.Request()
	if e == nil {
		return false
	}
	// The router that Echo chose for the request's host.
	router := e.Router()
	if r, ok := e.Routers()[req.Host]; ok {
		router = r
	}
	if router == nil {
		return false
	}
	catchAll, method := false, false
	for _, r := range router.Routes() {
		if r.Path != p {
			continue
		}
		switch r.Method {
		case echo.RouteNotFound:
			catchAll = true
		case req.Method:
			method = true
		}
	}
	return catchAll && !method
}

// final reports whether code is a final status code: not an informational
// 1xx, except 101 Switching Protocols, after which no other follows.
func final(code int) bool {
	return code >= 200 || code == http.StatusSwitchingProtocols
}

// writer notes the final status code and hijacking, which Echo's Response
// does not record: Echo's Response keeps the first code written as its
// Status, an informational 1xx (103 Early Hints) among them, and ignores
// any WriteHeader after it, so that net/http sends 200 with the body.
// Echo's Response reaches Hijack and Flush through
// http.ResponseController, and the controller reaches the server's writer
// through Unwrap.
type writer struct {
	http.ResponseWriter
	code     int // final status code; 0 until the header is sent
	hijacked bool
}

// WriteHeader sends the header, noting code if it is the final one.
func (w *writer) WriteHeader(code int) {
	w.ResponseWriter.WriteHeader(code) // first: net/http panics on an invalid code
	if w.code == 0 && final(code) {
		w.code = code
	}
}

// Write writes body bytes; net/http sends the header with 200 first if no
// final code was sent.
func (w *writer) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
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
func (w *writer) Flush() { _ = w.FlushError() }

// FlushError is Flush that returns the error, for http.ResponseController.
// Flushing sends the header, with 200 if no final code was sent.
func (w *writer) FlushError() error {
	err := http.NewResponseController(w.ResponseWriter).Flush()
	if err == nil && w.code == 0 {
		w.code = http.StatusOK
	}
	return err
}

// Unwrap returns the writer underneath, for http.ResponseController.
func (w *writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
