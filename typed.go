package prom

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unsafe"
)

// Typed label sets: a metric whose labels are the fields of a struct type,
// so that a wrong label count or order does not compile. The struct is
// checked once, with reflect, when the metric is made; a lookup reads its
// fields in place and takes the positional path (WithValues), so a hit
// neither reflects nor allocates.

// newLabelFields checks a label struct type for metric, whose label name
// reserved (le, quantile) is reserved and whose constant labels are
// constLabels, and returns its label names, one per field in order. Every
// error names the type, and the field where there is one.
func newLabelFields(typ reflect.Type, metric, reserved string, constLabels Labels) ([]string, error) {
	var names []string
	if typ.Kind() != reflect.Struct {
		return nil, errorf(ErrInvalidLabels, "metric %q: label type %v is a %v, not a struct", metric, typ, typ.Kind())
	}
	if typ.NumField() == 0 {
		return nil, errorf(ErrInvalidLabels, "metric %q: label type %v has no fields", metric, typ)
	}
	for i := range typ.NumField() {
		f := typ.Field(i)
		where := fmt.Sprintf("field %s of label type %v", f.Name, typ)
		switch {
		case f.Anonymous:
			return nil, errorf(ErrInvalidLabels, "metric %q: %s is embedded; label fields must be named", metric, where)
		case f.Name == "_":
			// Blank fields take no part in ==, so they could not tell
			// two label sets apart.
			return nil, errorf(ErrInvalidLabels, "metric %q: %s is blank; label fields must be named", metric, where)
		case f.Type.Kind() != reflect.String:
			return nil, errorf(ErrInvalidLabels, "metric %q: %s has type %v; label fields must be strings", metric, where, f.Type)
		}
		name, ok := f.Tag.Lookup("label")
		if !ok {
			name = snakeCase(f.Name)
		}
		if err := checkSeriesLabelName(metric, name, reserved); err != nil {
			return nil, fmt.Errorf("%w (%s)", err, where)
		}
		if j := slices.Index(names, name); j >= 0 {
			return nil, errorf(ErrInvalidLabels, "metric %q: label name %q of %s is also that of field %s", metric, name, where, typ.Field(j).Name)
		}
		if _, ok := constLabels[name]; ok {
			return nil, errorf(ErrInvalidLabels, "metric %q: label name %q of %s is also a constant label", metric, name, where)
		}
		if want := uintptr(i) * unsafe.Sizeof(""); f.Offset != want {
			// Never seen: strings are word-aligned, so string fields pack
			// like an array. values relies on it.
			return nil, errorf(ErrInvalidLabels, "metric %q: %s is at offset %d, not %d: the fields are not laid out as an array of strings", metric, where, f.Offset, want)
		}
		names = append(names, name)
	}
	return names, nil
}

