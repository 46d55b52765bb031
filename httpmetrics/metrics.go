package httpmetrics

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/promgo/prom"
)

// The metric names, before the prefix that [WithNamespace] adds.
const (
	// RequestsName counts requests by method and route.
	RequestsName = "http_server_requests_total"
	// ResponsesName counts responses by method, route and status code.
	ResponsesName = "http_server_responses_total"
	// PanicsName counts panicking handlers by method and route.
	PanicsName = "http_server_panics_total"
	// DurationName is the histogram of request durations by method and
	// route, in seconds.
	DurationName = "http_server_request_duration_seconds"
	// InFlightName is the gauge of requests being handled.
	InFlightName = "http_server_requests_in_flight"
	// RequestSizeName is the histogram of request body sizes by method
	// and route, in bytes ([WithSizes]).
	RequestSizeName = "http_server_request_size_bytes"
	// ResponseSizeName is the histogram of response body sizes by method
	// and route, in bytes ([WithSizes]).
	ResponseSizeName = "http_server_response_size_bytes"
)

const (
	methodLabel        = "method"
	routeLabel         = "route"
	codeLabel          = "code"
	defaultMetricsPath = "/metrics"
)

// metrics is the set of families a Middleware records into.
type metrics struct {
	requests  *prom.Counter   // method, route
	responses *prom.Counter   // method, route, code
	panics    *prom.Counter   // method, route
	duration  *prom.Histogram // method, route
	inFlight  *prom.GaugeSeries
	reqSize   *prom.Histogram // method, route; nil without WithSizes
	respSize  *prom.Histogram // method, route; nil without WithSizes
}

var (
	routeLabels = []string{methodLabel, routeLabel}
	codeLabels  = []string{methodLabel, routeLabel, codeLabel}
)

// newMetrics creates the families in c's registry, or takes the ones a
// Middleware created there before. On failure it unregisters what it
// created.
func newMetrics(c *config) (_ *metrics, err error) {
	b := builder{reg: c.registry, prefix: c.namespace, constLabels: c.constLabels}
	if b.reg == nil {
		b.reg = prom.Default
	}
	if b.prefix != "" {
		b.prefix += "_"
	}
	b.common = []prom.Option{prom.WithRegistry(b.reg), prom.WithConstLabels(c.constLabels)}
	defer func() {
		if err != nil {
			for _, m := range b.created {
				b.reg.Unregister(m)
			}
		}
	}()

	var m metrics
	if m.requests, err = b.counter(RequestsName,
		"HTTP requests received, by method and route; counted when handling ends, hijacked and panicking ones included.",
		routeLabels); err != nil {
		return nil, err
	}
	codesHelp := [2]string{"HTTP responses sent, by method, route and status code.",
		"HTTP responses sent, by method, route and status class (2xx, 4xx...)."}
	grouped := 0
	if c.group {
		grouped = 1
	}
	if m.responses, err = b.counter(ResponsesName, codesHelp[grouped], codeLabels); err != nil {
		return nil, err
	}
	// Codes and classes in one metric would not add up: a Middleware
	// that reuses one made by another must write the same kind, which its
	// help tells. (One the program made itself it takes as it is.)
	if m.responses.Help() == codesHelp[1-grouped] {
		return nil, mismatch(b.prefix+ResponsesName, "status codes", fmt.Errorf("it was made by a Middleware %s WithGroupedStatusCodes", [2]string{"with", "without"}[grouped]))
	}
	if m.panics, err = b.counter(PanicsName,
		"HTTP handlers that panicked, by method and route.",
		routeLabels); err != nil {
		return nil, err
	}
	durationBuckets := c.durationBuckets
	if durationBuckets == nil {
		durationBuckets = prom.DefaultBuckets()
	}
	if m.duration, err = b.histogram(DurationName,
		"Time from receiving an HTTP request to the return of its handler, in seconds, by method and route.",
		"seconds", durationBuckets); err != nil {
		return nil, err
	}
	if m.inFlight, err = b.gauge(InFlightName, "HTTP requests being handled."); err != nil {
		return nil, err
	}
	if c.sizes {
		sizeBuckets := c.sizeBuckets
		if len(sizeBuckets) == 0 {
			sizeBuckets = prom.ExponentialBuckets(64, 4, 10) // 64 B to 16 MiB
		}
		if m.reqSize, err = b.histogram(RequestSizeName,
			"Sizes of HTTP request bodies (their Content-Length, or the bytes read when it is unknown), in bytes, by method and route.",
			"bytes", sizeBuckets); err != nil {
			return nil, err
		}
		if m.respSize, err = b.histogram(ResponseSizeName,
			"Sizes of HTTP response bodies written, in bytes, by method and route.",
			"bytes", sizeBuckets); err != nil {
			return nil, err
		}
	}
	return &m, nil
}

