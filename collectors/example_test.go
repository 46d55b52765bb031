package collectors_test

import (
	"fmt"
	"log"
	"runtime"

	"github.com/promgo/prom"
	"github.com/promgo/prom/collectors"
	"github.com/promgo/prom/promtest"
)

// Register adds the Go runtime, process and build-info collectors to a
// registry in one line.
func ExampleRegister() {
	reg := prom.NewRegistry()
	if err := collectors.Register(reg); err != nil {
		log.Fatal(err)
	}
	n, _ := promtest.GatherAndCount(reg, "go_goroutines", "go_memstats_heap_inuse_bytes", "go_build_info")
	fmt.Println(n, "series")
	// Output: 3 series
}

// NewGoCollector exposes the runtime's metrics under client_golang's
// names.
func ExampleNewGoCollector() {
	reg := prom.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector())

	info, _ := promtest.GatherValue(reg, "go_info", prom.Labels{"version": runtime.Version()})
	procs, _ := promtest.GatherValue(reg, "go_sched_gomaxprocs_threads", nil)
	fmt.Println(info, procs == float64(runtime.GOMAXPROCS(0)))
	// Output: 1 true
}
