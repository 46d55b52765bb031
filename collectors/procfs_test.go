package collectors

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promgo/prom"
	"github.com/promgo/prom/promtest"
)

// The fixture tree testdata/proc holds a copy of the files the process
// collector reads, with a command name full of parentheses.
const fixtureRoot = "testdata/proc"

func TestProcessCollectorFixture(t *testing.T) {
	c := newProcfsCollector(fixtureRoot, 4096)
	// cpu: (4521+1379) ticks / 100; rss: 25600 pages * 4096 bytes;
	// start: btime 1700000000 + 98765 ticks / 100; max address space
	// unlimited = 2^64-1.
	const want = `
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 59
# TYPE process_max_fds gauge
process_max_fds 1024
# TYPE process_network_receive_bytes_total counter
process_network_receive_bytes_total 123456
# TYPE process_network_transmit_bytes_total counter
process_network_transmit_bytes_total 654321
# TYPE process_open_fds gauge
process_open_fds 5
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 104857600
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1700000987.65
# TYPE process_virtual_memory_bytes gauge
process_virtual_memory_bytes 2147483648
# TYPE process_virtual_memory_max_bytes gauge
process_virtual_memory_max_bytes 18446744073709551615
`
	if err := promtest.CollectAndCompare(c, want, promtest.IgnoreHelp()); err != nil {
		t.Error(err)
	}
}

// TestProcessCollectorMissingFiles checks that a missing file leaves out
// its metrics and reports an error, while the others are still written;
// and that a missing netstat is no error.
func TestProcessCollectorMissingFiles(t *testing.T) {
	root := t.TempDir()
	copyFile(t, filepath.Join(fixtureRoot, "self/limits"), filepath.Join(root, "self/limits"))
	c := newProcfsCollector(root, 4096)
	body, err := promtest.Collect(c)
	if err == nil || !strings.Contains(err.Error(), "self/stat") || !strings.Contains(err.Error(), "self/fd") {
		t.Errorf("err = %v, want it to name self/stat and self/fd", err)
	}
	if err != nil && strings.Contains(err.Error(), "netstat") {
		t.Errorf("a missing netstat is reported: %v", err)
	}
	if err := promtest.CompareText(body, []byte("process_max_fds 1024\nprocess_virtual_memory_max_bytes 1.8446744073709552e19\n"), promtest.IgnoreMetadata()); err != nil {
		t.Error(err)
	}

	// Without /proc/stat, everything but the start time.
	root = t.TempDir()
	copyFile(t, filepath.Join(fixtureRoot, "self/stat"), filepath.Join(root, "self/stat"))
	body, err = promtest.Collect(newProcfsCollector(root, 4096))
	if err == nil || !strings.Contains(err.Error(), "stat") {
		t.Errorf("without /proc/stat: err = %v", err)
	}
	if err := promtest.CompareText(body, []byte(`
process_cpu_seconds_total 59
process_resident_memory_bytes 104857600
process_virtual_memory_bytes 2147483648
`), promtest.IgnoreMetadata()); err != nil {
		t.Errorf("without /proc/stat: %v", err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestParseStat(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureRoot, "self/stat"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := parseStat(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := (procStat{utime: 4521, stime: 1379, starttime: 98765, vsize: 2147483648, rss: 25600}); st != want {
		t.Errorf("parseStat = %+v, want %+v", st, want)
	}
	for _, bad := range []string{
		"",
		"1 (x S 1 2 3",
		"1 (x) S 1 2 3",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 abc 1 0 0 20 0 1 0 5 100 10",
		"1 (x) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 100 ten",
	} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q): no error", bad)
		}
	}
}

func TestParseLimits(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureRoot, "self/limits"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := parseLimits(data)
	if err != nil || l.openFiles != 1024 || l.addressSpace != math.MaxUint64 {
		t.Errorf("parseLimits = %+v, %v; want 1024 files and unlimited address space", l, err)
	}
	limited := strings.Replace(string(data), "Max address space         unlimited", "Max address space         4294967296", 1)
	if l, err := parseLimits([]byte(limited)); err != nil || l.addressSpace != 1<<32 {
		t.Errorf("parseLimits with a limited address space = %+v, %v", l, err)
	}
	for _, bad := range []string{
		"",
		"Max open files            1024                 4096                 files\n",
		"Max open files            many                 4096                 files\nMax address space unlimited unlimited bytes\n",
		"Max open files\nMax address space unlimited unlimited bytes\n",
	} {
		if _, err := parseLimits([]byte(bad)); err == nil {
			t.Errorf("parseLimits(%q): no error", bad)
		}
	}
}

func TestParseBootTime(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureRoot, "stat"))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := parseBootTime(data); err != nil || b != 1700000000 {
		t.Errorf("parseBootTime = %d, %v; want 1700000000", b, err)
	}
	for _, bad := range []string{"", "cpu 1 2 3\n", "btime soon\n"} {
		if _, err := parseBootTime([]byte(bad)); err == nil {
			t.Errorf("parseBootTime(%q): no error", bad)
		}
	}
}

func TestParseNetstat(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixtureRoot, "self/net/netstat"))
	if err != nil {
		t.Fatal(err)
	}
	if in, out, err := parseNetstat(data); err != nil || in != 123456 || out != 654321 {
		t.Errorf("parseNetstat = %d, %d, %v; want 123456, 654321", in, out, err)
	}
	for _, bad := range []string{
		"IpExt: InOctets OutOctets\nIpExt: 1\n",
		"IpExt: InOctets OutOctets\nIpExt: 1 x\n",
		"IpExt: InOctets\nIpExt: 1\n",
	} {
		if _, _, err := parseNetstat([]byte(bad)); err == nil {
			t.Errorf("parseNetstat(%q): no error", bad)
		}
	}
	if _, _, err := parseNetstat([]byte("TcpExt: A\nTcpExt: 1\n")); err != errNoIpExt {
		t.Errorf("parseNetstat without IpExt: err = %v, want errNoIpExt", err)
	}
}

// FuzzProcParsers feeds arbitrary text to the /proc parsers, which must
// never panic, whatever the kernel (or a fuzzer) writes.
func FuzzProcParsers(f *testing.F) {
	for _, name := range []string{"self/stat", "self/limits", "stat", "self/net/netstat"} {
		data, err := os.ReadFile(filepath.Join(fixtureRoot, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("1 (a) b) S"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseStat(data)
		_, _ = parseLimits(data)
		_, _ = parseBootTime(data)
		_, _, _ = parseNetstat(data)
	})
}

func TestProcessCollectorCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	reg := prom.NewRegistry()
	reg.MustRegister(newProcfsCollector(fixtureRoot, 4096))
	if _, err := reg.Append(ctx, nil, prom.FormatText); err == nil {
		t.Error("a cancelled scrape reported no error")
	}
}
