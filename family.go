package prom

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/promgo/prom/internal/expo"
)

// seriesHeader is what every series carries: its identity and its rendered
// labels.
type seriesHeader struct {
	hash    uint32        // of the label values (31 bits), and plainText
	seen    atomic.Uint32 // the expiry tick of its latest lookup; see sweep
	created int64         // Unix nanoseconds
	labels  expo.Labels   // constant labels first, then the variable ones
}

// plainText is the bit of seriesHeader.hash that tells the series'
// variable labels were rendered without escaping (its Text has no
// backslash from the family's varsAt on): findValues then compares values
// with the text byte for byte (expo.EqualPlainValuesAt). Label hashes
// have 30 bits, so the bit never takes part in a table index.
const plainText = 1 << 31

// tombstoneBit is the hash of a family's tombstone, which takes the slot
// of a deleted series in its table: no label hash has the bit, so every
// lookup passes the tombstone by and goes on probing.
const tombstoneBit = 1 << 30

// seriesPtr is the constraint on a family's series type: a pointer to a
// struct that embeds seriesHeader.
type seriesPtr[T any] interface {
	*T
	header() *seriesHeader
}

func (h *seriesHeader) header() *seriesHeader { return h }

// headerOf is p.header() for the lookup path. A method of a type parameter
// is called through the generic dictionary, which costs a call per probe;
// every series type embeds seriesHeader at headerOffset (asserted below, at
// compile time), so p plus that offset points at its header.
func headerOf[T any](p *T) *seriesHeader {
	return (*seriesHeader)(unsafe.Add(unsafe.Pointer(p), headerOffset))
}

// headerOffset is where every series type has its seriesHeader: after one
// 8-byte word of its own (a counter's fractional increments and Inc's
// flag, a gauge's value, a histogram's sum, a summary's age bucket length).
// The inliner charges less for a field at offset 0, which keeps
// CounterSeries.Inc, which reads and sets that word, within its budget.
const headerOffset = 8

// A compile error here means a series type no longer has its seriesHeader
// at headerOffset, which headerOf relies on.
var _ = [1]struct{}{}[unsafe.Offsetof(CounterSeries{}.seriesHeader)^headerOffset|
	unsafe.Offsetof(GaugeSeries{}.seriesHeader)^headerOffset|
	unsafe.Offsetof(HistogramSeries{}.seriesHeader)^headerOffset|
	unsafe.Offsetof(SummarySeries{}.seriesHeader)^headerOffset]

// table is an open-addressing hash table of series. Readers load it through
// an atomic pointer and never lock; writers hold the family's mutex and
// publish a grown or rebuilt table with one atomic store.
type table[T any] struct {
	slots []atomic.Pointer[T]
	mask  uint64
	count int // the series in slots
	tombs int // the slots that hold the tombstone
}

// slotOf returns the index of the slot that holds p, whose hash is hash,
// or -1.
func (t *table[T]) slotOf(p *T, hash uint32) int {
	for i := uint64(hash) & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i].Load() {
		case nil:
			return -1
		case p:
			return int(i)
		}
	}
}

func newTable[T any](size int) *table[T] {
	n := 8
	for n*3 < size*4 { // load factor at most 3/4
		n *= 2
	}
	return &table[T]{slots: make([]atomic.Pointer[T], n), mask: uint64(n - 1)}
}

