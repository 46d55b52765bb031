package bench

// A prom bug the formats cross-check found (om-sum-not-a-counter), kept as a
// regression test. It was fixed in 15b3994 ("OpenMetrics: leave out
// _sum/_count and quantile samples that would break the format's counter
// semantics") while the cross-check was being written; before that, every
// case below failed.

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/promgo/prom"
)

// TestOpenMetricsSumNotACounter (om-sum-not-a-counter): OpenMetrics 1.0
// gives a histogram's and a summary's _sum and _count counter semantics
// (never NaN, never negative; no _sum on a histogram with a negative bucket
// bound), and the strict parsers refuse negative summary quantiles too.
// prom wrote the values as they were, so a single NaN observation (which
// prom documents as supported: counted in +Inf, sum NaN), or negative
// observations, made the family unparseable, and with expfmt's decoder the
// whole scrape. Prometheus's own scrape parser does not check these values,
// so the failure showed with strict consumers. client_golang's OpenMetrics
// encoder still does what prom did (logged). The text format must keep
// the values.
func TestOpenMetricsSumNotACounter(t *testing.T) {
	cases := []struct {
		name   string
		prom   func(t *testing.T, in prom.Option)
		cg     func() prometheus.Collector
		python bool   // only the Python parser checks this one
		text   string // a line the text format must still carry
	}{
		{
			name: "histogram that observed NaN",
			prom: func(t *testing.T, in prom.Option) {
				prom.Must(prom.NewHistogram("h_seconds", "H.", in)).Observe(math.NaN())
			},
			cg: func() prometheus.Collector {
				h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h_seconds", Help: "H."})
				h.Observe(math.NaN())
				return h
			},
			text: "h_seconds_sum NaN",
		},
		{
			name: "histogram with a negative sum",
			prom: func(t *testing.T, in prom.Option) {
				prom.Must(prom.NewHistogram("h_seconds", "H.", in)).Observe(-2)
			},
			cg: func() prometheus.Collector {
				h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h_seconds", Help: "H."})
				h.Observe(-2)
				return h
			},
			text: "h_seconds_sum -2",
		},
		{
			name: "summary that observed a negative value",
			prom: func(t *testing.T, in prom.Option) {
				prom.Must(prom.NewSummary("s_seconds", "S.", in)).Observe(-3)
			},
			cg: func() prometheus.Collector {
				s := prometheus.NewSummary(prometheus.SummaryOpts{Name: "s_seconds", Help: "S.", Objectives: cgObjectives})
				s.Observe(-3)
				return s
			},
			text: `s_seconds{quantile="0.5"} -3`,
		},
		{
			name: "histogram with a negative bucket bound",
			prom: func(t *testing.T, in prom.Option) {
				prom.Must(prom.NewHistogram("h_celsius", "H.", in, prom.WithBuckets(-10, 0, 10))).Observe(5)
			},
			cg: func() prometheus.Collector {
				h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h_celsius", Help: "H.", Buckets: []float64{-10, 0, 10}})
				h.Observe(5)
				return h
			},
			python: true,
			text:   "h_celsius_sum 5",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			reg := prom.NewRegistry()
			c.prom(t, prom.WithRegistry(reg))
			body, err := reg.Append(context.Background(), nil, prom.FormatOpenMetrics)
			if err != nil {
				t.Fatal(err)
			}
			cgReg := prometheus.NewPedanticRegistry()
			cgReg.MustRegister(c.cg())
			cgBody := renderClientGolangAs(t, cgReg, fmtOM)
			var promErr, cgErr string
			if c.python {
				res := runPythonParser(t, [][]byte{body, cgBody})
				promErr, cgErr = res[0].Error, res[1].Error
			} else {
				if _, err := decodeAll(body, fmtOM); err != nil {
					promErr = err.Error()
				}
				if _, err := decodeAll(cgBody, fmtOM); err != nil {
					cgErr = err.Error()
				}
			}
			if cgErr != "" {
				t.Logf("client_golang's OpenMetrics is refused the same way: %s", cgErr)
			}
			if promErr != "" {
				t.Errorf("prom's OpenMetrics output is refused (om-sum-not-a-counter is back): %s\n%s", promErr, body)
			}
			if text := renderProm(t, reg); !strings.Contains(string(text), "\n"+c.text+"\n") {
				t.Errorf("the text format lost %q:\n%s", c.text, text)
			}
		})
	}
}
