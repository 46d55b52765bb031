package prom

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"
)

// checkQuantiles fails unless every quantile of v lies within its
// objective's rank error of the sorted observations, and quantiles rise
// with q.
func checkQuantiles(t *testing.T, v SummaryValue, objectives []Objective, sorted []float64) {
	t.Helper()
	n := float64(len(sorted))
	for i, q := range v.Quantiles {
		ob := objectives[i]
		if q.Quantile != ob.Quantile {
			t.Fatalf("quantile %d is %v; want %v", i, q.Quantile, ob.Quantile)
		}
		lo := int(math.Max(0, math.Floor((ob.Quantile-ob.Epsilon)*n)-1))
		hi := int(math.Min(n-1, math.Ceil((ob.Quantile+ob.Epsilon)*n)))
		if q.Value < sorted[lo] || q.Value > sorted[hi] {
			t.Errorf("q=%v: %v outside [%v, %v] (ranks %d..%d of %d)", ob.Quantile, q.Value, sorted[lo], sorted[hi], lo, hi, len(sorted))
		}
		if i > 0 && q.Value < v.Quantiles[i-1].Value {
			t.Errorf("q=%v gives %v, below q=%v's %v", q.Quantile, q.Value, v.Quantiles[i-1].Quantile, v.Quantiles[i-1].Value)
		}
	}
}

func TestSummaryQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dists := []struct {
		name string
		gen  func(i int) float64
		n    int
	}{
		{"ascending 0..9999", func(i int) float64 { return float64(i) }, 10000},
		{"descending", func(i int) float64 { return float64(10000 - i) }, 10000},
		{"uniform", func(int) float64 { return rng.Float64() }, 50000},
		{"normal", func(int) float64 { return rng.NormFloat64()*10 + 100 }, 50000},
		{"exponential (long tail)", func(int) float64 { return rng.ExpFloat64() }, 50000},
		{"few distinct values", func(i int) float64 { return float64(i % 3) }, 10000},
		{"aioprometheus's [3, 5.2, 13, 4]", func(i int) float64 { return []float64{3, 5.2, 13, 4}[i] }, 4},
		{"range(1000, 2000, 4)", func(i int) float64 { return float64(1000 + 4*i) }, 250},
		{"one value", func(int) float64 { return 42 }, 1},
	}
	objectives := []Objective{{0.01, 0.001}, {0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}, {0.999, 0.0001}}
	for _, d := range dists {
		t.Run(d.name, func(t *testing.T) {
			s := Must(NewSummary("x", "h", WithRegistry(nil), WithObjectives(objectives...)))
			obs := make([]float64, d.n)
			var sum float64
			for i := range obs {
				obs[i] = d.gen(i)
				sum += obs[i]
				s.Observe(obs[i])
			}
			slices.Sort(obs)
			v, _ := s.Get(nil)
			if v.Count != uint64(d.n) || math.Abs(v.Sum-sum) > 1e-9*math.Abs(sum) {
				t.Errorf("count %d sum %v; want %d %v", v.Count, v.Sum, d.n, sum)
			}
			checkQuantiles(t, v, objectives, obs)
		})
	}
}

