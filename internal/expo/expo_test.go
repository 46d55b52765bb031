package expo

import (
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

var floatCases = []struct {
	v    float64
	want string
}{
	{0, "0"}, {1, "1"}, {-1, "-1"}, {1e6, "1000000"}, {123456789, "123456789"},
	{1 << 53, "9007199254740992"}, {-(1 << 53), "-9007199254740992"},
	{1 << 54, "1.8014398509481984e+16"}, {1e21, "1e+21"}, {-1e21, "-1e+21"},
	{0.5, "0.5"}, {0.1, "0.1"}, {1e-9, "1e-09"}, {2.5e-300, "2.5e-300"},
	{math.Inf(1), "+Inf"}, {math.Inf(-1), "-Inf"}, {math.NaN(), "NaN"},
	{math.Copysign(0, -1), "0"}, {math.MaxFloat64, "1.7976931348623157e+308"},
	{math.SmallestNonzeroFloat64, "5e-324"},
}

func TestAppendFloat(t *testing.T) {
	for _, tt := range floatCases {
		if got := string(AppendFloat(nil, tt.v)); got != tt.want {
			t.Errorf("AppendFloat(%v) = %q; want %q", tt.v, got, tt.want)
		}
	}
}

// parseFloat reads a number as the text formats spell it.
func parseFloat(s string) (float64, error) {
	switch s {
	case "+Inf":
		return math.Inf(1), nil
	case "-Inf":
		return math.Inf(-1), nil
	case "NaN":
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

func FuzzAppendFloat(f *testing.F) {
	for _, tt := range floatCases {
		f.Add(math.Float64bits(tt.v))
	}
	f.Fuzz(func(t *testing.T, bits uint64) {
		v := math.Float64frombits(bits)
		s := string(AppendFloat(nil, v))
		got, err := parseFloat(s)
		if err != nil {
			t.Fatalf("AppendFloat(%v) = %q does not parse: %v", v, s, err)
		}
		if got != v && !(math.IsNaN(got) && math.IsNaN(v)) && !(got == 0 && v == 0) {
			t.Fatalf("AppendFloat(%v) = %q reads back as %v", v, s, got)
		}
		if strings.ContainsAny(s, " \n\"") {
			t.Fatalf("AppendFloat(%v) = %q holds a separator", v, s)
		}
		if v == math.Trunc(v) && math.Abs(v) <= 1<<53 && strings.ContainsAny(s, "e.") {
			t.Fatalf("integral %v written as %q", v, s)
		}
	})
}

var escapeCases = []struct{ in, label, help string }{
	{"plain", "plain", "plain"},
	{`a"b`, `a\"b`, `a"b`},
	{`a\b`, `a\\b`, `a\\b`},
	{"a\nb", `a\nb`, `a\nb`},
	{"tab\tcr\r", "tab\tcr\r", "tab\tcr\r"},
	{"ünï €", "ünï €", "ünï €"},
	{"bad\xff\xfe", "bad\uFFFD\uFFFD", "bad\uFFFD\uFFFD"},
	{"\xe2\x82", "\uFFFD\uFFFD", "\uFFFD\uFFFD"}, // truncated rune
	{"", "", ""},
	{`\n`, `\\n`, `\\n`},
}

func TestEscaping(t *testing.T) {
	for _, tt := range escapeCases {
		if got := string(AppendLabelValue(nil, tt.in)); got != tt.label {
			t.Errorf("AppendLabelValue(%q) = %q; want %q", tt.in, got, tt.label)
		}
		if got := string(AppendHelp(nil, tt.in)); got != tt.help {
			t.Errorf("AppendHelp(%q) = %q; want %q", tt.in, got, tt.help)
		}
	}
}

// unescape reverses label value escaping; ok is false on a malformed
// escape or an unescaped quote.
func unescape(s string, quote bool) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return "", false
			}
			i++
			switch s[i] {
			case '\\':
				b.WriteByte('\\')
			case 'n':
				b.WriteByte('\n')
			case '"':
				if !quote {
					return "", false
				}
				b.WriteByte('"')
			default:
				return "", false
			}
		case c == '"' && quote, c == '\n':
			return "", false
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), true
}

