package prom

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/promgo/prom/internal/expo"
)

// Collector is anything a [Registry] collects at scrape time. The metric
// types implement it; implement it for metrics computed on demand, such as
// values read from another system.
type Collector interface {
	// Describe returns the names of the metric families Collect writes, so
	// that Register can refuse a name that is already taken. The first is
	// the collector's primary name. The metric types list every sample
	// name they take in any format too: a histogram's _bucket, _count,
	// _sum and _created, a counter's name with and without _total. A
	// family that Collect writes without describing it is checked at each
	// scrape instead, and left out if its names are taken (see
	// [MetricWriter]).
	Describe() []string
	// Collect writes the collector's current metrics to w. It should end
	// early when ctx is done. It is called concurrently by parallel scrapes.
	Collect(ctx context.Context, w *MetricWriter) error
}

// Registry holds collectors and renders them. The zero value is not usable;
// call [NewRegistry]. A Registry is safe for concurrent use.
type Registry struct {
	mu     sync.RWMutex
	byName map[string]*entry // the entry of every described name
	// members holds every registered collector's entry, by the metric a
	// typed metric wraps or else the collector itself; a collector whose
	// value cannot be a map key (see collectorKey) by its entry alone.
	members map[any]*entry
	seq     uint64 // the number of registrations so far; mu
	// snap is what scrapes read without the lock: replaced, never
	// modified. A change sets it to nil, and the next reader builds it
	// (current), so that registering n collectors costs O(n), not O(n²).
	snap atomic.Pointer[snapshot]
	// maxSeries is the default series limit of the metrics registered
	// here first; 0 means none. Those metrics hold this, not the registry,
	// so that a metric moved on does not keep the registry alive.
	maxSeries *atomic.Int64
}

// SetMaxSeries sets the default series limit of the metrics whose first
// registry is r and that set none of their own with [WithMaxSeries]; see
// there for what happens past it. n <= 0 removes the default. It applies
// to series created from then on.
func (r *Registry) SetMaxSeries(n int) {
	r.maxSeries.Store(int64(max(n, 0)))
}

// snapshot is the registry's content at one time: what a scrape writes,
// and checks the families custom collectors write against.
type snapshot struct {
	entries []entry // sorted by primary name
	once    sync.Once
	byName  map[string]*entry // every name the metrics among entries describe
}

// metricNames returns the entries of the snapshot's metrics by every name
// they describe, built at its first use: the names a custom collector's
// family cannot take in a scrape of this snapshot.
func (s *snapshot) metricNames() map[string]*entry {
	s.once.Do(func() {
		s.byName = map[string]*entry{}
		for i, e := range s.entries {
			if e.fb != nil {
				for _, n := range e.names {
					s.byName[n] = &s.entries[i]
				}
			}
		}
	})
	return s.byName
}

type entry struct {
	name  string
	c     Collector
	names []string   // the names c described when it was registered
	seq   uint64     // its registration's number: later ones first among equal names
	fb    familyBase // nil for custom collectors
	// failures counts the scrapes in which c failed while registered
	// here (see failuresMetric): it leaves the registry with c.
	failures *atomic.Uint64
}

// Default is the registry the metric constructors use unless given
// [WithRegistry]. Unlike client_golang's default registry it starts
// empty, as aioprometheus's does: the Go runtime, process and build
// metrics are one call away, collectors.Register(nil) (package
// github.com/promgo/prom/collectors).
var Default = NewRegistry()

// selfMetricTaking returns the registry's own metric that takes the name
// n (one of its names, or a name beginning with one of them and _), or "".
func selfMetricTaking(n string) string {
	for _, self := range []string{selfMetric, failuresMetric, expiredMetric} {
		if strings.HasPrefix(n, self+"_") || slices.Contains(counterNames(self), n) {
			return self
		}
	}
	return ""
}

// selfMetric is the name of the counter in which every registry reports
// updates it had to refuse.
const selfMetric = "prom_rejected_updates_total"

// failuresMetric is the name of the counter in which every registry counts
// the scrapes in which a collector failed: returned an error, panicked,
// wrote samples that had to be dropped, or ran past the scrape's deadline.
// A collector's series goes when it leaves the registry.
const failuresMetric = "prom_collector_failures_total"

