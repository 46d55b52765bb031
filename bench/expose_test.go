package bench

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/promgo/prom"
)

// The Expose10k workload: exposeFamilies counter families of
// exposeMethods*exposeCodes series each (two labels), plus exposeHistograms
// unlabelled histograms with default buckets and a few observations each.
const (
	exposeFamilies   = 100
	exposeHistograms = 100
	exposeObserved   = 5 // observations per histogram
)

var (
	exposeMethods = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "PROPFIND"}
	exposeCodes   = [...]string{"200", "201", "204", "301", "304", "400", "401", "404", "500", "503"}
)

func exposeCounterName(f int) string   { return fmt.Sprintf("bench_requests_%02d_total", f) }
func exposeHistogramName(h int) string { return fmt.Sprintf("bench_latency_%02d_seconds", h) }

// exposeCounterValue is the value of series (f, m, c): distinct, not all
// whole-number-small, so number formatting is exercised.
func exposeCounterValue(f, m, c int) float64 { return float64(f*1000+m*10+c) + 0.25 }

func setupPromExpose() *prom.Registry {
	reg := prom.NewRegistry()
	for f := range exposeFamilies {
		c := prom.Must(prom.NewCounter(exposeCounterName(f), "Requests served.",
			prom.WithRegistry(reg), prom.WithLabelNames("method", "code")))
		for m, method := range exposeMethods {
			for k, code := range exposeCodes {
				c.WithValues(method, code).Add(exposeCounterValue(f, m, k))
			}
		}
	}
	for h := range exposeHistograms {
		hist := prom.Must(prom.NewHistogram(exposeHistogramName(h), "Request latency.", prom.WithRegistry(reg)))
		for i := range exposeObserved {
			hist.Observe(observations[h*exposeObserved+i])
		}
	}
	return reg
}

func setupCGExpose() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	for f := range exposeFamilies {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: exposeCounterName(f), Help: "Requests served."},
			[]string{"method", "code"})
		reg.MustRegister(c)
		for m, method := range exposeMethods {
			for k, code := range exposeCodes {
				c.WithLabelValues(method, code).Add(exposeCounterValue(f, m, k))
			}
		}
	}
	for h := range exposeHistograms {
		hist := prometheus.NewHistogram(prometheus.HistogramOpts{Name: exposeHistogramName(h), Help: "Request latency.",
			Buckets: prometheus.DefBuckets})
		reg.MustRegister(hist)
		for i := range exposeObserved {
			hist.Observe(observations[h*exposeObserved+i])
		}
	}
	return reg
}

func setupVMExpose(tb testing.TB) *vm.Set {
	set := newVMSet(tb)
	for f := range exposeFamilies {
		name := exposeCounterName(f)
		for m, method := range exposeMethods {
			for k, code := range exposeCodes {
				// FloatCounter: the values are not whole numbers.
				set.NewFloatCounter(vmName(name, method, code)).Add(exposeCounterValue(f, m, k))
			}
		}
	}
	for h := range exposeHistograms {
		hist := set.NewPrometheusHistogram(exposeHistogramName(h))
		for i := range exposeObserved {
			hist.Update(observations[h*exposeObserved+i])
		}
	}
	return set
}

// BenchmarkExpose10k renders 10,000 counter series and 100 histograms as
// text into a buffer reused across iterations. The size of one scrape is
// reported as bytes/scrape so that differences in output can be seen.
//
// vm writes no HELP or TYPE lines unless vm.ExposeMetadata(true) is set, so
// its default output is smaller; vm_metadata turns the metadata on.
func BenchmarkExpose10k(b *testing.B) {
	ctx := context.Background()
	b.Run("prom", func(b *testing.B) {
		reg := setupPromExpose()
		buf, err := reg.Append(ctx, nil, prom.FormatText)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			buf, err = reg.Append(ctx, buf[:0], prom.FormatText)
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(buf)), "bytes/scrape")
	})
	b.Run("clientgolang", func(b *testing.B) {
		reg := setupCGExpose()
		var buf bytes.Buffer
		format := expfmt.NewFormat(expfmt.TypeTextPlain)
		scrape := func() {
			buf.Reset()
			mfs, err := reg.Gather()
			if err != nil {
				b.Fatal(err)
			}
			enc := expfmt.NewEncoder(&buf, format)
			for _, mf := range mfs {
				if err := enc.Encode(mf); err != nil {
					b.Fatal(err)
				}
			}
		}
		scrape()
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			scrape()
		}
		b.ReportMetric(float64(buf.Len()), "bytes/scrape")
	})
	vmRun := func(metadata bool) func(b *testing.B) {
		return func(b *testing.B) {
			if metadata {
				vm.ExposeMetadata(true)
				b.Cleanup(func() { vm.ExposeMetadata(false) })
			}
			set := setupVMExpose(b)
			var buf bytes.Buffer
			set.WritePrometheus(&buf)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				buf.Reset()
				set.WritePrometheus(&buf)
			}
			b.ReportMetric(float64(buf.Len()), "bytes/scrape")
		}
	}
	b.Run("vm", vmRun(false))
	b.Run("vm_metadata", vmRun(true))
}
