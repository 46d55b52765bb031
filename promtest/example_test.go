package promtest_test

import (
	"fmt"

	"github.com/promgo/prom"
	"github.com/promgo/prom/promtest"
)

// GatherAndCompare checks a registry against expected text, whatever the
// order of families, series and labels.
func ExampleGatherAndCompare() {
	reg := prom.NewRegistry()
	jobs := prom.Must(prom.NewCounter("jobs_total", "Jobs done.", prom.WithRegistry(reg)))
	jobs.With(prom.Labels{"queue": "mail"}).Add(3)
	jobs.With(prom.Labels{"queue": "sms"}).Inc()

	err := promtest.GatherAndCompare(reg, `
# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total{queue="sms"} 1
jobs_total{queue="mail"} 3
`)
	fmt.Println(err)

	// A mismatch shows as a diff of the normalised lines.
	err = promtest.GatherAndCompare(reg, `
# HELP jobs_total Jobs done.
# TYPE jobs_total counter
jobs_total{queue="mail"} 4
jobs_total{queue="sms"} 1
`)
	fmt.Println(err)
	// Output:
	// <nil>
	// promtest: metrics differ (-want +got):
	//   # HELP jobs_total Jobs done.
	//   # TYPE jobs_total counter
	// - jobs_total{queue="mail"} 4
	// + jobs_total{queue="mail"} 3
	//   jobs_total{queue="sms"} 1
}

// CollectAndCompare checks one collector; IgnoreMetadata lets the expected
// text hold samples only.
func ExampleCollectAndCompare() {
	latency := prom.Must(prom.NewHistogram("latency_seconds", "Latency.", prom.WithRegistry(nil), prom.WithBuckets(0.1, 1)))
	latency.Observe(0.5)

	err := promtest.CollectAndCompare(latency, `
latency_seconds_bucket{le="0.1"} 0
latency_seconds_bucket{le="1"} 1
latency_seconds_bucket{le="+Inf"} 1
latency_seconds_sum 0.5
latency_seconds_count 1
`, promtest.IgnoreMetadata())
	fmt.Println(err)
	// Output: <nil>
}

// GatherValue reads one sample; GatherAndCount counts series.
func ExampleGatherValue() {
	reg := prom.NewRegistry()
	latency := prom.Must(prom.NewHistogram("latency_seconds", "Latency.", prom.WithRegistry(reg)))
	latency.With(prom.Labels{"route": "/"}).Observe(0.2)
	latency.With(prom.Labels{"route": "/"}).Observe(0.3)
	latency.With(prom.Labels{"route": "/login"}).Observe(1)

	n, _ := promtest.GatherValue(reg, "latency_seconds_count", prom.Labels{"route": "/"})
	series, _ := promtest.GatherAndCount(reg, "latency_seconds")
	_, err := promtest.GatherValue(reg, "latency_seconds_count", prom.Labels{"route": "/admin"})
	fmt.Println(n, series)
	fmt.Println(err)
	// Output:
	// 2 2
	// promtest: no such sample: latency_seconds_count{route="/admin"} (latency_seconds_count has the label sets {route="/"} {route="/login"})
}

// Lint finds the naming problems promtool check metrics would.
func ExampleLint() {
	problems, err := promtest.Lint([]byte(`# HELP jobs Jobs done.
# TYPE jobs counter
jobs 3
# TYPE request_latency_ms gauge
request_latency_ms 12
`))
	fmt.Println(err)
	for _, p := range problems {
		fmt.Println(p)
	}
	// Output:
	// <nil>
	// jobs counter metrics should have "_total" suffix
	// request_latency_ms metric names should not contain abbreviated units
	// request_latency_ms no help text
}

// GatherAndLint holds a registry's metrics to the same rules.
func ExampleGatherAndLint() {
	reg := prom.NewRegistry()
	prom.Must(prom.NewGauge("queue_length", "Jobs waiting.", prom.WithRegistry(reg))).Set(3)
	prom.Must(prom.NewCounter("uptime_minutes_total", "Minutes up.", prom.WithRegistry(reg))).Inc()

	problems, _ := promtest.GatherAndLint(reg)
	fmt.Println(problems)
	// Output: [uptime_minutes_total use base unit "seconds" instead of "minutes"]
}

// Parse gives the families of an exposition for checks of one's own.
func ExampleParse() {
	fams, err := promtest.Parse([]byte(`# HELP temperature_celsius Temperature.
# TYPE temperature_celsius gauge
temperature_celsius{room="kitchen"} 21.5
temperature_celsius{room="cellar"} 12
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range fams {
		fmt.Println(f.Name, f.Type, f.Help)
		for _, s := range f.Samples {
			fmt.Println(" ", s.Labels["room"], s.Value)
		}
	}
	// Output:
	// temperature_celsius gauge Temperature.
	//   kitchen 21.5
	//   cellar 12
}
