package bench

// The cross-check renders one prom registry holding every metric type and a
// set of awkward label values and numbers, parses the text with the
// reference parser (prometheus/common/expfmt), and checks the result:
//
//   - against prom's own view of its metrics (All, Get, Value),
//   - for internal consistency (cumulative buckets, _count == +Inf bucket,
//     no duplicate series, quantiles within their error bounds),
//   - for exact round-tripping of odd label values,
//   - against the same metrics built with client_golang, rendered by its
//     text encoder and parsed by the same parser.
//
// The checks return their problems instead of failing the test directly, so
// that TestCrossCheckDetectsMutations can prove that each of them fails on
// a corrupted exposition.
//
// crosscheck_formats_test.go runs the same checks on OpenMetrics and
// protobuf output of the same fixture, which also has units and exemplars
// for those formats.

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/promgo/prom"
	"google.golang.org/protobuf/proto"
)

// oddValue is one awkward label value, named for the test output.
type oddValue struct{ name, value string }

// oddValues are label values that must survive every exposition format.
var oddValues = []oddValue{
	{"plain", "GET"},
	{"quote", `say "hi"`},
	{"backslash", `C:\dir\`},
	{"newline", "line1\nline2"},
	{"tab", "a\tb"},
	{"unicode", "ünï"},
	{"invalid_utf8", "x\xff\xfey"},
	{"empty", ""},
	{"long", strings.Repeat("a-long-label-value/", 600)}, // 11,400 bytes
	{"mixed", "\\\"\n\t ünï \xff end"},
	{"escape_lookalike", `\n is not a newline, \" not a quote`},
	{"braces", `}{,=" x="y`},
}

// repaired is what a label value must look like after the exposition: each
// byte that is not part of valid UTF-8 replaced by U+FFFD (string([]rune(s))
// does exactly that; strings.ToValidUTF8 would merge runs of invalid bytes).
func repaired(s string) string { return string([]rune(s)) }

// gaugeValues are the numbers the gauge must carry exactly.
var gaugeValues = []struct {
	name string
	v    float64
}{
	{"negative", -3.5},
	{"fractional", 0.1},
	{"third", 1.0 / 3},
	{"large", 1e21},
	{"tiny", 1e-9},
	{"max", math.MaxFloat64},
	{"denormal", 5e-324},
	{"pow53", 1 << 53},
	{"zero", 0},
	{"neg_zero", math.Copysign(0, -1)},
	{"inf", math.Inf(1)},
	{"neg_inf", math.Inf(-1)},
	{"nan", math.NaN()},
}

// Histogram inputs. Observations sit on bucket bounds, between them, below
// the first, above the last, and include NaN (counted in +Inf, sum NaN).
var (
	latencyBuckets = []float64{0.05, 0.1, 0.5, 1, 5}
	latencyObs     = []float64{0, 0.05, 0.07, 0.1, 0.3, 0.5, 0.99, 1, 4.2, 5, 7, 100, -1}
	latencyPaths   = []string{"/api", "ünï \"\\\n", "\xff"}
	sizeBuckets    = prom.ExponentialBuckets(100, 10, 4)
	sizeObs        = []float64{50, 100, 150, 5000, 1e6, 1e6}
	nanObs         = []float64{0.2, math.NaN(), 3}
)

// Summary inputs: method -> observations. "get" holds a shuffled 1..1000,
// "put" 1..10, "idle" nothing (its quantiles are NaN).
var summaryObs = func() map[string][]float64 {
	get := make([]float64, 1000)
	for i := range get {
		get[i] = float64(i + 1)
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(get), func(i, j int) { get[i], get[j] = get[j], get[i] })
	put := make([]float64, 10)
	for i := range put {
		put[i] = float64(i + 1)
	}
	return map[string][]float64{"get": get, "put": put, "idle": nil}
}()

// Constant labels; hostLabel has an invalid byte and a quote.
const hostLabel = "h\xffst \"1\""

// Exemplar inputs, applied in order to both libraries: counter increments
// and histogram observations, each with its exemplar's labels or nil for a
// plain update (which keeps the exemplar already there). A later exemplar
// replaces an earlier one of the same series (counter) or bucket
// (histogram). Values with invalid UTF-8 are given to client_golang
// repaired, as for label values.
type tracedUpdate struct {
	kind string
	v    float64
	ex   prom.Labels
}

var (
	tracedAdds = []tracedUpdate{
		{"a", 2, prom.Labels{"trace_id": "abc123"}},
		{"a", 1, nil}, // keeps abc123 (value 2)
		{"b", 1, prom.Labels{"trace_id": "first"}},
		{"b", 0.5, prom.Labels{"trace_id": "ünï \"q\" \\ \n\xff", "span_id": ""}}, // replaces first
		{"c", 3, nil},           // never an exemplar
		{"d", 1, prom.Labels{}}, // an exemplar without labels
	}
	tracedBuckets = []float64{0.1, 1}
	tracedObs     = []tracedUpdate{
		{"x", 0.05, prom.Labels{"trace_id": "h1"}},
		{"x", 0.07, nil}, // same bucket: keeps h1
		{"x", 0.5, prom.Labels{"trace_id": "h2"}},
		{"x", 0.7, prom.Labels{"trace_id": "h3", "user": "\xff\"}"}}, // replaces h2
		{"x", 42, prom.Labels{"trace_id": "h4"}},                     // +Inf bucket
		{"y", 0.2, nil},                                              // no exemplars at all
	}
)

// repairedLabels returns l with every value repaired, or nil for nil.
func repairedLabels(l prom.Labels) prometheus.Labels {
	if l == nil {
		return nil
	}
	out := prometheus.Labels{}
	for n, v := range l {
		out[n] = repaired(v)
	}
	return out
}

const (
	requestsHelp = `Requests served; odd help: back\slash, "quotes", a tab	and a` + "\nnewline."
	eventsHelp   = "Events seen, labelled through label maps."
	tempHelp     = "Temperature in odd units."
	poolHelp     = "Workers in the pool."
	latencyHelp  = "Request latency."
	sizeHelp     = "Response size."
	nanHelp      = "Histogram that saw a NaN."
	rpcHelp      = "RPC duration."
)

const (
	tracedCountHelp   = "Requests with trace exemplars."
	tracedLatencyHelp = "Latency with trace exemplars."
)

// apiFamily is prom's own view of one family: its metadata and its series
// with values formatted by formatValue's rules.
type apiFamily struct {
	name, help  string
	typ         dto.MetricType
	unit        string      // shown in OpenMetrics and protobuf only
	constLabels prom.Labels // as exposed
	all         func() iter.Seq2[prom.Labels, string]
	get         func(prom.Labels) (string, bool)
	raw         func(prom.Labels) (any, bool) // Get's value unformatted
}

func newAPIFamily[V any](name, help string, typ dto.MetricType, constLabels prom.Labels,
	all func() iter.Seq2[prom.Labels, V], get func(prom.Labels) (V, bool), format func(V) string,
) apiFamily {
	return apiFamily{
		name: name, help: help, typ: typ, constLabels: constLabels,
		all: func() iter.Seq2[prom.Labels, string] {
			return func(yield func(prom.Labels, string) bool) {
				for l, v := range all() {
					if !yield(l, format(v)) {
						return
					}
				}
			}
		},
		get: func(l prom.Labels) (string, bool) {
			v, ok := get(l)
			if !ok {
				return "", false
			}
			return format(v), true
		},
		raw: func(l prom.Labels) (any, bool) { return get(l) },
	}
}

// promFixture is the prom side of the cross-check.
type promFixture struct {
	reg      *prom.Registry
	families []apiFamily
	odd      []oddValue    // the label values the counters were given
	requests *prom.Counter // labelled by values
	events   *prom.Counter // labelled by maps
}

func buildProm(t testing.TB) *promFixture { t.Helper(); return buildPromWith(t, oddValues) }

// buildPromWith builds the fixture with the given odd label values (the
// OpenMetrics cross-check shortens the longest one; see omOddValues).
func buildPromWith(t testing.TB, odd []oddValue) *promFixture {
	t.Helper()
	reg := prom.NewRegistry()
	in := prom.WithRegistry(reg)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	fx := &promFixture{reg: reg, odd: odd}

	requests, err := prom.NewCounter("xc_requests_total", requestsHelp, in,
		prom.WithLabelNames("case", "value"), prom.WithConstLabels(prom.Labels{"service": "crosscheck"}))
	must(err)
	events, err := prom.NewCounter("xc_events_total", eventsHelp, in)
	must(err)
	for i, o := range odd {
		requests.WithValues(o.name, o.value).Add(float64(i + 1))
		requests.WithValues(o.name, o.value).Inc() // a second lookup hits the same series
		events.With(prom.Labels{"case": o.name, "value": o.value}).Add(float64(i) + 0.5)
	}
	fx.requests, fx.events = requests, events

	temp, err := prom.NewGauge("xc_temperature", tempHelp, in,
		prom.WithLabelNames("case"), prom.WithConstLabels(prom.Labels{"host": hostLabel}))
	must(err)
	for _, g := range gaugeValues {
		temp.WithValues(g.name).Set(g.v)
	}
	ops := temp.WithValues("ops")
	ops.Set(10)
	ops.Add(2.5)
	ops.Sub(1)
	ops.Inc()
	ops.Inc()
	ops.Dec() // 12.5

	pool, err := prom.NewGaugeFunc("xc_pool_workers", poolHelp, func() float64 { return 42.5 }, in,
		prom.WithConstLabels(prom.Labels{"pool": "main"}))
	must(err)

	latency, err := prom.NewHistogram("xc_latency_seconds", latencyHelp, in, prom.WithUnit("seconds"),
		prom.WithLabelNames("path"), prom.WithBuckets(latencyBuckets...))
	must(err)
	for _, p := range latencyPaths {
		for _, v := range latencyObs {
			latency.WithValues(p).Observe(v)
		}
	}
	size, err := prom.NewHistogram("xc_size_bytes", sizeHelp, in, prom.WithUnit("bytes"), prom.WithBuckets(sizeBuckets...))
	must(err)
	for _, v := range sizeObs {
		size.Observe(v)
	}
	nan, err := prom.NewHistogram("xc_nan_seconds", nanHelp, in)
	must(err)
	for _, v := range nanObs {
		nan.Observe(v)
	}

	rpc, err := prom.NewSummary("xc_rpc_duration_seconds", rpcHelp, in, prom.WithUnit("seconds"),
		prom.WithLabelNames("method"), prom.WithConstLabels(prom.Labels{"region": "eu"}),
		prom.WithObjectives(promObjectives...), prom.WithMaxAge(summaryWindow, prom.DefaultAgeBuckets))
	must(err)
	for _, m := range slices.Sorted(maps.Keys(summaryObs)) {
		s := rpc.WithValues(m)
		for _, v := range summaryObs[m] {
			s.Observe(v)
		}
	}

	tracedCount, err := prom.NewCounter("xc_traced_total", tracedCountHelp, in, prom.WithLabelNames("kind"))
	must(err)
	for _, u := range tracedAdds {
		s := tracedCount.WithValues(u.kind)
		if u.ex == nil {
			s.Add(u.v)
		} else {
			s.AddWithExemplar(u.v, u.ex)
		}
	}
	tracedLatency, err := prom.NewHistogram("xc_traced_seconds", tracedLatencyHelp, in, prom.WithUnit("seconds"),
		prom.WithLabelNames("kind"), prom.WithBuckets(tracedBuckets...))
	must(err)
	for _, u := range tracedObs {
		s := tracedLatency.WithValues(u.kind)
		if u.ex == nil {
			s.Observe(u.v)
		} else {
			s.ObserveWithExemplar(u.v, u.ex)
		}
	}

	counterGet := func(c *prom.Counter) func(prom.Labels) (float64, bool) { return c.Get }
	fx.families = []apiFamily{
		newAPIFamily("xc_requests_total", requestsHelp, dto.MetricType_COUNTER, prom.Labels{"service": "crosscheck"},
			requests.All, counterGet(requests), formatFloat),
		newAPIFamily("xc_events_total", eventsHelp, dto.MetricType_COUNTER, nil,
			events.All, counterGet(events), formatFloat),
		newAPIFamily("xc_temperature", tempHelp, dto.MetricType_GAUGE, prom.Labels{"host": repaired(hostLabel)},
			temp.All, temp.Get, formatFloat),
		newAPIFamily("xc_pool_workers", poolHelp, dto.MetricType_GAUGE, prom.Labels{"pool": "main"},
			func() iter.Seq2[prom.Labels, float64] {
				return func(yield func(prom.Labels, float64) bool) { yield(nil, pool.Value()) }
			},
			func(l prom.Labels) (float64, bool) { return pool.Value(), len(l) == 0 },
			formatFloat),
		newAPIFamily("xc_latency_seconds", latencyHelp, dto.MetricType_HISTOGRAM, nil,
			latency.All, latency.Get, formatHistogramValue),
		newAPIFamily("xc_size_bytes", sizeHelp, dto.MetricType_HISTOGRAM, nil,
			size.All, size.Get, formatHistogramValue),
		newAPIFamily("xc_nan_seconds", nanHelp, dto.MetricType_HISTOGRAM, nil,
			nan.All, nan.Get, formatHistogramValue),
		newAPIFamily("xc_rpc_duration_seconds", rpcHelp, dto.MetricType_SUMMARY, prom.Labels{"region": "eu"},
			rpc.All, rpc.Get, func(v prom.SummaryValue) string { return formatSummaryValue(v, true) }),
		newAPIFamily("xc_traced_total", tracedCountHelp, dto.MetricType_COUNTER, nil,
			tracedCount.All, counterGet(tracedCount), formatFloat),
		newAPIFamily("xc_traced_seconds", tracedLatencyHelp, dto.MetricType_HISTOGRAM, nil,
			tracedLatency.All, tracedLatency.Get, formatHistogramValue),
	}
	for name, unit := range map[string]string{
		"xc_latency_seconds": "seconds", "xc_size_bytes": "bytes", "xc_rpc_duration_seconds": "seconds",
		"xc_traced_seconds": "seconds",
	} {
		fx.families[slices.IndexFunc(fx.families, func(f apiFamily) bool { return f.name == name })].unit = unit
	}
	return fx
}

// buildClientGolang builds the same metrics with client_golang. It rejects
// invalid UTF-8, so it is given the repaired values.
func buildClientGolang(t testing.TB) *prometheus.Registry {
	t.Helper()
	return buildClientGolangWith(t, oddValues)
}

func buildClientGolangWith(t testing.TB, odd []oddValue) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()

	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "xc_requests_total", Help: requestsHelp, ConstLabels: prometheus.Labels{"service": "crosscheck"},
	}, []string{"case", "value"})
	events := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "xc_events_total", Help: eventsHelp},
		[]string{"case", "value"})
	for i, o := range odd {
		requests.WithLabelValues(o.name, repaired(o.value)).Add(float64(i + 1))
		requests.WithLabelValues(o.name, repaired(o.value)).Inc()
		events.With(prometheus.Labels{"case": o.name, "value": repaired(o.value)}).Add(float64(i) + 0.5)
	}

	temp := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "xc_temperature", Help: tempHelp, ConstLabels: prometheus.Labels{"host": repaired(hostLabel)},
	}, []string{"case"})
	for _, g := range gaugeValues {
		temp.WithLabelValues(g.name).Set(g.v)
	}
	ops := temp.WithLabelValues("ops")
	ops.Set(10)
	ops.Add(2.5)
	ops.Sub(1)
	ops.Inc()
	ops.Inc()
	ops.Dec()

	pool := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "xc_pool_workers", Help: poolHelp, ConstLabels: prometheus.Labels{"pool": "main"},
	}, func() float64 { return 42.5 })

	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "xc_latency_seconds", Help: latencyHelp, Buckets: latencyBuckets, Unit: "seconds",
	}, []string{"path"})
	for _, p := range latencyPaths {
		for _, v := range latencyObs {
			latency.WithLabelValues(repaired(p)).Observe(v)
		}
	}
	size := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "xc_size_bytes", Help: sizeHelp, Buckets: sizeBuckets, Unit: "bytes"})
	for _, v := range sizeObs {
		size.Observe(v)
	}
	nan := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "xc_nan_seconds", Help: nanHelp, Buckets: prometheus.DefBuckets})
	for _, v := range nanObs {
		nan.Observe(v)
	}

	rpc := prometheus.NewSummaryVec(prometheus.SummaryOpts{
		Name: "xc_rpc_duration_seconds", Help: rpcHelp, ConstLabels: prometheus.Labels{"region": "eu"}, Unit: "seconds",
		Objectives: cgObjectives, MaxAge: summaryWindow, AgeBuckets: prometheus.DefAgeBuckets,
	}, []string{"method"})
	for m, obs := range summaryObs {
		s := rpc.WithLabelValues(m)
		for _, v := range obs {
			s.Observe(v)
		}
	}

	tracedCount := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "xc_traced_total", Help: tracedCountHelp},
		[]string{"kind"})
	for _, u := range tracedAdds {
		c := tracedCount.WithLabelValues(u.kind)
		if u.ex == nil {
			c.Add(u.v)
		} else {
			c.(prometheus.ExemplarAdder).AddWithExemplar(u.v, repairedLabels(u.ex))
		}
	}
	tracedLatency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "xc_traced_seconds", Help: tracedLatencyHelp, Buckets: tracedBuckets, Unit: "seconds",
	}, []string{"kind"})
	for _, u := range tracedObs {
		h := tracedLatency.WithLabelValues(u.kind)
		if u.ex == nil {
			h.Observe(u.v)
		} else {
			h.(prometheus.ExemplarObserver).ObserveWithExemplar(u.v, repairedLabels(u.ex))
		}
	}

	reg.MustRegister(requests, events, temp, pool, latency, size, nan, rpc, tracedCount, tracedLatency)
	return reg
}