// replaceBadBytes replaces each byte that is not part of valid UTF-8 with
// U+FFFD.
func replaceBadBytes(s string) string {
	var b strings.Builder
	for _, r := range s { // ranging yields U+FFFD for each bad byte
		b.WriteRune(r)
	}
	return b.String()
}

func FuzzEscape(f *testing.F) {
	for _, tt := range escapeCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		want := replaceBadBytes(in)
		for _, quote := range []bool{true, false} {
			out := string(appendEscaped(nil, in, quote))
			if !utf8.ValidString(out) {
				t.Fatalf("escaped %q is not valid UTF-8: %q", in, out)
			}
			got, ok := unescape(out, quote)
			if !ok {
				t.Fatalf("escaped %q (quote=%v) is malformed: %q", in, quote, out)
			}
			if got != want {
				t.Fatalf("escaped %q reads back as %q", in, got)
			}
		}
	})
}

func TestTextEncoder(t *testing.T) {
	var e Text
	names := []string{"a"}
	l := MakeLabels(&names, []string{"x"})
	var empty Labels
	e.Family("c_total", "Help\nwith newline \\.", Counter, "")
	e.Counter(&l, 3, 1, &Exemplar{Labels: l, Value: 1})
	e.Counter(&empty, 1.5, 0, nil)
	e.Family("h", "", Histogram, "")
	e.Histogram(&l, &HistogramData{Bounds: []float64{1, 2}, Les: []string{`le="1"`, `le="2"`}, Counts: []uint64{1, 0, 2}, Sum: 4.5})
	e.Histogram(&empty, &HistogramData{Bounds: []float64{1}, Les: []string{`le="1"`}, Counts: []uint64{0, 0}})
	e.Family("s", "S.", Summary, "")
	e.Summary(&l, &SummaryData{Quantiles: []float64{0.5}, QTexts: []string{`quantile="0.5"`}, Values: []float64{math.NaN()}, Count: 12345678901, Sum: 1e-3})
	e.Family("u", "U.", Untyped, "")
	e.Value(&empty, math.Inf(-1))
	e.End()
	want := `# HELP c_total Help\nwith newline \\.
# TYPE c_total counter
c_total{a="x"} 3
c_total 1.5
# HELP h 
# TYPE h histogram
h_bucket{a="x",le="1"} 1
h_bucket{a="x",le="2"} 1
h_bucket{a="x",le="+Inf"} 3
h_sum{a="x"} 4.5
h_count{a="x"} 3
h_bucket{le="1"} 0
h_bucket{le="+Inf"} 0
h_sum 0
h_count 0
# HELP s S.
# TYPE s summary
s{a="x",quantile="0.5"} NaN
s_sum{a="x"} 0.001
s_count{a="x"} 12345678901
# HELP u U.
# TYPE u untyped
u -Inf
`
	if got := string(e.Buf); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestAppendUint(t *testing.T) {
	for _, v := range []uint64{0, 9, 10, 99, 12345, math.MaxUint64} {
		if got, want := string(appendUint(nil, v)), strconv.FormatUint(v, 10); got != want {
			t.Errorf("appendUint(%d) = %s", v, got)
		}
	}
}

func TestMakeLabels(t *testing.T) {
	names := []string{"a", "b", "c"}
	raw := []byte("plain")
	values := []string{string(raw), "quo\"te", "\xff"}
	l := MakeLabels(&names, values)
	if l.Text != `a="plain",b="quo\"te",c="`+"\uFFFD"+`"` {
		t.Fatalf("Text = %s", l.Text)
	}
	if &l.Names()[0] != &names[0] {
		t.Error("names are copied, not shared")
	}
	// A value that needs no escaping lives inside Text.
	if p := unsafe.StringData(l.Values()[0]); uintptr(unsafe.Pointer(p)) < uintptr(unsafe.Pointer(unsafe.StringData(l.Text))) ||
		uintptr(unsafe.Pointer(p)) >= uintptr(unsafe.Pointer(unsafe.StringData(l.Text)))+uintptr(len(l.Text)) {
		t.Error("an unescaped value is not a substring of Text")
	}
	if l.Values()[1] != "quo\"te" || l.Values()[2] != "\uFFFD" {
		t.Errorf("values %q", l.Values())
	}
	empty := MakeLabels(&names, nil)
	if empty.Text != "" || len(empty.Values()) != 0 {
		t.Errorf("empty: %+v", empty)
	}
}

// labelValueCases are label values that stress escaping: each must come
// back from Text unchanged and match only itself.
var labelValueCases = [][]string{
	{"plain", "200"},
	{`quo"te`, `back\slash`},
	{"new\nline", `trailing\`},
	{`",b="`, `x",b="y`},
	{`\"`, `\\`},
	{"", ""},
	{"ünïcødé", "日本"},
	{`a\nb`, "a\nb"},
	// Eight bytes and more take equalPlain's word loop.
	{"/api/v1/users/{id}", "/api/v1/users/{id}/posts"},
	{`0123456"89`, `01234567\9abcdef`},
	{"01234567\n", `0123456789abcdef"`},
	{`01234567`, `0123456789abcdeX`},
	{`01234567`, `0123456789abcdeY`},
}

// TestEqualPlain compares equalPlain with a byte-at-a-time reference on
// every pair of strings of one length, up to 11 bytes over an alphabet of
// plain and escaped bytes (all pairs up to 4, samples beyond): it must say
// equal exactly when the reference does, and needsEscaping whenever the
// reference does (it may also say so where the reference finds a
// difference first: the caller then compares the escaped form).
func TestEqualPlain(t *testing.T) {
	reference := func(t, v string) int {
		for i := range len(v) {
			if v[i] == '\\' || v[i] == '"' || v[i] == '\n' {
				return needsEscaping
			}
			if t[i] != v[i] {
				return unequal
			}
		}
		return equal
	}
	const alphabet = "ab\"\\\n"
	all := func(n int) []string {
		out := []string{""}
		for range n {
			var next []string
			for _, s := range out {
				for _, c := range []byte(alphabet) {
					next = append(next, s+string(c))
				}
			}
			out = next
		}
		return out
	}
	check := func(tt, v string) {
		got, want := equalPlain(tt, v), reference(tt, v)
		if got != want && !(want == unequal && got == needsEscaping) {
			t.Fatalf("equalPlain(%q, %q) = %d, want %d", tt, v, got, want)
		}
	}
	for n := 1; n <= 4; n++ {
		strs := all(n)
		for _, a := range strs {
			for _, b := range strs {
				check(a, b)
			}
		}
	}
	// Longer: a plain value against itself with one byte changed, at
	// every position, to every byte of the alphabet, on either side.
	for n := 5; n <= 11; n++ {
		base := strings.Repeat("a", n)
		for i := range n {
			for _, c := range []byte(alphabet) {
				changed := base[:i] + string(c) + base[i+1:]
				check(base, changed)
				check(changed, base)
				check(changed, changed)
			}
		}
	}
}

// TestEqualPlainValuesAt tries, for label sets rendered without escaping,
// every split of the text that the comparison could take for a given
// number of values: values cut from the text at the positions the
// comparison reads, of every length. Only the rendered values may match.
// Candidates that are not cut from the text differ from it in a byte,
// which the comparison finds (TestEqualPlainBytes).
func TestEqualPlainValuesAt(t *testing.T) {
	cases := []struct {
		consts, names, values []string
	}{
		{nil, []string{"a"}, []string{"x"}},
		{nil, []string{"a"}, []string{""}},
		{nil, []string{"a", "b"}, []string{"x", "y"}},
		{nil, []string{"a", "b"}, []string{"", ""}},
		{nil, []string{"a", "b"}, []string{",b=", "=,"}},
		{nil, []string{"a", "bb", "c"}, []string{"x", "yy", "z"}},
		{nil, []string{"a", "bb", "c"}, []string{"", "a=", ""}},
		{nil, []string{"b", "b", "b"}, []string{"x,b=", ",", "b=y"}},
		{nil, []string{"code", "method", "path"}, []string{"200", "GET", "/api/v1/users/{id}/posts"}},
		{[]string{"k"}, []string{"a", "b"}, []string{"1", "22"}},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.values, "|"), func(t *testing.T) { checkPlainSplits(t, c.consts, c.names, c.values) })
	}
	// A constant label rendered with escaping comes before pos: the text
	// from pos on is what must be plain.
	checkPlainSplits(t, []string{"k"}, []string{"a", "b"}, []string{"1", "2"}, `a "quoted" \ value`)
}