// family is the label index shared by all metric types.
type family[T any, PT seriesPtr[T]] struct {
	familyMeta
	schema labelSchema
	// fullNames is the full label name list for declared families, shared
	// by all their series.
	fullNames []string
	// varsAt is where the variable labels start in the Text of every
	// series of a declared family: after its constant labels, which all
	// its series render the same.
	varsAt     int
	initSeries func(PT) // sets up a zero series' fields beyond the header

	tab atomic.Pointer[table[T]]
	mu  sync.Mutex
	// order holds the series in insertion order, and the deleted ones
	// (dead of them) until compact leaves them out. Appended under mu,
	// never written below its length: replaced by compact and sweep.
	order []PT
	dead  int
	tomb  PT // the tombstone, made at the first delete; under mu
	plain atomic.Pointer[T]
	// inlineState says whether plain == &inline (inlineLive). It is its
	// own word, not that comparison, because one load keeps the metric
	// types' unlabelled methods within the inlining budget (measured:
	// comparing plain made Gauge.Add 5.4 -> 6.3 ns).
	inlineState atomic.Uint32
	// inlineChanged, when set (Counter sets it), is told of every change
	// of inlineState, under mu.
	inlineChanged func(live bool)
	// inline is the unlabelled series, held in the family itself so the
	// updates of an unlabelled metric need no pointer load: live while it
	// is in the family. Once removed it is never reused; a later
	// unlabelled series is allocated like any other.
	inline T
	// nextPlain is the series that the next unlabelled series created
	// becomes: inline at first, then nil (allocate one), unless the metric
	// type sets another (Gauge does, for its pending series). Under mu.
	nextPlain PT
	// plainOf, when set, is the metric type's way to its unlabelled
	// series, for a label map that names none (Gauge registers its
	// pending series there).
	plainOf func() (PT, error)
	// beforeLabelled, when set, runs before a labelled series is made,
	// without locks held: Gauge registers its pending unlabelled series
	// there if it has been updated, so that series keep the order of
	// their first use.
	beforeLabelled func()
	discard        PT // detached series that takes updates with invalid labels
	overflow       PT // the series past the limit, made on first use; under mu
	// hint holds the sorted label names of the latest series of a family
	// without declared names; see mapKey.
	hint     atomic.Pointer[[]string]
	nameSets map[string]*nameSet // under mu

	// Idle expiry (WithIdleExpiry): a lookup marks the series it finds
	// with the current tick, an eighth of the expiry long; a sweep removes
	// the labelled series whose latest mark is more than the expiry ago.
	// See sweep.
	expiry    time.Duration
	tickLen   time.Duration
	tick0     time.Time
	now       func() time.Time
	lastSweep uint32 // the tick of the latest sweep; under mu
}

// The values of family.inlineState.
const (
	inlineGone = iota // not (or no longer) the unlabelled series
	inlineLive        // the unlabelled series
)

// ticksPerExpiry is how many ticks an expiry lasts: the resolution of
// expiry, which removes a series between 1 and 1+2/ticksPerExpiry
// expiries after its last lookup, plus the time to the next sweep.
const ticksPerExpiry = 8

func (f *family[T, PT]) init(o *options, typ expo.Type, reserved string, initSeries func(PT)) error {
	if err := checkMetricName(o.name); err != nil {
		return err
	}
	if typ == expo.Counter && o.name == "_total" {
		return fmt.Errorf("prom: %w: counter name %q leaves nothing before _total for its OpenMetrics family name", ErrInvalidName, o.name)
	}
	if err := checkUnit(o.name, o.unit, typ); err != nil {
		return err
	}
	schema, err := newLabelSchema(o.name, reserved, o.labelNames, o.constLabels)
	if err != nil {
		return err
	}
	f.name, f.help, f.unit, f.typ = o.name, o.help, o.unit, typ
	f.maxSeries.Store(int64(o.maxSeries))
	f.expiry, f.now = o.idleExpiry, time.Now
	f.tick0 = f.now()
	f.tickLen = max(f.expiry/ticksPerExpiry, 1)
	if f.expiry > 0 {
		f.prepare = func() {
			f.mu.Lock()
			f.sweep()
			f.mu.Unlock()
		}
	}
	f.schema = schema
	f.initSeries = initSeries
	if schema.declared != nil {
		f.fullNames = slices.Concat(schema.constNames, schema.declared)
		if nc := len(schema.constNames); nc > 0 && len(schema.declared) > 0 {
			consts := f.fullNames[:nc]
			f.varsAt = len(expo.MakeLabels(&consts, schema.constVals).Text) + 1 // and the comma
		}
	}
	f.tab.Store(newTable[T](0))
	f.discard = f.newSeries()
	f.nextPlain = &f.inline
	return nil
}

// newSeries allocates a series.
func (f *family[T, PT]) newSeries() PT {
	p := PT(new(T))
	f.initSeries(p)
	return p
}

func (f *family[T, PT]) hintNames() []string {
	if h := f.hint.Load(); h != nil {
		return *h
	}
	return nil
}

