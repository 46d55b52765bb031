package prom

import (
	"context"
	"iter"
	"math"
	"runtime"
	"sync/atomic"

	"github.com/promgo/prom/internal/expo"
)

// Counter is a family of counters: values that only go up, such as requests
// served or errors seen. A series is chosen by its labels: [Counter.With] takes a
// label map, [Counter.WithValues] the values of the names declared with
// [WithLabelNames], and Inc and Add on the Counter itself update the
// unlabelled series. A series appears in the exposition from its first use,
// as in aioprometheus, so a metric used with label maps shows no stray
// unlabelled 0. client_golang shows a metric without labels at 0 from its
// registration, so that rate and increase see its first event and absent
// does not fire before it; to do the same, make the series at start-up:
// c.Add(0), or c.With(labels) or c.WithValues(values...) for each label set
// known then (the same holds for a Gauge, Histogram or Summary).
//
// A Counter is safe for concurrent use.
type Counter struct {
	// counterInc comes first, and its Inc is Counter.Inc: a promoted
	// method at offset 0 is inlined into the caller, as a call through a
	// Counter method of the same body would not be (the inliner charges
	// for the field's offset).
	counterInc
	f          family[CounterSeries, *CounterSeries]
	noExemplar counterAux // the aux of every series without an exemplar
	inlineAux  counterAux // the same for the unlabelled series in f
	cells      atomic.Pointer[counterCells]
}

// counterInc holds the word that Counter.Inc adds to while the unlabelled
// series is the one held in the family (f.inline); it counts in that
// series' value. Its flags are a word of their own, which Inc reads before
// it adds: on some CPUs (an Intel Xeon here) a load of the word that the
// previous locked add wrote costs as much again as the add, a load of
// another address far less.
type counterInc struct {
	_       [0]atomic.Uint64 // 8-byte aligned on 32-bit platforms too
	flags   uint64           // notInlineFlag, stripedFlag, watchFlag
	n       uint64           // the increments
	counter *Counter
}

// The flags of a counterInc; Inc takes its slow path while any is set.
// notInlineFlag sends Counter.Inc to the family's unlabelled series: before
// the first unlabelled update (and for good when the metric declares label
// names), and after Delete or Reset removed the series held in the family,
// which is never reused. stripedFlag sends it to the Counter's striped
// cells, in place before the flag is set. watchFlag asks the next Inc to
// look for contention: every 256th add sets it.
const (
	notInlineFlag = 1 << iota
	stripedFlag
	watchFlag
)

// Inc adds 1 to the unlabelled series. Goroutines that increment at once
// spread their increments over striped cells, one per P, so they do not
// queue for one cache line. On a metric with declared label names it is
// dropped and counted in prom_rejected_updates_total.
func (c *counterInc) Inc() {
	if atomic.LoadUint64(&c.flags) != 0 {
		c.incSlow() // nothing added yet
	} else if uint8(atomic.AddUint64(&c.n, 1)) == 0 {
		atomic.OrUint64(&c.flags, watchFlag)
	}
}

// incSlow is Counter.Inc when a flag was set; it adds the increment
// where the flags it finds send it, exactly once.
//
//go:noinline
func (c *counterInc) incSlow() {
	f := atomic.LoadUint64(&c.flags)
	if f == watchFlag {
		if atomic.CompareAndSwapUint64(&c.flags, watchFlag, 0) {
			if incSeesContention(&c.n) {
				c.stripe()
			}
			return
		}
		f = atomic.LoadUint64(&c.flags)
	}
	ctr := c.counter
	switch {
	case f&notInlineFlag != 0:
		ctr.f.slowPlain().Inc()
	case f&stripedFlag != 0:
		ctr.cells.Load().inc() // in place before the flag
	default: // no flag, or only watchFlag again
		atomic.AddUint64(&c.n, 1)
	}
}

// stripe moves Counter.Inc to the Counter's striped cells.
func (c *counterInc) stripe() {
	makeCells(&c.counter.cells, maxCounterCells)
	atomic.OrUint64(&c.flags, stripedFlag)
}

