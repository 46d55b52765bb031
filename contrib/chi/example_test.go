package promchi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/promgo/prom"
	promchi "github.com/promgo/prom/contrib/chi"
	"github.com/promgo/prom/httpmetrics"
)

// The middleware goes into the router with Use; requests count by the
// pattern chi matched.
func Example() {
	reg := prom.NewRegistry()
	r := chi.NewRouter()
	r.Use(prom.Must(promchi.New(httpmetrics.WithRegistry(reg))))
	r.Get("/users/{user_id}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, chi.URLParam(r, "user_id"))
	})
	r.Handle("/metrics", prom.Handler(reg))

	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, p := range []string{"/users/1", "/users/2", "/nope", "/metrics"} {
		if resp, err := http.Get(srv.URL + p); err == nil {
			resp.Body.Close()
		}
	}

	body, _, _ := prom.Render(reg, "")
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "http_server_responses_total") {
			fmt.Println(line)
		}
	}
	// Output:
	// http_server_responses_total{method="GET",route="/users/{user_id}",code="200"} 2
	// http_server_responses_total{method="GET",route="unmatched",code="404"} 1
}
