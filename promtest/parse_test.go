package promtest

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/promgo/prom"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, text string
		want       []*Family
	}{
		{"empty", "", nil},
		{"blank lines and comments", "\n  \n# just a comment\n#\n# EOF\n", nil},
		{
			"counter with metadata",
			"# HELP c_total Things \\\\ done.\\nSecond line.\n# TYPE c_total counter\nc_total{a=\"1\",b=\"x\\\"y\\\\z\\nw\"} 3 1700000000000\n",
			[]*Family{{
				Name: "c_total", Help: "Things \\ done.\nSecond line.", HasHelp: true, Type: TypeCounter, HasType: true,
				Samples: []Sample{{Name: "c_total", Labels: prom.Labels{"a": "1", "b": "x\"y\\z\nw"}, Value: 3, Timestamp: 1700000000000, HasTimestamp: true}},
			}},
		},
		{
			"blanks everywhere, trailing comma, TYPE case",
			"  # TYPE g GAUGE\n\tg { a = \"1\" , } \t -1.5e3 \n",
			[]*Family{{
				Name: "g", Type: TypeGauge, HasType: true,
				Samples: []Sample{{Name: "g", Labels: prom.Labels{"a": "1"}, Value: -1500}},
			}},
		},
		{
			"histogram",
			"# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n",
			[]*Family{{
				Name: "h", Type: TypeHistogram, HasType: true,
				Samples: []Sample{
					{Name: "h_bucket", Labels: prom.Labels{"le": "0.5"}, Value: 1},
					{Name: "h_bucket", Labels: prom.Labels{"le": "+Inf"}, Value: 2},
					{Name: "h_sum", Labels: prom.Labels{}, Value: 3},
					{Name: "h_count", Labels: prom.Labels{}, Value: 2},
				},
			}},
		},
		{
			"summary",
			"# TYPE s summary\ns{quantile=\"0.5\"} 7\ns_sum 9\ns_count 2\n",
			[]*Family{{
				Name: "s", Type: TypeSummary, HasType: true,
				Samples: []Sample{
					{Name: "s", Labels: prom.Labels{"quantile": "0.5"}, Value: 7},
					{Name: "s_sum", Labels: prom.Labels{}, Value: 9},
					{Name: "s_count", Labels: prom.Labels{}, Value: 2},
				},
			}},
		},
		{
			"suffixes without a TYPE are families of their own",
			"x_count 1\nx_sum 2\n",
			[]*Family{
				{Name: "x_count", Type: TypeUntyped, Samples: []Sample{{Name: "x_count", Labels: prom.Labels{}, Value: 1}}},
				{Name: "x_sum", Type: TypeUntyped, Samples: []Sample{{Name: "x_sum", Labels: prom.Labels{}, Value: 2}}},
			},
		},
		{
			"interleaved samples join their family",
			"a 1\nb 2\na{x=\"y\"} 3\n# HELP b late help\n",
			[]*Family{
				{Name: "a", Type: TypeUntyped, Samples: []Sample{{Name: "a", Labels: prom.Labels{}, Value: 1}, {Name: "a", Labels: prom.Labels{"x": "y"}, Value: 3}}},
				{Name: "b", Help: "late help", HasHelp: true, Type: TypeUntyped, Samples: []Sample{{Name: "b", Labels: prom.Labels{}, Value: 2}}},
			},
		},
		{
			"colons, special values",
			"rule:rate:5m +Inf\nn -Inf\n",
			[]*Family{
				{Name: "rule:rate:5m", Type: TypeUntyped, Samples: []Sample{{Name: "rule:rate:5m", Labels: prom.Labels{}, Value: math.Inf(1)}}},
				{Name: "n", Type: TypeUntyped, Samples: []Sample{{Name: "n", Labels: prom.Labels{}, Value: math.Inf(-1)}}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n%s\nwant:\n%s", dump(got), dump(tt.want))
			}
		})
	}
}

