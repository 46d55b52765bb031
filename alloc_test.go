package prom

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/promgo/prom/internal/race"
)

// TestZeroAllocs holds the hot paths to their allocation budget: none.
func TestZeroAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need a normal run")
	}
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg), WithLabelNames("method", "code")))
	free := Must(NewCounter("f_total", "h", WithRegistry(reg)))
	g := Must(NewGauge("g", "h", WithRegistry(reg), WithLabelNames("method", "code")))
	h := Must(NewHistogram("h", "h", WithRegistry(reg), WithLabelNames("method", "code")))
	s := Must(NewSummary("s", "h", WithRegistry(reg), WithLabelNames("method", "code")))
	cs, gs, hs, ss := c.WithValues("GET", "200"), g.WithValues("GET", "200"), h.WithValues("GET", "200"), s.WithValues("GET", "200")
	free.With(Labels{"method": "GET", "code": "200"})
	plainGauge := Must(NewGauge("pg", "h", WithRegistry(reg)))
	plainHist := Must(NewHistogram("ph", "h", WithRegistry(reg)))
	striped := Must(NewCounter("striped_total", "h", WithRegistry(reg)))
	striped.Inc()
	striped.stripe() // as if Inc had seen another goroutine
	stripedSeries := c.WithValues("PUT", "200")
	stripedSeries.contended()
	stripedHist := h.WithValues("PUT", "200")
	stripedHist.contended(0, 0.3) // as if Observe had found the lock taken
	method, code := "GET", "200"
	tests := []struct {
		name string
		fn   func()
	}{
		{"CounterSeries.Inc", func() { cs.Inc() }},
		{"CounterSeries.Add int", func() { cs.Add(3) }},
		{"CounterSeries.Add float", func() { cs.Add(0.5) }},
		{"Counter.Inc unlabelled", func() { free.Inc() }},
		{"Counter.Inc striped", func() { striped.Inc() }},
		{"CounterSeries.Inc striped", func() { stripedSeries.Inc() }},
		{"Gauge.Set unlabelled", func() { plainGauge.Set(1.5) }},
		{"Gauge.Add unlabelled", func() { plainGauge.Add(1.5) }},
		{"Histogram.Observe unlabelled", func() { plainHist.Observe(0.3) }},
		{"GaugeSeries.Set", func() { gs.Set(1.5) }},
		{"GaugeSeries.Add", func() { gs.Add(1.5) }},
		{"HistogramSeries.Observe", func() { hs.Observe(0.3) }},
		{"HistogramSeries.Observe striped", func() { stripedHist.Observe(0.3) }},
		{"SummarySeries.Observe", func() { ss.Observe(0.3) }},
		{"WithValues hit", func() { c.WithValues(method, code).Inc() }},
		{"With map hit, declared", func() { c.With(Labels{"method": method, "code": code}).Inc() }},
		{"With map hit, undeclared", func() { free.With(Labels{"method": method, "code": code}).Inc() }},
		{"Histogram With map hit", func() { h.With(Labels{"method": method, "code": code}).Observe(1) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs; want 0", tt.name, n)
		}
	}
	// A scrape allocates per family at most, never per series, in every
	// format, label values that need escaping included.
	formats := []Format{FormatText, FormatOpenMetrics, FormatProtobuf}
	scrapeAllocs := func() []float64 {
		var n []float64
		for _, f := range formats {
			buf, _ := reg.Append(context.Background(), nil, f)
			n = append(n, testing.AllocsPerRun(20, func() { buf, _ = reg.Append(context.Background(), buf[:0], f) }))
		}
		return n
	}
	for i := range 300 {
		c.WithValues(itoa(i), "200").Inc()
	}
	small := scrapeAllocs()
	for i := range 3000 {
		c.WithValues(itoa(i), "500").Inc()
		h.WithValues(itoa(i), "quo\"te\\back\nline").Observe(1)
	}
	large := scrapeAllocs()
	for i, f := range formats {
		if large[i] > small[i] {
			t.Errorf("%v: a scrape of 6300 series allocates %v times, of 300 series %v: allocations grow with series", f, large[i], small[i])
		}
	}
}

// TestRefusedLabelNameCheap: With and WithValues only count a refused
// label name, so the refusal's message is not formatted on every call (a
// caller's bug that refuses every call must not cost a fmt.Sprintf each);
// Bind still gets the whole message, formatted when read.
func TestRefusedLabelNameCheap(t *testing.T) {
	if race.Enabled {
		t.Skip("allocation counts differ under the race detector")
	}
	reg := NewRegistry()
	c := Must(NewCounter("refused_total", "h", WithRegistry(reg), WithConstLabels(Labels{"site": "a"})))
	for _, l := range []Labels{{"bad-name": "x"}, {"__x": "x"}, {OverflowLabel: "x"}, {"site": "b"}} {
		if n := testing.AllocsPerRun(100, func() { c.With(l).Inc() }); n > 1 {
			t.Errorf("With(%v): %v allocations per call, want at most 1 (the error, unformatted)", l, n)
		}
		_, err := c.Bind(l)
		if err == nil || !strings.Contains(err.Error(), `of metric "refused_total"`) || !(errors.Is(err, ErrInvalidName) || errors.Is(err, ErrInvalidLabels)) {
			t.Errorf("Bind(%v): %v", l, err)
		}
	}
	if v, _ := c.Get(nil); v != 0 {
		t.Errorf("the unlabelled series holds %v", v)
	}
}