// expiredMetric is the name of the counter in which every registry counts
// the series its metrics removed after they idled past their expiry.
const expiredMetric = "prom_expired_series_total"

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{maxSeries: new(atomic.Int64)}
	r.empty()
	return r
}

// empty makes the registry empty, with new maps: a map keeps its largest
// size, and an emptied registry lets that go. r.mu is held, or r is new.
func (r *Registry) empty() {
	r.byName, r.members = map[string]*entry{}, map[any]*entry{}
	r.snap.Store(&snapshot{})
}

// current returns the registry's snapshot, building it if a change has
// made it stale.
func (r *Registry) current() *snapshot {
	if s := r.snap.Load(); s != nil {
		return s
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s := r.snap.Load(); s != nil {
		return s
	}
	entries := make([]entry, 0, len(r.members))
	for _, e := range r.members {
		entries = append(entries, *e)
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return cmp.Compare(b.seq, a.seq)
	})
	s := &snapshot{entries: entries}
	r.snap.Store(s)
	return s
}

// collectorKey returns the key of c's entry in members, by which two
// collectors are the same: the metric a typed metric wraps (the registry
// takes the two for one collector), or c itself, if that can be a map key;
// else e, the entry itself, so that a collector whose value cannot be
// compared (a struct holding a func or a slice) is never the same as
// anything: such collectors are registered by pointer.
func collectorKey(c Collector, e *entry) any {
	u := untyped(c)
	if v := reflect.ValueOf(u); v.Comparable() {
		return u
	}
	return e
}

// AlreadyRegisteredError is returned by [Registry.Register] (and the metric
// constructors) when a name is already taken. Existing is the collector that
// holds it: when a metric is created twice, the second caller can use the
// first one instead.
type AlreadyRegisteredError struct {
	Name         string    // the name that is taken
	ExistingName string    // the primary name of Existing
	Existing     Collector // nil for names the registry reserves
	// by is the primary name of the collector being registered, when Name
	// is another of its names (a histogram h's h_bucket, say).
	by string
	// same tells that Existing is the collector being registered.
	same bool
}

// Error says which name is taken, and by what.
func (e *AlreadyRegisteredError) Error() string {
	switch {
	case e.Existing == nil:
		return fmt.Sprintf("prom: metric name %q is reserved by the registry", e.Name)
	case e.same:
		return fmt.Sprintf("prom: %s %q is already registered in this registry", kindOf(e.Existing), e.Name)
	case e.by != "" && e.by != e.Name:
		return fmt.Sprintf("prom: metric %q produces the name %q, which %s %q, already registered, has", e.by, e.Name, kindOf(e.Existing), e.ExistingName)
	case e.Name == e.ExistingName:
		return fmt.Sprintf("prom: metric name %q is already registered, by a %s", e.Name, kindOf(e.Existing))
	}
	return fmt.Sprintf("prom: metric name %q conflicts with %s %q, already registered", e.Name, kindOf(e.Existing), e.ExistingName)
}

// kindOf names what c is, for messages: its metric type ("counter"), or
// "collector" and its Go type for a custom collector.
func kindOf(c Collector) string {
	if fb, ok := untyped(c).(familyBase); ok {
		return fb.meta().typ.String()
	}
	return fmt.Sprintf("collector (%T)", c)
}

// register puts a new metric into its registry, per the options.
func register[C Collector](o *options, c C) (C, error) {
	if r := o.target(); r != nil {
		if err := r.Register(c); err != nil {
			var zero C
			return zero, err
		}
	}
	return c, nil
}

