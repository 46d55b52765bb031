package push

import (
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/promgo/prom"
)

// gauges returns a registry holding a gauge per name=value pair.
func gauges(t *testing.T, kv ...any) *prom.Registry {
	t.Helper()
	reg := prom.NewRegistry()
	for i := 0; i < len(kv); i += 2 {
		g := prom.Must(prom.NewGauge(kv[i].(string), "Test gauge "+kv[i].(string)+".", prom.WithRegistry(reg)))
		g.Set(kv[i+1].(float64))
	}
	return reg
}

// TestGatewayAddReplaceDelete checks the three methods against the real
// Pushgateway, as its README documents them: POST replaces only the
// metrics with the names pushed, PUT the whole group, DELETE removes the
// group; groups of the same job with another grouping key stay untouched.
func TestGatewayAddReplaceDelete(t *testing.T) {
	base := startGateway(t)
	ctx := pushCtx(t)
	job := map[string]string{"job": "batch"}
	other := map[string]string{"job": "batch", "instance": "other"}

	push := func(method string, reg *prom.Registry, opts ...Option) {
		t.Helper()
		p, err := New(base, "batch", append([]Option{WithRegistry(reg)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		switch method {
		case "Add":
			err = p.Add(ctx)
		case "Replace":
			err = p.Replace(ctx)
		case "Delete":
			err = p.Delete(ctx)
		}
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
	push("Replace", gauges(t, "pg_a", 100.0), WithGrouping(prom.Labels{"instance": "other"}))
	otherWant := []string{"pg_a 100"}

	before := float64(time.Now().Unix())
	push("Replace", gauges(t, "pg_a", 1.0, "pg_b", 2.0))
	g := group(t, base, job)
	if g == nil {
		t.Fatalf("no group %v after Replace: %+v", job, groups(t, base))
	}
	equalLines(t, "after Replace", g.values(), []string{"pg_a 1", "pg_b 2"})
	if !g.LastPushSuccessful || g.pushTime(t, "push_time_seconds") < before-1 || g.pushTime(t, "push_failure_time_seconds") != 0 {
		t.Errorf("group after Replace: successful %v, push_time_seconds %v, push_failure_time_seconds %v",
			g.LastPushSuccessful, g.pushTime(t, "push_time_seconds"), g.pushTime(t, "push_failure_time_seconds"))
	}
	if f := g.Families["pg_a"]; f.Type != "GAUGE" || f.Help != "Test gauge pg_a." || !mapsEqual(f.Metrics[0].Labels, map[string]string{"job": "batch", "instance": ""}) {
		t.Errorf("pg_a as the API shows it: %+v", f)
	}
	equalLines(t, "/metrics after Replace", scrape(t, base, "pg_"), []string{
		`pg_a{instance="",job="batch"} 1`,
		`pg_a{instance="other",job="batch"} 100`,
		`pg_b{instance="",job="batch"} 2`,
	})

	push("Add", gauges(t, "pg_b", 20.0, "pg_c", 30.0))
	equalLines(t, "after Add", group(t, base, job).values(), []string{"pg_a 1", "pg_b 20", "pg_c 30"})
	equalLines(t, "/metrics after Add", scrape(t, base, "pg_"), []string{
		`pg_a{instance="",job="batch"} 1`,
		`pg_a{instance="other",job="batch"} 100`,
		`pg_b{instance="",job="batch"} 20`,
		`pg_c{instance="",job="batch"} 30`,
	})

	push("Replace", gauges(t, "pg_c", 300.0))
	equalLines(t, "after the second Replace", group(t, base, job).values(), []string{"pg_c 300"})
	equalLines(t, "/metrics after the second Replace", scrape(t, base, "pg_"), []string{
		`pg_a{instance="other",job="batch"} 100`,
		`pg_c{instance="",job="batch"} 300`,
	})

	push("Delete", nil)
	if g := group(t, base, job); g != nil {
		t.Errorf("group %v still there after Delete: %+v", job, g)
	}
	equalLines(t, "/metrics after Delete", scrape(t, base, "pg_"), []string{`pg_a{instance="other",job="batch"} 100`})
	equalLines(t, "the other group", group(t, base, other).values(), otherWant)

	push("Delete", nil) // deleting a group that is gone succeeds
}

// TestGatewayAddKeepsUnsetMetrics is the push docs' use of Add against the
// real Pushgateway: a failed run, which leaves its last-success gauge
// unset (a metric without series), pushes its duration without erasing
// the last success that an earlier run pushed; so do a labelled metric
// with no series yet and a metric after Reset. In protobuf such a family
// used to go out with no metrics, which the gateway takes for "no series"
// and deletes; the text format's HELP and TYPE lines alone did not.
func TestGatewayAddKeepsUnsetMetrics(t *testing.T) {
	base := startGateway(t)
	for _, format := range []prom.Format{prom.FormatProtobuf, prom.FormatText} {
		t.Run(format.String(), func(t *testing.T) {
			job := "keep_" + strings.ReplaceAll(format.String(), " ", "_")
			run := func(success bool) {
				t.Helper()
				reg := prom.NewRegistry()
				in := prom.WithRegistry(reg)
				prom.Must(prom.NewGauge("job_duration_seconds", "Duration.", in)).Set(map[bool]float64{true: 1.5, false: 9}[success])
				last := prom.Must(prom.NewGauge("job_last_success_timestamp_seconds", "Last success.", in))
				rows := prom.Must(prom.NewCounter("job_rows_total", "Rows.", in, prom.WithLabelNames("table")))
				tries := prom.Must(prom.NewCounter("job_tries_total", "Tries.", in))
				tries.Inc()
				if success {
					last.Set(1.7e9)
					rows.WithValues("users").Add(3)
				} else {
					tries.Reset()
				}
				p, err := New(base, job, WithRegistry(reg), WithFormat(format))
				if err != nil {
					t.Fatal(err)
				}
				if err := p.Add(pushCtx(t)); err != nil {
					t.Fatal(err)
				}
			}
			run(true)
			run(false)
			equalLines(t, "after a failed run", group(t, base, map[string]string{"job": job}).values(), []string{
				"job_duration_seconds 9",
				"job_last_success_timestamp_seconds 1.7e+09",
				"job_rows_total 3",
				"job_tries_total 1",
			})
		})
	}
}

// TestGatewayGroupingRoundTrip pushes to a grouping key whose job and
// values need every form of escaping, and reads the labels back.
func TestGatewayGroupingRoundTrip(t *testing.T) {
	base := startGateway(t)
	ctx := pushCtx(t)
	const job = "nightly/backup job"
	grouping := prom.Labels{
		"path":    "/var/tmp",
		"space":   "a b",
		"empty":   "",
		"greek":   "Προμηθεύς ✓",
		"percent": "100%",
		"plus":    "a+b",
		"dots":    "..",
		"dot":     ".",
		"query":   "?x=1#y",
		"quote":   `say "hi" \ bye`,
	}
	p, err := New(base, job, WithRegistry(gauges(t, "rt_value", 7.0)), WithGrouping(grouping))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pushing to %s", p.URL())
	if err := p.Replace(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"job": job}
	for k, v := range grouping {
		want[k] = v
	}
	g := group(t, base, want)
	if g == nil {
		t.Fatalf("no group with labels %q; the gateway has:\n%+v", want, groups(t, base))
	}
	equalLines(t, "values", g.values(), []string{"rt_value 7"})
	// The series carries the grouping labels, and the empty instance
	// label the gateway adds when the grouping key has no instance.
	series := g.Families["rt_value"].Metrics[0].Labels
	want["instance"] = ""
	if !mapsEqual(series, want) {
		t.Errorf("series labels %q, want %q", series, want)
	}

	if err := p.Add(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if gs := groups(t, base); len(gs) != 0 {
		t.Errorf("groups left after Delete: %+v", gs)
	}
}

// TestGatewayWithPath pushes with WithPath to a group's path written out
// by hand, as a caller would for a receiver with a fixed path: the real
// gateway files the push under the group the path names, and Delete to
// the same path removes it.
func TestGatewayWithPath(t *testing.T) {
	base := startGateway(t)
	ctx := pushCtx(t)
	p, err := New(base, "", WithRegistry(gauges(t, "wp_value", 3.0)), WithPath("/metrics/job/verbatim/instance/a%20b"))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Replace(ctx); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"job": "verbatim", "instance": "a b"}
	g := group(t, base, labels)
	if g == nil {
		t.Fatalf("no group %q; the gateway has:\n%+v", labels, groups(t, base))
	}
	equalLines(t, "values", g.values(), []string{"wp_value 3"})
	if err := p.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if gs := groups(t, base); len(gs) != 0 {
		t.Errorf("groups left after Delete: %+v", gs)
	}
}

// TestGatewayRejectsInconsistentPush checks that the gateway's consistency
// check, which refuses a metric whose type differs from that of the same
// name in another group (or in the gateway's own metrics), comes back as a
// *StatusError with the gateway's explanation, and that differing help
// texts are tolerated, as the Pushgateway's README says.
func TestGatewayRejectsInconsistentPush(t *testing.T) {
	base := startGateway(t)
	ctx := pushCtx(t)
	pa, err := New(base, "job_a", WithRegistry(gauges(t, "shared_metric", 1.0)))
	if err != nil {
		t.Fatal(err)
	}
	if err := pa.Replace(ctx); err != nil {
		t.Fatal(err)
	}

	counter := prom.NewRegistry()
	prom.Must(prom.NewCounter("shared_metric", "Now a counter.", prom.WithRegistry(counter))).Add(2)
	pb, err := New(base, "job_b", WithRegistry(counter))
	if err != nil {
		t.Fatal(err)
	}
	err = pb.Replace(ctx)
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("inconsistent push: err = %v, want a *StatusError", err)
	}
	t.Logf("the gateway refused the push: %v", err)
	if se.StatusCode != http.StatusBadRequest || se.Method != http.MethodPut ||
		!strings.Contains(se.Message, "pushed metrics are invalid or inconsistent with existing metrics") ||
		!strings.Contains(se.Message, "shared_metric") {
		t.Errorf("StatusError = %+v", *se)
	}
	// The refused push reached its group: it records the failure there,
	// without the metric.
	if g := group(t, base, map[string]string{"job": "job_b"}); g == nil {
		t.Errorf("no group job_b recording the failure")
	} else {
		equalLines(t, "job_b's metrics", g.values(), nil)
		if g.LastPushSuccessful || g.pushTime(t, "push_failure_time_seconds") == 0 {
			t.Errorf("job_b: last_push_successful %v, push_failure_time_seconds %v", g.LastPushSuccessful, g.pushTime(t, "push_failure_time_seconds"))
		}
	}
	equalLines(t, "/metrics", scrape(t, base, "shared_metric"), []string{`shared_metric{instance="",job="job_a"} 1`})

	// A type that clashes with the gateway's own metrics fails the same way.
	own := prom.NewRegistry()
	prom.Must(prom.NewCounter("go_goroutines", "Not a gauge.", prom.WithRegistry(own))).Inc()
	po, err := New(base, "job_o", WithRegistry(own))
	if err != nil {
		t.Fatal(err)
	}
	if err := po.Add(ctx); !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest || !strings.Contains(se.Message, "go_goroutines") {
		t.Errorf("push clashing with the gateway's own metric: err = %v", err)
	}

	// Another help text for the same name and type is accepted.
	helped := prom.NewRegistry()
	prom.Must(prom.NewGauge("shared_metric", "Another help text.", prom.WithRegistry(helped))).Set(3)
	pc, err := New(base, "job_c", WithRegistry(helped))
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.Replace(ctx); err != nil {
		t.Errorf("push with another help text: %v", err)
	}
}

// TestGatewayFormats pushes every metric type in both formats, with and
// without gzip, and compares what the gateway serves with the registry's
// own text rendering.
func TestGatewayFormats(t *testing.T) {
	base := startGateway(t)
	for _, tc := range []struct {
		name   string
		format prom.Format
		gzip   bool
	}{
		{"protobuf", prom.FormatProtobuf, false},
		{"protobuf_gzip", prom.FormatProtobuf, true},
		{"text", prom.FormatText, false},
		{"text_gzip", prom.FormatText, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := prom.NewRegistry()
			in := prom.WithRegistry(reg)
			prefix := "fmt_" + tc.name + "_"
			c := prom.Must(prom.NewCounter(prefix+"events_total", "Events.", in))
			c.With(prom.Labels{"kind": "a \"quoted\" \\ kind\nwith a newline, ünïcödé"}).Add(42)
			c.With(prom.Labels{"kind": "plain"}).Add(1e6)
			// Exemplars (with their timestamps) go out in protobuf only;
			// the gateway must accept them.
			c.With(prom.Labels{"kind": "traced"}).AddWithExemplar(2, prom.Labels{"trace_id": "abc123"})
			prom.Must(prom.NewGauge(prefix+"temperature_celsius", "Temperature.", in)).Set(-12.25)
			h := prom.Must(prom.NewHistogram(prefix+"duration_seconds", "Durations.", in, prom.WithBuckets(0.5, 1)))
			for _, v := range []float64{0.1, 0.7, 3} {
				h.Observe(v)
			}
			h.With(nil).ObserveWithExemplar(0.2, prom.Labels{"trace_id": "def456"})
			s := prom.Must(prom.NewSummary(prefix+"size_bytes", "Sizes.", in))
			for v := range 100 {
				s.Observe(float64(v))
			}
			opts := []Option{WithRegistry(reg), WithFormat(tc.format), WithGrouping(prom.Labels{"instance": "i"})}
			if tc.gzip {
				opts = append(opts, WithGzip())
			}
			p, err := New(base, "formats", opts...)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Replace(pushCtx(t)); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, line := range strings.Split(string(render(t, reg, prom.FormatText)), "\n") {
				if line != "" && line[0] != '#' {
					want = append(want, normalize(t, line, `instance="i",job="formats"`))
				}
			}
			slices.Sort(want)
			var got []string
			for _, line := range scrape(t, base, prefix) {
				got = append(got, normalize(t, line, ""))
			}
			slices.Sort(got)
			equalLines(t, "the gateway's samples", got, want)
		})
	}
}

// normalize rewrites a text sample line with its labels (plus extra, which
// must sort after them) in name order and its value as a float64, so that
// two encoders' spellings compare equal.
func normalize(t *testing.T, line, extra string) string {
	t.Helper()
	sp := strings.LastIndexByte(line, ' ')
	if sp < 0 {
		t.Fatalf("bad sample line %q", line)
	}
	v, err := strconv.ParseFloat(line[sp+1:], 64)
	if err != nil {
		t.Fatalf("sample line %q: %v", line, err)
	}
	head := line[:sp]
	name, labels, _ := strings.Cut(head, "{")
	labels = strings.TrimSuffix(labels, "}")
	var pairs []string
	for labels != "" {
		// name="value" with \" and \\ escaped in the value.
		eq := strings.Index(labels, `="`)
		j := eq + 2
		for ; j < len(labels) && labels[j] != '"'; j++ {
			if labels[j] == '\\' {
				j++
			}
		}
		if eq < 0 || j >= len(labels) {
			t.Fatalf("bad labels in %q", line)
		}
		pairs = append(pairs, labels[:j+1])
		labels = strings.TrimPrefix(labels[j+1:], ",")
	}
	if extra != "" {
		pairs = append(pairs, strings.Split(extra, ",")...)
	}
	slices.Sort(pairs)
	if math.IsNaN(v) {
		return name + "{" + strings.Join(pairs, ",") + "} NaN"
	}
	return name + "{" + strings.Join(pairs, ",") + "} " + strconv.FormatFloat(v, 'g', -1, 64)
}

// TestGatewayRun runs periodic pushes against the real gateway: the final
// push leaves the last value there, and a final delete removes the group.
func TestGatewayRun(t *testing.T) {
	base := startGateway(t)
	for _, final := range []Final{FinalPush, FinalDelete} {
		ctx, cancel := context.WithCancel(context.Background())
		reg := prom.NewRegistry()
		n := 0.0
		prom.Must(prom.NewGaugeFunc("run_collections", "Collections so far.", func() float64 {
			if n++; n == 3 {
				cancel() // the third push may be cut short; the final one goes through
			}
			return n
		}, prom.WithRegistry(reg)))
		p, err := New(base, "runner", WithRegistry(reg))
		if err != nil {
			t.Fatal(err)
		}
		err = p.Run(ctx, 10*time.Millisecond, RunOptions{Final: final, OnError: func(err error) { t.Errorf("OnError(%v)", err) }})
		cancel()
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		g := group(t, base, map[string]string{"job": "runner"})
		switch final {
		case FinalPush:
			if g == nil {
				t.Fatal("no group after Run with FinalPush")
			}
			equalLines(t, "after Run with FinalPush", g.values(), []string{"run_collections 4"})
		case FinalDelete:
			if g != nil {
				t.Errorf("group left after Run with FinalDelete: %+v", g.values())
			}
		}
	}
}
