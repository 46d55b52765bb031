package prom

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/promgo/prom/internal/expo"
)

// MetricWriter receives the metrics of a [Collector] during a scrape. Each
// call writes one series; calls for the same name form one family, which
// must keep one type and one help text (as client_golang's Gather
// requires). A call with an invalid name, label set or value is
// dropped and reported as the collector's error, without spoiling the
// rest of the scrape. So is a family named as the registry's own metrics
// (prom_rejected_updates_total and the others Register refuses), and one whose names another family produces
// too: a registered metric, in any format (a gauge x_count beside a
// histogram x, or a counter x_total beside a gauge x, which OpenMetrics
// names x as well); or a family written before it in name order, in the
// names of its samples (a gauge x_count beside a written histogram x, a
// gauge x_total beside a written counter x, which OpenMetrics writes as
// x_total, a gauge x_created beside a counter x delegated to, which keeps
// its creation time). Such a drop counts as the failure of the collector that wrote
// the family first, in prom_collector_failures_total from the next scrape
// on. Written families whose family names meet only in OpenMetrics, with
// samples of their own, are kept, as client_golang keeps them (see package
// collectors' go_memstats_alloc_bytes). As Prometheus reads a label with an empty value as no
// label, {a=""} and {} are one series: writing both is writing it twice. A
// MetricWriter is used by one goroutine at a time.
type MetricWriter struct {
	families map[string]*writtenFamily
	errs     []error
	// collector is the registry's entry of the collector writing, for the
	// families it creates (its name and failure count); nil for the
	// registry's own.
	collector *entry
	// delegated are the built-in metrics collected through w (by their
	// Collect method), whose refused updates the registry counts.
	delegated []*familyMeta
}

type writtenFamily struct {
	name, help string
	typ        expo.Type
	unit       string          // a built-in metric's unit, through writerEncoder
	by         *entry          // the collector that wrote it first; nil for the registry's own
	seen       map[string]bool // label texts, to refuse duplicate series
	samples    []writtenSample
}

type writtenSample struct {
	labels expo.Labels
	value  float64
	hist   *HistogramValue
	sum    *SummaryValue
	// What a built-in metric's series carries besides its values, kept
	// through writerEncoder: its creation time (Unix nanoseconds, 0 for
	// unknown), a counter's exemplar, a histogram's bucket exemplars.
	created   int64
	exemplar  *expo.Exemplar
	exemplars []*expo.Exemplar
}

func newMetricWriter() *MetricWriter {
	return &MetricWriter{families: map[string]*writtenFamily{}}
}

// Counter writes one counter series. A counter's value is a total, so a
// negative or NaN value is dropped and reported.
func (w *MetricWriter) Counter(name, help string, value float64, labels Labels) {
	if !(value >= 0) {
		w.errs = append(w.errs, fmt.Errorf("prom: counter %q: value %v; a counter's value must be 0 or more", name, value))
		return
	}
	w.add(name, help, expo.Counter, labels, writtenSample{value: value})
}

// Gauge writes one gauge series.
func (w *MetricWriter) Gauge(name, help string, value float64, labels Labels) {
	w.add(name, help, expo.Gauge, labels, writtenSample{value: value})
}

// Untyped writes one series of unknown type.
func (w *MetricWriter) Untyped(name, help string, value float64, labels Labels) {
	w.add(name, help, expo.Untyped, labels, writtenSample{value: value})
}

// Histogram writes one histogram series. Buckets are cumulative and
// ascending; a final +Inf bucket may be given, and must then equal Count.
func (w *MetricWriter) Histogram(name, help string, v HistogramValue, labels Labels) {
	bs := v.Buckets
	if n := len(bs); n > 0 && math.IsInf(bs[n-1].UpperBound, 1) {
		if bs[n-1].Count != v.Count {
			w.errs = append(w.errs, fmt.Errorf("prom: histogram %q: the +Inf bucket holds %d but the count is %d", name, bs[n-1].Count, v.Count))
			return
		}
		bs = bs[:n-1]
	}
	for i, b := range bs {
		if math.IsNaN(b.UpperBound) || math.IsInf(b.UpperBound, 0) ||
			i > 0 && (b.UpperBound <= bs[i-1].UpperBound || b.Count < bs[i-1].Count) || b.Count > v.Count {
			w.errs = append(w.errs, fmt.Errorf("prom: histogram %q: buckets must be finite, ascending and cumulative, and not exceed the count", name))
			return
		}
	}
	v.Buckets = slices.Clone(bs)
	w.add(name, help, expo.Histogram, labels, writtenSample{hist: &v})
}

// Summary writes one summary series.
func (w *MetricWriter) Summary(name, help string, v SummaryValue, labels Labels) {
	qs := slices.Clone(v.Quantiles)
	slices.SortFunc(qs, func(a, b Quantile) int { return cmp.Compare(a.Quantile, b.Quantile) })
	for i, q := range qs {
		if !(q.Quantile >= 0 && q.Quantile <= 1) || i > 0 && q.Quantile == qs[i-1].Quantile {
			w.errs = append(w.errs, fmt.Errorf("prom: summary %q: quantiles must be distinct and in [0, 1], got %v", name, q.Quantile))
			return
		}
	}
	v.Quantiles = qs
	w.add(name, help, expo.Summary, labels, writtenSample{sum: &v})
}

