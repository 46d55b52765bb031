package bench

import (
	"runtime"
	"strconv"
	"testing"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/promgo/prom"
)

// memorySeries is how many labelled series the memory benchmarks make.
const memorySeries = 100_000

// memoryLabels returns the label values of series i: a path among 1,000
// and a status code among 100, so that all memorySeries pairs differ.
func memoryLabels(i int) (path, code string) {
	return "/api/v1/items/" + strconv.Itoa(i/100), strconv.Itoa(200 + i%100)
}

// memoryVMName is series i of metric as vm takes it: the name with its
// labels, built here so that vm keeps (and is charged for) the string.
func memoryVMName(metric string, i int) string {
	path, code := memoryLabels(i)
	return metric + `{path="` + path + `",code="` + code + `"}`
}

// heapPerSeries reports the live heap that build adds, divided by
// memorySeries, as B/series. The label strings are made inside build, so
// what a library keeps of them counts and what it copies does not.
func heapPerSeries(b *testing.B, build func() any) {
	b.ReportAllocs()
	var total float64
	for range b.N {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		keep := build()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(keep)
		total += float64(after.HeapAlloc-before.HeapAlloc) / memorySeries
	}
	b.ReportMetric(total/float64(b.N), "B/series")
}

// BenchmarkSeriesMemory measures the memory that 100,000 labelled counter
// series take (two labels each), the "memory per labelled series".
func BenchmarkSeriesMemory(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		heapPerSeries(b, func() any {
			c := prom.Must(prom.NewCounter("x_total", "X.", prom.WithRegistry(prom.NewRegistry()), prom.WithLabelNames("path", "code")))
			for i := range memorySeries {
				c.WithValues(memoryLabels(i)).Inc()
			}
			return c
		})
	})
	b.Run("clientgolang", func(b *testing.B) {
		heapPerSeries(b, func() any {
			c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "X."}, []string{"path", "code"})
			prometheus.NewRegistry().MustRegister(c)
			for i := range memorySeries {
				c.WithLabelValues(memoryLabels(i)).Inc()
			}
			return c
		})
	})
	b.Run("vm", func(b *testing.B) {
		heapPerSeries(b, func() any {
			set := vm.NewSet()
			for i := range memorySeries {
				set.GetOrCreateCounter(memoryVMName("x_total", i)).Inc()
			}
			return set
		})
	})
}

// BenchmarkHistogramSeriesMemory is BenchmarkSeriesMemory for histograms
// with the default buckets, one observation each.
func BenchmarkHistogramSeriesMemory(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		heapPerSeries(b, func() any {
			h := prom.Must(prom.NewHistogram("x_seconds", "X.", prom.WithRegistry(prom.NewRegistry()), prom.WithLabelNames("path", "code")))
			for i := range memorySeries {
				h.WithValues(memoryLabels(i)).Observe(observations[i&obsMask])
			}
			return h
		})
	})
	b.Run("clientgolang", func(b *testing.B) {
		heapPerSeries(b, func() any {
			h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "x_seconds", Help: "X.", Buckets: prometheus.DefBuckets}, []string{"path", "code"})
			prometheus.NewRegistry().MustRegister(h)
			for i := range memorySeries {
				h.WithLabelValues(memoryLabels(i)).Observe(observations[i&obsMask])
			}
			return h
		})
	})
	b.Run("vm", func(b *testing.B) {
		heapPerSeries(b, func() any {
			set := vm.NewSet()
			for i := range memorySeries {
				set.GetOrCreatePrometheusHistogram(memoryVMName("x_seconds", i)).Update(observations[i&obsMask])
			}
			return set
		})
	})
}
