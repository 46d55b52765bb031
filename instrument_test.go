package prom

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"
)

var errBoom = errors.New("boom")

// mustPanic calls fn and returns the value it panicked with; it fails t
// when fn returns normally.
func mustPanic(t *testing.T, fn func()) (p any) {
	t.Helper()
	defer func() { p = recover() }()
	fn()
	t.Fatal("no panic")
	return nil
}

func TestTime(t *testing.T) {
	reg := NewRegistry()
	h := Must(NewHistogram("t_seconds", "h", WithRegistry(reg), WithLabelNames("outcome")))
	s := Must(NewSummary("ts_seconds", "h", WithRegistry(reg)))
	const pause = 5 * time.Millisecond

	cases := []struct {
		outcome string
		fn      func() error
		wantErr error
		panics  bool
	}{
		{"success", func() error { time.Sleep(pause); return nil }, nil, false},
		{"error", func() error { time.Sleep(pause); return errBoom }, errBoom, false},
		{"panic", func() error { time.Sleep(pause); panic("boom") }, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.outcome, func(t *testing.T) {
			// Defer form, into a labelled histogram series and into the
			// summary's unlabelled series through the family itself.
			deferred := func() error {
				defer Time(h.With(Labels{"outcome": tc.outcome}))()
				defer Time(s)()
				return tc.fn()
			}
			// Wrapper forms, into the same histogram series.
			wrapped := func() error { return TimeFunc(h.With(Labels{"outcome": tc.outcome}), tc.fn) }
			withCtx := func() error {
				return TimeFuncContext(context.Background(), h.With(Labels{"outcome": tc.outcome}),
					func(context.Context) error { return tc.fn() })
			}
			for _, call := range []func() error{deferred, wrapped, withCtx} {
				if tc.panics {
					if p := mustPanic(t, func() { _ = call() }); p != "boom" {
						t.Errorf("panic value = %v, want boom", p)
					}
				} else if err := call(); err != tc.wantErr {
					t.Errorf("error = %v, want %v", err, tc.wantErr)
				}
			}
			v, ok := h.Get(Labels{"outcome": tc.outcome})
			if !ok || v.Count != 3 {
				t.Fatalf("histogram count = %d (exists %v), want 3: every call is timed", v.Count, ok)
			}
			if min := 3 * pause.Seconds(); v.Sum < min || v.Sum > 3*time.Second.Seconds() {
				t.Errorf("histogram sum = %gs, want at least %gs and not absurd", v.Sum, min)
			}
		})
	}
	if v := s.With(nil).Value(); v.Count != 3 || v.Sum < 3*pause.Seconds() {
		t.Errorf("summary count %d sum %g, want 3 observations of at least %v", v.Count, v.Sum, pause)
	}
}

func TestTimeFuncContextPassesContext(t *testing.T) {
	h := Must(NewHistogram("h_seconds", "h", WithRegistry(nil)))
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	err := TimeFuncContext(ctx, h, func(got context.Context) error {
		if got.Value(key{}) != "v" {
			t.Error("fn did not get the caller's context")
		}
		return nil
	})
	if err != nil || h.With(nil).Value().Count != 1 {
		t.Errorf("err %v, count %d; want nil, 1", err, h.With(nil).Value().Count)
	}
}

