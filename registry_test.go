package prom

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestRegistryRegister(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("a_total", "h", WithRegistry(reg)))
	g := Must(NewGauge("b", "h", WithRegistry(reg)))

	_, err := NewCounter("a_total", "other", WithRegistry(reg))
	var are *AlreadyRegisteredError
	if !errors.As(err, &are) || are.Existing != c || are.Name != "a_total" {
		t.Fatalf("duplicate: err = %v; want *AlreadyRegisteredError with the existing counter", err)
	}
	if !strings.Contains(err.Error(), `"a_total" is already registered, by a counter`) {
		t.Errorf("message %q", err)
	}
	if err := reg.Register(c); !errors.As(err, &are) || err.Error() != `prom: counter "a_total" is already registered in this registry` {
		t.Fatalf("registering the same collector twice: %v", err)
	}
	// A histogram reserves its _bucket, _count and _sum names.
	Must(NewHistogram("lat", "h", WithRegistry(reg)))
	_, err = NewGauge("lat_count", "h", WithRegistry(reg))
	if !errors.As(err, &are) || are.ExistingName != "lat" || !strings.Contains(err.Error(), `"lat_count" conflicts with histogram "lat"`) {
		t.Fatalf("conflict: %v", err)
	}
	_, err = NewSummary("b_sum", "h", WithRegistry(nil))
	if err != nil {
		t.Fatal(err)
	}
	// ...and a new summary "b" would clash with the gauge b.
	if _, err := NewSummary("b", "h", WithRegistry(reg)); !errors.As(err, &are) || are.Existing != g {
		t.Fatalf("summary over gauge: %v", err)
	}
	// A name that the new metric produces, taken already: the message
	// names the new metric too.
	reg2 := NewRegistry()
	gauge := Must(NewGauge("hx_bucket", "h", WithRegistry(reg2)))
	_, err = NewHistogram("hx", "h", WithRegistry(reg2))
	if !errors.As(err, &are) || are.Existing != gauge || are.Name != "hx_bucket" ||
		err.Error() != `prom: metric "hx" produces the name "hx_bucket", which gauge "hx_bucket", already registered, has` {
		t.Fatalf("histogram over its _bucket name: %v", err)
	}
	Must(NewGauge("gt_total", "h", WithRegistry(reg2)))
	if _, err = NewCounter("gt", "h", WithRegistry(reg2)); err == nil || !strings.Contains(err.Error(), `metric "gt" produces the name "gt_total"`) {
		t.Fatalf("counter over its _total name: %v", err)
	}
	// A custom collector describes its names itself: a taken one is not
	// "produced" by its first.
	multi := &collectorFunc{names: []string{"m_first", "gt_total"}, fn: func(context.Context, *MetricWriter) error { return nil }}
	if err := reg2.Register(multi); err == nil || err.Error() != `prom: metric name "gt_total" is already registered, by a gauge` {
		t.Fatalf("a custom collector's second name, taken: %v", err)
	}
	reg2.MustRegister(&collectorFunc{names: []string{"c_only"}})
	if _, err := NewGauge("c_only", "h", WithRegistry(reg2)); err == nil || err.Error() != `prom: metric name "c_only" is already registered, by a collector (*prom.collectorFunc)` {
		t.Fatalf("a name a custom collector took: %v", err)
	}
	if _, err := NewCounter(selfMetric, "h", WithRegistry(reg)); !errors.As(err, &are) || are.Existing != nil {
		t.Fatalf("reserved name: %v", err)
	}

	if got, ok := reg.Get("b"); !ok || got != g {
		t.Fatalf("Get(b) = %v, %v", got, ok)
	}
	if got, _ := reg.Get("lat_bucket"); got == nil {
		t.Fatal("Get(lat_bucket) finds nothing")
	}
	var names []string
	for c := range reg.All() {
		names = append(names, c.Describe()[0])
	}
	if want := []string{"a_total", "b", "lat"}; !slices.Equal(names, want) {
		t.Fatalf("All = %v; want %v", names, want)
	}
	if !reg.Unregister(g) || reg.Unregister(g) {
		t.Fatal("Unregister: want true then false")
	}
	if _, ok := reg.Get("b"); ok {
		t.Fatal("Get after Unregister")
	}
	Must(NewGauge("b", "h", WithRegistry(reg))) // the name is free again
	reg.Clear()
	if _, ok := reg.Get("a_total"); ok || text(t, reg) != "" {
		t.Fatal("Clear left something")
	}
	Must(NewCounter("a_total", "h", WithRegistry(reg)))
}

func TestDefaultRegistry(t *testing.T) {
	c := Must(NewCounter("prom_test_default_total", "h"))
	defer Default.Unregister(c)
	if got, ok := Default.Get("prom_test_default_total"); !ok || got != c {
		t.Fatal("constructor did not register in Default")
	}
	c.Inc()
	body, ct, err := Render(nil, "")
	if err != nil || ct != "text/plain; version=0.0.4; charset=utf-8" || !strings.Contains(string(body), "prom_test_default_total 1\n") {
		t.Fatalf("Render(nil) = %q, %q, %v", body, ct, err)
	}
}

func TestFamiliesInNameOrder(t *testing.T) {
	reg := NewRegistry()
	for _, n := range []string{"zeta", "alpha", "mid", "Beta", "alpha_2"} {
		Must(NewGauge(n, "h", WithRegistry(reg))).Set(1)
	}
	reg.MustRegister(collectorFunc{names: []string{"custom_b", "custom_a"}, fn: func(_ context.Context, w *MetricWriter) error {
		w.Gauge("custom_b", "h", 1, nil)
		w.Gauge("custom_a", "h", 1, nil)
		return nil
	}})
	wantSamples(t, reg, "Beta 1", "alpha 1", "alpha_2 1", "custom_a 1", "custom_b 1", "mid 1", "zeta 1")
}

// collectorFunc is a Collector made of a function.
type collectorFunc struct {
	names []string
	fn    func(context.Context, *MetricWriter) error
}

func (c collectorFunc) Describe() []string { return c.names }
func (c collectorFunc) Collect(ctx context.Context, w *MetricWriter) error {
	return c.fn(ctx, w)
}

