package quantile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/promgo/prom/internal/race"
)

var (
	defaultObjectives = []Objective{{0.5, 0.05}, {0.9, 0.01}, {0.99, 0.001}}
	tailObjectives    = []Objective{{0.01, 0.001}, {0.1, 0.01}, {0.5, 0.01}, {0.999, 0.0001}}
	edgeObjectives    = []Objective{{0, 0.01}, {0.25, 0.1}, {0.5, 0.5}, {1, 0.01}, {0.75, 0.3}}
	exactObjectives   = []Objective{{0.5, 0}}
	objectiveSets     = []struct {
		name string
		objs []Objective
	}{
		{"default", defaultObjectives},
		{"tails", tailObjectives},
		{"edges", edgeObjectives},
		{"exact", exactObjectives},
	}
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15)) }

func gen(n int, fn func(i int, r *rand.Rand) float64) []float64 {
	r := newRand(uint64(n))
	vs := make([]float64, n)
	for i := range vs {
		vs[i] = fn(i, r)
	}
	return vs
}

// distributions are the table cases; they also seed the fuzz target.
var distributions = []struct {
	name string
	vals []float64
}{
	{"in order", gen(10000, func(i int, _ *rand.Rand) float64 { return float64(i) })},
	{"reversed", gen(10000, func(i int, _ *rand.Rand) float64 { return float64(9999 - i) })},
	{"shuffled", func() []float64 {
		vs := make([]float64, 10000)
		for i, p := range newRand(1).Perm(len(vs)) {
			vs[i] = float64(p)
		}
		return vs
	}()},
	{"uniform", gen(20000, func(_ int, r *rand.Rand) float64 { return r.Float64() })},
	{"normal", gen(20000, func(_ int, r *rand.Rand) float64 { return r.NormFloat64()*3 + 100 })},
	{"exponential", gen(20000, func(_ int, r *rand.Rand) float64 { return r.ExpFloat64() })},
	{"pareto long tail", gen(20000, func(_ int, r *rand.Rand) float64 { return math.Pow(1-r.Float64(), -1.5) })},
	{"many duplicates", gen(20000, func(_ int, r *rand.Rand) float64 { return float64(r.IntN(10)) })},
	{"two values", gen(5000, func(i int, _ *rand.Rand) float64 { return float64(i % 2) })},
	{"constant", gen(5000, func(int, *rand.Rand) float64 { return 42 })},
	{"alternating extremes", gen(10000, func(i int, _ *rand.Rand) float64 {
		if i%2 == 0 {
			return float64(i)
		}
		return -float64(i)
	})},
	{"descending blocks", gen(10000, func(i int, _ *rand.Rand) float64 { return float64((9-i/1000)*1000 + i%1000) })},
	{"n=1", []float64{7}},
	{"n=2", []float64{2, 1}},
	{"n=4", []float64{3, 5.2, 13, 4}},
	{"small", []float64{5, 1, 4, 2, 3, 9, 8, 7, 6, 0, 11}},
	{"NaN mixed", gen(5000, func(i int, r *rand.Rand) float64 {
		if i%3 == 0 {
			return math.NaN()
		}
		return r.Float64()
	})},
	{"all NaN", []float64{math.NaN(), math.NaN(), math.NaN()}},
	{"Inf mixed", gen(5000, func(i int, r *rand.Rand) float64 {
		switch i % 7 {
		case 0:
			return math.Inf(1)
		case 3:
			return math.Inf(-1)
		}
		return r.NormFloat64()
	})},
	{"signed zeros and extremes", gen(3000, func(i int, _ *rand.Rand) float64 {
		return []float64{0, math.Copysign(0, -1), math.MaxFloat64, -math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1)}[i%6]
	})},
}

