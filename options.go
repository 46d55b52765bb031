package prom

import (
	"fmt"
	"strings"
	"time"
)

// Option configures a metric at construction. Options that do not apply to
// a metric type (buckets on a counter, say) make the constructor fail.
type Option func(*options)

type options struct {
	name, help, unit string
	labelNames       []string
	constLabels      Labels
	registry         *Registry
	registrySet      bool

	maxSeries    int
	maxSeriesSet bool
	idleExpiry   time.Duration
	expirySet    bool

	buckets    []float64
	bucketsSet bool

	objectives    []Objective
	objectivesSet bool
	maxAge        time.Duration
	ageBuckets    int
	windowSet     bool
}

// WithLabelNames declares the metric's label names. Every series then has
// exactly these labels, positional values ([Counter.WithValues]) become
// available, and a label map with other names is rejected. Without it a
// metric takes any valid label set.
func WithLabelNames(names ...string) Option {
	return func(o *options) { o.labelNames = append([]string{}, names...) }
}

// WithConstLabels adds labels with fixed values to every series of the
// metric. A series' own labels cannot name one of them (aioprometheus lets
// the call's value win; prom keeps the constant): such labels do not fit
// the metric, so With counts the update as refused and Bind returns the
// error.
func WithConstLabels(l Labels) Option {
	return func(o *options) { o.constLabels = cloneLabels(l) }
}

// WithRegistry registers the metric in r instead of [Default]. A nil r
// leaves the metric unregistered; [Registry.Register] adds it later.
func WithRegistry(r *Registry) Option {
	return func(o *options) { o.registry, o.registrySet = r, true }
}

// WithMaxSeries bounds how many series the metric holds. Past n, a label
// set never seen before does not make a new series: its updates go to one
// overflow series, labelled [OverflowLabel]="true", and are counted in the
// registry's prom_rejected_updates_total (reason series_limit), so memory
// stays bounded and nothing is lost silently. Deleting series makes room
// again. The unlabelled series (which Inc, Set or Observe on the metric
// itself update) is made even past n, as the limit bounds label sets and
// it has none; it counts among the n. A negative n means no limit, even where the registry sets a
// default ([Registry.SetMaxSeries]); 0 means the registry's default.
func WithMaxSeries(n int) Option {
	return func(o *options) { o.maxSeries, o.maxSeriesSet = n, true }
}

// WithIdleExpiry removes a labelled series once no lookup (With,
// WithValues, Bind, BindValues) has asked for it for d: for label sets that
// come and go, such as per-client or per-job series, so that memory and the
// exposition hold only the live ones. A series goes between d and 1.25·d
// after its last lookup, at the first scrape, new series or lookup of it
// from then on; a lookup after that starts it afresh from zero. Removals are counted in the registry's
// prom_expired_series_total. The unlabelled series and the overflow series
// never expire. Lookups of an expiring metric read the clock, which adds
// about 20ns to each.
//
// Updates do not count as lookups (that would cost every update): call With
// each time rather than keeping a series of an expiring metric; a kept
// series that expires is detached and its later updates are not exposed.
// d must be positive.
func WithIdleExpiry(d time.Duration) Option {
	return func(o *options) { o.idleExpiry, o.expirySet = d, true }
}

// WithUnit sets the metric's unit (for example "seconds"), shown in
// OpenMetrics output. As OpenMetrics requires, the name must end with _
// and the unit (before _total, for a counter): the constructor fails
// otherwise.
func WithUnit(unit string) Option {
	return func(o *options) { o.unit = unit }
}

// WithBuckets sets a [Histogram]'s bucket upper bounds: sorted, finite and
// at least one; +Inf is implied (a last bound of +Inf is taken as that
// implied bucket, as client_golang does). See [LinearBuckets] and
// [ExponentialBuckets].
func WithBuckets(bounds ...float64) Option {
	return func(o *options) { o.buckets, o.bucketsSet = append([]float64{}, bounds...), true }
}

// WithObjectives sets a [Summary]'s targeted quantiles.
func WithObjectives(objectives ...Objective) Option {
	return func(o *options) { o.objectives, o.objectivesSet = append([]Objective{}, objectives...), true }
}

// WithMaxAge sets a [Summary]'s sliding window: quantiles cover the
// observations of the last maxAge, kept in ageBuckets buckets that expire
// one at a time, so an observation stays in the quantiles for between
// maxAge·(1−1/ageBuckets) and maxAge after it was made, whenever the
// summary is read: give or take an eighth of a bucket (at most a second)
// for buckets of 80ms or more, whose observations are placed in batches
// without a clock reading each; exactly for shorter buckets, whose every
// observation reads the clock and takes a lock. Each bucket must span at
// least a millisecond (maxAge/ageBuckets >= 1ms); NewSummary returns an
// error otherwise.
func WithMaxAge(maxAge time.Duration, ageBuckets int) Option {
	return func(o *options) { o.maxAge, o.ageBuckets, o.windowSet = maxAge, ageBuckets, true }
}

func buildOptions(name, help string, opts []Option) *options {
	o := &options{name: name, help: normalizeHelp(help)}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

// check fails when an option does not apply to the metric type.
func (o *options) check(kind string, histogram, summary bool) error {
	switch {
	case o.expirySet && o.idleExpiry <= 0:
		return fmt.Errorf("prom: metric %q: WithIdleExpiry needs a positive duration, got %v", o.name, o.idleExpiry)
	case o.bucketsSet && !histogram:
		return fmt.Errorf("prom: metric %q: WithBuckets applies to histograms, not to a %s", o.name, kind)
	case (o.objectivesSet || o.windowSet) && !summary:
		return fmt.Errorf("prom: metric %q: WithObjectives and WithMaxAge apply to summaries, not to a %s", o.name, kind)
	}
	return nil
}

// target returns the registry the metric goes into, or nil.
func (o *options) target() *Registry {
	if o.registrySet {
		return o.registry
	}
	return Default
}

// normalizeHelp turns the line breaks of a help text that hold a carriage
// return (\r\n, or \r alone, as in text from Windows or old Mac files)
// into \n, which the text formats escape: a raw \r in a HELP line is
// refused by some OpenMetrics parsers (prometheus/common's, for one).
func normalizeHelp(help string) string {
	if !strings.Contains(help, "\r") {
		return help
	}
	return strings.ReplaceAll(strings.ReplaceAll(help, "\r\n", "\n"), "\r", "\n")
}