func TestCustomCollector(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister(collectorFunc{names: []string{"queue_length", "queue_wait_seconds"}, fn: func(ctx context.Context, w *MetricWriter) error {
		w.Gauge("queue_length", "Jobs waiting.", 3, Labels{"queue": "a"})
		w.Gauge("queue_length", "Jobs waiting.", 4, Labels{"queue": "b"})
		w.Histogram("queue_wait_seconds", "Wait.", HistogramValue{Count: 3, Sum: 2.5,
			Buckets: []Bucket{{UpperBound: 0.5, Count: 1}, {UpperBound: 1, Count: 2}}}, nil)
		w.Summary("queue_age_seconds", "Age.", SummaryValue{Count: 2, Sum: 3,
			Quantiles: []Quantile{{Quantile: 0.9, Value: 2}, {Quantile: 0.5, Value: 1}}}, nil)
		return nil
	}})
	want := `# HELP queue_age_seconds Age.
# TYPE queue_age_seconds summary
queue_age_seconds{quantile="0.5"} 1
queue_age_seconds{quantile="0.9"} 2
queue_age_seconds_sum 3
queue_age_seconds_count 2
# HELP queue_length Jobs waiting.
# TYPE queue_length gauge
queue_length{queue="a"} 3
queue_length{queue="b"} 4
# HELP queue_wait_seconds Wait.
# TYPE queue_wait_seconds histogram
queue_wait_seconds_bucket{le="0.5"} 1
queue_wait_seconds_bucket{le="1"} 2
queue_wait_seconds_bucket{le="+Inf"} 3
queue_wait_seconds_sum 2.5
queue_wait_seconds_count 3
`
	if got := text(t, reg); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

func TestCollectorMistakesAreContained(t *testing.T) {
	reg := NewRegistry()
	Must(NewGauge("good", "h", WithRegistry(reg))).Set(1)
	Must(NewGauge("taken", "h", WithRegistry(reg))).Set(1)
	reg.MustRegister(
		collectorFunc{names: []string{"panics"}, fn: func(context.Context, *MetricWriter) error { panic("boom") }},
		collectorFunc{names: []string{"fails"}, fn: func(_ context.Context, w *MetricWriter) error {
			w.Gauge("fails_partly", "h", 1, nil)
			return errors.New("backend down")
		}},
		collectorFunc{names: []string{"sloppy"}, fn: func(_ context.Context, w *MetricWriter) error {
			w.Gauge("bad name", "h", 1, nil)
			w.Gauge("sloppy", "h", 1, Labels{"__x": "1"})
			w.Gauge("sloppy", "h", 1, Labels{"a": "1"})
			w.Gauge("sloppy", "h", 2, Labels{"a": "1"}) // duplicate series
			w.Gauge("sloppy", "h", 3, Labels{"b": "2"})
			w.Gauge("sloppy", "h", 4, Labels{"b": "2", "c": ""}) // the same to Prometheus
			w.Gauge("sloppy", "h", 5, Labels{"d": ""})
			w.Gauge("sloppy", "h", 6, nil) // the same as {d=""}
			w.Counter("sloppy", "h", 1, Labels{"a": "2"})
			w.Gauge("taken", "h", 9, nil) // collides with a registered family
			w.Histogram("sloppy_h", "h", HistogramValue{Count: 1, Buckets: []Bucket{{UpperBound: 1, Count: 2}}}, nil)
			w.Counter("sloppy_c_total", "h", -5, Labels{"a": "neg"})
			w.Counter("sloppy_c_total", "h", math.NaN(), Labels{"a": "nan"})
			w.Counter("sloppy_c_total", "h", 3, Labels{"a": "ok"})
			return nil
		}},
	)
	Must(NewGaugeFunc("panicky_func", "h", func() float64 { panic("func boom") }, WithRegistry(reg)))
	b, err := reg.Append(context.Background(), nil, FormatText)
	for _, want := range []string{"boom", `prom: collector "fails": backend down`, `prom: collector "sloppy": invalid name: metric name "bad name"`, `collector "sloppy": counter "sloppy_c_total"`, "backend down", `"bad name"`, `"__x"`, `"sloppy" written twice with labels {a="1"}`, `"sloppy" written twice with labels {b="2",c=""}`, `"sloppy" written twice with labels {}`, "as a gauge and as a counter", `"taken" was collected twice`, "func boom", "sloppy_h", `counter "sloppy_c_total": value -5`, `counter "sloppy_c_total": value NaN`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
	got := string(b)
	for _, want := range []string{"good 1\n", "fails_partly 1\n", "sloppy{a=\"1\"} 1\n", "sloppy{b=\"2\"} 3\n", "sloppy{d=\"\"} 5\n", "taken 1\n", "sloppy_c_total{a=\"ok\"} 3\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "taken 9") || strings.Contains(got, "__x") || strings.Contains(got, `a="neg"`) || strings.Contains(got, `a="nan"`) || strings.Contains(got, "# HELP panicky_func h\n# TYPE panicky_func gauge\npanicky_func") {
		t.Errorf("output holds a refused sample:\n%s", got)
	}
}

func TestCollectOutsideRegistry(t *testing.T) {
	c := Must(NewCounter("x_total", "h", WithRegistry(nil)))
	c.With(Labels{"a": "1"}).Add(2)
	w := newMetricWriter()
	if err := c.Collect(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	fs := w.sorted()
	if len(fs) != 1 || fs[0].name != "x_total" || len(fs[0].samples) != 1 || fs[0].samples[0].value != 2 {
		t.Fatalf("collected %+v", fs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Collect(ctx, newMetricWriter()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Collect with a cancelled context = %v", err)
	}
}

func TestNameFilterSkipsUnwantedCollectors(t *testing.T) {
	reg := NewRegistry()
	Must(NewGauge("a", "h", WithRegistry(reg))).Set(1)
	ran := 0
	reg.MustRegister(collectorFunc{names: []string{"slow"}, fn: func(context.Context, *MetricWriter) error {
		ran++
		return errors.New("backend down")
	}})
	out, err := reg.render(context.Background(), nil, FormatText, renderOptions{names: map[string]bool{"a": true}})
	if err != nil || ran != 0 || !strings.Contains(string(out), "a 1\n") {
		t.Fatalf("filtered scrape: %q, %v, collector ran %d times", out, err, ran)
	}
	if _, err := reg.Append(context.Background(), nil, FormatText); err == nil || ran != 1 {
		t.Fatalf("unfiltered scrape: %v, ran %d", err, ran)
	}
}

func TestCollectorFailuresCounted(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister(collectorFunc{names: []string{"flaky"}, fn: func(context.Context, *MetricWriter) error {
		return errors.New("backend down")
	}})
	Must(NewGaugeFunc("panicky", "h", func() float64 { panic("boom") }, WithRegistry(reg)))
	for range 3 {
		reg.Append(context.Background(), nil, FormatText)
	}
	out, _ := reg.Append(context.Background(), nil, FormatText)
	for _, want := range []string{
		`prom_collector_failures_total{collector="flaky"} 4`,
		`prom_collector_failures_total{collector="panicky"} 4`, // in the scrape it panicked in, as a collector
	} {
		if !strings.Contains(string(out), want+"\n") {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if _, err := NewCounter(failuresMetric, "h", WithRegistry(reg)); err == nil {
		t.Error("the failures metric's name is not reserved")
	}
}

// TestRegistryReservedNames: every name under which a registry's own
// counters render, in any format, is refused with the counter it belongs
// to (a gauge prom_rejected_updates beside the counter
// prom_rejected_updates_total was two families of one name in OpenMetrics).
func TestRegistryReservedNames(t *testing.T) {
	reg := NewRegistry()
	for _, tc := range []struct {
		make func(name string) error
		name string
		self string
	}{
		{gaugeMaker(reg), "prom_rejected_updates", selfMetric},
		{gaugeMaker(reg), "prom_rejected_updates_total", selfMetric},
		{gaugeMaker(reg), "prom_rejected_updates_created", selfMetric},
		{counterMaker(reg), "prom_rejected_updates", selfMetric},
		{counterMaker(reg), "prom_collector_failures", failuresMetric},
		{gaugeMaker(reg), "prom_collector_failures", failuresMetric},
		{gaugeMaker(reg), "prom_expired_series", expiredMetric},
		{gaugeMaker(reg), "prom_expired_series_created", expiredMetric},
		{histogramMaker(reg), "prom_expired_series", expiredMetric},
		{gaugeMaker(reg), "prom_expired_series_total_x", expiredMetric},
	} {
		err := tc.make(tc.name)
		var are *AlreadyRegisteredError
		if !errors.As(err, &are) || are.Existing != nil || are.ExistingName != tc.self {
			t.Errorf("%s: %v, want an AlreadyRegisteredError for %s", tc.name, err, tc.self)
		} else if !strings.Contains(err.Error(), "reserved by the registry") {
			t.Errorf("%s: %q does not say the name is reserved", tc.name, err)
		}
	}
	for _, name := range []string{"prom_rejected", "prom_expired", "prom_rejected_updates_sum_x"} {
		if err := gaugeMaker(reg)(name); err != nil {
			t.Errorf("%s: %v, want no error", name, err)
		}
	}
	if _, err := reg.Append(context.Background(), nil, FormatOpenMetrics); err != nil {
		t.Fatal(err)
	}
}

func gaugeMaker(reg *Registry) func(string) error {
	return func(name string) error { _, err := NewGauge(name, "h", WithRegistry(reg)); return err }
}

func counterMaker(reg *Registry) func(string) error {
	return func(name string) error { _, err := NewCounter(name, "h", WithRegistry(reg)); return err }
}

func histogramMaker(reg *Registry) func(string) error {
	return func(name string) error { _, err := NewHistogram(name, "h", WithRegistry(reg)); return err }
}

// TestRegistryOpenMetricsClashes: two families whose names differ in the
// text format can still clash in OpenMetrics, where a counter n or n_total
// is the family n with the samples n_total and n_created, and histograms
// and summaries have _created samples. Register refuses those pairs, and
// every pair it takes renders each OpenMetrics name once.
func TestRegistryOpenMetricsClashes(t *testing.T) {
	newMetric := map[string]func(name string, reg *Registry) error{
		"counter": func(n string, r *Registry) error {
			m, err := NewCounter(n, "h", WithRegistry(r))
			if err == nil {
				m.Inc()
			}
			return err
		},
		"gauge": func(n string, r *Registry) error {
			m, err := NewGauge(n, "h", WithRegistry(r))
			if err == nil {
				m.Set(1)
			}
			return err
		},
		"histogram": func(n string, r *Registry) error {
			m, err := NewHistogram(n, "h", WithRegistry(r))
			if err == nil {
				m.Observe(1)
			}
			return err
		},
		"summary": func(n string, r *Registry) error {
			m, err := NewSummary(n, "h", WithRegistry(r))
			if err == nil {
				m.Observe(1)
			}
			return err
		},
	}
	for _, tc := range []struct {
		first, firstName, second, secondName string
		clash                                string // the name refused, "" for none
	}{
		{"counter", "m", "gauge", "m_total", "m_total"},
		{"counter", "f_total", "gauge", "f", "f"},
		{"gauge", "f", "counter", "f_total", "f"},
		{"counter", "c", "counter", "c_total", "c_total"},
		{"counter", "k", "gauge", "k_created", "k_created"},
		{"counter", "k_total", "gauge", "k_created", "k_created"},
		{"histogram", "h", "gauge", "h_created", "h_created"},
		{"summary", "s", "counter", "s_created", "s_created"},
		{"gauge", "s_count", "summary", "s", "s_count"},
		{"counter", "x", "histogram", "x_total", "x_total"},
		// No clash in either format:
		{"gauge", "g", "gauge", "g_total", ""},
		{"counter", "a", "gauge", "a_count", ""},
		{"counter", "a_total", "gauge", "a_total_total", ""},
		{"histogram", "h", "gauge", "h_total", ""},
		{"summary", "s", "gauge", "s_bucket", ""},
	} {
		name := tc.first + " " + tc.firstName + ", " + tc.second + " " + tc.secondName
		t.Run(name, func(t *testing.T) {
			reg := NewRegistry()
			if err := newMetric[tc.first](tc.firstName, reg); err != nil {
				t.Fatal(err)
			}
			err := newMetric[tc.second](tc.secondName, reg)
			var are *AlreadyRegisteredError
			switch {
			case tc.clash == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.clash != "" && (!errors.As(err, &are) || are.Name != tc.clash || are.ExistingName != tc.firstName):
				t.Fatalf("err = %v; want *AlreadyRegisteredError for %q, held by %q", err, tc.clash, tc.firstName)
			case tc.clash != "":
				return
			}
			h := Handler(reg, WithCreatedSamples())
			body := serve(h, http.MethodGet, "/metrics", http.Header{"Accept": {"application/openmetrics-text;version=1.0.0"}}).Body.String()
			if families, samples := checkOpenMetricsNames(t, body); families != 2 || samples < 2 {
				t.Fatalf("want two families with samples:\n%s", body)
			}
		})
	}
}

// checkOpenMetricsNames fails t if an OpenMetrics exposition has a family
// twice or a sample name in two families, and returns the numbers of
// families and of sample names.
func checkOpenMetricsNames(t *testing.T, body string) (families, samples int) {
	t.Helper()
	seen, owner := map[string]bool{}, map[string]string{}
	family := ""
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			family, _, _ = strings.Cut(rest, " ")
			if seen[family] {
				t.Fatalf("family %s twice in\n%s", family, body)
			}
			seen[family] = true
		}
		if line == "" || line[0] == '#' {
			continue
		}
		sample := line[:strings.IndexAny(line, "{ ")]
		if f, ok := owner[sample]; ok && f != family {
			t.Fatalf("sample %s in families %s and %s:\n%s", sample, f, family, body)
		}
		owner[sample] = family
	}
	return len(seen), len(owner)
}

// TestClashCheckAllocs: the scrape's check of written families allocates
// nothing when nothing clashes, as in every scrape of a sound registry.
func TestClashCheckAllocs(t *testing.T) {
	reg := NewRegistry()
	Must(NewHistogram("hist", "h", WithRegistry(reg))).Observe(1)
	Must(NewCounter("c_total", "h", WithRegistry(reg))).Inc()
	w := newMetricWriter()
	w.Histogram("written", "h", HistogramValue{Count: 1, Sum: 1, Buckets: []Bucket{{1, 1}}}, nil)
	w.Counter("written_ops_total", "h", 1, nil)
	w.Gauge("hist_total", "h", 1, nil) // near names, no clash
	w.Summary("written_s", "h", SummaryValue{Count: 1}, nil)
	w.Gauge("written_s_total", "h", 1, nil)
	families := w.sorted()
	var errs []error
	if kept := withoutClashes(reg.current(), slices.Clone(families), &errs, func(*entry) {}); len(kept) != len(families) || len(errs) != 0 {
		t.Fatalf("kept %d of %d, errors %v", len(kept), len(families), errs)
	}
	buf := make([]*writtenFamily, len(families))
	if n := testing.AllocsPerRun(100, func() {
		copy(buf, families)
		withoutClashes(reg.current(), buf, &errs, func(*entry) {})
	}); n != 0 {
		t.Errorf("%v allocations per check; want 0", n)
	}
}

// TestCollectedNameClashes: a custom collector may write families it did
// not describe, which Register could not check. One whose names (in any
// format) meet those of a registered metric, or of a family written before
// it in name order, is left out and reported, so that the scrape stays
// valid in every format.
func TestCollectedNameClashes(t *testing.T) {
	t.Parallel() // self-contained (its own registries)
	write := map[string]func(w *MetricWriter, name string){
		"counter": func(w *MetricWriter, n string) { w.Counter(n, "h", 2, nil) },
		"gauge":   func(w *MetricWriter, n string) { w.Gauge(n, "h", 2, nil) },
		"untyped": func(w *MetricWriter, n string) { w.Untyped(n, "h", 2, nil) },
		"histogram": func(w *MetricWriter, n string) {
			w.Histogram(n, "h", HistogramValue{Count: 1, Sum: 1, Buckets: []Bucket{{1, 1}}}, nil)
		},
		"summary": func(w *MetricWriter, n string) { w.Summary(n, "h", SummaryValue{Count: 1, Sum: 1}, nil) },
	}
	for _, tc := range []struct {
		registered      string // "type name" of a registered metric, or ""
		first, second   string // "type name" of the written families, second optional
		leftOut, reason string // the written family left out and what the error says, or "" (and why)
	}{
		{"histogram hist", "gauge hist_count", "", "hist_count", `metric "hist" produces the name "hist_count" too`},
		{"histogram hist", "untyped hist_bucket", "", "hist_bucket", `"hist_bucket" too`},
		{"summary lat", "counter lat_sum", "", "lat_sum", `"lat_sum" too`},
		{"gauge owned", "counter owned_total", "", "owned_total", `metric "owned" produces the name "owned"`},
		{"counter c_total", "gauge c", "", "c", `metric "c_total" produces the name "c"`},
		{"gauge g", "gauge g", "", "g", `"g" was collected twice`},
		{"gauge g", "histogram g", "", "g", `"g" was collected twice`},
		{"", "histogram a", "gauge a_sum", "a_sum", `metric "a" produces the name "a_sum" too`},
		{"", "summary b", "untyped b_sum", "b_sum", `metric "b" produces the name "b_sum" too`},
		{"gauge x", "histogram x_h", "summary x_h_count", "x_h_count", `"x_h_count" too`},
		// No clash in any format:
		{"histogram h", "gauge h_total", "", "", ""},
		{"counter k", "gauge k_count", "", "", ""},
		{"", "summary s", "gauge s_bucket", "", ""},
		// A written counter n writes the sample n_total in OpenMetrics,
		// where Prometheus would keep one of two n_total values:
		{"", "counter n", "counter n_total", "n_total", `metric "n" produces the name "n_total" too`},
		{"", "counter jobs", "gauge jobs_total", "jobs_total", `metric "jobs" produces the name "jobs_total" too`},
		{"", "counter u", "untyped u_total", "u_total", `"u_total" too`},
		{"", "counter q", "summary q_total", "q_total", `"q_total" too`},
		// Written families whose names meet in OpenMetrics only, each with
		// samples of its own, are kept, as client_golang's
		// go_memstats_alloc_bytes(_total) are (Prometheus ingests both;
		// Python's strict parser refuses a family name that is another's
		// sample name):
		{"", "gauge m", "counter m_total", "", "OpenMetrics only"},
		{"", "counter hh", "histogram hh_total", "", "OpenMetrics only"},
	} {
		t.Run(strings.Join([]string{tc.registered, tc.first, tc.second}, ", "), func(t *testing.T) {
			reg := NewRegistry()
			if tc.registered != "" {
				typ, name, _ := strings.Cut(tc.registered, " ")
				switch typ {
				case "counter":
					Must(NewCounter(name, "h", WithRegistry(reg))).Inc()
				case "gauge":
					Must(NewGauge(name, "h", WithRegistry(reg))).Set(1)
				case "histogram":
					Must(NewHistogram(name, "h", WithRegistry(reg))).Observe(1)
				case "summary":
					Must(NewSummary(name, "h", WithRegistry(reg))).Observe(1)
				}
			}
			var written []string
			reg.MustRegister(collectorFunc{names: []string{"custom"}, fn: func(_ context.Context, w *MetricWriter) error {
				for _, f := range []string{tc.first, tc.second} {
					if typ, name, ok := strings.Cut(f, " "); ok {
						write[typ](w, name)
					}
				}
				return nil
			}})
			for _, f := range []string{tc.first, tc.second} {
				if _, name, ok := strings.Cut(f, " "); ok && name != tc.leftOut {
					written = append(written, name)
				}
			}
			for _, format := range []Format{FormatText, FormatOpenMetrics, FormatProtobuf} {
				b, err := reg.Append(context.Background(), nil, format)
				switch {
				case tc.leftOut == "" && err != nil:
					t.Fatalf("%v: unexpected error %v", format, err)
				case tc.leftOut != "" && (err == nil || !strings.Contains(err.Error(), tc.reason) || !strings.Contains(err.Error(), "left out")):
					t.Fatalf("%v: error %v; want one that says %s and that it is left out", format, err, tc.reason)
				}
				if format == FormatProtobuf {
					continue
				}
				// Each kept family renders, with its help "h" and value 2.
				got := string(b)
				for _, name := range written {
					if !strings.Contains(got, name) {
						t.Errorf("%v: %q is missing:\n%s", format, name, got)
					}
				}
				if format == FormatOpenMetrics {
					if tc.reason == "OpenMetrics only" {
						continue
					}
					checkOpenMetricsNames(t, got)
					t.Run("python", func(t *testing.T) { strictOpenMetrics(t, b) })
					continue
				}
				// In the text format, the family left out has no 2 to show.
				if tc.leftOut != "" && strings.Contains(got, tc.leftOut+" 2") {
					t.Errorf("text: %q is not left out:\n%s", tc.leftOut, got)
				}
				t.Run("promtool", func(t *testing.T) { promtoolCheck(t, b) })
			}
			// Each scrape that left a family out counts as the collector's
			// failure, shown from the next scrape on.
			b, _ := reg.Append(context.Background(), nil, FormatText)
			failures := `prom_collector_failures_total{collector="custom"} 3`
			if got := strings.Contains(string(b), failures); got != (tc.leftOut != "") {
				t.Errorf("scrape has %s: %v, want %v:\n%s", failures, got, tc.leftOut != "", b)
			}
		})
	}
}

// A counter named _total would have no OpenMetrics family name.
func TestCounterNamedTotal(t *testing.T) {
	_, err := NewCounter("_total", "h", WithRegistry(nil))
	if !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), `"_total"`) {
		t.Fatalf("err = %v; want ErrInvalidName naming _total", err)
	}
	if _, err := NewGauge("_total", "h", WithRegistry(nil)); err != nil {
		t.Fatalf("a gauge may be named _total: %v", err)
	}
}

// TestBindReturnsRefusalsWithCountsThem: for every metric type, Bind and
// BindValues hand a refusal to their caller and leave
// prom_rejected_updates_total alone; With and WithValues, which cannot
// return it, count each one.
func TestBindReturnsRefusalsWithCountsThem(t *testing.T) {
	type forms struct {
		bind       func(Labels) error
		bindValues func(...string) error
		with       func(Labels)
		withValues func(...string)
	}
	for _, tc := range []struct {
		typ  string
		make func(reg *Registry) forms
	}{
		{"counter", func(reg *Registry) forms {
			m := Must(NewCounter("m", "h", WithRegistry(reg), WithLabelNames("k")))
			return forms{
				func(l Labels) error { _, err := m.Bind(l); return err },
				func(v ...string) error { _, err := m.BindValues(v...); return err },
				func(l Labels) { m.With(l).Inc() },
				func(v ...string) { m.WithValues(v...).Inc() },
			}
		}},
		{"gauge", func(reg *Registry) forms {
			m := Must(NewGauge("m", "h", WithRegistry(reg), WithLabelNames("k")))
			return forms{
				func(l Labels) error { _, err := m.Bind(l); return err },
				func(v ...string) error { _, err := m.BindValues(v...); return err },
				func(l Labels) { m.With(l).Set(1) },
				func(v ...string) { m.WithValues(v...).Set(1) },
			}
		}},
		{"histogram", func(reg *Registry) forms {
			m := Must(NewHistogram("m", "h", WithRegistry(reg), WithLabelNames("k")))
			return forms{
				func(l Labels) error { _, err := m.Bind(l); return err },
				func(v ...string) error { _, err := m.BindValues(v...); return err },
				func(l Labels) { m.With(l).Observe(1) },
				func(v ...string) { m.WithValues(v...).Observe(1) },
			}
		}},
		{"summary", func(reg *Registry) forms {
			m := Must(NewSummary("m", "h", WithRegistry(reg), WithLabelNames("k")))
			return forms{
				func(l Labels) error { _, err := m.Bind(l); return err },
				func(v ...string) error { _, err := m.BindValues(v...); return err },
				func(l Labels) { m.With(l).Observe(1) },
				func(v ...string) { m.WithValues(v...).Observe(1) },
			}
		}},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			reg := NewRegistry()
			f := tc.make(reg)
			for _, err := range []error{f.bind(Labels{"x": "1"}), f.bind(nil), f.bindValues("a", "b"), f.bindValues()} {
				if !errors.Is(err, ErrInvalidLabels) && !errors.Is(err, ErrInvalidName) {
					t.Errorf("Bind: err = %v; want a refusal", err)
				}
			}
			if out := text(t, reg); strings.Contains(out, "prom_rejected_updates_total{") {
				t.Fatalf("Bind refusals counted:\n%s", out)
			}
			f.with(Labels{"x": "1"})
			f.with(nil)
			f.withValues("a", "b")
			f.withValues()
			wantSamples(t, reg, `prom_rejected_updates_total{metric="m",reason="invalid_labels"} 4`)
		})
	}
}

// TestDelegatedCollect checks that a collector delegating to metrics it
// owns exposes them as the registry exposes the same metrics registered:
// byte for byte in every format, the unit, exemplars and created times
// included.
func TestDelegatedCollect(t *testing.T) {
	opts := func(o ...Option) []Option { return append(o, WithRegistry(nil)) }
	c := Must(NewCounter("work_seconds_total", "Time worked.", opts(WithUnit("seconds"), WithConstLabels(Labels{"site": "a"}))...))
	c.With(Labels{"who": "me"}).AddWithExemplar(1.5, Labels{"trace_id": "abc"})
	c.With(Labels{"who": "you"}).Inc()
	g := Must(NewGauge("queue_bytes", "Queued.", opts(WithUnit("bytes"))...))
	g.Set(7)
	h := Must(NewHistogram("wait_seconds", "Wait.", opts(WithBuckets(0.1, 1), WithUnit("seconds"))...))
	h.With(Labels{"q": "x"}).ObserveWithExemplar(0.05, Labels{"trace_id": "def"})
	h.With(Labels{"q": "x"}).ObserveWithExemplar(5, Labels{"trace_id": "ghi"})
	h.With(Labels{"q": "y"}).Observe(0.5)
	s := Must(NewSummary("size_bytes", "Size.", opts(WithUnit("bytes"))...))
	s.Observe(3)
	metrics := []Collector{c, g, h, s}

	direct := NewRegistry()
	var names []string
	for _, m := range metrics {
		direct.MustRegister(m)
		names = append(names, m.Describe()...)
	}
	delegating := NewRegistry()
	delegating.MustRegister(collectorFunc{names: names, fn: func(ctx context.Context, w *MetricWriter) error {
		for _, m := range metrics {
			if err := m.Collect(ctx, w); err != nil {
				return err
			}
		}
		return nil
	}})
	for _, f := range []Format{FormatText, FormatOpenMetrics, FormatProtobuf} {
		header := http.Header{"Accept": {f.ContentType()}}
		want := serve(Handler(direct, WithCreatedSamples()), http.MethodGet, "/", header)
		got := serve(Handler(delegating, WithCreatedSamples()), http.MethodGet, "/", header)
		if want.Code != 200 || got.Code != 200 {
			t.Fatalf("%v: status %d and %d", f, want.Code, got.Code)
		}
		if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Errorf("%v: delegated exposition differs:\n%s\nregistered:\n%s", f, got.Body, want.Body)
		}
		if f == FormatOpenMetrics {
			for _, part := range []string{"# UNIT work_seconds seconds", `# {trace_id="abc"} 1.5`, `# {trace_id="ghi"} 5`, "work_seconds_created{", "size_bytes_created ", "wait_seconds_created{q=\"y\"}"} {
				if !strings.Contains(got.Body.String(), part) {
					t.Errorf("delegated OpenMetrics lacks %q:\n%s", part, got.Body)
				}
			}
			strictOpenMetrics(t, got.Body.Bytes())
		}
	}
}

