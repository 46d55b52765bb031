package prom

import (
	"context"
	"iter"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/promgo/prom/internal/expo"
)

// Gauge is a family of gauges: values that go up and down, such as
// temperatures or queue lengths. Series are chosen as for a [Counter].
//
// Set, Add, Sub, Inc, Dec and SetToCurrentTime on the Gauge itself update
// the unlabelled series with one atomic operation and no check, inlined:
// until something reads the gauge (a scrape, Get, All, With(nil), Delete)
// or makes a labelled series of it, the series they update is pending, and
// the read registers it if it has been updated, so it appears from its
// first use and in its place in creation order. On a gauge with
// declared label names those updates do not fit; they are dropped and
// counted in prom_rejected_updates_total once per read that finds them. One
// NaN bit pattern, 0x7ff4_0000_756e_7365, which arithmetic and math.NaN()
// never produce, marks the pending state: a series set to it reads as 0.
//
// A Gauge is safe for concurrent use.
type Gauge struct {
	f family[GaugeSeries, *GaugeSeries]
	// cur is the series that the unlabelled methods (Set, Add, ...)
	// update: one pointer load, no check, so that they inline. Until
	// its first update it is pending: not yet in the family, holding
	// gaugeUnset. Any read of the family (a scrape, Get, All, With(nil),
	// Delete) first registers a pending series that has been updated
	// (promote), so the series appears from its first use.
	cur atomic.Pointer[GaugeSeries]
	pmu sync.Mutex // serialises promote, Reset and Delete
}

// gaugeUnset is the bit pattern of a pending series that no update has
// reached yet: a NaN payload that arithmetic and math.NaN() never produce.
// Set to exactly this value (math.Float64frombits(0x7ff4_0000_756e_7365)),
// a series reads as 0, and a pending one does not count it as a use.
const gaugeUnset = 0x7ff4_0000_756e_7365

// GaugeSeries is one series of a [Gauge], bound to its labels. Set is one
// atomic store, Add a CAS loop; neither allocates. It is safe for
// concurrent use.
type GaugeSeries struct {
	bits atomic.Uint64 // float64 bits of the value
	seriesHeader
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
	g.pend(&g.f.inline)
	g.f.plainOf = g.plain
	g.f.beforeLabelled = g.promote
	sweep := g.f.prepare
	g.f.prepare = func() {
		if sweep != nil {
			sweep()
		}
		g.promote()
	}
	return register(o, g)
}

// pend makes p the pending unlabelled series. g.pmu is held, or g is new.
func (g *Gauge) pend(p *GaugeSeries) {
	p.bits.Store(gaugeUnset)
	g.f.mu.Lock()
	g.f.nextPlain = p
	g.f.mu.Unlock()
	g.cur.Store(p)
}

// promote registers the pending unlabelled series if it has been updated.
// Where the family refuses it (label names are declared) the refusal is
// counted as for any unlabelled update, once per promote, and its value
// goes where the family sends such updates (nowhere); the series stays
// pending.
func (g *Gauge) promote() {
	g.pmu.Lock()
	g.promoteLocked()
	g.pmu.Unlock()
}

func (g *Gauge) promoteLocked() {
	p := g.cur.Load()
	if g.f.plain.Load() == p || p.bits.Load() == gaugeUnset {
		return
	}
	g.f.counted(g.register(p))
}

// register registers the pending series p, returning it, or what the
// family gives the unlabelled series instead (see promote). g.pmu is held.
func (g *Gauge) register(p *GaugeSeries) (*GaugeSeries, error) {
	got, err := g.f.unlabelled()
	if got != p {
		// Only a value set on p moves: asking for the series sets
		// nothing on the series it gets instead.
		if b := p.bits.Swap(gaugeUnset); b != gaugeUnset {
			got.bits.Store(b)
		}
	}
	return got, err
}

// Set sets the series to v.
func (s *GaugeSeries) Set(v float64) { s.bits.Store(math.Float64bits(v)) }

// Add adds v, which may be negative.
func (s *GaugeSeries) Add(v float64) { s.add(v) }

// Sub subtracts v.
func (s *GaugeSeries) Sub(v float64) { s.add(-v) }

// Inc adds 1.
func (s *GaugeSeries) Inc() { s.add(1) }

// Dec subtracts 1.
func (s *GaugeSeries) Dec() { s.add(-1) }

// add is addFloat that reads gaugeUnset as 0.
func (s *GaugeSeries) add(v float64) {
	for {
		old := s.bits.Load()
		f := math.Float64frombits(old)
		if old == gaugeUnset {
			f = 0
		}
		if s.bits.CompareAndSwap(old, math.Float64bits(f+v)) {
			return
		}
	}
}

// SetToCurrentTime sets the series to the current Unix time in seconds.
func (s *GaugeSeries) SetToCurrentTime() {
	s.Set(float64(time.Now().UnixNano()) / 1e9)
}

// Value returns the series' current value.
func (s *GaugeSeries) Value() float64 {
	b := s.bits.Load()
	if b == gaugeUnset {
		return 0
	}
	return math.Float64frombits(b)
}

