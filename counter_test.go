package prom

import (
	"context"
	"errors"
	"maps"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

func TestCounterUnlabelled(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("jobs_total", "Jobs done.", WithRegistry(reg)))
	wantSamples(t, reg) // no series before the first use
	c.Inc()
	c.Add(2)
	c.Add(0.5)
	if v, ok := c.Get(nil); !ok || v != 3.5 {
		t.Fatalf("Get(nil) = %v, %v; want 3.5, true", v, ok)
	}
	if v, ok := c.Get(Labels{}); !ok || v != 3.5 {
		t.Fatalf("Get({}) = %v, %v; want the same series as nil", v, ok)
	}
	if got, want := text(t, reg), "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 3.5\n"; got != want {
		t.Errorf("text:\n%q\nwant\n%q", got, want)
	}
}

func TestCounterRejectsNegativeAndNaN(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg)))
	c.Add(1)
	c.Add(-1)
	c.Add(math.NaN())
	c.With(nil).Add(-0.5)
	if v, _ := c.Get(nil); v != 1 {
		t.Fatalf("value = %v after negative and NaN adds; want 1", v)
	}
	wantSamples(t, reg,
		`c_total 1`,
		`prom_rejected_updates_total{metric="c_total",reason="invalid_value"} 3`)
}

func TestCounterLargeAndFractionalAdds(t *testing.T) {
	c := Must(NewCounter("c_total", "h", WithRegistry(nil)))
	c.Add(1 << 60) // above 2^53: the float path
	c.Add(math.Inf(1))
	if v, _ := c.Get(nil); !math.IsInf(v, 1) {
		t.Fatalf("value = %v; want +Inf", v)
	}
}

// TestCounterAddPastIntegerRange: whole-number adds whose total passes
// 2^62 and 2^63 keep counting (the integral word once wrapped into the
// striped flag, and the value went down); the value never goes down.
func TestCounterAddPastIntegerRange(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first float64 // added before the loop
		add   float64
		n     int
	}{
		{"9e15 x 1025", 0, 9e15, 1025},
		{"after a fraction", 0.5, 9e15, 1025},
		{"2^43 x 2^21", 0, 1 << 43, 1 << 21},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Must(NewCounter("c_total", "h", WithRegistry(nil)))
			l := Must(NewCounter("l_total", "h", WithRegistry(nil), WithLabelNames("a"))).WithValues("x")
			for _, s := range []*CounterSeries{c.unlabelled(), l} {
				s.Add(tc.first)
				prev := s.Value()
				for i := range tc.n {
					s.Add(tc.add)
					v := s.Value()
					if v < prev {
						t.Fatalf("add %d: value went down from %g to %g", i+1, prev, v)
					}
					prev = v
				}
				want := tc.first + tc.add*float64(tc.n)
				if got := s.Value(); math.Abs(got-want) > want*1e-15 {
					t.Errorf("value %g, want %g", got, want)
				}
				s.Inc()
				if got := s.Value(); got < want {
					t.Errorf("after Inc: value %g, want at least %g", got, want)
				}
			}
		})
	}
	t.Run("concurrent", func(t *testing.T) {
		const goroutines, each = 8, 1 << 18 // 2^21 adds of 2^43: 2^64 in all
		c := Must(NewCounter("c_total", "h", WithRegistry(nil)))
		var wg sync.WaitGroup
		wg.Add(goroutines)
		for range goroutines {
			go func() {
				defer wg.Done()
				for range each {
					c.Add(1 << 43)
				}
			}()
		}
		wg.Wait()
		if got, want := c.unlabelled().Value(), float64(goroutines*each)*(1<<43); got != want {
			t.Errorf("value %g, want %g", got, want)
		}
	})
}

func TestCounterLabelsByMap(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("events_total", "Events.", WithRegistry(reg), WithConstLabels(Labels{"host": "h1"})))
	c.With(Labels{"kind": "a", "zone": "z"}).Inc()
	c.With(Labels{"zone": "z", "kind": "a"}).Inc() // same set, other order
	c.With(Labels{"kind": "b"}).Add(5)
	if v, ok := c.Get(Labels{"zone": "z", "kind": "a"}); !ok || v != 2 {
		t.Fatalf("Get = %v, %v; want 2, true", v, ok)
	}
	if _, ok := c.Get(Labels{"kind": "c"}); ok {
		t.Fatal("Get of an unknown series reported true")
	}
	wantSamples(t, reg,
		`events_total{host="h1",kind="a",zone="z"} 2`,
		`events_total{host="h1",kind="b"} 5`)
	got := map[string]float64{}
	for l, v := range c.All() {
		got[l["kind"]+"/"+l["zone"]] = v
		if _, ok := l["host"]; ok {
			t.Error("All includes constant labels")
		}
	}
	if want := map[string]float64{"a/z": 2, "b/": 5}; !maps.Equal(got, want) {
		t.Errorf("All = %v; want %v", got, want)
	}
}