// TestCollectorCannotWriteSelfMetrics checks that the registry's own
// metric names, which Register refuses, are refused to a collector's
// undescribed writes too: such a write once took over the registry's
// family, its help and its counts.
func TestCollectorCannotWriteSelfMetrics(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister(collectorFunc{names: []string{"custom_primary"}, fn: func(_ context.Context, w *MetricWriter) error {
		w.Gauge("custom_primary", "P.", 1, nil)
		w.Counter(selfMetric, "Mine.", 5, Labels{"metric": "c_total", "reason": "invalid_labels"})
		w.Gauge("prom_collector_failures", "Mine.", 7, nil) // the counter's OpenMetrics name
		w.Gauge(expiredMetric+"_extra", "Mine.", 8, nil)
		return nil
	}})
	c := Must(NewCounter("c_total", "C.", WithRegistry(reg)))
	c.With(Labels{"__bad": "x"}).Inc()
	out, err := reg.Append(context.Background(), nil, FormatText)
	for _, name := range []string{selfMetric, "prom_collector_failures", expiredMetric + "_extra"} {
		if want := `collector "custom_primary": metric "` + name + `": the name is the registry's own`; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %s", err, want)
		}
	}
	for _, want := range []string{
		"custom_primary 1\n",
		selfMetric + `{metric="c_total",reason="invalid_labels"} 1` + "\n",
		failuresMetric + `{collector="custom_primary"} 1` + "\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"Mine.", " 5\n", " 7\n", " 8\n"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("output holds the collector's %q:\n%s", bad, out)
		}
	}
	promtoolCheck(t, out)
}

