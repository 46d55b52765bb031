package httpmetrics

import (
	"net/http"

	"github.com/promgo/prom"
)

// Option configures a [Middleware]. Without options a Middleware registers
// its metrics in [prom.Default] with no prefix and no constant labels, keeps
// status codes apart (200, 404, ...), excludes /metrics, records no sizes,
// and takes the route from the pattern that [http.ServeMux] matched.
type Option func(*config)

type config struct {
	registry        *prom.Registry
	namespace       string
	constLabels     prom.Labels
	group           bool
	metricsPath     string
	exact, prefixes []string
	durationBuckets []float64
	sizes           bool
	sizeBuckets     []float64
	methods         []string
	route           func(*http.Request) string
}

// WithRegistry registers the metrics in reg; nil means [prom.Default].
func WithRegistry(reg *prom.Registry) Option {
	return func(c *config) { c.registry = reg }
}

// WithNamespace prefixes every metric name with ns and an underscore:
// WithNamespace("shop") gives shop_http_server_requests_total.
func WithNamespace(ns string) Option {
	return func(c *config) { c.namespace = ns }
}

// WithConstLabels adds labels with fixed values to every series of every
// metric, such as the name of the server when a program runs several.
// Their names must differ from method, route and code.
func WithConstLabels(l prom.Labels) Option {
	return func(c *config) {
		c.constLabels = make(prom.Labels, len(l))
		for k, v := range l {
			c.constLabels[k] = v
		}
	}
}

// WithGroupedStatusCodes records status codes by class, 2xx to 5xx, rather
// than one by one, as aioprometheus's group_status_codes does. A
// nonstandard status of 600 to 999 goes by its first digit too (6xx to 9xx),
// and one outside 100-999 as [OtherCode].
func WithGroupedStatusCodes() Option {
	return func(c *config) { c.group = true }
}

// WithMetricsPath sets the path that serves the metrics, which is excluded
// from recording; the default is /metrics, and "" excludes nothing by
// default.
func WithMetricsPath(path string) Option {
	return func(c *config) { c.metricsPath = path }
}

// WithExcludedPaths excludes requests whose URL path equals one of paths:
// they are served but not recorded. It adds to the paths excluded before.
func WithExcludedPaths(paths ...string) Option {
	return func(c *config) { c.exact = append(c.exact, paths...) }
}

// WithExcludedPrefixes excludes requests whose URL path begins with one of
// prefixes: WithExcludedPrefixes("/static/", "/debug/") leaves out every
// file and every debug page. It adds to the prefixes excluded before.
func WithExcludedPrefixes(prefixes ...string) Option {
	return func(c *config) { c.prefixes = append(c.prefixes, prefixes...) }
}

// WithDurationBuckets sets the bucket bounds of the request duration
// histogram, in seconds; the default is [prom.DefaultBuckets].
func WithDurationBuckets(bounds ...float64) Option {
	return func(c *config) { c.durationBuckets = append([]float64{}, bounds...) }
}

// WithSizes adds two histograms: request and response body sizes, in bytes.
// The bucket bounds are the ones given, or by default 64 bytes to 16 MiB in
// steps of four.
func WithSizes(bounds ...float64) Option {
	return func(c *config) {
		c.sizes = true
		c.sizeBuckets = append([]float64{}, bounds...)
	}
}

// WithMethods adds methods to the ones recorded by name, such as the WebDAV
// methods PROPFIND and MKCOL. The nine that net/http names (GET, HEAD,
// POST, PUT, PATCH, DELETE, CONNECT, OPTIONS and TRACE) are always known;
// any other method is recorded as [OtherMethod].
func WithMethods(methods ...string) Option {
	return func(c *config) { c.methods = append(c.methods, methods...) }
}

// WithRouteFunc sets how [Middleware.Wrap] finds the route template of a
// request, for routers other than [http.ServeMux]. route is called once the
// handler has returned (or panicked), with the request the middleware
// received, and returns the template, or "" for a request that matched no
// route. The chi adapter uses it; [SetRoute] overrides it.
func WithRouteFunc(route func(r *http.Request) string) Option {
	return func(c *config) { c.route = route }
}
