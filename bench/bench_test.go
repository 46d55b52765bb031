package bench

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/promgo/prom"
)

// observations are 1024 fixed pseudo-random values in [0, 12), cycled through
// by the histogram and summary benchmarks so that every library sees the same
// sequence and the last default bucket (10) and +Inf both get hits.
var observations = func() (v [1024]float64) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range v {
		v[i] = r.Float64() * 12
	}
	return v
}()

const obsMask = len(observations) - 1

// summaryWindow is the sliding window every library's summary uses.
const summaryWindow = 10 * time.Minute

// Summary objectives: quantile -> allowed error.
var (
	promObjectives = []prom.Objective{
		{Quantile: 0.5, Epsilon: 0.05},
		{Quantile: 0.9, Epsilon: 0.01},
		{Quantile: 0.99, Epsilon: 0.001},
	}
	cgObjectives = map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}
	vmQuantiles  = []float64{0.5, 0.9, 0.99}
)

// labelPairs are the 16 (method, code) label sets of the parallel labelled
// benchmark.
var labelPairs = func() (p [16][2]string) {
	methods := [...]string{"GET", "POST", "PUT", "DELETE"}
	codes := [...]string{"200", "404", "500", "503"}
	for i := range p {
		p[i] = [2]string{methods[i/4], codes[i%4]}
	}
	return p
}()

// vmName formats a VictoriaMetrics series name with method and code labels.
func vmName(name, method, code string) string {
	return fmt.Sprintf("%s{method=%q,code=%q}", name, method, code)
}

// newVMSet returns a fresh vm Set that is emptied when the benchmark (or
// test) ends: vm keeps its summaries in a global list for window rotation.
func newVMSet(tb testing.TB) *vm.Set {
	set := vm.NewSet()
	tb.Cleanup(set.UnregisterAllMetrics)
	return set
}

func BenchmarkCounterInc(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		c := prom.Must(prom.NewCounter("x_total", "X.", prom.WithRegistry(prom.NewRegistry())))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.Inc()
		}
	})
	b.Run("clientgolang", func(b *testing.B) {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "X."})
		prometheus.NewRegistry().MustRegister(c)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.Inc()
		}
	})
	b.Run("vm", func(b *testing.B) {
		c := newVMSet(b).NewCounter("x_total")
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.Inc()
		}
	})
}

// BenchmarkSeriesInc increments a labelled series bound once, outside the
// loop: prom's CounterSeries, client_golang's child from WithLabelValues,
// vm's counter of a preformatted name (every vm counter is bound).
func BenchmarkSeriesInc(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		c := prom.Must(prom.NewCounter("x_total", "X.",
			prom.WithRegistry(prom.NewRegistry()), prom.WithLabelNames("method", "code")))
		s := c.WithValues("GET", "200")
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			s.Inc()
		}
	})
	b.Run("clientgolang", func(b *testing.B) {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "X."}, []string{"method", "code"})
		prometheus.NewRegistry().MustRegister(c)
		s := c.WithLabelValues("GET", "200")
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			s.Inc()
		}
	})
	b.Run("vm", func(b *testing.B) {
		s := newVMSet(b).GetOrCreateCounter(`x_total{method="GET",code="200"}`)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			s.Inc()
		}
	})
}

func BenchmarkCounterIncParallel(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		c := prom.Must(prom.NewCounter("x_total", "X.", prom.WithRegistry(prom.NewRegistry())))
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
	b.Run("clientgolang", func(b *testing.B) {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "x_total", Help: "X."})
		prometheus.NewRegistry().MustRegister(c)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
	b.Run("vm", func(b *testing.B) {
		c := newVMSet(b).NewCounter("x_total")
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				c.Inc()
			}
		})
	})
}