// inlineChanged keeps notInlineFlag in step with the family's inline state.
func (c *counterInc) inlineChanged(live bool) {
	if live {
		atomic.AndUint64(&c.flags, ^uint64(notInlineFlag))
	} else {
		atomic.OrUint64(&c.flags, notInlineFlag)
	}
}

// CounterSeries is one series of a [Counter], bound to its labels. An update
// is one atomic add (a CAS loop for a fraction or a large value) and does
// not allocate; a series that goroutines increment at once moves its Inc to
// per-P cells. It is safe for concurrent use.
type CounterSeries struct {
	// floats holds the float64 bits of the increments that are not
	// whole numbers. Their sum is never negative, so its sign bit is free
	// for slowBit, which sends Inc to its slow path. Inc reads floats, not
	// ints, before adding: on some CPUs (an Intel Xeon here) a load of the
	// word that the previous locked add wrote costs as much again as the
	// add, a load of another word far less. floats and ints are plain
	// uint64s used with atomic functions, because calls to them leave Inc
	// cheap enough to inline; floats is first, where the inliner charges
	// less for a field, and the zero-size fields before them make them
	// 8-byte aligned on 32-bit platforms too, also where a series is held
	// in another struct (a family's inline series).
	_      [0]atomic.Uint64
	floats uint64
	seriesHeader
	_    [0]atomic.Uint64
	ints uint64 // the whole-number increments
	// aux leads to the family (for counting refused updates) and to the
	// latest exemplar: one pointer for both, as exemplars are rare. Until
	// the first exemplar it is the family's shared exemplar-less one.
	aux atomic.Pointer[counterAux]
}

// counterAux is what a counter series reaches through its aux pointer.
type counterAux struct {
	meta     *familyMeta
	exemplar *expo.Exemplar
	// fast, for the unlabelled series held in the family, is the
	// Counter's counterInc word, which counts in its value.
	fast *uint64
	// cells leads to the striped cells that Inc spreads its increments
	// over once goroutines contend for the series; they count in its
	// value. The family's inline unlabelled series has them from the start
	// (they are the Counter's, shared with Counter.Inc); any other series
	// gets its own aux with them when its Inc first finds contention.
	cells *atomic.Pointer[counterCells]
}

// counterCells are striped counts, one per P (the runtime's processors,
// GOMAXPROCS of them) up to maxCounterCells, each on its own cache line, so
// goroutines running at once increment different lines.
type counterCells struct {
	cells []counterCell // a power of two long
}

type counterCell struct {
	n atomic.Uint64
	_ [56]byte
}

// maxCounterCells bounds the memory of a striped unlabelled counter
// (4 KiB), and maxSeriesCells that of a striped labelled series (512 B), of
// which a family may have many, on machines with many cores; past it, Ps
// share cells.
const (
	maxCounterCells = 64
	maxSeriesCells  = 8
)

// slowBit, the sign bit of a CounterSeries' floats, sends its Inc to the
// slow path: set for good when the series has moved to striped cells, and
// by every 256th increment, asking the next one to look for contention.
const slowBit = 1 << 63

// maxIntAdd and maxInts keep a series' integral word far from wrapping:
// an Add takes the integral path only while the word is below maxInts, so
// it passes maxInts by less than maxIntAdd for each Add between its check
// and its add. Past maxInts, as for larger or fractional values, Add adds
// to the float64.
const (
	maxIntAdd = 1 << 44
	maxInts   = 1 << 62
)

func newCounterCells(limit int) *counterCells {
	return &counterCells{cells: make([]counterCell, perP(limit))}
}

// perP returns how many stripes to make for one per P: GOMAXPROCS rounded
// up to a power of two (so that a P's stripe is p masked), at most limit,
// itself a power of two.
func perP(limit int) int {
	n := 1
	for n < runtime.GOMAXPROCS(0) && n < limit {
		n *= 2
	}
	return n
}

