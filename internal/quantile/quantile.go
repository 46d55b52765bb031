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
	"math/bits"
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
	pieces        []piece     // f as linear pieces; see limits
	scaled        []piece     // pieces scaled to the n of a pass; scratch

	n       uint64    // number of values represented by samples (sum of g)
	buf     []float64 // values not yet merged into samples
	samples []sample
	scratch []sample // spare slice for the merge passes
}

// Workspace is room for merging a batch (InsertBatchIn) that Streams can
// share, one at a time, so that each keeps room for its samples only
// between batches: a Stream that merges in place keeps room for its samples
// plus a whole batch. The zero value is ready to use.
type Workspace struct {
	buf []sample
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
	s.pieces = pieces(s.inv)
	s.scaled = make([]piece, 0, len(s.pieces)+1)
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
	if s.buf == nil {
		// Allocated on first use: a Stream fed only through InsertSorted
		// or InsertBatch never needs it.
		s.buf = make([]float64, 0, bufferSize)
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
// be sorted or holds NaN, is inserted value by value, which costs more but
// stays correct.
func (s *Stream) InsertSorted(vs []float64) {
	if !s.hasObjectives {
		for _, v := range vs {
			if v == v {
				s.n++
			}
		}
		return
	}
	if len(vs) < bufferSize || !isSorted(vs) {
		for _, v := range vs {
			s.Insert(v)
		}
		return
	}
	s.flush()
	s.mergeCompress(vs, nil)
}

// InsertBatch adds every value of vs, in any order, for a caller that
// batches: the values are merged at once, without going through the
// buffer. NaN elements are ignored. vs is reordered (sorted, NaN values
// moved to the end) but not retained. It costs one sort of vs and one pass
// over the retained samples, so batches of a few hundred values amortise
// the pass; a short batch is still correct.
func (s *Stream) InsertBatch(vs []float64) { s.InsertBatchIn(vs, nil) }

// InsertBatchIn is InsertBatch merging in w, which it leaves for another
// Stream to use, instead of in room that s keeps; w == nil merges in place.
func (s *Stream) InsertBatchIn(vs []float64, w *Workspace) {
	// Move NaN values to the end and drop them.
	k := 0
	for i, v := range vs {
		if v == v {
			vs[k], vs[i] = v, vs[k]
			k++
		}
	}
	vs = vs[:k]
	if !s.hasObjectives {
		s.n += uint64(k)
		return
	}
	if k == 0 {
		return
	}
	s.flush()
	sortFloats(vs)
	s.mergeCompress(vs, w)
}

// isSorted reports whether vs is in ascending order and holds no NaN.
func isSorted(vs []float64) bool {
	prev := math.Inf(-1)
	for _, v := range vs {
		if !(v >= prev) {
			return false
		}
		prev = v
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
//
// Arrays of more than maxKept elements are let go rather than kept for
// reuse: a stream that grew large (one with an Epsilon of 0, say) does not
// hold that memory once its values are gone.
func (s *Stream) Reset() {
	s.n = 0
	s.buf = trimmed(s.buf)
	s.samples = trimmed(s.samples)
	s.scratch = trimmed(s.scratch)
}

// maxKept is the largest array, in elements, that Reset and a Workspace
// keep for reuse: far more than a stream of useful objectives holds (a few
// hundred samples) and a batch (bufferSize values), so only a stream that
// keeps nearly every value lets its arrays go.
const maxKept = 4096

// trimmed returns a emptied, or nil if its array holds over maxKept
// elements.
func trimmed[E any](a []E) []E {
	if cap(a) > maxKept {
		return nil
	}
	return a[:0]
}

// Merge adds the values summarised by other to s; other keeps its contents
// (its buffer is flushed) and may be s itself. s's objectives govern the
// result, except that merging into an empty s copies other's samples as
// they are (callers merge streams of the same objectives). A Stream without
// objectives summarises nothing, so merging it into one with objectives
// changes nothing; merging into a Stream without objectives only adds the
// counts.
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
	if len(a) == 0 && s != other {
		// Into an empty stream (the first of a read's merges): other's
		// samples as they are, compressed already.
		s.samples = append(a, b...)
		s.n = other.n
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
	s.mergeCompress(s.buf, nil)
	s.buf = s.buf[:0]
}

// mergeCompress is mergeSorted followed by compress, fused into one
// backward pass that writes the result in place: vs (ascending, no NaN) is
// merged into the samples as if inserted one at a time in order, and every
// sample that the invariant allows is folded into its successor. The
// result is identical to mergeSorted then compress (TestMergeCompress),
// without the intermediate list.
func (s *Stream) mergeCompress(vs []float64, ws *Workspace) {
	lo, lv := len(s.samples), len(vs)
	total := lo + lv
	if total < 3 {
		s.mergeSorted(vs) // compress keeps the first and last samples
		return
	}
	// The result is written from the back of buf while old is read: buf
	// is the workspace, or old's own array grown to total, whose write
	// index stays above the unread old samples (below).
	old := s.samples
	var buf []sample
	if ws != nil {
		buf = slices.Grow(ws.buf[:0], total)[:total]
	} else {
		buf = slices.Grow(old, lv)[:total]
	}
	n := s.n + uint64(lv)
	s.n = n
	lim := s.limitsFor(float64(n))
	// Walk the merged list backwards: old samples old[i], i from lo−1, and
	// new values vs[j], j from lv−1; on equal values the new one comes
	// after the old (it goes after every sample ≤ v). A new value's Δ is
	// g+Δ−1 of the old sample that follows it, 0 when none follows or none
	// precedes it. Output is written from buf[total−1] down; the write
	// index w stays above every unread old sample, since w ≥ i+j+2.
	i, j := lo-1, lv-1
	nextW := uint64(0) // g+Δ−1 of the last old sample taken; 0 before any
	var cur, si sample
	r := n // sum of g before the element taken last
	w := total
	for k := total - 1; k >= 0; k-- {
		if j >= 0 && (i < 0 || vs[j] >= old[i].v) {
			si = sample{v: vs[j], g: 1}
			if i >= 0 {
				si.delta = nextW
			}
			j--
		} else {
			si = old[i]
			i--
			nextW = si.g + si.delta - 1
		}
		r -= si.g
		switch {
		case k == total-1:
			cur = si
			continue
		case k == 0:
		default:
			// Fold si into cur if g+Δ stays within f: lim.fits, written
			// out here (it does not inline), the pass's hottest line.
			x, rf := float64(int64(si.g+cur.g+cur.delta)), float64(int64(r))
			if p := &lim.ps[0]; rf >= p.lo && rf <= p.hi {
				if x > p.m*(rf-p.off) {
					break
				}
			} else if x > lim.at(rf) {
				break
			}
			cur.g += si.g
			continue
		}
		w--
		buf[w] = cur
		cur = si
	}
	w--
	buf[w] = cur
	if ws != nil {
		ws.buf = trimmed(buf) // shared by every stream: not kept at the largest
		s.samples = append(old[:0], buf[w:total]...)
		return
	}
	s.samples = buf[:copy(buf, buf[w:total])]
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
	lim := s.limitsFor(float64(s.n))
	w := k - 1 // ss[w] receives cur once it is final; always w > i
	cur := ss[k-1]
	r := s.n - cur.g // sum of g before sample i+1, then before sample i
	for i := k - 2; i >= 1; i-- {
		si := ss[i]
		r -= si.g
		if lim.fits(si.g+cur.g+cur.delta, r) {
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
//
// It compares with < and > rather than the min and max builtins, whose
// care for NaN and signed zeros costs several instructions each: r and n
// are finite and 0 <= r <= n, so no NaN or -0 arises (the products are
// +0 at worst), and the result is the same.
func (s *Stream) f(r, n float64) float64 {
	m := math.Inf(1)
	for _, iv := range s.inv {
		x, y := iv.a*r, iv.b*(n-r)
		if y > x {
			x = y
		}
		if x < m {
			m = x
		}
	}
	return m
}

// piece is a stretch of r, [lo, hi], over which f(r, n) is one of its
// lines, m·(r−off): a·r (m = a, off = 0) or b·(n−r), written −b·(r−n) (m =
// −b, off = n), which rounds to the same bits. In Stream.pieces lo, hi and
// off are fractions of n; in a pass they are scaled to its n.
type piece struct {
	lo, hi, m, off float64
}

// pieces splits f(r, 1) at every point where two of its lines cross, and
// names the line that f follows between them (f(r, n) is n·f(r/n, 1), so the
// split holds for every n).
func pieces(inv []invariant) []piece {
	cuts := []float64{0, 1}
	for _, x := range inv {
		for _, y := range inv {
			// x's rising line meets y's falling one; the rising lines
			// all meet at 0 and the falling ones at 1.
			if c := y.b / (x.a + y.b); c > 0 && c < 1 { // not NaN (ε = 0)
				cuts = append(cuts, c)
			}
		}
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var ps []piece
	for i := len(cuts) - 1; i > 0; i-- {
		lo, hi := cuts[i-1], cuts[i]
		mid := (lo + hi) / 2
		m := math.Inf(1)
		var best piece
		for _, iv := range inv {
			for _, c := range [...]piece{{m: iv.a}, {m: -iv.b, off: 1}} {
				// f at mid is the max of each objective's pair, then the
				// min over objectives: the line whose value it is.
				v := c.m * (mid - c.off)
				if other := max(iv.a*mid, iv.b*(1-mid)); v == other && v < m {
					m, best = v, c
				}
			}
		}
		best.lo, best.hi = lo, hi
		ps = append(ps, best) // descending, the order of the passes
	}
	return ps
}

// limits evaluates f(r, n) for the backward passes, whose r only falls:
// it follows the pieces, one multiplication per call, and calls f itself
// within a guard of each cut (where rounding could make another line the
// smaller). Its value is a function of r and n alone, so the passes that
// use it agree with each other (TestMergeCompress); it is within rounding
// of f.
type limits struct {
	s  *Stream
	n  float64
	ps []piece // ends with a piece that holds no r, so it is never empty
}

// limitsFor returns the limits of a pass over a stream of n values.
func (s *Stream) limitsFor(n float64) limits {
	guard := 1 + n*1e-9
	ps := s.scaled[:0]
	for _, p := range s.pieces {
		p.lo, p.hi, p.off = p.lo*n+guard, p.hi*n-guard, p.off*n
		if p.lo <= p.hi {
			ps = append(ps, p)
		}
	}
	ps = append(ps, piece{lo: math.Inf(-1), hi: math.Inf(-1)})
	return limits{s: s, n: n, ps: ps}
}

// fits reports whether a rank uncertainty x is allowed at r: x <= f(r, n).
// r must not rise from one call to the next. The counts go through int64
// (they are far below 2^63), whose conversion to float64 is one
// instruction where uint64's takes several.
func (l *limits) fits(x, r uint64) bool {
	rf := float64(int64(r))
	if p := &l.ps[0]; rf >= p.lo && rf <= p.hi {
		return float64(int64(x)) <= p.m*(rf-p.off)
	}
	return float64(int64(x)) <= l.at(rf)
}

// at returns f(r, n); r must not rise from one call to the next.
func (l *limits) at(r float64) float64 {
	for r < l.ps[0].lo {
		l.ps = l.ps[1:]
	}
	if p := &l.ps[0]; r <= p.hi {
		return p.m * (r - p.off)
	}
	return l.s.f(r, l.n)
}

// maxSortLen is the longest slice sortFloats sorts with its bucket sort;
// longer ones use slices.Sort.
const maxSortLen = 1024

// sortFloats sorts a (no NaN) in ascending order. Slices of up to
// maxSortLen values are mapped to the order-preserving integer keys of their
// bit patterns (sortKey) and distributed by the leading bits of key−min
// into about two buckets per value (a counting sort, one pass), and an insertion sort then
// orders each bucket. The keys follow the floating-point exponent, so the
// buckets spread roughly logarithmically and typical batches leave one or
// two values per bucket; a bucket that receives many values (clustered
// data) is sorted on its own with the same method on its narrower key
// range, which ends at once for a bucket of equal values.
func sortFloats(a []float64) {
	if len(a) > maxSortLen {
		slices.Sort(a)
		return
	}
	var keys, tmp [maxSortLen]uint64
	k := keys[:len(a)]
	lo, hi := ^uint64(0), uint64(0)
	for i, v := range a {
		x := sortKey(v)
		k[i] = x
		lo, hi = min(lo, x), max(hi, x)
	}
	if sortKeysIn(k, tmp[:len(a)], lo, hi) {
		k = tmp[:len(a)]
	}
	for i, key := range k {
		a[i] = fromSortKey(key)
	}
}

// sortKeysIn sorts k, whose keys lie in [lo, hi], using tmp (of the same
// length) as scratch, and reports whether the result is in tmp rather than
// k.
func sortKeysIn(k, tmp []uint64, lo, hi uint64) bool {
	if len(k) <= 16 {
		insertionSort(k)
		return false
	}
	if lo == hi {
		return false
	}
	// About two buckets per value, at most 1024.
	nb := min(bits.Len(uint(len(k)))+1, 10)
	shift := max(bits.Len64(hi-lo)-nb, 0)
	var cnt [1 << 10]uint16 // maxSortLen < 1<<16
	c := cnt[:1<<nb]
	for _, x := range k {
		c[(x-lo)>>shift]++
	}
	var sum, most uint16
	for b, n := range c {
		c[b] = sum
		sum += n
		most = max(most, n)
	}
	// c[b] is now the start of bucket b; the scatter advances it to the
	// start of bucket b+1.
	for _, x := range k {
		b := (x - lo) >> shift
		tmp[c[b]] = x
		c[b]++
	}
	if most > 16 {
		start := 0
		for _, end := range c {
			if b := tmp[start:end]; len(b) > 16 {
				blo, bhi := b[0], b[0]
				for _, x := range b {
					blo, bhi = min(blo, x), max(bhi, x)
				}
				if sortKeysIn(b, k[start:end], blo, bhi) {
					copy(b, k[start:end])
				}
			}
			start = int(end)
		}
	}
	// Buckets are in order and the large ones sorted; this pass orders
	// the small ones.
	insertionSort(tmp)
	return true
}

func insertionSort(k []uint64) {
	for i := 1; i < len(k); i++ {
		x := k[i]
		j := i
		for j > 0 && k[j-1] > x {
			k[j] = k[j-1]
			j--
		}
		k[j] = x
	}
}

// fromSortKey inverts sortKey.
func fromSortKey(k uint64) float64 {
	return math.Float64frombits(k ^ (uint64(int64(^k)>>63) | 1<<63))
}

// sortKey maps v to an unsigned integer with the same order (−0 before +0).
func sortKey(v float64) uint64 {
	b := math.Float64bits(v)
	return b ^ (uint64(int64(b)>>63) | 1<<63)
}