// builder creates or reuses the families of one Middleware.
type builder struct {
	reg    *prom.Registry
	prefix string
	common []prom.Option
	// constLabels are the Middleware's constant labels (nil for none).
	constLabels prom.Labels
	created     []prom.Collector
}

// family is what reuse needs of an existing family.
type family interface {
	prom.Collector
	Name() string
	LabelNames() []string
	ConstLabels() prom.Labels
}

func (b *builder) opts(more ...prom.Option) []prom.Option {
	return append(b.common[:len(b.common):len(b.common)], more...)
}

func (b *builder) counter(name, help string, labels []string) (*prom.Counter, error) {
	name = b.prefix + name
	c, err := prom.NewCounter(name, help, b.opts(prom.WithLabelNames(labels...))...)
	if err == nil {
		b.created = append(b.created, c)
		return c, nil
	}
	existing, err := reuse[*prom.Counter](err, name, "counter")
	if err != nil {
		return nil, err
	}
	return existing, b.checkLabels(existing, labels)
}

func (b *builder) histogram(name, help, unit string, buckets []float64) (*prom.Histogram, error) {
	name = b.prefix + name
	h, err := prom.NewHistogram(name, help,
		b.opts(prom.WithLabelNames(routeLabels...), prom.WithUnit(unit), prom.WithBuckets(buckets...))...)
	if err == nil {
		b.created = append(b.created, h)
		return h, nil
	}
	existing, err := reuse[*prom.Histogram](err, name, "histogram")
	if err != nil {
		return nil, err
	}
	if !slices.Equal(existing.Buckets(), buckets) {
		return nil, mismatch(name, "buckets", nil)
	}
	return existing, b.checkLabels(existing, routeLabels)
}

// gauge returns the unlabelled series of an unlabelled gauge.
func (b *builder) gauge(name, help string) (*prom.GaugeSeries, error) {
	name = b.prefix + name
	g, err := prom.NewGauge(name, help, b.opts()...)
	if err == nil {
		b.created = append(b.created, g)
	} else if g, err = reuse[*prom.Gauge](err, name, "gauge"); err != nil {
		return nil, err
	} else if err := b.checkLabels(g, nil); err != nil {
		return nil, err
	}
	s, err := g.Bind(nil)
	if err != nil {
		return nil, mismatch(name, "labels", err)
	}
	return s, nil
}

// reuse returns the metric that a constructor's err reports as registered
// already: the one an earlier Middleware created. It fails when err is
// another error, or the name is taken by something else than a kind.
func reuse[M prom.Collector](err error, name, kind string) (M, error) {
	var zero M
	var are *prom.AlreadyRegisteredError
	if !errors.As(err, &are) {
		return zero, fmt.Errorf("httpmetrics: %w", err)
	}
	m, ok := are.Existing.(M)
	if !ok || are.ExistingName != name {
		return zero, fmt.Errorf("httpmetrics: %s: the name is taken by %s, a %T, not a %s: %w",
			name, are.ExistingName, are.Existing, kind, err)
	}
	return m, nil
}

// checkLabels checks that an existing family declares exactly the label
// names labels, in that order, so that the middleware's positional values
// fit, and carries the constant labels this Middleware was given.
func (b *builder) checkLabels(f family, labels []string) error {
	if got := f.LabelNames(); !slices.Equal(got, labels) {
		return mismatch(f.Name(), "labels", fmt.Errorf("its label names are %v, not %v", got, labels))
	}
	if got := f.ConstLabels(); !maps.Equal(got, b.constLabels) {
		return mismatch(f.Name(), "constant labels", fmt.Errorf("it has %v, not %v", got, b.constLabels))
	}
	return nil
}

// mismatch reports a metric registered already with other settings.
func mismatch(name, what string, err error) error {
	if err == nil {
		return fmt.Errorf("httpmetrics: %s is registered already with other %s", name, what)
	}
	return fmt.Errorf("httpmetrics: %s is registered already with other %s: %w", name, what, err)
}