// BenchmarkLabelledInc looks up an existing series by two label values and
// increments it (the hit path).
func BenchmarkLabelledInc(b *testing.B) {
	newProm := func(b *testing.B) *prom.Counter {
		c := prom.Must(prom.NewCounter("x_total", "X.",
			prom.WithRegistry(prom.NewRegistry()), prom.WithLabelNames("method", "code")))
		c.WithValues("GET", "200").Inc() // create the series: measure hits only
		return c
	}
	newCG := func(b *testing.B) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "X."}, []string{"method", "code"})
		prometheus.NewRegistry().MustRegister(c)
		c.WithLabelValues("GET", "200").Inc()
		return c
	}

	b.Run("prom_values", func(b *testing.B) {
		c := newProm(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.WithValues("GET", "200").Inc()
		}
	})
	b.Run("prom_map", func(b *testing.B) {
		c := newProm(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.With(prom.Labels{"method": "GET", "code": "200"}).Inc()
		}
	})
	b.Run("clientgolang_values", func(b *testing.B) {
		c := newCG(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.WithLabelValues("GET", "200").Inc()
		}
	})
	b.Run("clientgolang_map", func(b *testing.B) {
		c := newCG(b)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			c.With(prometheus.Labels{"method": "GET", "code": "200"}).Inc()
		}
	})
	b.Run("vm", func(b *testing.B) {
		const name = `x_total{method="GET",code="200"}`
		set := newVMSet(b)
		set.GetOrCreateCounter(name).Inc()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			set.GetOrCreateCounter(name).Inc()
		}
	})
	b.Run("vm_sprintf", func(b *testing.B) {
		set := newVMSet(b)
		method, code := "GET", "200"
		set.GetOrCreateCounter(vmName("x_total", method, code)).Inc()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			set.GetOrCreateCounter(fmt.Sprintf("x_total{method=%q,code=%q}", method, code)).Inc()
		}
	})
}

// BenchmarkMapArgumentFloor measures what a label map built at the call
// site costs the caller before any library sees it, the floor of every
// LabelledInc map row: building it, and building it and reading its two
// entries (the least a lookup by map must do). It is no library's figure.
func BenchmarkMapArgumentFloor(b *testing.B) {
	b.Run("build", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			mapSink = mapLen(prom.Labels{"method": "GET", "code": "200"})
		}
	})
	b.Run("build_read2", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			mapSink = mapRead2(prom.Labels{"method": "GET", "code": "200"})
		}
	})
}

var mapSink int

//go:noinline
func mapLen(m prom.Labels) int { return len(m) }

//go:noinline
func mapRead2(m prom.Labels) int { return len(m["method"]) + len(m["code"]) }

// BenchmarkLabelledIncParallel: every goroutine cycles through 16 existing
// label sets.
func BenchmarkLabelledIncParallel(b *testing.B) {
	b.Run("prom_values", func(b *testing.B) {
		c := prom.Must(prom.NewCounter("x_total", "X.",
			prom.WithRegistry(prom.NewRegistry()), prom.WithLabelNames("method", "code")))
		for _, p := range labelPairs {
			c.WithValues(p[0], p[1]).Inc()
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				p := &labelPairs[i&15]
				c.WithValues(p[0], p[1]).Inc()
				i++
			}
		})
	})
	b.Run("clientgolang_values", func(b *testing.B) {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_total", Help: "X."}, []string{"method", "code"})
		prometheus.NewRegistry().MustRegister(c)
		for _, p := range labelPairs {
			c.WithLabelValues(p[0], p[1]).Inc()
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				p := &labelPairs[i&15]
				c.WithLabelValues(p[0], p[1]).Inc()
				i++
			}
		})
	})
	b.Run("vm", func(b *testing.B) {
		set := newVMSet(b)
		var names [16]string
		for i, p := range labelPairs {
			names[i] = vmName("x_total", p[0], p[1])
			set.GetOrCreateCounter(names[i]).Inc()
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				set.GetOrCreateCounter(names[i&15]).Inc()
				i++
			}
		})
	})
}

func BenchmarkGaugeSet(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		g := prom.Must(prom.NewGauge("x", "X.", prom.WithRegistry(prom.NewRegistry())))
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			g.Set(float64(i))
		}
	})
	b.Run("clientgolang", func(b *testing.B) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x", Help: "X."})
		prometheus.NewRegistry().MustRegister(g)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			g.Set(float64(i))
		}
	})
	b.Run("vm", func(b *testing.B) {
		g := newVMSet(b).NewGauge("x", nil)
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			g.Set(float64(i))
		}
	})
}

func BenchmarkGaugeAdd(b *testing.B) {
	b.Run("prom", func(b *testing.B) {
		g := prom.Must(prom.NewGauge("x", "X.", prom.WithRegistry(prom.NewRegistry())))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			g.Add(0.5)
		}
	})
	b.Run("clientgolang", func(b *testing.B) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x", Help: "X."})
		prometheus.NewRegistry().MustRegister(g)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			g.Add(0.5)
		}
	})
	b.Run("vm", func(b *testing.B) {
		g := newVMSet(b).NewGauge("x", nil)
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			g.Add(0.5)
		}
	})
}
