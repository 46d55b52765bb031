package prom

import (
	"context"
	"reflect"
	"time"
)

// This file holds the function instrumentation that aioprometheus offers as
// decorators (timer, inprogress, count_exceptions). Each helper comes in two
// forms:
//
//   - a defer one-liner, which starts its work and returns the function that
//     finishes it:
//
//     defer prom.Time(latency.With(labels))()
//
//   - a wrapper around a func() error, or a func(context.Context) error with
//     the Context variants:
//
//     err := prom.TimeFunc(latency.With(labels), doWork)
//
// Labels work as for every other update: pass the series bound to them
// (m.With(labels)), or the metric itself for its unlabelled series where
// the helper takes an interface.
//
// The defer forms are small enough for the compiler to inline: the function
// they return then lives on the caller's stack, and a deferred call
// allocates nothing (TestInstrumentAllocs holds them to it).

// Observer takes observations: *HistogramSeries and *SummarySeries do, and
// so do *Histogram and *Summary, for their unlabelled series. [Time] and
// [TimeFunc] observe durations in seconds into one.
type Observer interface {
	Observe(v float64)
}

// Time starts a timer and returns the function that stops it, which
// observes the seconds elapsed into o. Deferred, it times the rest of the
// calling function whatever way it ends, panics included (as aioprometheus's
// timer, which times failures too):
//
//	func handle() error {
//		defer prom.Time(latency.With(prom.Labels{"route": "/"}))()
//		...
//	}
//
// The clock is monotonic. The returned function observes each time it is
// called; call it once. With a nil o (or a nil series in it) it observes
// nothing, as client_golang's timer does, rather than panic as the timed
// function ends.
func Time(o Observer) (stop func()) {
	start := time.Now()
	return func() { observe(o, time.Since(start).Seconds()) }
}

// observe is o.Observe(v), and nothing for a nil o or a nil series in it.
func observe(o Observer, v float64) {
	if !isNil(o) {
		o.Observe(v)
	}
}

// isNil reports whether o is nil or holds a nil pointer (to any of
// prom's observers, typed ones such as *HistogramOf[L] included).
func isNil(o Observer) bool {
	if o == nil {
		return true
	}
	v := reflect.ValueOf(o)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// TimeFunc calls fn, observes the seconds it took into o, whether fn
// returns an error or panics, and returns fn's error.
func TimeFunc(o Observer, fn func() error) error {
	defer Time(o)()
	return fn()
}

// TimeFuncContext is [TimeFunc] for a function that takes a context: it
// calls fn(ctx).
func TimeFuncContext(ctx context.Context, o Observer, fn func(context.Context) error) error {
	defer Time(o)()
	return fn(ctx)
}

// InProgress adds 1 to g and returns the function that subtracts it again.
// Deferred, it counts the calls of the calling function in progress, as
// aioprometheus's inprogress does; the gauge goes down on every exit,
// panics included:
//
//	func handle() error {
//		defer prom.InProgress(inFlight.With(nil))()
//		...
//	}
//
// Call the returned function once.
//
// With a nil g it counts nothing.
func InProgress(g *GaugeSeries) (done func()) {
	if g == nil {
		return nothing
	}
	g.Inc()
	return g.Dec
}

// nothing is InProgress's done for a nil gauge.
func nothing() {}

// InProgressFunc adds 1 to g while fn runs, and returns fn's error. The
// gauge goes down again when fn returns or panics.
func InProgressFunc(g *GaugeSeries, fn func() error) error {
	defer InProgress(g)()
	return fn()
}

// InProgressFuncContext is [InProgressFunc] for a function that takes a
// context: it calls fn(ctx).
func InProgressFuncContext(ctx context.Context, g *GaugeSeries, fn func(context.Context) error) error {
	defer InProgress(g)()
	return fn(ctx)
}

// CountOption configures [CountError], [CountErrors] and
// [CountErrorsContext]; [CountIf] makes one. Options are plain values:
// keep one in a variable to reuse it at no cost.
type CountOption struct {
	match func(error) bool
}

// CountIf counts only the errors for which match returns true, for example
// to leave out cancellations:
//
//	var notCanceled = prom.CountIf(func(err error) bool {
//		return !errors.Is(err, context.Canceled)
//	})
//
// Panics are counted whatever match says: they are failures whatever their
// value. With several CountIf options, an error is counted when all of them
// match. A nil match counts every error.
func CountIf(match func(error) bool) CountOption {
	return CountOption{match: match}
}

// CountError returns a function that, deferred in a function with a named
// error result, adds 1 to c when the function fails: when it returns a
// non-nil error (that the CountIf options accept), or when it panics. A
// panic is recovered, counted and raised again with the same value, so it
// goes on up the stack as if nothing had caught it. This is aioprometheus's
// count_exceptions for Go:
//
//	func handle() (err error) {
//		defer prom.CountError(failures.With(nil), &err)()
//		...
//	}
//
// err must point to the function's error result; it is read when the
// deferred call runs, after the return statement has set it. The returned
// function must be deferred directly: called in any other way it cannot
// see a panic. runtime.Goexit (t.FailNow, say) is not counted. Under
// GODEBUG=panicnil=1, where recover cannot tell panic(nil) from
// runtime.Goexit, a panic(nil) is taken for runtime.Goexit: neither
// counted nor raised again, it stops here (the default, panicnil=0, which
// every module requiring Go 1.21 or later has, turns panic(nil) into a
// *runtime.PanicNilError, counted and raised again as any panic).
//
// With a nil c it counts nothing, and with a nil err only panics; either
// way a panic goes on up the stack.
func CountError(c *CounterSeries, err *error, opts ...CountOption) (done func()) {
	return func() {
		if p := recover(); p != nil {
			if c != nil {
				c.Inc()
			}
			panic(p)
		}
		if err != nil && *err != nil && c != nil {
			countError(c, *err, opts)
		}
	}
}

// countError adds 1 to c unless a CountIf option turns err down.
func countError(c *CounterSeries, err error, opts []CountOption) {
	for _, o := range opts {
		if o.match != nil && !o.match(err) {
			return
		}
	}
	c.Inc()
}

// CountErrors calls fn and adds 1 to c when it returns a non-nil error
// (that the CountIf options accept) or panics; the panic is raised again
// after counting. It returns fn's error. See [CountError] for
// runtime.Goexit and GODEBUG=panicnil=1.
func CountErrors(c *CounterSeries, fn func() error, opts ...CountOption) (err error) {
	defer CountError(c, &err, opts...)()
	return fn()
}

// CountErrorsContext is [CountErrors] for a function that takes a context:
// it calls fn(ctx).
func CountErrorsContext(ctx context.Context, c *CounterSeries, fn func(context.Context) error, opts ...CountOption) (err error) {
	defer CountError(c, &err, opts...)()
	return fn(ctx)
}