func TestSummaryDefaults(t *testing.T) {
	reg := NewRegistry()
	s := Must(NewSummary("rpc_seconds", "RPC latency.", WithRegistry(reg)))
	// Multiples of 1/1024, whose sum is exact in any order: the
	// observer's goroutine may move between Ps, whose parts sum apart.
	for i := range 1000 {
		s.Observe(float64(i) / 1024)
	}
	v, _ := s.Get(nil)
	checkQuantiles(t, v, DefaultObjectives(), func() []float64 {
		o := make([]float64, 1000)
		for i := range o {
			o[i] = float64(i) / 1024
		}
		return o
	}())
	out := text(t, reg)
	for _, want := range []string{"# TYPE rpc_seconds summary\n", `rpc_seconds{quantile="0.5"} `, `rpc_seconds{quantile="0.9"} `, `rpc_seconds{quantile="0.99"} `, "rpc_seconds_sum 487.79296875\n", "rpc_seconds_count 1000\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestSummaryEmptyAndNoObjectives(t *testing.T) {
	reg := NewRegistry()
	s := Must(NewSummary("s", "h", WithRegistry(reg)))
	s.With(nil) // created, never observed
	wantSamples(t, reg, `s{quantile="0.5"} NaN`, `s{quantile="0.9"} NaN`, `s{quantile="0.99"} NaN`, "s_sum 0", "s_count 0")
	reg2 := NewRegistry()
	c := Must(NewSummary("c", "h", WithRegistry(reg2), WithObjectives()))
	c.Observe(2)
	c.Observe(3)
	wantSamples(t, reg2, "c_sum 5", "c_count 2")
}

func TestSummaryObjectiveValidation(t *testing.T) {
	for _, tt := range []struct {
		opt  Option
		want string
	}{
		{WithObjectives(Objective{1.5, 0.01}), "quantile in [0, 1]"},
		{WithObjectives(Objective{0.5, -0.1}), "error in [0, 1)"},
		{WithObjectives(Objective{0.5, 0.1}, Objective{0.5, 0.01}), "given twice"},
		{WithMaxAge(0, 5), "positive max age"},
		{WithMaxAge(time.Minute, 0), "at least one age bucket"},
		{WithMaxAge(4*time.Nanosecond, 5), "buckets shorter than 1ms"},
		{WithMaxAge(time.Second, 1001), "buckets shorter than 1ms"},
	} {
		if _, err := NewSummary("x", "h", WithRegistry(nil), tt.opt); err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"x"`) {
			t.Errorf("error %v; want one naming x and saying %q", err, tt.want)
		}
	}
}

// TestSummaryWindow moves a fake clock through the sliding window: old
// observations leave the quantiles but not count and sum.
func TestSummaryWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	s := Must(NewSummary("w", "h", WithRegistry(nil), WithMaxAge(10*time.Second, 5)))
	s.cfg.now = func() time.Time { return now }
	ss := s.With(nil)
	// Moving the fake clock moves the batches' clock too, as its timer
	// would have in that time.
	advance := func(d time.Duration) {
		now = now.Add(d)
		summaryClock.gen.Add(1)
	}
	for range 100 {
		ss.Observe(1)
	}
	if v := ss.Value(); v.Quantiles[0].Value != 1 {
		t.Fatalf("p50 = %v; want 1", v.Quantiles[0].Value)
	}
	advance(5 * time.Second)
	for range 100 {
		ss.Observe(100)
	}
	if v := ss.Value(); v.Quantiles[2].Value != 100 || v.Quantiles[0].Value < 1 {
		t.Fatalf("mid-window: %+v", v.Quantiles)
	}
	advance(6 * time.Second) // the 1s are older than 10s now
	v := ss.Value()
	if v.Quantiles[0].Value != 100 {
		t.Fatalf("after the window: p50 = %v; want 100 (the old 1s expired)", v.Quantiles[0].Value)
	}
	if v.Count != 200 || v.Sum != 10100 {
		t.Fatalf("count %d sum %v; want 200 and 10100 for all time", v.Count, v.Sum)
	}
	advance(time.Hour)
	if v := ss.Value(); !math.IsNaN(v.Quantiles[0].Value) || v.Count != 200 {
		t.Fatalf("after an idle hour: %+v; want NaN quantiles and count 200", v)
	}
	ss.Observe(7)
	if v := ss.Value(); v.Quantiles[0].Value != 7 {
		t.Fatalf("after restart: %+v", v)
	}
}

// TestSummaryClockBack checks that a clock that goes back (a test's
// fake clock, or a wall clock stepped back) costs no observation.
func TestSummaryClockBack(t *testing.T) {
	now := time.Unix(1000, 0)
	s := Must(NewSummary("w", "h", WithRegistry(nil), WithMaxAge(10*time.Second, 5)))
	s.cfg.now = func() time.Time { return now }
	ss := s.With(nil)
	for _, step := range []time.Duration{0, 7 * time.Second, -time.Hour, time.Second, -3 * time.Second} {
		now = now.Add(step)
		summaryClock.gen.Add(1)
		ss.Observe(5)
		if v := ss.Value(); v.Quantiles[0].Value != 5 {
			t.Fatalf("after a step of %v: %+v; want the 5 just observed", step, v)
		}
	}
	if v := ss.Value(); v.Count != 5 || v.Sum != 25 {
		t.Fatalf("count %d sum %v; want 5 and 25", v.Count, v.Sum)
	}
}

// TestSummaryShardSize checks that a shard fills a 128-byte size class,
// whose objects never share a cache line with another's.
func TestSummaryShardSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) == 8 && unsafe.Sizeof(summaryShard{}) != 128 {
		t.Fatalf("summaryShard is %d bytes; want 128", unsafe.Sizeof(summaryShard{}))
	}
}

func TestSummaryConcurrent(t *testing.T) {
	reg := NewRegistry()
	s := Must(NewSummary("c", "h", WithRegistry(reg)))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 3000 {
				s.With(Labels{"w": itoa(w % 2)}).Observe(float64(i))
				if i%1000 == 0 {
					text(t, reg)
				}
			}
		}()
	}
	wg.Wait()
	var total uint64
	for _, v := range s.All() {
		total += v.Count
		checkQuantiles(t, v, DefaultObjectives(), func() []float64 {
			o := make([]float64, 0, 6000)
			for i := range 3000 {
				o = append(o, float64(i), float64(i))
			}
			slices.Sort(o)
			return o
		}())
	}
	if total != 12000 {
		t.Fatalf("count %d; want 12000", total)
	}
}

// TestSummaryConcurrentScrapes runs observers against scrapes of the same
// series: every scrape sees a count that never decreases and that covers
// every observation completed before the scrape began, and the final count
// and sum are exact.
func TestSummaryConcurrentScrapes(t *testing.T) {
	reg := NewRegistry()
	s := Must(NewSummary("c", "h", WithRegistry(reg), WithMaxAge(time.Hour, 5)))
	ss := s.With(nil)
	const workers, per = 4, 20000
	var done sync.WaitGroup
	var completed [workers]atomicCounter
	for w := range workers {
		done.Add(1)
		go func() {
			defer done.Done()
			for i := range per {
				ss.Observe(float64(i % 1000))
				completed[w].add()
			}
		}()
	}
	stop := make(chan struct{})
	scraped := make(chan error, 1)
	go func() {
		var last uint64
		for {
			var before uint64
			for w := range completed {
				before += completed[w].get()
			}
			v := ss.Value()
			if v.Count < last || v.Count < before {
				scraped <- fmt.Errorf("scrape saw count %d after %d, with %d observations completed before it", v.Count, last, before)
				return
			}
			last = v.Count
			text(t, reg)
			select {
			case <-stop:
				scraped <- nil
				return
			default:
			}
		}
	}()
	done.Wait()
	close(stop)
	if err := <-scraped; err != nil {
		t.Fatal(err)
	}
	v := ss.Value()
	var wantSum float64
	for i := range per {
		wantSum += float64(i % 1000)
	}
	if v.Count != workers*per || v.Sum != workers*wantSum {
		t.Fatalf("count %d sum %v; want %d %v", v.Count, v.Sum, workers*per, workers*wantSum)
	}
	all := make([]float64, 0, workers*per)
	for range workers {
		for i := range per {
			all = append(all, float64(i%1000))
		}
	}
	slices.Sort(all)
	checkQuantiles(t, v, DefaultObjectives(), all)
}

type atomicCounter struct{ n atomic.Uint64 }

func (c *atomicCounter) add()        { c.n.Add(1) }
func (c *atomicCounter) get() uint64 { return c.n.Load() }

// TestSummaryMergedWindowBound spreads observations over the age buckets
// in ways that make the buckets differ as much as possible (disjoint
// ranges, skewed sizes, reversed order, a spike in one bucket) and checks
// the rank bound of every objective on the merged window. Each case runs
// three ways: observed by one goroutine; and with each bucket's values
// split over the parts of four Ps, at random or by value (each P's part
// holding one quarter of the bucket's range, so that the parts differ as
// much as they can), which a read merges too.
func TestSummaryMergedWindowBound(t *testing.T) {
	const parts = 4
	spreads := []struct {
		name string
		part func(v float64, i int, sorted []float64) int // -1: observe
	}{
		{"observed", func(float64, int, []float64) int { return -1 }},
		{"over Ps at random", func(_ float64, i int, _ []float64) int { return int(uint32(i)*2654435761>>7) % parts }},
		{"over Ps by value", func(v float64, _ int, sorted []float64) int {
			r, _ := slices.BinarySearch(sorted, v)
			return r * parts / len(sorted)
		}},
	}
	objectives := []Objective{{0.01, 0.001}, {0.1, 0.01}, {0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}, {0.999, 0.0001}}
	rng := rand.New(rand.NewPCG(7, 8))
	type bucket struct {
		n   int
		gen func(i int) float64
	}
	cases := []struct {
		name    string
		buckets []bucket
	}{
		{"disjoint ascending", []bucket{
			{20000, func(i int) float64 { return rng.Float64() }},
			{20000, func(i int) float64 { return 1 + rng.Float64() }},
			{20000, func(i int) float64 { return 2 + rng.Float64() }},
			{20000, func(i int) float64 { return 3 + rng.Float64() }},
			{20000, func(i int) float64 { return 4 + rng.Float64() }},
		}},
		{"disjoint descending", []bucket{
			{20000, func(i int) float64 { return 4 + rng.Float64() }},
			{20000, func(i int) float64 { return 3 + rng.Float64() }},
			{20000, func(i int) float64 { return 2 + rng.Float64() }},
			{20000, func(i int) float64 { return 1 + rng.Float64() }},
			{20000, func(i int) float64 { return rng.Float64() }},
		}},
		{"skewed sizes", []bucket{
			{1000, func(i int) float64 { return 100 + rng.Float64() }},
			{90000, func(i int) float64 { return rng.ExpFloat64() }},
			{500, func(i int) float64 { return -rng.Float64() }},
			{30000, func(i int) float64 { return 10 + rng.NormFloat64() }},
			{3000, func(i int) float64 { return 1000 * rng.Float64() }},
		}},
		{"spike in one bucket", []bucket{
			{40000, func(i int) float64 { return rng.Float64() }},
			{40000, func(i int) float64 { return rng.Float64() }},
			{2000, func(i int) float64 { return 50 + rng.Float64() }},
			{40000, func(i int) float64 { return rng.Float64() }},
			{40000, func(i int) float64 { return rng.Float64() }},
		}},
		{"tail per bucket", []bucket{
			{10000, func(i int) float64 { return float64(i) }},
			{10000, func(i int) float64 { return float64(10000 + i) }},
			{100, func(i int) float64 { return float64(-i) }},
			{10000, func(i int) float64 { return float64(5000 + i) }},
			{100, func(i int) float64 { return float64(1e6 + i) }},
		}},
	}
	for _, c := range cases {
		for _, spread := range spreads {
			t.Run(c.name+"/"+spread.name, func(t *testing.T) {
				now := time.Unix(1000, 0)
				s := Must(NewSummary("w", "h", WithRegistry(nil), WithObjectives(objectives...), WithMaxAge(50*time.Second, 5)))
				s.cfg.now = func() time.Time { return now }
				ss := s.With(nil)
				ss.shards = make([]atomic.Pointer[summaryShard], max(parts, len(ss.shards)))
				ss.parts = make([]atomic.Pointer[summaryPart], parts)
				for p := range parts {
					ss.shards[p].Store(newSummaryShard(summaryShardMin, now, summaryClock.gen.Load(), ss.partOf(p)))
				}
				var all []float64
				for bi, b := range c.buckets {
					if bi > 0 {
						now = now.Add(10 * time.Second)
						summaryClock.gen.Add(1) // as the batches' clock would have
					}
					vs := make([]float64, b.n)
					for i := range vs {
						vs[i] = b.gen(i)
					}
					all = append(all, vs...)
					sorted := slices.Sorted(slices.Values(vs))
					split := make([][]float64, parts)
					for i, v := range vs {
						if p := spread.part(v, i, sorted); p < 0 {
							ss.Observe(v)
						} else {
							split[p] = append(split[p], v)
						}
					}
					e := ss.epoch(now)
					for p, pv := range split {
						// In shard-sized batches, as the P's observer would
						// merge them.
						for b := range slices.Chunk(pv, summaryShardMax) {
							part := ss.shards[p].Load().part
							part.mu.Lock()
							part.insert(b, e, e, &s.cfg)
							part.mu.Unlock()
						}
					}
					ss.Value() // closes the partial batch inside this bucket
				}
				slices.Sort(all)
				v := ss.Value()
				if v.Count != uint64(len(all)) {
					t.Fatalf("count %d; want %d", v.Count, len(all))
				}
				checkQuantiles(t, v, objectives, all)
				// Log the worst rank error as a fraction of each
				// objective's allowance (go test -v).
				worst := 0.0
				for i, q := range v.Quantiles {
					lo, _ := slices.BinarySearch(all, q.Value)
					hi := lo
					for hi < len(all) && all[hi] == q.Value {
						hi++
					}
					target := objectives[i].Quantile * float64(len(all))
					e := 0.0 // distance from target to the nearest rank of the value
					if target < float64(lo) {
						e = float64(lo) - target
					} else if target > float64(hi) {
						e = target - float64(hi)
					}
					worst = max(worst, e/(objectives[i].Epsilon*float64(len(all))))
				}
				t.Logf("worst rank error: %.2f of the allowed", worst)
			})
		}
	}
}

// TestSummaryShardPaths drives the paths of Observe besides the shard's
// fast path: a P beyond the shards (GOMAXPROCS grew after the series was
// made) spills under the lock, and an observer that finds its shard full
// (its filler not yet merged) merges it and writes again. Counts, sums and
// quantiles stay exact.
func TestSummaryShardPaths(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(ss *SummarySeries)
	}{
		{"no shards: every P spills", func(ss *SummarySeries) { ss.shards = nil }},
		{"full shards merged by the next observer", func(ss *SummarySeries) {
			for i := range ss.shards {
				sh := newSummaryShard(summaryShardMin, time.Now(), summaryClock.gen.Load(), ss.partOf(i))
				for j := range sh.ring {
					sh.ring[j] = 1000
				}
				sh.pos.Store(summaryShardMin)
				ss.shards[i].Store(sh)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Must(NewSummary("c", "h", WithRegistry(NewRegistry()), WithMaxAge(time.Hour, 5)))
			ss := s.With(nil)
			tc.prepare(ss)
			var preset uint64
			for i := range ss.shards {
				if sh := ss.shards[i].Load(); sh != nil {
					preset += sh.pos.Load()
				}
			}
			const n = 3 * summaryShardMax / 2
			want := make([]float64, 0, n+int(preset))
			var wantSum float64
			for i := range n {
				ss.Observe(float64(i))
				want = append(want, float64(i))
				wantSum += float64(i)
			}
			for range preset {
				want = append(want, 1000)
				wantSum += 1000
			}
			v := ss.Value()
			if v.Count != uint64(len(want)) || v.Sum != wantSum {
				t.Fatalf("count %d sum %v; want %d %v", v.Count, v.Sum, len(want), wantSum)
			}
			slices.Sort(want)
			checkQuantiles(t, v, DefaultObjectives(), want)
		})
	}
}

// TestSummaryGOMAXPROCSGrows observes from more Ps than the series has
// shards, alongside scrapes, and checks the totals.
func TestSummaryGOMAXPROCSGrows(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	reg := NewRegistry()
	ss := Must(NewSummary("c", "h", WithRegistry(reg))).With(nil)
	if len(ss.shards) != 1 {
		t.Fatalf("%d shards with GOMAXPROCS 1", len(ss.shards))
	}
	runtime.GOMAXPROCS(4)
	observeAlongsideScrapes(t, reg, ss, 8, 5000)
}

// observeAlongsideScrapes has workers goroutines observe 0, 1, ... per−1
// each into ss, scraping reg now and then, and checks the series' count
// and sum; it returns its value.
func observeAlongsideScrapes(t *testing.T, reg *Registry, ss *SummarySeries, workers, per int) SummaryValue {
	t.Helper()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range per {
				ss.Observe(float64(i))
				if i%500 == 0 {
					text(t, reg)
					runtime.Gosched()
				}
			}
		}()
	}
	wg.Wait()
	v := ss.Value()
	if want := uint64(workers * per); v.Count != want || v.Sum != float64(workers)*float64(per*(per-1)/2) {
		t.Fatalf("count %d sum %v; want %d %v", v.Count, v.Sum, want, float64(workers)*float64(per*(per-1)/2))
	}
	return v
}

// TestSummaryPartsShared observes from more Ps than a series has parts:
// Ps share parts (P p merges into part p%maxSummaryParts), and counts,
// sums and quantiles stay exact while reads run alongside.
func TestSummaryPartsShared(t *testing.T) {
	const procs = 3 * maxSummaryParts
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	reg := NewRegistry()
	ss := Must(NewSummary("c", "h", WithRegistry(reg))).With(nil)
	if len(ss.shards) != procs || len(ss.parts) != maxSummaryParts {
		t.Fatalf("%d shards and %d parts with GOMAXPROCS %d; want %d and %d", len(ss.shards), len(ss.parts), procs, procs, maxSummaryParts)
	}
	const workers, per = 2 * procs, 3000
	v := observeAlongsideScrapes(t, reg, ss, workers, per)
	for p := range ss.shards {
		if sh := ss.shards[p].Load(); sh != nil && sh.part != ss.parts[p%maxSummaryParts].Load() {
			t.Fatalf("P %d's shard merges into another part than parts[%d]", p, p%maxSummaryParts)
		}
	}
	all := make([]float64, 0, workers*per)
	for range workers {
		for i := range per {
			all = append(all, float64(i))
		}
	}
	slices.Sort(all)
	checkQuantiles(t, v, DefaultObjectives(), all)
}

// TestSummaryShardGrowth checks that a P's shard starts small and grows
// only when it fills soon after its previous merge: with a clock that
// stands still every fill is soon, with one that moves a second per
// reading none is. Values are counted across the growth.
func TestSummaryShardGrowth(t *testing.T) {
	for _, tc := range []struct {
		name string
		step time.Duration // how far the clock moves per reading
		grow bool
	}{
		{"often", 0, true},
		{"now and then", time.Second, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Must(NewSummary("c", "h", WithRegistry(NewRegistry()), WithMaxAge(time.Hour, 5)))
			var now atomic.Int64
			s.cfg.now = func() time.Time { return time.Unix(0, now.Add(int64(tc.step))) }
			ss := s.With(nil)
			const n = 20 * summaryShardMax
			for i := range n {
				ss.Observe(float64(i))
			}
			sizes := map[int]int{}
			for i := range ss.shards {
				if sh := ss.shards[i].Load(); sh != nil {
					sizes[len(sh.ring)]++
				}
			}
			if grown := sizes[summaryShardMax] > 0; grown != tc.grow || sizes[summaryShardMin]+sizes[summaryShardMax] == 0 {
				t.Errorf("shard sizes %v; want grown to %d: %v", sizes, summaryShardMax, tc.grow)
			}
			if v := ss.Value(); v.Count != n || v.Sum != float64(n)*(n-1)/2 {
				t.Errorf("count %d sum %v; want %d %v", v.Count, v.Sum, n, float64(n)*(n-1)/2)
			}
		})
	}
}

// TestSummaryWindowUnread checks the window on the real clock when nobody
// reads the summary for a while: an observation waiting in its P's shard
// is merged into the age bucket of when it was made, not of when it is
// merged, so it leaves the quantiles a window after it was made even if
// the first read comes much later, and later observations are not taken
// for old ones.
func TestSummaryWindowUnread(t *testing.T) {
	const maxAge = 200 * time.Millisecond // age buckets of 100ms: the clock ticks every 12.5ms
	for _, tc := range []struct {
		name    string
		prepare func(ss *SummarySeries)
	}{
		{"shards", func(*SummarySeries) {}},
		{"spill", func(ss *SummarySeries) { ss.shards = nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := Must(NewSummary("w", "h", WithRegistry(nil), WithMaxAge(maxAge, 2)))
			ss := s.With(nil)
			tc.prepare(ss)
			for range 10 {
				ss.Observe(1000)
			}
			time.Sleep(3 * maxAge)
			v := ss.Value()
			for _, q := range v.Quantiles {
				if !math.IsNaN(q.Value) {
					t.Fatalf("a window and more after the last observation, first read: %+v; want NaN quantiles", v.Quantiles)
				}
			}
			if v.Count != 10 || v.Sum != 10000 {
				t.Fatalf("count %d sum %v; want 10 and 10000 for all time", v.Count, v.Sum)
			}

			for range 10 {
				ss.Observe(1000)
			}
			time.Sleep(3 * maxAge)
			for range 5 {
				ss.Observe(7) // no read since the 1000s
			}
			v = ss.Value()
			for _, q := range v.Quantiles {
				if q.Value != 7 {
					t.Fatalf("old observations and new ones, unread: %+v; want only the new 7s", v.Quantiles)
				}
			}
			if v.Count != 25 {
				t.Fatalf("count %d; want 25", v.Count)
			}
		})
	}
}

// TestGenClockShortens checks that a running clock touched with a
// shorter period ticks within it: a summary with a short window, observing
// while the clock ran at a long summary's period, would otherwise file its
// observations for up to the long period under the batch they started.
func TestGenClockShortens(t *testing.T) {
	var c genClock
	c.touch(maxClockPeriod)
	defer stopClock(&c)
	g := c.gen.Load()
	start := time.Now()
	c.touch(minClockPeriod)
	for c.gen.Load() == g {
		if time.Since(start) > maxClockPeriod/2 {
			t.Fatalf("the clock touched with %v ticked not within %v of it", minClockPeriod, maxClockPeriod/2)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestGenClockLengthens checks that the clock goes back to a longer
// period once nothing touches it with the short one: a summary with short
// age buckets that no longer observes leaves no fast timer behind.
func TestGenClockLengthens(t *testing.T) {
	var c genClock
	defer stopClock(&c)
	c.touch(minClockPeriod)
	if p := time.Duration(c.period.Load()); p != minClockPeriod {
		t.Fatalf("period %v after a touch with %v", p, minClockPeriod)
	}
	// Touched with the longest period only from now on (a long summary
	// observing), it runs at that once a tick has passed.
	deadline := time.Now().Add(5 * time.Second)
	for time.Duration(c.period.Load()) != maxClockPeriod {
		if time.Now().After(deadline) {
			t.Fatalf("period %v 5s after the last touch with %v; want %v", time.Duration(c.period.Load()), minClockPeriod, maxClockPeriod)
		}
		c.touch(maxClockPeriod)
		time.Sleep(time.Millisecond)
	}
	if !c.running.Load() {
		t.Fatal("the clock stopped while touched")
	}
}

// TestSummaryShortWindowBesideLong is the case above through the public
// API, on the process's clock: a summary with a 10-minute window observes
// (which sets the batches' clock running at its period), then one with a
// 200ms window is made and observes; its quantiles hold what it observed
// within its window. Earlier tests in the binary have made the clock's
// period short already, so the test first sets it back to the longest, as
// in a process whose only summaries have long windows.
func TestSummaryShortWindowBesideLong(t *testing.T) {
	// One P, so that every observation goes through one shard's batches.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	c := &summaryClock
	c.mu.Lock()
	c.period.Store(int64(maxClockPeriod))
	c.shortest.Store(0)
	if c.running.Load() {
		c.timer.Reset(maxClockPeriod)
	}
	c.mu.Unlock()
	long := Must(NewSummary("long", "h", WithRegistry(nil), WithMaxAge(time.Hour, 5)))
	long.Observe(1)
	short := Must(NewSummary("short", "h", WithRegistry(nil), WithMaxAge(200*time.Millisecond, 2)))
	start := time.Now()
	short.Observe(100)
	time.Sleep(150 * time.Millisecond)
	short.Observe(5)
	time.Sleep(100 * time.Millisecond)
	short.Observe(5)
	v := short.With(nil).Value()
	if late := time.Since(start); late > 290*time.Millisecond {
		// The first 5 is sure to stay only 100ms (a bucket's length).
		t.Skipf("the sleeps overslept: read %v after the first observation, not about 250ms", late)
	}
	for _, q := range v.Quantiles {
		if q.Value != 5 {
			t.Fatalf("quantiles %+v; want 5s only: the 5s were made 100ms and 0ms ago, the 100 250ms ago", v.Quantiles)
		}
	}
}

// TestSummaryShortBuckets observes continuously into a summary with age
// buckets of 1ms, far shorter than the batches' clock's 10ms period, and
// reads right after: the observations of the last 2ms are in the
// quantiles (such a summary places each observation by the clock; placed
// by batches spanning ten buckets, most reads showed NaN).
//
// A value stays in the window at least 4ms, so a round whose read ended
// more than 3ms after the start of its last observation (the goroutine was
// descheduled: CI runs packages side by side under -race) proves nothing
// and is not counted; the test needs 30 rounds that read in time.
func TestSummaryShortBuckets(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	ss := Must(NewSummary("short", "h", WithRegistry(nil), WithMaxAge(5*time.Millisecond, 5))).With(nil)
	const want, maxRounds = 30, 500
	timely := 0
	for r := 0; r < maxRounds && timely < want; r++ {
		// The window keeps a value between 4ms and 5ms: the previous
		// round's have left it, this round's are in it.
		time.Sleep(6 * time.Millisecond)
		// last is read before the last Observe, which reads the clock
		// after it: a goroutine descheduled inside Observe reads it late.
		var last time.Time
		for end := time.Now().Add(2 * time.Millisecond); last.Before(end); {
			last = time.Now()
			ss.Observe(float64(r))
		}
		v := ss.Value()
		if time.Since(last) > 3*time.Millisecond {
			continue
		}
		timely++
		for _, q := range v.Quantiles {
			if q.Value != float64(r) {
				t.Fatalf("round %d: quantiles %+v right after observing %d for 2ms; want %d", r, v.Quantiles, r, r)
			}
		}
	}
	if timely < want {
		t.Skipf("only %d of %d rounds read within 3ms of their last observation: the machine is too loaded to tell", timely, maxRounds)
	}
}

// TestSummaryReadAcrossEpochs has an observer merge a value of the next
// age bucket between a read's clock reading and its merge of the parts: the
// read shows a window that ends with one bucket or the next, never neither.
func TestSummaryReadAcrossEpochs(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	now := time.Unix(1000, 0)
	s := Must(NewSummary("w", "h", WithRegistry(nil), WithMaxAge(time.Minute, 1)))
	s.cfg.now = func() time.Time { return now }
	ss := s.With(nil)
	for range 10 {
		ss.Observe(1)
	}
	hooked := false
	s.cfg.now = func() time.Time {
		t := now
		if !hooked {
			// The read has read the clock. The bucket ends, and an
			// observer merges before the read locks the part.
			hooked = true
			now = now.Add(time.Minute)
			summaryClock.gen.Add(1)
			ss.Observe(2)
		}
		return t
	}
	v := ss.Value()
	if q := v.Quantiles[0].Value; q != 1 && q != 2 || v.Count != 11 {
		t.Fatalf("read %+v; want count 11 and the median of one window: 1 (the read's) or 2 (the next)", v)
	}
}

// TestGenClock checks the batches' clock: it advances while it is
// touched, stops after a period without a touch (advancing once more as it
// stops), stays still while stopped, and starts again on the next touch.
func TestGenClock(t *testing.T) {
	var c genClock
	c.touch(time.Millisecond) // raised to minClockPeriod
	if p := time.Duration(c.period.Load()); p != minClockPeriod {
		t.Fatalf("period %v; want %v", p, minClockPeriod)
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("waited 5s for %s", what)
			}
		}
	}
	for round := range 2 {
		g := c.gen.Load()
		c.touch(minClockPeriod)
		if !c.running.Load() {
			t.Fatalf("round %d: touch left the clock stopped", round)
		}
		// Touched all along, it keeps ticking.
		for range 3 {
			before := c.gen.Load()
			waitFor("a tick", func() bool { c.touch(minClockPeriod); return c.gen.Load() != before })
		}
		waitFor("the clock to stop", func() bool { return !c.running.Load() })
		stopped := c.gen.Load()
		if stopped == g {
			t.Fatalf("round %d: generation did not move", round)
		}
		time.Sleep(5 * minClockPeriod)
		if c.gen.Load() != stopped || c.running.Load() {
			t.Fatalf("round %d: a stopped clock moved", round)
		}
	}
}

// TestSummaryExpiredStreamsReset checks that a read resets the streams
// whose epoch has left the window, so that an idle summary holds no
// observations it will never report (an exact one may hold many).
func TestSummaryExpiredStreamsReset(t *testing.T) {
	now := time.Unix(1000, 0)
	s := Must(NewSummary("w", "h", WithRegistry(nil), WithObjectives(Objective{0.5, 0}), WithMaxAge(10*time.Second, 5)))
	s.cfg.now = func() time.Time { return now }
	ss := s.With(nil)
	held := func() (n uint64) {
		for i := range ss.parts {
			if p := ss.parts[i].Load(); p != nil {
				p.mu.Lock()
				for _, b := range p.buckets {
					if b.st != nil {
						n += b.st.Count()
					}
				}
				p.mu.Unlock()
			}
		}
		return n
	}
	for i := range 10000 {
		ss.Observe(float64(i))
	}
	if v := ss.Value(); v.Quantiles[0].Value != 4999 && v.Quantiles[0].Value != 5000 {
		t.Fatalf("exact p50 of 0..9999 = %v", v.Quantiles[0].Value)
	}
	if n := held(); n != 10000 {
		t.Fatalf("the window's streams hold %d observations; want 10000", n)
	}
	now = now.Add(11 * time.Second)
	summaryClock.gen.Add(1)
	if v := ss.Value(); !math.IsNaN(v.Quantiles[0].Value) || v.Count != 10000 {
		t.Fatalf("after the window: %+v; want a NaN quantile and count 10000", v)
	}
	if n := held(); n != 0 {
		t.Errorf("streams that left the window still hold %d observations", n)
	}
}

// TestGenClockKeepsSoonerTick checks that a touch with a shorter period
// leaves a tick that is due sooner than that period where it is: pushed
// back, it would lengthen the batches begun before it.
func TestGenClockKeepsSoonerTick(t *testing.T) {
	var c genClock
	defer stopClock(&c)
	c.touch(maxClockPeriod)
	c.mu.Lock()
	due, g := c.due, c.gen.Load()
	c.mu.Unlock()
	time.Sleep(maxClockPeriod * 6 / 10)
	c.touch(maxClockPeriod / 2) // the tick is due in about 0.4 of the period
	c.mu.Lock()
	moved := !c.due.Equal(due)
	c.mu.Unlock()
	if c.gen.Load() != g {
		t.Skip("the sleep overslept past the tick: the machine is too loaded to tell")
	}
	if moved {
		t.Error("a touch with a longer period than the time left pushed the due tick back")
	}
}

// stopClock stops the timer of a test's own clock.
func stopClock(c *genClock) {
	c.mu.Lock()
	if c.timer != nil {
		c.timer.Stop()
	}
	c.mu.Unlock()
}
