package prom

import (
	"math"
	"sort"
)

// bucketIndex finds the bucket of an observation in a step or two, for any
// number of buckets: a float's top 12 bits (sign and exponent) give its
// binade, and the index holds, for every binade from the smallest
// non-negative bound's to the largest bound's, how many bounds lie below
// the binade's first value. A value's bucket then lies between its
// binade's entry and the next one's: with the default buckets that is at
// most one bound to compare.
type bucketIndex struct {
	bounds    []float64
	first     uint64  // the binade of start[0]
	start     []int32 // start[k] = bounds below the first value of binade first+k; one entry past the last binade
	negatives int     // bounds below zero: the bucket of a positive value below binade first
}

func newBucketIndex(bounds []float64) bucketIndex {
	x := bucketIndex{bounds: bounds, negatives: sort.SearchFloat64s(bounds, 0)}
	if x.negatives == len(bounds) { // no bound >= 0: every positive value is past them
		x.first, x.start = math.MaxUint64>>1, make([]int32, 1)
		return x
	}
	// Abs: a bound of -0 is not below zero, and its binade is +0's.
	x.first = math.Float64bits(math.Abs(bounds[x.negatives])) >> 52
	last := math.Float64bits(math.Abs(bounds[len(bounds)-1])) >> 52
	x.start = make([]int32, last-x.first+2)
	for k := range x.start {
		lo := math.Float64frombits((x.first + uint64(k)) << 52)
		x.start[k] = int32(sort.SearchFloat64s(bounds, lo))
	}
	return x
}

// search returns the index of the bucket that v falls in: the number of
// bounds below v. NaN falls in the +Inf bucket, after every bound.
// HistogramSeries.Observe does its common case, a value whose binade holds
// at most one bound, without the call.
func (x *bucketIndex) search(v float64) int {
	b := x.bounds
	bits := math.Float64bits(v)
	var i, j int
	if k := bits>>52 - x.first; k < uint64(len(x.start)-1) {
		i, j = int(x.start[k]), int(x.start[k+1])
	} else if bits>>63 != 0 { // negative, or a NaN with the sign bit
		i, j = 0, len(b)
	} else if bits>>52 < x.first {
		i, j = x.negatives, x.negatives
	} else { // past every bound, or NaN
		i, j = len(b), len(b)
	}
	if j-i > 8 {
		return i + sort.SearchFloat64s(b[i:j], v) // j-i for NaN
	}
	for i < j && !(v <= b[i]) { // NaN runs to j
		i++
	}
	return i
}