// parseText parses the text format with the reference parser, using the
// legacy (pre-UTF-8) name validation that text format 0.0.4 implies.
func parseText(body []byte) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.LegacyValidation)
	return p.TextToMetricFamilies(bytes.NewReader(body))
}

func renderProm(t testing.TB, reg *prom.Registry) []byte {
	t.Helper()
	body, err := reg.Append(context.Background(), nil, prom.FormatText)
	if err != nil {
		t.Fatalf("prom Append: %v", err)
	}
	return body
}

func renderClientGolang(t testing.TB, reg *prometheus.Registry) []byte {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("client_golang Gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatalf("client_golang Encode: %v", err)
		}
	}
	return buf.Bytes()
}

// ---- value formatting shared by the API side and the parsed side ----

// formatFloat formats exactly: the shortest representation that parses
// back to the same float64, so NaN equals NaN and 0.1 equals only 0.1.
// The one exception is -0, which prom and client_golang both expose as 0
// (harmless: Prometheus does not tell them apart).
func formatFloat(v float64) string {
	if v == 0 {
		v = 0 // -0 -> 0
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func formatBuckets(b *strings.Builder, bounds []float64, counts []uint64, count uint64, sum float64) {
	for i := range bounds {
		fmt.Fprintf(b, "le=%s:%d ", formatFloat(bounds[i]), counts[i])
	}
	fmt.Fprintf(b, "count=%d sum=%s", count, formatFloat(sum))
}

func formatHistogramValue(v prom.HistogramValue) string {
	var b strings.Builder
	bounds := make([]float64, len(v.Buckets))
	counts := make([]uint64, len(v.Buckets))
	for i, bk := range v.Buckets {
		bounds[i], counts[i] = bk.UpperBound, bk.Count
	}
	formatBuckets(&b, bounds, counts, v.Count, v.Sum)
	return b.String()
}

// formatSummaryValue formats a summary; without quantile values only the
// quantiles' ranks are kept, for comparisons across libraries whose
// estimates may legitimately differ.
func formatSummaryValue(v prom.SummaryValue, withValues bool) string {
	var b strings.Builder
	for _, q := range v.Quantiles {
		fmt.Fprintf(&b, "q%s", formatFloat(q.Quantile))
		if withValues {
			fmt.Fprintf(&b, "=%s", formatFloat(q.Value))
		}
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "count=%d sum=%s", v.Count, formatFloat(v.Sum))
	return b.String()
}

// formatMetric formats a parsed series like the format* functions above.
func formatMetric(typ dto.MetricType, m *dto.Metric, quantileValues bool) string {
	switch typ {
	case dto.MetricType_COUNTER:
		return formatFloat(m.GetCounter().GetValue())
	case dto.MetricType_GAUGE:
		return formatFloat(m.GetGauge().GetValue())
	case dto.MetricType_UNTYPED:
		return formatFloat(m.GetUntyped().GetValue())
	case dto.MetricType_HISTOGRAM:
		h := m.GetHistogram()
		var b strings.Builder
		bounds := make([]float64, len(h.GetBucket()))
		counts := make([]uint64, len(h.GetBucket()))
		for i, bk := range h.GetBucket() {
			bounds[i], counts[i] = bk.GetUpperBound(), bk.GetCumulativeCount()
		}
		formatBuckets(&b, bounds, counts, h.GetSampleCount(), h.GetSampleSum())
		return b.String()
	case dto.MetricType_SUMMARY:
		s := m.GetSummary()
		v := prom.SummaryValue{Count: s.GetSampleCount(), Sum: s.GetSampleSum()}
		for _, q := range s.GetQuantile() {
			v.Quantiles = append(v.Quantiles, prom.Quantile{Quantile: q.GetQuantile(), Value: q.GetValue()})
		}
		return formatSummaryValue(v, quantileValues)
	}
	return fmt.Sprintf("unsupported type %v", typ)
}

// labelsOf returns a parsed series' labels (le and quantile are not among
// them: the parser folds those into buckets and quantiles).
func labelsOf(m *dto.Metric) prom.Labels {
	l := prom.Labels{}
	for _, p := range m.GetLabel() {
		l[p.GetName()] = p.GetValue()
	}
	return l
}

// seriesKey is a canonical, order-independent form of a label set, as
// Prometheus reads it: a label with an empty value is no label (prom
// leaves such labels out of a metric without declared names, client_golang
// writes them), so it is left out.
func seriesKey(l prom.Labels) string {
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(l)) {
		if l[n] != "" {
			fmt.Fprintf(&b, "%s=%q,", n, l[n])
		}
	}
	return b.String()
}

// ---- the checks; each returns problems, never fails the test itself ----

type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// checkFamilies: every expected family is there with its type and help, and
// nothing else is.
func checkFamilies(p *problems, side string, want []apiFamily, got map[string]*dto.MetricFamily) {
	names := map[string]bool{}
	for _, f := range want {
		names[f.name] = true
		mf, ok := got[f.name]
		switch {
		case !ok:
			p.addf("%s: family %s missing", side, f.name)
		case mf.GetType() != f.typ:
			p.addf("%s: family %s has type %v, want %v", side, f.name, mf.GetType(), f.typ)
		case mf.GetHelp() != f.help:
			p.addf("%s: family %s has help %q, want %q", side, f.name, mf.GetHelp(), f.help)
		}
	}
	for name := range got {
		if !names[name] {
			p.addf("%s: unexpected family %s", side, name)
		}
	}
}

// checkAgainstAPI: the parsed series are exactly those prom's All reports
// (plus constant labels), with the same values, and Get agrees for each.
func checkAgainstAPI(p *problems, fams []apiFamily, got map[string]*dto.MetricFamily) {
	for _, f := range fams {
		mf := got[f.name]
		if mf == nil {
			continue // reported by checkFamilies
		}
		want := map[string]string{}
		for l, v := range f.all() {
			full := maps.Clone(l)
			if full == nil {
				full = prom.Labels{}
			}
			maps.Copy(full, f.constLabels)
			want[seriesKey(full)] = v
		}
		seen := map[string]bool{}
		for _, m := range mf.GetMetric() {
			l := labelsOf(m)
			k := seriesKey(l)
			v := formatMetric(mf.GetType(), m, true)
			w, ok := want[k]
			switch {
			case !ok:
				p.addf("%s{%s}: exposed but not in All", f.name, k)
			case v != w:
				p.addf("%s{%s}: exposed %s, All says %s", f.name, k, v, w)
			}
			seen[k] = true
			// Get takes the variable labels only.
			vl := maps.Clone(l)
			for n := range f.constLabels {
				delete(vl, n)
			}
			g, ok := f.get(vl)
			switch {
			case !ok:
				p.addf("%s{%s}: exposed but Get does not find it", f.name, k)
			case g != v:
				p.addf("%s{%s}: exposed %s, Get says %s", f.name, k, v, g)
			}
		}
		for k := range want {
			if !seen[k] {
				p.addf("%s{%s}: in All but not exposed", f.name, k)
			}
		}
	}
}

// checkStructure: no duplicate series; histogram buckets ascending and
// cumulative, ending with +Inf that equals _count; summary quantiles
// ascending.
func checkStructure(p *problems, side string, got map[string]*dto.MetricFamily) {
	for name, mf := range got {
		seen := map[string]bool{}
		for _, m := range mf.GetMetric() {
			k := seriesKey(labelsOf(m))
			if seen[k] {
				p.addf("%s: %s{%s}: duplicate series", side, name, k)
			}
			seen[k] = true
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				bs := m.GetHistogram().GetBucket()
				if len(bs) == 0 || !math.IsInf(bs[len(bs)-1].GetUpperBound(), 1) {
					p.addf("%s: %s{%s}: no +Inf bucket", side, name, k)
					continue
				}
				for i := 1; i < len(bs); i++ {
					if bs[i].GetUpperBound() <= bs[i-1].GetUpperBound() {
						p.addf("%s: %s{%s}: bucket bounds not ascending at %v", side, name, k, bs[i].GetUpperBound())
					}
					if bs[i].GetCumulativeCount() < bs[i-1].GetCumulativeCount() {
						p.addf("%s: %s{%s}: buckets not cumulative at le=%v", side, name, k, bs[i].GetUpperBound())
					}
				}
				if inf, c := bs[len(bs)-1].GetCumulativeCount(), m.GetHistogram().GetSampleCount(); inf != c {
					p.addf("%s: %s{%s}: _count %d != +Inf bucket %d", side, name, k, c, inf)
				}
			case dto.MetricType_SUMMARY:
				qs := m.GetSummary().GetQuantile()
				for i := 1; i < len(qs); i++ {
					if qs[i].GetQuantile() <= qs[i-1].GetQuantile() {
						p.addf("%s: %s{%s}: quantiles not ascending", side, name, k)
					}
				}
			}
		}
	}
}

