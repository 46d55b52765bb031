package prom

import _ "unsafe" // for go:linkname

// procPin pins the goroutine to its P (no preemption until procUnpin) and
// returns the P's id, which is below GOMAXPROCS. Striped counters use it to
// pick the cell of the P they run on: about 1 ns, against 3.5 ns for a
// random pick (math/rand/v2), and two goroutines running at once never
// share a cell, where random picks collide one time in eight. Summary
// observers use it to write their P's shard while no other goroutine can
// (see summaryShard).
//
// runtime.procPin is internal, but the runtime keeps it reachable through
// linkname for the packages that use it this way (sync.Pool does the same
// through sync.runtime_procPin); see the comment on procPin in
// runtime/proc.go.
//
//go:linkname procPin runtime.procPin
func procPin() int

// procUnpin undoes procPin.
//
//go:linkname procUnpin runtime.procUnpin
func procUnpin()
