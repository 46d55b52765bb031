// Package promchi records the default HTTP metrics of
// [github.com/promgo/prom/httpmetrics] for a chi router
// ([github.com/go-chi/chi/v5]), with the route pattern that chi matched as
// the route label: /users/{user_id}, /api/files/* and so on, the patterns
// of mounted routers joined as chi.RouteContext(ctx).RoutePattern() joins
// them.
//
// Install the middleware with the router's Use, before the routes, so
// that it runs inside the router and sees chi's route context:
//
//	r := chi.NewRouter()
//	r.Use(prom.Must(promchi.New()))
//	r.Get("/users/{user_id}", getUser)
//	r.Handle("/metrics", prom.Handler(nil))
//
// The metrics, their labels and the options are those of httpmetrics.
// Requests that chi matches to no route (404, and 405 for a method that
// the path does not take) have the route httpmetrics.Unmatched, except
// under a mounted router, where a path it does not know has the mount's
// pattern (/api/*): one series per mount, whatever the path.
package promchi

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/promgo/prom/httpmetrics"
)

// New returns chi middleware that records the httpmetrics metrics, with
// the route taken from chi's route context. The options are httpmetrics's;
// a WithRouteFunc among them is overridden. Like [httpmetrics.New], it
// reuses the metrics that an earlier call created in the same registry.
func New(opts ...httpmetrics.Option) (func(http.Handler) http.Handler, error) {
	opts = append(opts[:len(opts):len(opts)], httpmetrics.WithRouteFunc(Route))
	mw, err := httpmetrics.New(opts...)
	if err != nil {
		return nil, err
	}
	return mw.Wrap, nil
}

// Route returns the route pattern that chi matched for r, read from the
// route context once the router has served r, or "" when r has no route
// context or chi matched no route.
func Route(r *http.Request) string {
	return chi.RouteContext(r.Context()).RoutePattern()
}
