package prom

import (
	"sync/atomic"

	"github.com/promgo/prom/internal/bound"
)

// The functions of package bound, for the other packages of this module.
func init() {
	bound.Removals = func(metric any) *atomic.Uint64 {
		if f := boundFamily(metric); f != nil {
			return f.keptRemovals()
		}
		return nil
	}
	bound.Member = func(metric, series any) bool {
		f := boundFamily(metric)
		return f != nil && f.member(series)
	}
}

// boundable is what package bound asks of a metric's family.
type boundable interface {
	keptRemovals() *atomic.Uint64
	member(series any) bool
}

// boundFamily returns the family of one of prom's metric types, or nil.
func boundFamily(metric any) boundable {
	switch m := metric.(type) {
	case *Counter:
		return &m.f
	case *Gauge:
		return &m.f
	case *Histogram:
		return &m.f
	case *Summary:
		return &m.f
	}
	return nil
}

// keptRemovals returns the family's count of removals, or nil when its
// series cannot be kept between lookups: it expires idle series, which
// only lookups keep alive.
func (f *family[T, PT]) keptRemovals() *atomic.Uint64 {
	if f.expiry > 0 {
		return nil
	}
	return &f.removals
}

// member reports whether series is a *T in f's table of series, which
// neither the overflow series nor the discard series is.
func (f *family[T, PT]) member(series any) bool {
	p, ok := series.(PT)
	if !ok || p == nil {
		return false
	}
	return f.tab.Load().slotOf((*T)(p), p.header().hash) >= 0
}
