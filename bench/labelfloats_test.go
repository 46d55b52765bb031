package bench

import (
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/promgo/prom"
)

// TestTextLabelFloatsMatchClientGolang checks that the text format spells
// the le of each bucket and the quantile of each summary objective as
// client_golang does (1e+06, not 1000000): Prometheus 2 keeps these label
// values as written, so a program that moves from client_golang to prom
// keeps its bucket series. Both libraries expose the same histogram (also
// as a collector's written family) and summary.
func TestTextLabelFloatsMatchClientGolang(t *testing.T) {
	bounds := []float64{-3, 1e-7, 0.005, 0.1, 1, 2.5, 100000, 999999, 1e6, 1234567, 1 << 53, 1e21}
	quantiles := []float64{0.5, 0.9, 0.99, 0.999, 1e-7}

	pr := prom.NewRegistry()
	ph := prom.Must(prom.NewHistogram("h", "h", prom.WithRegistry(pr), prom.WithBuckets(bounds...)))
	ph.Observe(1)
	var objectives []prom.Objective
	cgObjectives := map[float64]float64{}
	for _, q := range quantiles {
		objectives = append(objectives, prom.Objective{Quantile: q, Epsilon: 1e-9})
		cgObjectives[q] = 1e-9
	}
	prom.Must(prom.NewSummary("s", "s", prom.WithRegistry(pr), prom.WithObjectives(objectives...))).Observe(1)
	buckets := make([]prom.Bucket, len(bounds))
	for i, b := range bounds {
		buckets[i] = prom.Bucket{UpperBound: b, Count: 1}
	}
	pr.MustRegister(writtenHistogram{prom.HistogramValue{Count: 1, Sum: 1, Buckets: buckets}})

	cr := prometheus.NewRegistry()
	ch := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Help: "h", Buckets: bounds})
	ch.Observe(1)
	cs := prometheus.NewSummary(prometheus.SummaryOpts{Name: "s", Help: "s", Objectives: cgObjectives})
	cs.Observe(1)
	cr.MustRegister(ch, cs)

	le := regexp.MustCompile(`[{,]le="([^"]*)"`)
	quantile := regexp.MustCompile(`quantile="([^"]*)"`)
	values := func(re *regexp.Regexp, body []byte) []string {
		var out []string
		for _, m := range re.FindAllSubmatch(body, -1) {
			out = append(out, string(m[1]))
		}
		return out
	}
	promText, cgText := renderProm(t, pr), renderClientGolang(t, cr)
	wantLe := values(le, cgText)
	if len(wantLe) != len(bounds)+1 {
		t.Fatalf("client_golang's text has %d le values, want %d:\n%s", len(wantLe), len(bounds)+1, cgText)
	}
	// prom's text holds the histogram h and the written histogram w.
	if got := values(le, promText); !slices.Equal(got, slices.Concat(wantLe, wantLe)) {
		t.Errorf("le values:\nprom          %q\nclient_golang %q (twice)", got, wantLe)
	}
	wantQ := values(quantile, cgText)
	slices.Sort(wantQ)
	gotQ := values(quantile, promText)
	slices.Sort(gotQ)
	if !slices.Equal(gotQ, wantQ) {
		t.Errorf("quantile values:\nprom          %q\nclient_golang %q", gotQ, wantQ)
	}
}

// writtenHistogram is a collector that writes one histogram w.
type writtenHistogram struct{ v prom.HistogramValue }

func (writtenHistogram) Describe() []string { return []string{"w"} }

func (c writtenHistogram) Collect(_ context.Context, w *prom.MetricWriter) error {
	w.Histogram("w", "w", c.v, nil)
	return nil
}
