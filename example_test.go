package prom_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"

	"github.com/promgo/prom"
)

// The quickstart: create metrics, update them, serve them.
func Example() {
	reg := prom.NewRegistry() // or leave WithRegistry out to use prom.Default

	events := prom.Must(prom.NewCounter("events_total", "Number of events.",
		prom.WithConstLabels(prom.Labels{"host": "example"}), prom.WithRegistry(reg)))
	latency := prom.Must(prom.NewHistogram("request_duration_seconds", "Request latency.",
		prom.WithBuckets(0.1, 0.5, 1), prom.WithRegistry(reg)))

	events.With(prom.Labels{"kind": "timer_expiry"}).Inc() // labels per call, as in aioprometheus
	latency.Observe(0.42)

	// Serve them on any mux: http.Handle("/metrics", prom.Handler(reg))
	body, _, _ := prom.Render(reg, "")
	os.Stdout.Write(body)
	// Output:
	// # HELP events_total Number of events.
	// # TYPE events_total counter
	// events_total{host="example",kind="timer_expiry"} 1
	// # HELP request_duration_seconds Request latency.
	// # TYPE request_duration_seconds histogram
	// request_duration_seconds_bucket{le="0.1"} 0
	// request_duration_seconds_bucket{le="0.5"} 1
	// request_duration_seconds_bucket{le="1"} 1
	// request_duration_seconds_bucket{le="+Inf"} 1
	// request_duration_seconds_sum 0.42
	// request_duration_seconds_count 1
}

// A bound series is the fast path: look the labels up once, then every
// update is a single atomic operation with no allocation.
func ExampleCounter_WithValues() {
	reg := prom.NewRegistry()
	requests := prom.Must(prom.NewCounter("http_requests_total", "Requests served.",
		prom.WithLabelNames("method", "code"), prom.WithRegistry(reg)))

	ok := requests.WithValues("GET", "200") // keep this handle
	for range 3 {
		ok.Inc()
	}
	requests.With(prom.Labels{"code": "404", "method": "GET"}).Inc() // map order does not matter

	v, _ := requests.Get(prom.Labels{"method": "GET", "code": "200"})
	fmt.Println(v)
	// Output: 3
}

func ExampleCounter_Bind() {
	c := prom.Must(prom.NewCounter("jobs_total", "Jobs.", prom.WithLabelNames("queue"), prom.WithRegistry(nil)))
	_, err := c.Bind(prom.Labels{"queue": "a", "host": "x"})
	fmt.Println(err)
	// Output: prom: invalid labels: metric "jobs_total" has no label "host" (its labels are [queue])
}

func ExampleCounter_Add() {
	reg := prom.NewRegistry()
	c := prom.Must(prom.NewCounter("bytes_total", "Bytes sent.", prom.WithRegistry(reg)))
	c.Add(1024)
	c.Add(-5) // refused: counters only go up; counted in prom_rejected_updates_total
	v, _ := c.Get(nil)
	fmt.Println(v)
	// Output: 1024
}

func ExampleGauge() {
	g := prom.Must(prom.NewGauge("queue_length", "Jobs waiting.", prom.WithRegistry(nil)))
	g.Set(10)
	g.Inc()
	g.Sub(4)
	v, _ := g.Get(nil)
	fmt.Println(v)
	// Output: 7
}

func ExampleNewGaugeFunc() {
	reg := prom.NewRegistry()
	queue := []string{"a", "b"}
	prom.Must(prom.NewGaugeFunc("queue_items", "Items queued.", func() float64 { return float64(len(queue)) }, prom.WithRegistry(reg)))
	body, _, _ := prom.Render(reg, "")
	fmt.Print(string(body))
	// Output:
	// # HELP queue_items Items queued.
	// # TYPE queue_items gauge
	// queue_items 2
}

func ExampleNewCounterFunc() {
	reg := prom.NewRegistry()
	var bytesRead atomic.Int64 // a total another part of the program keeps
	bytesRead.Add(4096)
	prom.Must(prom.NewCounterFunc("reader_bytes_total", "Bytes read.",
		func() float64 { return float64(bytesRead.Load()) }, prom.WithRegistry(reg)))
	body, _, _ := prom.Render(reg, "")
	fmt.Print(string(body))
	// Output:
	// # HELP reader_bytes_total Bytes read.
	// # TYPE reader_bytes_total counter
	// reader_bytes_total 4096
}

func ExampleHistogram() {
	h := prom.Must(prom.NewHistogram("payload_bytes", "Payload sizes.",
		prom.WithBuckets(prom.ExponentialBuckets(100, 10, 3)...), prom.WithRegistry(nil)))
	for _, v := range []float64{50, 150, 5000, 1e6} {
		h.Observe(v)
	}
	v, _ := h.Get(nil)
	for _, b := range v.Buckets {
		fmt.Println(b.UpperBound, b.Count)
	}
	fmt.Println("count", v.Count, "sum", v.Sum)
	// Output:
	// 100 1
	// 1000 2
	// 10000 3
	// +Inf 4
	// count 4 sum 1.0052e+06
}

func ExampleSummary() {
	s := prom.Must(prom.NewSummary("rpc_duration_seconds", "RPC latency.", prom.WithRegistry(nil)))
	for i := 1; i <= 1000; i++ {
		s.Observe(float64(i) / 1000)
	}
	v, _ := s.Get(nil)
	for _, q := range v.Quantiles {
		fmt.Printf("p%v within its error: %v\n", q.Quantile*100, q.Value >= q.Quantile-0.05 && q.Value <= q.Quantile+0.05)
	}
	fmt.Println("count", v.Count)
	// Output:
	// p50 within its error: true
	// p90 within its error: true
	// p99 within its error: true
	// count 1000
}

// A custom Collector reports values computed at scrape time.
type queueCollector struct{ depth map[string]int }

func (q *queueCollector) Describe() []string { return []string{"queue_depth"} }

func (q *queueCollector) Collect(ctx context.Context, w *prom.MetricWriter) error {
	for name, d := range q.depth {
		w.Gauge("queue_depth", "Jobs per queue.", float64(d), prom.Labels{"queue": name})
	}
	return nil
}

func ExampleCollector() {
	reg := prom.NewRegistry()
	reg.MustRegister(&queueCollector{depth: map[string]int{"mail": 3}})
	body, _, _ := prom.Render(reg, "")
	fmt.Print(string(body))
	// Output:
	// # HELP queue_depth Jobs per queue.
	// # TYPE queue_depth gauge
	// queue_depth{queue="mail"} 3
}

func ExampleAlreadyRegisteredError() {
	reg := prom.NewRegistry()
	first := prom.Must(prom.NewCounter("hits_total", "Hits.", prom.WithRegistry(reg)))
	_, err := prom.NewCounter("hits_total", "Hits.", prom.WithRegistry(reg))
	var are *prom.AlreadyRegisteredError
	if errors.As(err, &are) {
		fmt.Println(err, are.Existing == first)
	}
	// Output: prom: metric name "hits_total" is already registered, by a counter true
}

func ExampleHandler() {
	reg := prom.NewRegistry()
	prom.Must(prom.NewGauge("up_seconds", "Uptime.", prom.WithRegistry(reg))).Set(12)

	mux := http.NewServeMux()
	mux.Handle("GET /metrics", prom.Handler(reg))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("Content-Type"))
	// Output: 200 text/plain; version=0.0.4; charset=utf-8
}
