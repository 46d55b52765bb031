package prom

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock that tests move by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// expiringCounter returns a counter with a one-minute idle expiry on clk.
func expiringCounter(t *testing.T, reg *Registry, clk *fakeClock, opts ...Option) *Counter {
	t.Helper()
	c := Must(NewCounter("jobs_total", "Jobs.", append([]Option{WithRegistry(reg), WithLabelNames("client"), WithIdleExpiry(time.Minute)}, opts...)...))
	c.f.mu.Lock()
	c.f.now, c.f.tick0 = clk.now, clk.now()
	c.f.mu.Unlock()
	return c
}

func TestIdleExpiry(t *testing.T) {
	reg := NewRegistry()
	clk := newFakeClock()
	c := expiringCounter(t, reg, clk)
	c.WithValues("a").Inc()
	c.WithValues("b").Add(2)

	clk.advance(61 * time.Second) // the first sweep: both were looked up in the first epoch
	wantSamples(t, reg, `jobs_total{client="a"} 1`, `jobs_total{client="b"} 2`)

	clk.advance(5 * time.Second)
	c.WithValues("a").Inc() // a is looked up again within the expiry, b is not
	clk.advance(32 * time.Second)
	wantSamples(t, reg, `jobs_total{client="a"} 2`,
		`prom_expired_series_total{metric="jobs_total"} 1`)
	if _, ok := c.Get(Labels{"client": "b"}); ok {
		t.Error("b is still found after it expired")
	}

	c.WithValues("b").Inc() // starts afresh
	clk.advance(61 * time.Second)
	wantSamples(t, reg, `jobs_total{client="b"} 1`,
		`prom_expired_series_total{metric="jobs_total"} 2`)
}

// TestIdleExpiryKeepsUnlabelled checks that the unlabelled series of a
// metric without declared names never expires.
func TestIdleExpiryKeepsUnlabelled(t *testing.T) {
	reg := NewRegistry()
	clk := newFakeClock()
	g := Must(NewGauge("temp", "h", WithRegistry(reg), WithIdleExpiry(time.Minute)))
	g.f.mu.Lock()
	g.f.now, g.f.tick0 = clk.now, clk.now()
	g.f.mu.Unlock()
	g.Set(20)
	g.With(Labels{"room": "hall"}).Set(18)
	for range 3 {
		clk.advance(61 * time.Second)
		text(t, reg)
	}
	wantSamples(t, reg, `prom_expired_series_total{metric="temp"} 1`, "temp 20")
}

// TestIdleExpiryBounds checks the promise of WithIdleExpiry: a removed
// series was idle for at least the expiry, and an idle series is gone
// within 1.25 times the expiry plus the time between scrapes.
func TestIdleExpiryBounds(t *testing.T) {
	reg := NewRegistry()
	clk := newFakeClock()
	c := expiringCounter(t, reg, clk)
	const step = 7 * time.Second // the scrape interval
	last := map[string]time.Duration{}
	var now time.Duration
	for i := range 200 {
		// Client k is looked up every k+1 steps, for a while; then never.
		for k := range 12 {
			if i < 100 && i%(k+1) == 0 {
				key := fmt.Sprint(k)
				c.WithValues(key).Inc()
				last[key] = now
			}
		}
		clk.advance(step)
		now += step
		present := map[string]bool{}
		for l := range c.All() {
			present[l["client"]] = true
		}
		for key, at := range last {
			idle := now - at
			switch {
			case !present[key] && idle < time.Minute:
				t.Fatalf("at %v: client %s removed after %v idle, less than the expiry", now, key, idle)
			case present[key] && idle > time.Minute*(ticksPerExpiry+2)/ticksPerExpiry+step:
				t.Fatalf("at %v: client %s still present after %v idle", now, key, idle)
			}
		}
	}
	if n := c.f.expired.Load(); n < 12 {
		t.Errorf("expired %d series; want at least the 12 clients", n)
	}
}