// checkRoundTrip: every odd label value arrives exactly (invalid UTF-8 as
// U+FFFD), once per family, in both counter families, and the invalid
// constant label too.
func checkRoundTrip(p *problems, side string, odd []oddValue, got map[string]*dto.MetricFamily) {
	for _, fam := range []string{"xc_requests_total", "xc_events_total"} {
		byCase := map[string][]string{}
		for _, m := range got[fam].GetMetric() {
			l := labelsOf(m)
			byCase[l["case"]] = append(byCase[l["case"]], l["value"])
		}
		for _, o := range odd {
			vs := byCase[o.name]
			if len(vs) != 1 {
				p.addf("%s: %s: case %s has %d series, want 1", side, fam, o.name, len(vs))
				continue
			}
			if want := repaired(o.value); vs[0] != want {
				p.addf("%s: %s: case %s: value label %q, want %q", side, fam, o.name, vs[0], want)
			}
		}
	}
	for _, m := range got["xc_temperature"].GetMetric() {
		if h := labelsOf(m)["host"]; h != repaired(hostLabel) {
			p.addf("%s: xc_temperature: const label host=%q, want %q", side, h, repaired(hostLabel))
		}
	}
	paths := map[string]bool{}
	for _, m := range got["xc_latency_seconds"].GetMetric() {
		paths[labelsOf(m)["path"]] = true
	}
	for _, path := range latencyPaths {
		if !paths[repaired(path)] {
			p.addf("%s: xc_latency_seconds: path %q missing", side, repaired(path))
		}
	}
}