func TestCounterDeclaredLabels(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("req_total", "Requests.", WithRegistry(reg), WithLabelNames("method", "code")))
	c.WithValues("GET", "200").Inc()
	c.With(Labels{"code": "200", "method": "GET"}).Inc()
	c.WithValues("POST", "500").Add(3)
	if v, _ := c.Get(Labels{"method": "GET", "code": "200"}); v != 2 {
		t.Fatalf("map and values address different series: %v", v)
	}
	wantSamples(t, reg, `req_total{method="GET",code="200"} 2`, `req_total{method="POST",code="500"} 3`)

	if !c.DeleteValues("POST", "500") || c.DeleteValues("POST", "500") {
		t.Fatal("DeleteValues: want true then false")
	}
	if !c.Delete(Labels{"method": "GET", "code": "200"}) {
		t.Fatal("Delete by map failed")
	}
	wantSamples(t, reg)
	c.WithValues("GET", "200").Inc()
	wantSamples(t, reg, `req_total{method="GET",code="200"} 1`)
	c.Reset()
	wantSamples(t, reg)
}

func TestCounterBadLabels(t *testing.T) {
	reg := NewRegistry()
	declared := Must(NewCounter("d_total", "h", WithRegistry(reg), WithLabelNames("a", "b")))
	free := Must(NewCounter("f_total", "h", WithRegistry(reg), WithConstLabels(Labels{"host": "x"})))
	tests := []struct {
		name string
		bind func() (*CounterSeries, error)
		want []string // substrings of the error
	}{
		{"too few values", func() (*CounterSeries, error) { return declared.BindValues("x") }, []string{`"d_total"`, "got 1 value"}},
		{"too many values", func() (*CounterSeries, error) { return declared.BindValues("x", "y", "z") }, []string{"got 3 values"}},
		{"unknown name", func() (*CounterSeries, error) { return declared.Bind(Labels{"a": "1", "c": "2"}) }, []string{`no label "c"`}},
		{"missing name", func() (*CounterSeries, error) { return declared.Bind(Labels{"a": "1"}) }, []string{"got 1 label", `without "b"`}},
		{"unlabelled on declared", func() (*CounterSeries, error) { return declared.Bind(nil) }, []string{"got 0 labels"}},
		{"values on undeclared", func() (*CounterSeries, error) { return free.BindValues("x") }, []string{"no label names"}},
		{"invalid name", func() (*CounterSeries, error) { return free.Bind(Labels{"1x": "v"}) }, []string{`"1x"`, "must match"}},
		{"dash in name", func() (*CounterSeries, error) { return free.Bind(Labels{"a-b": "v"}) }, []string{`"a-b"`}},
		{"reserved prefix", func() (*CounterSeries, error) { return free.Bind(Labels{"__x": "v"}) }, []string{`"__x"`, "reserved"}},
		{"const clash", func() (*CounterSeries, error) { return free.Bind(Labels{"host": "v"}) }, []string{`"host"`, "constant"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := tt.bind()
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrInvalidLabels) && !errors.Is(err, ErrInvalidName) {
				t.Errorf("error %v is neither ErrInvalidLabels nor ErrInvalidName", err)
			}
			if msg := err.Error(); strings.Contains(msg, " 1 values") || strings.Contains(msg, " 1 labels") {
				t.Errorf("error %q counts one in the plural", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %s", err, w)
				}
			}
			s.Inc() // a detached series: never nil, never exposed
		})
	}
	// Bind and BindValues return the refusal instead of counting it; the
	// one-line forms, which cannot return it, count it.
	if out := text(t, reg); strings.Contains(out, "prom_rejected_updates_total{") {
		t.Errorf("Bind refusals counted:\n%s", out)
	}
	free.With(Labels{"__bad": "v"}).Inc()
	free.WithValues("x").Inc()
	declared.With(Labels{"a": "1"}).Inc()
	declared.WithValues("x").Inc()
	declared.With(nil).Inc()
	declared.Inc()
	out := text(t, reg)
	if strings.Contains(out, "d_total{") || strings.Contains(out, "__") {
		t.Errorf("a refused series was exposed:\n%s", out)
	}
	if !strings.Contains(out, `prom_rejected_updates_total{metric="d_total",reason="invalid_labels"} 4`) ||
		!strings.Contains(out, `prom_rejected_updates_total{metric="f_total",reason="invalid_labels"} 2`) {
		t.Errorf("refusals not counted:\n%s", out)
	}
}

func TestCounterOddLabelValues(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("odd_total", "Help with \\ and\nnewline.", WithRegistry(reg)))
	c.With(Labels{"v": "quote\" backslash\\ newline\n tab\t"}).Inc()
	c.With(Labels{"v": "bad\xffutf8"}).Inc()
	c.With(Labels{"v": "bad\xfeutf8"}).Inc() // repairs to the same value: one series
	c.With(Labels{"v": ""}).Inc()            // an empty value is no label: the unlabelled series
	want := "# HELP odd_total Help with \\\\ and\\nnewline.\n# TYPE odd_total counter\n" +
		"odd_total{v=\"quote\\\" backslash\\\\ newline\\n tab\t\"} 1\n" +
		"odd_total{v=\"bad\uFFFDutf8\"} 2\n" +
		"odd_total 1\n"
	if got := text(t, reg); got != want {
		t.Errorf("text:\n%s\nwant:\n%s", got, want)
	}
}

