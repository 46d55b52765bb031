package prom

import (
	"context"
	"fmt"
	"iter"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/promgo/prom/internal/expo"
	"github.com/promgo/prom/internal/quantile"
)

// Objective is one targeted quantile of a [Summary] with its allowed error:
// {0.99, 0.001} asks for a value whose rank lies between the 98.9th and the
// 99.1st percentile.
type Objective struct {
	Quantile float64 // in [0, 1]
	Epsilon  float64 // in [0, 1)
}

// DefaultObjectives returns the default summary objectives: 0.5±0.05,
// 0.9±0.01 and 0.99±0.001.
func DefaultObjectives() []Objective {
	return []Objective{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}}
}

// The default sliding window of a [Summary].
const (
	DefaultMaxAge     = 10 * time.Minute
	DefaultAgeBuckets = 5
)

// Observations go into a ring per P (a shard for each processor that
// observes the series), and are merged into the quantile streams when a
// shard fills or a read comes. A shard starts with summaryShardMin slots
// and grows to summaryShardMax when it fills within summaryShardGrowWithin
// of its previous merge: a P that observes often gets batches large enough
// to merge cheaply, one that observes now and then costs little memory.
const (
	summaryShardMin        = 64
	summaryShardMax        = 512
	summaryShardGrowWithin = time.Millisecond
)

// bucketEpsilonDivisor divides each objective's error for the streams of
// the age buckets. A query merges the live buckets (quantile.Stream.Merge),
// and the merged rank uncertainty at the target is at most about the sum
// over the buckets of 2ε'·max(r_b/(q−ε'), (n_b−r_b)/(1−q+ε')), where r_b
// of each bucket's n_b values lie below the target. Because the r_b add up
// to about q·n, that sum stays near 2ε'·n·(1 + ε/(q−ε')) however the
// values are spread over the buckets, which ε' = ε/3 keeps within the
// window 2ε·n that the objective allows (TestSummaryMergedWindowBound
// checks it on adversarial bucket contents).
const bucketEpsilonDivisor = 3

// Summary is a family of summaries: observations reduced to targeted
// quantiles (CKMS, with the error bounds of each [Objective]) over a
// sliding window, plus their count and sum over all time. Series are
// chosen as for a [Counter]; the label name quantile is reserved.
//
// A Summary is safe for concurrent use.
type Summary struct {
	f   family[SummarySeries, *SummarySeries]
	cfg summaryConfig
}

type summaryConfig struct {
	objectives []quantile.Objective // sorted by quantile
	// bucketObjectives are the objectives of each age bucket's stream:
	// tighter, so that their merge meets objectives.
	bucketObjectives []quantile.Objective
	quantiles        []float64
	qtexts           []string // rendered quantile pairs
	qtextsOM         []string // the same in OpenMetrics' canonical form
	maxAge           time.Duration
	ageBuckets       int
	now              func() time.Time // time.Now; tests replace it
}

// SummarySeries is one series of a [Summary], bound to its labels. It is
// safe for concurrent use.
//
// Observe does not lock, does not allocate and takes one atomic store: it
// writes the value into the shard of the P (processor) it runs on, pinned
// to that P so that no other observer writes the shard meanwhile, and
// publishes it by storing the shard's new position. The observer that
// fills a shard takes mu and merges it: it counts and sums the values,
// sorts them in place and inserts them into the stream of the current age
// bucket only. Other Ps keep observing into their own shards. A read takes
// mu and merges every shard's published values, so it sees every
// observation that completed before it began. A P's shard is made on its
// first observation of the series, with room for 64 values (about 0.6
// KiB), and grows to 512 (about 4 KiB) if that P observes the series
// often (see summaryShardGrowWithin).
//
// Observe reads no clock either, yet each observation counts in the age
// bucket of when it was made, however long it waits in its shard: a
// shard's values form a batch made within one generation of a coarse
// clock (summaryClock: a timer that ticks every eighth of an age bucket,
// between 10ms and 1s, while summaries observe, and stops when they do
// not), and an observer that finds the generation moved on merges the
// batch into the bucket of its start before it writes.
type SummarySeries struct {
	count uint64 // observations merged; mu
	seriesHeader
	cfg *summaryConfig

	// shards has one entry per P (GOMAXPROCS when the series was made),
	// allocated by the P's first observation. An observer running on a
	// P beyond it (GOMAXPROCS grew) takes mu and appends to spill.
	shards []atomic.Pointer[summaryShard]

	mu      sync.Mutex
	spill   []float64          // observations from Ps without a shard; mu
	spillAt time.Time          // when the first of them was made; mu
	streams []*quantile.Stream // age buckets, a ring; head is the oldest; mu
	head    int
	expires time.Time        // when the head bucket expires; mu
	merged  *quantile.Stream // scratch for queries; mu
	sum     float64          // their sum; mu
}

