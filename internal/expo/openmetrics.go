package expo

import (
	"strconv"
	"strings"
)

// OpenMetricsContentType is the Content-Type of OpenMetrics 1.0 text.
const OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

// OpenMetrics encodes OpenMetrics 1.0 text into Buf: counters as _total
// samples, UNIT lines, exemplars, optional _created samples, and # EOF.
//
// OpenMetrics gives a histogram's or summary's _sum and _count counter
// semantics and forbids negative quantile values, so samples that would
// break those rules (a negative or NaN sum, a negative quantile, _sum and
// _count of a histogram with a negative bucket bound) are left out; the
// text and protobuf formats carry them.
type OpenMetrics struct {
	Buf []byte
	// Created adds a _created sample to each counter, histogram and summary
	// whose creation time is known.
	Created bool
	name    string // the family name: a counter's name without _total
}

// Family writes the HELP, TYPE and UNIT lines.
func (o *OpenMetrics) Family(name, help string, typ Type, unit string) {
	if typ == Counter {
		name = strings.TrimSuffix(name, "_total")
	}
	o.name = name
	b := append(o.Buf, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = AppendLabelValue(b, help) // OpenMetrics escapes quotes in HELP too
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	if typ == Untyped {
		b = append(b, "unknown"...)
	} else {
		b = append(b, typ.String()...)
	}
	b = append(b, '\n')
	if unit != "" {
		b = append(b, "# UNIT "...)
		b = append(b, name...)
		b = append(b, ' ')
		b = append(b, unit...)
		b = append(b, '\n')
	}
	o.Buf = b
}

// Value writes a gauge or unknown sample.
func (o *OpenMetrics) Value(l *Labels, v float64) {
	o.Buf = appendSample(o.Buf, o.name, "", l.Text, "", v)
}

// Counter writes name_total with its exemplar, and name_created.
func (o *OpenMetrics) Counter(l *Labels, v float64, created int64, ex *Exemplar) {
	b := appendSeriesName(o.Buf, o.name, "_total", l.Text, "")
	b = append(b, ' ')
	b = AppendFloat(b, v)
	b = appendExemplar(b, ex)
	o.Buf = o.appendCreated(append(b, '\n'), l, created)
}

// Histogram writes the buckets with their exemplars, _count, _sum and
// _created.
func (o *OpenMetrics) Histogram(l *Labels, h *HistogramData) {
	b := o.Buf
	var cum uint64
	for i, c := range h.Counts {
		cum += c
		le := `le="+Inf"`
		if i < len(h.LesOM) {
			le = h.LesOM[i]
		}
		b = appendSeriesName(b, o.name, "_bucket", l.Text, le)
		b = append(b, ' ')
		b = appendUint(b, cum)
		if h.Exemplars != nil {
			b = appendExemplar(b, h.Exemplars[i])
		}
		b = append(b, '\n')
	}
	// OpenMetrics gives _count and _sum counter semantics and allows them
	// only together, and not at all with a negative bucket bound: leave
	// both out when the sum could not be a counter. The +Inf bucket still
	// holds the count.
	if counterLike(h.Sum) && (len(h.Bounds) == 0 || h.Bounds[0] >= 0) {
		b = appendSampleUint(b, o.name, "_count", l.Text, "", cum)
		b = appendSample(b, o.name, "_sum", l.Text, "", h.Sum)
	}
	o.Buf = o.appendCreated(b, l, h.Created)
}

// counterLike reports whether v may stand where OpenMetrics wants counter
// semantics: not NaN, not negative.
func counterLike(v float64) bool { return v >= 0 }

// Summary writes the quantiles, _count, _sum and _created.
func (o *OpenMetrics) Summary(l *Labels, s *SummaryData) {
	b := o.Buf
	for i, v := range s.Values {
		if v < 0 { // OpenMetrics forbids negative quantile values
			continue
		}
		b = appendSample(b, o.name, "", l.Text, s.QTextsOM[i], v)
	}
	b = appendSampleUint(b, o.name, "_count", l.Text, "", s.Count)
	if counterLike(s.Sum) {
		b = appendSample(b, o.name, "_sum", l.Text, "", s.Sum)
	}
	o.Buf = o.appendCreated(b, l, s.Created)
}

// End writes # EOF.
func (o *OpenMetrics) End() { o.Buf = append(o.Buf, "# EOF\n"...) }

func (o *OpenMetrics) appendCreated(b []byte, l *Labels, created int64) []byte {
	if !o.Created || created == 0 {
		return b
	}
	return appendSample(b, o.name, "_created", l.Text, "", float64(created)/1e9)
}

func appendExemplar(b []byte, ex *Exemplar) []byte {
	if ex == nil {
		return b
	}
	b = append(b, " # {"...)
	b = append(b, ex.Labels.Text...)
	b = append(b, "} "...)
	b = AppendFloat(b, ex.Value)
	if ex.Timestamp != 0 {
		// Seconds in plain decimal: some strict parsers misread exponents
		// in exemplar timestamps.
		b = append(b, ' ')
		b = strconv.AppendFloat(b, float64(ex.Timestamp)/1e9, 'f', -1, 64)
	}
	return b
}