// sortedClean returns the non-NaN values of vs in ascending order.
func sortedClean(vs []float64) []float64 {
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// rankRange returns the 1-based ranks that v occupies in sorted.
func rankRange(sorted []float64, v float64) (lo, hi int) {
	lo = sort.Search(len(sorted), func(i int) bool { return sorted[i] >= v }) + 1
	hi = sort.Search(len(sorted), func(i int) bool { return sorted[i] > v })
	return lo, hi
}

// checkRank fails unless some rank of v lies within (q ± eps)·n; when that
// window holds no integer rank it is widened by one rank on each side.
func checkRank(t testing.TB, sorted []float64, q, eps, v float64, what string) {
	t.Helper()
	n := float64(len(sorted))
	wlo, whi := (q-eps)*n-1e-9*n, (q+eps)*n+1e-9*n
	if math.Ceil(max(wlo, 1)) > math.Floor(min(whi, n)) {
		wlo, whi = wlo-1, whi+1
	}
	lo, hi := rankRange(sorted, v)
	if lo > hi || float64(hi) < wlo || float64(lo) > whi {
		t.Errorf("%s: Query(%v) = %v with ranks [%d, %d], want a rank in [%.3f, %.3f] (n=%d, eps=%v)",
			what, q, v, lo, hi, wlo, whi, len(sorted), eps)
	}
}

// checkStream verifies everything that must hold for s after inserting the
// values whose non-NaN sorted copy is sorted.
func checkStream(t testing.TB, s *Stream, objs []Objective, sorted []float64, slack float64) {
	t.Helper()
	if got := s.Count(); got != uint64(len(sorted)) {
		t.Fatalf("Count() = %d, want %d", got, len(sorted))
	}
	if len(sorted) == 0 {
		for _, q := range []float64{0, 0.5, 1} {
			if v := s.Query(q); !math.IsNaN(v) {
				t.Errorf("empty stream: Query(%v) = %v, want NaN", q, v)
			}
		}
		return
	}
	for _, o := range objs {
		checkRank(t, sorted, o.Quantile, o.Epsilon*slack, s.Query(o.Quantile), "objective")
	}
	checkMonotone(t, s, objs)
	checkIntervals(t, s, sorted)
}

// checkMonotone verifies that Query is non-decreasing over a grid of q.
func checkMonotone(t testing.TB, s *Stream, objs []Objective) {
	t.Helper()
	qs := []float64{-1, math.Inf(-1)}
	for i := 0; i <= 1000; i++ {
		qs = append(qs, float64(i)/1000)
	}
	for _, o := range objs {
		qs = append(qs, o.Quantile, math.Nextafter(o.Quantile, -1), math.Nextafter(o.Quantile, 2))
	}
	qs = append(qs, 2, math.Inf(1))
	slices.SortFunc(qs, func(a, b float64) int {
		if a < b {
			return -1
		}
		if a > b {
			return 1
		}
		return 0
	})
	prev := math.Inf(-1)
	for _, q := range qs {
		v := s.Query(q)
		if math.IsNaN(v) || v < prev {
			t.Fatalf("Query(%v) = %v after %v: not monotonic", q, v, prev)
		}
		prev = v
	}
}

// checkIntervals verifies the internal summary: sorted samples, exact
// minimum and maximum, g summing to n, and every sample's rank interval
// containing a true rank of its value.
func checkIntervals(t testing.TB, s *Stream, sorted []float64) {
	t.Helper()
	s.flush()
	ss := s.samples
	if len(ss) == 0 {
		t.Fatalf("no samples for %d values", len(sorted))
	}
	if ss[0].v != sorted[0] || ss[0].g != 1 || ss[0].delta != 0 {
		t.Fatalf("first sample %+v, want exact minimum %v", ss[0], sorted[0])
	}
	if last := ss[len(ss)-1]; last.v != sorted[len(sorted)-1] || last.delta != 0 {
		t.Fatalf("last sample %+v, want exact maximum %v", last, sorted[len(sorted)-1])
	}
	var rmin uint64
	for i, sm := range ss {
		if i > 0 && sm.v < ss[i-1].v {
			t.Fatalf("samples out of order at %d: %v < %v", i, sm.v, ss[i-1].v)
		}
		if sm.g == 0 {
			t.Fatalf("sample %d has g = 0", i)
		}
		rmin += sm.g
		lo, hi := rankRange(sorted, sm.v)
		if uint64(hi) < rmin || uint64(lo) > rmin+sm.delta {
			t.Fatalf("sample %d (%v): ranks [%d, %d] outside interval [%d, %d]", i, sm.v, lo, hi, rmin, rmin+sm.delta)
		}
	}
	if rmin != s.n || s.n != uint64(len(sorted)) {
		t.Fatalf("sum of g = %d, n = %d, want %d", rmin, s.n, len(sorted))
	}
}

// checkInvariant verifies g+Δ ≤ max(1, f(r, n)) for every sample; it holds
// for streams that were not produced by Merge.
func checkInvariant(t testing.TB, s *Stream) {
	t.Helper()
	s.flush()
	var r uint64
	for i, sm := range s.samples {
		if lim := s.f(float64(r), float64(s.n)); float64(sm.g+sm.delta) > max(1, lim)*(1+1e-12) {
			t.Fatalf("sample %d: g+Δ = %d exceeds f(%d, %d) = %v", i, sm.g+sm.delta, r, s.n, lim)
		}
		r += sm.g
	}
}

// insertModes feed values into a stream in different ways.
var insertModes = []struct {
	name string
	fn   func(s *Stream, vs []float64)
}{
	{"Insert", func(s *Stream, vs []float64) {
		for _, v := range vs {
			s.Insert(v)
		}
	}},
	{"InsertSorted chunks", func(s *Stream, vs []float64) {
		for len(vs) > 0 {
			k := min(len(vs), 1234)
			chunk := slices.Clone(vs[:k])
			slices.SortFunc(chunk, func(a, b float64) int { // NaN anywhere is fine
				switch {
				case a < b:
					return -1
				case a > b:
					return 1
				}
				return 0
			})
			s.InsertSorted(chunk)
			vs = vs[k:]
		}
	}},
	{"Insert with queries", func(s *Stream, vs []float64) {
		for i, v := range vs {
			s.Insert(v)
			if i%777 == 0 {
				s.Query(0.5)
			}
		}
	}},
}

// raceScaled is vals, or under the race detector its first 2,500 values:
// these tests run one goroutine, in which the detector has nothing to find,
// and they run in full without -race (make mingo in CI).
func raceScaled(vals []float64) []float64 {
	if race.Enabled {
		return vals[:min(len(vals), 2500)]
	}
	return vals
}

func TestDistributions(t *testing.T) {
	for _, d := range distributions {
		vals := raceScaled(d.vals)
		sorted := sortedClean(vals)
		for _, os := range objectiveSets {
			for _, m := range insertModes {
				t.Run(fmt.Sprintf("%s/%s/%s", d.name, os.name, m.name), func(t *testing.T) {
					s := New(os.objs)
					m.fn(s, vals)
					checkStream(t, s, os.objs, sorted, 1)
					checkInvariant(t, s)
				})
			}
		}
	}
}

// TestPrefixes checks the guarantee at every size of a stream, so that
// flushes at arbitrary points and every small n are covered.
func TestPrefixes(t *testing.T) {
	vals := gen(3000, func(_ int, r *rand.Rand) float64 { return r.ExpFloat64() })
	for _, os := range objectiveSets {
		t.Run(os.name, func(t *testing.T) {
			s := New(os.objs)
			var seen []float64
			for i, v := range vals {
				s.Insert(v)
				seen = append(seen, v)
				if i < 100 || i%97 == 0 {
					sorted := slices.Clone(seen)
					slices.Sort(sorted)
					checkStream(t, s, os.objs, sorted, 1)
					checkInvariant(t, s)
				}
			}
		})
	}
}

func TestSmallExact(t *testing.T) {
	tests := []struct {
		vals []float64
		q    []float64
		want []float64
	}{
		{[]float64{3, 5.2, 13, 4}, []float64{0, 0.25, 0.5, 0.75, 0.9, 0.99, 1}, []float64{3, 3, 4, 5.2, 13, 13, 13}},
		{[]float64{7}, []float64{0, 0.5, 0.99, 1}, []float64{7, 7, 7, 7}},
		{[]float64{2, 1}, []float64{0, 0.5, 0.9, 1}, []float64{1, 1, 2, 2}},
		{[]float64{5, 1, 4, 2, 3}, []float64{0.2, 0.5, 0.6, 0.99}, []float64{1, 3, 3, 5}},
	}
	for _, tt := range tests {
		s := New(defaultObjectives)
		for _, v := range tt.vals {
			s.Insert(v)
		}
		for i, q := range tt.q {
			if got := s.Query(q); got != tt.want[i] {
				t.Errorf("%v: Query(%v) = %v, want %v (nearest rank)", tt.vals, q, got, tt.want[i])
			}
		}
		checkStream(t, s, defaultObjectives, sortedClean(tt.vals), 1)
	}
}

func TestNaNIgnored(t *testing.T) {
	a, b := New(defaultObjectives), New(defaultObjectives)
	r := newRand(7)
	for i := 0; i < 10000; i++ {
		v := r.Float64()
		a.Insert(v)
		b.Insert(v)
		b.Insert(math.NaN())
	}
	b.InsertSorted([]float64{math.NaN()})
	if a.Count() != b.Count() {
		t.Fatalf("Count with NaN = %d, without = %d", b.Count(), a.Count())
	}
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 1} {
		if x, y := a.Query(q), b.Query(q); x != y {
			t.Errorf("Query(%v) = %v with NaN inserted, %v without", q, y, x)
		}
	}
	if v := a.Query(math.NaN()); !math.IsNaN(v) {
		t.Errorf("Query(NaN) = %v, want NaN", v)
	}
}