// Set sets the unlabelled series to v.
func (g *Gauge) Set(v float64) { g.cur.Load().Set(v) }

// Add adds v to the unlabelled series.
func (g *Gauge) Add(v float64) { g.cur.Load().add(v) }

// Sub subtracts v from the unlabelled series.
func (g *Gauge) Sub(v float64) { g.cur.Load().add(-v) }

// Inc adds 1 to the unlabelled series.
func (g *Gauge) Inc() { g.cur.Load().add(1) }

// Dec subtracts 1 from the unlabelled series.
func (g *Gauge) Dec() { g.cur.Load().add(-1) }

// SetToCurrentTime sets the unlabelled series to the current Unix time.
func (g *Gauge) SetToCurrentTime() { g.cur.Load().SetToCurrentTime() }

// plain returns the unlabelled series, registering it: asking for it is
// a use, as in [Counter.With].
func (g *Gauge) plain() (*GaugeSeries, error) {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	p := g.cur.Load()
	if g.f.plain.Load() == p {
		return p, nil
	}
	got, err := g.register(p)
	if got == p {
		p.bits.CompareAndSwap(gaugeUnset, 0) // registered, it reads as 0
	}
	return got, err
}

// plainCounted is plain for With and WithValues, which count a refusal
// instead of returning it.
func (g *Gauge) plainCounted() *GaugeSeries { return g.f.counted(g.plain()) }

// With returns the series for a label set; see [Counter.With].
func (g *Gauge) With(labels Labels) *GaugeSeries {
	return g.f.withMap(labels) // a map naming no label reaches g.plain
}

// WithValues returns the series for positional label values; see
// [Counter.WithValues].
func (g *Gauge) WithValues(values ...string) *GaugeSeries {
	if len(values) == 0 {
		return g.plainCounted()
	}
	return g.f.withValues(values)
}

// Bind is [Gauge.With] that returns the error for labels that do not fit
// the metric, instead of counting them in prom_rejected_updates_total.
func (g *Gauge) Bind(labels Labels) (*GaugeSeries, error) {
	return g.f.bindMap(labels)
}

// BindValues is [Gauge.WithValues] that returns the error for values that do
// not fit, instead of counting them.
func (g *Gauge) BindValues(values ...string) (*GaugeSeries, error) {
	if len(values) == 0 {
		return g.plain()
	}
	return g.f.bindValues(values)
}

// Get returns the value of the series with these labels, and false when
// that series does not exist.
func (g *Gauge) Get(labels Labels) (float64, bool) {
	g.promote() // labels may name the unlabelled series: {} or {a=""}
	if s := g.f.find(labels); s != nil {
		return s.Value(), true
	}
	return 0, false
}

// All iterates over the series in creation order with their values.
func (g *Gauge) All() iter.Seq2[Labels, float64] {
	g.promote()
	return all(&g.f, (*GaugeSeries).Value)
}

// Delete removes the series with these labels; it reports whether it
// existed.
func (g *Gauge) Delete(labels Labels) bool {
	return g.delete(func() bool { return g.f.deleteMap(labels) })
}

// DeleteValues is [Gauge.Delete] by positional label values.
func (g *Gauge) DeleteValues(values ...string) bool {
	return g.delete(func() bool { return g.f.deleteValues(values) })
}

// delete runs del with the pending series registered, and gives the
// unlabelled methods a new pending series if del removed theirs.
func (g *Gauge) delete(del func() bool) bool {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	g.promoteLocked()
	p := g.cur.Load()
	registered := g.f.plain.Load() == p
	ok := del()
	if registered && g.f.plain.Load() != p {
		g.pend(g.f.newSeries())
	}
	return ok
}

// Reset removes every series.
func (g *Gauge) Reset() {
	g.pmu.Lock()
	defer g.pmu.Unlock()
	g.f.reset()
	g.pend(g.f.newSeries())
}

// Name returns the metric name.
func (g *Gauge) Name() string { return g.f.name }

// Help returns the metric's help text.
func (g *Gauge) Help() string { return g.f.help }

// LabelNames returns the label names declared with [WithLabelNames], in
// order, or nil when the metric takes any label set.
func (g *Gauge) LabelNames() []string { return g.f.labelNames() }

// ConstLabels returns the metric's constant labels.
func (g *Gauge) ConstLabels() Labels { return g.f.constLabels() }

// Describe returns the metric name; it implements [Collector].
func (g *Gauge) Describe() []string { return g.f.describe() }

// Collect writes the family to w; it implements [Collector]. A registry
// scrapes a registered metric without it. A collector may call it to
// delegate to metrics it owns (left unregistered, [WithRegistry](nil)):
// the registry then exposes them as it would registered ones, unit,
// exemplars and created times included, and counts their refused updates
// and expired series in its own counters.
func (g *Gauge) Collect(ctx context.Context, w *MetricWriter) error { return collectVia(ctx, g, w) }

func (g *Gauge) encode(enc expo.Encoder) {
	g.promote()
	g.f.start(enc)
	for _, s := range g.f.snapshot() {
		enc.Value(&s.labels, s.Value())
	}
}

func (g *Gauge) meta() *familyMeta { return &g.f.familyMeta }
