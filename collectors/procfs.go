package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/promgo/prom"
)

// This file reads a Linux /proc tree. It builds on every platform, so that
// its tests run against the fixtures in testdata/ anywhere; only Linux
// points it at /proc (process_linux.go).

// userHZ is the unit of the clock-tick fields of /proc/<pid>/stat: the
// kernel reports them in USER_HZ, which is 100 on every Linux platform.
const userHZ = 100

// The process metrics, named as client_golang's process collector names
// them.
const (
	procCPU        = "process_cpu_seconds_total"
	procRSS        = "process_resident_memory_bytes"
	procVSize      = "process_virtual_memory_bytes"
	procMaxVSize   = "process_virtual_memory_max_bytes"
	procOpenFDs    = "process_open_fds"
	procMaxFDs     = "process_max_fds"
	procStartTime  = "process_start_time_seconds"
	procNetIn      = "process_network_receive_bytes_total"
	procNetOut     = "process_network_transmit_bytes_total"
	procCPUHelp    = "Total user and system CPU time spent, in seconds."
	procRSSHelp    = "Resident memory size, in bytes."
	procVSizeHelp  = "Virtual memory size, in bytes."
	procMaxVHelp   = "Maximum amount of virtual memory available, in bytes (the soft RLIMIT_AS; 2^64-1 when unlimited)."
	procOpenHelp   = "Number of open file descriptors."
	procMaxFDsHelp = "Maximum number of open file descriptors (the soft RLIMIT_NOFILE)."
	procStartHelp  = "Start time of the process, in seconds since the Unix epoch."
	procNetInHelp  = "Bytes received over the network, as the process's network namespace counts them (IpExt InOctets)."
	procNetOutHelp = "Bytes sent over the network, as the process's network namespace counts them (IpExt OutOctets)."
)

// processNames lists the metrics of the process collector, for Describe.
var processNames = []string{procCPU, procOpenFDs, procMaxFDs, procVSize, procMaxVSize, procRSS, procStartTime, procNetIn, procNetOut}

// unlimited is how /proc/<pid>/limits values of "unlimited" are reported:
// RLIM_INFINITY, as client_golang reports them.
const unlimited = math.MaxUint64

// procStat holds the fields of /proc/<pid>/stat the collector uses.
type procStat struct {
	utime, stime uint64 // CPU time in user and kernel mode, in clock ticks
	starttime    uint64 // start time after boot, in clock ticks
	vsize        uint64 // virtual memory size, in bytes
	rss          int64  // resident set size, in pages
}

// parseStat parses /proc/<pid>/stat. The second field, the command name
// in parentheses, may hold spaces and parentheses itself, so the fields
// are counted from the last ')'.
func parseStat(data []byte) (procStat, error) {
	var st procStat
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return st, errors.New("no command name in parentheses")
	}
	// fields[0] is field 3 of proc(5), the state.
	fields := bytes.Fields(data[end+1:])
	const (
		utime     = 14 - 3
		stime     = 15 - 3
		starttime = 22 - 3
		vsize     = 23 - 3
		rss       = 24 - 3
	)
	if len(fields) <= rss {
		return st, fmt.Errorf("%d fields after the command name, want at least %d", len(fields), rss+1)
	}
	var err error
	num := func(i int) uint64 {
		v, e := strconv.ParseUint(string(fields[i]), 10, 64)
		if e != nil && err == nil {
			err = fmt.Errorf("field %d: %w", i+3, e)
		}
		return v
	}
	st.utime, st.stime, st.starttime, st.vsize = num(utime), num(stime), num(starttime), num(vsize)
	var e error
	if st.rss, e = strconv.ParseInt(string(fields[rss]), 10, 64); e != nil && err == nil {
		err = fmt.Errorf("field %d: %w", rss+3, e)
	}
	return st, err
}

// procLimits holds the soft limits of /proc/<pid>/limits the collector
// uses.
type procLimits struct {
	openFiles, addressSpace uint64
}

// parseLimits parses /proc/<pid>/limits: a header, then one line per limit
// with its name, soft limit, hard limit and unit. Names hold spaces, so the
// lines are matched by their prefix.
func parseLimits(data []byte) (procLimits, error) {
	var l procLimits
	var found int
	for line := range bytes.Lines(data) {
		var dst *uint64
		var rest []byte
		if r, ok := bytes.CutPrefix(line, []byte("Max open files ")); ok {
			dst, rest = &l.openFiles, r
		} else if r, ok := bytes.CutPrefix(line, []byte("Max address space ")); ok {
			dst, rest = &l.addressSpace, r
		} else {
			continue
		}
		fields := bytes.Fields(rest)
		if len(fields) == 0 {
			return l, fmt.Errorf("no soft limit in %q", bytes.TrimSpace(line))
		}
		if string(fields[0]) == "unlimited" {
			*dst = unlimited
		} else {
			v, err := strconv.ParseUint(string(fields[0]), 10, 64)
			if err != nil {
				return l, fmt.Errorf("soft limit in %q: %w", bytes.TrimSpace(line), err)
			}
			*dst = v
		}
		found++
	}
	if found != 2 {
		return l, errors.New(`"Max open files" or "Max address space" missing`)
	}
	return l, nil
}

// parseBootTime returns the boot time, in seconds since the Unix epoch,
// from /proc/stat's btime line.
func parseBootTime(data []byte) (uint64, error) {
	for line := range bytes.Lines(data) {
		if rest, ok := bytes.CutPrefix(line, []byte("btime ")); ok {
			return strconv.ParseUint(string(bytes.TrimSpace(rest)), 10, 64)
		}
	}
	return 0, errors.New("no btime line")
}