func TestNoObjectives(t *testing.T) {
	s := New(nil)
	for i := 0; i < 1000; i++ {
		s.Insert(float64(i))
	}
	s.Insert(math.NaN())
	s.InsertSorted([]float64{1, 2, math.NaN()})
	if s.Count() != 1002 {
		t.Errorf("Count() = %d, want 1002", s.Count())
	}
	if v := s.Query(0.5); !math.IsNaN(v) {
		t.Errorf("Query(0.5) = %v, want NaN", v)
	}
	s.Merge(s)
	if s.Count() != 2004 {
		t.Errorf("Count() after self-merge = %d, want 2004", s.Count())
	}
}

func TestInsertSorted(t *testing.T) {
	vals := sortedClean(gen(5000, func(_ int, r *rand.Rand) float64 { return r.NormFloat64() }))
	in := slices.Clone(vals)
	in = append(in[:2500:2500], append([]float64{math.NaN()}, in[2500:]...)...)
	orig := slices.Clone(in)
	s := New(defaultObjectives)
	s.InsertSorted(in)
	for i := range in {
		if math.Float64bits(in[i]) != math.Float64bits(orig[i]) {
			t.Fatal("InsertSorted modified its input")
		}
	}
	checkStream(t, s, defaultObjectives, vals, 1)
	checkInvariant(t, s)

	// Unsorted input is detected and still summarised correctly.
	shuffled := slices.Clone(vals)
	newRand(3).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	u := New(defaultObjectives)
	u.InsertSorted(shuffled)
	checkStream(t, u, defaultObjectives, vals, 1)
}

