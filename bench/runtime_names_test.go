package bench

// TestRuntimeNames checks that prom's collectors package exposes the Go
// runtime, process and build-info metrics under the same names, types and
// label names as client_golang's default collectors, so that dashboards
// and alerts written for client_golang programs keep working. Both sides
// are rendered in the text format and parsed by the reference parser
// (prometheus/common/expfmt). Differences are allowed only where listed in
// allowedLabelDifferences.

import (
	"bytes"
	"context"
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	cgcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/promgo/prom"
	"github.com/promgo/prom/collectors"
)

// allowedLabelDifferences lists, per family, the label names prom adds to
// client_golang's. go_build_info carries goversion (the Go version that
// built the binary, a label prometheus/common/version's build_info metrics
// also use), so that the build-info collector reports the Go version on
// its own. Nothing else may differ.
var allowedLabelDifferences = map[string][]string{
	"go_build_info": {"goversion"},
}

// familySig is what must match for a family: its type and label names.
type familySig struct {
	typ    dto.MetricType
	labels []string // sorted; le and quantile left out
}

func parseFamilies(t *testing.T, body []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("expfmt cannot parse:\n%v\n%s", err, body)
	}
	return fams
}

func signatures(fams map[string]*dto.MetricFamily) map[string]familySig {
	sigs := map[string]familySig{}
	for name, mf := range fams {
		set := map[string]bool{}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				set[l.GetName()] = true
			}
		}
		sigs[name] = familySig{typ: mf.GetType(), labels: slices.Sorted(maps.Keys(set))}
	}
	return sigs
}

// clientGolangFamilies gathers client_golang's default Go, process and
// build-info collectors and renders them as text.
func clientGolangFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(
		cgcollectors.NewGoCollector(),
		cgcollectors.NewProcessCollector(cgcollectors.ProcessCollectorOpts{}),
		cgcollectors.NewBuildInfoCollector(),
	)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("client_golang Gather: %v", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			t.Fatal(err)
		}
	}
	return parseFamilies(t, buf.Bytes())
}

func promFamilies(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prom.NewRegistry()
	if err := collectors.Register(reg); err != nil {
		t.Fatal(err)
	}
	body, err := reg.Append(context.Background(), nil, prom.FormatText)
	if err != nil {
		t.Fatalf("prom: %v", err)
	}
	return parseFamilies(t, body)
}

func TestRuntimeNames(t *testing.T) {
	cg, pr := signatures(clientGolangFamilies(t)), signatures(promFamilies(t))
	cgNames, prNames := slices.Sorted(maps.Keys(cg)), slices.Sorted(maps.Keys(pr))

	for _, n := range cgNames {
		if _, ok := pr[n]; !ok {
			t.Errorf("client_golang exposes %s; prom does not", n)
		}
	}
	for _, n := range prNames {
		if _, ok := cg[n]; !ok {
			t.Errorf("prom exposes %s; client_golang does not", n)
		}
	}
	for _, n := range cgNames {
		p, ok := pr[n]
		if !ok {
			continue
		}
		c := cg[n]
		if p.typ != c.typ {
			t.Errorf("%s: prom's type is %v, client_golang's %v", n, p.typ, c.typ)
		}
		want := slices.Sorted(slices.Values(append(slices.Clone(c.labels), allowedLabelDifferences[n]...)))
		if !slices.Equal(p.labels, want) {
			t.Errorf("%s: prom's labels are %v, client_golang's %v (allowed additions %v)", n, p.labels, c.labels, allowedLabelDifferences[n])
		}
	}
	if runtime.GOOS == "linux" && !slices.Contains(prNames, "process_cpu_seconds_total") {
		t.Error("no process metrics on Linux")
	}
	t.Logf("%d families matched: %s", len(cgNames), strings.Join(cgNames, " "))
}

// TestRuntimeNamesValues compares the values that cannot differ between
// two collectors in one process: settings, limits and the start time.
func TestRuntimeNamesValues(t *testing.T) {
	cg, pr := clientGolangFamilies(t), promFamilies(t)
	single := func(fams map[string]*dto.MetricFamily, name string) (float64, bool) {
		mf := fams[name]
		if mf == nil || len(mf.GetMetric()) != 1 {
			return 0, false
		}
		m := mf.GetMetric()[0]
		switch {
		case m.GetGauge() != nil:
			return m.GetGauge().GetValue(), true
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue(), true
		case m.GetUntyped() != nil:
			return m.GetUntyped().GetValue(), true
		}
		return 0, false
	}
	names := []string{"go_sched_gomaxprocs_threads", "go_gc_gogc_percent", "go_gc_gomemlimit_bytes"}
	if runtime.GOOS == "linux" {
		names = append(names, "process_max_fds", "process_virtual_memory_max_bytes", "process_start_time_seconds")
	}
	for _, n := range names {
		c, okc := single(cg, n)
		p, okp := single(pr, n)
		if !okc || !okp || c != p {
			t.Errorf("%s: client_golang %v (%v), prom %v (%v)", n, c, okc, p, okp)
		}
	}
	labelsOf := func(mf *dto.MetricFamily) map[string]string {
		out := map[string]string{}
		for _, l := range mf.GetMetric()[0].GetLabel() {
			out[l.GetName()] = l.GetValue()
		}
		return out
	}
	if c, p := labelsOf(cg["go_info"]), labelsOf(pr["go_info"]); !maps.Equal(c, p) {
		t.Errorf("go_info labels: client_golang %v, prom %v", c, p)
	}
	c, p := labelsOf(cg["go_build_info"]), labelsOf(pr["go_build_info"])
	delete(p, "goversion")
	if !maps.Equal(c, p) {
		t.Errorf("go_build_info labels: client_golang %v, prom %v (goversion aside)", c, p)
	}
	if q := pr["go_gc_duration_seconds"].GetMetric()[0].GetSummary().GetQuantile(); len(q) != 5 {
		t.Errorf("go_gc_duration_seconds has %d quantiles, want 5 as client_golang", len(q))
	}
}