// lookup finds an existing series without locking or allocating.
// findValues is the same probe for positional values alone, apart because
// the hot paths take it (folding the two with a nil names argument measured
// 4% slower on LabelledInc).
func (f *family[T, PT]) lookup(k *labelKey) PT {
	t := f.tab.Load()
	nc := len(f.schema.constNames)
	for i := uint64(k.hash) & t.mask; ; i = (i + 1) & t.mask {
		p := t.slots[i].Load()
		if p == nil {
			return nil
		}
		h := headerOf(p)
		if h.hash&^plainText == k.hash && h.labels.EqualValues(nc, k.values) &&
			(k.names == nil || slices.Equal(h.labels.Names()[nc:], k.names)) {
			return PT(p)
		}
	}
}

// get returns the series for k, creating it if needed.
func (f *family[T, PT]) get(k *labelKey) (PT, error) {
	if p := f.lookup(k); p != nil {
		return f.hit(k, p)
	}
	return f.create(k)
}

// hit returns p, found by k, marking it with the current tick when the
// family expires idle series.
func (f *family[T, PT]) hit(k *labelKey, p PT) (PT, error) {
	if f.expiry == 0 {
		return p, nil
	}
	if t := f.tick(); headerOf(p).seen.Load() != t {
		return f.mark(k, p, t)
	}
	return p, nil
}

// tick returns the current expiry tick.
func (f *family[T, PT]) tick() uint32 { return uint32(f.now().Sub(f.tick0) / f.tickLen) }

// ticksSince returns how many ticks tick now is after tick mark, negative
// if mark is later. Ticks wrap around (after 2^32 of them: six days with
// an expiry of 1ms), so the difference is taken modulo 2^32: it is right
// while the two are less than 2^31 ticks apart, and a scrape or a new
// series sweeps every series marked longer ago than an expiry.
func ticksSince(now, mark uint32) int32 { return int32(now - mark) }

// mark records a lookup of p, found by k, at tick t. It takes the lock, once
// per series and tick, so that it cannot race with a sweep removing p; if a
// sweep has just removed p, k gets a new series. A p idle past the expiry
// that no sweep has removed yet goes now, so that the lookup starts a new
// series whether a scrape came between or not.
func (f *family[T, PT]) mark(k *labelKey, p PT, t uint32) (PT, error) {
	f.mu.Lock()
	seen := &p.header().seen // stored under the lock only
	if ticksSince(t, seen.Load()) > ticksPerExpiry {
		f.sweep()
	}
	if f.lookup(k) == p {
		// Another lookup may have marked p with a later tick since t
		// was read: t must not set the mark back.
		if ticksSince(t, seen.Load()) > 0 {
			seen.Store(t)
		}
		f.mu.Unlock()
		return p, nil
	}
	f.mu.Unlock()
	return f.create(k)
}

