package httpmetrics_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// get sends GET requests and discards the answers.
func get(base string, paths ...string) {
	for _, p := range paths {
		resp, err := http.Get(base + p)
		if err != nil {
			fmt.Println(err)
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// printSamples prints the sample lines of reg whose name begins with one
// of prefixes.
func printSamples(reg *prom.Registry, prefixes ...string) {
	body, _, err := prom.Render(reg, "")
	if err != nil {
		fmt.Println(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(line, p) {
				fmt.Println(line)
			}
		}
	}
}

// The middleware wraps a ServeMux; requests for different users count in
// one series, labelled with the route template, and a path that matches
// no route counts as unmatched. The scrape of /metrics is not recorded.
func Example() {
	reg := prom.NewRegistry()
	mw := prom.Must(httpmetrics.New(httpmetrics.WithRegistry(reg)))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{user_id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.PathValue("user_id"))
	})
	mux.Handle("GET /metrics", prom.Handler(reg))

	srv := httptest.NewServer(mw.Wrap(mux))
	defer srv.Close()
	get(srv.URL, "/users/1", "/users/2", "/wp-login.php", "/metrics")

	printSamples(reg, "http_server_requests_total", "http_server_responses_total")
	// Output:
	// http_server_requests_total{method="GET",route="/users/{user_id}"} 2
	// http_server_requests_total{method="GET",route="unmatched"} 1
	// http_server_responses_total{method="GET",route="/users/{user_id}",code="200"} 2
	// http_server_responses_total{method="GET",route="unmatched",code="404"} 1
}

// Status codes can be grouped by class, and every series can carry
// constant labels and a prefix.
func ExampleWithGroupedStatusCodes() {
	reg := prom.NewRegistry()
	mw := prom.Must(httpmetrics.New(
		httpmetrics.WithRegistry(reg),
		httpmetrics.WithGroupedStatusCodes(),
		httpmetrics.WithNamespace("shop"),
		httpmetrics.WithConstLabels(prom.Labels{"server": "public"}),
	))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("item") == "" {
			http.Error(w, "no item", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	srv := httptest.NewServer(mw.Wrap(mux))
	defer srv.Close()
	for _, q := range []string{"?item=1", "?item=2", ""} {
		resp, err := http.Post(srv.URL+"/orders"+q, "text/plain", nil)
		if err == nil {
			resp.Body.Close()
		}
	}

	printSamples(reg, "shop_http_server_responses_total")
	// Output:
	// shop_http_server_responses_total{server="public",method="POST",route="/orders",code="2xx"} 2
	// shop_http_server_responses_total{server="public",method="POST",route="/orders",code="4xx"} 1
}
