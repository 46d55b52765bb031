package prom

import (
	"context"
	"fmt"

	"github.com/promgo/prom/internal/expo"
)

// funcFamily is what GaugeFunc and CounterFunc share: a family of one
// unlabelled series whose value a function gives at each scrape. The
// registry calls the function before it writes anything (read), so that a
// panic counts in prom_collector_failures_total in the same scrape.
type funcFamily struct {
	f  family[GaugeSeries, *GaugeSeries] // holds the series' labels and creation time
	fn func() float64
}

// init checks the options and fn and sets the family up.
func (m *funcFamily) init(kind string, typ expo.Type, name, help string, fn func() float64, opts []Option) (*options, error) {
	o := buildOptions(name, help, opts)
	if err := o.check(kind, false, false); err != nil {
		return nil, err
	}
	switch {
	case len(o.labelNames) > 0:
		return nil, errorf(ErrInvalidLabels, "%s %q takes constant labels only, not label names %v", kind, name, o.labelNames)
	case o.maxSeriesSet || o.expirySet:
		return nil, fmt.Errorf("prom: metric %q: WithMaxSeries and WithIdleExpiry apply to metrics with labelled series, not to a %s", name, kind)
	case fn == nil:
		return nil, fmt.Errorf("prom: %s %q: the function is nil", kind, name)
	}
	m.fn = fn
	if err := m.f.init(o, typ, "", func(*GaugeSeries) {}); err != nil {
		return nil, err
	}
	if _, err := m.f.unlabelled(); err != nil {
		return nil, err
	}
	return o, nil
}

// Value calls the function and returns its result as it is: unlike a
// scrape, which leaves out a counter function's negative or NaN value and
// turns a panic into the metric's failure, it lets both reach the caller.
func (m *funcFamily) Value() float64 { return m.fn() }

// Name returns the metric name.
func (m *funcFamily) Name() string { return m.f.name }

// Help returns the metric's help text.
func (m *funcFamily) Help() string { return m.f.help }

// ConstLabels returns a copy of the metric's constant labels.
func (m *funcFamily) ConstLabels() Labels { return m.f.constLabels() }

// Describe returns the names the metric takes; it implements [Collector].
func (m *funcFamily) Describe() []string { return m.f.describe() }

func (m *funcFamily) meta() *familyMeta { return &m.f.familyMeta }

// read calls the function, turning a panic, and for a counter a value
// that is negative or NaN, into an error.
func (m *funcFamily) read() (v float64, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("prom: collecting %q panicked: %v", m.f.name, p)
		}
	}()
	v = m.fn()
	if m.f.typ == expo.Counter && !(v >= 0) {
		return 0, fmt.Errorf("prom: counter function %q returned %v; a counter's value must be 0 or more", m.f.name, v)
	}
	return v, nil
}

// encodeValue writes the metric with the value v.
func (m *funcFamily) encodeValue(enc expo.Encoder, v float64) {
	m.f.start(enc)
	for _, s := range m.f.snapshot() {
		if m.f.typ == expo.Counter {
			enc.Counter(&s.labels, v, s.created, nil)
		} else {
			enc.Value(&s.labels, v)
		}
	}
}

// encode is encodeValue with the function's value. The registry reads
// the value first instead (readFuncs), and so does collectVia.
func (m *funcFamily) encode(enc expo.Encoder) { m.encodeValue(enc, m.fn()) }

// GaugeFunc is a gauge whose value is read from a function at each scrape,
// for values another part of the program already keeps.
type GaugeFunc struct{ funcFamily }

// NewGaugeFunc creates a gauge that calls fn at each scrape and registers it
// like [NewCounter]. fn must be safe for concurrent use. Label names are
// not allowed; constant labels are.
func NewGaugeFunc(name, help string, fn func() float64, opts ...Option) (*GaugeFunc, error) {
	g := new(GaugeFunc)
	o, err := g.init("gauge function", expo.Gauge, name, help, fn, opts)
	if err != nil {
		return nil, err
	}
	return register(o, g)
}

// Collect writes the gauge to w; it implements [Collector].
func (g *GaugeFunc) Collect(ctx context.Context, w *MetricWriter) error {
	return collectVia(ctx, g, w)
}

// CounterFunc is a counter whose value is read from a function at each
// scrape, for totals another part of the program already keeps: the
// connections a pool has opened, the bytes a library has read. It is how
// prom sets a counter's value (aioprometheus's Counter.set): the function
// returns the total, which must never go down while the process runs.
type CounterFunc struct{ funcFamily }

// NewCounterFunc creates a counter that calls fn at each scrape and
// registers it like [NewCounter]. fn must be safe for concurrent use and
// return a total that never decreases; a negative or NaN value is left
// out of the scrape and reported as the metric's failure (see
// [Handler]). Name the counter with _total, as for NewCounter. Label
// names are not allowed; constant labels are.
func NewCounterFunc(name, help string, fn func() float64, opts ...Option) (*CounterFunc, error) {
	c := new(CounterFunc)
	o, err := c.init("counter function", expo.Counter, name, help, fn, opts)
	if err != nil {
		return nil, err
	}
	return register(o, c)
}

// Collect writes the counter to w; it implements [Collector].
func (c *CounterFunc) Collect(ctx context.Context, w *MetricWriter) error {
	return collectVia(ctx, c, w)
}