// summaryShard holds one P's observations until they are merged. Only
// observers pinned to that P write ring and pos; only the merger, under
// the series' mu, writes consumed. Position p uses slot p%len(ring);
// positions in [consumed, pos) are published and not yet merged, and an
// observer may write position pos only while pos−consumed < len(ring).
//
// Observers write a slot with a plain store and then store pos: the merger
// loads pos before reading the slots below it, so it sees them (the
// atomic store and load order them, for the race detector too). It frees
// slots by storing consumed after reading (and sorting) them, and the
// observer loads consumed before reusing one. Two observers on one P run
// one after the other, each pinned from its load of the shard to its
// store of pos; so a goroutine running on the P, not pinned, may replace
// the P's shard (growShard) knowing that nobody is writing it.
//
// The shard's values belong to one batch: made at or after batchAt, and
// while summaryClock's generation was gen. An observer that finds the
// clock at another generation does not write; it takes the slow path,
// which merges the shard's values into the age bucket of batchAt and
// starts a new batch. So a value is merged into the age bucket of the time
// it was made, give or take the clock's period, however long it waits in
// the shard.
type summaryShard struct {
	pos      atomic.Uint64
	consumed atomic.Uint64
	gen      atomic.Uint32 // summaryClock's generation of the batch
	ring     []float64     // a power of two long
	merged   time.Time     // when it was made or last merged full; the series' mu
	batchAt  time.Time     // when the batch started; the series' mu
}

func newSummaryShard(size int, now time.Time, gen uint32) *summaryShard {
	sh := &summaryShard{ring: make([]float64, size), merged: now, batchAt: now}
	sh.gen.Store(gen)
	return sh
}

// SummaryValue is a summary's state at one moment.
type SummaryValue struct {
	Quantiles []Quantile // ascending by quantile
	Count     uint64
	Sum       float64
}

// Quantile is one quantile's estimate.
type Quantile struct {
	Quantile float64
	Value    float64 // NaN when the window holds no observation
}

