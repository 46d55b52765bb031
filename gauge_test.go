package prom

import (
	"fmt"
	"math"
	"strconv"
	"strings"
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
	g := Must(NewGaugeFunc("calls", "Calls so far.", func() float64 { n++; return float64(n) }, WithRegistry(reg), WithConstLabels(Labels{"a": "b"})))
	wantSamples(t, reg, `calls{a="b"} 1`)
	wantSamples(t, reg, `calls{a="b"} 2`)
	if got := g.ConstLabels(); len(got) != 1 || got["a"] != "b" {
		t.Errorf("ConstLabels() = %v", got)
	}
	testFuncOptions(t, "gauge function", func(fn func() float64, opts ...Option) error {
		_, err := NewGaugeFunc("f", "h", fn, opts...)
		return err
	})
}

// testFuncOptions checks the errors of a function metric's constructor,
// newFunc, for a nil function and options that do not apply.
func testFuncOptions(t *testing.T, kind string, newFunc func(fn func() float64, opts ...Option) error) {
	t.Helper()
	if err := newFunc(nil, WithRegistry(nil)); err == nil || !strings.Contains(err.Error(), kind+` "f": the function is nil`) {
		t.Errorf("nil function: error %v", err)
	}
	for _, o := range []struct {
		name, want string
		opt        Option
	}{
		{"WithLabelNames", "not label names", WithLabelNames("a")},
		{"WithMaxSeries", "WithMaxSeries and WithIdleExpiry apply to metrics with labelled series", WithMaxSeries(2)},
		{"WithIdleExpiry", "not to a " + kind, WithIdleExpiry(time.Minute)},
		{"WithBuckets", "WithBuckets applies to histograms", WithBuckets(1)},
		{"WithObjectives", "apply to summaries", WithObjectives(Objective{0.5, 0.05})},
	} {
		if err := newFunc(func() float64 { return 0 }, WithRegistry(nil), o.opt); err == nil || !strings.Contains(err.Error(), o.want) {
			t.Errorf("%s with %s: error %v; want one that says %q", kind, o.name, err, o.want)
		}
	}
}

// TestGaugeUnlabelledFirstUse checks the unlabelled series of a Gauge,
// which its methods update through a pending series that any read
// registers once updated: it appears from its first use, whatever the use
// and whatever reads it, and Reset and Delete detach it as for any series.
func TestGaugeUnlabelledFirstUse(t *testing.T) {
	uses := []struct {
		name string
		use  func(g *Gauge)
		want float64
	}{
		{"Set(0)", func(g *Gauge) { g.Set(0) }, 0},
		{"Set(3)", func(g *Gauge) { g.Set(3) }, 3},
		{"Add(2)", func(g *Gauge) { g.Add(2) }, 2},
		{"Sub(2)", func(g *Gauge) { g.Sub(2) }, -2},
		{"Inc", func(g *Gauge) { g.Inc() }, 1},
		{"Dec", func(g *Gauge) { g.Dec() }, -1},
		{"With(nil)", func(g *Gauge) { g.With(nil) }, 0},
		{"WithValues()", func(g *Gauge) { g.WithValues() }, 0},
		{"Add(0)", func(g *Gauge) { g.Add(0) }, 0},
	}
	reads := []struct {
		name string
		read func(t *testing.T, g *Gauge, reg *Registry) (float64, bool)
	}{
		{"scrape", func(t *testing.T, g *Gauge, reg *Registry) (float64, bool) {
			for _, l := range samples(text(t, reg)) {
				if v, ok := strings.CutPrefix(l, "g "); ok {
					f, err := strconv.ParseFloat(v, 64)
					return f, err == nil
				}
			}
			return 0, false
		}},
		{"Get", func(_ *testing.T, g *Gauge, _ *Registry) (float64, bool) { return g.Get(nil) }},
		{"All", func(_ *testing.T, g *Gauge, _ *Registry) (float64, bool) {
			for l, v := range g.All() {
				if len(l) == 0 {
					return v, true
				}
			}
			return 0, false
		}},
	}
	for _, u := range uses {
		for _, r := range reads {
			t.Run(u.name+"/"+r.name, func(t *testing.T) {
				reg := NewRegistry()
				g := Must(NewGauge("g", "h", WithRegistry(reg)))
				if v, ok := r.read(t, g, reg); ok {
					t.Fatalf("before any use: %v, present", v)
				}
				for round := range 3 { // the first series, then after Reset, then after Delete
					u.use(g)
					if v, ok := r.read(t, g, reg); !ok || v != u.want {
						t.Fatalf("round %d: %v, %v; want %v, present", round, v, ok, u.want)
					}
					held := g.With(nil)
					if round == 0 {
						g.Reset()
					} else if !g.Delete(nil) {
						t.Fatalf("round %d: Delete(nil) found nothing", round)
					}
					held.Set(42) // detached: never exposed
					if v, ok := r.read(t, g, reg); ok {
						t.Fatalf("round %d: after removal %v, present", round, v)
					}
				}
			})
		}
	}
}