// checkPlainSplits renders consts (with values constValues, or "v") and
// names with values, and checks EqualPlainValuesAt from the variable labels
// against every split of the text.
func checkPlainSplits(t *testing.T, consts, names, values []string, constValues ...string) {
	t.Helper()
	all := append(slices.Clone(consts), names...)
	vals := make([]string, 0, len(all))
	for i := range consts {
		v := "v"
		if i < len(constValues) {
			v = constValues[i]
		}
		vals = append(vals, v)
	}
	pos := 0
	if len(consts) > 0 {
		pos = len(MakeLabels(&consts, vals).Text) + 1
	}
	vals = append(vals, values...)
	text := MakeLabels(&all, vals).Text
	if strings.Contains(text[pos:], `\`) {
		t.Fatalf("%q: the case is not plain", text)
	}
	if !EqualPlainValuesAt(text, pos, names, values) {
		t.Fatalf("%q: its own values %q do not match", text, values)
	}
	// Every tuple of lengths: value i is cut from the text where the
	// comparison would look for it.
	cand := make([]string, len(names))
	var try func(i, at int)
	try = func(i, at int) {
		if i == len(names) {
			if got, want := EqualPlainValuesAt(text, pos, names, cand), slices.Equal(cand, values); got != want {
				t.Fatalf("%q: EqualPlainValuesAt(%q) = %v, want %v", text, cand, got, want)
			}
			return
		}
		start := at + len(names[i]) + 2
		for end := start; end <= len(text); end++ {
			if start <= len(text) {
				cand[i] = text[start:end]
			} else {
				cand[i] = strings.Repeat("x", end-start)
			}
			try(i+1, end+2)
		}
	}
	try(0, pos)
	if EqualPlainValuesAt(text, pos, names[1:], values) || EqualPlainValuesAt(text, pos, names, values[1:]) {
		t.Fatalf("%q: a count of values that differs from the names' matched", text)
	}
}

// TestEqualPlainBytes compares values of every length up to 40 that
// differ from the text's in one byte, at every position.
func TestEqualPlainBytes(t *testing.T) {
	names := []string{"a"}
	for n := range 41 {
		a := strings.Repeat("a", n)
		text := MakeLabels(&names, []string{a}).Text
		if !EqualPlainValuesAt(text, 0, names, []string{strings.Clone(a)}) {
			t.Fatalf("%q: its own value does not match", text)
		}
		for i := range n {
			for _, c := range []byte{'b', 'a' ^ 0x80, 0} {
				b := a[:i] + string(c) + a[i+1:]
				if EqualPlainValuesAt(text, 0, names, []string{b}) {
					t.Fatalf("%q: %q matches", text, b)
				}
			}
		}
	}
}

func TestHasEscaped(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			w := make([]byte, 8)
			for i := range w {
				w[i] = 'a'
			}
			w[pos] = byte(c)
			want := c == '\\' || c == '"' || c == '\n'
			if got := hasEscaped(binary.LittleEndian.Uint64(w)); got != want {
				t.Errorf("hasEscaped(%q) = %v, want %v", w, got, want)
			}
		}
	}
}

func TestLabelsValuesRoundTrip(t *testing.T) {
	names := []string{"a", "b"}
	for _, vals := range labelValueCases {
		l := MakeLabels(&names, vals)
		if got := l.Values(); !slices.Equal(got, vals) {
			t.Errorf("%q: Values() = %q", vals, got)
		}
		if !l.EqualValues(0, vals) || !l.EqualValues(1, vals[1:]) {
			t.Errorf("%q: EqualValues is false for its own values", vals)
		}
		for _, other := range labelValueCases {
			if !slices.Equal(other, vals) && l.EqualValues(0, other) {
				t.Errorf("%q: EqualValues(%q) is true", vals, other)
			}
		}
	}
}

func FuzzLabelsValues(f *testing.F) {
	for _, c := range labelValueCases {
		f.Add(c[0], c[1], "x")
	}
	f.Fuzz(func(t *testing.T, a, b, other string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return // the family repairs values before it makes labels
		}
		names := []string{"c", "d"}
		vals := []string{a, b}
		l := MakeLabels(&names, vals)
		if got := l.Values(); !slices.Equal(got, vals) {
			t.Fatalf("Values() = %q, want %q", got, vals)
		}
		if !l.EqualValues(0, vals) || !l.EqualValues(1, vals[1:]) {
			t.Fatalf("%q: EqualValues is false for its own values", vals)
		}
		if other != a && l.EqualValues(0, []string{other, b}) {
			t.Fatalf("%q: EqualValues(%q, %q) is true", vals, other, b)
		}
		if other != b && l.EqualValues(1, []string{other}) {
			t.Fatalf("%q: EqualValues(1, %q) is true", vals, other)
		}
		// Where a family starts comparing after its constant labels: the
		// first label's own rendering and a comma.
		first := names[:1]
		at := len(MakeLabels(&first, vals[:1]).Text) + 1
		if !EqualValuesAt(l.Text, at, names[1:], vals[1:]) || (other != b && EqualValuesAt(l.Text, at, names[1:], []string{other})) {
			t.Fatalf("%q: EqualValuesAt from %d disagrees with the values", vals, at)
		}
		// A text rendered without escaping is compared plainly too.
		if !strings.Contains(l.Text, `\`) {
			if !EqualPlainValuesAt(l.Text, 0, names, vals) || (other != a && EqualPlainValuesAt(l.Text, 0, names, []string{other, b})) ||
				(other != b && EqualPlainValuesAt(l.Text, at, names[1:], []string{other})) {
				t.Fatalf("%q: EqualPlainValuesAt disagrees with the values", vals)
			}
		}
	})
}

// TestProtobufNaN checks that every NaN is written as math.NaN's bits:
// Prometheus reads 0x7ff0000000000002 as its staleness marker.
func TestProtobufNaN(t *testing.T) {
	canonical := math.Float64bits(math.NaN())
	for _, bits := range []uint64{0x7ff0000000000002, 0x7ff8000000000001, 0xfff8000000000000, 0x7ff4000000000000, 0x7fffffffffffffff} {
		got := appendDouble(nil, 1, math.Float64frombits(bits))
		if v := binary.LittleEndian.Uint64(got[1:]); v != canonical {
			t.Errorf("NaN %#x written as %#x, want %#x", bits, v, canonical)
		}
	}
	for _, v := range []float64{0, math.Copysign(0, -1), 1.5, math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64} {
		got := appendDouble(nil, 1, v)
		if b := binary.LittleEndian.Uint64(got[1:]); b != math.Float64bits(v) {
			t.Errorf("%v written as %#x, want %#x", v, b, math.Float64bits(v))
		}
	}
}

// TestProtobufLeavesOutEmptyFamilies checks that a family without metrics
// writes nothing in protobuf, wherever it stands: a Pushgateway reads an
// empty MetricFamily in a POST as an order to delete the family's series.
func TestProtobufLeavesOutEmptyFamilies(t *testing.T) {
	names := []string{"a"}
	l := MakeLabels(&names, []string{"x"})
	encode := func(empty ...string) []byte {
		var p Protobuf
		for _, name := range []string{"e1", "g", "e2", "c", "e3"} {
			if slices.Contains(empty, name) {
				p.Family(name, "never used", Gauge, "")
				continue
			}
			switch name {
			case "g":
				p.Family(name, "help", Gauge, "bytes")
				p.Value(&l, 2)
			case "c":
				p.Family(name, "help", Counter, "")
				p.Counter(&l, 3, 0, nil)
			}
		}
		p.End()
		return p.Buf
	}
	want := encode()
	for _, empty := range [][]string{{"e1"}, {"e2"}, {"e3"}, {"e1", "e2", "e3"}} {
		if got := encode(empty...); !slices.Equal(got, want) {
			t.Errorf("with empty families %v: %x, want %x", empty, got, want)
		}
	}
	var p Protobuf
	p.Family("only", "help", Histogram, "")
	p.End()
	if len(p.Buf) != 0 {
		t.Errorf("an exposition of one empty family: %x, want nothing", p.Buf)
	}
}
