package collectors

import (
	"context"
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/promgo/prom"
	"github.com/promgo/prom/internal/testbin"
	"github.com/promgo/prom/promtest"
)

// goNames are the families of the Go collector: client_golang's default
// Go collector's names (bench/runtime_names_test.go checks them against
// client_golang itself).
var goNames = []string{
	"go_gc_duration_seconds",
	"go_gc_gogc_percent",
	"go_gc_gomemlimit_bytes",
	"go_goroutines",
	"go_info",
	"go_memstats_alloc_bytes",
	"go_memstats_alloc_bytes_total",
	"go_memstats_buck_hash_sys_bytes",
	"go_memstats_frees_total",
	"go_memstats_gc_sys_bytes",
	"go_memstats_heap_alloc_bytes",
	"go_memstats_heap_idle_bytes",
	"go_memstats_heap_inuse_bytes",
	"go_memstats_heap_objects",
	"go_memstats_heap_released_bytes",
	"go_memstats_heap_sys_bytes",
	"go_memstats_last_gc_time_seconds",
	"go_memstats_mallocs_total",
	"go_memstats_mcache_inuse_bytes",
	"go_memstats_mcache_sys_bytes",
	"go_memstats_mspan_inuse_bytes",
	"go_memstats_mspan_sys_bytes",
	"go_memstats_next_gc_bytes",
	"go_memstats_other_sys_bytes",
	"go_memstats_stack_inuse_bytes",
	"go_memstats_stack_sys_bytes",
	"go_memstats_sys_bytes",
	"go_sched_gomaxprocs_threads",
	"go_threads",
}

// families parses a registry's exposition into its families by name.
func families(t *testing.T, reg *prom.Registry) map[string]*promtest.Family {
	t.Helper()
	body, err := promtest.Gather(reg)
	if err != nil {
		t.Fatalf("gathering: %v\n%s", err, body)
	}
	fams, err := promtest.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]*promtest.Family{}
	for _, f := range fams {
		m[f.Name] = f
	}
	return m
}