// TestIdleExpiryWithoutScrapes checks that new series sweep too, so memory
// stays bounded when nobody scrapes.
func TestIdleExpiryWithoutScrapes(t *testing.T) {
	clk := newFakeClock()
	c := expiringCounter(t, NewRegistry(), clk)
	for i := range 10000 {
		c.WithValues(fmt.Sprint(i)).Inc() // a new client every second
		clk.advance(time.Second)
		c.f.mu.Lock()
		n := len(c.f.order)
		c.f.mu.Unlock()
		if n > 60*(ticksPerExpiry+2)/ticksPerExpiry+1 {
			t.Fatalf("after %d clients: %d series held; want at most 1.25 minutes' worth", i+1, n)
		}
	}
}

// TestIdleExpiryLookupStartsAfresh: a lookup of a series idle past its
// expiry starts it from zero, though no scrape or new series removed it
// in between, and counts the removal.
func TestIdleExpiryLookupStartsAfresh(t *testing.T) {
	reg := NewRegistry()
	clk := newFakeClock()
	c := expiringCounter(t, reg, clk)
	c.WithValues("a").Add(10)
	clk.advance(59 * time.Second) // not yet idle for the expiry
	c.WithValues("a").Inc()
	clk.advance(90 * time.Second) // idle past 1.25 expiries
	c.WithValues("a").Inc()
	if v, _ := c.Get(Labels{"client": "a"}); v != 1 {
		t.Errorf("the series idle past its expiry holds %v after an Inc; want 1", v)
	}
	wantSamples(t, reg, `jobs_total{client="a"} 1`, `prom_expired_series_total{metric="jobs_total"} 1`)
}

// TestIdleExpiryLateMark: a lookup that read the clock before another
// lookup marked the series later does not set the series' mark back, which
// would expire it early.
func TestIdleExpiryLateMark(t *testing.T) {
	reg := NewRegistry()
	clk := newFakeClock()
	c := expiringCounter(t, reg, clk)
	c.WithValues("a").Add(7)
	clk.advance(8 * time.Second) // tick 1
	k := valuesKey([]string{"a"})
	p := c.f.lookup(&k)
	clk.advance(30 * time.Second) // tick 5
	c.WithValues("a")             // marks tick 5
	c.f.mark(&k, p, 1)            // a lookup that read tick 1 before that one, late
	clk.advance(40 * time.Second) // tick 10: 40 s after the latest lookup
	wantSamples(t, reg, `jobs_total{client="a"} 7`)
}

func TestIdleExpiryFreesSeriesLimit(t *testing.T) {
	reg := NewRegistry()
	clk := newFakeClock()
	c := expiringCounter(t, reg, clk, WithMaxSeries(2))
	c.WithValues("a").Inc()
	c.WithValues("b").Inc()
	c.WithValues("c").Inc() // past the limit: the overflow series
	wantSamples(t, reg, `jobs_total{client="a"} 1`, `jobs_total{client="b"} 1`, `jobs_total{prom_overflow="true"} 1`,
		`prom_rejected_updates_total{metric="jobs_total",reason="series_limit"} 1`)
	clk.advance(61 * time.Second)
	text(t, reg) // a sweep that keeps a and b (looked up in the first epoch)
	clk.advance(61 * time.Second)
	c.WithValues("c").Inc() // a and b expire as c is made: room again
	wantSamples(t, reg, `jobs_total{prom_overflow="true"} 1`, `jobs_total{client="c"} 1`,
		`prom_expired_series_total{metric="jobs_total"} 2`,
		`prom_rejected_updates_total{metric="jobs_total",reason="series_limit"} 1`)
}

