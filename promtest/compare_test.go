package promtest

import (
	"errors"
	"strings"
	"testing"

	"github.com/promgo/prom"
)

func TestCompareText(t *testing.T) {
	const got = `# HELP b_total B.
# TYPE b_total counter
b_total{x="1",y="2"} 3
b_total{x="2",y="2"} 4
# HELP a_seconds A.
# TYPE a_seconds histogram
a_seconds_bucket{le="0.5"} 1
a_seconds_bucket{le="10"} 2
a_seconds_bucket{le="+Inf"} 2
a_seconds_sum 3.5
a_seconds_count 2
`
	tests := []struct {
		name, want string
		opts       []Option
		diff       []string // lines the diff must hold; none means equal
	}{
		{name: "same", want: got},
		{
			name: "any order, other number forms",
			want: `# TYPE a_seconds histogram
# HELP a_seconds A.
a_seconds_count 2.0
a_seconds_sum 3.50
a_seconds_bucket{le="+Inf"} 2
a_seconds_bucket{le="10"} 2e0
a_seconds_bucket{le="0.5"} 1
# HELP b_total B.
# TYPE b_total counter
b_total{y="2",x="2"} 4
b_total{y="2",x="1"} 3
`,
		},
		{
			name: "an empty label value is no label",
			want: strings.Replace(strings.Replace(got, `b_total{x="1",y="2"} 3`, `b_total{x="1",y="2",z=""} 3`, 1),
				"a_seconds_sum 3.5", `a_seconds_sum{z=""} 3.5`, 1),
		},
		{
			name: "value differs",
			want: strings.Replace(got, `b_total{x="2",y="2"} 4`, `b_total{x="2",y="2"} 5`, 1),
			diff: []string{`- b_total{x="2",y="2"} 5`, `+ b_total{x="2",y="2"} 4`},
		},
		{
			name: "missing series",
			want: got + "b_total{x=\"3\",y=\"2\"} 1\n",
			diff: []string{`- b_total{x="3",y="2"} 1`},
		},
		{
			name: "help differs",
			want: strings.Replace(got, "# HELP b_total B.", "# HELP b_total Bee.", 1),
			diff: []string{"- # HELP b_total Bee.", "+ # HELP b_total B."},
		},
		{
			name: "help ignored",
			want: strings.Replace(strings.Replace(got, "# HELP b_total B.\n", "", 1), "A.", "Other.", 1),
			opts: []Option{IgnoreHelp()},
		},
		{
			name: "type differs",
			want: strings.Replace(got, "b_total counter", "b_total gauge", 1),
			diff: []string{"- # TYPE b_total gauge", "+ # TYPE b_total counter"},
		},
		{
			name: "metadata ignored",
			want: "b_total{x=\"1\",y=\"2\"} 3\nb_total{x=\"2\",y=\"2\"} 4\n" +
				"a_seconds_bucket{le=\"0.5\"} 1\na_seconds_bucket{le=\"10\"} 2\na_seconds_bucket{le=\"+Inf\"} 2\na_seconds_sum 3.5\na_seconds_count 2\n",
			opts: []Option{IgnoreMetadata()},
		},
		{
			name: "only some families",
			want: "# HELP b_total B.\n# TYPE b_total counter\nb_total{x=\"1\",y=\"2\"} 3\nb_total{x=\"2\",y=\"2\"} 4\n# HELP other x\n# TYPE other gauge\nother 1\n",
			opts: []Option{Only("b_total")},
		},
		{
			name: "only, without metadata",
			want: "a_seconds_bucket{le=\"0.5\"} 1\na_seconds_bucket{le=\"10\"} 2\na_seconds_bucket{le=\"+Inf\"} 2\na_seconds_sum 3.5\na_seconds_count 2\n",
			opts: []Option{Only("a_seconds"), IgnoreMetadata()},
		},
		{
			name: "only, mismatch",
			want: "# HELP b_total B.\n# TYPE b_total counter\nb_total{x=\"1\",y=\"2\"} 3\n",
			opts: []Option{Only("b_total")},
			diff: []string{`+ b_total{x="2",y="2"} 4`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CompareText([]byte(got), []byte(tt.want), tt.opts...)
			if len(tt.diff) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var de *DiffError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *DiffError", err)
			}
			for _, l := range tt.diff {
				if !strings.Contains(de.Diff, l+"\n") {
					t.Errorf("diff lacks %q:\n%s", l, de.Diff)
				}
			}
			if !strings.HasPrefix(err.Error(), "promtest: metrics differ (-want +got):\n") {
				t.Errorf("message = %q", err.Error())
			}
		})
	}
}

