package prom

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

func TestCounterFunc(t *testing.T) {
	reg := NewRegistry()
	var opened atomic.Int64
	opened.Store(5)
	c := Must(NewCounterFunc("pool_opened_total", "Connections opened.", func() float64 { return float64(opened.Load()) },
		WithRegistry(reg), WithConstLabels(Labels{"pool": "a"})))
	if c.Name() != "pool_opened_total" || c.Help() != "Connections opened." || c.Value() != 5 || c.ConstLabels()["pool"] != "a" {
		t.Errorf("Name %q, Help %q, Value %v, ConstLabels %v", c.Name(), c.Help(), c.Value(), c.ConstLabels())
	}
	if got := strings.Join(c.Describe(), " "); got != "pool_opened_total pool_opened pool_opened_created" {
		t.Errorf("Describe() = %s", got)
	}
	wantSamples(t, reg, `pool_opened_total{pool="a"} 5`)
	opened.Add(2)
	text := string(Must(reg.Append(context.Background(), nil, FormatText)))
	if !strings.Contains(text, "# TYPE pool_opened_total counter\npool_opened_total{pool=\"a\"} 7\n") {
		t.Errorf("text:\n%s", text)
	}
	promtoolCheck(t, []byte(text))
	rec := serve(Handler(reg, WithCreatedSamples()), http.MethodGet, "/", http.Header{"Accept": {FormatOpenMetrics.ContentType()}})
	om := rec.Body.String()
	for _, want := range []string{"# TYPE pool_opened counter\n", `pool_opened_total{pool="a"} 7` + "\n", `pool_opened_created{pool="a"} `} {
		if !strings.Contains(om, want) {
			t.Errorf("OpenMetrics lacks %q:\n%s", want, om)
		}
	}
	strictOpenMetrics(t, rec.Body.Bytes())
	// A name another metric produces is taken.
	if _, err := NewGauge("pool_opened", "h", WithRegistry(reg)); err == nil {
		t.Error("a gauge named as the counter function's OpenMetrics family was registered")
	}
	testFuncOptions(t, "counter function", func(fn func() float64, opts ...Option) error {
		_, err := NewCounterFunc("f", "h", fn, opts...)
		return err
	})
}

// TestCounterFuncBadValues checks that a counter function's negative or
// NaN value, or its panic, leaves the counter out of the scrape, reported
// and counted as its failure in that scrape, whether registered or
// collected by another collector; the rest of the scrape is served.
func TestCounterFuncBadValues(t *testing.T) {
	for _, tc := range []struct {
		name string
		fn   func() float64
		want string
	}{
		{"negative", func() float64 { return -1 }, `counter function "bad_total" returned -1; a counter's value must be 0 or more`},
		{"NaN", math.NaN, `counter function "bad_total" returned NaN`},
		{"panic", func() float64 { panic("pool closed") }, `collecting "bad_total" panicked: pool closed`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry()
			Must(NewGauge("fine", "h", WithRegistry(reg))).Set(1)
			bad := Must(NewCounterFunc("bad_total", "h", tc.fn, WithRegistry(reg)))
			out, err := reg.Append(context.Background(), nil, FormatText)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v; want one that says %s", err, tc.want)
			}
			for _, want := range []string{"fine 1\n", failuresMetric + `{collector="bad_total"} 1` + "\n"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(string(out), "bad_total ") {
				t.Errorf("output holds the bad counter:\n%s", out)
			}
			// Delegated: the delegating collector fails with the error.
			other := NewRegistry()
			other.MustRegister(collectorFunc{names: []string{"bad_total"}, fn: func(ctx context.Context, w *MetricWriter) error {
				return bad.Collect(ctx, w)
			}})
			if _, err := other.Append(context.Background(), nil, FormatText); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("delegated: error %v; want one that says %s", err, tc.want)
			}
		})
	}
}
