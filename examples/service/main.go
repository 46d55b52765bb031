// Command service serves Prometheus metrics from a dedicated HTTP endpoint,
// as aioprometheus's Service example does, while a loop updates them once a
// second to simulate an application at work.
//
//	$ go run ./examples/service
//	Serving prometheus metrics on: http://localhost:8000/metrics
//
// Open the URL in a browser or fetch it with curl. The flag -addr changes
// the listen address; Ctrl-C (SIGINT) or SIGTERM stops the server cleanly.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/promgo/prom"
)

func main() {
	addr := flag.String("addr", ":8000", "`address` to serve metrics on (host:port; port 0 picks a free one)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// metrics is the example's instrumentation: one metric of each type, all in
// one registry and all carrying the host as a constant label.
type metrics struct {
	events     *prom.Counter   // events_total{kind}
	inProgress *prom.Gauge     // work_in_progress
	duration   *prom.Histogram // event_duration_seconds{kind}
	payload    *prom.Summary   // event_payload_bytes

	// timerExpiry is bound once: updating a bound series is one atomic
	// operation and allocates nothing.
	timerExpiry *prom.CounterSeries
}

// newMetrics creates the metrics in reg. Creation fails only on a
// programming error (a bad name, a name taken twice), so prom.Must fits.
func newMetrics(reg *prom.Registry, host string) *metrics {
	in := prom.WithRegistry(reg)
	hostLabel := prom.WithConstLabels(prom.Labels{"host": host})
	m := &metrics{
		events: prom.Must(prom.NewCounter("events_total", "Number of events.",
			in, hostLabel, prom.WithLabelNames("kind"))),
		inProgress: prom.Must(prom.NewGauge("work_in_progress",
			"Number of events being processed right now.",
			in, hostLabel)),
		duration: prom.Must(prom.NewHistogram("event_duration_seconds",
			"Time taken to process an event, in seconds.",
			in, hostLabel, prom.WithLabelNames("kind"), prom.WithUnit("seconds"))),
		payload: prom.Must(prom.NewSummary("event_payload_bytes",
			"Size of the payload of processed events, in bytes.",
			in, hostLabel, prom.WithUnit("bytes"))),
	}
	m.timerExpiry = m.events.With(prom.Labels{"kind": "timer_expiry"})
	return m
}

// tick simulates one second of work: the timer expires, and a few jobs of
// random size and duration are handled, some of which fail.
func (m *metrics) tick(rng *rand.Rand) {
	m.timerExpiry.Inc()

	jobs := rng.IntN(4)
	m.inProgress.Set(float64(jobs))
	for range jobs {
		kind := "job_done"
		if rng.IntN(10) == 0 {
			kind = "job_failed"
		}
		// Labels per call, as in aioprometheus.
		m.events.With(prom.Labels{"kind": kind}).Inc()
		// Durations average 200ms, spread over the default buckets.
		m.duration.With(prom.Labels{"kind": kind}).Observe(0.2 * rng.ExpFloat64())
		m.payload.Observe(float64(256 + rng.IntN(64<<10)))
	}
}

// run serves the metrics on addr with a prom.Service until ctx is done,
// ticking once before it serves and then every second. It prints the metrics
// URL to out once the service listens, and returns nil after a clean stop.
func run(ctx context.Context, addr string, out io.Writer) error {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	reg := prom.NewRegistry()
	m := newMetrics(reg, host)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	m.tick(rng) // before serving, so the first scrape has every series

	svc := &prom.Service{Registry: reg, Addr: addr}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	url, err := svc.MetricsURL()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Serving prometheus metrics on: %s\n", url)

	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			m.tick(rng)
		case <-ctx.Done():
			stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := svc.Stop(stopCtx); err != nil {
				return fmt.Errorf("stopping the metrics service: %w", err)
			}
			return nil
		}
	}
}