// snakeCase turns a Go field name into a label name: StatusCode becomes
// status_code, HTTPMethod http_method and UserID user_id. An underscore
// goes before an upper-case letter that follows a lower-case letter or a
// digit, or that ends a run of capitals before a lower-case letter.
func snakeCase(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 {
				prev := rs[i-1]
				nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
				if unicode.IsLower(prev) || unicode.IsDigit(prev) || unicode.IsUpper(prev) && nextLower {
					b.WriteByte('_')
				}
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// labelStruct is the machinery the typed metrics share: it reads a label
// set of type L into positional values and looks them up in the family f.
type labelStruct[L comparable, T any, PT seriesPtr[T]] struct {
	f *family[T, PT] // its declared label names are L's, one per field
}

// newTyped makes a typed metric: it checks L, calls ctor (NewCounter, ...)
// with WithLabelNames(L's label names) added to opts, and hands the metric
// to wrap.
func newTyped[L comparable, M any, X Collector](name, help, reserved string, opts []Option,
	ctor func(string, string, ...Option) (M, error), wrap func(M) X,
) (X, error) {
	var zero X
	typ := reflect.TypeFor[L]()
	o := buildOptions(name, help, opts)
	if o.labelNames != nil {
		return zero, errorf(ErrInvalidLabels, "metric %q: WithLabelNames is not allowed: the label names come from the struct type %v", name, typ)
	}
	names, err := newLabelFields(typ, name, reserved, o.constLabels)
	if err != nil {
		return zero, err
	}
	// The typed metric is what the registry holds, so that Get and
	// AlreadyRegisteredError.Existing give back what its creator holds.
	m, err := ctor(name, help, append(slices.Clip(opts), WithLabelNames(names...), WithRegistry(nil))...)
	if err != nil {
		return zero, err
	}
	return register(o, wrap(m))
}

// untyped returns the metric a typed metric wraps: the registry takes
// the two for one collector (see collectorKey).
func (c *CounterOf[L]) untyped() Collector   { return c.Counter }
func (g *GaugeOf[L]) untyped() Collector     { return g.Gauge }
func (h *HistogramOf[L]) untyped() Collector { return h.Histogram }
func (m *SummaryOf[L]) untyped() Collector   { return m.Summary }

// values returns the label values of *l, in place: a struct whose fields
// are all strings is laid out as an array of strings (newLabelFields checks
// that the field offsets say so), so the slice is *l's own memory. Nothing is
// copied or allocated, and the lookups only read the slice.
//
// This is the one use of unsafe. It is sound because the layout was taken
// by reflect from this same type L (the type parameter ties them
// together), each field has kind string (string itself or a type whose
// underlying type is string, laid out as a string), and the slice covers
// exactly the value *l.
func (s *labelStruct[L, T, PT]) values(l *L) []string {
	return unsafe.Slice((*string)(unsafe.Pointer(l)), len(s.f.schema.declared))
}

// bind returns the series for l, creating it on first use, or the
// family's discard series and the reason l does not fit.
func (s *labelStruct[L, T, PT]) bind(l *L) (PT, error) { return s.f.bindValues(s.values(l)) }

// with is bind without the error. It takes withValues' hit path itself:
// called from here withValues would not inline, and its call would cost
// typed labels a few percent over positional values.
func (s *labelStruct[L, T, PT]) with(l *L) PT {
	f, vals := s.f, s.values(l)
	if f.expiry == 0 {
		if p := f.findValues(fold(hashStrings(hashInit, vals)), vals); p != nil {
			return PT(p)
		}
	}
	return f.counted(f.addValues(vals))
}

// find returns the series for l, or nil when it does not exist.
func (s *labelStruct[L, T, PT]) find(l *L) PT {
	k := valuesKey(s.values(l))
	return s.f.findKey(&k)
}

// delete removes the series for l; it reports whether it existed.
func (s *labelStruct[L, T, PT]) delete(l *L) bool { return s.f.deleteValues(s.values(l)) }

// valueOf returns value(p), and false when p is nil.
func valueOf[T any, PT seriesPtr[T], V any](p PT, value func(PT) V) (V, bool) {
	if p == nil {
		var zero V
		return zero, false
	}
	return value(p), true
}

// CounterOf is a [Counter] whose label sets are values of the struct type
// L: one string field a label, so a label set of the wrong size or order
// does not compile. The label names come from the fields (see
// [NewCounterOf]). The embedded Counter gives the rest of the API (Name,
// All, Reset, Collect, WithValues...); With, Bind, Get and Delete take an
// L instead of a [Labels] map.
//
// A CounterOf is safe for concurrent use.
type CounterOf[L comparable] struct {
	*Counter
	labels labelStruct[L, CounterSeries, *CounterSeries]
}

// NewCounterOf creates a counter whose label names are the fields of L and
// registers it like [NewCounter], which it calls with opts and
// [WithLabelNames] of those names.
//
// L must be a struct with at least one field, each of kind string (named
// string types are fine), none embedded or blank; unexported fields are
// allowed. A field's label name is its `label:"..."` tag, or else its
// name in snake_case (StatusCode gives status_code, HTTPMethod
// http_method). The names follow the rules of [WithLabelNames]. The
// labels come from L alone, so passing WithLabelNames is an error; every
// other option works as for NewCounter.
func NewCounterOf[L comparable](name, help string, opts ...Option) (*CounterOf[L], error) {
	return newTyped[L](name, help, "", opts, NewCounter, func(c *Counter) *CounterOf[L] {
		return &CounterOf[L]{c, labelStruct[L, CounterSeries, *CounterSeries]{&c.f}}
	})
}

// With returns the series for the label set l, creating it on first use.
// A hit neither locks nor allocates, like [Counter.WithValues]. Values that
// cannot make a series give a detached one, as for [Counter.With].
func (c *CounterOf[L]) With(l L) *CounterSeries { return c.labels.with(&l) }

// Bind is [CounterOf.With] that reports why a series could not be made.
func (c *CounterOf[L]) Bind(l L) (*CounterSeries, error) { return c.labels.bind(&l) }

// Get returns the value of the series for l, and false when that series
// does not exist.
func (c *CounterOf[L]) Get(l L) (float64, bool) {
	return valueOf(c.labels.find(&l), (*CounterSeries).Value)
}

// Delete removes the series for l; it reports whether it existed.
func (c *CounterOf[L]) Delete(l L) bool { return c.labels.delete(&l) }

// GaugeOf is a [Gauge] whose label sets are values of the struct type L;
// see [CounterOf]. It is safe for concurrent use.
type GaugeOf[L comparable] struct {
	*Gauge
	labels labelStruct[L, GaugeSeries, *GaugeSeries]
}

// NewGaugeOf creates a gauge whose label names are the fields of L; see
// [NewCounterOf] for the rules, and [NewGauge] for the options.
func NewGaugeOf[L comparable](name, help string, opts ...Option) (*GaugeOf[L], error) {
	return newTyped[L](name, help, "", opts, NewGauge, func(g *Gauge) *GaugeOf[L] {
		return &GaugeOf[L]{g, labelStruct[L, GaugeSeries, *GaugeSeries]{&g.f}}
	})
}

// With returns the series for the label set l; see [CounterOf.With].
func (g *GaugeOf[L]) With(l L) *GaugeSeries { return g.labels.with(&l) }

// Bind is [GaugeOf.With] that reports why a series could not be made.
func (g *GaugeOf[L]) Bind(l L) (*GaugeSeries, error) { return g.labels.bind(&l) }

// Get returns the value of the series for l, and false when that series
// does not exist.
func (g *GaugeOf[L]) Get(l L) (float64, bool) {
	return valueOf(g.labels.find(&l), (*GaugeSeries).Value)
}

// Delete removes the series for l; it reports whether it existed.
func (g *GaugeOf[L]) Delete(l L) bool { return g.labels.delete(&l) }

// HistogramOf is a [Histogram] whose label sets are values of the struct
// type L; see [CounterOf]. It is safe for concurrent use.
type HistogramOf[L comparable] struct {
	*Histogram
	labels labelStruct[L, HistogramSeries, *HistogramSeries]
}

// NewHistogramOf creates a histogram whose label names are the fields of
// L; see [NewCounterOf] for the rules, and [NewHistogram] for the options.
// The label name le is reserved.
func NewHistogramOf[L comparable](name, help string, opts ...Option) (*HistogramOf[L], error) {
	return newTyped[L](name, help, "le", opts, NewHistogram, func(h *Histogram) *HistogramOf[L] {
		return &HistogramOf[L]{h, labelStruct[L, HistogramSeries, *HistogramSeries]{&h.f}}
	})
}

// With returns the series for the label set l; see [CounterOf.With].
func (h *HistogramOf[L]) With(l L) *HistogramSeries { return h.labels.with(&l) }

// Bind is [HistogramOf.With] that reports why a series could not be made.
func (h *HistogramOf[L]) Bind(l L) (*HistogramSeries, error) { return h.labels.bind(&l) }

// Get returns the state of the series for l, and false when that series
// does not exist.
func (h *HistogramOf[L]) Get(l L) (HistogramValue, bool) {
	return valueOf(h.labels.find(&l), (*HistogramSeries).Value)
}

// Delete removes the series for l; it reports whether it existed.
func (h *HistogramOf[L]) Delete(l L) bool { return h.labels.delete(&l) }

// SummaryOf is a [Summary] whose label sets are values of the struct type
// L; see [CounterOf]. It is safe for concurrent use.
type SummaryOf[L comparable] struct {
	*Summary
	labels labelStruct[L, SummarySeries, *SummarySeries]
}

// NewSummaryOf creates a summary whose label names are the fields of L;
// see [NewCounterOf] for the rules, and [NewSummary] for the options. The
// label name quantile is reserved.
func NewSummaryOf[L comparable](name, help string, opts ...Option) (*SummaryOf[L], error) {
	return newTyped[L](name, help, "quantile", opts, NewSummary, func(m *Summary) *SummaryOf[L] {
		return &SummaryOf[L]{m, labelStruct[L, SummarySeries, *SummarySeries]{&m.f}}
	})
}

// With returns the series for the label set l; see [CounterOf.With].
func (m *SummaryOf[L]) With(l L) *SummarySeries { return m.labels.with(&l) }

// Bind is [SummaryOf.With] that reports why a series could not be made.
func (m *SummaryOf[L]) Bind(l L) (*SummarySeries, error) { return m.labels.bind(&l) }

// Get returns the state of the series for l, and false when that series
// does not exist.
func (m *SummaryOf[L]) Get(l L) (SummaryValue, bool) {
	return valueOf(m.labels.find(&l), (*SummarySeries).Value)
}

// Delete removes the series for l; it reports whether it existed.
func (m *SummaryOf[L]) Delete(l L) bool { return m.labels.delete(&l) }