func TestParseNaN(t *testing.T) {
	fams, err := Parse([]byte("x NaN\n"))
	if err != nil || len(fams) != 1 || !math.IsNaN(fams[0].Samples[0].Value) {
		t.Fatalf("Parse(x NaN) = %s, %v", dump(fams), err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		msg        string
	}{
		{"bad name", "1x 1\n", 1, "invalid metric name"},
		{"bad char in name", "a-b 1\n", 1, "invalid metric name"},
		{"no value", "a\n", 1, "no value"},
		{"no value after labels", "a{b=\"c\"}\n", 1, "no value"},
		{"bad value", "a one\n", 1, "invalid value"},
		{"hex value", "a 0x1p3\n", 1, "invalid value"},
		{"underscore value", "a 1_000\n", 1, "invalid value"},
		{"bad timestamp", "a 1 2.5\n", 1, "invalid timestamp"},
		{"trailing text", "a 1 2 3\n", 1, "unexpected text"},
		{"unterminated labels", "a{b=\"c\" 1\n", 1, "expected ','"},
		{"unterminated value", "a{b=\"c} 1\n", 1, "unterminated"},
		{"bad label name", "a{1b=\"c\"} 1\n", 1, "invalid label name"},
		{"reserved label name", "a{__name__=\"c\"} 1\n", 1, "reserved"},
		{"duplicate label", "a{b=\"1\",b=\"2\"} 1\n", 1, "duplicate label"},
		{"missing =", "a{b \"1\"} 1\n", 1, "expected '='"},
		{"unquoted value", "a{b=1} 1\n", 1, "expected '\"'"},
		{"bad escape", "a{b=\"\\t\"} 1\n", 1, "invalid escape"},
		{"invalid utf8", "a{b=\"\xff\"} 1\n", 1, "invalid UTF-8"},
		{"bad help escape", "# HELP a x\\ty\n", 1, "invalid escape"},
		{"help without name", "# HELP\n", 1, "without a metric name"},
		{"second help", "# HELP a x\n# HELP a y\n", 2, "second HELP"},
		{"second type", "# TYPE a gauge\n# TYPE a gauge\n", 2, "second TYPE"},
		{"type after samples", "a 1\n# TYPE a gauge\n", 2, "TYPE reported after samples"},
		{"unknown type", "# TYPE a gaugee\n", 1, "unknown metric type"},
		{"text after type", "# TYPE a gauge extra\n", 1, "unexpected text"},
		{"bucket without le", "# TYPE h histogram\nh_bucket 1\n", 2, "without an le label"},
		{"bucket with bad le", "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", 2, "invalid le"},
		{"bare histogram sample", "# TYPE h histogram\nh 1\n", 2, "without a _bucket"},
		{"summary without quantile", "# TYPE s summary\ns 1\n", 2, "without a quantile"},
		{"carriage return", "a 1\r\n", 1, "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fams, err := Parse([]byte(tt.text))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) = %s, %v; want a *ParseError", tt.text, dump(fams), err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("Parse(%q): line %d %q; want line %d with %q", tt.text, pe.Line, pe.Msg, tt.line, tt.msg)
			}
		})
	}
}

// TestParseRegistry parses what prom renders, odd label values included.
func TestParseRegistry(t *testing.T) {
	reg := prom.NewRegistry()
	c := prom.Must(prom.NewCounter("odd_total", "Help with \\ and\nnewline.", prom.WithRegistry(reg)))
	odd := "quote\" back\\slash\nnewline {braces}=,"
	c.With(prom.Labels{"v": odd}).Add(2)
	body, err := Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	fams, err := Parse(body)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, body)
	}
	if len(fams) != 1 || fams[0].Help != "Help with \\ and\nnewline." || fams[0].Samples[0].Labels["v"] != odd || fams[0].Samples[0].Value != 2 {
		t.Errorf("Parse(%q) = %s", body, dump(fams))
	}
}

func dump(fams []*Family) string {
	var b strings.Builder
	for _, f := range fams {
		b.WriteString(formatFamily(f))
	}
	return b.String()
}

// formatFamily renders one family on its own, in its samples' order.
func formatFamily(f *Family) string {
	var b strings.Builder
	if f.HasHelp {
		b.WriteString("# HELP " + f.Name + " " + escapeHelp(f.Help) + "\n")
	}
	if f.HasType {
		b.WriteString("# TYPE " + f.Name + " " + f.Type + "\n")
	}
	for _, s := range f.Samples {
		b.WriteString(formatSample(s) + "\n")
	}
	return b.String()
}

// FuzzParse checks that Parse never panics, and that what it accepts
// survives a round trip: each family rendered on its own parses back to
// itself, and the samples rendered alone parse back to the same samples.
// It also runs the comparison and the linter over what parses.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"",
		"# HELP c_total Things.\n# TYPE c_total counter\nc_total{a=\"1\"} 3 1700000000000\n",
		"# TYPE h histogram\nh_bucket{le=\"0.5\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3\nh_count 2\n",
		"# TYPE s summary\ns{quantile=\"0.5\"} 7\ns_sum 9\ns_count 2\n",
		"g { a = \"x\\\"y\\\\z\\n\" , } NaN\n",
		"x_count 1\n# TYPE x summary\nx{quantile=\"1\"} 2\n",
		"# HELP x h\nx_bucket 1\n# TYPE x histogram\n",
		"a{b=\"\xff\"} 1\n",
		"rule:rate:5m -Inf\n#HELP a \\\\\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fams, err := Parse(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error %v is not a *ParseError with a line", err)
			}
			return
		}
		for i, fam := range fams {
			if i == 50 {
				break
			}
			text := formatFamily(fam)
			again, err := Parse([]byte(text))
			if err != nil {
				t.Fatalf("family %q rendered as\n%s\ndoes not parse: %v", fam.Name, text, err)
			}
			if len(fam.Samples) == 0 && !fam.HasHelp && !fam.HasType {
				continue
			}
			if len(again) != 1 || formatFamily(again[0]) != text || again[0].Name != fam.Name {
				t.Fatalf("family rendered as\n%s\nparses as\n%s", text, dump(again))
			}
		}
		o := &options{ignoreMetadata: true}
		flat := strings.Join(normalise(fams, o), "\n")
		again, err := Parse([]byte(flat))
		if err != nil {
			t.Fatalf("samples rendered as\n%s\ndo not parse: %v", flat, err)
		}
		if back := strings.Join(normalise(again, o), "\n"); back != flat {
			t.Fatalf("samples rendered as\n%s\nparse as\n%s", flat, back)
		}
		if err := CompareText(data, data); err != nil {
			t.Fatalf("text differs from itself: %v", err)
		}
		if _, err := Lint(data); err != nil {
			t.Fatalf("Lint fails on text that parses: %v", err)
		}
	})
}
