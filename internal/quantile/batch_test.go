package quantile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func scaled(objs []Objective, div float64) []Objective {
	out := slices.Clone(objs)
	for i := range out {
		out[i].Epsilon /= div
	}
	return out
}

// sortInputs are batches with the shapes sortFloats must handle: spread,
// clustered, duplicated, with outliers and special values.
func sortInputs() map[string][]float64 {
	in := map[string][]float64{}
	for _, n := range []int{0, 1, 2, 15, 16, 17, 100, 500, 512, 1024, 1025, 3000} {
		in[fmt.Sprint("uniform", n)] = gen(n, func(_ int, r *rand.Rand) float64 { return r.Float64() * 12 })
		in[fmt.Sprint("normal", n)] = gen(n, func(_ int, r *rand.Rand) float64 { return r.NormFloat64() })
		in[fmt.Sprint("exp", n)] = gen(n, func(_ int, r *rand.Rand) float64 { return r.ExpFloat64() })
		in[fmt.Sprint("dups", n)] = gen(n, func(_ int, r *rand.Rand) float64 { return float64(r.IntN(3)) })
		in[fmt.Sprint("constant", n)] = gen(n, func(int, *rand.Rand) float64 { return 7 })
		in[fmt.Sprint("outlier", n)] = gen(n, func(i int, r *rand.Rand) float64 {
			if i == 0 {
				return 1e300
			}
			return r.Float64()
		})
		in[fmt.Sprint("specials", n)] = gen(n, func(_ int, r *rand.Rand) float64 { return specialValues[1+r.IntN(15)] })
		in[fmt.Sprint("descending", n)] = gen(n, func(i int, _ *rand.Rand) float64 { return float64(n - i) })
		in[fmt.Sprint("nearby", n)] = gen(n, func(_ int, r *rand.Rand) float64 {
			return math.Float64frombits(math.Float64bits(1) + uint64(r.IntN(40)))
		})
	}
	return in
}

func TestSortFloats(t *testing.T) {
	for name, vs := range sortInputs() {
		got, want := slices.Clone(vs), slices.Clone(vs)
		sortFloats(got)
		slices.SortFunc(want, func(a, b float64) int {
			ka, kb := sortKey(a), sortKey(b)
			switch {
			case ka < kb:
				return -1
			case ka > kb:
				return 1
			}
			return 0
		})
		for i := range got {
			same := math.Float64bits(got[i]) == math.Float64bits(want[i])
			if len(vs) > maxSortLen {
				same = got[i] == want[i] // slices.Sort: −0 and +0 are equal
			}
			if !same {
				t.Fatalf("%s: element %d is %v, want %v", name, i, got[i], want[i])
			}
		}
	}
}

// TestMergeCompress checks the fused pass against mergeSorted followed by
// compress, sample for sample, merging in place and in a workspace that
// another stream shares.
func TestMergeCompress(t *testing.T) {
	for _, os := range objectiveSets {
		for name, vs := range sortInputs() {
			a, b := New(os.objs), New(os.objs)
			var ws Workspace
			c, other := New(os.objs), New(os.objs)
			most := 0 // c's most samples so far
			for start := 0; start < len(vs); {
				end := min(len(vs), start+1+(start*7)%300)
				batch := slices.Clone(vs[start:end])
				sortFloats(batch)
				a.mergeCompress(batch, nil)
				c.mergeCompress(batch, &ws)
				other.mergeCompress(batch[:len(batch)/2], &ws) // the workspace's last user changes
				b.mergeSorted(batch)
				b.compress()
				if a.n != b.n || !slices.Equal(a.samples, b.samples) {
					t.Fatalf("%s/%s: after %d values fused gives n=%d %v\nwant n=%d %v", os.name, name, end, a.n, a.samples, b.n, b.samples)
				}
				if c.n != b.n || !slices.Equal(c.samples, b.samples) {
					t.Fatalf("%s/%s: after %d values fused in a shared workspace gives n=%d %v\nwant n=%d %v", os.name, name, end, c.n, c.samples, b.n, b.samples)
				}
				// Room for the samples (as append grows it), not for a
				// batch as well.
				if most = max(most, len(c.samples)); cap(c.samples) > 2*most+8 {
					t.Fatalf("%s/%s: %d samples (at most %d so far) keep room for %d", os.name, name, len(c.samples), most, cap(c.samples))
				}
				start = end
			}
		}
	}
}

