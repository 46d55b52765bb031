package bench

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/promgo/prom"
)

func newPromHistogram() *prom.Histogram {
	return prom.Must(prom.NewHistogram("x_seconds", "X.", prom.WithRegistry(prom.NewRegistry())))
}

func newCGHistogram() prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x_seconds", Help: "X.", Buckets: prometheus.DefBuckets})
	prometheus.NewRegistry().MustRegister(h)
	return h
}

func newPromSummary() *prom.Summary {
	return prom.Must(prom.NewSummary("x_seconds", "X.",
		prom.WithRegistry(prom.NewRegistry()),
		prom.WithObjectives(promObjectives...),
		prom.WithMaxAge(summaryWindow, prom.DefaultAgeBuckets)))
}

func newCGSummary() prometheus.Summary {
	s := prometheus.NewSummary(prometheus.SummaryOpts{
		Name: "x_seconds", Help: "X.",
		Objectives: cgObjectives,
		MaxAge:     summaryWindow,
		AgeBuckets: prometheus.DefAgeBuckets,
	})
	prometheus.NewRegistry().MustRegister(s)
	return s
}

// The loops below are written out per library instead of through a generic
// helper: a generic helper over pointer types calls the method through a
// dictionary, which would add an indirect call to every library's hot path.
func BenchmarkHistogramObserve(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		o := newPromHistogram()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			o.Observe(observations[i&obsMask])
		}
	})
	b.Run("clientgolang", func(b *testing.B) {
		o := newCGHistogram()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			o.Observe(observations[i&obsMask])
		}
	})
	b.Run("vm", func(b *testing.B) {
		o := newVMSet(b).NewPrometheusHistogram("x_seconds")
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			o.Update(observations[i&obsMask])
		}
	})
}

func BenchmarkHistogramObserveParallel(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		o := newPromHistogram()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				o.Observe(observations[i&obsMask])
				i++
			}
		})
	})
	b.Run("clientgolang", func(b *testing.B) {
		o := newCGHistogram()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				o.Observe(observations[i&obsMask])
				i++
			}
		})
	})
	b.Run("vm", func(b *testing.B) {
		o := newVMSet(b).NewPrometheusHistogram("x_seconds")
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				o.Update(observations[i&obsMask])
				i++
			}
		})
	})
}

func BenchmarkSummaryObserve(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		o := newPromSummary()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			o.Observe(observations[i&obsMask])
		}
	})
	b.Run("clientgolang", func(b *testing.B) {
		o := newCGSummary()
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			o.Observe(observations[i&obsMask])
		}
	})
	b.Run("vm", func(b *testing.B) {
		o := newVMSet(b).NewSummaryExt("x_seconds", summaryWindow, vmQuantiles)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			o.Update(observations[i&obsMask])
		}
	})
}

func BenchmarkSummaryObserveParallel(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		o := newPromSummary()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				o.Observe(observations[i&obsMask])
				i++
			}
		})
	})
	b.Run("clientgolang", func(b *testing.B) {
		o := newCGSummary()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				o.Observe(observations[i&obsMask])
				i++
			}
		})
	})
	b.Run("vm", func(b *testing.B) {
		o := newVMSet(b).NewSummaryExt("x_seconds", summaryWindow, vmQuantiles)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				o.Update(observations[i&obsMask])
				i++
			}
		})
	})
}
