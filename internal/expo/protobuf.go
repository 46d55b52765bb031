package expo

import (
	"encoding/binary"
	"math"
)

// ProtobufContentType is the Content-Type of the delimited protobuf format.
const ProtobufContentType = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

// Field numbers of io.prometheus.client's messages (metrics.proto).
const (
	fFamilyName   = 1
	fFamilyHelp   = 2
	fFamilyType   = 3
	fFamilyMetric = 4
	fFamilyUnit   = 5

	fMetricLabel     = 1
	fMetricGauge     = 2
	fMetricCounter   = 3
	fMetricSummary   = 4
	fMetricUntyped   = 5
	fMetricHistogram = 7

	fLabelName  = 1
	fLabelValue = 2

	fValue = 1 // Gauge.value, Counter.value, Untyped.value

	fCounterExemplar = 2
	fCounterCreated  = 3

	fSummaryCount    = 1
	fSummarySum      = 2
	fSummaryQuantile = 3
	fSummaryCreated  = 4

	fQuantileQuantile = 1
	fQuantileValue    = 2

	fHistogramCount   = 1
	fHistogramSum     = 2
	fHistogramBucket  = 3
	fHistogramCreated = 15

	fBucketCount    = 1
	fBucketBound    = 2
	fBucketExemplar = 3

	fExemplarLabel = 1
	fExemplarValue = 2
	fExemplarTime  = 3

	fTimestampSeconds = 1
	fTimestampNanos   = 2
)

const (
	wireVarint = 0
	wireI64    = 1
	wireLen    = 2
)

// Protobuf encodes varint-delimited io.prometheus.client.MetricFamily
// messages into Buf, writing the bytes directly: no message objects. A
// family without metrics is left out, as client_golang leaves it out:
// an empty MetricFamily carries nothing for a scraper, and a Pushgateway
// reads one in a POST as "this family has no series", deleting the group's
// earlier series of it (the text formats' HELP and TYPE lines alone do
// not touch them).
type Protobuf struct {
	Buf    []byte
	family int  // offset of the open family's length placeholder
	open   bool // a family was started and not closed
	filled bool // the open family has a metric
	typ    Type
}

// Family closes the previous family and starts a new one.
func (p *Protobuf) Family(name, help string, typ Type, unit string) {
	p.closeFamily()
	p.family = len(p.Buf)
	p.Buf = append(p.Buf, 0) // length placeholder
	p.open, p.filled, p.typ = true, false, typ
	p.Buf = appendString(p.Buf, fFamilyName, name)
	p.Buf = appendString(p.Buf, fFamilyHelp, ValidUTF8(help))
	p.Buf = appendVarintField(p.Buf, fFamilyType, uint64(typ))
	if unit != "" {
		p.Buf = appendString(p.Buf, fFamilyUnit, unit)
	}
}

func (p *Protobuf) closeFamily() {
	switch {
	case !p.open:
		return
	case p.filled:
		p.Buf = closeLen(p.Buf, p.family)
	default:
		p.Buf = p.Buf[:p.family]
	}
	p.open = false
}

// startMetric writes the Metric's tag and labels and returns the offset of
// its length placeholder.
func (p *Protobuf) startMetric(l *Labels) int {
	p.filled = true
	at := openLen(&p.Buf, fFamilyMetric)
	l.eachEscaped(func(n, e string) { p.Buf = appendLabelPair(p.Buf, fMetricLabel, n, e) })
	return at
}

// Value writes a gauge or untyped metric.
func (p *Protobuf) Value(l *Labels, v float64) {
	m := p.startMetric(l)
	field := fMetricGauge
	if p.typ == Untyped {
		field = fMetricUntyped
	}
	inner := openLen(&p.Buf, field)
	p.Buf = appendDouble(p.Buf, fValue, v)
	p.Buf = closeLen(p.Buf, inner)
	p.Buf = closeLen(p.Buf, m)
}

// Counter writes a counter metric with its exemplar and creation time.
func (p *Protobuf) Counter(l *Labels, v float64, created int64, ex *Exemplar) {
	m := p.startMetric(l)
	inner := openLen(&p.Buf, fMetricCounter)
	p.Buf = appendDouble(p.Buf, fValue, v)
	p.Buf = appendExemplarMsg(p.Buf, fCounterExemplar, ex)
	p.Buf = appendTimestamp(p.Buf, fCounterCreated, created)
	p.Buf = closeLen(p.Buf, inner)
	p.Buf = closeLen(p.Buf, m)
}

// Histogram writes a classic histogram. The +Inf bucket is implied by the
// count, and written only to carry an exemplar.
func (p *Protobuf) Histogram(l *Labels, h *HistogramData) {
	m := p.startMetric(l)
	inner := openLen(&p.Buf, fMetricHistogram)
	var count uint64
	for _, c := range h.Counts {
		count += c
	}
	p.Buf = appendVarintField(p.Buf, fHistogramCount, count)
	p.Buf = appendDouble(p.Buf, fHistogramSum, h.Sum)
	var cum uint64
	for i, c := range h.Counts {
		cum += c
		var ex *Exemplar
		if h.Exemplars != nil {
			ex = h.Exemplars[i]
		}
		bound := math.Inf(1)
		if i < len(h.Bounds) {
			bound = h.Bounds[i]
		} else if ex == nil {
			break
		}
		bk := openLen(&p.Buf, fHistogramBucket)
		p.Buf = appendVarintField(p.Buf, fBucketCount, cum)
		p.Buf = appendDouble(p.Buf, fBucketBound, bound)
		p.Buf = appendExemplarMsg(p.Buf, fBucketExemplar, ex)
		p.Buf = closeLen(p.Buf, bk)
	}
	p.Buf = appendTimestamp(p.Buf, fHistogramCreated, h.Created)
	p.Buf = closeLen(p.Buf, inner)
	p.Buf = closeLen(p.Buf, m)
}