func (f *family[T, PT]) create(k *labelKey) (PT, error) {
	if err := f.schema.validate(k); err != nil {
		return nil, err
	}
	if k2, repaired := repairKey(k); repaired {
		if p := f.lookup(&k2); p != nil {
			return f.hit(&k2, p)
		}
		k = &k2
	}
	if f.beforeLabelled != nil && len(k.values) > 0 {
		f.beforeLabelled()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var now uint32
	if f.expiry > 0 {
		now = f.tick()
	}
	if p := f.lookup(k); p != nil {
		p.header().seen.Store(now)
		return p, nil
	}
	f.sweep()
	if limit := f.seriesLimit(); limit > 0 && len(k.values) > 0 && f.tab.Load().count >= limit {
		f.overflowed.Add(1)
		return f.overflowSeries(), nil
	}
	var p PT
	if len(k.values) == 0 && f.nextPlain != nil {
		p, f.nextPlain = f.nextPlain, nil
		f.initSeries(p)
	} else {
		p = f.newSeries()
	}
	h := p.header()
	h.hash = k.hash
	h.seen.Store(now)
	h.created = time.Now().UnixNano()
	nc := len(f.schema.constNames)
	values := make([]string, nc+len(k.values))
	copy(values, f.schema.constVals)
	copy(values[nc:], k.values)
	names := &f.fullNames
	if f.schema.declared == nil {
		ns := f.nameSet(k.names)
		ns.live++
		names = &ns.all
		f.hint.Store(&ns.vars)
	}
	h.labels = expo.MakeLabels(names, values)
	if f.schema.declared != nil && strings.IndexByte(h.labels.Text[f.varsAt:], '\\') < 0 {
		h.hash |= plainText
	}
	f.insert(p)
	return p, nil
}

// overflowSeries returns the series that takes new label sets past the
// limit: the constant labels and OverflowLabel="true". It is exposed but
// never found by a lookup. f.mu is held.
func (f *family[T, PT]) overflowSeries() PT {
	if f.overflow != nil {
		return f.overflow
	}
	p := f.newSeries()
	h := p.header()
	h.created = time.Now().UnixNano()
	names := append(slices.Clone(f.schema.constNames), OverflowLabel)
	h.labels = expo.MakeLabels(&names, append(slices.Clone(f.schema.constVals), "true"))
	f.overflow = p
	f.order = append(f.order, p)
	return p
}

// nameSet is one set of label names of a family without declared names,
// shared by all its series that have it: all holds the constant names
// first, vars the variable ones. live counts the family's series that use
// it (under the family's mu); the family forgets the set when the last one
// goes, so that label names that vary over time do not hold memory.
type nameSet struct {
	all, vars []string
	key       string // its key in the family's nameSets
	live      int
}

// nameSet returns the shared set for these sorted variable names, making
// it on first use; f.mu is held. The names are copied, so that a series
// keeps no caller's string alive and sees none change (a string made with
// unsafe from a reused []byte, say).
func (f *family[T, PT]) nameSet(names []string) *nameSet {
	var buf [128]byte
	key := nameSetKey(buf[:0], names)
	if ns := f.nameSets[string(key)]; ns != nil { // no allocation: see nameSetKey
		return ns
	}
	nc := len(f.schema.constNames)
	all := make([]string, nc+len(names))
	copy(all, f.schema.constNames)
	for i, n := range names {
		all[nc+i] = strings.Clone(n)
	}
	ns := &nameSet{all: all, vars: all[nc:], key: string(key)}
	if f.nameSets == nil {
		f.nameSets = map[string]*nameSet{}
	}
	f.nameSets[ns.key] = ns
	return ns
}

// nameSetKey appends the key of a set of sorted variable label names to
// b: the names joined by NUL, which no label name holds. Built in a
// caller's stack buffer and looked up as m[string(key)], it costs no
// allocation.
func nameSetKey(b []byte, names []string) []byte {
	for i, n := range names {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, n...)
	}
	return b
}

// releaseNames tells the name set of p, a series of a family without
// declared names, that p has left the family; the set is forgotten when no
// series uses it. f.mu is held.
func (f *family[T, PT]) releaseNames(p PT) {
	if f.schema.declared != nil {
		return
	}
	names := p.header().labels.Names()
	var buf [128]byte
	key := nameSetKey(buf[:0], names[min(len(f.schema.constNames), len(names)):])
	if ns := f.nameSets[string(key)]; ns != nil {
		if ns.live--; ns.live <= 0 {
			delete(f.nameSets, ns.key)
			if len(f.nameSets) == 0 {
				f.nameSets = nil // a map keeps its largest size: let it go
			}
		}
	}
}

// repairKey returns k with invalid UTF-8 in its values replaced, and
// whether anything needed replacing. A series is known by its repaired
// values, so values that differ only in their invalid bytes share one.
func repairKey(k *labelKey) (labelKey, bool) {
	if validUTF8(k.values) {
		return *k, false
	}
	vals := sanitize(k.values)
	if k.names != nil {
		return namedKey(k.names, vals), true
	}
	return valuesKey(vals), true
}

// find looks k up, repairing invalid UTF-8 as create does.
func (f *family[T, PT]) findKey(k *labelKey) PT {
	if p := f.lookup(k); p != nil {
		return p
	}
	if k2, repaired := repairKey(k); repaired {
		return f.lookup(&k2)
	}
	return nil
}

// insert adds p to the table; f.mu is held.
func (f *family[T, PT]) insert(p PT) {
	t := f.tab.Load()
	if (t.count+t.tombs+1)*4 > len(t.slots)*3 {
		// Room for half as many again: growth doubles the table, and a
		// table full of tombstones is not rebuilt full again (it would
		// be at every new series after a Delete).
		t = f.rebuild(t.count + 1 + t.count/2)
	}
	place(t, p)
	f.order = append(f.order, p)
}

func place[T any, PT seriesPtr[T]](t *table[T], p PT) {
	i := uint64(p.header().hash) & t.mask
	for t.slots[i].Load() != nil {
		i = (i + 1) & t.mask
	}
	t.slots[i].Store((*T)(p))
	t.count++
}