func TestCounterConcurrent(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg), WithLabelNames("k")))
	const workers, n = 8, 2000
	repeat(workers, n, func(w, i int) {
		c.WithValues(string(rune('a' + (i+w)%20))).Inc()
		c.With(Labels{"k": "shared"}).Add(1)
		if i%500 == 0 {
			text(t, reg)
		}
	})
	var total float64
	for _, v := range c.All() {
		total += v
	}
	if total != 2*workers*n {
		t.Fatalf("total %v; want %v", total, 2*workers*n)
	}
	if v, _ := c.Get(Labels{"k": "shared"}); v != workers*n {
		t.Fatalf("shared = %v; want %v", v, workers*n)
	}
}

func TestCounterManySeriesGrowth(t *testing.T) {
	c := Must(NewCounter("c_total", "h", WithRegistry(nil), WithLabelNames("i")))
	const n = 5000
	for i := range n {
		c.WithValues(itoa(i)).Add(float64(i))
	}
	for i := range n {
		if v, ok := c.Get(Labels{"i": itoa(i)}); !ok || v != float64(i) {
			t.Fatalf("series %d = %v, %v", i, v, ok)
		}
	}
	for i := 0; i < n; i += 2 {
		c.DeleteValues(itoa(i))
	}
	for i := range n {
		_, ok := c.Get(Labels{"i": itoa(i)})
		if ok != (i%2 == 1) {
			t.Fatalf("series %d present = %v after deleting the even ones", i, ok)
		}
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func TestInvalidUTF8SeriesCanBeFoundAndDeleted(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg), WithLabelNames("v")))
	free := Must(NewCounter("f_total", "h", WithRegistry(reg)))
	c.WithValues("\xff").Inc()
	free.With(Labels{"v": "a\xfe"}).Inc()
	if v, ok := c.Get(Labels{"v": "\xff"}); !ok || v != 1 {
		t.Fatalf("Get by the raw value = %v, %v", v, ok)
	}
	if v, ok := c.Get(Labels{"v": "\uFFFD"}); !ok || v != 1 {
		t.Fatalf("Get by the repaired value = %v, %v", v, ok)
	}
	if !c.DeleteValues("\xff") || !free.Delete(Labels{"v": "a\xfe"}) {
		t.Fatal("Delete by the raw value found nothing")
	}
	wantSamples(t, reg)
}

func TestUndeclaredFamilyMixedNameSets(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg)))
	sets := []Labels{{"a": "1"}, {"b": "1"}, {"a": "1", "b": "2"}, {"b": "2", "c": "3"}, {"a": "1"}, {"b": "1"}, nil}
	for range 3 {
		for _, l := range sets {
			c.With(l).Inc()
		}
	}
	wantSamples(t, reg, `c_total{a="1"} 6`, `c_total{b="1"} 6`, `c_total{a="1",b="2"} 3`, `c_total{b="2",c="3"} 3`, `c_total 3`)
}

func TestLabelAccessors(t *testing.T) {
	c := Must(NewCounter("c_total", "h", WithRegistry(nil), WithLabelNames("b", "a"), WithConstLabels(Labels{"x": "1"})))
	if got := c.LabelNames(); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("LabelNames = %v", got)
	}
	if got := c.ConstLabels(); !maps.Equal(got, Labels{"x": "1"}) {
		t.Errorf("ConstLabels = %v", got)
	}
	g := Must(NewGauge("g", "h", WithRegistry(nil)))
	if g.LabelNames() != nil || len(g.ConstLabels()) != 0 {
		t.Errorf("undeclared gauge: %v %v", g.LabelNames(), g.ConstLabels())
	}
}

// TestSeriesKeepsItsOwnLabelStrings: a label value built over a buffer the
// caller reuses (unsafe.String over a []byte) does not change the series.
func TestSeriesKeepsItsOwnLabelStrings(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg)))
	buf := []byte("first")
	c.With(Labels{unsafe.String(&[]byte("k")[0], 1): unsafe.String(&buf[0], len(buf))}).Inc()
	copy(buf, "XXXXX")
	wantSamples(t, reg, `c_total{k="first"} 1`)
	if _, ok := c.Get(Labels{"k": "first"}); !ok {
		t.Fatal("the series changed with the caller's buffer")
	}
}