// TestHelpCarriageReturns checks that help texts with \r\n or a lone \r,
// of a metric or of a collector's family, reach every format as \n: a raw
// \r in a HELP line makes some OpenMetrics parsers refuse the scrape.
func TestHelpCarriageReturns(t *testing.T) {
	reg := NewRegistry()
	g := Must(NewGauge("g", "line one\r\nline two\rthree", WithRegistry(reg)))
	g.Set(1)
	if got, want := g.Help(), "line one\nline two\nthree"; got != want {
		t.Errorf("Help() = %q, want %q", got, want)
	}
	reg.MustRegister(collectorFunc{names: []string{"w"}, fn: func(_ context.Context, w *MetricWriter) error {
		w.Gauge("w", "written\r\nhelp\r", 2, nil)
		return nil
	}})
	for _, f := range []Format{FormatText, FormatOpenMetrics, FormatProtobuf} {
		out, err := reg.Append(context.Background(), nil, f)
		if err != nil {
			t.Fatal(err)
		}
		if f == FormatProtobuf { // binary: look for the help strings after their lengths
			if !bytes.Contains(out, []byte("\x17line one\nline two\nthree")) || !bytes.Contains(out, []byte("\x0dwritten\nhelp\n")) {
				t.Errorf("protobuf lacks the help texts with \\n: %q", out)
			}
			continue
		}
		if bytes.ContainsRune(out, '\r') {
			t.Errorf("%v holds a carriage return: %q", f, out)
		}
		for _, want := range []string{`# HELP g line one\nline two\nthree` + "\n", `# HELP w written\nhelp\n` + "\n"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("%v lacks %q:\n%s", f, want, out)
			}
		}
		if f == FormatOpenMetrics {
			strictOpenMetrics(t, out)
		} else {
			promtoolCheck(t, out)
		}
	}
}

