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
//
// An Epsilon of 0 asks for the exact quantile: the summary then keeps every
// distinct value observed in its window (WithMaxAge), so its memory grows
// with the observations of the window.
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

// maxSummaryParts bounds the parts of a summary series: P p merges into part
// p%maxSummaryParts. Ps merge in parallel up to that many, and a read,
// which merges every part's streams, costs at most that many merges per
// age bucket, however many Ps the machine has (about 1.5µs each).
const maxSummaryParts = 8

// bucketEpsilonDivisor divides each objective's error for the streams of
// the age buckets. A query merges the live buckets of every P's part
// (quantile.Stream.Merge), and the merged rank uncertainty at the target is
// at most about the sum over the merged streams of
// 2ε'·max(r_b/(q−ε'), (n_b−r_b)/(1−q+ε')), where r_b of each stream's n_b
// values lie below the target. Because the r_b add up
// to about q·n, that sum stays near 2ε'·n·(1 + ε/(q−ε')) however the
// values are spread over the streams (over time and over Ps alike), which
// ε' = ε/3 keeps within the window 2ε·n that the objective allows
// (TestSummaryMergedWindowBound checks it on adversarial contents).
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
	// query is the stream into which reads merge the parts' streams,
	// shared by the family's series (so that none keeps room for the
	// merge of all its parts) under queryMu; nil without objectives.
	queryMu sync.Mutex
	query   *quantile.Stream
}

func (c *summaryConfig) hasObjectives() bool { return len(c.objectives) > 0 }

// minAgeBucket is the shortest age bucket a summary's window may have.
const minAgeBucket = time.Millisecond

// minShardedAgeBucket is the shortest age bucket whose summaries observe
// through per-P shards. Their batches are placed by summaryClock, which
// ticks every minClockPeriod at most, and a batch should span no more than
// an eighth of a bucket. A summary with shorter buckets has no shards: each
// observation takes the spill's lock and reads the clock, so it is placed
// exactly, at the cost of a lock per observation.
const minShardedAgeBucket = 8 * minClockPeriod

// SummarySeries is one series of a [Summary], bound to its labels. It is
// safe for concurrent use.
//
// Observe does not allocate, and usually takes no lock and one atomic
// store: it writes the value into the shard of the P (processor) it runs
// on, pinned to that P so that no other observer writes the shard
// meanwhile, and publishes it by storing the shard's new position. The observer that
// fills a shard merges it into its P's part of the series: it takes the
// part's lock, counts and sums the values, sorts them in place and inserts
// them into the part's stream of their age bucket. Each P has its own part
// (up to maxSummaryParts, which Ps beyond share), so Ps merge in parallel,
// and the other Ps keep observing meanwhile. A read merges every shard's
// published values into its part and then every part's streams of the
// window into one, so it sees every observation that completed before it
// began. A P's shard is made on its first observation of the series, with
// room for 64 values (about 0.6 KiB), and grows to 512 (about 4 KiB) if
// that P observes the series often (see summaryShardGrowWithin).
//
// Observe reads no clock either, yet each observation counts in the age
// bucket of when it was made, however long it waits in its shard: a
// shard's values form a batch made within one generation of a coarse
// clock (summaryClock: a timer that ticks, while summaries observe, every
// eighth of the shortest age bucket of any summary, but no more often than
// every 10ms and at least every second), and an observer that finds the
// generation moved on merges the batch into the bucket of its start before
// it writes. Summaries whose age buckets are shorter than 80ms have no
// shards (see minShardedAgeBucket).
//
// Age buckets are numbered by epoch, the number of whole bucket lengths
// between the series' creation and the time of their observations; the
// window at time t is the ageBuckets epochs that end with t's. A part keeps
// one stream per epoch in a ring of ageBuckets slots, and reuses the slot
// of an epoch that has left the window, so no timer or rotation is needed.
type SummarySeries struct {
	step time.Duration // an age bucket's length, cfg.maxAge/cfg.ageBuckets; first for headerOffset
	seriesHeader
	cfg   *summaryConfig
	start time.Time // epoch 0 begins here

	// shards has one entry per P (GOMAXPROCS when the series was made),
	// allocated by the P's first observation. An observer running on a
	// P beyond it (GOMAXPROCS grew) takes spill's lock and appends to it.
	shards []atomic.Pointer[summaryShard]
	parts  []atomic.Pointer[summaryPart] // shard p's part is parts[p%len(parts)]; made with it
	spill  summarySpill
}

