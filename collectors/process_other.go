//go:build !linux

package collectors

import (
	"context"

	"github.com/promgo/prom"
)

// NewProcessCollector returns a collector of the running process's
// metrics, under the names client_golang's process collector uses:
// process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_virtual_memory_max_bytes,
// process_open_fds, process_max_fds, process_start_time_seconds,
// process_network_receive_bytes_total and
// process_network_transmit_bytes_total.
//
// They are read from /proc on Linux. On this system the collector is a
// no-op: it describes and writes nothing and reports no error, so a
// program can register it everywhere.
func NewProcessCollector() prom.Collector {
	return noProcess{}
}

// noProcess is the process collector where there is no /proc to read.
type noProcess struct{}

func (noProcess) Describe() []string                                { return nil }
func (noProcess) Collect(context.Context, *prom.MetricWriter) error { return nil }
