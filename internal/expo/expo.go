// Package expo holds prom's exposition encoders. Each encoder appends one
// format's bytes to a buffer while the metric families walk their own state,
// so a scrape builds no intermediate objects: the caller hands in label sets
// that are already rendered and numbers read straight from atomics.
package expo

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// Type is a metric family's type.
type Type uint8

// The metric types, numbered as in io.prometheus.client.MetricType.
const (
	Counter   Type = 0
	Gauge     Type = 1
	Summary   Type = 2
	Untyped   Type = 3
	Histogram Type = 4
)

// String returns the type's name as the text formats spell it.
func (t Type) String() string {
	switch t {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Summary:
		return "summary"
	case Histogram:
		return "histogram"
	default:
		return "untyped"
	}
}

// Labels is one series' label set, ready for every encoder. It is kept
// small, as every series holds one: the names are shared by the series that
// have the same ones, and values that need no escaping point into Text.
type Labels struct {
	// Text is the set rendered for the text formats, escaped and without
	// braces: `a="x",b="y"`. Empty for the empty set.
	Text string
	// values points at the first of the label values, constant labels
	// included, in the order of the names: one pointer rather than a slice
	// header, as the count is the names'. They are valid UTF-8.
	values *string
	names  *[]string
}

// MakeLabels returns the label set with these names (shared, not copied)
// and values, rendering its Text. Values that need no escaping are made
// substrings of Text, so they cost no memory of their own; the others are
// copied. The returned Labels keeps no reference to values' strings.
func MakeLabels(names *[]string, values []string) Labels {
	l := Labels{names: names}
	if len(values) == 0 {
		return l
	}
	vals := make([]string, len(values))
	l.values = &vals[0]
	size := 0
	for i, n := range *names {
		size += len(n) + len(values[i]) + 4
	}
	b := make([]byte, 0, size+8)
	type span struct{ start, end int }
	var spanBuf [8]span
	spans := spanBuf[:0]
	if len(values) > len(spanBuf) {
		spans = make([]span, 0, len(values))
	}
	spans = spans[:len(values)]
	for i, n := range *names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
		b = append(b, '=', '"')
		start := len(b)
		b = AppendLabelValue(b, values[i])
		spans[i] = span{start, len(b)}
		b = append(b, '"')
	}
	l.Text = string(b)
	for i, v := range values {
		if sp := spans[i]; sp.end-sp.start == len(v) && l.Text[sp.start:sp.end] == v {
			vals[i] = l.Text[sp.start:sp.end]
		} else {
			vals[i] = strings.Clone(v)
		}
	}
	return l
}

// Names returns the label names, in the order of Values.
func (l *Labels) Names() []string {
	if l.names == nil {
		return nil
	}
	return *l.names
}

// Values returns the label values, in the order of Names. The caller must
// not modify them.
func (l *Labels) Values() []string {
	if l.values == nil {
		return nil
	}
	return unsafe.Slice(l.values, len(*l.names))
}

// Exemplar is an example observation attached to a counter or a bucket.
type Exemplar struct {
	Labels    Labels
	Value     float64
	Timestamp int64 // Unix nanoseconds; 0 means none
}

// HistogramData is one classic histogram series, as the family hands it to
// an encoder.
type HistogramData struct {
	Bounds []float64 // finite upper bounds, ascending
	Les    []string  // le pairs for the text format: le="0.5"
	LesOM  []string  // le pairs in OpenMetrics' canonical form: le="1.0"
	Counts []uint64  // per bucket, not cumulative; +Inf last
	Sum    float64
	// Exemplars holds one per bucket (nil entries for none), or is nil.
	Exemplars []*Exemplar
	Created   int64 // Unix nanoseconds; 0 means unknown
}

// SummaryData is one summary series.
type SummaryData struct {
	Quantiles []float64
	QTexts    []string // quantile pairs for the text format
	QTextsOM  []string // quantile pairs in OpenMetrics' canonical form
	Values    []float64
	Count     uint64
	Sum       float64
	Created   int64
}

// Encoder receives metric families one after another. Family starts a family;
// every sample call that follows belongs to it until the next Family. End
// closes the exposition.
type Encoder interface {
	// Family starts a family. name is the name the user registered.
	Family(name, help string, typ Type, unit string)
	// Value writes one gauge or untyped sample.
	Value(l *Labels, v float64)
	// Counter writes one counter sample; created is its creation time in
	// Unix nanoseconds (0 for unknown) and ex its exemplar or nil.
	Counter(l *Labels, v float64, created int64, ex *Exemplar)
	// Histogram writes one classic histogram.
	Histogram(l *Labels, h *HistogramData)
	// Summary writes one summary.
	Summary(l *Labels, s *SummaryData)
	// End finishes the exposition.
	End()
}

// AppendFloat appends v as the Prometheus text formats spell numbers:
// integral values up to 2^53 without an exponent or fraction, NaN, +Inf and
// -Inf by name, and everything else in the shortest form that reads back to
// the same float64.
func AppendFloat(b []byte, v float64) []byte {
	if v == math.Trunc(v) && v >= -(1<<53) && v <= 1<<53 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	if special := specialFloat(v); special != "" {
		return append(b, special...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, 64)
}

// specialFloat names NaN and the infinities, and returns "" for other
// values.
func specialFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return ""
}

// AppendLabelValue appends s escaped for a quoted label value: backslash,
// double quote and newline are escaped; invalid UTF-8 becomes U+FFFD.
func AppendLabelValue(b []byte, s string) []byte {
	return appendEscaped(b, s, true)
}

// AppendHelp appends s escaped for a HELP line of the text format 0.0.4:
// backslash and newline are escaped; invalid UTF-8 becomes U+FFFD.
func AppendHelp(b []byte, s string) []byte {
	return appendEscaped(b, s, false)
}

func appendEscaped(b []byte, s string, quote bool) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			var esc string
			switch {
			case c == '\\':
				esc = `\\`
			case c == '\n':
				esc = `\n`
			case c == '"' && quote:
				esc = `\"`
			default:
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, esc...)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

// AppendCanonicalFloat appends v in OpenMetrics' canonical form for le and
// quantile values: Go's shortest form with ".0" added to whole numbers, so
// that 1 is "1.0" and 1e6 is "1e+06".
func AppendCanonicalFloat(b []byte, v float64) []byte {
	if special := specialFloat(v); special != "" {
		return append(b, special...)
	}
	start := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	for _, c := range b[start:] {
		if c == '.' || c == 'e' {
			return b
		}
	}
	return append(b, ".0"...)
}

// AppendLabelPair appends name="value" with the value escaped.
func AppendLabelPair(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, '=', '"')
	b = AppendLabelValue(b, value)
	return append(b, '"')
}

// ValidUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, as the encoders write it.
func ValidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for _, r := range s {
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}
