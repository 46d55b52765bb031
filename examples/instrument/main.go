// Command instrument shows prom's function instrumentation, the Go form of
// aioprometheus's decorator examples (decorator_timer.py,
// decorator_inprogress.py and decorator_count_exceptions.py): it serves
// metrics with a prom.Service while a loop calls a request handler that
// is timed, counted while in progress and counted when it fails.
//
//	$ go run ./examples/instrument
//	Serving prometheus metrics on: http://localhost:8000/metrics
//
// The handler sleeps for a random time up to a second (-max-duration),
// fails one time in five and panics one time in twenty; the panics are
// counted, then recovered by the loop, as the Python examples catch their
// exceptions. Several workers call it at once, so the in-progress gauge
// moves. The Go runtime, process and build metrics are served too. The
// flag -addr changes the listen address; Ctrl-C (SIGINT) or SIGTERM stops
// the program cleanly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/promgo/prom"
	"github.com/promgo/prom/collectors"
)

// workers is the number of loops calling the handler at once.
const workers = 4

func main() {
	addr := flag.String("addr", ":8000", "`address` to serve metrics on (host:port; port 0 picks a free one)")
	maxDuration := flag.Duration("max-duration", time.Second, "longest time a request takes")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *maxDuration, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// metrics holds the handler's instrumentation, one metric for each of
// aioprometheus's decorators, labelled by route.
type metrics struct {
	duration   *prom.Summary // @timer
	inProgress *prom.Gauge   // @inprogress
	failures   *prom.Counter // @count_exceptions
}

// newMetrics creates the metrics in reg. Creation fails only on a
// programming error (a bad name, a name taken twice), so prom.Must fits.
func newMetrics(reg *prom.Registry) *metrics {
	in := prom.WithRegistry(reg)
	route := prom.WithLabelNames("route")
	return &metrics{
		duration: prom.Must(prom.NewSummary("request_processing_seconds",
			"Time spent processing a request, in seconds.", in, route, prom.WithUnit("seconds"))),
		inProgress: prom.Must(prom.NewGauge("requests_in_progress",
			"Number of requests being processed.", in, route)),
		failures: prom.Must(prom.NewCounter("request_handler_failures_total",
			"Number of requests that failed: errors returned and panics.", in, route)),
	}
}

// errOops is the handler's error, as the Python example raises
// Exception("oops").
var errOops = errors.New("oops")

// notCanceled leaves requests cut short by the shutdown out of the failure
// count: only errors it accepts are counted (panics always are).
var notCanceled = prom.CountIf(func(err error) bool { return !errors.Is(err, context.Canceled) })

// handleRequest is the instrumented handler. The three deferred one-liners
// do what aioprometheus's decorators do: the call is timed whatever way it
// ends, counted while it runs, and counted again when it returns an error
// or panics. The series are chosen by label, here a fixed route.
func (m *metrics) handleRequest(ctx context.Context, rng *rand.Rand, maxDuration time.Duration) (err error) {
	route := prom.Labels{"route": "/"}
	defer prom.Time(m.duration.With(route))()
	defer prom.InProgress(m.inProgress.With(route))()
	defer prom.CountError(m.failures.With(route), &err, notCanceled)()

	select {
	case <-time.After(time.Duration(rng.Int64N(int64(maxDuration) + 1))):
	case <-ctx.Done():
		return ctx.Err()
	}
	switch x := rng.Float64(); {
	case x < 0.05:
		panic("handler crashed")
	case x < 0.25:
		return errOops
	}
	return nil
}

// loop calls the handler until ctx is done, recovering its panics.
func (m *metrics) loop(ctx context.Context, rng *rand.Rand, maxDuration time.Duration) {
	call := func() {
		defer func() { _ = recover() }() // counted already; keep going
		_ = m.handleRequest(ctx, rng, maxDuration)
	}
	for ctx.Err() == nil {
		call()
	}
}

// run serves the metrics on addr and runs the workers until ctx is done.
// It prints the metrics URL to out once the service listens, and returns
// nil after a clean shutdown.
func run(ctx context.Context, addr string, maxDuration time.Duration, out io.Writer) error {
	if maxDuration < 0 {
		return fmt.Errorf("negative maximum duration %v", maxDuration)
	}
	reg := prom.NewRegistry()
	m := newMetrics(reg)
	if err := collectors.Register(reg); err != nil {
		return err
	}

	svc := &prom.Service{Addr: addr, Registry: reg}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	url, err := svc.MetricsURL()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Serving prometheus metrics on: %s\n", url)

	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.loop(ctx, rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(i))), maxDuration)
		}()
	}
	<-ctx.Done()
	wg.Wait()

	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := svc.Stop(stopCtx); err != nil {
		return fmt.Errorf("stopping the metrics service: %w", err)
	}
	return nil
}
