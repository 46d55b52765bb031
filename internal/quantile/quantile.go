// Package quantile estimates targeted quantiles of a stream of float64
// values in bounded memory, following Cormode, Korn, Muthukrishnan and
// Srivastava, "Effective Computation of Biased Quantiles over Data Streams"
// (ICDE 2005), in its targeted-quantiles form.
//
// # Summary
//
// A Stream keeps a sorted list of samples (v, g, Δ). With r_i the sum of g_j
// over the samples before sample i, the rank of the value v_i among all
// inserted values is known to lie in [r_i+g_i, r_i+g_i+Δ_i]. The first
// sample is always the exact minimum and the last sample the exact maximum.
//
// # Invariant
//
// The paper bounds the rank uncertainty of a sample, g_i+Δ_i, by
// f(r_i, n) = min over the objectives (q, ε) of 2ε·r/q when r ≥ q·n and
// 2ε·(n−r)/(1−q) otherwise. With that function a sample just below the rank
// window of an objective may span up to 2ε²n/(1−q−2ε) ranks more than the
// window allows, so the paper's guarantee can be missed by that amount. This
// package uses the same shape with the crossover moved to the bottom edge of
// the window:
//
//	f_j(r, n) = max(2ε·r/(q−ε), 2ε·(n−r)/(1−q+ε))
//
// (and no constraint from an objective whose window reaches 0 or 1). It is
// the largest function that keeps, for every later n, every sample that lies
// entirely below the window [(q−ε)n, (q+ε)n] from reaching past its top; it
// never decreases when values are inserted, so the invariant, once
// established, survives later insertions. Under this invariant every
// objective's window contains a whole sample interval, which gives the
// guarantee below exactly instead of approximately.
//
// # Guarantee
//
// For every objective (q, ε), Query(q) returns a value whose rank among the
// n inserted values lies in [(q−ε)·n, (q+ε)·n], widened by one rank when
// the window is too narrow to contain an integer. Query is monotonic
// non-decreasing in q. After Merge the error bounds add (see Merge).
//
// # Operation
//
// Insert appends to a buffer of 500 values. A full buffer is sorted (radix
// sort on the bit patterns), merged into the sample list in one linear pass,
// and then one backward pass compresses the list (sample i is folded into
// sample i+1 when g_i+g_{i+1}+Δ_{i+1} ≤ f(r_i, n)). A new sample takes
// Δ = g+Δ−1 of the sample that follows it (0 at either end), the tightest
// value that keeps its interval correct; under the invariant it is never
// larger than the paper's ⌊f⌋−1. Slices are reused, so steady-state
// insertion does not allocate.
//
// With the objectives 0.5±0.05, 0.9±0.01 and 0.99±0.001 a stream of a
// million values retains a few dozen samples.
package quantile

import (
	"math"
	"slices"
)

// bufferSize is the number of values buffered by Insert before a flush.
const bufferSize = 500

// Objective is one targeted quantile with its allowed rank error: Query
// returns a value whose rank lies within (Quantile ± Epsilon)·n. Quantile
// should be in [0, 1] and Epsilon in [0, 1); callers validate. An Epsilon
// of 0 keeps every distinct value, so memory is then unbounded.
type Objective struct {
	Quantile, Epsilon float64
}

// Stream estimates targeted quantiles of a stream of float64 values.
// Not safe for concurrent use; callers lock.
//
// NaN values are ignored: they are neither stored nor counted, and they do
// not affect any quantile. Positive and negative infinities are ordinary
// values.
type Stream struct {
	hasObjectives bool
	inv           []invariant // objectives that constrain compression

	n       uint64    // number of values represented by samples (sum of g)
	buf     []float64 // values not yet merged into samples
	samples []sample
	scratch []sample // spare slice for the merge passes
}

// sample is one retained value. Its rank is in [rmin, rmin+delta] where
// rmin is the sum of g over this and all preceding samples.
type sample struct {
	v     float64
	g     uint64
	delta uint64
}

// invariant holds the two slopes of f_j(r, n) = max(a·r, b·(n−r)).
type invariant struct {
	a, b float64
}

// New returns an empty Stream for the given objectives, which the caller
// has validated; the slice is not retained. With no objectives the Stream
// only counts values and Query returns NaN.
func New(objectives []Objective) *Stream {
	s := &Stream{hasObjectives: len(objectives) > 0}
	for _, o := range objectives {
		q, e := o.Quantile, o.Epsilon
		if !(q-e > 0 && q+e < 1) {
			// The window [(q−e)n, (q+e)n] reaches rank 0 or n: the
			// exact minimum or maximum satisfies it with no constraint
			// on the other samples. This also skips NaN parameters.
			continue
		}
		s.inv = append(s.inv, invariant{a: 2 * e / (q - e), b: 2 * e / (1 - q + e)})
	}
	if s.hasObjectives {
		s.buf = make([]float64, 0, bufferSize)
	}
	return s
}

