package prom

import (
	"strings"
	"sync"
	"testing"
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
	g.Set(5) // the unlabelled series is a new label set too: overflow
	if v, _ := g.Get(nil); v != 0 {
		t.Errorf("unlabelled series exists past the limit: %v", v)
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
