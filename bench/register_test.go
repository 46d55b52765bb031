package bench

import (
	"fmt"
	"testing"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/promgo/prom"
)

// BenchmarkRegister10k makes 10,000 counters, each with its own name, in
// a new registry (a vm Set): a program's start-up with many metrics. Each
// library's registration checks the name against those already there; the
// cost per registration must not grow with their number.
func BenchmarkRegister10k(b *testing.B) {
	const n = 10000
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("startup_%d_total", i)
	}
	// run times making every name's counter through add, which start
	// returns for a new registry.
	run := func(b *testing.B, start func() (add func(name string) error)) {
		b.ReportAllocs()
		for range b.N {
			add := start()
			for _, name := range names {
				if err := add(name); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("prom", func(b *testing.B) {
		run(b, func() func(string) error {
			reg := prom.NewRegistry()
			return func(name string) error {
				_, err := prom.NewCounter(name, "Help.", prom.WithRegistry(reg))
				return err
			}
		})
	})
	b.Run("clientgolang", func(b *testing.B) {
		run(b, func() func(string) error {
			reg := prometheus.NewRegistry()
			return func(name string) error {
				return reg.Register(prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: "Help."}))
			}
		})
	})
	b.Run("vm", func(b *testing.B) {
		run(b, func() func(string) error {
			set := vm.NewSet()
			return func(name string) error {
				set.NewCounter(name)
				return nil
			}
		})
	})
}
