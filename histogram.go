package prom

import (
	"context"
	"fmt"
	"iter"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/promgo/prom/internal/expo"
)

// DefaultBuckets returns the default histogram buckets, for durations in
// seconds: .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5 and 10 (+Inf is
// implied).
func DefaultBuckets() []float64 {
	return []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
}

// LinearBuckets returns count bounds starting at start, width apart. It
// returns nil when count < 1 or width <= 0, which a histogram rejects.
func LinearBuckets(start, width float64, count int) []float64 {
	if count < 1 || !(width > 0) {
		return nil
	}
	b := make([]float64, count)
	for i := range b {
		b[i] = start + float64(i)*width
	}
	return b
}

// ExponentialBuckets returns count bounds starting at start, each factor
// times the one before. It returns nil when count < 1, start <= 0 or
// factor <= 1, which a histogram rejects.
func ExponentialBuckets(start, factor float64, count int) []float64 {
	if count < 1 || !(start > 0) || !(factor > 1) {
		return nil
	}
	b := make([]float64, count)
	for i := range b {
		b[i] = start * math.Pow(factor, float64(i))
	}
	return b
}

// Histogram is a family of histograms: observations counted in buckets,
// with their count and sum, for latencies and sizes. Series are chosen as
// for a [Counter]. A scrape always shows _count equal to the +Inf bucket:
// the count is the sum of the buckets read in that scrape.
//
// A Histogram is safe for concurrent use. Every read of a series (a scrape,
// Get, All, Value) is a consistent snapshot: its _count equals the +Inf
// bucket and its _sum is the sum of exactly the observations counted.
type Histogram struct {
	f     family[HistogramSeries, *HistogramSeries]
	index bucketIndex // holds the finite bounds, ascending
	les   []string    // rendered le pairs, one per bound
	lesOM []string    // the same in OpenMetrics' canonical form
}

// HistogramSeries is one series of a [Histogram], bound to its labels.
// Observe takes a short uncontended lock (as VictoriaMetrics does: cheaper
// than the three atomic operations a lock-free consistent snapshot needs)
// and does not allocate. Once an observation finds the lock taken by
// another observation (not by a read), the series moves the observations
// after it to shards, one per P (at most 8), each with
// its own lock, so that goroutines on different Ps stop contending. It is
// safe for concurrent use.
type HistogramSeries struct {
	sum float64 // under mu
	seriesHeader
	mu        sync.Mutex
	readLast  bool                                            // the latest to release mu was a read; under mu
	shards    atomic.Pointer[histogramShards]                 // made on the first contended observation
	counts    []uint64                                        // per bucket, not cumulative; +Inf last; under mu
	exemplars atomic.Pointer[[]atomic.Pointer[expo.Exemplar]] // one per bucket, made on first use
	h         *Histogram
}

// Bucket is one cumulative histogram bucket.
type Bucket struct {
	UpperBound float64 // +Inf for the last bucket
	Count      uint64  // observations <= UpperBound
}

// HistogramValue is a histogram's state at one moment.
type HistogramValue struct {
	Buckets []Bucket // cumulative, ascending, +Inf last
	Count   uint64
	Sum     float64
}

// NewHistogram creates a histogram family and registers it like
// [NewCounter]. Buckets come from [WithBuckets], or [DefaultBuckets]; the
// label name le is reserved.
func NewHistogram(name, help string, opts ...Option) (*Histogram, error) {
	o := buildOptions(name, help, opts)
	if err := o.check("histogram", true, false); err != nil {
		return nil, err
	}
	bounds := DefaultBuckets()
	if o.bucketsSet {
		var err error
		if bounds, err = checkBuckets(name, o.buckets); err != nil {
			return nil, err
		}
	}
	h := &Histogram{index: newBucketIndex(bounds), les: make([]string, len(bounds)), lesOM: make([]string, len(bounds))}
	for i, b := range bounds {
		h.les[i] = string(expo.AppendLabelPair(nil, "le", string(expo.AppendLabelFloat(nil, b))))
		h.lesOM[i] = string(expo.AppendLabelPair(nil, "le", string(expo.AppendCanonicalFloat(nil, b))))
	}
	err := h.f.init(o, expo.Histogram, "le", func(s *HistogramSeries) {
		s.counts, s.h = make([]uint64, len(bounds)+1), h
	})
	if err != nil {
		return nil, err
	}
	return register(o, h)
}