// NewSummary creates a summary family and registers it like [NewCounter].
// Objectives come from [WithObjectives] (none means count and sum only), or
// [DefaultObjectives]; the window from [WithMaxAge], or [DefaultMaxAge] in
// [DefaultAgeBuckets] buckets.
func NewSummary(name, help string, opts ...Option) (*Summary, error) {
	o := buildOptions(name, help, opts)
	if err := o.check("summary", false, true); err != nil {
		return nil, err
	}
	s := &Summary{cfg: summaryConfig{maxAge: DefaultMaxAge, ageBuckets: DefaultAgeBuckets, now: time.Now}}
	objectives := DefaultObjectives()
	if o.objectivesSet {
		objectives = slices.Clone(o.objectives)
	}
	slices.SortFunc(objectives, func(a, b Objective) int { return compareFloat(a.Quantile, b.Quantile) })
	for i, ob := range objectives {
		if !(ob.Quantile >= 0 && ob.Quantile <= 1) || !(ob.Epsilon >= 0 && ob.Epsilon < 1) {
			return nil, fmt.Errorf("prom: summary %q: objective {%v, %v} needs a quantile in [0, 1] and an error in [0, 1)", name, ob.Quantile, ob.Epsilon)
		}
		if i > 0 && ob.Quantile == objectives[i-1].Quantile {
			return nil, fmt.Errorf("prom: summary %q: quantile %v given twice", name, ob.Quantile)
		}
		s.cfg.objectives = append(s.cfg.objectives, quantile.Objective{Quantile: ob.Quantile, Epsilon: ob.Epsilon})
		be := ob.Epsilon
		if ob.Quantile-ob.Epsilon > 0 && ob.Quantile+ob.Epsilon < 1 {
			// An objective whose window reaches rank 0 or n is met by
			// the exact minimum or maximum, which merging keeps; the
			// others get the tighter per-bucket error.
			be /= bucketEpsilonDivisor
		}
		s.cfg.bucketObjectives = append(s.cfg.bucketObjectives, quantile.Objective{Quantile: ob.Quantile, Epsilon: be})
		s.cfg.quantiles = append(s.cfg.quantiles, ob.Quantile)
		s.cfg.qtexts = append(s.cfg.qtexts, string(expo.AppendLabelPair(nil, "quantile", string(expo.AppendFloat(nil, ob.Quantile)))))
		s.cfg.qtextsOM = append(s.cfg.qtextsOM, string(expo.AppendLabelPair(nil, "quantile", string(expo.AppendCanonicalFloat(nil, ob.Quantile)))))
	}
	if o.windowSet {
		if o.maxAge <= 0 || o.ageBuckets < 1 {
			return nil, fmt.Errorf("prom: summary %q: the window needs a positive max age and at least one age bucket, got %v and %d", name, o.maxAge, o.ageBuckets)
		}
		s.cfg.maxAge, s.cfg.ageBuckets = o.maxAge, o.ageBuckets
	}
	err := s.f.init(o, expo.Summary, "quantile", func(ss *SummarySeries) {
		ss.cfg = &s.cfg
		ss.shards = make([]atomic.Pointer[summaryShard], runtime.GOMAXPROCS(0))
		if len(s.cfg.objectives) > 0 {
			ss.streams = make([]*quantile.Stream, s.cfg.ageBuckets)
			for i := range ss.streams {
				ss.streams[i] = quantile.New(s.cfg.bucketObjectives)
			}
			ss.merged = quantile.New(s.cfg.bucketObjectives)
		}
		ss.expires = s.cfg.now().Add(s.cfg.maxAge / time.Duration(s.cfg.ageBuckets))
	})
	if len(s.cfg.objectives) > 0 {
		// Batches span about a period: an eighth of an age bucket.
		summaryClock.need(s.cfg.maxAge / time.Duration(s.cfg.ageBuckets) / 8)
	}
	if err != nil {
		return nil, err
	}
	return register(o, s)
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Observe adds one observation.
func (s *SummarySeries) Observe(v float64) {
	for {
		p := procPin()
		if p < len(s.shards) {
			if sh := s.shards[p].Load(); sh != nil && sh.gen.Load() == summaryClock.gen.Load() {
				n, c := sh.pos.Load(), sh.consumed.Load()
				if size := uint64(len(sh.ring)); n-c < size {
					sh.ring[n&(size-1)] = v
					sh.pos.Store(n + 1)
					procUnpin()
					if n+1-c == size {
						s.mergeShard(p, sh)
					}
					return
				}
			}
		}
		procUnpin()
		if s.observeSlow(v, p) {
			return
		}
	}
}

// mergeShard merges the shard of P p, which its observer filled, and
// grows it if it filled soon after its previous merge.
func (s *SummarySeries) mergeShard(p int, sh *summaryShard) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.now()
	s.rotate(now)
	s.drainShard(sh)
	if len(sh.ring) < summaryShardMax && now.Sub(sh.merged) < summaryShardGrowWithin {
		s.growShard(p, sh, now)
	}
	sh.merged = now
}

// growShard replaces sh, the shard of P p, by a larger one, if the caller
// runs on P p: then no observer is between its load of the shard and its
// store of pos (they pin P p while there), and the ones after the swap
// load the new shard. Otherwise it leaves sh, to grow at a later merge.
// s.mu is held.
func (s *SummarySeries) growShard(p int, sh *summaryShard, now time.Time) {
	big := newSummaryShard(summaryShardMax, now, sh.gen.Load())
	big.batchAt = sh.batchAt
	swapped := procPin() == p && s.shards[p].Load() == sh
	if swapped {
		s.shards[p].Store(big)
	}
	procUnpin()
	if swapped {
		s.drainShard(sh) // what was written between the merge and the swap
	}
}