func TestInProgress(t *testing.T) {
	reg := NewRegistry()
	g := Must(NewGauge("in_progress", "h", WithRegistry(reg), WithLabelNames("op")))
	gs := g.With(Labels{"op": "work"})

	check := func(when string, want float64) {
		t.Helper()
		if got := gs.Value(); got != want {
			t.Errorf("%s: gauge = %g, want %g", when, got, want)
		}
	}
	forms := map[string]func(fn func() error) error{
		"defer": func(fn func() error) error {
			defer InProgress(gs)()
			return fn()
		},
		"func": func(fn func() error) error { return InProgressFunc(gs, fn) },
		"context": func(fn func() error) error {
			return InProgressFuncContext(context.Background(), gs, func(context.Context) error { return fn() })
		},
	}
	for name, form := range forms {
		t.Run(name, func(t *testing.T) {
			check("before", 0)
			_ = form(func() error { check("while running", 1); return nil })
			check("after success", 0)
			if err := form(func() error { check("while running", 1); return errBoom }); err != errBoom {
				t.Errorf("error = %v, want %v", err, errBoom)
			}
			check("after an error", 0)
			mustPanic(t, func() { _ = form(func() error { check("while running", 1); panic("boom") }) })
			check("after a panic", 0)
		})
	}

	// Concurrent calls add up while they run.
	const n = 8
	release := make(chan struct{})
	var started, done sync.WaitGroup
	started.Add(n)
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			_ = InProgressFunc(gs, func() error {
				started.Done()
				<-release
				return nil
			})
		}()
	}
	started.Wait()
	check("with 8 calls running", n)
	close(release)
	done.Wait()
	check("after the 8 calls", 0)
}

func TestCountErrors(t *testing.T) {
	notCanceled := CountIf(func(err error) bool { return !errors.Is(err, context.Canceled) })
	wrapped := fmt.Errorf("wrapped: %w", context.Canceled)

	type form func(c *CounterSeries, fn func() error, opts ...CountOption) error
	forms := map[string]form{
		"defer": func(c *CounterSeries, fn func() error, opts ...CountOption) (err error) {
			defer CountError(c, &err, opts...)()
			return fn()
		},
		"func": CountErrors,
		"context": func(c *CounterSeries, fn func() error, opts ...CountOption) error {
			return CountErrorsContext(context.Background(), c, func(context.Context) error { return fn() }, opts...)
		},
	}
	for name, call := range forms {
		t.Run(name, func(t *testing.T) {
			reg := NewRegistry()
			c := Must(NewCounter("failures_total", "h", WithRegistry(reg), WithLabelNames("filter")))
			all, filtered := c.With(Labels{"filter": "none"}), c.With(Labels{"filter": "not_canceled"})
			steps := []struct {
				what          string
				fn            func() error
				all, filtered float64 // counts after the step
			}{
				{"success", func() error { return nil }, 0, 0},
				{"error", func() error { return errBoom }, 1, 1},
				{"canceled", func() error { return wrapped }, 2, 1},
				{"panic", func() error { panic(errBoom) }, 3, 2},
				{"success again", func() error { return nil }, 3, 2},
			}
			for _, st := range steps {
				for _, target := range []struct {
					c    *CounterSeries
					opts []CountOption
				}{{all, nil}, {filtered, []CountOption{notCanceled}}} {
					var err error
					p := func() (p any) {
						defer func() { p = recover() }()
						err = call(target.c, st.fn, target.opts...)
						return nil
					}()
					if st.what == "panic" {
						if p != errBoom {
							t.Errorf("%s: panic value %v, want it raised again as %v", st.what, p, errBoom)
						}
					} else if p != nil {
						t.Errorf("%s: unexpected panic %v", st.what, p)
					} else if want := st.fn(); err != want {
						t.Errorf("%s: error %v, want %v returned as is", st.what, err, want)
					}
				}
				if all.Value() != st.all || filtered.Value() != st.filtered {
					t.Errorf("after %s: counts %g (no filter) and %g (not canceled), want %g and %g",
						st.what, all.Value(), filtered.Value(), st.all, st.filtered)
				}
			}
		})
	}
}

func TestCountErrorOptions(t *testing.T) {
	c := Must(NewCounter("c_total", "h", WithRegistry(nil))).With(nil)
	isBoom := CountIf(func(err error) bool { return errors.Is(err, errBoom) })
	never := CountIf(func(error) bool { return false })
	for _, tc := range []struct {
		name string
		err  error
		opts []CountOption
		want float64
	}{
		{"nil match counts all", errBoom, []CountOption{CountIf(nil)}, 1},
		{"match", errBoom, []CountOption{isBoom}, 1},
		{"no match", errors.New("other"), []CountOption{isBoom}, 0},
		{"all must match", errBoom, []CountOption{isBoom, never}, 0},
		{"zero option", errBoom, []CountOption{{}}, 1},
	} {
		before := c.Value()
		_ = CountErrors(c, func() error { return tc.err }, tc.opts...)
		if got := c.Value() - before; got != tc.want {
			t.Errorf("%s: counted %g, want %g", tc.name, got, tc.want)
		}
	}
	// A panic is counted even when no option would accept an error.
	before := c.Value()
	mustPanic(t, func() { _ = CountErrors(c, func() error { panic("x") }, never) })
	if c.Value()-before != 1 {
		t.Error("a panic was not counted under a CountIf that accepts nothing")
	}
}

