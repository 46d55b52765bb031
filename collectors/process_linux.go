//go:build linux

package collectors

import (
	"os"

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
// On Linux it reads /proc/self/stat, /proc/self/limits, /proc/self/fd,
// /proc/self/net/netstat and the boot time in /proc/stat at each scrape,
// with no dependency; a file that cannot be read leaves its metrics out
// and is reported as the collector's error. The network metrics count the
// process's network namespace, as client_golang's do, and are left out
// quietly where the kernel does not offer them. On other systems the
// collector is a no-op: it writes nothing and reports no error. It is safe
// for concurrent use.
func NewProcessCollector() prom.Collector {
	return newProcfsCollector("/proc", os.Getpagesize())
}