// TestUnlabelledSeriesAfterDeleteAndReset checks the unlabelled series of
// each type across Delete and Reset: the metric's own methods start a fresh
// series, and a series held from before is detached.
func TestUnlabelledSeriesAfterDeleteAndReset(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg)))
	g := Must(NewGauge("g", "h", WithRegistry(reg)))
	h := Must(NewHistogram("h", "h", WithRegistry(reg), WithBuckets(1)))
	s := Must(NewSummary("s", "h", WithRegistry(reg), WithObjectives()))
	for round, remove := range []func(){
		func() { c.Delete(nil); g.Delete(nil); h.Delete(nil); s.Delete(nil) },
		func() { c.Reset(); g.Reset(); h.Reset(); s.Reset() },
	} {
		c.Add(5)
		g.Set(5)
		h.Observe(5)
		s.Observe(5)
		hs, ss := h.With(nil), s.With(nil)
		held := []func(){c.With(nil).Inc, g.With(nil).Inc, func() { hs.Observe(1) }, func() { ss.Observe(1) }}
		remove()
		wantSamples(t, reg)
		for _, f := range held {
			f() // a detached series: not exposed
		}
		wantSamples(t, reg)
		c.Inc()
		g.Inc()
		h.Observe(0.5)
		s.Observe(0.5)
		want := []string{"c_total 1", "g 1", `h_bucket{le="1"} 1`, `h_bucket{le="+Inf"} 1`, "h_sum 0.5", "h_count 1", "s_sum 0.5", "s_count 1"}
		wantSamples(t, reg, want...)
		t.Logf("round %d ok", round)
		c.Reset()
		g.Reset()
		h.Reset()
		s.Reset()
	}
}

// TestCounterIncStriped checks that the unlabelled series counts exactly
// whether or not Inc has moved to striped cells: through Get, Value, All
// and a scrape, with exemplars, and across the move itself.
func TestCounterIncStriped(t *testing.T) {
	for _, forced := range []bool{false, true} {
		reg := NewRegistry()
		c := Must(NewCounter("hits_total", "h", WithRegistry(reg)))
		c.Inc()
		if forced {
			c.stripe() // as if Inc had seen another goroutine
		}
		const workers, each = 4, 50000
		repeat(workers, each, func(_, i int) {
			c.Inc()
			if i%1000 == 0 {
				c.With(nil).IncWithExemplar(Labels{"trace_id": "abc"})
			}
		})
		want := float64(1 + workers*each + workers*each/1000)
		if v, _ := c.Get(nil); v != want {
			t.Errorf("forced=%v: Get = %v, want %v", forced, v, want)
		}
		if v := c.With(nil).Value(); v != want {
			t.Errorf("forced=%v: Value = %v, want %v", forced, v, want)
		}
		for _, v := range c.All() {
			if v != want {
				t.Errorf("forced=%v: All = %v, want %v", forced, v, want)
			}
		}
		wantSamples(t, reg, "hits_total "+strconv.FormatFloat(want, 'g', -1, 64))
		if forced && c.cells.Load().sum() == 0 {
			t.Errorf("forced: no increment reached the striped cells")
		}
		t.Logf("forced=%v: striped=%v", forced, c.cells.Load() != nil)
	}
}

// TestCounterIncWord follows the word that Counter.Inc adds to: flagged
// until the first unlabelled update makes the family's inline series the
// unlabelled one, then counting in that series' value, and flagged for
// good once Delete or Reset removed it, so that later increments reach the
// new series. On a metric with declared label names it stays flagged and
// Inc is a rejected update.
func TestCounterIncWord(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg)))
	word := func() uint64 { return atomic.LoadUint64(&c.counterInc.n) }
	flags := func() uint64 { return atomic.LoadUint64(&c.counterInc.flags) }
	if got := flags(); got != notInlineFlag || word() != 0 {
		t.Fatalf("new Counter: flags %#x, word %d, want notInlineFlag only and 0", got, word())
	}
	c.Inc() // creates the series through the family
	c.Inc()
	c.Inc()
	if got := word(); got != 2 {
		t.Errorf("after three Incs: word %#x, want 2 (the first went through the family)", got)
	}
	wantSamples(t, reg, "c_total 3")
	held := c.With(nil)
	for _, remove := range []func(){func() { c.Delete(nil) }, c.Reset} {
		remove()
		if got := flags(); got&notInlineFlag == 0 {
			t.Fatalf("after removal: flags %#x, want notInlineFlag", got)
		}
		c.Inc()
		wantSamples(t, reg, "c_total 1")
		if v := held.Value(); v != 3 {
			t.Errorf("removed series: Value %v, want 3", v)
		}
	}

	d := Must(NewCounter("d_total", "h", WithRegistry(reg), WithLabelNames("k")))
	d.Inc()
	d.Inc()
	if got := atomic.LoadUint64(&d.counterInc.flags); got != notInlineFlag || d.counterInc.n != 0 {
		t.Errorf("declared labels: flags %#x, word %d, want notInlineFlag only and 0", got, d.counterInc.n)
	}
	if out := text(t, reg); !strings.Contains(out, `prom_rejected_updates_total{metric="d_total",reason="invalid_labels"} 2`) {
		t.Errorf("declared labels: Inc not counted as rejected:\n%s", out)
	}
}