// TestDelegatedCollectChecks checks that a delegated metric's family meets
// the checks of MetricWriter's own writes: the registry's own names, a
// family or a series written twice (in either order, constant labels
// first or not), and a family that a registered metric takes, counted as
// the delegating collector's failure.
func TestDelegatedCollectChecks(t *testing.T) {
	ctx := context.Background()
	scrape := func(reg *Registry) (string, error) {
		out, err := reg.Append(ctx, nil, FormatText)
		return string(out), err
	}
	self := Must(NewCounter(failuresMetric, "Mine.", WithRegistry(nil)))
	self.Inc()
	d := Must(NewCounter("d_total", "D.", WithRegistry(nil), WithConstLabels(Labels{"z": "1"}), WithLabelNames("a")))
	d.WithValues("x").Inc()
	empty := Must(NewCounter("e", "E.", WithRegistry(nil), WithLabelNames("a"))) // no series
	g := Must(NewGauge("e", "E.", WithRegistry(nil)))
	g.Set(2)
	for _, tc := range []struct {
		name  string
		write func(w *MetricWriter)
		err   string
		out   []string // in the output
		notIn []string
	}{
		{"the registry's own name", func(w *MetricWriter) {
			_ = self.Collect(ctx, w)
			w.Counter("bad_total", "h", -1, nil) // a failure to count
		}, `metric "prom_collector_failures_total": the name is the registry's own`,
			[]string{`prom_collector_failures_total{collector="dc"} 2`}, []string{"Mine.", "prom_collector_failures_total 1"}},
		{"delegated, then written", func(w *MetricWriter) {
			_ = d.Collect(ctx, w)
			w.Counter("d_total", "D.", 7, Labels{"a": "x", "z": "1"})
		}, `metric "d_total" written twice with labels {a="x",z="1"}`, []string{`d_total{z="1",a="x"} 1`}, []string{" 7\n"}},
		{"written, then delegated", func(w *MetricWriter) {
			w.Counter("d_total", "D.", 7, Labels{"a": "x", "z": "1"})
			_ = d.Collect(ctx, w)
		}, `metric "d_total" written twice; the second one is left out`, []string{`d_total{a="x",z="1"} 7`}, []string{"} 1\n"}},
		{"delegated twice", func(w *MetricWriter) {
			_ = d.Collect(ctx, w)
			_ = d.Collect(ctx, w)
		}, `metric "d_total" written twice; the second one is left out`, []string{`d_total{z="1",a="x"} 1`}, nil},
		// A family left without series takes no name.
		{"delegated without series, then written", func(w *MetricWriter) {
			_ = empty.Collect(ctx, w)
			w.Gauge("e", "E.", 3, nil)
		}, "", []string{"# TYPE e gauge\ne 3\n"}, []string{"# TYPE e counter"}},
		{"delegated without series, then delegated", func(w *MetricWriter) {
			_ = empty.Collect(ctx, w)
			_ = g.Collect(ctx, w)
		}, "", []string{"# TYPE e gauge\ne 2\n"}, []string{"# TYPE e counter"}},
		{"written, then delegated without series", func(w *MetricWriter) {
			w.Gauge("e", "E.", 3, nil)
			_ = empty.Collect(ctx, w)
		}, "", []string{"# TYPE e gauge\ne 3\n"}, []string{"# TYPE e counter"}},
		// A delegated counter keeps its created time, which OpenMetrics
		// can write as d_created.
		{"delegated with created times, then written as its _created", func(w *MetricWriter) {
			_ = d.Collect(ctx, w)
			w.Gauge("d_created", "G.", 3, nil)
		}, `metric "d_created" was collected, but metric "d_total" produces the name "d_created" too`, []string{`d_total{z="1",a="x"} 1`}, []string{"d_created"}},
		{"a refused write, then delegated", func(w *MetricWriter) {
			w.Gauge("e", "E.", 5, Labels{"bad-name": "v"})
			_ = g.Collect(ctx, w)
		}, `invalid name: label name "bad-name" of metric "e"`, []string{"# TYPE e gauge\ne 2\n"}, []string{" 5\n"}},
		// One family, one help text, as client_golang's Gather requires;
		// a help that differs only in its line ends is the same.
		{"written with two help texts", func(w *MetricWriter) {
			w.Gauge("e", "First.", 1, Labels{"a": "1"})
			w.Gauge("e", "Second.", 2, Labels{"a": "2"})
			w.Gauge("e", "First.", 3, Labels{"a": "3"})
		}, `metric "e" written with help "First." and with help "Second."; the series with the second is left out`,
			[]string{"# HELP e First.\n# TYPE e gauge\ne{a=\"1\"} 1\ne{a=\"3\"} 3\n"}, []string{"Second", "e{a=\"2\"}"}},
		{"written with help texts that differ in line ends only", func(w *MetricWriter) {
			w.Gauge("e", "Two\nlines.", 1, Labels{"a": "1"})
			w.Gauge("e", "Two\r\nlines.", 2, Labels{"a": "2"})
		}, "", []string{"e{a=\"1\"} 1\ne{a=\"2\"} 2\n"}, nil},
		{"a refused write, then written as another type", func(w *MetricWriter) {
			w.Gauge("e", "E.", 5, Labels{"__a": "x"})
			w.Counter("e", "E.", 4, nil)
		}, `invalid name: label name "__a" of metric "e": the prefix __ is reserved`, []string{"# TYPE e counter\ne 4\n"}, []string{" 5\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry()
			reg.MustRegister(collectorFunc{names: []string{"dc"}, fn: func(_ context.Context, w *MetricWriter) error {
				tc.write(w)
				return nil
			}})
			scrape(reg) // failures show from the next scrape on
			out, err := scrape(reg)
			if tc.err == "" && err != nil {
				t.Errorf("error %v; want none", err)
			} else if tc.err != "" && (err == nil || !strings.Contains(err.Error(), `prom: collector "dc": `+tc.err)) {
				t.Errorf("error %v; want one that says %s", err, tc.err)
			}
			wantParts(t, "output", out, tc.out, tc.notIn)
			promtoolCheck(t, []byte(out))
		})
	}
	// A family that a registered metric takes is left out, and counts as
	// the delegating collector's failure (from the next scrape on).
	reg := NewRegistry()
	reg.MustRegister(d, collectorFunc{names: []string{"dc"}, fn: func(ctx context.Context, w *MetricWriter) error { return d.Collect(ctx, w) }})
	scrape(reg)
	out, err := scrape(reg)
	if err == nil || !strings.Contains(err.Error(), `prom: collector "dc": metric "d_total" was collected twice`) || !strings.Contains(out, failuresMetric+`{collector="dc"} 1`) {
		t.Errorf("a delegated registered metric: error %v, output:\n%s", err, out)
	}
}

