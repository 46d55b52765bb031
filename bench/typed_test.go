package bench

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/promgo/prom"
)

// typedLabels is the label set of BenchmarkLabelledIncTyped as a struct.
type typedLabels struct {
	Method string `label:"method"`
	Code   string `label:"code"`
}

// BenchmarkLabelledIncTyped is BenchmarkLabelledInc's hit path (two
// labels, the series made beforehand) with the label set given as a struct
// (prom.CounterOf), against positional values in prom and client_golang.
func BenchmarkLabelledIncTyped(b *testing.B) {
	b.Run("prom_typed", func(b *testing.B) {
		c := prom.Must(prom.NewCounterOf[typedLabels]("x_total", "X.", prom.WithRegistry(prom.NewRegistry())))
		c.With(typedLabels{Method: "GET", Code: "200"}).Inc() // create the series: measure hits only
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.With(typedLabels{Method: "GET", Code: "200"}).Inc()
		}
	})
	// The loops are written out, as in BenchmarkLabelledInc, rather than
	// shared through a func value whose call would add to every figure.
	b.Run("prom_values", func(b *testing.B) {
		c := prom.Must(prom.NewCounter("x_total", "X.",
			prom.WithRegistry(prom.NewRegistry()), prom.WithLabelNames("method", "code")))
		c.WithValues("GET", "200").Inc()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.WithValues("GET", "200").Inc()
		}
	})
	b.Run("clientgolang_values", func(b *testing.B) {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "X."}, []string{"method", "code"})
		prometheus.NewRegistry().MustRegister(c)
		c.WithLabelValues("GET", "200").Inc()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.WithLabelValues("GET", "200").Inc()
		}
	})
}
