package prom_test

import (
	"fmt"
	"os"

	"github.com/promgo/prom"
)

// requestLabels is a label set as a type: one string field a label, named
// by its tag (or by the field name in snake_case).
type requestLabels struct {
	Method string `label:"method"`
	Code   string `label:"code"`
}

// A label struct makes a wrong label count or order a compile error, and a
// lookup is as fast as positional values, with no allocation on a hit.
func ExampleNewCounterOf() {
	reg := prom.NewRegistry()
	requests := prom.Must(prom.NewCounterOf[requestLabels]("http_requests_total", "Requests served.",
		prom.WithRegistry(reg)))

	requests.With(requestLabels{Method: "GET", Code: "200"}).Inc()
	requests.With(requestLabels{Method: "GET", Code: "200"}).Inc()
	requests.With(requestLabels{Method: "POST", Code: "500"}).Inc()

	v, _ := requests.Get(requestLabels{Method: "GET", Code: "200"})
	fmt.Println(requests.LabelNames(), v)

	body, _, _ := prom.Render(reg, "")
	os.Stdout.Write(body)
	// Output:
	// [method code] 2
	// # HELP http_requests_total Requests served.
	// # TYPE http_requests_total counter
	// http_requests_total{method="GET",code="200"} 2
	// http_requests_total{method="POST",code="500"} 1
}

// Without tags, the field names in snake_case are the label names; every
// option of the underlying constructor applies.
func ExampleNewHistogramOf() {
	type rpcLabels struct {
		Service    string
		StatusCode string
	}
	latency := prom.Must(prom.NewHistogramOf[rpcLabels]("rpc_duration_seconds", "RPC latency.",
		prom.WithBuckets(0.1, 1), prom.WithRegistry(nil)))
	latency.With(rpcLabels{Service: "users", StatusCode: "OK"}).Observe(0.05)

	v, _ := latency.Get(rpcLabels{Service: "users", StatusCode: "OK"})
	fmt.Println(latency.LabelNames(), v.Count)
	// Output: [service status_code] 1
}
