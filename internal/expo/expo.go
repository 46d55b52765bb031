// Package expo holds prom's exposition encoders. Each encoder appends one
// format's bytes to a buffer while the metric families walk their own state,
// so a scrape builds no intermediate objects: the caller hands in label sets
// that are already rendered and numbers read straight from atomics.
package expo

import (
	"encoding/binary"
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
// have the same ones, and the values are not kept apart from Text, which
// holds them escaped; see Values and EqualValues.
type Labels struct {
	// Text is the set rendered for the text formats, escaped and without
	// braces: `a="x",b="y"`. Empty for the empty set.
	Text  string
	names *[]string
}

// MakeLabels returns the label set with these names (shared, not copied)
// and values (valid UTF-8), rendering its Text. The returned Labels keeps
// no reference to values' strings.
func MakeLabels(names *[]string, values []string) Labels {
	if len(values) == 0 {
		return Labels{}
	}
	l := Labels{names: names}
	size := 0
	for i, n := range *names {
		size += len(n) + len(values[i]) + 4
	}
	b := make([]byte, 0, size+8)
	for i, n := range *names {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, n...)
		b = append(b, '=', '"')
		b = AppendLabelValue(b, values[i])
		b = append(b, '"')
	}
	l.Text = string(b)
	return l
}

// Names returns the label names, in the order of the values.
func (l *Labels) Names() []string {
	if l.names == nil {
		return nil
	}
	return *l.names
}

// eachEscaped calls f with each label's name and value as escaped in Text.
func (l *Labels) eachEscaped(f func(name, escaped string)) {
	pos := 0
	for _, n := range l.Names() {
		pos += len(n) + 2 // name="
		end := valueEnd(l.Text, pos)
		f(n, l.Text[pos:end])
		pos = end + 2 // ",
	}
}

// Values returns the label values, in the order of Names. It allocates.
func (l *Labels) Values() []string {
	vals := make([]string, 0, len(l.Names()))
	l.eachEscaped(func(_, e string) { vals = append(vals, unescapeValue(e)) })
	return vals
}

// EqualValues reports whether the values of the labels from index from on
// are values. It does not allocate unless a value needs escaping.
func (l *Labels) EqualValues(from int, values []string) bool {
	names := l.Names()
	if len(names)-from != len(values) {
		return false
	}
	pos := 0
	for _, n := range names[:from] {
		pos = valueEnd(l.Text, pos+len(n)+2) + 2
	}
	return EqualValuesAt(l.Text, pos, names[from:], values)
}

// EqualValuesAt reports whether the labels of Text t from index pos on
// (the start of a label), whose names the caller knows to be names, have
// the values values. A caller that knows the names and where they start
// in every series' Text (a family's constant labels come first, rendered
// the same in every series) saves EqualValues' loads of the series' names
// and its walk over the labels before.
func EqualValuesAt(t string, pos int, names, values []string) bool {
	if len(names) != len(values) {
		return false
	}
	for i, v := range values {
		pos += len(names[i]) + 2
		end := pos + len(v)
		if end >= len(t) {
			return false
		}
		switch equalPlain(t[pos:end], v) {
		case unequal:
			return false
		case needsEscaping:
			// Text holds v escaped: only its escaped form can match.
			if end = equalEscaped(t, pos, v); end < 0 {
				return false
			}
		}
		// v (or its escaped form) has no unescaped quote, so the quote
		// after it in Text can only be its value's closing quote.
		if t[end] != '"' {
			return false
		}
		pos = end + 2
	}
	return true
}

// EqualPlainValuesAt is EqualValuesAt for a Text t that holds no
// backslash from pos on: its label values there were rendered without
// escaping, so every quote in it opens or closes a value. A value matches
// when the bytes between the quotes where it would start and end are its
// bytes. A value that needs escaping, or a wrong split of t's values
// (values that hold a quote, taking in the labels between), cannot
// match: the 2 × len(values) quotes the comparison requires, in order from
// the first value's opening quote, must then be t's own.
func EqualPlainValuesAt(t string, pos int, names, values []string) bool {
	if len(names) != len(values) {
		return false
	}
	for i, v := range values {
		pos += len(names[i]) + 2
		n := len(v)
		end := pos + n
		if end >= len(t) || t[pos-1] != '"' || t[end] != '"' {
			return false
		}
		// The bytes between, compared here rather than by a call per
		// value: short ones with two overlapping loads from each.
		pt, pv := unsafe.StringData(t[pos:]), unsafe.StringData(v)
		switch {
		case n > 16:
			if t[pos:end] != v {
				return false
			}
		case n >= 8:
			if word64(pt, 0) != word64(pv, 0) || word64(pt, n-8) != word64(pv, n-8) {
				return false
			}
		case n >= 4:
			if word32(pt, 0) != word32(pv, 0) || word32(pt, n-4) != word32(pv, n-4) {
				return false
			}
		case n > 0:
			if t[pos] != v[0] || t[pos+n>>1] != v[n>>1] || t[end-1] != v[n-1] {
				return false
			}
		}
		pos = end + 2
	}
	return true
}