func TestReset(t *testing.T) {
	s := New(defaultObjectives)
	first := gen(50000, func(_ int, r *rand.Rand) float64 { return r.Float64() * 1000 })
	for _, v := range first {
		s.Insert(v)
	}
	s.Query(0.5)
	s.Reset()
	checkStream(t, s, defaultObjectives, nil, 1)
	second := gen(50001, func(_ int, r *rand.Rand) float64 { return -r.ExpFloat64() })
	for _, v := range second {
		s.Insert(v)
	}
	checkStream(t, s, defaultObjectives, sortedClean(second), 1)
	checkInvariant(t, s)

	// Once warmed up, reset-and-refill cycles do not allocate.
	allocs := testing.AllocsPerRun(5, func() {
		s.Reset()
		for _, v := range second {
			s.Insert(v)
		}
		s.Query(0.99)
	})
	if allocs != 0 {
		t.Errorf("reset and refill allocated %v times, want 0", allocs)
	}
}

func TestInsertDoesNotAllocate(t *testing.T) {
	s := New(defaultObjectives)
	vals := gen(1<<16, func(_ int, r *rand.Rand) float64 { return r.NormFloat64() })
	for _, v := range vals {
		s.Insert(v)
	}
	i := 0
	allocs := testing.AllocsPerRun(20000, func() {
		s.Insert(vals[i&(len(vals)-1)])
		i++
	})
	if allocs != 0 {
		t.Errorf("Insert allocated %v times per call, want 0", allocs)
	}
}