// summaryPart is the merged state of the observations of some Ps (P p's
// go to part p%maxSummaryParts), or of the spill: their count and sum over
// all time and one quantile stream per age bucket of the window.
// Everything is under mu.
type summaryPart struct {
	mu      sync.Mutex
	count   uint64
	sum     float64
	buckets []ageBucket // a ring of ageBuckets slots, an epoch in slot epoch%ageBuckets; nil without objectives
	latest  int64       // the latest epoch inserted: it has begun
}

// summaryWorkspaces are the rooms in which the parts' streams merge a
// batch, so that each stream keeps room for its samples only, not for a
// batch as well (about 15 KiB with 512-value batches): one for each P (by
// its id modulo their number), shared by every summary. A merger takes its
// P's, under the workspace's lock, which it takes under a part's lock and
// no other; a goroutine moved to another P meanwhile at worst waits for
// that P's merger.
var summaryWorkspaces [64]struct {
	mu sync.Mutex
	ws quantile.Workspace
	_  [64 - 8 - 24]byte // one cache line each
}

// ageBucket is one slot of a part's ring: the stream of the observations
// of one epoch.
type ageBucket struct {
	epoch int64
	st    *quantile.Stream // nil until the slot is first used
}

// summarySpill takes the observations of Ps beyond the shards: they wait
// in vals, all made in the epoch of at, until it fills or the epoch
// changes or a read comes.
type summarySpill struct {
	summaryPart
	vals []float64 // mu
	at   time.Time // when the first of vals was made; mu
}

// summaryShard holds one P's observations until they are merged. Only
// observers pinned to that P write pos, and ring's free slots; only the
// merger, under part's mu, writes consumed, and it sorts the published
// slots in place before it frees them. Position p uses slot p%len(ring);
// positions in [consumed, pos) are published and not yet merged, and an observer may
// write position pos only while pos−consumed < len(ring).
//
// Observers write a slot with a plain store and then store pos: the merger
// loads pos before reading the slots below it, so it sees them (the
// atomic store and load order them, for the race detector too). It frees
// slots by storing consumed after reading (and sorting) them, and the
// observer loads consumed before reusing one. Two observers on one P run
// one after the other, each pinned from its load of the shard to its
// store of pos; so a goroutine running on the P, not pinned, may replace
// the P's shard (growShard) knowing that nobody is writing it. The new
// shard keeps the P's part.
//
// The shard's values belong to one batch: made at or after batchAt, and
// while summaryClock's generation was gen. An observer that finds the
// clock at another generation does not write; it takes the slow path,
// which merges the shard's values into the age bucket of batchAt and
// starts a new batch. So a value is merged into the age bucket of the time
// it was made, give or take the clock's period, however long it waits in
// the shard.
//
// A shard is padded to 128 bytes, a size class whose objects never share
// a cache line: the shards of two Ps, made one after the other, would
// otherwise often share one, and every observation writes pos.
type summaryShard struct {
	pos      atomic.Uint64
	consumed atomic.Uint64
	gen      atomic.Uint32 // summaryClock's generation of the batch
	ring     []float64     // a power of two long
	part     *summaryPart  // the P's merged observations
	merged   time.Time     // when it was made or last merged full; part's mu
	batchAt  time.Time     // when the batch started; part's mu
	_        [128 - 8 - 8 - 8 - 24 - 8 - 24 - 24]byte
}