func TestInsertBatch(t *testing.T) {
	for _, os := range objectiveSets {
		for _, d := range distributions {
			s, in := New(os.objs), New(os.objs)
			var ws Workspace
			orig := raceScaled(d.vals)
			vals, vals2 := slices.Clone(orig), slices.Clone(orig)
			for start := 0; start < len(vals); start += 512 {
				s.InsertBatch(vals[start:min(len(vals), start+512)])
				in.InsertBatchIn(vals2[start:min(len(vals), start+512)], &ws)
			}
			sorted := sortedClean(orig)
			checkStream(t, s, os.objs, sorted, 1)
			checkInvariant(t, s)
			if in.n != s.n || !slices.Equal(in.samples, s.samples) {
				t.Fatalf("%s/%s: InsertBatchIn gives n=%d, %d samples; InsertBatch n=%d, %d samples", os.name, d.name, in.n, len(in.samples), s.n, len(s.samples))
			}
		}
	}
	s := New(defaultObjectives)
	s.InsertBatch([]float64{math.NaN(), 3, math.NaN(), 1})
	if s.Count() != 2 || s.Query(0) != 1 || s.Query(1) != 3 {
		t.Errorf("InsertBatch with NaN: count %d, min %v, max %v", s.Count(), s.Query(0), s.Query(1))
	}
}

func BenchmarkSortFloats512(b *testing.B) {
	vals := gen(1<<16, func(_ int, r *rand.Rand) float64 { return r.Float64() * 12 })
	var buf [512]float64
	b.ResetTimer()
	for i := 0; i < b.N; i += 512 {
		j := i & (len(vals) - 1) &^ 511
		copy(buf[:], vals[j:j+512])
		sortFloats(buf[:])
	}
}

// BenchmarkInsertBatch512 is the cost per value of a Summary flush: one
// batch of 512 unsorted values into one stream, with the objectives
// divided as a Summary's age buckets use them.
func BenchmarkInsertBatch512(b *testing.B) {
	for _, div := range []float64{1, 2, 3} {
		b.Run(fmt.Sprint("div", div), func(b *testing.B) {
			vals := gen(1<<16, func(_ int, r *rand.Rand) float64 { return r.Float64() * 12 })
			var buf [512]float64
			s := New(scaled(defaultObjectives, div))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += 512 {
				j := i & (len(vals) - 1) &^ 511
				copy(buf[:], vals[j:j+512])
				s.InsertBatch(buf[:])
			}
			b.ReportMetric(float64(len(s.samples)), "samples")
		})
	}
}

// TestLimits checks the piecewise evaluation of f that the backward passes
// use: within rounding of f everywhere, near the cuts included, and a
// function of r and n alone (a fresh evaluation agrees with a walk).
func TestLimits(t *testing.T) {
	sets := slices.Clone(objectiveSets)
	r := newRand(7)
	for i := range 50 {
		var objs []Objective
		for range 1 + r.IntN(5) {
			objs = append(objs, Objective{Quantile: r.Float64(), Epsilon: r.Float64() * 0.2})
		}
		sets = append(sets, struct {
			name string
			objs []Objective
		}{fmt.Sprintf("random%d", i), objs})
	}
	for _, os := range sets {
		s := New(os.objs)
		for _, n := range []float64{1, 2, 7, 100, 12345, 1e6, 1 << 40} {
			// Every integer r near each cut, and a spread in between.
			var rs []float64
			for _, p := range s.pieces {
				for _, x := range []float64{p.lo * n, p.hi * n} {
					for d := -3.0; d <= 3; d++ {
						if v := math.Round(x) + d; v >= 0 && v <= n {
							rs = append(rs, v)
						}
					}
				}
			}
			for range 200 {
				rs = append(rs, math.Round(r.Float64()*n))
			}
			slices.Sort(rs)
			slices.Reverse(rs)
			walk := s.limitsFor(n)
			for _, x := range rs {
				got, want := walk.at(x), s.f(x, n)
				fresh := s.limitsFor(n)
				if math.Abs(got-want) > 1e-12*want || fresh.at(x) != got {
					t.Fatalf("%s: n=%v r=%v: walk %v, fresh %v, f %v", os.name, n, x, got, fresh.at(x), want)
				}
			}
		}
	}
}