// rebuild publishes a new table sized for n series holding every series
// of order; f.mu is held.
func (f *family[T, PT]) rebuild(n int) *table[T] {
	f.compact()
	t := newTable[T](n)
	for _, p := range f.order {
		if p != f.overflow {
			place(t, p)
		}
	}
	f.tab.Store(t)
	return t
}

// compact leaves the deleted series out of order, in a new slice; f.mu is
// held.
func (f *family[T, PT]) compact() {
	if f.dead == 0 {
		return
	}
	t := f.tab.Load()
	keep := make([]PT, 0, len(f.order)-f.dead)
	for _, p := range f.order {
		if p == f.overflow || t.slotOf((*T)(p), p.header().hash) >= 0 {
			keep = append(keep, p)
		}
	}
	f.order, f.dead = keep, 0
}

// remove deletes the series matching k; it reports whether there was one.
// It costs the same however many series the family holds: a tombstone
// takes the series' slot, and order leaves it out when half of it is
// deleted series, or at the next scrape.
func (f *family[T, PT]) remove(k *labelKey) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.findKey(k)
	if p == nil {
		return false
	}
	if f.tomb == nil {
		f.tomb = f.newSeries()
		f.tomb.header().hash = tombstoneBit
	}
	t := f.tab.Load()
	t.slots[t.slotOf((*T)(p), p.header().hash)].Store((*T)(f.tomb))
	t.count--
	t.tombs++
	f.dead++
	switch {
	case t.count*8 < len(t.slots) && len(t.slots) > 8:
		f.rebuild(t.count) // shrink
	case f.dead*2 > len(f.order):
		f.compact()
	}
	if f.plain.Load() == (*T)(p) {
		f.plain.Store(nil)
		f.setInlineGone()
	}
	f.releaseNames(p)
	f.removals.Add(1)
	return true
}

// reset deletes every series.
func (f *family[T, PT]) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tab.Store(newTable[T](0))
	f.order, f.dead = nil, 0
	f.overflow = nil
	f.nameSets = nil
	f.plain.Store(nil)
	f.setInlineGone()
	f.removals.Add(1)
}

// setInlineGone marks the inline series as no longer the unlabelled one,
// for good. Under mu.
func (f *family[T, PT]) setInlineGone() {
	f.inlineState.Store(inlineGone)
	if f.inlineChanged != nil {
		f.inlineChanged(false)
	}
}

// snapshot returns the series in insertion order. The slice is never
// written again, so the caller may read it without the lock.
func (f *family[T, PT]) snapshot() []PT {
	f.mu.Lock()
	f.sweep()
	f.compact()
	s := f.order
	f.mu.Unlock()
	return s
}

// sweep removes the labelled series whose latest lookup was more than the
// expiry ago, at most once per tick. A series marked with tick m was last
// looked up before tick m+1 began, so it goes once the current tick is
// more than ticksPerExpiry past m+1. The unlabelled series and the overflow
// series never expire. f.mu is held.
func (f *family[T, PT]) sweep() {
	if f.expiry == 0 {
		return
	}
	now := f.tick()
	if now == f.lastSweep {
		return
	}
	f.lastSweep = now
	f.compact()
	nc := len(f.schema.constNames)
	keep := make([]PT, 0, len(f.order))
	for _, p := range f.order {
		h := p.header()
		if p != f.overflow && len(h.labels.Names()) > nc && ticksSince(now, h.seen.Load()) > ticksPerExpiry {
			f.releaseNames(p)
			continue
		}
		keep = append(keep, p)
	}
	if n := len(f.order) - len(keep); n > 0 {
		f.order = keep // a new slice: snapshots may still read the old one
		f.rebuild(len(keep))
		f.expired.Add(uint64(n))
		f.removals.Add(1)
	}
}

// withMap returns the series for a label map, or the discard series
// with the refusal counted (the one-line form, With, has no error to
// return).
func (f *family[T, PT]) withMap(m Labels) PT { return f.counted(f.bindMap(m)) }

// bindMap returns the series for a label map, or the discard series and
// an error; it does not count the refusal, which its caller sees.
func (f *family[T, PT]) bindMap(m Labels) (PT, error) {
	if len(m) == 0 {
		return f.plainSeries()
	}
	if p := f.findMap(m); p != nil {
		return PT(p), nil
	}
	var buf labelBuf
	k, ok := mapKey(&f.schema, m, &buf, f.hintNames())
	if !ok {
		return f.discard, f.schema.mapError(m)
	}
	if len(k.names) == 0 && f.schema.declared == nil {
		return f.plainSeries() // every value was empty
	}
	p, err := f.get(&k)
	if err != nil {
		return f.discard, err
	}
	return p, nil
}