// observeSlow serves an observation that could not write P p's shard: it
// makes the shard; or merges it, when another observer on the P is still
// merging it full or the clock's generation has moved on, and then starts
// a new batch if it has; and reports false so that Observe tries again. For
// a P beyond the shards, it takes v and reports true.
func (s *SummarySeries) observeSlow(v float64, p int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.now()
	s.rotate(now)
	if p < len(s.shards) {
		// The generation is loaded before the clock is touched; see touch.
		gen := summaryClock.gen.Load()
		if sh := s.shards[p].Load(); sh == nil {
			s.shards[p].Store(newSummaryShard(summaryShardMin, now, gen))
		} else {
			s.drainShard(sh)
			if sh.gen.Load() != gen {
				sh.batchAt = now
				sh.gen.Store(gen)
			}
		}
		if s.streams != nil {
			summaryClock.touch()
		}
		return false
	}
	if s.spill == nil {
		s.spill = make([]float64, 0, summaryShardMax)
	}
	if len(s.spill) > 0 && s.streamAt(s.spillAt) != s.streamAt(now) {
		s.drainSpill()
	}
	if len(s.spill) == 0 {
		s.spillAt = now
	}
	s.spill = append(s.spill, v)
	if len(s.spill) == cap(s.spill) {
		s.drainSpill()
	}
	return true
}

// drainShard merges the values that sh has published. s.mu is held, and
// rotate has run.
func (s *SummarySeries) drainShard(sh *summaryShard) {
	start, end := sh.consumed.Load(), sh.pos.Load()
	if start == end {
		return
	}
	// The values lie in at most two runs of the ring.
	mask := uint64(len(sh.ring) - 1)
	i, j := start&mask, end&mask
	st := s.streamAt(sh.batchAt)
	if j <= i {
		s.insert(sh.ring[i:], st)
		i = 0
	}
	s.insert(sh.ring[i:j], st)
	sh.consumed.Store(end) // after insert has read and sorted the slots
}

// drainSpill merges the spilled observations. s.mu is held, and rotate
// has run.
func (s *SummarySeries) drainSpill() {
	s.insert(s.spill, s.streamAt(s.spillAt))
	s.spill = s.spill[:0]
}

// streamAt returns the stream of the age bucket that holds the
// observations made at t, or nil when they have left the window (or the
// summary has no objectives). s.mu is held, and rotate has run, so the
// current bucket covers the step before s.expires.
func (s *SummarySeries) streamAt(t time.Time) *quantile.Stream {
	if s.streams == nil {
		return nil
	}
	step := s.cfg.maxAge / time.Duration(s.cfg.ageBuckets)
	k := 0 // buckets before the current one
	if age := s.expires.Sub(t); age > step {
		k = int(min((age-1)/step, time.Duration(len(s.streams))))
	}
	if k >= len(s.streams) {
		return nil
	}
	return s.streams[(s.head+len(s.streams)-1-k)%len(s.streams)]
}

// insert counts and sums vs and inserts it into st, reordering it, unless
// st is nil. s.mu is held.
func (s *SummarySeries) insert(vs []float64, st *quantile.Stream) {
	if len(vs) == 0 {
		return
	}
	sum := s.sum
	for _, v := range vs {
		sum += v
	}
	s.sum = sum
	s.count += uint64(len(vs))
	if st != nil {
		st.InsertBatch(vs)
	}
}

// rotate resets each age bucket that has expired; the bucket before head
// is the current one. s.mu is held.
func (s *SummarySeries) rotate(now time.Time) {
	if s.streams == nil {
		return
	}
	step := s.cfg.maxAge / time.Duration(s.cfg.ageBuckets)
	for i := 0; !now.Before(s.expires); i++ {
		if i == len(s.streams) {
			// Everything expired: start afresh instead of stepping
			// through every missed bucket.
			s.expires = now.Add(step)
			break
		}
		s.streams[s.head].Reset()
		s.head = (s.head + 1) % len(s.streams)
		s.expires = s.expires.Add(step)
	}
}

// flush merges every observation that completed before it was called.
// s.mu is held.
func (s *SummarySeries) flush() {
	s.rotate(s.cfg.now())
	for i := range s.shards {
		if sh := s.shards[i].Load(); sh != nil {
			s.drainShard(sh)
		}
	}
	s.drainSpill()
}