// TestCountErrorGoexit checks that runtime.Goexit, which t.FailNow uses,
// is not a failure: nothing is recovered and nothing counted.
func TestCountErrorGoexit(t *testing.T) {
	c := Must(NewCounter("c_total", "h", WithRegistry(nil))).With(nil)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = CountErrors(c, func() error { runtime.Goexit(); return nil })
	}()
	<-done
	if c.Value() != 0 {
		t.Errorf("Goexit counted %g failures, want 0", c.Value())
	}
}

// TestInstrumentStacked checks the three defer forms together, in the
// order a function would use them, through a panic: each does its part.
func TestInstrumentStacked(t *testing.T) {
	reg := NewRegistry()
	h := Must(NewHistogram("d_seconds", "h", WithRegistry(reg)))
	g := Must(NewGauge("g", "h", WithRegistry(reg)))
	c := Must(NewCounter("f_total", "h", WithRegistry(reg)))
	handle := func(fail bool) (err error) {
		defer Time(h)()
		defer InProgress(g.With(nil))()
		defer CountError(c.With(nil), &err)()
		if fail {
			panic("boom")
		}
		return nil
	}
	_ = handle(false)
	mustPanic(t, func() { _ = handle(true) })
	if n := h.With(nil).Value().Count; n != 2 {
		t.Errorf("timed %d calls, want 2", n)
	}
	if v := g.With(nil).Value(); v != 0 {
		t.Errorf("in progress = %g after both calls, want 0", v)
	}
	if v := c.With(nil).Value(); v != 1 {
		t.Errorf("failures = %g, want 1", v)
	}
}

// Functions instrumented with the defer forms, for TestInstrumentAllocs.
// They are package-level functions, as user code would be.
var (
	allocHist    = Must(NewHistogram("alloc_seconds", "h", WithRegistry(nil))).With(nil)
	allocSummary = Must(NewSummary("alloc_summary_seconds", "h", WithRegistry(nil))).With(nil)
	allocGauge   = Must(NewGauge("alloc_in_progress", "h", WithRegistry(nil))).With(nil)
	allocCounter = Must(NewCounter("alloc_failures_total", "h", WithRegistry(nil))).With(nil)
	allocNotBoom = CountIf(func(err error) bool { return err != errBoom })
)

func timedHist()           { defer Time(allocHist)() }
func timedSummary()        { defer Time(allocSummary)() }
func inProgress()          { defer InProgress(allocGauge)() }
func counted() (err error) { defer CountError(allocCounter, &err)(); return errBoom }
func countedIf() (err error) {
	defer CountError(allocCounter, &err, allocNotBoom)()
	return errBoom
}
func allThree() (err error) {
	defer Time(allocHist)()
	defer InProgress(allocGauge)()
	defer CountError(allocCounter, &err)()
	return errBoom
}
func returnsErr() error                   { return errBoom }
func returnsErrCtx(context.Context) error { return errBoom }

