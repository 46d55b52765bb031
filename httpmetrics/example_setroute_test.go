package httpmetrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/promgo/prom"
	"github.com/promgo/prom/httpmetrics"
)

// A ServeMux mounted under a prefix with http.StripPrefix sees patterns
// without the prefix, and on a copy of the request; its handlers can name
// the full route with SetRoute.
func ExampleSetRoute() {
	reg := prom.NewRegistry()
	mw := prom.Must(httpmetrics.New(httpmetrics.WithRegistry(reg)))

	api := http.NewServeMux()
	api.HandleFunc("GET /users/{user_id}", func(w http.ResponseWriter, r *http.Request) {
		_, pattern, _ := strings.Cut(r.Pattern, " ")
		httpmetrics.SetRoute(w, "/api/v1"+pattern)
	})
	root := http.NewServeMux()
	root.Handle("/api/v1/", http.StripPrefix("/api/v1", api))

	srv := httptest.NewServer(mw.Wrap(root))
	defer srv.Close()
	get(srv.URL, "/api/v1/users/1", "/api/v1/users/2")

	printSamples(reg, "http_server_requests_total")
	// Output:
	// http_server_requests_total{method="GET",route="/api/v1/users/{user_id}"} 2
}