func value(t *testing.T, reg *prom.Registry, name string, labels prom.Labels) float64 {
	t.Helper()
	v, err := promtest.GatherValue(reg, name, labels)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestGoCollector(t *testing.T) {
	reg := prom.NewRegistry()
	reg.MustRegister(NewGoCollector())
	runtime.GC() // so that there is a pause to report

	fams := families(t, reg)
	var names []string
	for n := range fams {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, goNames) {
		t.Errorf("families:\n%v\nwant:\n%v", names, goNames)
	}
	types := map[string]string{
		"go_gc_duration_seconds":        promtest.TypeSummary,
		"go_memstats_alloc_bytes_total": promtest.TypeCounter,
		"go_memstats_mallocs_total":     promtest.TypeCounter,
		"go_memstats_frees_total":       promtest.TypeCounter,
	}
	for name, f := range fams {
		want := types[name]
		if want == "" {
			want = promtest.TypeGauge
		}
		if f.Type != want || !f.HasHelp || f.Help == "" {
			t.Errorf("%s: type %s, help %q; want type %s and a help text", name, f.Type, f.Help, want)
		}
	}

	// Plausible values.
	if v := value(t, reg, "go_goroutines", nil); v < 1 {
		t.Errorf("go_goroutines = %v", v)
	}
	if v := value(t, reg, "go_threads", nil); v < 1 {
		t.Errorf("go_threads = %v", v)
	}
	if v := value(t, reg, "go_info", prom.Labels{"version": runtime.Version()}); v != 1 {
		t.Errorf("go_info = %v", v)
	}
	if v := value(t, reg, "go_sched_gomaxprocs_threads", nil); v != float64(runtime.GOMAXPROCS(0)) {
		t.Errorf("go_sched_gomaxprocs_threads = %v, want %d", v, runtime.GOMAXPROCS(0))
	}
	gogc := debug.SetGCPercent(100)
	debug.SetGCPercent(gogc)
	if v := value(t, reg, "go_gc_gogc_percent", nil); v != float64(gogc) {
		t.Errorf("go_gc_gogc_percent = %v, want %d", v, gogc)
	}
	limit := debug.SetMemoryLimit(-1)
	if v := value(t, reg, "go_gc_gomemlimit_bytes", nil); v != float64(limit) {
		t.Errorf("go_gc_gomemlimit_bytes = %v, want %d", v, limit)
	}
	if n := value(t, reg, "go_gc_duration_seconds_count", nil); n < 1 {
		t.Errorf("go_gc_duration_seconds_count = %v after runtime.GC", n)
	}
	for _, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
		if v := value(t, reg, "go_gc_duration_seconds", prom.Labels{"quantile": q}); v < 0 || v > 10 {
			t.Errorf("go_gc_duration_seconds{quantile=%q} = %v", q, v)
		}
	}
	last := value(t, reg, "go_memstats_last_gc_time_seconds", nil)
	if now := float64(time.Now().UnixNano()) / 1e9; last > now || last < now-600 {
		t.Errorf("go_memstats_last_gc_time_seconds = %v, not within the last 10 minutes of %v", last, now)
	}
	sys := value(t, reg, "go_memstats_sys_bytes", nil)
	heapSys := value(t, reg, "go_memstats_heap_sys_bytes", nil)
	heapInuse := value(t, reg, "go_memstats_heap_inuse_bytes", nil)
	alloc := value(t, reg, "go_memstats_alloc_bytes", nil)
	if !(sys >= heapSys && heapSys >= heapInuse && heapInuse >= alloc && alloc > 0) {
		t.Errorf("sys %v >= heap_sys %v >= heap_inuse %v >= alloc %v > 0 does not hold", sys, heapSys, heapInuse, alloc)
	}
	if m, f := value(t, reg, "go_memstats_mallocs_total", nil), value(t, reg, "go_memstats_frees_total", nil); m < f || m == 0 {
		t.Errorf("mallocs %v, frees %v", m, f)
	}
	if total := value(t, reg, "go_memstats_alloc_bytes_total", nil); total < alloc {
		t.Errorf("alloc_bytes_total %v < alloc_bytes %v", total, alloc)
	}
}

// TestGoCollectorMatchesMemStats compares the derived go_memstats_* values
// with runtime.ReadMemStats after a collection, when the heap is quiet.
func TestGoCollectorMatchesMemStats(t *testing.T) {
	reg := prom.NewRegistry()
	reg.MustRegister(NewGoCollector())
	runtime.GC()
	// The runtime's figures move while the test runs (the scrape itself
	// allocates, stacks grow and shrink), so each value must lie between
	// what runtime.ReadMemStats says just before and just after the
	// scrape, give or take a little.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	body, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	fams, err := promtest.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	for name, field := range map[string]func(*runtime.MemStats) uint64{
		"go_memstats_sys_bytes":           func(m *runtime.MemStats) uint64 { return m.Sys },
		"go_memstats_heap_sys_bytes":      func(m *runtime.MemStats) uint64 { return m.HeapSys },
		"go_memstats_stack_sys_bytes":     func(m *runtime.MemStats) uint64 { return m.StackSys },
		"go_memstats_mspan_sys_bytes":     func(m *runtime.MemStats) uint64 { return m.MSpanSys },
		"go_memstats_mcache_sys_bytes":    func(m *runtime.MemStats) uint64 { return m.MCacheSys },
		"go_memstats_buck_hash_sys_bytes": func(m *runtime.MemStats) uint64 { return m.BuckHashSys },
		"go_memstats_next_gc_bytes":       func(m *runtime.MemStats) uint64 { return m.NextGC },
	} {
		got := math.NaN()
		for _, f := range fams {
			if f.Name == name {
				got = f.Samples[0].Value
			}
		}
		lo, hi := float64(min(field(&before), field(&after))), float64(max(field(&before), field(&after)))
		slack := max(0.05*hi, 64<<10)
		if !(got >= lo-slack && got <= hi+slack) {
			t.Errorf("%s = %v; runtime.MemStats says %v before the scrape and %v after", name, got, field(&before), field(&after))
		}
	}
}