func checkBuckets(name string, bounds []float64) ([]float64, error) {
	if n := len(bounds); n > 0 && math.IsInf(bounds[n-1], 1) {
		bounds = bounds[:n-1]
	}
	if len(bounds) == 0 {
		return nil, fmt.Errorf("prom: histogram %q needs at least one finite bucket bound (LinearBuckets and ExponentialBuckets return none for invalid arguments)", name)
	}
	for i, b := range bounds {
		if math.IsNaN(b) || math.IsInf(b, 0) {
			return nil, fmt.Errorf("prom: histogram %q: bucket bound %v is not finite", name, b)
		}
		if i > 0 && b <= bounds[i-1] {
			return nil, fmt.Errorf("prom: histogram %q: bucket bounds must be sorted and distinct, got %v after %v", name, b, bounds[i-1])
		}
	}
	return slices.Clip(slices.Clone(bounds)), nil
}

// Observe adds one observation. A NaN is counted in the +Inf bucket and
// makes the sum NaN, as in client_golang (OpenMetrics output then leaves
// out the sum and count, which that format forbids to be NaN; see
// [FormatOpenMetrics]).
func (s *HistogramSeries) Observe(v float64) {
	// A value whose binade holds at most one bound (with the default
	// buckets, every positive value in their range) takes no call.
	x := &s.h.index
	var i int
	if k := math.Float64bits(v)>>52 - x.first; k < uint64(len(x.start)-1) && x.start[k+1]-x.start[k] <= 1 {
		if i = int(x.start[k]); i < len(x.bounds) && !(v <= x.bounds[i]) {
			i++
		}
	} else {
		i = x.search(v)
	}
	if sh := s.shards.Load(); sh != nil {
		sh.observe(i, v)
		return
	}
	if !s.mu.TryLock() {
		s.contended(i, v)
		return
	}
	s.counts[i]++
	s.sum += v
	s.mu.Unlock()
}

// contended is Observe for an observation that found the series' lock
// taken. Unless the series has its shards already, it waits for the lock
// and counts there; then, if the lock's latest holder was another
// observation rather than a read (a scrape meeting an observation is no
// reason to take the shards' memory), it gives the series its shards for
// the observations after it.
func (s *HistogramSeries) contended(i int, v float64) {
	if sh := s.shards.Load(); sh != nil {
		sh.observe(i, v)
		return
	}
	s.mu.Lock()
	s.counts[i]++
	s.sum += v
	read := s.readLast
	s.readLast = false
	s.mu.Unlock()
	if !read {
		s.shards.CompareAndSwap(nil, newHistogramShards(len(s.counts)))
	}
}

// maxHistogramShards caps a contended series' shards: at most this many
// Ps contend for one shard's lock only when GOMAXPROCS exceeds it.
const maxHistogramShards = 8

// histogramShards are a contended series' per-P counts and sums.
type histogramShards struct {
	shards []histogramShard
}

// histogramShard is one P's share of a contended series, on its own cache
// line (its counts on lines of their own).
type histogramShard struct {
	histogramShardData
	_ [(64 - unsafe.Sizeof(histogramShardData{})%64) % 64]byte
}

type histogramShardData struct {
	mu     sync.Mutex
	sum    float64  // under mu
	counts []uint64 // under mu
}