// checkQuantiles: each summary quantile lies within its objective's rank
// error of the true quantile of the observations (1..n, so a value is its
// own rank); an empty window gives NaN. Count and sum are exact.
func checkQuantiles(p *problems, side string, got map[string]*dto.MetricFamily) {
	mf := got["xc_rpc_duration_seconds"]
	seen := map[string]bool{}
	for _, m := range mf.GetMetric() {
		method := labelsOf(m)["method"]
		obs, ok := summaryObs[method]
		if !ok {
			p.addf("%s: summary: unexpected method %q", side, method)
			continue
		}
		seen[method] = true
		s := m.GetSummary()
		var sum float64
		for _, v := range obs {
			sum += v
		}
		if s.GetSampleCount() != uint64(len(obs)) || s.GetSampleSum() != sum {
			p.addf("%s: summary %s: count %d sum %v, want %d %v", side, method, s.GetSampleCount(), s.GetSampleSum(), len(obs), sum)
		}
		if len(s.GetQuantile()) != len(promObjectives) {
			p.addf("%s: summary %s: %d quantiles, want %d", side, method, len(s.GetQuantile()), len(promObjectives))
			continue
		}
		n := float64(len(obs))
		for i, q := range s.GetQuantile() {
			o := promObjectives[i]
			v := q.GetValue()
			switch {
			case q.GetQuantile() != o.Quantile:
				p.addf("%s: summary %s: quantile %v, want %v", side, method, q.GetQuantile(), o.Quantile)
			case n == 0 && !math.IsNaN(v):
				p.addf("%s: summary %s: q%v = %v on an empty window, want NaN", side, method, o.Quantile, v)
			case n > 0 && !(v >= math.Floor((o.Quantile-o.Epsilon)*n) && v <= math.Ceil((o.Quantile+o.Epsilon)*n)):
				p.addf("%s: summary %s: q%v = %v, outside [%v, %v]", side, method, o.Quantile, v,
					math.Floor((o.Quantile-o.Epsilon)*n), math.Ceil((o.Quantile+o.Epsilon)*n))
			}
		}
	}
	for m := range summaryObs {
		if !seen[m] {
			p.addf("%s: summary: method %q missing", side, m)
		}
	}
}