// TestRegistryChangeDuringScrape: a scrape writes the registry as it was
// when it began, and checks the families custom collectors write against
// that, not against what a Register or Unregister during the scrape left:
// one family x either way, never two or none.
func TestRegistryChangeDuringScrape(t *testing.T) {
	for _, tc := range []struct {
		name       string
		registered bool                               // whether the metric x is registered when the scrape begins
		change     func(reg *Registry, x *Gauge) bool // run while the collector runs
		want       string                             // the family x written
	}{
		{"Unregister", true, func(reg *Registry, x *Gauge) bool { return reg.Unregister(x) }, "# HELP x The metric.\n"},
		{"Register", false, func(reg *Registry, x *Gauge) bool { return reg.Register(x) == nil }, "# HELP x The collector's.\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := NewRegistry()
			x := Must(NewGauge("x", "The metric.", WithRegistry(nil)))
			x.Set(1)
			if tc.registered {
				reg.MustRegister(x)
			}
			reg.MustRegister(collectorFunc{names: []string{"c"}, fn: func(_ context.Context, w *MetricWriter) error {
				if !tc.change(reg, x) {
					t.Error("the change during the scrape failed")
				}
				w.Gauge("x", "The collector's.", 2, nil)
				return nil
			}})
			out, _ := reg.Append(context.Background(), nil, FormatText)
			if n := strings.Count(string(out), "# TYPE x "); n != 1 || !strings.Contains(string(out), tc.want) {
				t.Errorf("family x written %d times, want once as %q:\n%s", n, tc.want, out)
			}
			promtoolCheck(t, out)
		})
	}
}

