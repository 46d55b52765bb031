package prom

// Load (issue 8, item 5): a Service holding 100,000 series, updated
// continuously by several goroutines, scraped by 50 concurrent scrapers
// over loopback. The run lasts -load.duration (2s by default, so that make
// test stays short):
//
//	go test -run TestLoad -load.duration=20s -v .
//
// for the full run; -v shows the figures (scrapes/s, latency, heap, peak
// RSS). -load.gzip=false scrapes without gzip, and -load.cpuprofile=file
// writes the server's CPU profile.
//
// The Service runs in a child process (this test binary again, with
// PROM_LOAD_CHILD set), so that the heap it reports is the server's
// alone, not the scrapers' bodies and parses.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/promgo/prom/internal/race"
)

var (
	loadDuration = flag.Duration("load.duration", 2*time.Second, "how long TestLoad scrapes (the full run is 20s)")
	loadGzip     = flag.Bool("load.gzip", true, "whether TestLoad's scrapers ask for gzip, as Prometheus does")
	loadProfile  = flag.String("load.cpuprofile", "", "write the server's CPU profile to this file")
)

const (
	loadFamilies = 1000
	loadSeries   = 100 // per family: 100,000 series in all
	loadScrapers = 50
	loadUpdaters = 4

	loadChildEnv   = "PROM_LOAD_CHILD"      // set to the number of families in the child
	loadProfileEnv = "PROM_LOAD_CPUPROFILE" // the child's -load.cpuprofile
	loadURLLine    = "PROM_LOAD_URL="
	loadStatLine   = "PROM_LOAD_STATS="
)

// loadStats is what the child reports when it stops.
type loadStats struct {
	SetupHeap uint64   // HeapInuse after setup and a GC
	PeakHeap  uint64   // largest HeapInuse sampled while scraped
	Quarters  []uint64 // largest HeapInuse in each quarter of the run
	PeakRSS   uint64   // the process's peak resident set (VmHWM), 0 where unknown
	NumGC     uint32
	Updates   uint64
	Seconds   float64
}