// TestCompareTextNumbers: values are compared as numbers, whatever their
// spelling, and different numbers differ.
func TestCompareTextNumbers(t *testing.T) {
	for _, tt := range []struct {
		got, want string
		equal     bool
	}{
		{"-0", "0", true},
		{"0", "-0.0", true},
		{"0e5", "-0", true},
		{"1", "1.0", true},
		{"1e3", "1000", true},
		{"NaN", "NaN", true},
		{"+Inf", "+Inf", true},
		{"0", "1e-300", false},
		{"-0", "-1e-300", false},
		{"+Inf", "-Inf", false},
		{"NaN", "0", false},
	} {
		exposition := func(v string) []byte { return []byte("# HELP z Z.\n# TYPE z gauge\nz " + v + "\n") }
		err := CompareText(exposition(tt.got), exposition(tt.want))
		if (err == nil) != tt.equal {
			t.Errorf("CompareText of %s and %s: %v; want equal %v", tt.got, tt.want, err, tt.equal)
		}
	}
}

func TestCompareTextParseErrors(t *testing.T) {
	if err := CompareText([]byte("a 1\n"), []byte("a{ 1\n")); err == nil || !strings.Contains(err.Error(), "expected text") {
		t.Errorf("bad expected text: err = %v", err)
	}
	if err := CompareText([]byte("a{ 1\n"), []byte("a 1\n")); err == nil || !strings.Contains(err.Error(), "parsing the metrics") {
		t.Errorf("bad metrics: err = %v", err)
	}
}

func TestDiff(t *testing.T) {
	want := strings.Split("a b c d e f g h i j k", " ")
	got := strings.Split("a b c d X f g h i j k l", " ")
	const expect = "  ...\n  c\n  d\n- e\n+ X\n  f\n  g\n  ...\n  j\n  k\n+ l\n"
	if d := diff(want, got); d != expect {
		t.Errorf("diff:\n%s\nwant:\n%s", d, expect)
	}
	if d := diff(nil, []string{"x"}); d != "+ x\n" {
		t.Errorf("diff from nothing = %q", d)
	}
}

func TestGatherAndCompare(t *testing.T) {
	reg := prom.NewRegistry()
	c := prom.Must(prom.NewCounter("jobs_total", "Jobs done.", prom.WithRegistry(reg),
		prom.WithConstLabels(prom.Labels{"app": "x"})))
	c.With(prom.Labels{"queue": "mail"}).Add(3)
	c.With(prom.Labels{"queue": "sms"}).Inc()
	g := prom.Must(prom.NewGauge("queue_length", "Jobs waiting.", prom.WithRegistry(reg)))
	g.Set(7)

	want := `
# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total{queue="sms",app="x"} 1
jobs_total{app="x",queue="mail"} 3
`
	if err := GatherAndCompare(reg, want, Only("jobs_total")); err != nil {
		t.Error(err)
	}
	if err := CollectAndCompare(c, want); err != nil {
		t.Error(err)
	}
	if err := GatherAndCompare(reg, want); err == nil || !strings.Contains(err.Error(), "+ queue_length 7") {
		t.Errorf("the gauge not in want: err = %v", err)
	}
	if err := CollectAndCompare(g, "queue_length 7\n", IgnoreMetadata()); err != nil {
		t.Error(err)
	}
}