// TestClashWhenClientGone: a family left out for its name in a scrape
// whose client went away counts no failure, as the collector's own errors
// in such a scrape count none.
func TestClashWhenClientGone(t *testing.T) {
	reg := NewRegistry()
	Must(NewGauge("x", "h", WithRegistry(reg))).Set(1)
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	reg.MustRegister(collectorFunc{names: []string{"c"}, fn: func(_ context.Context, w *MetricWriter) error {
		if calls.Add(1) == 1 {
			cancel() // the client goes away while the collector runs
			w.Gauge("x", "h", 2, nil)
		}
		return nil
	}})
	if _, err := reg.Append(ctx, nil, FormatText); !errors.Is(err, context.Canceled) {
		t.Errorf("the cancelled scrape returned %v", err)
	}
	out, err := reg.Append(context.Background(), nil, FormatText)
	if err != nil || strings.Contains(string(out), failuresMetric+`{collector="c"}`) {
		t.Errorf("the cancelled scrape counted a failure (error %v):\n%s", err, out)
	}
}

// TestRegisterNil: a nil collector, or a nil pointer to a metric, is
// refused with an error, not a panic.
func TestRegisterNil(t *testing.T) {
	reg := NewRegistry()
	for _, tc := range []struct {
		c    Collector
		want string
	}{
		{nil, "prom: Register of a nil Collector"},
		{(*Counter)(nil), "prom: Register of a nil *prom.Counter"},
		{(*GaugeOf[reqLabels])(nil), "prom: Register of a nil *prom.GaugeOf[github.com/promgo/prom.reqLabels]"},
		{&GaugeOf[reqLabels]{}, "prom: Register of a *prom.GaugeOf[github.com/promgo/prom.reqLabels] that holds no metric (make it with its constructor)"},
	} {
		if err := reg.Register(tc.c); err == nil || err.Error() != tc.want {
			t.Errorf("Register(%T): %v; want %s", tc.c, err, tc.want)
		}
		if reg.Unregister(tc.c) {
			t.Errorf("Unregister(%T) = true", tc.c)
		}
	}
}

