package prom

import (
	"math"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"
)

func TestHistogramObserve(t *testing.T) {
	reg := NewRegistry()
	h := Must(NewHistogram("size_bytes", "Sizes.", WithRegistry(reg), WithBuckets(5, 10, 15)))
	steps := []struct {
		v       float64
		buckets []uint64
		sum     float64
	}{
		{7, []uint64{0, 1, 1, 1}, 7},
		{7.5, []uint64{0, 2, 2, 2}, 14.5},
		{5, []uint64{1, 3, 3, 3}, 19.5}, // a bound is inclusive
		{100, []uint64{1, 3, 3, 4}, 119.5},
		{math.Inf(1), []uint64{1, 3, 3, 5}, math.Inf(1)},
	}
	for _, s := range steps {
		h.Observe(s.v)
		v, ok := h.Get(nil)
		if !ok {
			t.Fatal("no series")
		}
		var got []uint64
		for _, b := range v.Buckets {
			got = append(got, b.Count)
		}
		if !slices.Equal(got, s.buckets) || v.Sum != s.sum || v.Count != s.buckets[3] {
			t.Fatalf("after %v: %+v; want buckets %v sum %v", s.v, v, s.buckets, s.sum)
		}
	}
	wantSamples(t, reg,
		`size_bytes_bucket{le="5"} 1`,
		`size_bytes_bucket{le="10"} 3`,
		`size_bytes_bucket{le="15"} 3`,
		`size_bytes_bucket{le="+Inf"} 5`,
		`size_bytes_sum +Inf`,
		`size_bytes_count 5`)
}

func TestHistogramDefaultBuckets(t *testing.T) {
	reg := NewRegistry()
	h := Must(NewHistogram("d_seconds", "h", WithRegistry(reg), WithConstLabels(Labels{"app": "x"})))
	if want := []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}; !slices.Equal(h.Buckets(), want) {
		t.Fatalf("buckets %v", h.Buckets())
	}
	h.With(Labels{"op": "read"}).Observe(0.3)
	out := text(t, reg)
	for _, want := range []string{`d_seconds_bucket{app="x",op="read",le="0.005"} 0`, `d_seconds_bucket{app="x",op="read",le="0.5"} 1`, `d_seconds_bucket{app="x",op="read",le="+Inf"} 1`, `d_seconds_sum{app="x",op="read"} 0.3`, `d_seconds_count{app="x",op="read"} 1`} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

func TestHistogramLargeBucketCount(t *testing.T) {
	h := Must(NewHistogram("x", "h", WithRegistry(nil), WithBuckets(LinearBuckets(1, 1, 100)...)))
	for _, v := range []float64{0.5, 1, 1.5, 50, 100, 101} {
		h.Observe(v)
	}
	v, _ := h.Get(nil)
	for _, c := range []struct {
		i    int
		want uint64
	}{{0, 2}, {1, 3}, {49, 4}, {99, 5}, {100, 6}} {
		if v.Buckets[c.i].Count != c.want {
			t.Errorf("bucket %v = %d; want %d", v.Buckets[c.i].UpperBound, v.Buckets[c.i].Count, c.want)
		}
	}
}

func TestBucketHelpers(t *testing.T) {
	if got := LinearBuckets(1, 2, 5); !slices.Equal(got, []float64{1, 3, 5, 7, 9}) {
		t.Errorf("LinearBuckets = %v", got)
	}
	if got := ExponentialBuckets(1, 10, 5); !slices.Equal(got, []float64{1, 10, 100, 1000, 10000}) {
		t.Errorf("ExponentialBuckets = %v", got)
	}
	for _, bad := range [][]float64{LinearBuckets(1, 2, 0), LinearBuckets(1, 0, 3), ExponentialBuckets(0, 2, 3), ExponentialBuckets(1, 1, 3), ExponentialBuckets(1, 2, -1)} {
		if bad != nil {
			t.Errorf("invalid helper arguments gave %v", bad)
		}
	}
}

func TestHistogramBucketValidation(t *testing.T) {
	tests := []struct {
		buckets []float64
		want    string
	}{
		{nil, "at least one"},
		{[]float64{}, "at least one"},
		{[]float64{math.Inf(1)}, "at least one"},
		{[]float64{2, 1}, "sorted"},
		{[]float64{1, 1}, "distinct"},
		{[]float64{1, math.NaN()}, "not finite"},
		{[]float64{math.Inf(-1), 1}, "not finite"},
		{[]float64{1, 2, math.Inf(1)}, ""}, // a trailing +Inf is implied anyway
	}
	for _, tt := range tests {
		_, err := NewHistogram("x", "h", WithRegistry(nil), WithBuckets(tt.buckets...))
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.buckets, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), `"x"`) {
			t.Errorf("%v: error %v; want one naming x and saying %q", tt.buckets, err, tt.want)
		}
	}
}