// parseNetstat returns the network namespace's IP byte counts from
// /proc/<pid>/net/netstat, where each protocol has a line of field names
// followed by a line of values.
func parseNetstat(data []byte) (in, out uint64, err error) {
	var header [][]byte
	for line := range bytes.Lines(data) {
		rest, ok := bytes.CutPrefix(line, []byte("IpExt:"))
		if !ok {
			continue
		}
		if header == nil {
			header = bytes.Fields(rest)
			continue
		}
		values := bytes.Fields(rest)
		if len(values) != len(header) {
			return 0, 0, fmt.Errorf("IpExt has %d names and %d values", len(header), len(values))
		}
		found := 0
		for i, name := range header {
			var dst *uint64
			switch string(name) {
			case "InOctets":
				dst = &in
			case "OutOctets":
				dst = &out
			default:
				continue
			}
			if *dst, err = strconv.ParseUint(string(values[i]), 10, 64); err != nil {
				return 0, 0, fmt.Errorf("IpExt %s: %w", name, err)
			}
			found++
		}
		if found != 2 {
			return 0, 0, errors.New("IpExt lacks InOctets or OutOctets")
		}
		return in, out, nil
	}
	return 0, 0, errNoIpExt
}

// errNoIpExt reports a netstat file without IP extended statistics.
var errNoIpExt = errors.New("no IpExt lines")

// countDir returns the number of entries in a directory, reading their
// names in batches; self says path is this process's own /proc/self/fd.
func countDir(path string, self bool) (int, error) {
	d, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	// Listing this process's own fd directory takes a descriptor, which
	// is in the list but not one of the process's.
	own := ""
	if self {
		own = strconv.FormatUint(uint64(d.Fd()), 10)
	}
	n := 0
	for {
		names, err := d.Readdirnames(512)
		n += len(names)
		if own != "" && slices.Contains(names, own) {
			n--
			own = ""
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// processCollector collects the metrics of the process that root/self
// names, from a /proc tree at root.
type processCollector struct {
	root     string
	pageSize int

	boot atomic.Uint64 // the boot time, read once it is known; 0 before
}

// bootTime returns the system's boot time from root/stat, reading it on
// the first call that succeeds: it does not change while the system runs.
func (c *processCollector) bootTime() (uint64, error) {
	if b := c.boot.Load(); b != 0 {
		return b, nil
	}
	path := filepath.Join(c.root, "stat")
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	b, err := parseBootTime(data)
	if err != nil {
		return 0, fmt.Errorf("parsing %s: %w", path, err)
	}
	c.boot.Store(b)
	return b, nil
}

func newProcfsCollector(root string, pageSize int) *processCollector {
	return &processCollector{root: root, pageSize: pageSize}
}

// Describe returns the names of the process metrics.
func (c *processCollector) Describe() []string { return processNames }

// Collect reads the process's files under /proc and writes its metrics to
// w. A file that cannot be read or parsed leaves its metrics out and is
// reported in the error; the others are still written.
func (c *processCollector) Collect(ctx context.Context, w *prom.MetricWriter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var errs []error
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(c.root, name))
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		return data
	}

	if data := read("self/stat"); data != nil {
		if st, err := parseStat(data); err != nil {
			errs = append(errs, fmt.Errorf("parsing %s: %w", filepath.Join(c.root, "self/stat"), err))
		} else {
			w.Counter(procCPU, procCPUHelp, float64(st.utime+st.stime)/userHZ, nil)
			w.Gauge(procVSize, procVSizeHelp, float64(st.vsize), nil)
			w.Gauge(procRSS, procRSSHelp, float64(st.rss)*float64(c.pageSize), nil)
			if boot, err := c.bootTime(); err != nil {
				errs = append(errs, err)
			} else {
				w.Gauge(procStartTime, procStartHelp, float64(boot)+float64(st.starttime)/userHZ, nil)
			}
		}
	}

	if n, err := countDir(filepath.Join(c.root, "self/fd"), c.root == "/proc"); err != nil {
		errs = append(errs, err)
	} else {
		w.Gauge(procOpenFDs, procOpenHelp, float64(n), nil)
	}

	if data := read("self/limits"); data != nil {
		if l, err := parseLimits(data); err != nil {
			errs = append(errs, fmt.Errorf("parsing %s: %w", filepath.Join(c.root, "self/limits"), err))
		} else {
			w.Gauge(procMaxFDs, procMaxFDsHelp, float64(l.openFiles), nil)
			w.Gauge(procMaxVSize, procMaxVHelp, float64(l.addressSpace), nil)
		}
	}

	// Some sandboxes lack the network statistics: their metrics are then
	// left out without an error, as a scrape-time error each time would
	// only fill logs.
	netstat := filepath.Join(c.root, "self/net/netstat")
	if data, err := os.ReadFile(netstat); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	} else if in, out, err := parseNetstat(data); err != nil {
		if !errors.Is(err, errNoIpExt) {
			errs = append(errs, fmt.Errorf("parsing %s: %w", netstat, err))
		}
	} else {
		w.Counter(procNetIn, procNetInHelp, float64(in), nil)
		w.Counter(procNetOut, procNetOutHelp, float64(out), nil)
	}
	return errors.Join(errs...)
}