// Insert adds v to the stream. NaN is ignored. Values are buffered and
// merged into the summary in batches.
func (s *Stream) Insert(v float64) {
	if v != v {
		return
	}
	if !s.hasObjectives {
		s.n++
		return
	}
	s.buf = append(s.buf, v)
	if len(s.buf) == cap(s.buf) {
		s.flush()
	}
}

// InsertSorted adds every value of vs, for a caller that already batches.
// vs is expected in ascending order; NaN elements are ignored. The slice is
// neither modified nor retained. A long sorted slice is merged directly,
// without buffering or sorting; a short one, or one that turns out not to
// be sorted, is inserted value by value, which costs more but stays
// correct.
func (s *Stream) InsertSorted(vs []float64) {
	if !s.hasObjectives {
		for _, v := range vs {
			if v == v {
				s.n++
			}
		}
		return
	}
	if len(vs) < cap(s.buf) || !isSorted(vs) {
		for _, v := range vs {
			s.Insert(v)
		}
		return
	}
	s.flush()
	s.mergeSorted(vs)
	s.compress()
}

// isSorted reports whether the non-NaN elements of vs are in ascending order.
func isSorted(vs []float64) bool {
	prev := math.Inf(-1)
	for _, v := range vs {
		if v < prev {
			return false
		}
		if v == v {
			prev = v
		}
	}
	return true
}

// Query returns the estimated q-quantile of the values inserted so far, or
// NaN when the stream holds no value, q is NaN or there are no objectives.
// q is clamped to [0, 1]. For a q that is one of the objectives the result
// satisfies that objective's rank bound (see the package documentation); for
// other q the rank error is at most min over objectives of
// (ε + |q − Quantile|)·n. Among the retained samples Query picks the one
// whose rank interval lies closest to q·n, so while the summary is still
// exact (few values) it returns the nearest-rank quantile.
func (s *Stream) Query(q float64) float64 {
	s.flush()
	if len(s.samples) == 0 || q != q {
		return math.NaN()
	}
	q = min(max(q, 0), 1)
	t := q * float64(s.n)
	// Choose the sample minimising the worst-case rank error
	// max(t−rmin, rmax−t). Ties go to the later sample; this makes the
	// choice non-decreasing in t (and so in q).
	best, bestErr := 0, math.Inf(1)
	var rmin uint64
	for i, sm := range s.samples {
		rmin += sm.g
		lo := float64(rmin)
		e := max(t-lo, lo+float64(sm.delta)-t)
		if e <= bestErr {
			best, bestErr = i, e
		}
		if lo-t >= bestErr {
			// Every later sample has a larger rmin, hence an
			// error above rmin−t ≥ bestErr.
			break
		}
	}
	return s.samples[best].v
}

// Count returns the number of values inserted (NaN values excluded),
// including values merged in by Merge.
func (s *Stream) Count() uint64 {
	return s.n + uint64(len(s.buf))
}

// Reset forgets every value and keeps the allocated capacity, so a reused
// Stream does not allocate again.
func (s *Stream) Reset() {
	s.n = 0
	s.buf = s.buf[:0]
	s.samples = s.samples[:0]
	s.scratch = s.scratch[:0]
}

// Merge adds the values summarised by other to s; other keeps its contents
// (its buffer is flushed) and may be s itself. s's objectives govern the
// result. A Stream without objectives summarises nothing, so merging it
// into one with objectives changes nothing; merging into a Stream without
// objectives only adds the counts.
//
// Merge combines the retained samples rather than the original values:
// every merged sample keeps a correct rank interval, whose width is the sum
// of the widths of the overlapping intervals of the two inputs. So errors
// add. When the inputs have similar distributions, as consecutive time
// windows of one source usually do, each objective (q, ε) then holds within
// about 2ε (ε from each input), and further merges add more. When the
// inputs differ strongly, the union's target rank can fall where one input
// keeps only coarse samples (far from its own targets) and the error can be
// larger; it is always at most half the widest merged sample interval
// g+Δ, plus one rank. Query still returns the sample with the smallest worst-case error,
// and compression never widens an interval.
func (s *Stream) Merge(other *Stream) {
	if other == nil {
		return
	}
	s.flush()
	other.flush()
	if !s.hasObjectives {
		s.n += other.Count()
		return
	}
	a, b := s.samples, other.samples
	if len(b) == 0 {
		return
	}
	na, nb := s.n, other.n
	out := slices.Grow(s.scratch[:0], len(a)+len(b))
	// Walk both lists in value order, ties taking a first. Every item of
	// the other list that falls between two of its consecutive samples
	// is unknown beyond its rank interval, so a merged sample's rmax
	// grows by the uncertainty of the other list's sample that follows it
	// (or by nothing past its end). Its g is unchanged: rmin grows by
	// the other list's rmin before it, which is the same for all samples
	// of one list between two samples of the other.
	var ra, rb uint64 // sum of g over the samples of a, b taken so far
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j == len(b) || (i < len(a) && a[i].v <= b[j].v) {
			x := a[i]
			if j < len(b) {
				x.delta += b[j].g + b[j].delta - 1
			} else {
				x.delta += nb - rb
			}
			ra += x.g
			out = append(out, x)
			i++
		} else {
			y := b[j]
			if i < len(a) {
				y.delta += a[i].g + a[i].delta - 1
			} else {
				y.delta += na - ra
			}
			rb += y.g
			out = append(out, y)
			j++
		}
	}
	s.scratch, s.samples = s.samples[:0], out
	s.n = na + nb
	s.compress()
}

