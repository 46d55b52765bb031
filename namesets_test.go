package prom

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNameSetsFollowSeries checks that a metric without declared label
// names forgets a set of label names once no series uses it, whichever way
// the series go (Delete, Reset, idle expiry): label names that vary over
// time must not hold memory after their series are gone.
func TestNameSetsFollowSeries(t *testing.T) {
	const rounds, perRound = 5, 50
	tests := []struct {
		name   string
		remove func(c *Counter, clk *fakeClock, round int)
	}{
		{"Delete", func(c *Counter, _ *fakeClock, round int) {
			for i := range perRound {
				if !c.Delete(Labels{fmt.Sprintf("k%d_%d", round, i): "v"}) {
					t.Fatalf("Delete k%d_%d found no series", round, i)
				}
			}
		}},
		{"Reset", func(c *Counter, _ *fakeClock, _ int) { c.Reset() }},
		{"IdleExpiry", func(c *Counter, clk *fakeClock, _ int) {
			clk.advance(2 * time.Minute)
			c.f.snapshot() // a scrape sweeps
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := NewRegistry()
			clk := newFakeClock()
			c := Must(NewCounter("jobs_total", "h", WithRegistry(reg), WithConstLabels(Labels{"app": "a"}), WithIdleExpiry(time.Minute)))
			c.f.mu.Lock()
			c.f.now, c.f.tick0 = clk.now, clk.now()
			c.f.mu.Unlock()
			for round := range rounds {
				for i := range perRound {
					c.With(Labels{fmt.Sprintf("k%d_%d", round, i): "v"}).Inc()
				}
				if n := nameSetCount(c); n != perRound {
					t.Fatalf("round %d: %d name sets with %d series, each with its own names", round, n, perRound)
				}
				tt.remove(c, clk, round)
				if n := nameSetCount(c); n != 0 {
					t.Fatalf("round %d: %d name sets are kept after every series went", round, n)
				}
				c.f.mu.Lock()
				kept := c.f.nameSets != nil
				c.f.mu.Unlock()
				if kept {
					t.Fatalf("round %d: the empty map of name sets is kept, at its largest size", round)
				}
			}
			// The family works as before once its name sets are forgotten.
			c.With(Labels{"k": "x"}).Inc()
			c.With(Labels{"k": "y"}).Add(2)
			for v, want := range map[string]float64{"x": 1, "y": 2} {
				if got, ok := c.Get(Labels{"k": v}); !ok || got != want {
					t.Errorf("k=%q: %v, %v; want %v, true", v, got, ok, want)
				}
			}
			if out := text(t, reg); !strings.Contains(out, `jobs_total{app="a",k="x"} 1`) || !strings.Contains(out, `jobs_total{app="a",k="y"} 2`) {
				t.Errorf("exposition lacks the new series:\n%s", out)
			}
		})
	}
}

// TestNameSetSharedUntilLastSeries checks that a set of label names stays
// while any series uses it, and is shared again by a later series.
func TestNameSetSharedUntilLastSeries(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("reqs_total", "h", WithRegistry(reg)))
	c.With(Labels{"a": "1", "b": "1"}).Inc()
	c.With(Labels{"a": "2", "b": "2"}).Inc()
	c.With(Labels{"c": "1"}).Inc()
	if n := nameSetCount(c); n != 2 {
		t.Fatalf("%d name sets for the names {a,b} and {c}, want 2", n)
	}
	c.Delete(Labels{"a": "1", "b": "1"})
	if n := nameSetCount(c); n != 2 {
		t.Fatalf("%d name sets after deleting one of two {a,b} series, want 2", n)
	}
	c.Delete(Labels{"c": "1"})
	if n := nameSetCount(c); n != 1 {
		t.Fatalf("%d name sets after deleting the only {c} series, want 1", n)
	}
	c.With(Labels{"a": "3", "b": "3"}).Inc()
	c.f.mu.Lock()
	order := c.f.order
	c.f.mu.Unlock()
	var shared []*string // the first name of each labelled series
	for _, p := range order {
		if names := p.header().labels.Names(); len(names) > 0 {
			shared = append(shared, &names[0])
		}
	}
	if len(shared) != 2 {
		t.Fatalf("%d labelled series, want 2", len(shared))
	}
	if shared[0] != shared[1] {
		t.Error("a new {a,b} series does not share the name set of the live one")
	}
	wantSamples(t, reg, `reqs_total{a="2",b="2"} 1`, `reqs_total{a="3",b="3"} 1`)
}

func nameSetCount(c *Counter) int {
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	return len(c.f.nameSets)
}

// TestSweepAllocsPerScrape checks that a scrape removing expired series of
// a metric without declared names allocates the same however many it
// removes: releasing their name sets allocates nothing.
func TestSweepAllocsPerScrape(t *testing.T) {
	sweepAllocs := func(n int) uint64 {
		clk := newFakeClock()
		c := Must(NewCounter("jobs_total", "h", WithRegistry(nil), WithIdleExpiry(time.Minute)))
		c.f.mu.Lock()
		c.f.now, c.f.tick0 = clk.now, clk.now()
		c.f.mu.Unlock()
		for i := range n {
			c.With(Labels{fmt.Sprintf("a_%d", i): "v", fmt.Sprintf("b_%d", i): "v"}).Inc()
		}
		clk.advance(2 * time.Minute)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c.f.snapshot()
		runtime.ReadMemStats(&after)
		if got := len(c.f.snapshot()); got != 0 {
			t.Fatalf("%d series left after the sweep", got)
		}
		return after.Mallocs - before.Mallocs
	}
	few, many := sweepAllocs(10), sweepAllocs(1000)
	if many > few+5 {
		t.Errorf("a sweep of 1000 expired series allocated %d times, of 10 %d: allocations per series", many, few)
	}
}
