package collectors

import (
	"context"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/promgo/prom"
)

// The runtime/metrics samples the Go collector reads, by index into its
// sample buffer.
const (
	rmHeapTinyAllocs = iota
	rmHeapAllocsObjects
	rmHeapFreesObjects
	rmHeapAllocsBytes
	rmHeapObjects
	rmHeapGoal
	rmTotal
	rmHeapObjectsBytes
	rmHeapUnused
	rmHeapReleased
	rmHeapFree
	rmHeapStacks
	rmOSStacks
	rmMSpanInuse
	rmMSpanFree
	rmMCacheInuse
	rmMCacheFree
	rmProfilingBuckets
	rmMetadataOther
	rmOther
	rmGOGC
	rmGOMEMLIMIT
	rmGOMAXPROCS
	rmCount
)

var runtimeMetricNames = [rmCount]string{
	rmHeapTinyAllocs:    "/gc/heap/tiny/allocs:objects",
	rmHeapAllocsObjects: "/gc/heap/allocs:objects",
	rmHeapFreesObjects:  "/gc/heap/frees:objects",
	rmHeapAllocsBytes:   "/gc/heap/allocs:bytes",
	rmHeapObjects:       "/gc/heap/objects:objects",
	rmHeapGoal:          "/gc/heap/goal:bytes",
	rmTotal:             "/memory/classes/total:bytes",
	rmHeapObjectsBytes:  "/memory/classes/heap/objects:bytes",
	rmHeapUnused:        "/memory/classes/heap/unused:bytes",
	rmHeapReleased:      "/memory/classes/heap/released:bytes",
	rmHeapFree:          "/memory/classes/heap/free:bytes",
	rmHeapStacks:        "/memory/classes/heap/stacks:bytes",
	rmOSStacks:          "/memory/classes/os-stacks:bytes",
	rmMSpanInuse:        "/memory/classes/metadata/mspan/inuse:bytes",
	rmMSpanFree:         "/memory/classes/metadata/mspan/free:bytes",
	rmMCacheInuse:       "/memory/classes/metadata/mcache/inuse:bytes",
	rmMCacheFree:        "/memory/classes/metadata/mcache/free:bytes",
	rmProfilingBuckets:  "/memory/classes/profiling/buckets:bytes",
	rmMetadataOther:     "/memory/classes/metadata/other:bytes",
	rmOther:             "/memory/classes/other:bytes",
	rmGOGC:              "/gc/gogc:percent",
	rmGOMEMLIMIT:        "/gc/gomemlimit:bytes",
	rmGOMAXPROCS:        "/sched/gomaxprocs:threads",
}

// runtimeMetric is one metric computed from runtime/metrics samples: the
// sum of the samples at the indexes in from.
type runtimeMetric struct {
	name, help string
	counter    bool
	from       []int
}