// flush merges the buffered values into the samples and compresses.
func (s *Stream) flush() {
	if len(s.buf) == 0 {
		return
	}
	sortFloats(s.buf)
	s.mergeSorted(s.buf)
	s.buf = s.buf[:0]
	s.compress()
}

// mergeSorted inserts the ascending values vs (NaN elements skipped) into
// the samples in one linear pass, as if inserted one at a time in order.
func (s *Stream) mergeSorted(vs []float64) {
	old := s.samples
	out := slices.Grow(s.scratch[:0], len(old)+len(vs))
	i := 0
	for _, v := range vs {
		if v != v {
			continue
		}
		// A new value goes after every sample ≤ v.
		for i < len(old) && old[i].v <= v {
			out = append(out, old[i])
			i++
		}
		// Its rank is above the rmin of the sample before it and
		// below the rmax of the sample after it.
		var d uint64
		if i > 0 && i < len(old) {
			d = old[i].g + old[i].delta - 1
		}
		out = append(out, sample{v: v, g: 1, delta: d})
		s.n++
	}
	out = append(out, old[i:]...)
	s.scratch, s.samples = old[:0], out
}

// compress folds samples into their successors wherever the invariant
// allows, in one backward pass. The first and last samples (the exact
// minimum and maximum) are kept.
func (s *Stream) compress() {
	ss := s.samples
	k := len(ss)
	if k < 3 {
		return
	}
	nf := float64(s.n)
	w := k - 1 // ss[w] receives cur once it is final; always w > i
	cur := ss[k-1]
	r := s.n - cur.g // sum of g before sample i+1, then before sample i
	for i := k - 2; i >= 1; i-- {
		si := ss[i]
		r -= si.g
		if float64(si.g+cur.g+cur.delta) <= s.f(float64(r), nf) {
			cur.g += si.g
			continue
		}
		ss[w] = cur
		w--
		cur = si
	}
	ss[w] = cur
	w--
	ss[w] = ss[0]
	s.samples = ss[:copy(ss, ss[w:])]
}

// f is the largest rank uncertainty g+Δ allowed for a sample whose
// predecessors sum to r, when the stream holds n values.
func (s *Stream) f(r, n float64) float64 {
	m := math.Inf(1)
	for _, iv := range s.inv {
		m = min(m, max(iv.a*r, iv.b*(n-r)))
	}
	return m
}

// sortFloats sorts a (no NaN, at most bufferSize elements) in ascending
// order. It is an LSD radix sort on the order-preserving bit pattern of the
// values, one byte per pass, skipping passes in which every value has the
// same byte; short slices use comparison sorting.
func sortFloats(a []float64) {
	if len(a) < 64 || len(a) > bufferSize {
		slices.Sort(a)
		return
	}
	var cnt [8][256]uint16 // bufferSize < 1<<16
	for _, v := range a {
		k := sortKey(v)
		for p := range cnt {
			cnt[p][byte(k>>(8*p))]++
		}
	}
	var tmp [bufferSize]float64
	src, dst := a, tmp[:len(a)]
	for p := range cnt {
		c := &cnt[p]
		shift := uint(8 * p)
		if int(c[byte(sortKey(src[0])>>shift)]) == len(src) {
			continue // every value has this byte
		}
		var sum uint16
		for i, n := range c {
			c[i] = sum
			sum += n
		}
		for _, v := range src {
			d := byte(sortKey(v) >> shift)
			dst[c[d]] = v
			c[d]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}

// sortKey maps v to an unsigned integer with the same order (−0 before +0).
func sortKey(v float64) uint64 {
	b := math.Float64bits(v)
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}