// TestCounterIncFlags: Counter.Inc adds exactly once whatever flags its
// slow path finds, including a watch flag left beside another flag, and
// every 256th add asks the next Inc to watch for contention.
func TestCounterIncFlags(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags uint64
	}{
		{"watch", watchFlag},
		{"watch and striped", watchFlag | stripedFlag},
		{"striped", stripedFlag},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry()
			c := Must(NewCounter("c_total", "h", WithRegistry(reg)))
			c.Inc() // the unlabelled series is live: flags 0
			if tc.flags&stripedFlag != 0 {
				makeCells(&c.cells, maxCounterCells)
			}
			atomic.OrUint64(&c.counterInc.flags, tc.flags)
			for i := range 10 {
				c.Inc()
				if v, _ := c.Get(nil); v != float64(i+2) {
					t.Fatalf("after %d Incs: %v", i+2, v)
				}
			}
			if f := atomic.LoadUint64(&c.counterInc.flags); tc.flags == watchFlag && f != 0 {
				t.Errorf("flags %#x after the watch, want 0 (one goroutine: no contention)", f)
			}
		})
	}
	t.Run("every 256th add", func(t *testing.T) {
		c := Must(NewCounter("c_total", "h", WithRegistry(nil)))
		c.Inc() // through the family: the word stays 0
		for range 255 {
			c.Inc()
		}
		if f := atomic.LoadUint64(&c.counterInc.flags); f != 0 {
			t.Fatalf("flags %#x after 255 adds", f)
		}
		c.Inc() // the word reaches 256
		if f := atomic.LoadUint64(&c.counterInc.flags); f != watchFlag {
			t.Fatalf("flags %#x after the 256th add, want watchFlag", f)
		}
		c.Inc() // watches, adds, clears
		if f := atomic.LoadUint64(&c.counterInc.flags); f != 0 {
			t.Errorf("flags %#x after the watch, want 0", f)
		}
		if v, _ := c.Get(nil); v != 258 {
			t.Errorf("value %v, want 258", v)
		}
	})
}

// TestCounterSeriesIncSlowBit: a series' Inc adds exactly once whatever
// its slow path finds (a 256th increment's request to look for contention,
// or striped cells); every 256th increment sets slowBit and the next Inc
// clears it; fractional adds keep the bit, and Value and the exposition
// leave it out.
func TestCounterSeriesIncSlowBit(t *testing.T) {
	slow := func(s *CounterSeries) bool { return atomic.LoadUint64(&s.floats)&slowBit != 0 }
	for _, tc := range []struct {
		name    string
		striped bool
	}{
		{"watch", false},
		{"striped", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry()
			c := Must(NewCounter("c_total", "h", WithRegistry(reg), WithLabelNames("k")))
			s := c.WithValues("a")
			s.Add(0.5)
			if tc.striped {
				s.contended()
			} else {
				atomic.OrUint64(&s.floats, slowBit)
			}
			for i := range 10 {
				s.Inc()
				if v := s.Value(); v != float64(i)+1.5 {
					t.Fatalf("after %d Incs: %v, want %v", i+1, v, float64(i)+1.5)
				}
			}
			if got := slow(s); got != tc.striped {
				t.Errorf("slowBit %v after the Incs, want %v (one goroutine: no contention)", got, tc.striped)
			}
			if cells := s.stripedCells(); tc.striped && (cells == nil || cells.sum() != 10) {
				t.Errorf("striped series: cells %v, want the 10 increments there", cells)
			}
			wantSamples(t, reg, `c_total{k="a"} 10.5`)
		})
	}
	t.Run("every 256th increment", func(t *testing.T) {
		reg := NewRegistry()
		s := Must(NewCounter("c_total", "h", WithRegistry(reg))).With(Labels{"k": "a"})
		for range 255 {
			s.Inc()
		}
		if slow(s) {
			t.Fatal("slowBit set after 255 increments")
		}
		s.Inc()
		if !slow(s) {
			t.Fatal("slowBit clear after the 256th increment")
		}
		s.Add(0.25) // keeps the bit
		if !slow(s) || s.Value() != 256.25 {
			t.Fatalf("after Add(0.25): slowBit %v, value %v; want true, 256.25", slow(s), s.Value())
		}
		wantSamples(t, reg, `c_total{k="a"} 256.25`)
		s.Inc() // looks for contention, adds, clears
		if slow(s) || s.stripedCells() != nil {
			t.Errorf("slowBit %v, cells %v after the look; want neither (one goroutine)", slow(s), s.stripedCells())
		}
		if v := s.Value(); v != 257.25 {
			t.Errorf("value %v, want 257.25", v)
		}
	})
}

