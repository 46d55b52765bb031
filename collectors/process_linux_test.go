//go:build linux

package collectors

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/promgo/prom"
)

// TestProcessCollectorLive reads the test binary's own /proc files and
// checks that the values are plausible.
func TestProcessCollectorLive(t *testing.T) {
	reg := prom.NewRegistry()
	reg.MustRegister(NewProcessCollector())

	// Keep a few more files open, so that the count has something to see.
	for range 3 {
		f, err := os.Open(filepath.Join("testdata", "proc", "stat"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
	}

	now := float64(time.Now().UnixNano()) / 1e9
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	boot, err := parseBootTime(data)
	if err != nil {
		t.Fatal(err)
	}

	if v := value(t, reg, "process_resident_memory_bytes", nil); v <= 0 {
		t.Errorf("process_resident_memory_bytes = %v, want > 0", v)
	}
	rss := value(t, reg, "process_resident_memory_bytes", nil)
	if v := value(t, reg, "process_virtual_memory_bytes", nil); v < rss {
		t.Errorf("process_virtual_memory_bytes = %v, below the resident %v", v, rss)
	}
	if v := value(t, reg, "process_virtual_memory_max_bytes", nil); v <= 0 {
		t.Errorf("process_virtual_memory_max_bytes = %v", v)
	}
	start := value(t, reg, "process_start_time_seconds", nil)
	if start > now || start < float64(boot) {
		t.Errorf("process_start_time_seconds = %v, want between the boot time %d and now %v", start, boot, now)
	}
	if now-start > 24*3600 {
		t.Errorf("process_start_time_seconds = %v: the test started more than a day ago?", start)
	}
	open := value(t, reg, "process_open_fds", nil)
	if open < 6 { // stdin, stdout, stderr and the three files above
		t.Errorf("process_open_fds = %v, want at least 6", open)
	}
	// Exactly the process's descriptors: a listing of /proc/self/fd holds
	// the one it reads the directory through too.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	if want := float64(len(entries) - 1); open != want {
		t.Errorf("process_open_fds = %v, want %v (the listing of /proc/self/fd, less its own descriptor)", open, want)
	}
	if v := value(t, reg, "process_max_fds", nil); v < open {
		t.Errorf("process_max_fds = %v, below the open %v", v, open)
	}
	cpu := value(t, reg, "process_cpu_seconds_total", nil)
	if cpu < 0 {
		t.Errorf("process_cpu_seconds_total = %v", cpu)
	}
	// Burn some CPU: the counter must not go down, and should go up.
	deadline := time.Now().Add(50 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	if v := value(t, reg, "process_cpu_seconds_total", nil); v < cpu {
		t.Errorf("process_cpu_seconds_total went down: %v, then %v", cpu, v)
	}
}