// inc adds 1 to the cell of the P the goroutine runs on.
func (c *counterCells) inc() {
	p := procPin()
	procUnpin()
	c.cells[p&(len(c.cells)-1)].n.Add(1)
}

func (c *counterCells) sum() uint64 {
	var n uint64
	for i := range c.cells {
		n += c.cells[i].n.Load()
	}
	return n
}

// NewCounter creates a counter family and registers it in [Default], or in
// the registry given by [WithRegistry]. It fails on an invalid name, label
// name or option, and when the registry already holds the name (an
// [*AlreadyRegisteredError]).
func NewCounter(name, help string, opts ...Option) (*Counter, error) {
	o := buildOptions(name, help, opts)
	if err := o.check("counter", false, false); err != nil {
		return nil, err
	}
	c := &Counter{counterInc: counterInc{flags: notInlineFlag}}
	c.counterInc.counter = c
	c.noExemplar.meta = &c.f.familyMeta
	c.inlineAux = counterAux{meta: &c.f.familyMeta, cells: &c.cells, fast: &c.counterInc.n}
	err := c.f.init(o, expo.Counter, "", func(s *CounterSeries) {
		if s == &c.f.inline {
			s.aux.Store(&c.inlineAux)
		} else {
			s.aux.Store(&c.noExemplar)
		}
	})
	if err != nil {
		return nil, err
	}
	// The discard series' updates were counted once, as refused labels,
	// at its lookup: its invalid values and exemplars count nowhere.
	c.f.discard.aux.Store(&counterAux{meta: new(familyMeta)})
	c.f.inlineChanged = c.counterInc.inlineChanged
	return register(o, c)
}

// Inc adds 1 to the series. Goroutines that increment a series at once
// move it to striped cells, one per P, so they do not queue for one cache
// line; Add does not use them.
func (s *CounterSeries) Inc() {
	if atomic.LoadUint64(&s.floats) >= slowBit {
		s.incSlow() // nothing added yet
	} else if uint8(atomic.AddUint64(&s.ints, 1)) == 0 {
		atomic.OrUint64(&s.floats, slowBit)
	}
}

// incSlow is Inc when slowBit was set: on a series that has moved to
// striped cells, or after a 256th increment. It adds exactly once. The
// unlabelled series held in the family moves to the Counter's cells at its
// next 256th increment once Counter.Inc has moved there.
//
//go:noinline
func (s *CounterSeries) incSlow() {
	if cells := s.stripedCells(); cells != nil {
		cells.inc()
		return
	}
	// A 256th increment asked for a look at contention.
	atomic.AndUint64(&s.floats, ^uint64(slowBit))
	// After the clear, cells in place mean contended moved the series
	// meanwhile: set slowBit again.
	if incSeesContention(&s.ints) || s.stripedCells() != nil {
		s.contended()
	}
}

// incSeesContention adds 1 to word and reports whether another
// goroutine's increment came between its load of word and its add: the
// contention test of an Inc's slow path, which runs after every 256th
// increment. Between a load and an add that hit the cache, that is a
// window of a nanosecond or two, wide enough to catch goroutines that all
// increment one word, not goroutines that share a series among others
// (several goroutines counting requests in the same few series: each
// touches a series a fraction of the time, yet its cache line travels
// between cores at nearly every increment). So every 16th test, once per
// 4096 increments, watches the word for watchLoads loads (tens of
// nanoseconds, a hundredth of a nanosecond per increment) before adding.
func incSeesContention(word *uint64) bool {
	old := atomic.LoadUint64(word)
	if old>>8&15 == 0 {
		for range watchLoads {
			if atomic.LoadUint64(word) != old {
				atomic.AddUint64(word, 1)
				return true
			}
		}
	}
	return atomic.AddUint64(word, 1) != old+1
}

// watchLoads is how many loads incSeesContention's long watch makes.
const watchLoads = 256