// TestSharedSeriesStripe: goroutines that share a few series, each
// incrementing a given series a sixteenth of the time, move those series to
// striped cells (the long watch of incSeesContention: a load and an add a
// nanosecond apart almost never see the other goroutine's increment, and
// before the watch one series in sixteen had moved after 40 million
// increments); one goroutine alone moves none. Every increment is counted
// either way.
func TestSharedSeriesStripe(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2: two goroutines incrementing at once")
	}
	for _, tc := range []struct {
		name       string
		goroutines int
	}{
		{"one goroutine", 1},
		{"two goroutines", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Must(NewCounter("c_total", "h", WithRegistry(nil), WithLabelNames("k")))
			var series [16]*CounterSeries
			for i := range series {
				series[i] = c.WithValues(strconv.Itoa(i))
			}
			allStriped := func() bool {
				for _, s := range series {
					if s.stripedCells() == nil {
						return false
					}
				}
				return true
			}
			const perSeries = 1 << 20 // 256 long watches of each series
			deadline := time.Now().Add(20 * time.Second)
			var (
				wg    sync.WaitGroup
				total atomic.Uint64
				stop  atomic.Bool
			)
			for range tc.goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					n := uint64(0)
					for !stop.Load() {
						for i := range 16 * 4096 {
							series[i&15].Inc()
						}
						n += 16 * 4096
						if tc.goroutines == 1 && n >= 16*perSeries ||
							tc.goroutines > 1 && (allStriped() || time.Now().After(deadline)) {
							stop.Store(true)
						}
					}
					total.Add(n)
				}()
			}
			wg.Wait()
			striped, sum := 0, 0.0
			for _, s := range series {
				if s.stripedCells() != nil {
					striped++
				}
				sum += s.Value()
			}
			if want := float64(total.Load()); sum != want {
				t.Errorf("the series hold %v increments, want %v", sum, want)
			}
			switch {
			case tc.goroutines == 1 && striped != 0:
				t.Errorf("one goroutine moved %d series of 16 to striped cells, want none", striped)
			case tc.goroutines > 1 && striped != 16:
				t.Errorf("two goroutines sharing 16 series moved %d of them to striped cells in %d increments, want all",
					striped, total.Load())
			}
		})
	}
}

// TestCounterSeriesIncStriped checks that a labelled series counts exactly
// whether or not its Inc has moved to striped cells: through Get, Value and
// a scrape, with Add, exemplars (whose aux must keep the cells) and
// concurrent increments across the move itself; and that the unlabelled
// series, moved through With(nil), shares the Counter's cells.
func TestCounterSeriesIncStriped(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels Labels
		forced bool
	}{
		{"labelled", Labels{"path": "/a"}, false},
		{"labelled forced", Labels{"path": "/a"}, true},
		{"unlabelled forced", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry()
			c := Must(NewCounter("hits_total", "h", WithRegistry(reg)))
			s := c.With(tc.labels)
			s.Add(2)
			s.IncWithExemplar(Labels{"trace_id": "before"})
			if tc.forced {
				s.contended() // as if Inc had seen another goroutine
				if got := atomic.LoadUint64(&s.floats); got&slowBit == 0 || s.stripedCells() == nil {
					t.Fatalf("floats = %#x after contended, want slowBit set, and cells", got)
				}
				if v := s.Value(); v != 3 {
					t.Fatalf("Value = %v right after the move, want 3", v)
				}
			}
			const workers, each = 4, 50000
			repeat(workers, each, func(w, i int) {
				switch {
				case i%1000 == 0:
					c.With(tc.labels).IncWithExemplar(Labels{"trace_id": "during"})
				case i%100 == 0:
					c.With(tc.labels).Add(1)
				case w == 0 && tc.labels == nil:
					c.Inc() // the Counter's own path, same cells
				default:
					c.With(tc.labels).Inc()
				}
			})
			want := float64(3 + workers*each)
			if v, _ := c.Get(tc.labels); v != want {
				t.Errorf("Get = %v, want %v", v, want)
			}
			if v := s.Value(); v != want {
				t.Errorf("Value = %v, want %v", v, want)
			}
			name := "hits_total"
			if tc.labels != nil {
				name += `{path="/a"}`
			}
			wantSamples(t, reg, name+" "+strconv.FormatFloat(want, 'g', -1, 64))
			aux := s.aux.Load()
			cells := s.stripedCells()
			striped := cells != nil
			if tc.forced && !striped {
				t.Errorf("no cells after contended (an exemplar dropped them?)")
			}
			if striped && atomic.LoadUint64(&s.floats)&slowBit == 0 {
				t.Errorf("the series has cells, but slowBit is clear: Inc does not use them")
			}
			if aux.exemplar == nil {
				t.Errorf("exemplar lost")
			}
			if striped && cells.sum() == 0 {
				t.Errorf("striped, but no increment reached the cells")
			}
			t.Logf("striped=%v", striped)
		})
	}
}