// Summary writes a summary.
func (p *Protobuf) Summary(l *Labels, s *SummaryData) {
	m := p.startMetric(l)
	inner := openLen(&p.Buf, fMetricSummary)
	p.Buf = appendVarintField(p.Buf, fSummaryCount, s.Count)
	p.Buf = appendDouble(p.Buf, fSummarySum, s.Sum)
	for i, q := range s.Quantiles {
		qm := openLen(&p.Buf, fSummaryQuantile)
		p.Buf = appendDouble(p.Buf, fQuantileQuantile, q)
		p.Buf = appendDouble(p.Buf, fQuantileValue, s.Values[i])
		p.Buf = closeLen(p.Buf, qm)
	}
	p.Buf = appendTimestamp(p.Buf, fSummaryCreated, s.Created)
	p.Buf = closeLen(p.Buf, inner)
	p.Buf = closeLen(p.Buf, m)
}

// End closes the last family.
func (p *Protobuf) End() { p.closeFamily() }

func appendTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field)<<3|uint64(wire))
}

func appendVarintField(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(appendTag(b, field, wireVarint), v)
}

// appendDouble appends a double field. Every NaN is written as the one
// that math.NaN returns, as the text formats write every NaN as "NaN":
// Prometheus reads one particular NaN payload as its staleness marker, and
// a gauge set to those bits would vanish from it at every scrape.
func appendDouble(b []byte, field int, v float64) []byte {
	bits := math.Float64bits(v)
	if v != v {
		bits = canonicalNaN
	}
	return binary.LittleEndian.AppendUint64(appendTag(b, field, wireI64), bits)
}

// canonicalNaN holds the bits of math.NaN(), which Prometheus stores as a
// plain NaN value.
var canonicalNaN = math.Float64bits(math.NaN())

func appendString(b []byte, field int, s string) []byte {
	b = binary.AppendUvarint(appendTag(b, field, wireLen), uint64(len(s)))
	return append(b, s...)
}

// appendLabelPair appends a LabelPair whose value is given escaped as in
// Labels.Text, unescaping it on the way without an allocation.
func appendLabelPair(b []byte, field int, name, escaped string) []byte {
	n := unescapedLen(escaped)
	b = appendTag(b, field, wireLen)
	b = binary.AppendUvarint(b, uint64(1+uvarintLen(len(name))+len(name)+1+uvarintLen(n)+n))
	b = appendString(b, fLabelName, name)
	b = binary.AppendUvarint(appendTag(b, fLabelValue, wireLen), uint64(n))
	return appendUnescaped(b, escaped)
}

func appendExemplarMsg(b []byte, field int, ex *Exemplar) []byte {
	if ex == nil {
		return b
	}
	at := openLen(&b, field)
	ex.Labels.eachEscaped(func(n, e string) { b = appendLabelPair(b, fExemplarLabel, n, e) })
	b = appendDouble(b, fExemplarValue, ex.Value)
	b = appendTimestamp(b, fExemplarTime, ex.Timestamp)
	return closeLen(b, at)
}

// appendTimestamp writes a google.protobuf.Timestamp for Unix nanoseconds
// ns, or nothing for 0.
func appendTimestamp(b []byte, field int, ns int64) []byte {
	if ns == 0 {
		return b
	}
	sec, nanos := ns/1e9, ns%1e9
	if nanos < 0 {
		sec, nanos = sec-1, nanos+1e9
	}
	at := openLen(&b, field)
	b = appendVarintField(b, fTimestampSeconds, uint64(sec))
	if nanos != 0 {
		b = appendVarintField(b, fTimestampNanos, uint64(nanos))
	}
	return closeLen(b, at)
}

// openLen writes a length-delimited field's tag and a one-byte length
// placeholder, and returns the placeholder's offset for closeLen.
func openLen(b *[]byte, field int) int {
	*b = appendTag(*b, field, wireLen)
	at := len(*b)
	*b = append(*b, 0)
	return at
}

// closeLen writes the length of everything after the placeholder at at,
// moving the content right when the length needs more than one byte.
func closeLen(b []byte, at int) []byte {
	n := len(b) - at - 1
	k := uvarintLen(n)
	if k > 1 {
		b = append(b, make([]byte, k-1)...)
		copy(b[at+k:], b[at+1:len(b)-(k-1)])
	}
	binary.PutUvarint(b[at:], uint64(n))
	return b
}

func uvarintLen(n int) int {
	k := 1
	for n >= 0x80 {
		n >>= 7
		k++
	}
	return k
}