// Register adds c to the registry. It fails with an
// [*AlreadyRegisteredError] when one of c's names (or c itself) is already
// there, and with [ErrInvalidName] for an invalid name.
func (r *Registry) Register(c Collector) error {
	if c == nil {
		return errors.New("prom: Register of a nil Collector")
	}
	if v := reflect.ValueOf(c); v.Kind() == reflect.Pointer && v.IsNil() {
		return fmt.Errorf("prom: Register of a nil %T", c)
	}
	if v := reflect.ValueOf(untyped(c)); v.Kind() == reflect.Pointer && v.IsNil() {
		return fmt.Errorf("prom: Register of a %T that holds no metric (make it with its constructor)", c)
	}
	names := c.Describe()
	for _, n := range names {
		if err := checkMetricName(n); err != nil {
			return err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	// The names are copied: a collector may change the slice it returned.
	e := &entry{c: c, names: slices.Clone(names), failures: new(atomic.Uint64)}
	if len(names) > 0 {
		e.name = names[0] // as primaryName(c), without a second Describe
	}
	key := collectorKey(c, e)
	if old := r.members[key]; old != nil {
		return &AlreadyRegisteredError{Name: old.name, ExistingName: old.name, Existing: old.c, same: true}
	}
	for _, n := range names {
		if self := selfMetricTaking(n); self != "" {
			return &AlreadyRegisteredError{Name: n, ExistingName: self}
		}
		if ex := r.byName[n]; ex != nil {
			// ex.name, not primaryName: no collector code runs under mu.
			are := &AlreadyRegisteredError{Name: n, ExistingName: ex.name, Existing: ex.c}
			if _, metric := c.(familyBase); metric {
				are.by = e.name // a custom collector's names are its own, not produced
			}
			return are
		}
	}
	for _, n := range e.names {
		r.byName[n] = e
	}
	e.fb, _ = c.(familyBase)
	if e.fb != nil {
		e.fb.meta().regLimit.CompareAndSwap(nil, r.maxSeries)
	}
	r.seq++
	e.seq = r.seq
	r.members[key] = e
	r.snap.Store(nil)
	return nil
}

// MustRegister registers every collector and panics on the first error.
// It is meant for program start-up.
func (r *Registry) MustRegister(cs ...Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

func primaryName(c Collector) string {
	if names := c.Describe(); len(names) > 0 {
		return names[0]
	}
	return ""
}

// untyped returns the metric that c wraps when c is a typed metric
// ([CounterOf] and the others), or else c.
func untyped(c Collector) Collector {
	t, ok := c.(interface{ untyped() Collector })
	if !ok {
		return c
	}
	// c may be a struct value that embeds a typed metric, whose method is
	// promoted to it: only a pointer can be nil.
	if v := reflect.ValueOf(c); v.Kind() == reflect.Pointer && v.IsNil() {
		return c
	}
	return t.untyped()
}

// Unregister removes c; it reports whether c was registered. Collectors are
// compared by identity, so register a custom collector by pointer to be
// able to unregister it.
func (r *Registry) Unregister(c Collector) bool {
	if c == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	key := collectorKey(c, nil)
	e := r.members[key]
	if e == nil {
		return false
	}
	delete(r.members, key)
	for _, n := range e.names {
		if r.byName[n] == e {
			delete(r.byName, n)
		}
	}
	if len(r.members) == 0 {
		r.empty()
	} else {
		r.snap.Store(nil)
	}
	return true
}

// Get returns the collector registered under name (a metric's name, or one
// of the names a custom collector describes).
func (r *Registry) Get(name string) (Collector, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if e := r.byName[name]; e != nil {
		return e.c, true
	}
	return nil, false
}

// Clear unregisters everything. Tests use it to start afresh.
func (r *Registry) Clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.empty()
}

// All iterates over the registered collectors in name order.
func (r *Registry) All() iter.Seq[Collector] {
	return func(yield func(Collector) bool) {
		for _, e := range r.current().entries {
			if !yield(e.c) {
				return
			}
		}
	}
}

// encode writes every family to enc in name order. Custom collectors run
// first; a collector that fails or panics is reported in the returned
// error, what it wrote before that is kept, and everything else is still
// written.
func (r *Registry) encode(ctx context.Context, enc expo.Encoder, only map[string]bool) error {
	defer enc.End() // even when cut short, the output stays well-formed
	snap := r.current()
	entries := snap.entries
	var w *MetricWriter
	var errs []error
	var failed []*entry // the collectors counted as failed in this scrape
	for i, e := range entries {
		if e.fb != nil || !wanted(e.c, only) {
			continue
		}
		if w == nil {
			w = newMetricWriter()
		}
		w.collector = &entries[i]
		live := ctx.Err() == nil
		errs1 := w.collect(ctx, e.c)
		// A collector that ran past the scrape's deadline blocked it:
		// that is its failure. A scrape cancelled otherwise (the client
		// went away) is not.
		overran := live && errors.Is(ctx.Err(), context.DeadlineExceeded)
		if len(errs1) > 0 || overran {
			errs = append(errs, errs1...)
			if ctx.Err() == nil || overran {
				e.failures.Add(1)
				failed = append(failed, &entries[i])
			}
		}
		w.collector = nil
	}
	for _, e := range entries {
		if e.fb != nil && e.fb.meta().prepare != nil {
			e.fb.meta().prepare()
		}
	}
	// Gauge and counter functions run before the registry's own families
	// are written, so that one that panics counts among this scrape's
	// failures, as a custom collector does.
	funcs := readFuncs(ctx, entries, only, &errs)
	w = r.collectSelf(entries, w)
	var custom []*writtenFamily
	if w != nil {
		custom = withoutClashes(snap, w.sorted(), &errs, func(by *entry) {
			// As above, a scrape whose client went away counts no
			// failures.
			gone := ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded)
			if by != nil && !gone && !slices.Contains(failed, by) {
				by.failures.Add(1)
				failed = append(failed, by)
			}
		})
	}
	// Both lists are sorted by name, and no name of one is a name of the
	// other: merge them.
	for i, e := range entries {
		if e.fb == nil {
			continue
		}
		m := e.fb.meta()
		for len(custom) > 0 && custom[0].name < m.name {
			if cf := custom[0]; only == nil || only[cf.name] {
				cf.encode(enc)
			}
			custom = custom[1:]
		}
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if g, ok := e.fb.(funcMetric); ok {
			if funcs != nil && funcs[i].ok { // nil when only wants none
				g.encodeValue(enc, funcs[i].v)
			}
		} else if only == nil || only[m.name] {
			if err := encodeFamily(e.fb, m, enc); err != nil {
				errs = append(errs, err)
				e.failures.Add(1)
			}
		}
	}
	for _, cf := range custom {
		if only == nil || only[cf.name] {
			cf.encode(enc)
		}
	}
	return errors.Join(errs...)
}

// withoutClashes returns the families that custom collectors wrote (in
// name order) without those whose names are taken, and reports each one
// left out in errs:
//
//   - by a registered metric, in any format: a family collected twice, a
//     gauge x_count beside a histogram x, a counter x_total beside a gauge
//     x (one OpenMetrics family x). Register refused such pairs among the
//     metrics; a collector's family can only be checked as it is written.
//   - by another written family, in a sample name: a gauge x_count beside
//     a written histogram x, which makes every format invalid, a gauge (or
//     a counter) x_total beside a written counter x, which writes x_total
//     in OpenMetrics, where Prometheus would keep one of the two values,
//     or a gauge x_created beside a delegated counter x or x_total, which
//     keeps its creation time for OpenMetrics' x_created. Written families whose OpenMetrics family
//     names meet while their samples differ are kept, as client_golang
//     keeps them: its Go collector's gauge go_memstats_alloc_bytes and
//     counter go_memstats_alloc_bytes_total, whose series Prometheus
//     ingests, are one OpenMetrics family name.
//
// It calls dropped with the entry of the collector that wrote each family
// left out (nil for the registry's own), whose name the error carries.
func withoutClashes(snap *snapshot, custom []*writtenFamily, errs *[]error, dropped func(by *entry)) []*writtenFamily {
	if len(custom) == 0 {
		return custom
	}
	kept := custom[:0]
	metrics := snap.metricNames()
	var buf [128]byte
	for i, cf := range custom {
		owner, name := metricProducing(metrics, cf, buf[:0])
		if owner == "" {
			owner, name = writtenProducing(kept, custom[i+1:], cf)
		}
		switch {
		case owner == "":
			kept = append(kept, cf)
		case owner == cf.name:
			*errs = append(*errs, cf.by.errorOf(fmt.Errorf("prom: metric %q was collected twice; the second one is left out", cf.name)))
			dropped(cf.by)
		default:
			*errs = append(*errs, cf.by.errorOf(fmt.Errorf("prom: metric %q was collected, but metric %q produces the name %q too; %q is left out", cf.name, owner, name, cf.name)))
			dropped(cf.by)
		}
	}
	return kept
}

// metricProducing returns the metric of metrics (entries by every name
// they describe) that produces, in some format, one of the names that the
// written family cf produces, and that name; "" for none. It builds each
// name in buf, which a map lookup reads without allocating.
func metricProducing(metrics map[string]*entry, cf *writtenFamily, buf []byte) (owner, name string) {
	base, suffixes := sampleSuffixes(cf.name, cf.typ)
	for _, s := range suffixes {
		buf = append(append(buf[:0], base...), s...)
		if e, ok := metrics[string(buf)]; ok {
			return e.name, string(buf)
		}
	}
	return "", ""
}

// writtenProducing returns the written family that writes a sample of
// cf's name in some format, and that name; "" for none. kept holds the
// written families before cf in name order that are kept, rest those after
// it. It finds a histogram x for a cf named x_count (in every format), a
// counter x for a cf named x_total (in OpenMetrics, where the counter's
// sample is x_total), and a delegated metric x or x_total with created
// times for a cf named x_created (in OpenMetrics with created samples).
// Other families do not share a sample name: a family's suffixed names
// cannot equal another's (no suffix ends another), and a family whose name
// another's produces sorts after it, so its own turn finds the clash; but
// x_created sorts before x_total, hence rest.
func writtenProducing(kept, rest []*writtenFamily, cf *writtenFamily) (owner, name string) {
	find := func(base string) (*writtenFamily, bool) {
		for _, fs := range [][]*writtenFamily{kept, rest} {
			if i, found := slices.BinarySearchFunc(fs, base, func(f *writtenFamily, n string) int { return strings.Compare(f.name, n) }); found {
				return fs[i], true
			}
		}
		return nil, false
	}
	for _, s := range textSuffixes(expo.Histogram) {
		base, ok := strings.CutSuffix(cf.name, s)
		if !ok {
			continue
		}
		if f, found := find(base); found && slices.Contains(textSuffixes(f.typ), s) {
			return base, cf.name
		}
	}
	if base, ok := strings.CutSuffix(cf.name, "_total"); ok && cf.typ != expo.Histogram {
		if f, found := find(base); found && f.typ == expo.Counter {
			return base, cf.name
		}
	}
	if base, ok := strings.CutSuffix(cf.name, "_created"); ok {
		for _, n := range [2]string{base, base + "_total"} {
			if f, found := find(n); found && f.hasCreated() {
				return n, cf.name
			}
		}
	}
	return "", ""
}

// wanted reports whether a custom collector may write one of the families
// a name[] filter asks for. A collector that describes no names might.
func wanted(c Collector, only map[string]bool) bool {
	if only == nil {
		return true
	}
	names := c.Describe()
	for _, n := range names {
		if only[n] {
			return true
		}
	}
	return len(names) == 0
}

// funcMetric is a GaugeFunc or a CounterFunc, to the registry.
type funcMetric interface {
	familyBase
	read() (float64, error)
	encodeValue(enc expo.Encoder, v float64)
}

// funcValue is a function metric's value in one scrape; ok is false where
// the metric is not written (filtered out, or its function failed).
type funcValue struct {
	v  float64
	ok bool
}

// readFuncs calls the function of each GaugeFunc and CounterFunc among
// entries that only wants, and returns their values by entry index (nil
// when there is none). Once ctx is done it calls no more: the scrape is
// over. As for a custom collector, a function that panics, or gives a
// counter a negative or NaN value, is reported in errs and counted as its
// metric's failure (unless the client went away first), and so is one
// that ran past the scrape's deadline.
func readFuncs(ctx context.Context, entries []entry, only map[string]bool, errs *[]error) []funcValue {
	var vs []funcValue
	for i, e := range entries {
		g, ok := e.fb.(funcMetric)
		if !ok || only != nil && !only[g.meta().name] {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if vs == nil {
			vs = make([]funcValue, len(entries))
		}
		v, err := g.read()
		overran := errors.Is(ctx.Err(), context.DeadlineExceeded)
		if err != nil {
			*errs = append(*errs, err)
		}
		if err != nil && ctx.Err() == nil || overran {
			e.failures.Add(1)
		}
		if err == nil && !overran {
			vs[i] = funcValue{v, true}
		}
	}
	return vs
}

// encodeFamily writes one built-in family, turning a panic into an error
// (function metrics, which run user code, are read before, by readFuncs).
func encodeFamily(fb familyBase, m *familyMeta, enc expo.Encoder) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("prom: collecting %q panicked: %v", m.name, p)
		}
	}()
	fb.encode(enc)
	return nil
}

