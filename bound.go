package prom

import (
	"sync/atomic"

	"github.com/promgo/prom/internal/bound"
)

// The functions of package bound, for the other packages of this module.
func init() {
	bound.Removals = func(metric any) *atomic.Uint64 {
		var f *familyMeta
		var expires bool
		switch m := metric.(type) {
		case *Counter:
			f, expires = &m.f.familyMeta, m.f.expiry > 0
		case *Gauge:
			f, expires = &m.f.familyMeta, m.f.expiry > 0
		case *Histogram:
			f, expires = &m.f.familyMeta, m.f.expiry > 0
		case *Summary:
			f, expires = &m.f.familyMeta, m.f.expiry > 0
		}
		if f == nil || expires {
			return nil
		}
		return &f.removals
	}
	bound.Member = func(metric, series any) bool {
		switch m := metric.(type) {
		case *Counter:
			return memberOf(&m.f, series)
		case *Gauge:
			return memberOf(&m.f, series)
		case *Histogram:
			return memberOf(&m.f, series)
		case *Summary:
			return memberOf(&m.f, series)
		}
		return false
	}
}

// memberOf reports whether series is a *T in f's table of series, which
// neither the overflow series nor the discard series is.
func memberOf[T any, PT seriesPtr[T]](f *family[T, PT], series any) bool {
	p, ok := series.(PT)
	if !ok || p == nil {
		return false
	}
	t := f.tab.Load()
	for i := uint64(p.header().hash) & t.mask; ; i = (i + 1) & t.mask {
		switch t.slots[i].Load() {
		case nil:
			return false
		case (*T)(p):
			return true
		}
	}
}