func TestProcessCollectorNames(t *testing.T) {
	reg := prom.NewRegistry()
	reg.MustRegister(NewProcessCollector())
	fams := families(t, reg)
	if runtime.GOOS != "linux" {
		if len(fams) != 0 {
			t.Errorf("on %s the process collector wrote %d families, want none", runtime.GOOS, len(fams))
		}
		return
	}
	for _, name := range processNames {
		if name == procNetIn || name == procNetOut {
			continue // left out where the kernel lacks them
		}
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

func TestBuildInfoCollector(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "example.com/app", Version: "v1.2.3", Sum: "h1:abc="}}
	if err := promtest.CollectAndCompare(newBuildInfoCollector(bi, true), `
# HELP go_build_info `+buildInfoHelp+`
# TYPE go_build_info gauge
go_build_info{checksum="h1:abc=",goversion="go1.26.0",path="example.com/app",version="v1.2.3"} 1
`); err != nil {
		t.Error(err)
	}
	if err := promtest.CollectAndCompare(newBuildInfoCollector(nil, false),
		`go_build_info{checksum="unknown",goversion="unknown",path="unknown",version="unknown"} 1`,
		promtest.IgnoreMetadata()); err != nil {
		t.Error(err)
	}
	// The test binary has build information: the module's path at least.
	fams, err := promtest.CollectAndCount(NewBuildInfoCollector())
	if err != nil || fams != 1 {
		t.Errorf("CollectAndCount = %d, %v", fams, err)
	}
	live := NewBuildInfoCollector().(*buildInfoCollector)
	if live.labels["path"] == "unknown" || live.labels["goversion"] != runtime.Version() {
		t.Errorf("build info of the test binary: %v", live.labels)
	}
}

func TestRegister(t *testing.T) {
	reg := prom.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	n := 0
	for range reg.All() {
		n++
	}
	if n != 3 {
		t.Errorf("Register added %d collectors, want 3", n)
	}
	// A second Register fails and leaves the registry as it was.
	var are *prom.AlreadyRegisteredError
	if err := Register(reg); !errors.As(err, &are) {
		t.Errorf("second Register: err = %v, want an *AlreadyRegisteredError", err)
	}
	m := 0
	for range reg.All() {
		m++
	}
	if m != n {
		t.Errorf("after a failed Register the registry holds %d collectors, want %d", m, n)
	}

	// A clash with the last collector rolls back the first two.
	reg = prom.NewRegistry()
	prom.Must(prom.NewGauge("go_build_info", "Taken.", prom.WithRegistry(reg)))
	if err := Register(reg); err == nil {
		t.Fatal("Register over a taken go_build_info: no error")
	}
	if _, ok := reg.Get("go_goroutines"); ok {
		t.Error("a failed Register left the Go collector registered")
	}

	// nil means prom.Default.
	if err := Register(nil); err != nil {
		t.Fatal(err)
	}
	for c := range prom.Default.All() {
		prom.Default.Unregister(c)
	}
}

// TestPromtool has promtool parse and lint everything the three collectors
// write.
func TestPromtool(t *testing.T) {
	reg := prom.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	body, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := promtest.Lint(body); err != nil || len(problems) != 0 {
		t.Errorf("promtest.Lint: %v %v", problems, err)
	}
	testbin.CheckMetrics(t, body)
}

// TestConcurrentScrapes runs scrapes in parallel, for the race detector.
func TestConcurrentScrapes(t *testing.T) {
	reg := prom.NewRegistry()
	if err := Register(reg); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := reg.Append(context.Background(), nil, prom.FormatText); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkGoCollector(b *testing.B) {
	reg := prom.NewRegistry()
	reg.MustRegister(NewGoCollector())
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = reg.Append(context.Background(), buf[:0], prom.FormatText)
	}
}

func BenchmarkProcessCollector(b *testing.B) {
	reg := prom.NewRegistry()
	reg.MustRegister(NewProcessCollector())
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = reg.Append(context.Background(), buf[:0], prom.FormatText)
	}
}