// runtimeMetrics are the go_memstats_* metrics that client_golang's Go
// collector derives from runtime/metrics (the values runtime.MemStats
// would hold, read without stopping the world), and the runtime settings
// it exposes by default.
var runtimeMetrics = []runtimeMetric{
	{"go_memstats_alloc_bytes", "Bytes of allocated heap objects, as runtime.MemStats.Alloc (/memory/classes/heap/objects:bytes).", false,
		[]int{rmHeapObjectsBytes}},
	{"go_memstats_alloc_bytes_total", "Bytes allocated for heap objects since the program started, freed or not (/gc/heap/allocs:bytes).", true,
		[]int{rmHeapAllocsBytes}},
	{"go_memstats_sys_bytes", "Bytes of memory obtained from the OS (/memory/classes/total:bytes).", false,
		[]int{rmTotal}},
	{"go_memstats_mallocs_total", "Heap objects allocated since the program started, as runtime.MemStats.Mallocs (/gc/heap/allocs:objects + /gc/heap/tiny/allocs:objects).", true,
		[]int{rmHeapAllocsObjects, rmHeapTinyAllocs}},
	{"go_memstats_frees_total", "Heap objects freed since the program started, as runtime.MemStats.Frees (/gc/heap/frees:objects + /gc/heap/tiny/allocs:objects).", true,
		[]int{rmHeapFreesObjects, rmHeapTinyAllocs}},
	{"go_memstats_heap_alloc_bytes", "Bytes of allocated heap objects, as go_memstats_alloc_bytes (/memory/classes/heap/objects:bytes).", false,
		[]int{rmHeapObjectsBytes}},
	{"go_memstats_heap_sys_bytes", "Bytes of heap memory obtained from the OS (/memory/classes/heap/{objects,unused,released,free}:bytes).", false,
		[]int{rmHeapObjectsBytes, rmHeapUnused, rmHeapReleased, rmHeapFree}},
	{"go_memstats_heap_idle_bytes", "Bytes in idle heap spans, released to the OS or not (/memory/classes/heap/{released,free}:bytes).", false,
		[]int{rmHeapReleased, rmHeapFree}},
	{"go_memstats_heap_inuse_bytes", "Bytes in in-use heap spans (/memory/classes/heap/{objects,unused}:bytes).", false,
		[]int{rmHeapObjectsBytes, rmHeapUnused}},
	{"go_memstats_heap_released_bytes", "Bytes of physical heap memory returned to the OS (/memory/classes/heap/released:bytes).", false,
		[]int{rmHeapReleased}},
	{"go_memstats_heap_objects", "Number of allocated heap objects (/gc/heap/objects:objects).", false,
		[]int{rmHeapObjects}},
	{"go_memstats_stack_inuse_bytes", "Bytes of stack spans in use (/memory/classes/heap/stacks:bytes).", false,
		[]int{rmHeapStacks}},
	{"go_memstats_stack_sys_bytes", "Bytes of stack memory obtained from the OS (/memory/classes/heap/stacks:bytes + /memory/classes/os-stacks:bytes).", false,
		[]int{rmHeapStacks, rmOSStacks}},
	{"go_memstats_mspan_inuse_bytes", "Bytes of allocated mspan structures (/memory/classes/metadata/mspan/inuse:bytes).", false,
		[]int{rmMSpanInuse}},
	{"go_memstats_mspan_sys_bytes", "Bytes of memory obtained from the OS for mspan structures (/memory/classes/metadata/mspan/{inuse,free}:bytes).", false,
		[]int{rmMSpanInuse, rmMSpanFree}},
	{"go_memstats_mcache_inuse_bytes", "Bytes of allocated mcache structures (/memory/classes/metadata/mcache/inuse:bytes).", false,
		[]int{rmMCacheInuse}},
	{"go_memstats_mcache_sys_bytes", "Bytes of memory obtained from the OS for mcache structures (/memory/classes/metadata/mcache/{inuse,free}:bytes).", false,
		[]int{rmMCacheInuse, rmMCacheFree}},
	{"go_memstats_buck_hash_sys_bytes", "Bytes of memory in profiling bucket hash tables (/memory/classes/profiling/buckets:bytes).", false,
		[]int{rmProfilingBuckets}},
	{"go_memstats_gc_sys_bytes", "Bytes of memory in garbage collection metadata (/memory/classes/metadata/other:bytes).", false,
		[]int{rmMetadataOther}},
	{"go_memstats_other_sys_bytes", "Bytes of memory in miscellaneous off-heap runtime allocations (/memory/classes/other:bytes).", false,
		[]int{rmOther}},
	{"go_memstats_next_gc_bytes", "Heap size the next garbage collection aims for (/gc/heap/goal:bytes).", false,
		[]int{rmHeapGoal}},
	{"go_gc_gogc_percent", "Heap size target percentage, set by GOGC or debug.SetGCPercent (/gc/gogc:percent).", false,
		[]int{rmGOGC}},
	{"go_gc_gomemlimit_bytes", "Go runtime memory limit, set by GOMEMLIMIT or debug.SetMemoryLimit (/gc/gomemlimit:bytes).", false,
		[]int{rmGOMEMLIMIT}},
	{"go_sched_gomaxprocs_threads", "Current GOMAXPROCS: OS threads that can run Go code at once (/sched/gomaxprocs:threads).", false,
		[]int{rmGOMAXPROCS}},
}

// The metrics of the Go collector that do not come from runtime/metrics.
const (
	goGoroutines     = "go_goroutines"
	goThreads        = "go_threads"
	goGCDuration     = "go_gc_duration_seconds"
	goLastGC         = "go_memstats_last_gc_time_seconds"
	goInfo           = "go_info"
	gcPauseQuantileN = 5 // min, 25th, 50th, 75th percentile, max
	goroutinesHelp   = "Number of goroutines that currently exist."
	threadsHelp      = "Number of OS threads created."
	gcDurationHelp   = "Stop-the-world pauses of recent garbage collections, in seconds (runtime/debug.ReadGCStats); count and sum cover every collection."
	lastGCHelp       = "Time of the last garbage collection, in seconds since the Unix epoch; 0 before the first."
	goInfoHelp       = "Information about the Go environment: the version of the runtime."
)