func newSummaryShard(size int, now time.Time, gen uint32, part *summaryPart) *summaryShard {
	sh := &summaryShard{ring: make([]float64, size), part: part, merged: now, batchAt: now}
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
		s.cfg.qtexts = append(s.cfg.qtexts, string(expo.AppendLabelPair(nil, "quantile", string(expo.AppendLabelFloat(nil, ob.Quantile)))))
		s.cfg.qtextsOM = append(s.cfg.qtextsOM, string(expo.AppendLabelPair(nil, "quantile", string(expo.AppendCanonicalFloat(nil, ob.Quantile)))))
	}
	if o.windowSet {
		if o.maxAge <= 0 || o.ageBuckets < 1 {
			return nil, fmt.Errorf("prom: summary %q: the window needs a positive max age and at least one age bucket, got %v and %d", name, o.maxAge, o.ageBuckets)
		}
		if o.maxAge/time.Duration(o.ageBuckets) < minAgeBucket {
			return nil, fmt.Errorf("prom: summary %q: a window of %v in %d age buckets makes buckets shorter than %v", name, o.maxAge, o.ageBuckets, minAgeBucket)
		}
		s.cfg.maxAge, s.cfg.ageBuckets = o.maxAge, o.ageBuckets
	}
	step := s.cfg.maxAge / time.Duration(s.cfg.ageBuckets)
	// Without objectives the window does not matter, and shards are
	// merged by count and sum only.
	sharded := !s.cfg.hasObjectives() || step >= minShardedAgeBucket
	if s.cfg.hasObjectives() {
		s.cfg.query = quantile.New(s.cfg.bucketObjectives)
	}
	err := s.f.init(o, expo.Summary, "quantile", func(ss *SummarySeries) {
		ss.cfg, ss.step, ss.start = &s.cfg, step, s.cfg.now()
		if sharded {
			ss.shards = make([]atomic.Pointer[summaryShard], runtime.GOMAXPROCS(0))
		}
		ss.parts = make([]atomic.Pointer[summaryPart], min(len(ss.shards), maxSummaryParts))
		if s.cfg.hasObjectives() {
			ss.spill.buckets = make([]ageBucket, s.cfg.ageBuckets)
		}
	})
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
	sh.part.mu.Lock()
	defer sh.part.mu.Unlock()
	now := s.cfg.now()
	s.drainShard(sh, s.epoch(now))
	if len(sh.ring) < summaryShardMax && now.Sub(sh.merged) < summaryShardGrowWithin {
		s.growShard(p, sh, now)
	}
	sh.merged = now
}

// growShard replaces sh, the shard of P p, by a larger one, if the caller
// runs on P p: then no observer is between its load of the shard and its
// store of pos (they pin P p while there), and the ones after the swap
// load the new shard. Otherwise it leaves sh, to grow at a later merge.
// sh.part.mu is held.
func (s *SummarySeries) growShard(p int, sh *summaryShard, now time.Time) {
	big := newSummaryShard(summaryShardMax, now, sh.gen.Load(), sh.part)
	big.batchAt = sh.batchAt
	swapped := procPin() == p && s.shards[p].Load() == sh
	if swapped {
		s.shards[p].Store(big)
	}
	procUnpin()
	if swapped {
		s.drainShard(sh, s.epoch(now)) // what was written between the merge and the swap
	}
}