func TestIdleExpiryHeldSeriesIsDetached(t *testing.T) {
	reg := NewRegistry()
	clk := newFakeClock()
	c := expiringCounter(t, reg, clk)
	held := c.WithValues("a")
	held.Inc()
	clk.advance(61 * time.Second)
	text(t, reg)
	clk.advance(61 * time.Second)
	wantSamples(t, reg, `prom_expired_series_total{metric="jobs_total"} 1`)
	held.Inc() // documented: a kept series that expired is detached
	wantSamples(t, reg, `prom_expired_series_total{metric="jobs_total"} 1`)
	c.WithValues("a").Inc()
	wantSamples(t, reg, `jobs_total{client="a"} 1`, `prom_expired_series_total{metric="jobs_total"} 1`)
}

func TestIdleExpiryOption(t *testing.T) {
	for _, d := range []time.Duration{0, -time.Second} {
		_, err := NewCounter("c_total", "h", WithRegistry(nil), WithIdleExpiry(d))
		if err == nil || !strings.Contains(err.Error(), "WithIdleExpiry") || !strings.Contains(err.Error(), `"c_total"`) {
			t.Errorf("WithIdleExpiry(%v): err = %v; want an error naming the option and the metric", d, err)
		}
	}
	for _, mk := range []func() error{
		func() error { _, err := NewGauge("g", "h", WithRegistry(nil), WithIdleExpiry(time.Second)); return err },
		func() error {
			_, err := NewHistogram("h", "h", WithRegistry(nil), WithIdleExpiry(time.Second))
			return err
		},
		func() error {
			_, err := NewSummary("s", "h", WithRegistry(nil), WithIdleExpiry(time.Second))
			return err
		},
	} {
		if err := mk(); err != nil {
			t.Error(err)
		}
	}
}

// TestIdleExpiryConcurrent looks series up, updates, scrapes and sweeps at
// once under -race, with a clock that races ahead, then checks that the
// family's table and its series list agree.
func TestIdleExpiryConcurrent(t *testing.T) {
	reg := NewRegistry()
	clk := newFakeClock()
	c := expiringCounter(t, reg, clk)
	stopWorkers := loop(4, func(w, i int) {
		// Keys drift, so the old ones go idle and expire.
		c.WithValues(fmt.Sprint(i/200 + (i*7+w)%50)).Inc()
		c.With(Labels{"client": fmt.Sprint(i/100 + i%13)}).Inc()
	})
	stopClock := loop(1, func(int, int) {
		clk.advance(10 * time.Second)
		time.Sleep(100 * time.Microsecond)
	})
	start := time.Now()
	for i := 0; i < 200 || c.f.expired.Load() == 0 && time.Since(start) < 10*time.Second; i++ {
		if _, _, err := Render(reg, ""); err != nil {
			t.Fatal(err)
		}
	}
	stopWorkers()
	stopClock()
	c.f.mu.Lock()
	defer c.f.mu.Unlock()
	if n, m := c.f.tab.Load().count, len(c.f.order); n != m {
		t.Fatalf("table holds %d series, the list %d", n, m)
	}
	for _, p := range c.f.order {
		k := valuesKey(p.labels.Values())
		if c.f.lookup(&k) != p {
			t.Fatalf("series %v is listed but not found", p.labels.Values())
		}
	}
	if c.f.expired.Load() == 0 {
		t.Error("no series expired while the clock ran ahead")
	}
}

// TestIdleExpiryRealClock uses the public API only, with the real clock:
// a series looked up every 20ms stays, one left alone goes.
func TestIdleExpiryRealClock(t *testing.T) {
	reg := NewRegistry()
	// busy survives a pause of up to the expiry between its last lookup
	// and the scrape; idle goes after 1.25 expiries at most.
	g := Must(NewGauge("workers", "h", WithRegistry(reg), WithLabelNames("pool"), WithIdleExpiry(500*time.Millisecond)))
	g.WithValues("idle").Set(1)
	for end := time.Now().Add(1200 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		g.WithValues("busy").Set(2)
	}
	wantSamples(t, reg, `prom_expired_series_total{metric="workers"} 1`, `workers{pool="busy"} 2`)
}