// stripedCells returns the striped cells that the series' aux leads to,
// or nil.
func (s *CounterSeries) stripedCells() *counterCells {
	if cp := s.aux.Load().cells; cp != nil {
		return cp.Load()
	}
	return nil
}

// contended moves the series to striped cells: it gives the series an aux
// that leads to cells, then sets slowBit. Value counts what the cells
// hold from the moment they are reachable from aux, so no increment is
// lost on the way.
func (s *CounterSeries) contended() {
	aux := s.aux.Load()
	for aux.cells == nil {
		next := *aux
		next.cells = new(atomic.Pointer[counterCells])
		if s.aux.CompareAndSwap(aux, &next) {
			aux = &next
			break
		}
		aux = s.aux.Load()
	}
	// The unlabelled series held in the family shares the Counter's
	// cells (aux.fast marks it), which get the Counter's limit, whichever
	// moves first. The cells are in place before any Inc reads the bit.
	limit := maxSeriesCells
	if aux.fast != nil {
		limit = maxCounterCells
	}
	makeCells(aux.cells, limit)
	atomic.OrUint64(&s.floats, slowBit)
}

// makeCells makes the striped cells that cp leads to, one per P up to
// limit, unless they are there already.
func makeCells(cp *atomic.Pointer[counterCells], limit int) {
	if cp.Load() == nil {
		cp.CompareAndSwap(nil, newCounterCells(limit))
	}
}

// Add adds v to the series. A counter only goes up: a negative or NaN v is
// ignored and counted in the registry's prom_rejected_updates_total.
// Whole numbers below 2^44 take one atomic add while the series' whole
// part is below 2^62, other values a CAS loop.
func (s *CounterSeries) Add(v float64) {
	switch {
	case v >= 0 && v < maxIntAdd && v == math.Trunc(v) && atomic.LoadUint64(&s.ints) < maxInts:
		atomic.AddUint64(&s.ints, uint64(v))
	case v >= 0:
		addFloatKeepingSlowBit(&s.floats, v)
	default:
		s.aux.Load().meta.rejectedValues.Add(1)
	}
}

// AddWithExemplar adds v and records an exemplar for it: labels such as a
// trace ID, at most [MaxExemplarRunes] characters in all, shown in
// OpenMetrics and protobuf output. It allocates; use it for sampled
// requests. An invalid exemplar is dropped (the add still counts) and
// counted in prom_rejected_updates_total.
func (s *CounterSeries) AddWithExemplar(v float64, exemplar Labels) {
	s.Add(v)
	if !(v >= 0) {
		return
	}
	aux := s.aux.Load()
	meta := aux.meta
	ex, err := newExemplar(meta.name, exemplar, v)
	if err != nil {
		meta.rejectedExemplars.Add(1)
		return
	}
	// A CAS, not a store, so that cells a concurrent Inc has just given
	// the series are kept.
	for {
		next := *aux
		next.exemplar = ex
		if s.aux.CompareAndSwap(aux, &next) {
			return
		}
		aux = s.aux.Load()
	}
}

// IncWithExemplar is AddWithExemplar(1, exemplar).
func (s *CounterSeries) IncWithExemplar(exemplar Labels) { s.AddWithExemplar(1, exemplar) }

// Value returns the series' current value.
func (s *CounterSeries) Value() float64 {
	ints := atomic.LoadUint64(&s.ints)
	aux := s.aux.Load()
	if aux.fast != nil {
		ints += atomic.LoadUint64(aux.fast)
	}
	if aux.cells != nil {
		if cells := aux.cells.Load(); cells != nil {
			ints += cells.sum()
		}
	}
	return float64(ints) + math.Float64frombits(atomic.LoadUint64(&s.floats)&^slowBit)
}

// addFloatKeepingSlowBit adds v, not negative, to the float64 whose bits
// are in a, less slowBit, which it keeps as it is.
func addFloatKeepingSlowBit(a *uint64, v float64) {
	for {
		old := atomic.LoadUint64(a)
		sum := math.Float64frombits(old&^slowBit) + v
		if atomic.CompareAndSwapUint64(a, old, math.Float64bits(sum)|old&slowBit) {
			return
		}
	}
}