func (w *MetricWriter) add(name, help string, typ expo.Type, labels Labels, s writtenSample) {
	if !w.checkFamilyName(name) {
		return
	}
	f := w.families[name]
	if f == nil || len(f.samples) == 0 {
		// A family left without samples (its writes refused, or a
		// delegated metric without series) is not written, and takes
		// no name.
		f = &writtenFamily{name: name, help: normalizeHelp(help), typ: typ, by: w.collector, seen: map[string]bool{}}
		w.families[name] = f
	} else if f.typ != typ {
		w.errs = append(w.errs, fmt.Errorf("prom: metric %q written as a %v and as a %v", name, f.typ, typ))
		return
	} else if help != f.help && normalizeHelp(help) != f.help {
		w.errs = append(w.errs, fmt.Errorf("prom: metric %q written with help %q and with help %q; the series with the second is left out", name, f.help, help))
		return
	}
	reserved := ""
	switch typ {
	case expo.Histogram:
		reserved = "le"
	case expo.Summary:
		reserved = "quantile"
	}
	names := make([]string, 0, len(labels))
	for n := range labels {
		if err := checkLabelName(name, n, reserved); err != nil {
			w.errs = append(w.errs, err)
			return
		}
		names = append(names, n)
	}
	slices.Sort(names)
	values := make([]string, len(names))
	for i, n := range names {
		values[i] = expo.ValidUTF8(labels[n])
	}
	s.labels = expo.MakeLabels(&names, values)
	w.addSample(f, s, names, values)
}

// addSample adds s to f unless f holds its series already; names and
// values are s's labels, names sorted.
func (w *MetricWriter) addSample(f *writtenFamily, s writtenSample, names, values []string) {
	key := s.labels.Text
	if slices.Contains(values, "") || !slices.IsSorted(s.labels.Names()) {
		// The series as Prometheus reads it: without its empty labels,
		// in name order.
		var kn, kv []string
		for i, v := range values {
			if v != "" {
				kn, kv = append(kn, names[i]), append(kv, v)
			}
		}
		key = expo.MakeLabels(&kn, kv).Text
	}
	if f.seen[key] {
		w.errs = append(w.errs, fmt.Errorf("prom: metric %q written twice with labels {%s}", f.name, s.labels.Text))
		return
	}
	f.seen[key] = true
	f.samples = append(f.samples, s)
}

// checkFamilyName reports whether a collector may write a family of this
// name, recording the error if not.
func (w *MetricWriter) checkFamilyName(name string) bool {
	if err := checkMetricName(name); err != nil {
		w.errs = append(w.errs, err)
		return false
	}
	if self := selfMetricTaking(name); self != "" && w.collector != nil {
		w.errs = append(w.errs, fmt.Errorf("prom: metric %q: the name is the registry's own (%s); a collector cannot write it", name, self))
		return false
	}
	return true
}

// collect runs c into w, turning a panic into an error.
func (w *MetricWriter) collect(ctx context.Context, c Collector) (errs []error) {
	defer func() {
		if p := recover(); p != nil {
			errs = append(errs, fmt.Errorf("prom: collector %q panicked: %v", primaryName(c), p))
		}
	}()
	before := len(w.errs)
	err := c.Collect(ctx, w)
	for _, e := range w.errs[before:] {
		errs = append(errs, &collectorError{primaryName(c), e})
	}
	if err != nil {
		errs = append(errs, &collectorError{primaryName(c), err})
	}
	return errs
}

// collectorError is an error of a collector's Collect, or of a sample it
// wrote, named after the collector: `prom: collector "x": ...`.
type collectorError struct {
	name string
	err  error
}

func (e *collectorError) Error() string {
	return fmt.Sprintf("prom: collector %q: %s", e.name, strings.TrimPrefix(e.err.Error(), "prom: "))
}

func (e *collectorError) Unwrap() error { return e.err }

// errorOf names err after the collector of e, or returns it as it is for
// the registry's own families (a nil e).
func (e *entry) errorOf(err error) error {
	if e == nil {
		return err
	}
	return &collectorError{e.name, err}
}

// sorted returns the written families in name order.
func (w *MetricWriter) sorted() []*writtenFamily {
	fs := make([]*writtenFamily, 0, len(w.families))
	for _, f := range w.families {
		if len(f.samples) > 0 {
			fs = append(fs, f)
		}
	}
	slices.SortFunc(fs, func(a, b *writtenFamily) int { return strings.Compare(a.name, b.name) })
	return fs
}

// Err returns the problems met so far, joined, or nil.
func (w *MetricWriter) Err() error { return errors.Join(w.errs...) }