// TestCounterSeriesStripedOnlyByInc checks that one goroutine never moves a
// series to striped cells, so a series used from one goroutine stays one
// word, and that a series deleted while striped comes back unstriped at 0.
func TestCounterSeriesStripedOnlyByInc(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("hits_total", "h", WithRegistry(reg), WithLabelNames("path")))
	s := c.WithValues("/a")
	for range 100000 {
		s.Inc()
	}
	if got := atomic.LoadUint64(&s.ints); got != 100000 {
		t.Fatalf("ints = %d after 100000 serial increments, want 100000", got)
	}
	if s.aux.Load().cells != nil {
		t.Fatalf("a serially incremented series has cells")
	}
	s.contended()
	s.Inc()
	if !c.DeleteValues("/a") {
		t.Fatal("DeleteValues found no series")
	}
	fresh := c.WithValues("/a")
	fresh.Inc()
	if got := atomic.LoadUint64(&fresh.ints); got != 1 {
		t.Errorf("recreated series: ints = %#x, want 1", got)
	}
	wantSamples(t, reg, `hits_total{path="/a"} 1`)
}

// TestCounterCellsPerP checks that a striped counter has a cell for every
// P (up to its limit: maxCounterCells for the unlabelled series,
// maxSeriesCells for labelled ones), so goroutines running at once on
// different Ps never share one, and that an increment lands in its P's cell.
func TestCounterCellsPerP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct{ procs, limit, cells int }{
		{1, maxCounterCells, 1}, {2, maxCounterCells, 2}, {3, maxCounterCells, 4}, {8, maxCounterCells, 8},
		{9, maxCounterCells, 16}, {64, maxCounterCells, 64}, {100, maxCounterCells, 64},
		{2, maxSeriesCells, 2}, {8, maxSeriesCells, 8}, {9, maxSeriesCells, 8}, {100, maxSeriesCells, 8},
	} {
		runtime.GOMAXPROCS(tc.procs)
		c := newCounterCells(tc.limit)
		if len(c.cells) != tc.cells {
			t.Errorf("GOMAXPROCS %d: %d cells, want %d", tc.procs, len(c.cells), tc.cells)
		}
		for range 1000 {
			c.inc()
		}
		if got := c.sum(); got != 1000 {
			t.Errorf("GOMAXPROCS %d: sum %d after 1000 increments", tc.procs, got)
		}
		p := procPin()
		procUnpin()
		if p >= tc.procs {
			t.Errorf("GOMAXPROCS %d: procPin gave P %d", tc.procs, p)
		}
	}
	// The Counter's cells, made when its unlabelled series (bound through
	// With(nil)) moves first, have the Counter's limit, not a series'.
	runtime.GOMAXPROCS(2 * maxSeriesCells)
	ctr := Must(NewCounter("c_total", "h", WithRegistry(nil)))
	ctr.With(nil).contended()
	if n := len(ctr.cells.Load().cells); n != 2*maxSeriesCells {
		t.Errorf("GOMAXPROCS %d: the Counter's cells, made by its unlabelled series, number %d; want %d", 2*maxSeriesCells, n, 2*maxSeriesCells)
	}
}

// TestConstLabelsLookup: a declared family's lookups start comparing after
// the constant labels, whose rendered length (escaped values included) the
// family computes once; every hit path must find the series its values
// made, and values that differ, by a byte or by escaping, must not.
func TestConstLabelsLookup(t *testing.T) {
	for _, consts := range []Labels{
		{"app": "x"},
		{"app": `q"uo\te`, "zone": "a\nb", "b": ""},
	} {
		reg := NewRegistry()
		c := Must(NewCounter("c_total", "h", WithRegistry(reg), WithLabelNames("method", "code"), WithConstLabels(consts)))
		sets := [][2]string{{"GET", "200"}, {"GET", "20"}, {"GE", "T200"}, {`a"b`, "1"}, {`a\"b`, "1"}, {"", ""}}
		for i, vs := range sets {
			c.WithValues(vs[0], vs[1]).Add(float64(i + 1))
		}
		for i, vs := range sets {
			want := float64(i + 1)
			if got := c.WithValues(vs[0], vs[1]).Value(); got != want {
				t.Errorf("consts %v: WithValues%q = %v; want %v", consts, vs, got, want)
			}
			if got, _ := c.Get(Labels{"method": vs[0], "code": vs[1]}); got != want {
				t.Errorf("consts %v: Get %q = %v; want %v", consts, vs, got, want)
			}
			if got := c.With(Labels{"method": vs[0], "code": vs[1]}).Value(); got != want {
				t.Errorf("consts %v: With %q = %v; want %v", consts, vs, got, want)
			}
			// The lock-free probe itself hits, not only the general path.
			vals := vs[:]
			if p := c.f.findValues(fold(hashStrings(hashInit, vals)), vals); p == nil || p.Value() != want {
				t.Errorf("consts %v: findValues %q missed", consts, vs)
			}
		}
		if n := len(c.f.snapshot()); n != len(sets) {
			t.Errorf("consts %v: %d series; want %d", consts, n, len(sets))
		}
	}
}