// withValues returns the series for positional label values, or the
// discard series with the refusal counted. The hit of a family without
// idle expiry is written out here, apart from the general lookup, as it
// is the path the hot loops of callers take (through hitValues it would
// cost a call: the compiler does not inline it here).
func (f *family[T, PT]) withValues(values []string) PT {
	if f.expiry == 0 && f.schema.declared != nil {
		if p := f.findValues(fold(hashStrings(hashInit, values)), values); p != nil {
			return PT(p)
		}
	}
	return f.addValuesCounted(values)
}

// addValuesCounted is addValues with the refusal counted. It stays a call
// of its own, so that withValues' hit path is no larger than bindValues'.
//
//go:noinline
func (f *family[T, PT]) addValuesCounted(values []string) PT { return f.counted(f.addValues(values)) }

// bindValues is withValues that returns the refusal instead of counting
// it.
func (f *family[T, PT]) bindValues(values []string) (PT, error) {
	if p := f.hitValues(values); p != nil {
		return PT(p), nil
	}
	return f.addValues(values)
}

// hitValues finds the series for positional values without a lock, in a
// family with declared names and no idle expiry, or returns nil.
func (f *family[T, PT]) hitValues(values []string) *T {
	if f.expiry == 0 && f.schema.declared != nil {
		return f.findValues(fold(hashStrings(hashInit, values)), values)
	}
	return nil
}

// counted returns p, counting a refusal in prom_rejected_updates_total
// when err is one: what the forms that cannot return an error (With, an
// unlabelled update of a family that declares names) do with it.
func (f *family[T, PT]) counted(p PT, err error) PT {
	if err != nil {
		f.rejectLabels()
	}
	return p
}

// rejectLabels counts a refusal of labels. It stays a call, off the
// inlined lookups that may reach it.
//
//go:noinline
func (f *familyMeta) rejectLabels() { f.rejectedLabels.Add(1) }

// findMap is withMap's hit path for a family with up to four declared
// names and no idle expiry: the values are read from m onto the stack (a
// labelBuf would cost its zeroing) and looked up as positional values. It
// returns nil when m does not hit that way; the general path then decides.
func (f *family[T, PT]) findMap(m Labels) *T {
	d := f.schema.declared
	if d == nil || len(d) > 4 || len(m) != len(d) || f.expiry != 0 {
		return nil
	}
	var buf [4]string
	vals := buf[:len(d)]
	if !declaredValues(d, m, vals) {
		return nil
	}
	return f.findValues(fold(hashStrings(hashInit, vals)), vals)
}

// findValues finds the series with these positional values and hash, or
// returns nil.
func (f *family[T, PT]) findValues(hash uint32, values []string) *T {
	t := f.tab.Load()
	names, at := f.schema.declared, f.varsAt
	for i := uint64(hash) & t.mask; ; i = (i + 1) & t.mask {
		p := t.slots[i].Load()
		if p == nil {
			return nil
		}
		switch h := headerOf(p); h.hash {
		case hash | plainText:
			if expo.EqualPlainValuesAt(h.labels.Text, at, names, values) {
				return p
			}
		case hash:
			if expo.EqualValuesAt(h.labels.Text, at, names, values) {
				return p
			}
		}
	}
}

// addValues is withValues' general path: expiring families, and misses.
func (f *family[T, PT]) addValues(values []string) (PT, error) {
	if f.schema.declared == nil {
		if len(values) == 0 {
			return f.unlabelled()
		}
		return f.discard, fmt.Errorf("prom: %w: metric %q declares no label names, so it takes no positional values (got %d)", ErrInvalidLabels, f.name, len(values))
	}
	k := valuesKey(values)
	p, err := f.get(&k)
	if err != nil {
		return f.discard, err
	}
	return p, nil
}

// slowPlain returns the unlabelled series when the inline one is not
// live; the metric types' unlabelled methods keep the live case inline.
//
//go:noinline
func (f *family[T, PT]) slowPlain() PT { return f.counted(f.unlabelled()) }