// goCollector is the collector NewGoCollector returns.
type goCollector struct {
	version string

	mu      sync.Mutex // guards the buffers, reused by each scrape
	samples []metrics.Sample
	gc      debug.GCStats
}

// NewGoCollector returns a collector of the Go runtime's metrics under the
// names client_golang's Go collector gives them by default, so that
// dashboards built for it work unchanged:
//
//   - go_goroutines, go_threads, and go_info with the runtime's version;
//   - go_gc_duration_seconds, a summary of recent garbage collection
//     pauses (quantiles 0, 0.25, 0.5, 0.75 and 1), and
//     go_memstats_last_gc_time_seconds;
//   - the 21 go_memstats_* metrics that mirror runtime.MemStats, such as
//     go_memstats_alloc_bytes, go_memstats_heap_inuse_bytes and
//     go_memstats_mallocs_total;
//   - go_gc_gogc_percent, go_gc_gomemlimit_bytes and
//     go_sched_gomaxprocs_threads.
//
// The values come from runtime/metrics, runtime/debug.ReadGCStats and the
// runtime's goroutine and thread counts: a scrape never stops the world
// the way runtime.ReadMemStats does. A metric the running Go version does
// not offer is left out. The collector is safe for concurrent use; register
// it once per registry.
func NewGoCollector() prom.Collector {
	c := &goCollector{
		version: runtime.Version(),
		samples: make([]metrics.Sample, rmCount),
	}
	for i, name := range runtimeMetricNames {
		c.samples[i].Name = name
	}
	c.gc.PauseQuantiles = make([]time.Duration, gcPauseQuantileN)
	return c
}

// Describe returns the names of the collector's metrics.
func (c *goCollector) Describe() []string {
	names := []string{goGoroutines, goThreads, goGCDuration, goGCDuration + "_sum", goGCDuration + "_count", goLastGC, goInfo}
	for _, m := range runtimeMetrics {
		names = append(names, m.name)
	}
	return names
}

// Collect reads the runtime's metrics and writes them to w.
func (c *goCollector) Collect(ctx context.Context, w *prom.MetricWriter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.Gauge(goGoroutines, goroutinesHelp, float64(runtime.NumGoroutine()), nil)
	threads, _ := runtime.ThreadCreateProfile(nil)
	w.Gauge(goThreads, threadsHelp, float64(threads), nil)
	w.Gauge(goInfo, goInfoHelp, 1, prom.Labels{"version": c.version})

	c.mu.Lock()
	defer c.mu.Unlock()

	debug.ReadGCStats(&c.gc)
	q := c.gc.PauseQuantiles
	quantiles := make([]prom.Quantile, len(q))
	for i, d := range q {
		quantiles[i] = prom.Quantile{Quantile: float64(i) / float64(len(q)-1), Value: d.Seconds()}
	}
	w.Summary(goGCDuration, gcDurationHelp, prom.SummaryValue{
		Quantiles: quantiles,
		Count:     uint64(c.gc.NumGC),
		Sum:       c.gc.PauseTotal.Seconds(),
	}, nil)
	lastGC := 0.0
	if !c.gc.LastGC.IsZero() {
		lastGC = float64(c.gc.LastGC.UnixNano()) / 1e9
	}
	w.Gauge(goLastGC, lastGCHelp, lastGC, nil)

	metrics.Read(c.samples)
	for _, m := range runtimeMetrics {
		v, ok := c.sum(m.from)
		switch {
		case !ok:
		case m.counter:
			w.Counter(m.name, m.help, v, nil)
		default:
			w.Gauge(m.name, m.help, v, nil)
		}
	}
	return nil
}

// sum adds up the samples at idx; ok is false when the running Go version
// lacks one of them.
func (c *goCollector) sum(idx []int) (v float64, ok bool) {
	for _, i := range idx {
		switch s := c.samples[i].Value; s.Kind() {
		case metrics.KindUint64:
			v += float64(s.Uint64())
		case metrics.KindFloat64:
			v += s.Float64()
		default:
			return math.NaN(), false
		}
	}
	return v, true
}