func TestMemoryBounded(t *testing.T) {
	n := 1_000_000
	if race.Enabled {
		n = 200_000 // see raceScaled
	}
	tests := []struct {
		name string
		fn   func(i int, r *rand.Rand) float64
	}{
		{"uniform", func(_ int, r *rand.Rand) float64 { return r.Float64() }},
		{"exponential", func(_ int, r *rand.Rand) float64 { return r.ExpFloat64() }},
		{"ascending", func(i int, _ *rand.Rand) float64 { return float64(i) }},
		{"descending", func(i int, _ *rand.Rand) float64 { return float64(-i) }},
	}
	for _, tt := range tests {
		for _, os := range objectiveSets[:2] {
			t.Run(tt.name+"/"+os.name, func(t *testing.T) {
				s := New(os.objs)
				r := newRand(11)
				vals := make([]float64, n)
				maxLen := 0
				for i := range vals {
					vals[i] = tt.fn(i, r)
					s.Insert(vals[i])
					maxLen = max(maxLen, len(s.samples))
				}
				s.flush()
				slices.Sort(vals)
				checkStream(t, s, os.objs, vals, 1)
				t.Logf("%d values: %d samples retained (peak %d between flushes)", n, len(s.samples), maxLen)
				if len(s.samples) > 3000 || maxLen > 3000+bufferSize {
					t.Errorf("retained %d samples (peak %d), want at most a few thousand", len(s.samples), maxLen)
				}
			})
		}
	}
}

func TestMerge(t *testing.T) {
	r := newRand(5)
	uniform := gen(100000, func(_ int, r *rand.Rand) float64 { return r.Float64() })
	lowHalf := gen(50000, func(i int, _ *rand.Rand) float64 { return float64(i) })
	highHalf := gen(50000, func(i int, _ *rand.Rand) float64 { return float64(50000 + i) })
	r.Shuffle(len(lowHalf), func(i, j int) { lowHalf[i], lowHalf[j] = lowHalf[j], lowHalf[i] })
	r.Shuffle(len(highHalf), func(i, j int) { highHalf[i], highHalf[j] = highHalf[j], highHalf[i] })
	var evens, odds, small, big []float64
	for i, v := range uniform {
		if i%2 == 0 {
			evens = append(evens, v)
		} else {
			odds = append(odds, v)
		}
		if i%20 == 0 {
			small = append(small, v)
		} else {
			big = append(big, v)
		}
	}
	tests := []struct {
		name string
		a, b []float64
	}{
		{"disjoint halves", lowHalf, highHalf},
		{"disjoint halves reversed", highHalf, lowHalf},
		{"interleaved split", evens, odds},
		{"unequal sizes", big, small},
		{"unequal sizes reversed", small, big},
		{"into empty", nil, uniform},
		{"empty other", uniform, nil},
		{"tiny into large", uniform, []float64{0.5, 2, -1}},
	}
	for _, tt := range tests {
		for _, os := range objectiveSets[:2] {
			t.Run(tt.name+"/"+os.name, func(t *testing.T) {
				a, b := New(os.objs), New(os.objs)
				for _, v := range tt.a {
					a.Insert(v)
				}
				for _, v := range tt.b {
					b.Insert(v)
				}
				bCount, bMedian := b.Count(), b.Query(0.5)
				a.Merge(b)
				if b.Count() != bCount || !(b.Query(0.5) == bMedian || bCount == 0) {
					t.Error("Merge changed its argument")
				}
				all := sortedClean(append(slices.Clone(tt.a), tt.b...))
				// Errors add: each input contributes up to its ε.
				checkStream(t, a, os.objs, all, 2)
				// Values inserted after a merge are summarised too.
				extra := gen(30000, func(_ int, r *rand.Rand) float64 { return r.Float64()*2 - 0.5 })
				for _, v := range extra {
					a.Insert(v)
				}
				checkStream(t, a, os.objs, sortedClean(append(all, extra...)), 2)
			})
		}
	}
}