// TestOneRefusalPerUpdate: an update refused for its labels goes to the
// discard series, whose own refusals (a negative increment, an invalid
// exemplar) are not counted again: one call, one count.
func TestOneRefusalPerUpdate(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("a_total", "h", WithRegistry(reg), WithLabelNames("a")))
	h := Must(NewHistogram("h", "h", WithRegistry(reg), WithLabelNames("a")))
	badExemplar := Labels{"not valid": "x"}
	c.Add(-1)                                                // unlabelled on a labelled metric, and negative
	c.WithValues("x", "y").Add(math.NaN())                   // two values for one name, and NaN
	c.With(Labels{"b": "x"}).AddWithExemplar(1, badExemplar) // wrong name, and a bad exemplar
	h.With(nil).ObserveWithExemplar(1, badExemplar)          // unlabelled, and a bad exemplar
	// A valid series still counts its own refusals.
	c.WithValues("x").Add(-1)
	h.WithValues("x").ObserveWithExemplar(1, badExemplar)
	wantSamples(t, reg, `a_total{a="x"} 0`,
		`h_bucket{a="x",le="0.005"} 0`, `h_bucket{a="x",le="0.01"} 0`, `h_bucket{a="x",le="0.025"} 0`,
		`h_bucket{a="x",le="0.05"} 0`, `h_bucket{a="x",le="0.1"} 0`, `h_bucket{a="x",le="0.25"} 0`,
		`h_bucket{a="x",le="0.5"} 0`, `h_bucket{a="x",le="1"} 1`, `h_bucket{a="x",le="2.5"} 1`,
		`h_bucket{a="x",le="5"} 1`, `h_bucket{a="x",le="10"} 1`, `h_bucket{a="x",le="+Inf"} 1`,
		`h_sum{a="x"} 1`, `h_count{a="x"} 1`,
		`prom_rejected_updates_total{metric="a_total",reason="invalid_labels"} 3`,
		`prom_rejected_updates_total{metric="a_total",reason="invalid_value"} 1`,
		`prom_rejected_updates_total{metric="h",reason="invalid_labels"} 1`,
		`prom_rejected_updates_total{metric="h",reason="invalid_exemplar"} 1`,
	)
}

// TestDeleteManySeries: deleting series costs the same however many the
// family holds (no allocation on most deletes, where each once rebuilt
// the table and copied the insertion order), and lookups, creation,
// exposition and the table's size stay right through deletes.
func TestDeleteManySeries(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("d_total", "h", WithRegistry(reg), WithLabelNames("id")))
	const n = 20000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
		c.WithValues(ids[i]).Add(float64(i))
	}
	next := 0
	allocs := testing.AllocsPerRun(n/2-1, func() { // one warm-up run too
		if !c.DeleteValues(ids[next]) {
			t.Fatalf("DeleteValues(%s) found nothing", ids[next])
		}
		next += 2 // every even id
	})
	// A delete allocates only when it compacts the insertion order (once
	// per n/2 deletes) or shrinks the table.
	if allocs > 0.01 {
		t.Errorf("%v allocations per Delete among %d series", allocs, n)
	}
	for i, id := range ids {
		v, ok := c.Get(Labels{"id": id})
		if ok != (i%2 == 1) || ok && v != float64(i) {
			t.Fatalf("series %s: %v, %v after deleting the even ones", id, v, ok)
		}
	}
	c.WithValues("0").Inc() // created again, from zero
	out, err := reg.Append(context.Background(), nil, FormatText)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(out), "\nd_total{"); got != n/2+1 || !strings.Contains(string(out), `d_total{id="0"} 1`+"\n") {
		t.Errorf("%d series exposed, want %d", got, n/2+1)
	}
	// Delete one, create one, again and again, at a size that fills the
	// table to its limit: the table is not rebuilt at every new series.
	churn := Must(NewCounter("churn_total", "h", WithRegistry(nil), WithLabelNames("id")))
	for i := range 768 { // three quarters of 1024 slots
		churn.WithValues(ids[i]).Inc()
	}
	rebuilds, tab := 0, churn.f.tab.Load()
	for i := range 500 {
		churn.DeleteValues(ids[i])
		churn.WithValues(ids[768+i]).Inc()
		if t := churn.f.tab.Load(); t != tab {
			rebuilds, tab = rebuilds+1, t
		}
	}
	if rebuilds > 2 {
		t.Errorf("%d table rebuilds in 500 deletes and creations among 768 series", rebuilds)
	}
	// Deleting all but a few shrinks the table.
	for i := 1; i < n-10; i += 2 {
		c.DeleteValues(ids[i])
	}
	if size := len(c.f.tab.Load().slots); size > 64 {
		t.Errorf("%d slots for %d series", size, c.f.tab.Load().count)
	}
	for i := n - 9; i < n; i += 2 {
		if v, ok := c.Get(Labels{"id": ids[i]}); !ok || v != float64(i) {
			t.Errorf("series %d: %v, %v", i, v, ok)
		}
	}
}