// observeSlow serves an observation that could not write P p's shard: it
// makes the shard; or merges it, when another observer on the P is still
// merging it full or the clock's generation has moved on, and then starts
// a new batch if it has; and reports false so that Observe tries again. For
// a P beyond the shards, it takes v into the spill and reports true.
func (s *SummarySeries) observeSlow(v float64, p int) bool {
	if p >= len(s.shards) {
		s.spillOne(v)
		return true
	}
	// The generation is loaded before the clock is touched; see touch.
	gen := summaryClock.gen.Load()
	if sh := s.shards[p].Load(); sh == nil {
		// Another goroutine, on P p before this one, may have made it.
		s.shards[p].CompareAndSwap(nil, newSummaryShard(summaryShardMin, s.cfg.now(), gen, s.partOf(p)))
	} else {
		part := sh.part
		part.mu.Lock()
		sh = s.shards[p].Load() // it may have grown meanwhile; not since: that takes mu
		now := s.cfg.now()
		s.drainShard(sh, s.epoch(now))
		if sh.gen.Load() != gen {
			sh.batchAt = now
			sh.gen.Store(gen)
		}
		part.mu.Unlock()
	}
	if s.cfg.hasObjectives() {
		// Batches span about a period: an eighth of an age bucket.
		summaryClock.touch(s.step / 8)
	}
	return false
}

// spillOne takes an observation from a P beyond the shards.
func (s *SummarySeries) spillOne(v float64) {
	sp := &s.spill
	sp.mu.Lock()
	defer sp.mu.Unlock()
	now := s.cfg.now()
	e := s.epoch(now)
	if sp.vals == nil {
		sp.vals = make([]float64, 0, summaryShardMax)
	}
	if len(sp.vals) > 0 && s.epoch(sp.at) != e {
		s.drainSpill(e)
	}
	if len(sp.vals) == 0 {
		sp.at = now
	}
	sp.vals = append(sp.vals, v)
	if len(sp.vals) == cap(sp.vals) {
		s.drainSpill(e)
	}
}

// drainShard merges the values that sh has published into its part, in
// the age bucket of the batch's start; now is the current epoch.
// sh.part.mu is held.
func (s *SummarySeries) drainShard(sh *summaryShard, now int64) {
	start, end := sh.consumed.Load(), sh.pos.Load()
	if start == end {
		return
	}
	// The values lie in at most two runs of the ring.
	mask := uint64(len(sh.ring) - 1)
	i, j := start&mask, end&mask
	e := s.epoch(sh.batchAt)
	if j <= i {
		sh.part.insert(sh.ring[i:], e, now, s.cfg)
		i = 0
	}
	sh.part.insert(sh.ring[i:j], e, now, s.cfg)
	sh.consumed.Store(end) // after insert has read and sorted the slots
}

// drainSpill merges the spilled observations; now is the current epoch.
// s.spill.mu is held.
func (s *SummarySeries) drainSpill(now int64) {
	sp := &s.spill
	sp.insert(sp.vals, s.epoch(sp.at), now, s.cfg)
	sp.vals = sp.vals[:0]
}

// epoch returns the number of the age bucket of the observations made at
// t: the whole bucket lengths between the series' creation and t.
func (s *SummarySeries) epoch(t time.Time) int64 {
	d := t.Sub(s.start)
	if d < 0 {
		return 0 // a clock that went back
	}
	return int64(d / s.step)
}

// insert counts and sums vs, made in epoch e, and inserts it into the
// stream of e, reordering it, unless e has left the window of the epoch
// now or the summary has no objectives. p.mu is held.
//
// The caller read its clock before it took the lock, so an epoch inserted
// meanwhile, or e itself, may be later than now: the window then ends with
// the latest of them, which has begun (see mergeWindow).
func (p *summaryPart) insert(vs []float64, e, now int64, cfg *summaryConfig) {
	if len(vs) == 0 {
		return
	}
	sum := p.sum
	for _, v := range vs {
		sum += v
	}
	p.sum = sum
	p.count += uint64(len(vs))
	if p.buckets == nil {
		return
	}
	p.latest = max(p.latest, e)
	if e <= max(now, p.latest)-int64(len(p.buckets)) {
		return
	}
	// The slot holds e, or nothing, or an epoch of at most latest−len:
	// one that has left the window.
	b := &p.buckets[e%int64(len(p.buckets))]
	if b.st == nil || b.epoch != e {
		if b.st == nil {
			b.st = quantile.New(cfg.bucketObjectives)
		} else {
			b.st.Reset()
		}
		b.epoch = e
	}
	id := procPin() // the P's workspace; it may move on, see summaryWorkspaces
	procUnpin()
	w := &summaryWorkspaces[id%len(summaryWorkspaces)]
	w.mu.Lock()
	b.st.InsertBatchIn(vs, &w.ws)
	w.mu.Unlock()
}

