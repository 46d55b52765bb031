// Package httpmetrics is HTTP middleware that records the default request
// metrics of a web service, as aioprometheus's ASGI MetricsMiddleware does
// for FastAPI, Starlette and Quart: requests, responses by status code and
// panics, per method and route, plus a duration histogram and an in-flight
// gauge.
//
// Wrap an [http.ServeMux] and serve the metrics beside it:
//
//	mux := http.NewServeMux()
//	mux.HandleFunc("GET /users/{user_id}", getUser)
//	mux.Handle("GET /metrics", prom.Handler(nil))
//
//	mw := prom.Must(httpmetrics.New())
//	log.Fatal(http.ListenAndServe(":8000", mw.Wrap(mux)))
//
// GET /users/1 and GET /users/2 then count in one series:
//
//	http_server_requests_total{method="GET",route="/users/{user_id}"} 2
//	http_server_responses_total{method="GET",route="/users/{user_id}",code="200"} 2
//
// # Metrics
//
// The names follow Prometheus conventions; [WithNamespace] prefixes them.
//
//	http_server_requests_total{method,route}            counter
//	http_server_responses_total{method,route,code}      counter
//	http_server_panics_total{method,route}              counter
//	http_server_request_duration_seconds{method,route}  histogram
//	http_server_requests_in_flight                      gauge
//	http_server_request_size_bytes{method,route}        histogram, with WithSizes
//	http_server_response_size_bytes{method,route}       histogram, with WithSizes
//
// A request is counted once its handler has returned, because the route is
// known only after the router has matched it; the in-flight gauge counts
// the requests being handled. (A client can finish reading a response
// before its handler returns: a test that scrapes right after a request
// should wait for the count, not assume it.) Every request is in requests_total; every
// response, with its status code, in responses_total, so summing that over
// code gives aioprometheus's "responses sent" and requests_total minus that
// sum the hijacked connections. The duration runs from the moment the
// middleware receives the request to the return of the handler.
//
// The status code is the one the handler sent, 200 when it wrote a body or
// nothing without choosing one (as net/http does), never an informational
// 1xx. [WithGroupedStatusCodes] records 2xx, 4xx and so on instead.
//
// A handler that panics counts in panics_total and, when it had not sent a
// header yet, as a 500 response (otherwise as the response it had begun,
// once: aioprometheus counts it twice). The panic then goes on with its
// value, from where it began, to the server's or the framework's recovery:
// the middleware recovers it only to tell [net/http.ErrAbortHandler] from
// the others, and panics with it again (under GODEBUG=panicnil=1, where
// recover cannot tell panic(nil) from runtime.Goexit, a panic(nil) is
// recorded as one and ends there). A handler that aborts with
// ErrAbortHandler, which net/http answers by closing the connection without
// a word, is no panic: it counts as the response it had begun, or as a
// request and nothing else. So does a handler that hijacks the connection
// (a WebSocket upgrade): no status code is made up for it.
//
// # Routes and cardinality
//
// Every label value comes from a bounded set, so a scanner sending random
// paths and invented methods cannot create series without end (the hole
// of client_golang's CVE-2022-21698). The route is the template that the
// router matched, never the raw path: the pattern [http.ServeMux] set on
// the request (without its method: "GET /users/{id}" gives /users/{id}),
// the router's template through the contrib adapters, or what
// [WithRouteFunc] or [SetRoute] give. A request that matched no route (a
// 404 or 405 from the router) has the route [Unmatched]. The method is one
// of the nine that net/http names, one given to [WithMethods], or
// [OtherMethod].
//
// Requests to excluded paths are served and not recorded at all: /metrics
// by default ([WithMetricsPath] changes it), exact paths with
// [WithExcludedPaths] and prefixes with [WithExcludedPrefixes], matched
// against the request's URL path.
//
// # Registries and reuse
//
// The metrics go into [prom.Default] or the registry given with
// [WithRegistry], with the constant labels of [WithConstLabels]. A second
// [New] on the same registry records into the metrics the first created,
// so a framework that builds its middleware stack more than once, or a
// program that wraps several handlers, needs no care; New fails when a
// name is taken by a metric of another type, labels, constant labels or
// buckets.
//
// # Router adapters
//
// The modules under contrib (chi, gin, echo) record the same metrics with
// the same labels, taking the route from the router: they call
// [Middleware.Observe], which any other router can use too.
//
// # Performance considerations
//
// A request costs one allocation, the ResponseWriter wrapper, plus a
// counting wrapper for request bodies of unknown length when [WithSizes]
// is set. The label values are constant strings (methods, precomputed
// status codes) or the router's own template strings. A Middleware keeps
// the series that each method, route and status code updates (up to 4096
// such combinations), so a request finds all of them with one lookup that
// neither locks nor allocates; the first request of a combination looks
// each series up by positional values, as do the requests past the 4096th
// combination. Deleting or resetting series of the middleware's metrics is
// safe: the Middleware notices it at the next request and looks its series
// up again. A metric at its series limit ([prom.WithMaxSeries]) records a
// new combination in its overflow series until it has room again, as
// without the Middleware.
package httpmetrics
