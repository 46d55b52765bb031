package prom

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

// observedBucket observes v in a fresh series of h and returns the bucket
// that Observe counted it in.
func observedBucket(t *testing.T, h *Histogram, v float64) int {
	t.Helper()
	s := h.f.newSeries()
	s.Observe(v)
	for i, n := range s.counts {
		if n != 0 {
			return i
		}
	}
	t.Fatalf("Observe(%v) counted in no bucket", v)
	return -1
}

// bucketCases are bound sets with edges for the index: negative bounds,
// zero, subnormals, one bound per binade and many, the largest finite.
var bucketCases = map[string][]float64{
	"default":       DefaultBuckets(),
	"one":           {1},
	"zero":          {0},
	"negative only": {-10, -1, -0.5},
	"around zero":   {-1, -math.SmallestNonzeroFloat64, 0, math.SmallestNonzeroFloat64, 1},
	"subnormal":     {math.SmallestNonzeroFloat64, 1e-310, 1e-300},
	"linear":        LinearBuckets(0, 0.5, 200),
	"dense binade":  LinearBuckets(64, 1, 64),
	"exponential":   ExponentialBuckets(1e-9, 2, 100),
	"extremes":      {-math.MaxFloat64, -1, 1, math.MaxFloat64},
	"negative zero": {-1, math.Copysign(0, -1), 1},
	"only -0":       {math.Copysign(0, -1)},
	"-0 and up":     {math.Copysign(0, -1), 2, 1e300},
}

// TestBucketIndex checks that Observe's inline path and the index's search
// find the bucket that a binary search over the bounds finds (the number
// of bounds below the value, +Inf for NaN), at and beside every bound and
// for special and random values.
func TestBucketIndex(t *testing.T) {
	for name, bounds := range bucketCases {
		t.Run(name, func(t *testing.T) {
			h, err := NewHistogram("x_seconds", "X.", WithRegistry(NewRegistry()), WithBuckets(bounds...))
			if err != nil {
				t.Fatal(err)
			}
			values := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), math.NaN(),
				math.Copysign(math.NaN(), -1), math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64,
				math.MaxFloat64, -math.MaxFloat64}
			for _, b := range bounds {
				values = append(values, b, math.Nextafter(b, math.Inf(-1)), math.Nextafter(b, math.Inf(1)), b/2, b*2)
			}
			r := rand.New(rand.NewPCG(1, 2))
			for range 200 {
				values = append(values, math.Float64frombits(r.Uint64()), (r.Float64()-0.2)*2*bounds[len(bounds)-1])
			}
			for _, v := range values {
				want := sort.SearchFloat64s(bounds, v)
				if got := h.index.search(v); got != want {
					t.Errorf("search(%v) = %d, want %d", v, got, want)
				}
				if got := observedBucket(t, h, v); got != want {
					t.Errorf("Observe(%v) counted in bucket %d, want %d", v, got, want)
				}
			}
		})
	}
}

// FuzzBucketIndex checks the index against a binary search for arbitrary
// sorted bounds and values.
func FuzzBucketIndex(f *testing.F) {
	f.Add(0.005, 2.0, uint8(11), 3.0)
	f.Add(-1.0, 1e-300, uint8(3), 0.0)
	f.Add(1e-320, 1e10, uint8(40), math.Inf(1))
	f.Add(math.Copysign(0, -1), 1.0, uint8(3), 0.0)
	f.Add(-1.0, 1.0, uint8(2), math.Copysign(0, -1))
	f.Fuzz(func(t *testing.T, start, step float64, n uint8, v float64) {
		var bounds []float64
		for b := start; len(bounds) < int(n); b += step {
			if math.IsNaN(b) || math.IsInf(b, 0) || (len(bounds) > 0 && b <= bounds[len(bounds)-1]) {
				break
			}
			bounds = append(bounds, b)
			step *= 1.5
		}
		if len(bounds) == 0 {
			return
		}
		x := newBucketIndex(bounds)
		for _, v := range []float64{v, -v, start, math.Nextafter(start, v)} {
			if got, want := x.search(v), sort.SearchFloat64s(bounds, v); got != want {
				t.Fatalf("bounds %v: search(%v) = %d, want %d", bounds, v, got, want)
			}
		}
	})
}