// checkHistogramTruth: every histogram holds exactly the buckets, count and
// sum that its observations imply, computed here independently: an
// observation counts in every bucket whose bound is >= it, and a NaN only in
// +Inf (and makes the sum NaN), as client_golang and prom's doc say.
func checkHistogramTruth(p *problems, side string, got map[string]*dto.MetricFamily) {
	truth := []struct {
		fam    string
		bounds []float64
		obs    []float64
		series int
	}{
		{"xc_latency_seconds", latencyBuckets, latencyObs, len(latencyPaths)},
		{"xc_size_bytes", sizeBuckets, sizeObs, 1},
		{"xc_nan_seconds", prom.DefaultBuckets(), nanObs, 1},
	}
	for _, tr := range truth {
		var b strings.Builder
		bounds := append(slices.Clone(tr.bounds), math.Inf(1))
		counts := make([]uint64, len(bounds))
		var sum float64
		for _, v := range tr.obs {
			sum += v
			for i, ub := range bounds {
				if v <= ub || math.IsNaN(v) && math.IsInf(ub, 1) {
					counts[i]++
				}
			}
		}
		formatBuckets(&b, bounds, counts, uint64(len(tr.obs)), sum)
		want := b.String()
		ms := got[tr.fam].GetMetric()
		if len(ms) != tr.series {
			p.addf("%s: truth: %s has %d series, want %d", side, tr.fam, len(ms), tr.series)
		}
		for _, m := range ms {
			if g := formatMetric(dto.MetricType_HISTOGRAM, m, true); g != want {
				p.addf("%s: truth: %s{%s}: %s, want %s", side, tr.fam, seriesKey(labelsOf(m)), g, want)
			}
		}
	}
}