// Value returns the series' quantiles over the window, count and sum.
func (s *SummarySeries) Value() SummaryValue {
	v := SummaryValue{Quantiles: make([]Quantile, len(s.cfg.quantiles))}
	vals := make([]float64, len(s.cfg.quantiles))
	v.Count, v.Sum = s.read(vals)
	for i, q := range s.cfg.quantiles {
		v.Quantiles[i] = Quantile{Quantile: q, Value: vals[i]}
	}
	return v
}

// read fills vals with the quantiles and returns count and sum.
func (s *SummarySeries) read(vals []float64) (uint64, float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flush()
	if s.streams != nil {
		// The window is the union of the age buckets.
		q := s.merged
		q.Reset()
		for _, st := range s.streams {
			if st.Count() > 0 {
				q.Merge(st)
			}
		}
		for i, qq := range s.cfg.quantiles {
			vals[i] = q.Query(qq)
		}
	}
	return s.count, s.sum
}

func (m *Summary) unlabelled() *SummarySeries {
	if m.f.inlineState.Load() != inlineGone {
		return &m.f.inline
	}
	return m.f.slowPlain()
}

// Observe adds an observation to the unlabelled series.
func (m *Summary) Observe(v float64) { m.unlabelled().Observe(v) }

// With returns the series for a label set; see [Counter.With].
func (m *Summary) With(labels Labels) *SummarySeries {
	return m.f.withMap(labels)
}

// WithValues returns the series for positional label values; see
// [Counter.WithValues].
func (m *Summary) WithValues(values ...string) *SummarySeries {
	return m.f.withValues(values)
}

// Bind is [Summary.With] that returns the error for labels that do not fit
// the metric, instead of counting them in prom_rejected_updates_total.
func (m *Summary) Bind(labels Labels) (*SummarySeries, error) { return m.f.bindMap(labels) }

// BindValues is [Summary.WithValues] that returns the error for values that do
// not fit, instead of counting them.
func (m *Summary) BindValues(values ...string) (*SummarySeries, error) {
	return m.f.bindValues(values)
}

// Get returns the state of the series with these labels, and false when
// that series does not exist.
func (m *Summary) Get(labels Labels) (SummaryValue, bool) {
	if s := m.f.find(labels); s != nil {
		return s.Value(), true
	}
	return SummaryValue{}, false
}

// All iterates over the series in creation order with their states.
func (m *Summary) All() iter.Seq2[Labels, SummaryValue] { return all(&m.f, (*SummarySeries).Value) }

// Delete removes the series with these labels; it reports whether it
// existed.
func (m *Summary) Delete(labels Labels) bool { return m.f.deleteMap(labels) }

// DeleteValues is [Summary.Delete] by positional label values.
func (m *Summary) DeleteValues(values ...string) bool { return m.f.deleteValues(values) }

// Reset removes every series.
func (m *Summary) Reset() { m.f.reset() }

// Name returns the metric name.
func (m *Summary) Name() string { return m.f.name }

// LabelNames returns the label names declared with [WithLabelNames], in
// order, or nil when the metric takes any label set.
func (m *Summary) LabelNames() []string { return m.f.labelNames() }

// ConstLabels returns the metric's constant labels.
func (m *Summary) ConstLabels() Labels { return m.f.constLabels() }

// Describe returns the names the summary produces, its name first, then
// its _count, _sum and _created names; it implements [Collector].
func (m *Summary) Describe() []string { return m.f.describe() }

// Collect writes the family to w; it implements [Collector].
func (m *Summary) Collect(ctx context.Context, w *MetricWriter) error {
	return collectVia(ctx, m, w)
}

func (m *Summary) encode(enc expo.Encoder) {
	m.f.start(enc)
	d := expo.SummaryData{Quantiles: m.cfg.quantiles, QTexts: m.cfg.qtexts, QTextsOM: m.cfg.qtextsOM, Values: make([]float64, len(m.cfg.quantiles))}
	for _, s := range m.f.snapshot() {
		d.Count, d.Sum = s.read(d.Values)
		d.Created = s.created
		enc.Summary(&s.labels, &d)
	}
}

func (m *Summary) meta() *familyMeta { return &m.f.familyMeta }
