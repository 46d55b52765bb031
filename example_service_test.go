package prom_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/promgo/prom"
)

func ExampleService() {
	reg := prom.NewRegistry()
	jobs := prom.Must(prom.NewCounter("jobs_total", "Jobs done.", prom.WithRegistry(reg)))
	jobs.Add(3)

	// Port 0 picks a free port; MetricsURL reports the one bound. Set
	// TLSConfig (or CertFile and KeyFile) for HTTPS and BasicAuth to
	// require credentials.
	svc := &prom.Service{Registry: reg, Addr: "127.0.0.1:0"}
	if err := svc.Start(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	defer svc.Stop(context.Background())

	metricsURL, err := svc.MetricsURL()
	if err != nil {
		fmt.Println(err)
		return
	}
	u, _ := url.Parse(metricsURL)
	fmt.Println("serving", u.Scheme, u.Path)

	resp, err := http.Get(metricsURL)
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	for line := range strings.SplitSeq(string(body), "\n") {
		if strings.HasPrefix(line, "jobs_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// serving http /metrics
	// 200
	// jobs_total 3
}