// newHistogramShards makes one shard per P (GOMAXPROCS rounded up to a
// power of two, at most maxHistogramShards) for n buckets. Every shard's
// counts start on a cache line of their own.
func newHistogramShards(n int) *histogramShards {
	k := perP(maxHistogramShards)
	const line = 64 / 8 // uint64s per cache line
	stride := (n + line - 1) / line * line
	words := make([]uint64, k*stride+line-1)
	skip := int(-uintptr(unsafe.Pointer(&words[0])) / 8 % line) // to the first line boundary
	sh := &histogramShards{shards: make([]histogramShard, k)}
	for i := range sh.shards {
		at := skip + i*stride
		sh.shards[i].counts = words[at : at+n : at+n]
	}
	return sh
}

// observe counts an observation in bucket i of the shard of the P the
// goroutine runs on.
func (sh *histogramShards) observe(i int, v float64) {
	p := procPin()
	procUnpin()
	d := &sh.shards[p&(len(sh.shards)-1)]
	d.mu.Lock()
	d.counts[i]++
	d.sum += v
	d.mu.Unlock()
}

// addTo adds every shard's counts into counts and returns the shards' sum,
// each shard read under its lock.
func (sh *histogramShards) addTo(counts []uint64) float64 {
	var sum float64
	for i := range sh.shards {
		d := &sh.shards[i]
		d.mu.Lock()
		for j, n := range d.counts {
			counts[j] += n
		}
		sum += d.sum
		d.mu.Unlock()
	}
	return sum
}

// ObserveWithExemplar adds an observation and records an exemplar for its
// bucket: labels such as a trace ID, at most [MaxExemplarRunes] characters
// in all, shown in OpenMetrics and protobuf output. It allocates; use it for
// sampled requests. An invalid exemplar is dropped (the observation still
// counts) and counted in prom_rejected_updates_total.
func (s *HistogramSeries) ObserveWithExemplar(v float64, exemplar Labels) {
	s.Observe(v)
	i := s.h.index.search(v) // the bucket Observe counted v in
	ex, err := newExemplar(s.h.f.name, exemplar, v)
	if err != nil {
		if s != s.h.f.discard { // its lookup counted the update already
			s.h.f.rejectedExemplars.Add(1)
		}
		return
	}
	exs := s.exemplars.Load()
	if exs == nil {
		fresh := make([]atomic.Pointer[expo.Exemplar], len(s.counts))
		if !s.exemplars.CompareAndSwap(nil, &fresh) {
			exs = s.exemplars.Load()
		} else {
			exs = &fresh
		}
	}
	(*exs)[i].Store(ex)
}

// Value returns the series' buckets, count and sum: a consistent snapshot.
func (s *HistogramSeries) Value() HistogramValue {
	counts := make([]uint64, len(s.counts))
	sum := s.h.read(s, counts)
	v := HistogramValue{Buckets: make([]Bucket, len(counts)), Sum: sum}
	for i, n := range counts {
		v.Count += n
		ub := math.Inf(1)
		if b := s.h.index.bounds; i < len(b) {
			ub = b[i]
		}
		v.Buckets[i] = Bucket{UpperBound: ub, Count: v.Count}
	}
	return v
}

// read copies s's per-bucket counts into counts and returns its sum: the
// series' own, then its shards', each under its lock, so that every
// observation is in both or in neither.
func (h *Histogram) read(s *HistogramSeries, counts []uint64) float64 {
	s.mu.Lock()
	copy(counts, s.counts)
	sum := s.sum
	s.readLast = true
	s.mu.Unlock()
	if sh := s.shards.Load(); sh != nil {
		sum += sh.addTo(counts)
	}
	return sum
}

func (h *Histogram) unlabelled() *HistogramSeries {
	if h.f.inlineState.Load() != inlineGone {
		return &h.f.inline
	}
	return h.f.slowPlain()
}

// Observe adds an observation to the unlabelled series.
func (h *Histogram) Observe(v float64) { h.unlabelled().Observe(v) }