// plainSeries returns the unlabelled series for a label map without
// labels: the metric type's own way to it (plainOf) where it has one.
func (f *family[T, PT]) plainSeries() (PT, error) {
	if f.plainOf != nil {
		return f.plainOf()
	}
	return f.unlabelled()
}

// unlabelled returns the series with no variable labels.
func (f *family[T, PT]) unlabelled() (PT, error) {
	if p := f.plain.Load(); p != nil {
		return p, nil
	}
	k := namedKey(nil, nil)
	if f.schema.declared != nil {
		if len(f.schema.declared) > 0 {
			return f.discard, f.schema.mapError(nil)
		}
		k = valuesKey(nil)
	}
	p, err := f.get(&k)
	if err != nil {
		return f.discard, err
	}
	// Cache it only while it is still in the family: a Reset or Delete
	// between get and here must not leave a stale cache behind.
	f.mu.Lock()
	if f.lookup(&k) == p {
		f.plain.Store((*T)(p))
		if p == &f.inline && f.inlineState.CompareAndSwap(inlineGone, inlineLive) && f.inlineChanged != nil {
			f.inlineChanged(true)
		}
	}
	f.mu.Unlock()
	return p, nil
}

// find looks a label map up without creating a series.
func (f *family[T, PT]) find(m Labels) PT {
	var buf labelBuf
	k, ok := mapKey(&f.schema, m, &buf, f.hintNames())
	if !ok {
		return nil
	}
	return f.findKey(&k)
}

func (f *family[T, PT]) deleteMap(m Labels) bool {
	var buf labelBuf
	k, ok := mapKey(&f.schema, m, &buf, f.hintNames())
	if !ok {
		return false
	}
	return f.remove(&k)
}

func (f *family[T, PT]) deleteValues(values []string) bool {
	if f.schema.declared == nil && len(values) > 0 {
		return false
	}
	k := valuesKey(values)
	return f.remove(&k)
}

// labelNames returns a copy of the declared label names, or nil.
func (f *family[T, PT]) labelNames() []string { return slices.Clone(f.schema.declared) }

// constLabels returns a copy of the constant labels.
func (f *family[T, PT]) constLabels() Labels {
	l := make(Labels, len(f.schema.constNames))
	for i, n := range f.schema.constNames {
		l[n] = f.schema.constVals[i]
	}
	return l
}

// variableLabels returns a series' own labels (constant labels left out) as
// a new map.
func (f *family[T, PT]) variableLabels(p PT) Labels {
	h := p.header()
	nc := len(f.schema.constNames)
	names := h.labels.Names()
	vals := h.labels.Values()
	m := make(Labels, len(names)-nc)
	for i := nc; i < len(names); i++ {
		m[names[i]] = vals[i]
	}
	return m
}

// all iterates the series with their variable labels.
func all[T any, PT seriesPtr[T], V any](f *family[T, PT], value func(PT) V) iter.Seq2[Labels, V] {
	return func(yield func(Labels, V) bool) {
		for _, p := range f.snapshot() {
			if !yield(f.variableLabels(p), value(p)) {
				return
			}
		}
	}
}

// familyBase is the registry's view of every built-in family.
type familyBase interface {
	Collector
	meta() *familyMeta
	// encode writes the family: its Family call, then its series. Any user
	// code it runs (a GaugeFunc's function) runs before it writes anything,
	// so a panic leaves no half-written family.
	encode(enc expo.Encoder)
}

// start writes the family's Family call.
func (m *familyMeta) start(enc expo.Encoder) { enc.Family(m.name, m.help, m.typ, m.unit) }

// familyMeta is the part of a family the registry needs without knowing its
// series type.
type familyMeta struct {
	name, help, unit  string
	typ               expo.Type
	rejectedLabels    atomic.Uint64 // lookups refused for invalid labels
	rejectedValues    atomic.Uint64 // updates refused for invalid values
	rejectedExemplars atomic.Uint64 // exemplars refused for invalid labels
	overflowed        atomic.Uint64 // new label sets sent to the overflow series
	expired           atomic.Uint64 // series removed after idling past the expiry
	// removals counts the removals of series (Delete, Reset, expiry),
	// each counted after the series is gone from the table: see
	// internal/bound.
	removals atomic.Uint64
	// prepare, when set, is what a scrape runs first, before it writes the
	// registry's own counters, so that their counts are current: a family
	// with an idle expiry removes idle series, a gauge registers (or
	// refuses, counting it) its pending unlabelled series.
	prepare func()

	maxSeries atomic.Int64                 // 0: the registry's default; < 0: none
	regLimit  atomic.Pointer[atomic.Int64] // the default limit of the first registry it joined
}

