package prom_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/promgo/prom"
)

// The three defer one-liners instrument a function as aioprometheus's
// decorators do: its duration, the calls in progress, and its failures.
func Example_instrumentation() {
	reg := prom.NewRegistry()
	in := prom.WithRegistry(reg)
	latency := prom.Must(prom.NewHistogram("request_duration_seconds", "Time spent handling requests.", in, prom.WithLabelNames("route")))
	inFlight := prom.Must(prom.NewGauge("requests_in_progress", "Requests being handled.", in, prom.WithLabelNames("route")))
	failures := prom.Must(prom.NewCounter("request_failures_total", "Requests that failed.", in, prom.WithLabelNames("route")))

	route := prom.Labels{"route": "/users"}
	handle := func(id int) (err error) {
		defer prom.Time(latency.With(route))()
		defer prom.InProgress(inFlight.With(route))()
		defer prom.CountError(failures.With(route), &err)()

		fmt.Println("in progress:", inFlight.With(route).Value())
		if id < 0 {
			return errors.New("bad id")
		}
		return nil
	}

	_ = handle(1)
	_ = handle(-1)
	fmt.Println("timed:", latency.With(route).Value().Count)
	fmt.Println("in progress:", inFlight.With(route).Value())
	fmt.Println("failures:", failures.With(route).Value())
	// Output:
	// in progress: 1
	// in progress: 1
	// timed: 2
	// in progress: 0
	// failures: 1
}

// Time observes a call's duration in seconds into a histogram or summary
// series, failures and panics included.
func ExampleTime() {
	latency := prom.Must(prom.NewSummary("job_duration_seconds", "Time spent on jobs.", prom.WithRegistry(nil)))

	job := func() error {
		defer prom.Time(latency)() // a metric stands for its unlabelled series
		return errors.New("failed")
	}
	_ = job()
	_ = job()
	fmt.Println("observations:", latency.With(nil).Value().Count)
	// Output: observations: 2
}

// TimeFunc wraps a function instead of being deferred inside it.
func ExampleTimeFunc() {
	latency := prom.Must(prom.NewHistogram("query_duration_seconds", "Time spent on queries.", prom.WithRegistry(nil)))

	err := prom.TimeFunc(latency, func() error { return nil })
	fmt.Println(err, latency.With(nil).Value().Count)
	// Output: <nil> 1
}

// InProgress counts calls while they run; the gauge goes down again however
// the call ends.
func ExampleInProgress() {
	inFlight := prom.Must(prom.NewGauge("uploads_in_progress", "Uploads being received.", prom.WithRegistry(nil)))
	series := inFlight.With(nil)

	upload := func() {
		defer prom.InProgress(series)()
		fmt.Println("during:", series.Value())
		panic("connection lost")
	}
	func() {
		defer func() { fmt.Println("recovered:", recover()) }()
		upload()
	}()
	fmt.Println("after:", series.Value())
	// Output:
	// during: 1
	// recovered: connection lost
	// after: 0
}

// CountError counts the failures of a function with a named error result:
// returned errors and panics, which go on up the stack after counting.
func ExampleCountError() {
	failures := prom.Must(prom.NewCounter("task_failures_total", "Tasks that failed.", prom.WithRegistry(nil)))

	task := func(fail bool) (err error) {
		defer prom.CountError(failures.With(nil), &err)()
		if fail {
			panic("out of cheese")
		}
		return nil
	}
	_ = task(false)
	func() {
		defer func() { fmt.Println("recovered:", recover()) }()
		_ = task(true)
	}()
	fmt.Println("failures:", failures.With(nil).Value())
	// Output:
	// recovered: out of cheese
	// failures: 1
}

// CountIf restricts the count to the errors that matter; here a cancelled
// context is not a failure.
func ExampleCountErrors() {
	failures := prom.Must(prom.NewCounter("fetch_failures_total", "Fetches that failed.", prom.WithRegistry(nil)))
	notCanceled := prom.CountIf(func(err error) bool { return !errors.Is(err, context.Canceled) })

	ctx, cancel := context.WithCancel(context.Background())
	fetch := func(ctx context.Context) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return errors.New("connection refused")
	}
	fmt.Println(prom.CountErrorsContext(ctx, failures.With(nil), fetch, notCanceled))
	cancel()
	fmt.Println(prom.CountErrorsContext(ctx, failures.With(nil), fetch, notCanceled))
	fmt.Println("failures:", failures.With(nil).Value())
	// Output:
	// connection refused
	// context canceled
	// failures: 1
}
