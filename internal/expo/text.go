package expo

// TextContentType is the Content-Type of the text format 0.0.4.
const TextContentType = "text/plain; version=0.0.4; charset=utf-8"

// Text encodes the Prometheus text format 0.0.4 into Buf.
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
	b := appendSeriesName(t.Buf, t.name, "", l.Text, "")
	b = append(b, ' ')
	b = AppendFloat(b, v)
	t.Buf = append(b, '\n')
}

// Histogram writes the cumulative _bucket lines, _sum and _count.
func (t *Text) Histogram(l *Labels, _ []float64, les []string, counts []uint64, sum float64) {
	b := t.Buf
	var cum uint64
	for i, c := range counts {
		cum += c
		le := `le="+Inf"`
		if i < len(les) {
			le = les[i]
		}
		b = appendSeriesName(b, t.name, "_bucket", l.Text, le)
		b = append(b, ' ')
		b = appendUint(b, cum)
		b = append(b, '\n')
	}
	t.Buf = t.appendSumCount(b, l, sum, cum)
}

// Summary writes the quantile lines, _sum and _count.
func (t *Text) Summary(l *Labels, _ []float64, qtexts []string, values []float64, count uint64, sum float64) {
	b := t.Buf
	for i, v := range values {
		b = appendSeriesName(b, t.name, "", l.Text, qtexts[i])
		b = append(b, ' ')
		b = AppendFloat(b, v)
		b = append(b, '\n')
	}
	t.Buf = t.appendSumCount(b, l, sum, count)
}

func (t *Text) appendSumCount(b []byte, l *Labels, sum float64, count uint64) []byte {
	b = appendSeriesName(b, t.name, "_sum", l.Text, "")
	b = append(b, ' ')
	b = AppendFloat(b, sum)
	b = append(b, '\n')
	b = appendSeriesName(b, t.name, "_count", l.Text, "")
	b = append(b, ' ')
	b = appendUint(b, count)
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