func TestLoad(t *testing.T) {
	if n := os.Getenv(loadChildEnv); n != "" {
		families, _ := strconv.Atoi(n)
		loadChild(t, families)
		return
	}
	if testing.Short() {
		t.Skip("load test skipped in -short mode")
	}
	duration := *loadDuration
	nFamilies := loadFamilies
	if race.Enabled {
		// The race detector makes a scrape of 100,000 series take a
		// second of CPU: 50 of them would take the better part of a
		// minute. Keep the concurrency, scale the registry down.
		nFamilies /= 10
		t.Logf("-race: %d series instead of %d", nFamilies*loadSeries, loadFamilies*loadSeries)
	}
	// Each family is a HELP line, a TYPE line and one line per series.
	wantLines := nFamilies * (loadSeries + 2)

	ctx, cancel := context.WithTimeout(context.Background(), duration+5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestLoad$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), loadChildEnv+"="+strconv.Itoa(nFamilies), loadProfileEnv+"="+*loadProfile)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	var childOut bytes.Buffer // what else the child prints, for a failure
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			l := sc.Text()
			if strings.HasPrefix(l, loadURLLine) || strings.HasPrefix(l, loadStatLine) {
				lines <- l
			} else {
				childOut.WriteString(l + "\n")
			}
		}
	}()
	childFailed := func(what string) {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("%s; the child said:\n%s%s", what, childOut.String(), stderr.String())
	}
	var u string
	select {
	case l, ok := <-lines:
		if !ok {
			childFailed("the child ended without serving")
		}
		u = strings.TrimPrefix(l, loadURLLine)
	case <-time.After(2 * time.Minute):
		childFailed("the child did not start serving within 2 minutes")
	}

	// Scrapers over keep-alive connections; the transport asks for gzip,
	// as Prometheus does, and decompresses.
	tr := &http.Transport{MaxIdleConnsPerHost: loadScrapers, MaxConnsPerHost: loadScrapers, DisableCompression: !*loadGzip}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		bodySize  int
		errs      errorSink
		failed    atomic.Int64
		parsed    atomic.Int64
		scrapeNo  atomic.Int64
	)
	stop := time.Now().Add(duration)
	start := time.Now()
	var scrapers sync.WaitGroup
	for range loadScrapers {
		scrapers.Add(1)
		go func() {
			defer scrapers.Done()
			var body bytes.Buffer
			lastTotal := -1.0
			for time.Now().Before(stop) {
				full := scrapeNo.Add(1)%10 == 0 // every 10th scrape
				t0 := time.Now()
				resp, err := client.Get(u)
				body.Reset()
				if err == nil {
					_, err = body.ReadFrom(resp.Body)
					resp.Body.Close()
				}
				d := time.Since(t0)
				b := body.Bytes()
				switch {
				case err != nil:
					failed.Add(1)
					errs.add("scrape: %v", err)
					continue
				case resp.StatusCode != http.StatusOK:
					failed.Add(1)
					errs.add("scrape: status %d: %s", resp.StatusCode, truncate(b))
					continue
				case len(b) == 0 || b[len(b)-1] != '\n':
					failed.Add(1)
					errs.add("scrape: %d bytes not ending with a newline", len(b))
					continue
				}
				if lines := bytes.Count(b, []byte{'\n'}); lines != wantLines {
					failed.Add(1)
					errs.add("scrape: %d lines, want %d", lines, wantLines)
					continue
				}
				mu.Lock()
				latencies = append(latencies, d)
				bodySize = len(b)
				mu.Unlock()
				if !full {
					// Every scrape is read line by line; one in ten is also
					// parsed in full, below (parsing all would halve what
					// the server gets of the two CPUs).
					if err := checkLines(b); err != nil {
						failed.Add(1)
						errs.add("scrape: %v", err)
					}
					continue
				}
				samples, err := parseScrape(FormatText, b)
				if err != nil {
					failed.Add(1)
					errs.add("scrape does not parse: %v", err)
					continue
				}
				total := 0.0
				whole := true
				for _, s := range samples {
					total += s.value
					whole = whole && s.value >= 0 && s.value == math.Trunc(s.value)
				}
				// The counters only go up: a later scrape by the same
				// scraper never adds up to less.
				if len(samples) != nFamilies*loadSeries || !whole || total < lastTotal {
					failed.Add(1)
					errs.add("scrape: %d samples adding up to %v (whole numbers: %v), want %d adding up to at least %v", len(samples), total, whole, nFamilies*loadSeries, lastTotal)
				}
				lastTotal = total
				parsed.Add(1)
			}
		}()
	}
	scrapers.Wait()
	elapsed := time.Since(start)
	tr.CloseIdleConnections()

	stdin.Close() // tells the child to stop and report
	var st loadStats
	select {
	case l, ok := <-lines:
		if !ok {
			childFailed("the child ended without reporting")
		}
		if err := json.Unmarshal([]byte(strings.TrimPrefix(l, loadStatLine)), &st); err != nil {
			childFailed(fmt.Sprintf("the child's report %q: %v", l, err))
		}
	case <-time.After(time.Minute):
		childFailed("the child did not report within a minute")
	}
	for range lines { // drain to EOF before Wait
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("child: %v\n%s%s", err, childOut.String(), stderr.String())
	}

	errs.report(t)
	slices.Sort(latencies)
	n := len(latencies)
	if n == 0 {
		t.Fatalf("no scrape succeeded in %v", elapsed)
	}
	pct := func(p float64) time.Duration { return latencies[min(n-1, int(float64(n)*p))] }
	t.Logf("%d series, %d scrapers, gzip %v, %v: %d scrapes (each checked line by line, %d parsed in full), %d failed, %.1f scrapes/s; latency p50 %v, p99 %v, max %v; body %d bytes; %d updates (%.0f/s)",
		nFamilies*loadSeries, loadScrapers, *loadGzip, elapsed.Round(time.Millisecond), n, parsed.Load(), failed.Load(),
		float64(n)/elapsed.Seconds(), pct(0.50).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), latencies[n-1].Round(time.Millisecond),
		bodySize, st.Updates, float64(st.Updates)/st.Seconds)
	quarters := make([]string, len(st.Quarters))
	for i, q := range st.Quarters {
		quarters[i] = fmt.Sprintf("%.1f", mib(q))
	}
	t.Logf("server heap in use: %.1f MiB after setup, peak %.1f MiB while scraped (%.1fx); peak by quarter of the run: %s MiB; %d GCs; peak RSS %.1f MiB",
		mib(st.SetupHeap), mib(st.PeakHeap), float64(st.PeakHeap)/float64(st.SetupHeap), strings.Join(quarters, ", "), st.NumGC, mib(st.PeakRSS))
	if failed.Load() > 0 {
		t.Errorf("%d scrapes failed", failed.Load())
	}

	// Memory stays bounded, by the scrapes in flight rather than by time,
	// the number of scrapes or the size of a scrape. The handler streams:
	// each scrape in flight holds an 80 KiB render buffer, up to 64 KiB of
	// body held back before the headers go, and with gzip a pooled writer
	// (about 1 MiB of state); the garbage collector lets the heap grow past
	// what is live. Measured at under 1 MiB per scraper on the full run (2
	// CPUs); rendering each body whole, as the handler did before it
	// streamed, took 6 to 9 MiB per scraper, over this bound.
	perScrape := uint64(3 << 20)
	bound := st.SetupHeap + uint64(loadScrapers)*perScrape
	if st.PeakHeap > bound {
		t.Errorf("the server's heap in use peaked at %.1f MiB, over the bound of %.1f MiB (setup %.1f MiB + %d scrapers x %.1f MiB)",
			mib(st.PeakHeap), mib(bound), mib(st.SetupHeap), loadScrapers, mib(perScrape))
	}
	// No growth with time: once every scraper is going (after the first
	// quarter of a long run), the later peaks stay within the second
	// quarter's, with room for the collector's rhythm. A short run is all
	// ramp-up.
	if q := st.Quarters; duration >= 10*time.Second && len(q) == 4 && max(q[2], q[3]) > q[1]*3/2+(16<<20) {
		t.Errorf("the server's heap grew during the run: %s MiB by quarter", strings.Join(quarters, ", "))
	}
}

