package promecho_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/promgo/prom"
	promecho "github.com/promgo/prom/contrib/echo"
	"github.com/promgo/prom/httpmetrics"
)

// The middleware goes into the server with Use, after Recover; requests
// count by the route Echo matched.
func Example() {
	reg := prom.NewRegistry()
	e := echo.New()
	e.Use(middleware.Recover(), prom.Must(promecho.New(httpmetrics.WithRegistry(reg))))
	e.GET("/users/:user_id", func(c echo.Context) error { return c.String(http.StatusOK, c.Param("user_id")) })
	e.GET("/metrics", echo.WrapHandler(prom.Handler(reg)))

	srv := httptest.NewServer(e)
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
	// http_server_responses_total{method="GET",route="/users/:user_id",code="200"} 2
	// http_server_responses_total{method="GET",route="unmatched",code="404"} 1
}
