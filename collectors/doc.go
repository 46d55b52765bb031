// Package collectors provides the standard collectors of a Go program's
// own metrics: the Go runtime, the process, and the build. Nothing is
// registered on import; one line opts in:
//
//	if err := collectors.Register(nil); err != nil { // all three, in prom.Default
//		log.Fatal(err)
//	}
//
// or, choosing collectors and registry:
//
//	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector())
//
// # Names
//
// The metrics carry the names that client_golang's collectors give them
// (go_goroutines, go_memstats_heap_inuse_bytes, go_gc_duration_seconds,
// process_cpu_seconds_total, process_resident_memory_bytes,
// go_build_info, ...), so dashboards and alerts written for client_golang
// programs work unchanged. The bench module checks that the Go and process
// collectors expose the same set of names as client_golang's defaults.
//
// One of those names clashes in OpenMetrics, in client_golang's output as
// in prom's: the gauge go_memstats_alloc_bytes and the counter
// go_memstats_alloc_bytes_total, whose OpenMetrics family name is
// go_memstats_alloc_bytes too. Prometheus ingests both series; a strict
// OpenMetrics parser (Python's prometheus_client) refuses the exposition.
// The names are kept for the dashboards that use them; serve a strict
// scraper with prom.WithoutOpenMetrics, which answers in the text format.
//
// # Go runtime
//
// [NewGoCollector] reads runtime/metrics, runtime/debug.ReadGCStats and
// the goroutine and thread counts. It does not call runtime.ReadMemStats,
// which stops the world: the go_memstats_* values are derived from
// runtime/metrics, as client_golang derives them.
//
// # Process
//
// [NewProcessCollector] reads /proc/self on Linux, parsing stat, limits,
// fd and net/netstat itself, with no dependency; elsewhere it is a no-op.
//
// # Build
//
// [NewBuildInfoCollector] exposes go_build_info, whose labels name the main
// module's path, version and checksum and the Go version that built it.
//
// # Performance considerations
//
// The collectors work at scrape time only and cost nothing between
// scrapes. Collecting and rendering the Go collector takes tens of
// microseconds; the process collector reads five small files and lists
// /proc/self/fd, some hundred microseconds, more with many open files
// (BenchmarkGoCollector, BenchmarkProcessCollector). All are safe for
// concurrent scrapes.
package collectors