// loadChild is the server side of TestLoad: it serves 100 series in each
// of families counter families, updates them until its stdin closes, and
// reports its memory on stdout.
func loadChild(t *testing.T, families int) {
	reg := NewRegistry()
	var fams []*Counter
	var series []*CounterSeries
	for f := range families {
		c := Must(NewCounter(fmt.Sprintf("load_f%04d_total", f), "A counter of the load test.", WithRegistry(reg), WithLabelNames("series")))
		fams = append(fams, c)
		for s := range loadSeries {
			series = append(series, c.WithValues("s"+strconv.Itoa(s)))
		}
	}
	s := &Service{Registry: reg, Addr: "127.0.0.1:0", ErrorLog: discardLogger()}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Stop(context.Background())
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := loadStats{SetupHeap: ms.HeapInuse}
	gcBefore := ms.NumGC

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	// Updaters: whole-number increments on bound series, and now and then
	// through a label lookup.
	var updates atomic.Uint64
	for i := range loadUpdaters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			x := uint64(i)*0x9e3779b97f4a7c15 + 1
			for n := 0; ctx.Err() == nil; n++ {
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				k := int(x % uint64(len(series)))
				if n%16 == 0 {
					fams[k/loadSeries].WithValues("s" + strconv.Itoa(k%loadSeries)).Inc()
				} else {
					series[k].Inc()
				}
				if n%1024 == 1023 {
					updates.Add(1024)
					runtime.Gosched()
				}
			}
		}()
	}
	// Memory, sampled every 50ms.
	type sample struct {
		at   time.Duration
		heap uint64
	}
	var samples []sample
	start := time.Now()
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			samples = append(samples, sample{time.Since(start), ms.HeapInuse})
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	if path := os.Getenv(loadProfileEnv); path != "" {
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Printf("\n%s%s\n", loadURLLine, mustURL(t, s.MetricsURL))
	io.Copy(io.Discard, os.Stdin) // until the parent closes it
	st.Seconds = time.Since(start).Seconds()
	cancel()
	wg.Wait()

	runtime.ReadMemStats(&ms)
	st.NumGC = ms.NumGC - gcBefore
	st.Updates = updates.Load()
	st.Quarters = make([]uint64, 4)
	for _, x := range samples {
		st.PeakHeap = max(st.PeakHeap, x.heap)
		q := min(3, int(4*x.at.Seconds()/st.Seconds))
		st.Quarters[q] = max(st.Quarters[q], x.heap)
	}
	st.PeakRSS = peakRSS()
	b, _ := json.Marshal(st)
	fmt.Printf("\n%s%s\n", loadStatLine, b)
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// peakRSS returns the process's peak resident set size (VmHWM in
// /proc/self/status), or 0 where that file does not exist.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// checkLines checks every line of a text exposition quickly: a HELP or TYPE
// comment, or a sample whose value (after the last space) is a number.
func checkLines(b []byte) error {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		line := b[:i]
		b = b[i+1:]
		if len(line) == 0 {
			return fmt.Errorf("an empty line")
		}
		if line[0] == '#' {
			if !bytes.HasPrefix(line, []byte("# HELP ")) && !bytes.HasPrefix(line, []byte("# TYPE ")) {
				return fmt.Errorf("line %q: not a HELP or TYPE comment", line)
			}
			continue
		}
		sp := bytes.LastIndexByte(line, ' ')
		if sp <= 0 {
			return fmt.Errorf("line %q: no value", line)
		}
		if _, err := strconv.ParseFloat(string(line[sp+1:]), 64); err != nil {
			return fmt.Errorf("line %q: %v", line, err)
		}
	}
	return nil
}
