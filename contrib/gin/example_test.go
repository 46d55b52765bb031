package promgin_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/promgo/prom"
	promgin "github.com/promgo/prom/contrib/gin"
	"github.com/promgo/prom/httpmetrics"
)

// The middleware goes into the engine with Use, after gin.Recovery;
// requests count by the route gin matched.
func Example() {
	reg := prom.NewRegistry()
	r := gin.New()
	r.Use(gin.Recovery(), prom.Must(promgin.New(httpmetrics.WithRegistry(reg))))
	r.GET("/users/:user_id", func(c *gin.Context) { c.String(http.StatusOK, c.Param("user_id")) })
	r.GET("/metrics", gin.WrapH(prom.Handler(reg)))

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
	// http_server_responses_total{method="GET",route="/users/:user_id",code="200"} 2
	// http_server_responses_total{method="GET",route="unmatched",code="404"} 1
}