func (f *writtenFamily) encode(enc expo.Encoder) {
	enc.Family(f.name, f.help, f.typ, f.unit)
	for i := range f.samples {
		s := &f.samples[i]
		switch {
		case s.hist != nil:
			n := len(s.hist.Buckets)
			d := expo.HistogramData{Bounds: make([]float64, n), Les: make([]string, n), LesOM: make([]string, n), Counts: make([]uint64, n+1), Sum: s.hist.Sum,
				Exemplars: s.exemplars, Created: s.created}
			var prev uint64
			for j, b := range s.hist.Buckets {
				d.Bounds[j] = b.UpperBound
				d.Les[j] = string(expo.AppendLabelPair(nil, "le", string(expo.AppendLabelFloat(nil, b.UpperBound))))
				d.LesOM[j] = string(expo.AppendLabelPair(nil, "le", string(expo.AppendCanonicalFloat(nil, b.UpperBound))))
				d.Counts[j] = b.Count - prev
				prev = b.Count
			}
			d.Counts[n] = s.hist.Count - prev
			enc.Histogram(&s.labels, &d)
		case s.sum != nil:
			n := len(s.sum.Quantiles)
			d := expo.SummaryData{Quantiles: make([]float64, n), QTexts: make([]string, n), QTextsOM: make([]string, n), Values: make([]float64, n), Count: s.sum.Count, Sum: s.sum.Sum,
				Created: s.created}
			for j, q := range s.sum.Quantiles {
				d.Quantiles[j], d.Values[j] = q.Quantile, q.Value
				d.QTexts[j] = string(expo.AppendLabelPair(nil, "quantile", string(expo.AppendFloat(nil, q.Quantile))))
				d.QTextsOM[j] = string(expo.AppendLabelPair(nil, "quantile", string(expo.AppendCanonicalFloat(nil, q.Quantile))))
			}
			enc.Summary(&s.labels, &d)
		case f.typ == expo.Counter:
			enc.Counter(&s.labels, s.value, s.created, s.exemplar)
		default:
			enc.Value(&s.labels, s.value)
		}
	}
}

// writerEncoder turns a built-in family's encoding into MetricWriter
// samples, for [Collector.Collect] called outside a registry: a collector
// that delegates to metrics it owns. It keeps what the registry would
// expose of them, the unit, created times and exemplars included, and
// checks them as MetricWriter's methods check what they write: a family
// of a name already written, or of one of the registry's own names, is
// left out (f is nil then), and so is a series written before.
type writerEncoder struct {
	w *MetricWriter
	f *writtenFamily
	// twice is the name of the family being left out because it was
	// written before; reported at its first series, as a family without
	// series writes nothing.
	twice string
}

func (e *writerEncoder) Family(name, help string, typ expo.Type, unit string) {
	e.f, e.twice = nil, ""
	if !e.w.checkFamilyName(name) {
		return
	}
	if f := e.w.families[name]; f != nil && len(f.samples) > 0 {
		e.twice = name
		return
	}
	e.f = &writtenFamily{name: name, help: help, typ: typ, unit: unit, by: e.w.collector, seen: map[string]bool{}}
	e.w.families[name] = e.f
}

// add adds one series' sample to the family.
func (e *writerEncoder) add(l *expo.Labels, s writtenSample) {
	if e.twice != "" {
		e.w.errs = append(e.w.errs, fmt.Errorf("prom: metric %q written twice; the second one is left out", e.twice))
		e.twice = ""
	}
	if e.f == nil {
		return
	}
	s.labels = *l
	names, values := l.Names(), l.Values()
	if !slices.IsSorted(names) { // constant labels come first
		idx := make([]int, len(names))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(names[a], names[b]) })
		sn, sv := make([]string, len(idx)), make([]string, len(idx))
		for i, j := range idx {
			sn[i], sv[i] = names[j], values[j]
		}
		names, values = sn, sv
	}
	e.w.addSample(e.f, s, names, values)
}

func (e *writerEncoder) Value(l *expo.Labels, v float64) {
	e.add(l, writtenSample{value: v})
}

func (e *writerEncoder) Counter(l *expo.Labels, v float64, created int64, ex *expo.Exemplar) {
	// ex is not changed once a series holds it (a new exemplar replaces
	// the pointer), so it is kept without a copy.
	e.add(l, writtenSample{value: v, created: created, exemplar: ex})
}

func (e *writerEncoder) Histogram(l *expo.Labels, d *expo.HistogramData) {
	h := &HistogramValue{Sum: d.Sum}
	for i, c := range d.Counts {
		h.Count += c
		if i < len(d.Bounds) {
			h.Buckets = append(h.Buckets, Bucket{UpperBound: d.Bounds[i], Count: h.Count})
		}
	}
	// d.Exemplars is the encoder's workspace, reused for the next series.
	e.add(l, writtenSample{hist: h, created: d.Created, exemplars: slices.Clone(d.Exemplars)})
}

func (e *writerEncoder) Summary(l *expo.Labels, d *expo.SummaryData) {
	s := &SummaryValue{Count: d.Count, Sum: d.Sum}
	for i, q := range d.Quantiles {
		s.Quantiles = append(s.Quantiles, Quantile{Quantile: q, Value: d.Values[i]})
	}
	e.add(l, writtenSample{sum: s, created: d.Created})
}

func (e *writerEncoder) End() {}
