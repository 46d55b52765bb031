package prom

import (
	"context"
	"iter"
	"math"
	"sync/atomic"
	"time"

	"github.com/promgo/prom/internal/expo"
)

// Gauge is a family of gauges: values that go up and down, such as
// temperatures or queue lengths. Series are chosen as for a [Counter].
//
// A Gauge is safe for concurrent use.
type Gauge struct {
	f family[GaugeSeries, *GaugeSeries]
}

// GaugeSeries is one series of a [Gauge], bound to its labels. Set is one
// atomic store, Add a CAS loop; neither allocates. It is safe for
// concurrent use.
type GaugeSeries struct {
	seriesHeader
	bits atomic.Uint64
}

// NewGauge creates a gauge family and registers it like [NewCounter].
func NewGauge(name, help string, opts ...Option) (*Gauge, error) {
	o := buildOptions(name, help, opts)
	if err := o.check("gauge", false, false); err != nil {
		return nil, err
	}
	g := &Gauge{}
	if err := g.f.init(o, expo.Gauge, "", func(*GaugeSeries) {}); err != nil {
		return nil, err
	}
	return register(o, g)
}

// Set sets the series to v.
func (s *GaugeSeries) Set(v float64) { s.bits.Store(math.Float64bits(v)) }

// Add adds v, which may be negative.
func (s *GaugeSeries) Add(v float64) { addFloat(&s.bits, v) }

// Sub subtracts v.
func (s *GaugeSeries) Sub(v float64) { addFloat(&s.bits, -v) }

// Inc adds 1.
func (s *GaugeSeries) Inc() { addFloat(&s.bits, 1) }

// Dec subtracts 1.
func (s *GaugeSeries) Dec() { addFloat(&s.bits, -1) }

// SetToCurrentTime sets the series to the current Unix time in seconds.
func (s *GaugeSeries) SetToCurrentTime() {
	s.Set(float64(time.Now().UnixNano()) / 1e9)
}

// Value returns the series' current value.
func (s *GaugeSeries) Value() float64 { return math.Float64frombits(s.bits.Load()) }

func (g *Gauge) unlabelled() *GaugeSeries {
	if g.f.inlineState.Load() != inlineGone {
		return &g.f.inline
	}
	return g.f.slowPlain()
}

// Set sets the unlabelled series to v.
func (g *Gauge) Set(v float64) { g.unlabelled().Set(v) }

// Add adds v to the unlabelled series.
func (g *Gauge) Add(v float64) { g.unlabelled().Add(v) }

// Sub subtracts v from the unlabelled series.
func (g *Gauge) Sub(v float64) { g.unlabelled().Sub(v) }

// Inc adds 1 to the unlabelled series.
func (g *Gauge) Inc() { g.unlabelled().Inc() }

// Dec subtracts 1 from the unlabelled series.
func (g *Gauge) Dec() { g.unlabelled().Dec() }

// SetToCurrentTime sets the unlabelled series to the current Unix time.
func (g *Gauge) SetToCurrentTime() { g.unlabelled().SetToCurrentTime() }

// With returns the series for a label set; see [Counter.With].
func (g *Gauge) With(labels Labels) *GaugeSeries {
	s, _ := g.f.withMap(labels)
	return s
}

// WithValues returns the series for positional label values; see
// [Counter.WithValues].
func (g *Gauge) WithValues(values ...string) *GaugeSeries {
	s, _ := g.f.withValues(values)
	return s
}

// Bind is [Gauge.With] that reports labels that do not fit the metric.
func (g *Gauge) Bind(labels Labels) (*GaugeSeries, error) { return g.f.withMap(labels) }

// BindValues is [Gauge.WithValues] that reports values that do not fit.
func (g *Gauge) BindValues(values ...string) (*GaugeSeries, error) { return g.f.withValues(values) }

// Get returns the value of the series with these labels, and false when
// that series does not exist.
func (g *Gauge) Get(labels Labels) (float64, bool) {
	if s := g.f.find(labels); s != nil {
		return s.Value(), true
	}
	return 0, false
}

// All iterates over the series in creation order with their values.
func (g *Gauge) All() iter.Seq2[Labels, float64] { return all(&g.f, (*GaugeSeries).Value) }

// Delete removes the series with these labels; it reports whether it
// existed.
func (g *Gauge) Delete(labels Labels) bool { return g.f.deleteMap(labels) }

// DeleteValues is [Gauge.Delete] by positional label values.
func (g *Gauge) DeleteValues(values ...string) bool { return g.f.deleteValues(values) }

// Reset removes every series.
func (g *Gauge) Reset() { g.f.reset() }

// Name returns the metric name.
func (g *Gauge) Name() string { return g.f.name }

// LabelNames returns the label names declared with [WithLabelNames], in
// order, or nil when the metric takes any label set.
func (g *Gauge) LabelNames() []string { return g.f.labelNames() }

// ConstLabels returns the metric's constant labels.
func (g *Gauge) ConstLabels() Labels { return g.f.constLabels() }

// Describe returns the metric name; it implements [Collector].
func (g *Gauge) Describe() []string { return g.f.describe() }

// Collect writes the family to w; it implements [Collector].
func (g *Gauge) Collect(ctx context.Context, w *MetricWriter) error { return collectVia(ctx, g, w) }

func (g *Gauge) encode(enc expo.Encoder) {
	g.f.start(enc)
	for _, s := range g.f.snapshot() {
		enc.Value(&s.labels, s.Value())
	}
}

// GaugeFunc is a gauge whose value is read from a function at each scrape,
// for values another part of the program already keeps.
type GaugeFunc struct {
	f  family[GaugeSeries, *GaugeSeries]
	fn func() float64
}

// NewGaugeFunc creates a gauge that calls fn at each scrape and registers it
// like [NewCounter]. fn must be safe for concurrent use. Label names are
// not allowed; constant labels are.
func NewGaugeFunc(name, help string, fn func() float64, opts ...Option) (*GaugeFunc, error) {
	o := buildOptions(name, help, opts)
	if err := o.check("gauge function", false, false); err != nil {
		return nil, err
	}
	if len(o.labelNames) > 0 {
		return nil, errorf(ErrInvalidLabels, "gauge function %q takes constant labels only, not label names %v", name, o.labelNames)
	}
	if fn == nil {
		return nil, errorf(ErrInvalidLabels, "gauge function %q: the function is nil", name)
	}
	g := &GaugeFunc{fn: fn}
	if err := g.f.init(o, expo.Gauge, "", func(*GaugeSeries) {}); err != nil {
		return nil, err
	}
	g.f.unlabelled()
	return register(o, g)
}

// Value calls the function and returns its result.
func (g *GaugeFunc) Value() float64 { return g.fn() }

// Name returns the metric name.
func (g *GaugeFunc) Name() string { return g.f.name }

// Describe returns the metric name; it implements [Collector].
func (g *GaugeFunc) Describe() []string { return g.f.describe() }

// Collect writes the gauge to w; it implements [Collector].
func (g *GaugeFunc) Collect(ctx context.Context, w *MetricWriter) error {
	return collectVia(ctx, g, w)
}

func (g *GaugeFunc) encode(enc expo.Encoder) {
	v := g.fn()
	g.f.start(enc)
	for _, s := range g.f.snapshot() {
		enc.Value(&s.labels, v)
	}
}

func (g *Gauge) meta() *familyMeta { return &g.f.familyMeta }

func (g *GaugeFunc) meta() *familyMeta { return &g.f.familyMeta }