// Add adds v to the unlabelled series; see [CounterSeries.Add].
func (c *Counter) Add(v float64) { c.unlabelled().Add(v) }

func (c *Counter) unlabelled() *CounterSeries {
	if c.f.inlineState.Load() != inlineGone {
		return &c.f.inline
	}
	return c.f.slowPlain()
}

// With returns the series for a label set, creating it on first use; nil or
// empty labels mean the unlabelled series. A hit neither locks nor
// allocates. Labels that do not fit the metric (see [Counter.Bind] for the
// error) give a detached series whose updates are dropped, and each such
// call is counted in the registry's prom_rejected_updates_total.
func (c *Counter) With(labels Labels) *CounterSeries {
	return c.f.withMap(labels)
}

// WithValues is [Counter.With] for the label values of the names declared
// with [WithLabelNames], in that order.
func (c *Counter) WithValues(values ...string) *CounterSeries {
	return c.f.withValues(values)
}

// Bind is [Counter.With] that returns the error for labels that do not fit
// the metric, instead of counting them in prom_rejected_updates_total.
func (c *Counter) Bind(labels Labels) (*CounterSeries, error) { return c.f.bindMap(labels) }

// BindValues is [Counter.WithValues] that returns the error for values that do
// not fit, instead of counting them.
func (c *Counter) BindValues(values ...string) (*CounterSeries, error) {
	return c.f.bindValues(values)
}

// Get returns the value of the series with these labels, and false when
// that series does not exist.
func (c *Counter) Get(labels Labels) (float64, bool) {
	if s := c.f.find(labels); s != nil {
		return s.Value(), true
	}
	return 0, false
}

// All iterates over the series in creation order: each one's labels
// (constant labels left out) and value.
func (c *Counter) All() iter.Seq2[Labels, float64] { return all(&c.f, (*CounterSeries).Value) }

// Delete removes the series with these labels; it reports whether it
// existed. A bound [*CounterSeries] for it keeps working but is no longer
// exposed.
func (c *Counter) Delete(labels Labels) bool { return c.f.deleteMap(labels) }

// DeleteValues is [Counter.Delete] by positional label values.
func (c *Counter) DeleteValues(values ...string) bool { return c.f.deleteValues(values) }

// Reset removes every series.
func (c *Counter) Reset() { c.f.reset() }

// Name returns the metric name.
func (c *Counter) Name() string { return c.f.name }

// Help returns the metric's help text.
func (c *Counter) Help() string { return c.f.help }

// LabelNames returns the label names declared with [WithLabelNames], in
// order, or nil when the metric takes any label set.
func (c *Counter) LabelNames() []string { return c.f.labelNames() }

// ConstLabels returns the metric's constant labels.
func (c *Counter) ConstLabels() Labels { return c.f.constLabels() }

// Describe returns the metric name first, then the other names the counter
// takes in some format: for a counter n, n_total and n_created (OpenMetrics'
// samples); for n_total, n and n_created. It implements [Collector].
func (c *Counter) Describe() []string { return c.f.describe() }

// Collect writes the family to w; it implements [Collector]. A registry
// scrapes a registered metric without it. A collector may call it to
// delegate to metrics it owns (left unregistered, [WithRegistry](nil)):
// the registry then exposes them as it would registered ones, unit,
// exemplars and created times included, and counts their refused updates
// and expired series in its own counters.
func (c *Counter) Collect(ctx context.Context, w *MetricWriter) error { return collectVia(ctx, c, w) }

func (c *Counter) encode(enc expo.Encoder) {
	c.f.start(enc)
	for _, s := range c.f.snapshot() {
		enc.Counter(&s.labels, s.Value(), s.created, s.aux.Load().exemplar)
	}
}

func (c *Counter) meta() *familyMeta { return &c.f.familyMeta }
