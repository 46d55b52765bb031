package prom

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"
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

// summaryBufferSize is how many observations a series buffers before it
// merges them into its quantile streams.
const summaryBufferSize = 500

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
	quantiles  []float64
	qtexts     []string // rendered quantile pairs
	qtextsOM   []string // the same in OpenMetrics' canonical form
	maxAge     time.Duration
	ageBuckets int
	now        func() time.Time // time.Now; tests replace it
}

// SummarySeries is one series of a [Summary], bound to its labels. Observe
// appends to a buffer under a short lock and does not allocate. It is safe
// for concurrent use.
type SummarySeries struct {
	seriesHeader
	cfg *summaryConfig

	mu      sync.Mutex
	buf     []float64
	streams []*quantile.Stream // a ring; head is the oldest
	head    int
	expires time.Time // when the head stream expires
	count   uint64
	sum     float64
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
	err := s.f.init(o, expo.Summary, "quantile", func() *SummarySeries {
		ss := &SummarySeries{cfg: &s.cfg}
		if len(s.cfg.objectives) > 0 {
			ss.streams = make([]*quantile.Stream, s.cfg.ageBuckets)
			for i := range ss.streams {
				ss.streams[i] = quantile.New(s.cfg.objectives)
			}
		}
		ss.expires = s.cfg.now().Add(s.cfg.maxAge / time.Duration(s.cfg.ageBuckets))
		return ss
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
	s.mu.Lock()
	s.count++
	s.sum += v
	if s.streams != nil {
		if s.buf == nil {
			s.buf = make([]float64, 0, summaryBufferSize)
		}
		s.buf = append(s.buf, v)
		if len(s.buf) == cap(s.buf) {
			s.flush(s.cfg.now())
		}
	}
	s.mu.Unlock()
}

// flush expires old age buckets and merges the buffer into every stream;
// s.mu is held.
func (s *SummarySeries) flush(now time.Time) {
	s.rotate(now)
	if len(s.buf) == 0 {
		return
	}
	slices.Sort(s.buf)
	for _, st := range s.streams {
		st.InsertSorted(s.buf)
	}
	s.buf = s.buf[:0]
}

// rotate resets each stream whose age bucket has expired; s.mu is held.
func (s *SummarySeries) rotate(now time.Time) {
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
	if s.streams != nil {
		s.flush(s.cfg.now())
		head := s.streams[s.head]
		for i, q := range s.cfg.quantiles {
			vals[i] = head.Query(q)
		}
	}
	return s.count, s.sum
}

func (m *Summary) unlabelled() *SummarySeries {
	s, _ := m.f.unlabelled()
	return s
}

// Observe adds an observation to the unlabelled series.
func (m *Summary) Observe(v float64) { m.unlabelled().Observe(v) }

// With returns the series for a label set; see [Counter.With].
func (m *Summary) With(labels Labels) *SummarySeries {
	s, _ := m.f.withMap(labels)
	return s
}

// WithValues returns the series for positional label values; see
// [Counter.WithValues].
func (m *Summary) WithValues(values ...string) *SummarySeries {
	s, _ := m.f.withValues(values)
	return s
}

// Bind is [Summary.With] that reports labels that do not fit the metric.
func (m *Summary) Bind(labels Labels) (*SummarySeries, error) { return m.f.withMap(labels) }

// BindValues is [Summary.WithValues] that reports values that do not fit.
func (m *Summary) BindValues(values ...string) (*SummarySeries, error) {
	return m.f.withValues(values)
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

// Describe returns the names the summary produces; it implements
// [Collector].
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
