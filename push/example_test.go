package push_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/promgo/prom"
	"github.com/promgo/prom/push"
)

// fakeGateway stands in for a Pushgateway: it prints each request it gets
// and answers 200, or calls answer when it is set.
func fakeGateway(answer http.HandlerFunc) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println(r.Method, r.URL.EscapedPath())
		if answer != nil {
			answer(w, r)
		}
	}))
}

// A batch job pushes its metrics once, as it ends.
func Example() {
	gateway := fakeGateway(nil) // stands in for http://pushgateway:9091
	defer gateway.Close()

	reg := prom.NewRegistry()
	duration := prom.Must(prom.NewGauge("backup_duration_seconds",
		"Duration of the last backup.", prom.WithRegistry(reg)))
	start := time.Now()
	// ... the job's work ...
	duration.Set(time.Since(start).Seconds())

	p, err := push.New(gateway.URL, "backup",
		push.WithRegistry(reg),
		push.WithGrouping(prom.Labels{"instance": "db1"}))
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.Replace(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// PUT /metrics/job/backup/instance/db1
}

// Values that a path cannot carry as they are take the Pushgateway's
// @base64 form; others are percent-encoded.
func ExamplePusher_URL() {
	p, err := push.New("https://proxy.example/pgw", "backup", push.WithGrouping(prom.Labels{
		"path":   "/var/tmp",
		"host":   "db 1",
		"shard":  "",
		"region": "Zürich",
	}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.URL())
	// Output:
	// https://proxy.example/pgw/metrics/job/backup/host/db%201/path@base64/L3Zhci90bXA=/region/Z%C3%BCrich/shard@base64/=
}

// A receiver that takes pushes at one path, such as VictoriaMetrics, gets
// them there, with no job in the URL: the metrics carry their own labels,
// or the receiver adds them (VictoriaMetrics' extra_label query parameter).
func ExampleWithPath() {
	p, err := push.New("http://victoriametrics:8428?extra_label=job%3Dbackup", "",
		push.WithPath("/api/v1/import/prometheus"), push.WithFormat(prom.FormatText))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(p.URL())
	// Output:
	// http://victoriametrics:8428/api/v1/import/prometheus?extra_label=job%3Dbackup
}

// A gateway's refusal comes back as a *StatusError with its explanation.
func ExampleStatusError() {
	gateway := fakeGateway(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `pushed metrics are invalid or inconsistent with existing metrics: ...`, http.StatusBadRequest)
	})
	defer gateway.Close()

	p, err := push.New(gateway.URL, "backup", push.WithRegistry(prom.NewRegistry()))
	if err != nil {
		log.Fatal(err)
	}
	err = p.Add(context.Background())
	var se *push.StatusError
	if errors.As(err, &se) {
		fmt.Println(se.StatusCode, se.Message)
	}
	// Output:
	// POST /metrics/job/backup
	// 400 pushed metrics are invalid or inconsistent with existing metrics: ...
}

// A long-running job pushes periodically, and deletes its group when it
// stops (here after the second push).
func ExamplePusher_Run() {
	ctx, stop := context.WithCancel(context.Background()) // signal.NotifyContext in a program
	defer stop()
	pushes := 0
	gateway := fakeGateway(func(w http.ResponseWriter, r *http.Request) {
		if pushes++; pushes == 2 {
			stop()
		}
	})
	defer gateway.Close()

	reg := prom.NewRegistry()
	heartbeat := prom.Must(prom.NewGauge("worker_heartbeat_timestamp_seconds",
		"Last time the worker was alive.", prom.WithRegistry(reg)))
	heartbeat.SetToCurrentTime()

	p, err := push.New(gateway.URL, "worker", push.WithRegistry(reg))
	if err != nil {
		log.Fatal(err)
	}
	err = p.Run(ctx, 10*time.Millisecond, push.RunOptions{
		Final:   push.FinalDelete,
		OnError: func(err error) { log.Print(err) },
	})
	fmt.Println("Run returned", err)
	// Output:
	// PUT /metrics/job/worker
	// PUT /metrics/job/worker
	// DELETE /metrics/job/worker
	// Run returned <nil>
}
