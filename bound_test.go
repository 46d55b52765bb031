package prom

import (
	"testing"
	"time"

	"github.com/promgo/prom/internal/bound"
)

// TestBoundHooks checks the functions prom gives package bound, for each
// metric type: the removal count grows with each removal (and only then),
// and Member tells the metric's own series from the overflow series, the
// discard series, removed series and series of other metrics.
func TestBoundHooks(t *testing.T) {
	type metric interface {
		Collector
		DeleteValues(values ...string) bool
		Reset()
	}
	tests := []struct {
		name string
		make func(opts ...Option) (metric, error)
		with func(m metric, values ...string) any
	}{
		{"counter", func(o ...Option) (metric, error) { return NewCounter("c_total", "h", o...) },
			func(m metric, v ...string) any { return m.(*Counter).WithValues(v...) }},
		{"gauge", func(o ...Option) (metric, error) { return NewGauge("g", "h", o...) },
			func(m metric, v ...string) any { return m.(*Gauge).WithValues(v...) }},
		{"histogram", func(o ...Option) (metric, error) { return NewHistogram("h", "h", o...) },
			func(m metric, v ...string) any { return m.(*Histogram).WithValues(v...) }},
		{"summary", func(o ...Option) (metric, error) { return NewSummary("s", "h", o...) },
			func(m metric, v ...string) any { return m.(*Summary).WithValues(v...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.make(WithRegistry(NewRegistry()), WithLabelNames("l"), WithMaxSeries(2))
			if err != nil {
				t.Fatal(err)
			}
			other, err := tt.make(WithRegistry(NewRegistry()), WithLabelNames("l"))
			if err != nil {
				t.Fatal(err)
			}
			r := bound.Removals(m)
			if r == nil {
				t.Fatal("Removals = nil for a metric without idle expiry")
			}
			a, b := tt.with(m, "a"), tt.with(m, "b")
			overflow := tt.with(m, "c")
			discard := tt.with(m, "x", "y")
			for _, c := range []struct {
				what   string
				series any
				want   bool
			}{
				{"a", a, true}, {"b", b, true},
				{"the overflow series", overflow, false},
				{"the discard series", discard, false},
				{"a series of another metric", tt.with(other, "a"), false},
				{"nil", nil, false},
				{"a value of another type", "a", false},
			} {
				if got := bound.Member(m, c.series); got != c.want {
					t.Errorf("Member(%s) = %v, want %v", c.what, got, c.want)
				}
			}
			if got := r.Load(); got != 0 {
				t.Errorf("removals = %d before any, want 0", got)
			}
			m.DeleteValues("none")
			if got := r.Load(); got != 0 {
				t.Errorf("removals = %d after deleting nothing, want 0", got)
			}
			m.DeleteValues("a")
			if got := r.Load(); got != 1 {
				t.Errorf("removals = %d after a Delete, want 1", got)
			}
			if bound.Member(m, a) {
				t.Error("Member(a) after its Delete")
			}
			if !bound.Member(m, b) {
				t.Error("not Member(b) after a's Delete")
			}
			m.Reset()
			if got := r.Load(); got != 2 {
				t.Errorf("removals = %d after a Reset, want 2", got)
			}
			if bound.Member(m, b) {
				t.Error("Member(b) after Reset")
			}
		})
	}
}

// TestBoundRemovalsOff checks that Removals turns caching off where bound
// series cannot be kept: a metric that expires idle series, and types
// package bound does not know.
func TestBoundRemovalsOff(t *testing.T) {
	reg := NewRegistry()
	expiring := Must(NewCounter("e_total", "h", WithRegistry(reg), WithLabelNames("l"), WithIdleExpiry(time.Minute)))
	typed := Must(NewCounterOf[struct {
		L string `label:"l"`
	}]("t_total", "h", WithRegistry(reg)))
	for _, c := range []struct {
		what   string
		metric any
	}{{"an expiring counter", expiring}, {"a typed counter", typed}, {"nil", nil}, {"a string", "x"}} {
		if r := bound.Removals(c.metric); r != nil {
			t.Errorf("Removals(%s) = %p, want nil", c.what, r)
		}
	}
}