func TestGaugeUnlabelledRefused(t *testing.T) {
	reg := NewRegistry()
	g := Must(NewGauge("g", "h", WithRegistry(reg), WithLabelNames("k")))
	g.Set(1) // the unlabelled series does not fit: refused
	g.Add(1)
	if _, ok := g.Get(nil); ok {
		t.Error("the unlabelled series of a labelled gauge exists")
	}
	g.WithValues("a").Set(2)
	out := text(t, reg)
	if strings.Contains(out, "g 2") || !strings.Contains(out, `g{k="a"} 2`) ||
		!strings.Contains(out, `prom_rejected_updates_total{metric="g",reason="invalid_labels"}`) {
		t.Errorf("exposition:\n%s", out)
	}
	if _, err := g.Bind(nil); err == nil {
		t.Error("Bind(nil) on a labelled gauge: no error")
	}
}

// TestGaugeUnlabelledCreationOrder: the unlabelled series, updated
// before a labelled one is made, comes first in the exposition and in All,
// as series of every metric come in creation order (it came last: it was
// registered by the scrape).
func TestGaugeUnlabelledCreationOrder(t *testing.T) {
	reg := NewRegistry()
	g := Must(NewGauge("g", "h", WithRegistry(reg)))
	g.Set(1)
	g.With(Labels{"a": "1"}).Set(2)
	g.With(Labels{"a": "2"}).Set(3)
	late := Must(NewGauge("late", "h", WithRegistry(reg)))
	late.With(Labels{"a": "1"}).Set(2)
	late.Set(1) // after the labelled one: it comes after it
	want := "# HELP g h\n# TYPE g gauge\ng 1\ng{a=\"1\"} 2\ng{a=\"2\"} 3\n" +
		"# HELP late h\n# TYPE late gauge\nlate{a=\"1\"} 2\nlate 1\n"
	if got := text(t, reg); got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
	var first Labels
	for l := range g.All() {
		first = l
		break
	}
	if len(first) != 0 {
		t.Errorf("All begins with %v, want the unlabelled series", first)
	}
}

// TestGaugeUnlabelledRefusedCountedAtOnce: refused unlabelled updates of a
// gauge with declared names are counted by the scrape that first follows
// them (the count came one scrape late), once per scrape that finds them.
func TestGaugeUnlabelledRefusedCountedAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []Option
		reason string
	}{
		{"declared names", []Option{WithLabelNames("a")}, "invalid_labels"},
		// A series limit never refuses the unlabelled series
		// (TestMaxSeriesUnlabelled).
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry()
			g := Must(NewGauge("dg", "h", append(tc.opts, WithRegistry(reg))...))
			line := func(n int) string {
				return fmt.Sprintf(`prom_rejected_updates_total{metric="dg",reason=%q} %d`, tc.reason, n)
			}
			for i, step := range []struct {
				update bool
				want   int
			}{{true, 1}, {false, 1}, {false, 1}, {true, 2}, {true, 3}} {
				if step.update {
					g.Inc()
				}
				if out := text(t, reg); !strings.Contains(out, line(step.want)+"\n") {
					t.Fatalf("scrape %d: want %s in\n%s", i+1, line(step.want), out)
				}
			}
		})
	}
}

// TestGaugeUnsetPattern checks the one documented oddity of the pending
// series: the NaN bit pattern that marks it, set as a value, is no use of a
// pending series and reads as 0 in a present one.
func TestGaugeUnsetPattern(t *testing.T) {
	reg := NewRegistry()
	g := Must(NewGauge("g", "h", WithRegistry(reg)))
	g.Set(math.Float64frombits(gaugeUnset))
	if _, ok := g.Get(nil); ok {
		t.Error("the pending pattern made the series appear")
	}
	g.Set(1)
	wantSamples(t, reg, "g 1")
	g.Set(math.Float64frombits(gaugeUnset))
	if v, ok := g.Get(nil); !ok || v != 0 {
		t.Errorf("Get = %v, %v; want 0, true", v, ok)
	}
	wantSamples(t, reg, "g 0")
	g.Add(1) // from 0
	wantSamples(t, reg, "g 1")
	if bits := math.Float64bits(math.NaN()); bits == gaugeUnset {
		t.Error("math.NaN() is the pending pattern")
	}
}

// TestGaugeUnlabelledConcurrent races unlabelled updates with scrapes,
// Get, Reset and Delete (-race). After the racing stops, one more Add
// must show the sum of the updates that the last Reset/Delete left.
func TestGaugeUnlabelledConcurrent(t *testing.T) {
	reg := NewRegistry()
	g := Must(NewGauge("g", "h", WithRegistry(reg)))
	stop := loop(4, func(w, i int) {
		switch {
		case w == 0 && i%50 == 0:
			g.Reset()
		case w == 0 && i%50 == 25:
			g.Delete(nil)
		case w == 1 && i%10 == 0:
			text(t, reg)
		case w == 1:
			g.Get(nil)
		default:
			g.Add(1)
		}
	})
	time.Sleep(200 * time.Millisecond)
	stop()
	g.Reset()
	for range 1000 {
		g.Add(1)
	}
	wantSamples(t, reg, "g 1000")
}