// checkGetOriginal: Get finds a series by the very labels it was created
// with, odd values included, for both lookup paths (values and map).
func checkGetOriginal(p *problems, fx *promFixture) {
	for i, o := range fx.odd {
		l := prom.Labels{"case": o.name, "value": o.value}
		note := ""
		if !utf8.ValidString(o.value) {
			note = " (value has invalid UTF-8)"
		}
		if v, ok := fx.requests.Get(l); !ok || v != float64(i+2) {
			p.addf("Get with the original labels: xc_requests_total %s%s: %v %v, want %v true", o.name, note, v, ok, i+2)
		}
		if v, ok := fx.events.Get(l); !ok || v != float64(i)+0.5 {
			p.addf("Get with the original labels: xc_events_total %s%s: %v %v, want %v true", o.name, note, v, ok, float64(i)+0.5)
		}
	}
}

// checkCrossLibrary: prom and client_golang expose the same families (type
// and help), the same label sets, and the same values; summary quantile
// values are left to checkQuantiles.
func checkCrossLibrary(p *problems, promFams, cgFams map[string]*dto.MetricFamily) {
	flat := func(fams map[string]*dto.MetricFamily) map[string]string {
		out := map[string]string{}
		for name, mf := range fams {
			out["# "+name] = fmt.Sprintf("type=%v help=%q", mf.GetType(), mf.GetHelp())
			for _, m := range mf.GetMetric() {
				out[name+"{"+seriesKey(labelsOf(m))+"}"] = formatMetric(mf.GetType(), m, false)
			}
		}
		return out
	}
	pf, cf := flat(promFams), flat(cgFams)
	for _, k := range slices.Sorted(maps.Keys(pf)) {
		switch c, ok := cf[k]; {
		case !ok:
			p.addf("cross: %s only in prom (%s)", k, pf[k])
		case c != pf[k]:
			p.addf("cross: %s: prom %s, client_golang %s", k, pf[k], c)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cf)) {
		if _, ok := pf[k]; !ok {
			p.addf("cross: %s only in client_golang (%s)", k, cf[k])
		}
	}
}