// TestIdleExpiryAcrossTickWrap checks expiry where the 32-bit tick count
// wraps around (after six days with an expiry of 1ms): a series looked up
// all along stays, and one idle past the expiry goes.
func TestIdleExpiryAcrossTickWrap(t *testing.T) {
	reg := NewRegistry()
	clk := newFakeClock()
	c := Must(NewCounter("jobs_total", "Jobs.", WithRegistry(reg), WithLabelNames("client"), WithIdleExpiry(8*time.Millisecond)))
	c.f.mu.Lock()
	c.f.now = clk.now
	c.f.tick0 = clk.now().Add(-(1<<32 - 4) * c.f.tickLen) // 4 ticks before the wrap
	c.f.mu.Unlock()
	for range 20 {
		c.WithValues("busy").Inc()
		c.WithValues("idle").Inc()
		text(t, reg)
		clk.advance(c.f.tickLen)
	}
	for range 20 {
		c.WithValues("busy").Inc()
		text(t, reg)
		clk.advance(c.f.tickLen)
	}
	wantSamples(t, reg, `jobs_total{client="busy"} 40`,
		`prom_expired_series_total{metric="jobs_total"} 1`)
}

// TestDelegatedRefusalsCounted checks that the refused updates and expired
// series of metrics that a custom collector delegates to (left unregistered
// and collected through their Collect method) are counted in the
// registry's own counters, as a registered metric's are (both_seconds,
// whose series sort among theirs): each metric once however often it is
// collected, and metrics of one name in one series.
func TestDelegatedRefusalsCounted(t *testing.T) {
	clk := newFakeClock()
	owned := Must(NewCounter("owned_total", "h", WithLabelNames("k"), WithRegistry(nil)))
	twin := Must(NewCounter("owned_total", "h", WithLabelNames("k"), WithRegistry(nil)))
	limited := Must(NewGauge("limited", "h", WithLabelNames("k"), WithMaxSeries(1), WithRegistry(nil)))
	idle := expiringCounter(t, nil, clk)
	reg := NewRegistry()
	both := Must(NewHistogram("both_seconds", "h", WithRegistry(reg)))
	reg.MustRegister(collectorFunc{names: []string{"owned_total", "limited", "jobs_total"}, fn: func(ctx context.Context, w *MetricWriter) error {
		for _, m := range []Collector{owned, owned, twin, limited, idle} {
			m.Collect(ctx, w) // owned twice: the second is left out, and counted once
		}
		return nil
	}})

	owned.With(Labels{"wrong": "1"}).Inc() // invalid labels
	owned.WithValues("a").Add(-1)          // invalid value
	twin.WithValues("a", "b").Inc()        // invalid labels
	limited.WithValues("a").Set(1)
	limited.WithValues("b").Set(2) // past the limit
	idle.WithValues("gone").Inc()
	both.With(Labels{"le": "1"}).Observe(1) // invalid labels
	clk.advance(2 * time.Minute)

	b, err := reg.Append(context.Background(), nil, FormatText)
	if err == nil || !strings.Contains(err.Error(), `"owned_total" written twice`) {
		t.Errorf("Append: %v; want the error that owned_total was written twice", err)
	}
	out := string(b)
	for _, want := range []string{
		`prom_rejected_updates_total{metric="both_seconds",reason="invalid_labels"} 1`,
		`prom_rejected_updates_total{metric="limited",reason="series_limit"} 1`,
		`prom_rejected_updates_total{metric="owned_total",reason="invalid_labels"} 2`,
		`prom_rejected_updates_total{metric="owned_total",reason="invalid_value"} 1`,
		`prom_expired_series_total{metric="jobs_total"} 1`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("missing %s in:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "prom_rejected_updates_total{"); n != 4 {
		t.Errorf("%d prom_rejected_updates_total series, want 4:\n%s", n, out)
	}
}