// partOf returns the part of P p's shard, making it if it is the first of
// its Ps to observe.
func (s *SummarySeries) partOf(p int) *summaryPart {
	slot := &s.parts[p%len(s.parts)]
	if part := slot.Load(); part != nil {
		return part
	}
	part := &summaryPart{}
	if s.cfg.hasObjectives() {
		part.buckets = make([]ageBucket, s.cfg.ageBuckets)
	}
	if !slot.CompareAndSwap(nil, part) {
		return slot.Load()
	}
	return part
}

// mergeWindow merges into q the part's streams of the window that ends
// with the epoch now, or with a later one that an observer inserted since
// the reader read its clock. p.mu is held.
//
// A stream whose epoch has left the window is reset here, as no window
// will hold it again, so that it keeps no memory while no new epoch
// reuses its slot (see Stream.Reset).
func (p *summaryPart) mergeWindow(q *quantile.Stream, now int64) {
	now = max(now, p.latest)
	for i := range p.buckets {
		b := &p.buckets[i]
		switch {
		case b.st == nil || b.st.Count() == 0 || b.epoch > now:
		case b.epoch <= now-int64(len(p.buckets)):
			b.st.Reset()
		default:
			q.Merge(b.st)
		}
	}
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

// read fills vals with the quantiles and returns count and sum. It merges
// every P's published observations, and the spill, into their parts and
// then the parts' streams of the window into one.
func (s *SummarySeries) read(vals []float64) (count uint64, sum float64) {
	now := s.epoch(s.cfg.now())
	q := s.cfg.query
	if q != nil {
		s.cfg.queryMu.Lock()
		defer s.cfg.queryMu.Unlock()
		q.Reset()
	}
	take := func(p *summaryPart) {
		count += p.count
		sum += p.sum
		if q != nil {
			p.mergeWindow(q, now)
		}
	}
	for i := range s.shards {
		if sh := s.shards[i].Load(); sh != nil {
			part := sh.part
			part.mu.Lock()
			s.drainShard(s.shards[i].Load(), now) // it may have grown before the lock
			part.mu.Unlock()
		}
	}
	for i := range s.parts {
		if part := s.parts[i].Load(); part != nil {
			part.mu.Lock()
			take(part)
			part.mu.Unlock()
		}
	}
	s.spill.mu.Lock()
	s.drainSpill(now)
	take(&s.spill.summaryPart)
	s.spill.mu.Unlock()
	if q != nil {
		for i, qq := range s.cfg.quantiles {
			vals[i] = q.Query(qq)
		}
	}
	return count, sum
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

// Help returns the metric's help text.
func (m *Summary) Help() string { return m.f.help }

// LabelNames returns the label names declared with [WithLabelNames], in
// order, or nil when the metric takes any label set.
func (m *Summary) LabelNames() []string { return m.f.labelNames() }

// ConstLabels returns the metric's constant labels.
func (m *Summary) ConstLabels() Labels { return m.f.constLabels() }

// Describe returns the names the summary produces, its name first, then
// its _count, _sum and _created names; it implements [Collector].
func (m *Summary) Describe() []string { return m.f.describe() }

// Collect writes the family to w; it implements [Collector]. A registry
// scrapes a registered metric without it. A collector may call it to
// delegate to metrics it owns (left unregistered, [WithRegistry](nil)):
// the registry then exposes them as it would registered ones, unit,
// exemplars and created times included, and counts their refused updates
// and expired series in its own counters.
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