// word64 and word32 read the word at p+i; it must be readable.
func word64(p *byte, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(p), i)), 8))
}

func word32(p *byte, i int) uint32 {
	return binary.LittleEndian.Uint32(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(p), i)), 4))
}

// The answers of equalPlain.
const (
	equal = iota
	unequal
	needsEscaping
)

// equalPlain compares a stretch of Text with a value of the same length:
// equal, unequal, or needsEscaping when v has a byte that Text holds
// escaped (before any difference), so that its escaped form must be
// compared instead. It reads eight bytes at a time and checks them for
// the escaped bytes as it compares: one pass, no call.
func equalPlain(t, v string) int {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		w := binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(v[i:]), 8))
		if hasEscaped(w) {
			return needsEscaping
		}
		if w != binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(t[i:]), 8)) {
			return unequal
		}
	}
	for ; i < len(v); i++ {
		c := v[i]
		if escaped[c] {
			return needsEscaping
		}
		if t[i] != c {
			return unequal
		}
	}
	return equal
}

// equalEscaped compares v's escaped form with Text from pos, returning
// where it ends in Text, or -1 when it differs.
func equalEscaped(t string, pos int, v string) int {
	var buf [64]byte
	e := AppendLabelValue(buf[:0], v)
	if len(t)-pos <= len(e) || string(e) != t[pos:pos+len(e)] {
		return -1
	}
	return pos + len(e)
}

// hasEscaped reports whether any of the eight bytes of w is one that
// AppendLabelValue escapes: a backslash, a quote or a newline.
func hasEscaped(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(x uint64) uint64 { return (x - ones) &^ x & highs }
	return zero(w^(ones*'\\'))|zero(w^(ones*'"'))|zero(w^(ones*'\n')) != 0
}

// escaped marks the bytes that AppendLabelValue escapes.
var escaped = [256]bool{'\\': true, '"': true, '\n': true}

// valueEnd returns the index of the quote that closes the escaped value
// starting at pos in t.
func valueEnd(t string, pos int) int {
	for i := pos; i < len(t); i++ {
		switch t[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(t)
}

// unescapeValue undoes AppendLabelValue's escaping.
func unescapeValue(e string) string {
	if strings.IndexByte(e, '\\') < 0 {
		return e
	}
	return string(appendUnescaped(make([]byte, 0, len(e)), e))
}

// appendUnescaped appends e with AppendLabelValue's escaping undone.
func appendUnescaped(b []byte, e string) []byte {
	for i := 0; i < len(e); i++ {
		c := e[i]
		if c == '\\' && i+1 < len(e) {
			i++
			if c = e[i]; c == 'n' {
				c = '\n'
			}
		}
		b = append(b, c)
	}
	return b
}

// unescapedLen returns the length of e with its escaping undone.
func unescapedLen(e string) int {
	n := len(e)
	for i := 0; i < len(e); i++ {
		if e[i] == '\\' && i+1 < len(e) {
			i++
			n--
		}
	}
	return n
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

// AppendLabelFloat appends v as a label value of the text format (a
// bucket's le, a quantile): in the shortest form that reads back to the
// same float64, with an exponent from 1e+06 on (1e+06, not 1000000), NaN,
// +Inf and -Inf by name. It is how client_golang spells them, and
// Prometheus 2 keeps a label value of the text format as it is written, so
// a bucket keeps its series when a program moves from client_golang to
// prom. (OpenMetrics has its own canonical form, AppendCanonicalFloat.)
func AppendLabelFloat(b []byte, v float64) []byte {
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