// TestHistogramCountMatchesInf scrapes while observing and checks every
// scrape's _count against its +Inf bucket.
func TestHistogramCountMatchesInf(t *testing.T) {
	reg := NewRegistry()
	h := Must(NewHistogram("x", "h", WithRegistry(reg)))
	stop := loop(4, func(w, i int) { h.Observe(float64((i+w)%13) / 2) })
	defer stop()
	for range 200 {
		var inf, count string
		for _, l := range samples(text(t, reg)) {
			if v, ok := strings.CutPrefix(l, `x_bucket{le="+Inf"} `); ok {
				inf = v
			}
			if v, ok := strings.CutPrefix(l, "x_count "); ok {
				count = v
			}
		}
		if inf != count {
			t.Fatalf("+Inf bucket %s != count %s", inf, count)
		}
		if n, _ := strconv.Atoi(count); n < 0 {
			t.Fatal("negative count")
		}
	}
}

func TestHistogramNaNGoesToInf(t *testing.T) {
	for _, n := range []int{3, 40} { // both the linear and the binary search
		h := Must(NewHistogram("h", "h", WithRegistry(nil), WithBuckets(LinearBuckets(1, 1, n)...)))
		h.Observe(math.NaN())
		v, _ := h.Get(nil)
		for i, b := range v.Buckets[:n] {
			if b.Count != 0 {
				t.Fatalf("%d buckets: NaN counted in bucket %d (le=%v)", n, i, b.UpperBound)
			}
		}
		if v.Buckets[n].Count != 1 || v.Count != 1 || !math.IsNaN(v.Sum) {
			t.Fatalf("%d buckets: %+v; want NaN in +Inf and a NaN sum", n, v)
		}
	}
}