// collectSelf adds the registry's own counters to w: updates that a
// built-in metric refused, series it removed after idling, and failed
// collectors. The metrics counted are the registered ones and those that a
// custom collector delegated to in this scrape (left unregistered, with
// WithRegistry(nil), and collected through their Collect method), whose
// refusals would otherwise show nowhere; metrics of one name share their
// series.
func (r *Registry) collectSelf(entries []entry, w *MetricWriter) *MetricWriter {
	// Entries are sorted by name, and their built-in metrics' names are
	// unique: they merge with the delegated metrics sorted by name.
	var delegated []*familyMeta
	if w != nil && len(w.delegated) > 0 {
		delegated = slices.Clone(w.delegated)
		slices.SortStableFunc(delegated, func(a, b *familyMeta) int { return strings.Compare(a.name, b.name) })
	}
	group := make([]*familyMeta, 0, 4)
	for i, j := 0, 0; ; {
		for i < len(entries) && entries[i].fb == nil {
			i++
		}
		var name string
		switch {
		case i < len(entries) && (j == len(delegated) || entries[i].name <= delegated[j].name):
			name = entries[i].name
		case j < len(delegated):
			name = delegated[j].name
		default:
			return r.collectFailures(entries, w)
		}
		group = group[:0]
		if i < len(entries) && entries[i].name == name {
			group = append(group, entries[i].fb.meta())
			i++
		}
		for ; j < len(delegated) && delegated[j].name == name; j++ {
			if !slices.Contains(group, delegated[j]) { // collected twice, or registered here too
				group = append(group, delegated[j])
			}
		}
		w = writeSelfCounts(w, group)
	}
}