// verify runs every check over parsed prom and client_golang families.
func verify(fx *promFixture, promFams, cgFams map[string]*dto.MetricFamily) problems {
	var p problems
	checkFamilies(&p, "prom", fx.families, promFams)
	checkFamilies(&p, "client_golang", fx.families, cgFams)
	checkAgainstAPI(&p, fx.families, promFams)
	checkStructure(&p, "prom", promFams)
	checkStructure(&p, "client_golang", cgFams)
	checkRoundTrip(&p, "prom", fx.odd, promFams)
	checkRoundTrip(&p, "client_golang", fx.odd, cgFams)
	checkHistogramTruth(&p, "prom", promFams)
	checkHistogramTruth(&p, "client_golang", cgFams)
	checkGetOriginal(&p, fx)
	checkQuantiles(&p, "prom", promFams)
	checkQuantiles(&p, "client_golang", cgFams)
	checkCrossLibrary(&p, promFams, cgFams)
	return p
}

// crossCheckInputs builds both registries, renders and parses them.
func crossCheckInputs(t *testing.T) (*promFixture, map[string]*dto.MetricFamily, map[string]*dto.MetricFamily) {
	t.Helper()
	fx := buildProm(t)
	body := renderProm(t, fx.reg)
	promFams, err := parseText(body)
	if err != nil {
		t.Fatalf("parsing prom's exposition: %v\n%s", err, body)
	}
	cgFams, err := parseText(renderClientGolang(t, buildClientGolang(t)))
	if err != nil {
		t.Fatalf("parsing client_golang's exposition: %v", err)
	}
	return fx, promFams, cgFams
}

// knownIssues are prom bugs this cross-check found that are still open.
// Their problems are logged instead of failing the test; once an issue no
// longer reproduces the test fails, so that its entry gets removed.
var knownIssues = []struct {
	id, note string
	match    func(problem string) bool
}{}

func TestCrossCheck(t *testing.T) {
	fx, promFams, cgFams := crossCheckInputs(t)
	hits := make([]int, len(knownIssues))
problems:
	for _, pr := range verify(fx, promFams, cgFams) {
		for i, ki := range knownIssues {
			if ki.match(pr) {
				hits[i]++
				t.Logf("known issue %s: %s", ki.id, shorten(pr))
				continue problems
			}
		}
		t.Error(shorten(pr))
	}
	for i, ki := range knownIssues {
		if hits[i] == 0 {
			t.Errorf("known issue %s no longer reproduces: remove it from knownIssues (%s)", ki.id, ki.note)
		}
	}

	// Render and Handler serve the same text as Append.
	body := renderProm(t, fx.reg)
	rendered, ctype, err := prom.Render(fx.reg, "text/plain")
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if !bytes.Equal(rendered, body) {
		t.Errorf("Render and Append differ")
	}
	if want := string(expfmt.NewFormat(expfmt.TypeTextPlain)); ctype != want {
		t.Errorf("Render content type %q, want %q", ctype, want)
	}
}