func TestMergeSelf(t *testing.T) {
	vals := gen(20000, func(_ int, r *rand.Rand) float64 { return r.ExpFloat64() })
	s := New(defaultObjectives)
	for _, v := range vals {
		s.Insert(v)
	}
	s.Merge(s)
	checkStream(t, s, defaultObjectives, sortedClean(append(slices.Clone(vals), vals...)), 2)
	s.Merge(nil)
	if s.Count() != 40000 {
		t.Errorf("Count() = %d after Merge(nil), want 40000", s.Count())
	}
}

// TestMergeWindows merges several age-window streams, as a Summary with
// age buckets would, and checks that intervals stay valid and the error
// stays within the sum of the inputs' errors.
func TestMergeWindows(t *testing.T) {
	const windows = 4
	var all []float64
	total := New(defaultObjectives)
	r := newRand(9)
	for w := 0; w < windows; w++ {
		s := New(defaultObjectives)
		shift := float64(w) * 0.3 // drifting distribution
		for i := 0; i < 25000; i++ {
			v := r.NormFloat64() + shift
			s.Insert(v)
			all = append(all, v)
		}
		total.Merge(s)
	}
	checkStream(t, total, defaultObjectives, sortedClean(all), windows)
}

func BenchmarkInsert(b *testing.B) {
	vals := gen(1<<16, func(_ int, r *rand.Rand) float64 { return r.NormFloat64() })
	s := New(defaultObjectives)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Insert(vals[i&(len(vals)-1)])
	}
}

func BenchmarkInsertSorted(b *testing.B) {
	vals := sortedClean(gen(1<<16, func(_ int, r *rand.Rand) float64 { return r.NormFloat64() }))
	s := New(defaultObjectives)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 1024 {
		j := i & (len(vals) - 1)
		s.InsertSorted(vals[j : j+1024])
	}
}

func BenchmarkQuery(b *testing.B) {
	s := New(defaultObjectives)
	r := newRand(1)
	for i := 0; i < 1_000_000; i++ {
		s.Insert(r.NormFloat64())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Query(defaultObjectives[i%3].Quantile)
	}
}

// TestLargeArraysLetGo checks that a stream that grew large (an exact
// one) lets its arrays go at Reset, and that a workspace is not kept at the
// size of the largest stream merged in it, while small arrays are kept for
// reuse.
func TestLargeArraysLetGo(t *testing.T) {
	exact := []Objective{{Quantile: 0.5, Epsilon: 0}}
	vals := gen(20000, func(_ int, r *rand.Rand) float64 { return r.Float64() })
	var ws Workspace
	s := New(exact)
	for i := 0; i < len(vals); i += 500 {
		s.InsertBatchIn(vals[i:i+500], &ws)
	}
	if s.Count() != uint64(len(vals)) || len(s.samples) <= maxKept {
		t.Fatalf("an exact stream of %d values holds %d samples; the test needs more than %d", s.Count(), len(s.samples), maxKept)
	}
	if cap(ws.buf) > maxKept {
		t.Errorf("the workspace keeps room for %d samples after the merge; want at most %d", cap(ws.buf), maxKept)
	}
	s.Reset()
	if cap(s.samples) != 0 || cap(s.buf) > maxKept || cap(s.scratch) > maxKept {
		t.Errorf("after Reset the stream keeps room for %d samples, %d buffered and %d scratch values", cap(s.samples), cap(s.buf), cap(s.scratch))
	}

	small := New(defaultObjectives)
	for _, v := range vals {
		small.Insert(v)
	}
	small.Reset()
	if cap(small.samples) == 0 || cap(small.buf) == 0 {
		t.Error("Reset let a small stream's arrays go; they are kept for reuse")
	}
}