// collectFailures adds prom_collector_failures_total to w, for the
// collectors that failed in any scrape.
func (r *Registry) collectFailures(entries []entry, w *MetricWriter) *MetricWriter {
	// Entries are sorted by name; collectors that describe no name share
	// the name "", and their failures one series.
	for i := 0; i < len(entries); {
		name, n := entries[i].name, uint64(0)
		for ; i < len(entries) && entries[i].name == name; i++ {
			n += entries[i].failures.Load()
		}
		if n == 0 {
			continue
		}
		if w == nil {
			w = newMetricWriter()
		}
		w.Counter(failuresMetric, "Scrapes in which a collector failed (an error, a panic, samples that had to be dropped, or running past the scrape's deadline).", float64(n), Labels{"collector": name})
	}
	return w
}

// writeSelfCounts writes to w the refused updates and expired series of
// the metrics ms, which share one name, making w if it is nil and there is
// anything to write.
func writeSelfCounts(w *MetricWriter, ms []*familyMeta) *MetricWriter {
	const help = "Updates that prom refused or redirected: label sets that do not fit the metric, negative or NaN counter increments, invalid exemplars, and new label sets past the metric's series limit (sent to its overflow series)."
	var labels, values, exemplars, overflowed, expired uint64
	for _, m := range ms {
		labels += m.rejectedLabels.Load()
		values += m.rejectedValues.Load()
		exemplars += m.rejectedExemplars.Load()
		overflowed += m.overflowed.Load()
		expired += m.expired.Load()
	}
	name := ms[0].name
	for _, x := range []struct {
		reason string
		n      uint64
	}{{"invalid_labels", labels}, {"invalid_value", values}, {"invalid_exemplar", exemplars}, {"series_limit", overflowed}} {
		if x.n == 0 {
			continue
		}
		if w == nil {
			w = newMetricWriter()
		}
		w.Counter(selfMetric, help, float64(x.n), Labels{"metric": name, "reason": x.reason})
	}
	if expired > 0 {
		if w == nil {
			w = newMetricWriter()
		}
		w.Counter(expiredMetric, "Series removed after no lookup asked for them for longer than the metric's idle expiry (WithIdleExpiry).", float64(expired), Labels{"metric": name})
	}
	return w
}

// hasCreated reports whether a series of f carries its creation time: a
// delegated metric's, which OpenMetrics can write as a _created sample.
func (f *writtenFamily) hasCreated() bool {
	return slices.ContainsFunc(f.samples, func(s writtenSample) bool { return s.created != 0 })
}