// TestHistogramSnapshot reads series while writers observe 0.25 (bucket
// le=1) and 4 (+Inf): every read, through Get and through a scrape, must
// have sum = 0.25*bucket1 + 4*(count - bucket1) exactly, and once the
// writers stop, the final state must hold every observation.
func TestHistogramSnapshot(t *testing.T) {
	reg := NewRegistry()
	h := Must(NewHistogram("snap", "h", WithRegistry(reg), WithBuckets(1), WithLabelNames("w")))
	// Series 1 observes into shards from the start; series 0 moves to
	// them when its two writers first meet (or never, on one P).
	s1 := h.WithValues("1")
	s1.shards.Store(newHistogramShards(len(s1.counts)))
	const writers, perWriter = 4, 200000
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := h.WithValues(strconv.Itoa(w % 2)) // two writers per series
			for i := range perWriter {
				if i%3 == 0 {
					s.Observe(4)
				} else {
					s.Observe(0.25)
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	check := func(where string, low, count uint64, sum float64) {
		t.Helper()
		if want := 0.25*float64(low) + 4*float64(count-low); sum != want {
			t.Fatalf("%s: le=1 bucket %d, count %d, sum %v; want sum %v", where, low, count, sum, want)
		}
	}
	reads := readWhile(done, func() {
		for _, w := range []string{"0", "1"} {
			if v, ok := h.Get(Labels{"w": w}); ok {
				check("Get", v.Buckets[0].Count, v.Count, v.Sum)
			}
		}
		vals := map[string]float64{}
		for _, l := range samples(text(t, reg)) {
			name, val, _ := strings.Cut(l, " ")
			f, err := strconv.ParseFloat(val, 64)
			if err != nil {
				t.Fatalf("sample %q: %v", l, err)
			}
			vals[name] = f
		}
		for _, w := range []string{"0", "1"} {
			if c, ok := vals[`snap_count{w="`+w+`"}`]; ok {
				check("scrape", uint64(vals[`snap_bucket{w="`+w+`",le="1"}`]), uint64(c), vals[`snap_sum{w="`+w+`"}`])
			}
		}
	})
	for _, w := range []string{"0", "1"} {
		v, _ := h.Get(Labels{"w": w})
		if v.Count != 2*perWriter {
			t.Fatalf("series %s: final count %d, want %d", w, v.Count, 2*perWriter)
		}
		check("final", v.Buckets[0].Count, v.Count, v.Sum)
	}
	t.Logf("%d reads while observing; series 0 striped: %v", reads, h.WithValues("0").shards.Load() != nil)
}

// TestHistogramShards follows a series onto its shards: an observation
// that finds the series' lock taken by a read waits for it, one that finds
// it taken otherwise (here held by the test) makes them and counts in its
// P's shard, later observations go there without the lock, and every read
// adds the shards to the series' own counts.
func TestHistogramShards(t *testing.T) {
	reg := NewRegistry()
	h := Must(NewHistogram("x", "h", WithRegistry(reg), WithBuckets(1, 2), WithLabelNames("k")))
	s := h.WithValues("a")
	s.Observe(0.5) // bucket le=1, in the series' own counts
	if s.shards.Load() != nil {
		t.Fatal("an uncontended observation made shards")
	}
	// observeBlocked observes v in a goroutine while the test holds the
	// series' lock, as a read (which marks readLast) or another observer
	// would, and lets go once the observation waits for it.
	observeBlocked := func(v float64, asRead bool) {
		t.Helper()
		s.mu.Lock()
		done := make(chan struct{})
		go func() { s.Observe(v); close(done) }()
		waitForFrame(t, "(*HistogramSeries).contended")
		s.readLast = asRead
		s.mu.Unlock()
		<-done
	}
	// An observation that meets a read waits for it and makes no shards.
	observeBlocked(0.5, true)
	if s.shards.Load() != nil {
		t.Fatal("an observation that met a read made shards")
	}
	if got := s.counts; !slices.Equal(got, []uint64{2, 0, 0}) {
		t.Fatalf("series' own counts %v after waiting for a read; want [2 0 0]", got)
	}
	// One that meets another observer counts in the series' own counts
	// and gives the series shards for the observations after it.
	observeBlocked(1.5, false)
	sh := s.shards.Load()
	if sh == nil {
		t.Fatal("an observation that met another observer made no shards")
	}
	if got := s.counts; !slices.Equal(got, []uint64{2, 1, 0}) {
		t.Fatalf("series' own counts %v after striping; want [2 1 0]", got)
	}
	s.Observe(3)
	s.Observe(1.5) // to the shards, as the 3 before it
	if got := s.counts; !slices.Equal(got, []uint64{2, 1, 0}) {
		t.Fatalf("series' own counts %v; a striped series must observe into its shards", got)
	}
	want := HistogramValue{Count: 5, Sum: 7, Buckets: []Bucket{{1, 2}, {2, 4}, {math.Inf(1), 5}}}
	if v := s.Value(); !reflect.DeepEqual(v, want) {
		t.Fatalf("Value = %+v; want %+v", v, want)
	}
	for _, l := range []string{`x_bucket{k="a",le="2"} 4`, `x_count{k="a"} 5`, `x_sum{k="a"} 7`} {
		if !slices.Contains(samples(text(t, reg)), l) {
			t.Errorf("scrape lacks %q:\n%s", l, text(t, reg))
		}
	}
	// Each shard, and each shard's counts, has cache lines of its own.
	if size := unsafe.Sizeof(histogramShard{}); size%64 != 0 {
		t.Errorf("histogramShard is %d bytes; want a multiple of 64", size)
	}
	for i := range sh.shards {
		if at := uintptr(unsafe.Pointer(&sh.shards[i].counts[0])); at%64 != 0 {
			t.Errorf("shard %d's counts at %#x; want a cache line's start", i, at)
		}
		if n := len(sh.shards[i].counts); n != 3 {
			t.Errorf("shard %d has %d counts; want 3", i, n)
		}
	}
	if len(sh.shards) != perP(maxHistogramShards) {
		t.Errorf("%d shards; want %d", len(sh.shards), perP(maxHistogramShards))
	}
}

// TestHistogramReadsDoNotStripe: one goroutine observes while reads run
// all along; the reads contend for the series' lock, but only other
// observations make a series take shards.
func TestHistogramReadsDoNotStripe(t *testing.T) {
	reg := NewRegistry()
	h := Must(NewHistogram("x", "h", WithRegistry(reg)))
	const n = 300000
	h.Observe(0) // makes the series before the reads below use it
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n - 1 {
			h.Observe(float64(i % 3))
		}
	}()
	reads := readWhile(done, func() { h.f.inline.Value() })
	if h.f.inline.shards.Load() != nil {
		t.Fatalf("a series observed by one goroutine took shards (%d reads meanwhile)", reads)
	}
	if v := h.f.inline.Value(); v.Count != n {
		t.Fatalf("count %d; want %d", v.Count, n)
	}
}

// waitForFrame waits until some goroutine's stack holds a call of fn (a
// function name as runtime.Stack prints it, such as "(*T).m"), failing the
// test after ten seconds.
func waitForFrame(t *testing.T, fn string) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if strings.Contains(string(buf[:runtime.Stack(buf, true)]), fn) {
			return
		}
	}
	t.Fatalf("no goroutine reached %s", fn)
}
