package prom

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"weak"
)

func TestMaxSeries(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("req_total", "h", WithRegistry(reg), WithLabelNames("path"), WithMaxSeries(2), WithConstLabels(Labels{"app": "x"})))
	c.WithValues("/a").Inc()
	c.WithValues("/b").Inc()
	c.WithValues("/c").Inc() // past the limit
	c.WithValues("/d").Add(2)
	c.WithValues("/a").Inc() // known series still work
	wantSamples(t, reg,
		`prom_rejected_updates_total{metric="req_total",reason="series_limit"} 2`,
		`req_total{app="x",path="/a"} 2`,
		`req_total{app="x",path="/b"} 1`,
		`req_total{app="x",prom_overflow="true"} 3`)
	if _, ok := c.Get(Labels{"path": "/c"}); ok {
		t.Error("Get finds a label set that went to the overflow series")
	}
	c.DeleteValues("/b") // room for one more
	c.WithValues("/e").Inc()
	if v, ok := c.Get(Labels{"path": "/e"}); !ok || v != 1 {
		t.Errorf("after a delete the new series = %v, %v", v, ok)
	}
	c.Reset()
	wantSamples(t, reg, `prom_rejected_updates_total{metric="req_total",reason="series_limit"} 2`)
	c.WithValues("/f").Inc()
	c.WithValues("/g").Inc()
	c.WithValues("/h").Inc()
	wantSamples(t, reg,
		`prom_rejected_updates_total{metric="req_total",reason="series_limit"} 3`,
		`req_total{app="x",path="/f"} 1`,
		`req_total{app="x",path="/g"} 1`,
		`req_total{app="x",prom_overflow="true"} 1`)
}

// TestMaxSeriesUnlabelled: the unlabelled series is made even when the
// metric is full, whichever way it is reached, and new label sets still
// overflow.
func TestMaxSeriesUnlabelled(t *testing.T) {
	for _, tc := range []struct {
		name string
		use  func(c *Counter)
	}{
		{"Inc", func(c *Counter) { c.Inc() }},
		{"Add", func(c *Counter) { c.Add(1) }},
		{"With(nil)", func(c *Counter) { c.With(nil).Inc() }},
		{"With(Labels{})", func(c *Counter) { c.With(Labels{}).Inc() }},
		{"WithValues()", func(c *Counter) { c.WithValues().Inc() }},
		{"after Reset", func(c *Counter) { c.Inc(); c.Reset(); fill(c); c.Inc() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry()
			c := Must(NewCounter("u_total", "h", WithRegistry(reg), WithMaxSeries(2)))
			fill(c)
			tc.use(c)
			c.With(Labels{"k": "c"}).Inc() // past the limit
			wantSamples(t, reg,
				`prom_rejected_updates_total{metric="u_total",reason="series_limit"} 1`,
				`u_total{k="a"} 1`,
				`u_total{k="b"} 1`,
				`u_total 1`,
				`u_total{prom_overflow="true"} 1`)
		})
	}
	reg := NewRegistry()
	g := Must(NewGauge("g", "h", WithRegistry(reg), WithMaxSeries(1)))
	g.With(Labels{"k": "a"}).Set(1)
	g.Set(5)
	h := Must(NewHistogram("h", "h", WithRegistry(reg), WithMaxSeries(1), WithBuckets(1)))
	h.With(Labels{"k": "a"}).Observe(1)
	h.Observe(2)
	if v, ok := g.Get(nil); !ok || v != 5 {
		t.Errorf("gauge: the unlabelled series = %v, %v; want 5", v, ok)
	}
	if v, ok := h.Get(nil); !ok || v.Count != 1 || v.Sum != 2 {
		t.Errorf("histogram: the unlabelled series = %+v, %v; want one observation of 2", v, ok)
	}
}

// fill makes two labelled series of c, k="a" and k="b".
func fill(c *Counter) {
	c.With(Labels{"k": "a"}).Inc()
	c.With(Labels{"k": "b"}).Inc()
}

func TestRegistryMaxSeries(t *testing.T) {
	reg := NewRegistry()
	reg.SetMaxSeries(1)
	g := Must(NewGauge("g", "h", WithRegistry(reg)))
	unlimited := Must(NewGauge("u", "h", WithRegistry(reg), WithMaxSeries(-1)))
	own := Must(NewGauge("o", "h", WithRegistry(reg), WithMaxSeries(3)))
	for _, v := range []string{"a", "b", "c", "d"} {
		g.With(Labels{"k": v}).Set(1)
		unlimited.With(Labels{"k": v}).Set(1)
		own.With(Labels{"k": v}).Set(1)
	}
	count := func(name string) int {
		n := 0
		for _, l := range samples(text(t, reg)) {
			if strings.HasPrefix(l, name+"{") {
				n++
			}
		}
		return n
	}
	if count("g") != 2 || count("u") != 4 || count("o") != 4 {
		t.Errorf("series: g %d (want 1 + overflow), u %d (want 4), o %d (want 3 + overflow)", count("g"), count("u"), count("o"))
	}
	g.Set(5) // the unlabelled series is made past the limit too
	if v, ok := g.Get(nil); !ok || v != 5 {
		t.Errorf("the unlabelled series = %v, %v; want 5, true", v, ok)
	}
}

func TestMaxSeriesConcurrent(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg), WithMaxSeries(50)))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 1000 {
				c.With(Labels{"id": itoa(w*1000 + i)}).Inc()
			}
		}()
	}
	wg.Wait()
	var total float64
	n := 0
	for _, v := range c.All() {
		total += v
		n++
	}
	if n != 51 || total != 4000 {
		t.Fatalf("%d series holding %v; want 50 + the overflow series holding all 4000", n, total)
	}
}

// TestFirstRegistryNotKeptAlive checks that a metric that moved from its
// first registry to another keeps following the first one's default limit
// without keeping that registry, and all it holds, alive.
func TestFirstRegistryNotKeptAlive(t *testing.T) {
	first := NewRegistry()
	first.SetMaxSeries(2)
	c := Must(NewCounter("moved_total", "h", WithRegistry(first), WithLabelNames("k")))
	gone := weak.Make(first)
	first.Unregister(c)
	second := NewRegistry()
	second.MustRegister(c)
	first = nil
	for range 3 {
		runtime.GC()
	}
	if gone.Value() != nil {
		t.Error("the metric keeps its first registry alive after it moved to another")
	}
	for _, v := range []string{"a", "b", "c"} {
		c.WithValues(v).Inc()
	}
	if n := strings.Count(text(t, second), "moved_total{"); n != 3 {
		t.Errorf("%d series; want 2 and the overflow series, by the first registry's limit", n)
	}
}