// TestCrossCheckDetectsMutations proves that the checks can fail: each
// mutation corrupts a copy of the parsed expositions in one way, and verify
// must report a new problem containing want (which names the check meant to
// catch it).
func TestCrossCheckDetectsMutations(t *testing.T) {
	fx, promFams, cgFams := crossCheckInputs(t)
	// Problems of the unmutated input (known issues, or failures that
	// TestCrossCheck reports) do not count as detections.
	baseline := map[string]bool{}
	for _, pr := range verify(fx, promFams, cgFams) {
		baseline[pr] = true
	}
	type fams = map[string]*dto.MetricFamily
	series := func(f fams, fam, label, value string) *dto.Metric {
		for _, m := range f[fam].GetMetric() {
			if labelsOf(m)[label] == value {
				return m
			}
		}
		t.Fatalf("no series %s{%s=%q}", fam, label, value)
		return nil
	}
	setLabel := func(m *dto.Metric, name, value string) {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				l.Value = proto.String(value)
				return
			}
		}
		t.Fatalf("no label %s", name)
	}
	mutations := []struct {
		name, want string
		mutate     func(p, c fams) // p: prom's families, c: client_golang's
	}{
		{"counter value off by one", "All says", func(p, _ fams) {
			m := series(p, "xc_requests_total", "case", "plain")
			m.Counter.Value = proto.Float64(m.GetCounter().GetValue() + 1)
		}},
		{"NaN gauge read as 0", "All says", func(p, _ fams) {
			series(p, "xc_temperature", "case", "nan").Gauge.Value = proto.Float64(0)
		}},
		{"0.1 gauge rounded", "All says", func(p, _ fams) {
			series(p, "xc_temperature", "case", "fractional").Gauge.Value = proto.Float64(0.1000000001)
		}},
		{"+Inf gauge read as MaxFloat64", "All says", func(p, _ fams) {
			series(p, "xc_temperature", "case", "inf").Gauge.Value = proto.Float64(math.MaxFloat64)
		}},
		{"escaped quote lost", "value label", func(p, _ fams) {
			setLabel(series(p, "xc_requests_total", "case", "quote"), "value", `say \"hi\"`)
		}},
		{"invalid UTF-8 merged into one U+FFFD", "value label", func(p, _ fams) {
			setLabel(series(p, "xc_events_total", "case", "invalid_utf8"), "value", "x\uFFFDy")
		}},
		{"long value truncated", "value label", func(p, _ fams) {
			m := series(p, "xc_requests_total", "case", "long")
			setLabel(m, "value", labelsOf(m)["value"][:4096])
		}},
		{"const label changed", "const label host", func(p, _ fams) {
			setLabel(series(p, "xc_temperature", "case", "zero"), "host", "h?st \"1\"")
		}},
		{"series duplicated", "duplicate series", func(p, _ fams) {
			mf := p["xc_events_total"]
			mf.Metric = append(mf.Metric, proto.Clone(mf.Metric[0]).(*dto.Metric))
		}},
		{"series missing", "in All but not exposed", func(p, _ fams) {
			mf := p["xc_temperature"]
			mf.Metric = mf.Metric[1:]
		}},
		{"help changed", "has help", func(p, _ fams) {
			p["xc_requests_total"].Help = proto.String(strings.ReplaceAll(requestsHelp, "\n", `\n`))
		}},
		{"type changed", "has type", func(p, _ fams) {
			p["xc_pool_workers"].Type = dto.MetricType_UNTYPED.Enum()
		}},
		{"family missing", "family xc_size_bytes missing", func(p, _ fams) { delete(p, "xc_size_bytes") }},
		{"extra family", "unexpected family", func(p, _ fams) {
			p["xc_extra"] = &dto.MetricFamily{Name: proto.String("xc_extra"), Type: dto.MetricType_GAUGE.Enum()}
		}},
		{"bucket not cumulative", "buckets not cumulative", func(p, _ fams) {
			b := p["xc_size_bytes"].Metric[0].Histogram.Bucket
			b[2].CumulativeCount = proto.Uint64(b[1].GetCumulativeCount() - 1)
		}},
		{"bucket bounds out of order", "not ascending", func(p, _ fams) {
			b := p["xc_size_bytes"].Metric[0].Histogram.Bucket
			b[0], b[1] = b[1], b[0]
		}},
		{"+Inf bucket missing", "no +Inf bucket", func(p, _ fams) {
			h := p["xc_size_bytes"].Metric[0].Histogram
			h.Bucket = h.Bucket[:len(h.Bucket)-1]
		}},
		{"_count differs from +Inf bucket", "!= +Inf bucket", func(p, _ fams) {
			h := p["xc_latency_seconds"].Metric[0].Histogram
			h.SampleCount = proto.Uint64(h.GetSampleCount() + 1)
		}},
		{"histogram sum NaN lost", "truth:", func(p, _ fams) {
			p["xc_nan_seconds"].Metric[0].Histogram.SampleSum = proto.Float64(3.2)
		}},
		{"summary quantile outside its error", "outside [", func(p, _ fams) {
			q := series(p, "xc_rpc_duration_seconds", "method", "get").Summary.Quantile[2]
			q.Value = proto.Float64(q.GetValue() - 5)
		}},
		{"summary quantiles out of order", "quantiles not ascending", func(p, _ fams) {
			qs := series(p, "xc_rpc_duration_seconds", "method", "get").Summary.Quantile
			qs[0], qs[1] = qs[1], qs[0]
		}},
		{"summary empty quantile not NaN", "on an empty window", func(p, _ fams) {
			series(p, "xc_rpc_duration_seconds", "method", "idle").Summary.Quantile[0].Value = proto.Float64(0)
		}},
		{"summary count off", "summary put: count", func(p, _ fams) {
			s := series(p, "xc_rpc_duration_seconds", "method", "put").Summary
			s.SampleCount = proto.Uint64(s.GetSampleCount() + 1)
		}},
		{"client_golang value differs", "cross:", func(_, c fams) {
			series(c, "xc_temperature", "case", "third").Gauge.Value = proto.Float64(0.3333)
		}},
		{"client_golang help differs", "cross: # xc_size_bytes", func(_, c fams) {
			c["xc_size_bytes"].Help = proto.String("Response size")
		}},
		{"client_golang label set differs", "only in", func(_, c fams) {
			setLabel(series(c, "xc_latency_seconds", "path", "/api"), "path", "/API")
		}},
	}
	clone := func(f fams) fams {
		out := make(fams, len(f))
		for k, mf := range f {
			out[k] = proto.Clone(mf).(*dto.MetricFamily)
		}
		return out
	}
	for _, mu := range mutations {
		t.Run(strings.ReplaceAll(mu.name, " ", "_"), func(t *testing.T) {
			p, c := clone(promFams), clone(cgFams)
			mu.mutate(p, c)
			var fresh []string
			for _, pr := range verify(fx, p, c) {
				if !baseline[pr] {
					fresh = append(fresh, pr)
				}
			}
			for _, pr := range fresh {
				if strings.Contains(pr, mu.want) {
					t.Logf("detected: %s", shorten(pr))
					return
				}
			}
			t.Errorf("mutation %q: no new problem mentions %q; new problems: %q", mu.name, mu.want, fresh)
		})
	}
}

// shorten keeps log lines readable when they carry the long label value.
func shorten(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
