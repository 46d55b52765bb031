package promtest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/promgo/prom"
)

func testRegistry(t *testing.T) (*prom.Registry, *prom.Histogram) {
	t.Helper()
	reg := prom.NewRegistry()
	in := prom.WithRegistry(reg)
	c := prom.Must(prom.NewCounter("jobs_total", "Jobs.", in, prom.WithConstLabels(prom.Labels{"app": "x"})))
	c.With(prom.Labels{"queue": "mail"}).Add(3)
	c.With(prom.Labels{"queue": "sms"}).Inc()
	prom.Must(prom.NewGauge("up", "Up.", in)).Set(1)
	h := prom.Must(prom.NewHistogram("latency_seconds", "Latency.", in, prom.WithBuckets(0.1, 1)))
	h.With(prom.Labels{"route": "/"}).Observe(0.5)
	h.With(prom.Labels{"route": "/"}).Observe(2)
	h.With(prom.Labels{"route": "/a"}).Observe(0.05)
	s := prom.Must(prom.NewSummary("size_bytes", "Sizes.", in))
	s.Observe(10)
	return reg, h
}

func TestGatherValue(t *testing.T) {
	reg, h := testRegistry(t)
	tests := []struct {
		name   string
		labels prom.Labels
		want   float64
	}{
		{"jobs_total", prom.Labels{"app": "x", "queue": "mail"}, 3},
		{"jobs_total", prom.Labels{"queue": "sms", "app": "x"}, 1},
		{"up", nil, 1},
		{"up", prom.Labels{}, 1},
		{"latency_seconds_count", prom.Labels{"route": "/"}, 2},
		{"latency_seconds_sum", prom.Labels{"route": "/"}, 2.5},
		{"latency_seconds_bucket", prom.Labels{"route": "/", "le": "1"}, 1},
		{"latency_seconds_bucket", prom.Labels{"route": "/a", "le": "+Inf"}, 1},
		{"size_bytes_count", nil, 1},
		{"size_bytes", prom.Labels{"quantile": "0.5"}, 10},
		{"up", prom.Labels{"zone": ""}, 1}, // an empty value is no label
		{"jobs_total", prom.Labels{"app": "x", "queue": "sms", "zone": ""}, 1},
	}
	for _, tt := range tests {
		got, err := GatherValue(reg, tt.name, tt.labels)
		if err != nil || got != tt.want {
			t.Errorf("GatherValue(%s, %v) = %v, %v; want %v", tt.name, tt.labels, got, err, tt.want)
		}
	}
	if got, err := CollectValue(h, "latency_seconds_count", prom.Labels{"route": "/a"}); err != nil || got != 1 {
		t.Errorf("CollectValue = %v, %v; want 1", got, err)
	}

	_, err := GatherValue(reg, "jobs_total", prom.Labels{"queue": "mail"})
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `{app="x",queue="mail"}`) {
		t.Errorf("labels without the constant label: err = %v; want ErrNotFound listing the label sets", err)
	}
	if _, err := GatherValue(reg, "nope", nil); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no sample has the name") {
		t.Errorf("unknown name: err = %v", err)
	}
	if _, err := GatherValue(reg, "latency_seconds", prom.Labels{"route": "/"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("a histogram's bare name: err = %v", err)
	}
}

func TestGatherAndCount(t *testing.T) {
	reg, h := testRegistry(t)
	for _, tt := range []struct {
		names []string
		want  int
	}{
		{nil, 6}, // 2 counters, 1 gauge, 2 histograms, 1 summary
		{[]string{"jobs_total"}, 2},
		{[]string{"latency_seconds"}, 2},
		{[]string{"latency_seconds", "up"}, 3},
		{[]string{"size_bytes"}, 1},
		{[]string{"latency_seconds_bucket"}, 0}, // family names only
	} {
		if got, err := GatherAndCount(reg, tt.names...); err != nil || got != tt.want {
			t.Errorf("GatherAndCount(%v) = %d, %v; want %d", tt.names, got, err, tt.want)
		}
	}
	if got, err := CollectAndCount(h); err != nil || got != 2 {
		t.Errorf("CollectAndCount(histogram) = %d, %v; want 2", got, err)
	}
}

// failing is a collector that writes one gauge and then fails.
type failing struct{}

func (failing) Describe() []string { return []string{"partial"} }
func (failing) Collect(_ context.Context, w *prom.MetricWriter) error {
	w.Gauge("partial", "Partial.", 1, nil)
	return errors.New("backend down")
}

func TestCollectorErrors(t *testing.T) {
	if _, err := CollectValue(failing{}, "partial", nil); err == nil || !strings.Contains(err.Error(), "backend down") {
		t.Errorf("CollectValue of a failing collector: err = %v", err)
	}
	if err := CollectAndCompare(failing{}, "partial 1\n", IgnoreMetadata()); err == nil {
		t.Error("CollectAndCompare of a failing collector: no error")
	}
	reg := prom.NewRegistry()
	g := prom.Must(prom.NewGauge("partial", "P.", prom.WithRegistry(reg)))
	if _, err := Collect(g); err != nil {
		t.Errorf("Collect of a metric registered elsewhere: %v", err)
	}
	if _, err := CollectAndCount(failing{}); err == nil {
		t.Error("CollectAndCount of a failing collector: no error")
	}
}

func TestGatherDefault(t *testing.T) {
	c := prom.Must(prom.NewCounter("promtest_default_test_total", "Test."))
	defer prom.Default.Unregister(c)
	c.Add(2)
	if got, err := GatherValue(nil, "promtest_default_test_total", nil); err != nil || got != 2 {
		t.Errorf("GatherValue(nil registry) = %v, %v; want 2 from prom.Default", got, err)
	}
}

func TestCollectLeavesOutSelfMetrics(t *testing.T) {
	c := prom.Must(prom.NewCounter("c_total", "h", prom.WithRegistry(nil)))
	c.Add(-1) // refused: counted in prom_rejected_updates_total
	c.Inc()
	body, err := Collect(c)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "prom_") || !strings.Contains(string(body), "c_total 1\n") {
		t.Errorf("Collect:\n%s", body)
	}
}