// TestRegistryEmptiedLetsGo checks that a registry emptied by Clear or
// Unregister does not keep the memory of the most it held (a Go map never
// shrinks).
func TestRegistryEmptiedLetsGo(t *testing.T) {
	if testing.Short() {
		t.Skip("registers 3,000 metrics")
	}
	const n = 3000
	gauges := make([]*Gauge, n)
	for i := range gauges {
		gauges[i] = Must(NewGauge(fmt.Sprintf("g%d", i), "h", WithRegistry(nil)))
	}
	for _, empty := range []struct {
		name  string
		empty func(*Registry)
	}{
		{"Clear", (*Registry).Clear},
		{"Unregister", func(r *Registry) {
			for _, g := range gauges {
				r.Unregister(g)
			}
		}},
	} {
		t.Run(empty.name, func(t *testing.T) {
			reg := NewRegistry()
			base := liveHeap()
			for _, g := range gauges {
				reg.MustRegister(g)
			}
			full := liveHeap()
			empty.empty(reg)
			after := liveHeap()
			runtime.KeepAlive(reg)
			// The names map of 3,000 entries takes about 200 KiB.
			if grown, kept := int64(full-base), int64(after-base); kept > grown/4 {
				t.Errorf("the emptied registry keeps %d KiB of the %d KiB its %d metrics took", kept>>10, grown>>10, n)
			}
		})
	}
}

// liveHeap returns the bytes of live heap objects after a collection.
func liveHeap() uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestRegistryOrderAfterChanges checks the registry's order and identity
// through many changes: All (and so a scrape) lists collectors by primary
// name, later ones first among equal names (custom collectors that
// describe none); Unregister finds a collector by identity, a typed metric
// as the metric it wraps, and never a value that cannot be compared.
func TestRegistryOrderAfterChanges(t *testing.T) {
	reg := NewRegistry()
	nop := func(context.Context, *MetricWriter) error { return nil }
	gauges := map[string]*Gauge{}
	for _, i := range rand.Perm(200) {
		name := fmt.Sprintf("g%03d", i)
		gauges[name] = Must(NewGauge(name, "h", WithRegistry(reg)))
		gauges[name].Set(float64(i))
	}
	first := &collectorFunc{fn: nop}
	second := &collectorFunc{fn: nop}
	reg.MustRegister(first, second)
	value := collectorFunc{names: []string{"by_value"}, fn: nop} // not comparable
	reg.MustRegister(value)
	typed := Must(NewCounterOf[struct {
		Method string `label:"method"`
	}]("typed_total", "h", WithRegistry(reg)))

	for name, g := range gauges {
		if name[len(name)-1]%2 == 1 && !reg.Unregister(g) {
			t.Fatalf("Unregister %s: not found", name)
		}
	}
	if reg.Unregister(value) {
		t.Error("Unregister found a collector that cannot be compared")
	}
	if !reg.Unregister(typed.Counter) || reg.Unregister(typed) {
		t.Error("a typed metric is not unregistered as the metric it wraps")
	}
	var got []Collector
	for c := range reg.All() {
		got = append(got, c)
	}
	want := []Collector{second, first, value}
	for i := 0; i < 200; i += 2 {
		want = append(want, gauges[fmt.Sprintf("g%03d", i)])
	}
	if len(got) != len(want) {
		t.Fatalf("All lists %d collectors; want %d", len(got), len(want))
	}
	for i := range want {
		same := slices.Equal(got[i].Describe(), want[i].Describe())
		if reflect.ValueOf(want[i]).Comparable() {
			same = got[i] == want[i]
		}
		if !same {
			t.Fatalf("All[%d] = %v; want %v", i, got[i].Describe(), want[i].Describe())
		}
	}
	if out := text(t, reg); strings.Contains(out, "g001") || !strings.Contains(out, "\ng198 198\n") {
		t.Errorf("exposition after the changes:\n%s", out)
	}
}

// sliceCollector describes the names it holds, which a test may change in
// place.
type sliceCollector struct{ names []string }

func (c *sliceCollector) Describe() []string                           { return c.names }
func (c *sliceCollector) Collect(context.Context, *MetricWriter) error { return nil }

// TestUnregisterDescribeChangedInPlace checks that a collector that
// changes the slice Describe returned, after it was registered, leaves its
// own names when unregistered, and no other collector's.
func TestUnregisterDescribeChangedInPlace(t *testing.T) {
	reg := NewRegistry()
	a := &sliceCollector{names: []string{"alpha"}}
	reg.MustRegister(a)
	a.names[0] = "beta"
	b := Must(NewGauge("beta", "h", WithRegistry(reg)))
	if !reg.Unregister(a) {
		t.Fatal("Unregister(a) = false")
	}
	if c, ok := reg.Get("beta"); !ok || c != Collector(b) {
		t.Errorf("Get(beta) after Unregister(a) = %v, %v; want the gauge, still registered", c, ok)
	}
	if _, ok := reg.Get("alpha"); ok {
		t.Error("alpha is still taken after Unregister(a)")
	}
	if _, err := NewGauge("beta", "h", WithRegistry(reg)); err == nil {
		t.Error("a second beta was registered")
	}
}

// describingCollector reads its registry in Describe.
type describingCollector struct{ reg *Registry }

func (m *describingCollector) Describe() []string {
	for range m.reg.All() {
	}
	return []string{"meta"}
}
func (m *describingCollector) Collect(context.Context, *MetricWriter) error { return nil }

// TestRegisterRunsNoCollectorCodeLocked checks that a clash with a
// collector whose Describe reads the registry does not deadlock: Register
// runs no collector code of a registered collector under its lock.
func TestRegisterRunsNoCollectorCodeLocked(t *testing.T) {
	reg := NewRegistry()
	reg.MustRegister(&describingCollector{reg: reg})
	done := make(chan error, 1)
	go func() {
		_, err := NewGauge("meta", "h", WithRegistry(reg))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), `"meta" is already registered`) {
			t.Fatalf("clash: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Register of a clashing name deadlocked")
	}
}

// embedsTyped is a collector value that embeds a typed metric.
type embedsTyped struct {
	*CounterOf[struct {
		M string `label:"m"`
	}]
}

// TestRegisterStructEmbeddingTyped checks that a struct value embedding a
// typed metric registers as that metric (it panicked in reflect).
func TestRegisterStructEmbeddingTyped(t *testing.T) {
	typed := Must(NewCounterOf[struct {
		M string `label:"m"`
	}]("emb_total", "h", WithRegistry(nil)))
	reg := NewRegistry()
	if err := reg.Register(embedsTyped{typed}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(typed.Counter); err == nil {
		t.Error("the embedded metric registered a second time")
	}
	if !reg.Unregister(typed) {
		t.Error("Unregister of the typed metric found nothing")
	}
}
