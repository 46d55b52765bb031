package prom

import (
	"math"
	"sync"
	"testing"
	"time"
)

func TestGauge(t *testing.T) {
	reg := NewRegistry()
	g := Must(NewGauge("temp_celsius", "Temperature.", WithRegistry(reg)))
	steps := []struct {
		op   func()
		want float64
	}{
		{func() { g.Set(10) }, 10},
		{g.Inc, 11},
		{g.Dec, 10},
		{func() { g.Add(-2.5) }, 7.5},
		{func() { g.Sub(-0.5) }, 8},
		{func() { g.Sub(8) }, 0},
		{func() { g.Set(-1e21) }, -1e21},
	}
	for i, s := range steps {
		s.op()
		if v, _ := g.Get(nil); v != s.want {
			t.Fatalf("step %d: value %v; want %v", i, v, s.want)
		}
	}
	wantSamples(t, reg, "temp_celsius -1e+21")
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 0.1, 1e-9, 123456789} {
		g.Set(v)
	}
	wantSamples(t, reg, "temp_celsius 123456789")
	g.Set(math.Inf(-1))
	wantSamples(t, reg, "temp_celsius -Inf")
	g.Set(math.NaN())
	wantSamples(t, reg, "temp_celsius NaN")
	g.Set(0.1)
	wantSamples(t, reg, "temp_celsius 0.1")
}

func TestGaugeSetToCurrentTime(t *testing.T) {
	g := Must(NewGauge("t", "h", WithRegistry(nil)))
	before := float64(time.Now().UnixNano()) / 1e9
	g.SetToCurrentTime()
	v, _ := g.Get(nil)
	if after := float64(time.Now().UnixNano()) / 1e9; v < before || v > after {
		t.Fatalf("SetToCurrentTime = %v; want within [%v, %v]", v, before, after)
	}
}

func TestGaugeConcurrentAdd(t *testing.T) {
	g := Must(NewGauge("g", "h", WithRegistry(nil)))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5000 {
				g.Add(0.5)
				g.With(Labels{"x": "y"}).Inc()
			}
		}()
	}
	wg.Wait()
	if v, _ := g.Get(nil); v != 10000 {
		t.Fatalf("value %v; want 10000", v)
	}
}

func TestGaugeFunc(t *testing.T) {
	reg := NewRegistry()
	n := 0
	Must(NewGaugeFunc("calls", "Calls so far.", func() float64 { n++; return float64(n) }, WithRegistry(reg), WithConstLabels(Labels{"a": "b"})))
	wantSamples(t, reg, `calls{a="b"} 1`)
	wantSamples(t, reg, `calls{a="b"} 2`)
	if _, err := NewGaugeFunc("f", "h", nil, WithRegistry(nil)); err == nil {
		t.Error("nil function accepted")
	}
	if _, err := NewGaugeFunc("f", "h", func() float64 { return 0 }, WithRegistry(nil), WithLabelNames("a")); err == nil {
		t.Error("label names accepted on a gauge function")
	}
}