// With returns the series for a label set; see [Counter.With].
func (h *Histogram) With(labels Labels) *HistogramSeries {
	return h.f.withMap(labels)
}

// WithValues returns the series for positional label values; see
// [Counter.WithValues].
func (h *Histogram) WithValues(values ...string) *HistogramSeries {
	return h.f.withValues(values)
}

// Bind is [Histogram.With] that returns the error for labels that do not fit
// the metric, instead of counting them in prom_rejected_updates_total.
func (h *Histogram) Bind(labels Labels) (*HistogramSeries, error) { return h.f.bindMap(labels) }

// BindValues is [Histogram.WithValues] that returns the error for values that do
// not fit, instead of counting them.
func (h *Histogram) BindValues(values ...string) (*HistogramSeries, error) {
	return h.f.bindValues(values)
}

// Get returns the state of the series with these labels, and false when
// that series does not exist.
func (h *Histogram) Get(labels Labels) (HistogramValue, bool) {
	if s := h.f.find(labels); s != nil {
		return s.Value(), true
	}
	return HistogramValue{}, false
}

// All iterates over the series in creation order with their states.
func (h *Histogram) All() iter.Seq2[Labels, HistogramValue] {
	return all(&h.f, (*HistogramSeries).Value)
}

// Buckets returns the finite bucket upper bounds.
func (h *Histogram) Buckets() []float64 { return slices.Clone(h.index.bounds) }

// Delete removes the series with these labels; it reports whether it
// existed.
func (h *Histogram) Delete(labels Labels) bool { return h.f.deleteMap(labels) }

// DeleteValues is [Histogram.Delete] by positional label values.
func (h *Histogram) DeleteValues(values ...string) bool { return h.f.deleteValues(values) }

// Reset removes every series.
func (h *Histogram) Reset() { h.f.reset() }

// Name returns the metric name.
func (h *Histogram) Name() string { return h.f.name }

// Help returns the metric's help text.
func (h *Histogram) Help() string { return h.f.help }

// LabelNames returns the label names declared with [WithLabelNames], in
// order, or nil when the metric takes any label set.
func (h *Histogram) LabelNames() []string { return h.f.labelNames() }

// ConstLabels returns the metric's constant labels.
func (h *Histogram) ConstLabels() Labels { return h.f.constLabels() }

// Describe returns the names the histogram produces, its name first, then
// its _bucket, _count, _sum and _created names; it implements [Collector].
func (h *Histogram) Describe() []string { return h.f.describe() }

// Collect writes the family to w; it implements [Collector]. A registry
// scrapes a registered metric without it. A collector may call it to
// delegate to metrics it owns (left unregistered, [WithRegistry](nil)):
// the registry then exposes them as it would registered ones, unit,
// exemplars and created times included, and counts their refused updates
// and expired series in its own counters.
func (h *Histogram) Collect(ctx context.Context, w *MetricWriter) error {
	return collectVia(ctx, h, w)
}

func (h *Histogram) encode(enc expo.Encoder) {
	h.f.start(enc)
	d := expo.HistogramData{Bounds: h.index.bounds, Les: h.les, LesOM: h.lesOM, Counts: make([]uint64, len(h.index.bounds)+1)}
	var exemplars []*expo.Exemplar
	for _, s := range h.f.snapshot() {
		d.Sum = h.read(s, d.Counts)
		d.Created = s.created
		d.Exemplars = nil
		if exs := s.exemplars.Load(); exs != nil {
			if exemplars == nil {
				exemplars = make([]*expo.Exemplar, len(d.Counts))
			}
			for i := range *exs {
				exemplars[i] = (*exs)[i].Load()
			}
			d.Exemplars = exemplars
		}
		enc.Histogram(&s.labels, &d)
	}
}

func (h *Histogram) meta() *familyMeta { return &h.f.familyMeta }