// OverflowLabel is the label that marks a metric's overflow series: the
// one series that takes the updates of new label sets once the metric holds
// as many series as its limit allows (see [WithMaxSeries]).
const OverflowLabel = "prom_overflow"

// seriesLimit returns the most series the family may hold, 0 for no limit.
func (m *familyMeta) seriesLimit() int {
	switch n := m.maxSeries.Load(); {
	case n > 0:
		return int(n)
	case n < 0:
		return 0
	}
	if l := m.regLimit.Load(); l != nil {
		return int(l.Load())
	}
	return 0
}

// describe lists every name a family of this type produces in any format,
// its primary name first, for conflict checks (see sampleNames).
func (f *family[T, PT]) describe() []string { return sampleNames(f.name, f.typ) }

// sampleNames lists every name a family n of type typ produces in any
// format, n first: a counter n (or n_total) is the OpenMetrics family n with
// samples n_total and n_created, and a histogram or a summary has _created
// samples there too. Two families whose lists meet would render clashing
// names in OpenMetrics, which Prometheus asks for first.
func sampleNames(n string, typ expo.Type) []string {
	if typ == expo.Counter {
		return counterNames(n)
	}
	base, suffixes := sampleSuffixes(n, typ)
	names := make([]string, len(suffixes))
	for i, s := range suffixes {
		names[i] = base + s
	}
	return names
}

// sampleSuffixes returns the names sampleNames lists as one base and the
// suffixes that follow it, so that a scrape can look them up without
// building them: a counter's base is its name without _total.
func sampleSuffixes(n string, typ expo.Type) (base string, suffixes []string) {
	switch typ {
	case expo.Counter:
		return strings.TrimSuffix(n, "_total"), counterSuffixes
	case expo.Histogram:
		return n, histogramSuffixes
	case expo.Summary:
		return n, summarySuffixes
	}
	return n, plainSuffixes
}

var (
	counterSuffixes   = []string{"", "_total", "_created"}
	histogramSuffixes = []string{"", "_bucket", "_count", "_sum", "_created"}
	summarySuffixes   = []string{"", "_count", "_sum", "_created"}
	plainSuffixes     = []string{""}
)

// textSuffixes returns the suffixes of the samples that a family of type
// typ adds to its name in the text format.
func textSuffixes(typ expo.Type) []string {
	switch typ {
	case expo.Histogram:
		return histogramSuffixes[1:4] // _bucket, _count, _sum
	case expo.Summary:
		return summarySuffixes[1:3] // _count, _sum
	}
	return nil
}

// counterNames is describe for a counter named n.
func counterNames(n string) []string {
	base := strings.TrimSuffix(n, "_total")
	if base == n {
		return []string{n, n + "_total", n + "_created"}
	}
	return []string{n, base, base + "_created"}
}

// collectVia writes a family through a MetricWriter, for callers outside
// the registry's fast path.
func collectVia(ctx context.Context, fb familyBase, w *MetricWriter) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w.delegated = append(w.delegated, fb.meta())
	if m, ok := fb.(funcMetric); ok {
		v, err := m.read()
		if err != nil {
			return err
		}
		m.encodeValue(&writerEncoder{w: w}, v)
		return nil
	}
	fb.encode(&writerEncoder{w: w})
	return nil
}

func cloneLabels(l Labels) Labels { return maps.Clone(l) }

// checkUnit requires a unit to be a suffix of the metric name, as
// OpenMetrics does.
func checkUnit(name, unit string, typ expo.Type) error {
	if unit == "" {
		return nil
	}
	if !validLabelName(unit) || strings.HasPrefix(unit, "_") {
		return fmt.Errorf("prom: %w: unit %q of metric %q must match [a-zA-Z][a-zA-Z0-9_]*", ErrInvalidName, unit, name)
	}
	base := name
	if typ == expo.Counter {
		base = strings.TrimSuffix(name, "_total")
	}
	if !strings.HasSuffix(base, "_"+unit) {
		return fmt.Errorf("prom: %w: metric %q has unit %q, so its name must end in _%s", ErrInvalidName, name, unit, unit)
	}
	return nil
}
