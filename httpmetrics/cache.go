package httpmetrics

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/promgo/prom"
	"github.com/promgo/prom/internal/bound"
)

// routeSeries are the series that the requests of one method, route and
// status code update.
type routeSeries struct {
	method, route string
	code          int                 // see codeKey
	requests      *prom.CounterSeries // method, route
	// The series of responses: nil for a hijacked request, which has none.
	responses *prom.CounterSeries   // method, route, code
	duration  *prom.HistogramSeries // method, route
	reqSize   *prom.HistogramSeries // method, route; nil without WithSizes or a size
	respSize  *prom.HistogramSeries // method, route; nil without WithSizes
}

// codeKey is the code under which a response's series are cached: one
// key per code label value (-1 for a hijacked request, which has none),
// so that the cache holds no more entries than the metrics hold series.
func (mw *Middleware) codeKey(code int, hijacked bool) int {
	switch {
	case hijacked:
		return -1
	case code < 100 || code > 999:
		return 0 // OtherCode
	case mw.group:
		return code / 100 * 100
	}
	return code
}

// maxCached is the most entries a seriesCache holds; requests of entries
// past it look their series up in the metrics, as without a cache.
const maxCached = 4096

// seriesCache keeps the series that each method, route and code updates,
// so that a request finds them with one lookup, without a lock, instead of
// one lookup per metric. It holds only the metrics' own series, never an
// overflow series (a metric at its series limit sends a new label set
// there only while it is full), and is dropped as a whole when any of its
// metrics has removed a series since its entries were found (Delete, Reset):
// each request compares the metrics' removal counts with the table's.
type seriesCache struct {
	removals []*atomic.Uint64 // the metrics' removal counts; nil: no caching
	seed     maphash.Seed
	tab      atomic.Pointer[cacheTable] // nil until the first entry
	mu       sync.Mutex                 // held to change tab
}

// cacheTable is an open-addressing hash table of entries found while the
// metrics' removal counts added up to removals. It only grows: a removal
// replaces it.
type cacheTable struct {
	removals uint64
	slots    []atomic.Pointer[routeSeries]
	mask     uint64
	count    int // under seriesCache.mu
}

// newSeriesCache returns the cache of m's series, which is off when one of
// them cannot be kept between requests (a metric that expires idle
// series, reused from the registry).
func newSeriesCache(m *metrics) *seriesCache {
	c := &seriesCache{seed: maphash.MakeSeed()}
	var removals []*atomic.Uint64
	for _, metric := range []any{m.requests, m.responses, m.duration, m.reqSize, m.respSize} {
		if h, ok := metric.(*prom.Histogram); ok && h == nil {
			continue // the size histograms without WithSizes
		}
		r := bound.Removals(metric)
		if r == nil {
			return c // off: all of them or none
		}
		removals = append(removals, r)
	}
	c.removals = removals
	return c
}

// removalCount returns the metrics' removals added up: it grows with each.
func (c *seriesCache) removalCount() (n uint64) {
	for _, r := range c.removals {
		n += r.Load()
	}
	return n
}

func (c *seriesCache) hash(method, route string, code int) uint64 {
	return maphash.String(c.seed, route) ^ (uint64(code+1)<<8|uint64(len(method)))*0x9e3779b97f4a7c15
}

// find returns the cached series of method, route and code, or nil. n is
// the current removal count.
func (c *seriesCache) find(method, route string, code int, n uint64) *routeSeries {
	t := c.tab.Load()
	if t == nil || t.removals != n {
		return nil
	}
	e, _ := t.probe(c.hash(method, route, code), method, route, code)
	return e
}

// probe returns the entry of method, route and code in t, or nil and the
// empty slot where it would go, starting from hash h.
func (t *cacheTable) probe(h uint64, method, route string, code int) (*routeSeries, uint64) {
	for i := h & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return nil, i
		}
		if e.code == code && e.route == route && e.method == method {
			return e, i
		}
	}
}

// add keeps a copy of found, whose lookups began when the removal count
// was n, if its series are all the metrics' own and the cache has room.
func (c *seriesCache) add(m *metrics, found routeSeries, n uint64) {
	if c.removals == nil || !found.members(m) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tab.Load()
	switch {
	case t == nil || t.removals < n:
		t = newCacheTable(n, 8)
	case t.removals > n:
		return // a series of found may have been removed since its lookup
	case t.count >= maxCached:
		return
	case (t.count+1)*4 > len(t.slots)*3:
		t = t.grown(c)
	}
	o, i := t.probe(c.hash(found.method, found.route, found.code), found.method, found.route, found.code)
	if o != nil {
		return // another request cached it first
	}
	e := new(routeSeries)
	*e = found
	e.route = strings.Clone(e.route) // the caller's might be made from reused bytes
	t.slots[i].Store(e)
	t.count++
	c.tab.Store(t)
}

func newCacheTable(removals uint64, size int) *cacheTable {
	return &cacheTable{removals: removals, slots: make([]atomic.Pointer[routeSeries], size), mask: uint64(size - 1)}
}

// grown returns a copy of t twice its size; c.mu is held.
func (t *cacheTable) grown(c *seriesCache) *cacheTable {
	g := newCacheTable(t.removals, 2*len(t.slots))
	for i := range t.slots {
		e := t.slots[i].Load()
		if e == nil {
			continue
		}
		_, j := g.probe(c.hash(e.method, e.route, e.code), e.method, e.route, e.code)
		g.slots[j].Store(e)
		g.count++
	}
	return g
}

// members reports whether every series of e is its metric's own.
func (e *routeSeries) members(m *metrics) bool {
	if !bound.Member(m.requests, e.requests) {
		return false
	}
	if e.code < 0 {
		return true // hijacked: only the requests counter
	}
	ok := bound.Member(m.responses, e.responses) && bound.Member(m.duration, e.duration)
	if m.reqSize != nil {
		// e.reqSize is nil when the request's size was unknown: its series
		// is made by the first request that has one to observe.
		ok = ok && bound.Member(m.reqSize, e.reqSize) && bound.Member(m.respSize, e.respSize)
	}
	return ok
}
