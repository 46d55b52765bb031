// Package bound lets the packages of this module that keep series bound to
// labels between calls (httpmetrics' per-route cache) tell when such a
// series may have left its metric. The prom package sets its functions
// when it is initialised, so any package that imports prom finds them set.
package bound

import "sync/atomic"

// Removals returns the count of removals of series from metric (by Delete,
// DeleteValues, Reset or idle expiry), which grows only after a removed
// series is no longer found by a lookup, or nil when metric's bound series
// cannot be kept: metric is of an unknown type, or it expires idle series,
// which only its lookups keep alive. A series looked up after reading the
// count n stays in metric while the count is still n, if [Member] says it
// was in metric.
var Removals func(metric any) *atomic.Uint64

// Member reports whether series, returned by a lookup in metric, is one of
// metric's own series, which stays in it until a removal: not the series
// that takes new label sets past the metric's series limit (it takes
// them only while the metric is full), nor the detached series that takes
// the updates of refused labels (each refusal is counted at its lookup).
var Member func(metric, series any) bool
