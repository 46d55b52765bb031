package expo

// TextContentType is the Content-Type of the text format 0.0.4.
const TextContentType = "text/plain; version=0.0.4; charset=utf-8"

// Text encodes the Prometheus text format 0.0.4 into Buf. It leaves out
// exemplars and creation times, which the format cannot carry.
type Text struct {
	Buf  []byte
	name string
}

// Family writes the HELP and TYPE lines.
func (t *Text) Family(name, help string, typ Type, _ string) {
	t.name = name
	b := append(t.Buf, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = AppendHelp(b, help)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ.String()...)
	t.Buf = append(b, '\n')
}

// Value writes name{labels} value.
func (t *Text) Value(l *Labels, v float64) {
	t.Buf = appendSample(t.Buf, t.name, "", l.Text, "", v)
}

// Counter writes name{labels} value.
func (t *Text) Counter(l *Labels, v float64, _ int64, _ *Exemplar) { t.Value(l, v) }

// Histogram writes the cumulative _bucket lines, _sum and _count.
func (t *Text) Histogram(l *Labels, h *HistogramData) {
	b := t.Buf
	var cum uint64
	for i, c := range h.Counts {
		cum += c
		le := `le="+Inf"`
		if i < len(h.Les) {
			le = h.Les[i]
		}
		b = appendSampleUint(b, t.name, "_bucket", l.Text, le, cum)
	}
	b = appendSample(b, t.name, "_sum", l.Text, "", h.Sum)
	t.Buf = appendSampleUint(b, t.name, "_count", l.Text, "", cum)
}

// Summary writes the quantile lines, _sum and _count.
func (t *Text) Summary(l *Labels, s *SummaryData) {
	b := t.Buf
	for i, v := range s.Values {
		b = appendSample(b, t.name, "", l.Text, s.QTexts[i], v)
	}
	b = appendSample(b, t.name, "_sum", l.Text, "", s.Sum)
	t.Buf = appendSampleUint(b, t.name, "_count", l.Text, "", s.Count)
}

// End does nothing: the text format has no end marker.
func (t *Text) End() {}

func appendSample(b []byte, name, suffix, labels, extra string, v float64) []byte {
	b = appendSeriesName(b, name, suffix, labels, extra)
	b = append(b, ' ')
	b = AppendFloat(b, v)
	return append(b, '\n')
}

func appendSampleUint(b []byte, name, suffix, labels, extra string, v uint64) []byte {
	b = appendSeriesName(b, name, suffix, labels, extra)
	b = append(b, ' ')
	b = appendUint(b, v)
	return append(b, '\n')
}

// appendSeriesName appends name+suffix and the label block; extra is one more
// rendered pair (le or quantile) placed last.
func appendSeriesName(b []byte, name, suffix, labels, extra string) []byte {
	b = append(b, name...)
	b = append(b, suffix...)
	if labels == "" && extra == "" {
		return b
	}
	b = append(b, '{')
	b = append(b, labels...)
	if extra != "" {
		if labels != "" {
			b = append(b, ',')
		}
		b = append(b, extra...)
	}
	return append(b, '}')
}

func appendUint(b []byte, v uint64) []byte {
	if v < 10 {
		return append(b, byte('0'+v))
	}
	var tmp [20]byte
	i := len(tmp)
	for v > 0 {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, tmp[i:]...)
}