// TestInstrumentAllocs holds the instrumentation to its allocation budget:
// none, in the defer forms and in the wrappers.
// TestInstrumentNil: a nil metric or series given to a helper (a field not
// yet set, say) makes it do nothing, instead of panicking when the timed
// function ends or fails; the function still runs, its error comes back
// and its panic goes on.
func TestInstrumentNil(t *testing.T) {
	var (
		nilHist    *HistogramSeries
		nilSummary *Summary
		nilGauge   *GaugeSeries
		nilCounter *CounterSeries
		nilTypedH  *HistogramOf[reqLabels]
		nilTypedS  *SummaryOf[reqLabels]
	)
	c := Must(NewCounter("nil_failures_total", "h", WithRegistry(nil))).With(nil)
	for _, tc := range []struct {
		name     string
		call     func() error
		want     error // the error the call returns
		panicked bool  // whether the call panics (with errBoom)
		counted  float64
	}{
		{"Time(nil)", func() error { defer Time(nil)(); return nil }, nil, false, 0},
		{"Time(nil series)", func() error { defer Time(nilHist)(); return nil }, nil, false, 0},
		{"Time(nil summary)", func() error { defer Time(nilSummary)(); return nil }, nil, false, 0},
		{"Time(nil typed histogram)", func() error { defer Time(nilTypedH)(); return nil }, nil, false, 0},
		{"TimeFunc(nil typed summary)", func() error { return TimeFunc(nilTypedS, func() error { return nil }) }, nil, false, 0},
		{"TimeFunc(nil series) failing", func() error { return TimeFunc(nilHist, func() error { return errBoom }) }, errBoom, false, 0},
		{"InProgress(nil)", func() error { defer InProgress(nilGauge)(); return nil }, nil, false, 0},
		{"InProgressFunc(nil) panicking", func() error { return InProgressFunc(nilGauge, func() error { panic(errBoom) }) }, nil, true, 0},
		{"CountErrors(nil) failing", func() error { return CountErrors(nilCounter, func() error { return errBoom }) }, errBoom, false, 0},
		{"CountErrors(nil) panicking", func() error { return CountErrors(nilCounter, func() error { panic(errBoom) }) }, nil, true, 0},
		{"CountError(c, nil) failing", func() error { defer CountError(c, nil)(); return errBoom }, errBoom, false, 0},
		{"CountError(c, nil) panicking", func() error { defer CountError(c, nil)(); panic(errBoom) }, nil, true, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := c.Value()
			var err error
			p := func() (p any) {
				defer func() { p = recover() }()
				err = tc.call()
				return nil
			}()
			if tc.panicked != (p == errBoom) || !tc.panicked && p != nil {
				t.Fatalf("panicked with %v; want a panic with errBoom: %v", p, tc.panicked)
			}
			if err != tc.want {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if got := c.Value() - before; got != tc.counted {
				t.Errorf("counted %v, want %v", got, tc.counted)
			}
		})
	}
}

func TestInstrumentAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need a normal run")
	}
	ctx := context.Background()
	tests := []struct {
		name string
		fn   func()
	}{
		{"defer Time(histogram series)", timedHist},
		{"defer Time(summary series)", timedSummary},
		{"defer InProgress", inProgress},
		{"defer CountError", func() { _ = counted() }},
		{"defer CountError with CountIf", func() { _ = countedIf() }},
		{"the three defers", func() { _ = allThree() }},
		{"TimeFunc", func() { _ = TimeFunc(allocHist, returnsErr) }},
		{"TimeFuncContext", func() { _ = TimeFuncContext(ctx, allocHist, returnsErrCtx) }},
		{"InProgressFunc", func() { _ = InProgressFunc(allocGauge, returnsErr) }},
		{"InProgressFuncContext", func() { _ = InProgressFuncContext(ctx, allocGauge, returnsErrCtx) }},
		{"CountErrors", func() { _ = CountErrors(allocCounter, returnsErr) }},
		{"CountErrors with CountIf", func() { _ = CountErrors(allocCounter, returnsErr, allocNotBoom) }},
		{"CountErrorsContext", func() { _ = CountErrorsContext(ctx, allocCounter, returnsErrCtx) }},
	}
	for _, tt := range tests {
		if n := testing.AllocsPerRun(1000, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs per call; want 0", tt.name, n)
		}
	}
}

func BenchmarkInstrument(b *testing.B) {
	b.Run("Time", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			timedHist()
		}
	})
	b.Run("InProgress", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			inProgress()
		}
	})
	b.Run("CountError", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = counted()
		}
	})
	b.Run("AllThree", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_ = allThree()
			}
		})
	})
}
