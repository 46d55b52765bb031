package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/promgo/prom"
	"github.com/promgo/prom/internal/testbin"
)

// TestRun starts the example on an ephemeral port, sends it the requests
// of aioprometheus's FastAPI example, scrapes /metrics, has promtool lint
// the scrape, then cancels the context and expects a clean stop.
func TestRun(t *testing.T) {
	printed, stop := testbin.StartProgram(t, 2, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "127.0.0.1:0", out)
	})
	root, ok := strings.CutPrefix(printed[0], "Serving on: ")
	if !ok || !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*/$`).MatchString(root) {
		t.Fatalf("first line = %q, want Serving on: http://127.0.0.1:<port>/", printed[0])
	}
	if want := "Metrics on: " + root + "metrics"; printed[1] != want {
		t.Fatalf("second line = %q, want %q", printed[1], want)
	}

	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string, want int) string {
		t.Helper()
		resp, err := client.Get(root + strings.TrimPrefix(path, "/"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", path, resp.StatusCode, want)
		}
		return string(body)
	}
	if body := get("/", 200); body != "ServeMux Middleware Example\n" {
		t.Errorf("GET /: %q", body)
	}
	if body := get("/users/1", 200); body != "1\n" {
		t.Errorf("GET /users/1: %q", body)
	}
	get("/users/2", 200)
	get("/nothing/here", 404)
	metrics := get("/metrics", 200)

	for _, want := range []string{
		`http_server_requests_total{method="GET",route="/{$}"} 1`,
		`http_server_requests_total{method="GET",route="/users/{user_id}"} 2`,
		`http_server_requests_total{method="GET",route="unmatched"} 1`,
		`http_server_responses_total{method="GET",route="/users/{user_id}",code="200"} 2`,
		`http_server_responses_total{method="GET",route="unmatched",code="404"} 1`,
		`http_server_request_duration_seconds_count{method="GET",route="/users/{user_id}"} 2`,
		`http_server_requests_in_flight 0`,
		`events_total{kind="user_lookup"} 2`,
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("scrape lacks %s:\n%s", want, metrics)
		}
	}
	if strings.Contains(metrics, `route="/metrics"`) {
		t.Errorf("the scrape recorded itself:\n%s", metrics)
	}
	if err := stop(); err != nil {
		t.Errorf("run returned %v after cancel, want nil", err)
	}
	testbin.CheckMetrics(t, []byte(metrics)) // last: it skips when promtool is missing
}

// TestLint has promtool check the middleware's metric names, types, units
// and help texts, with every metric present.
func TestLint(t *testing.T) {
	reg := prom.NewRegistry()
	h, err := newHandler(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/users/9", "/nope"} {
		req, _ := http.NewRequest(http.MethodGet, p, nil)
		h.ServeHTTP(discard{http.Header{}}, req)
	}
	body, _, err := prom.Render(reg, "")
	if err != nil {
		t.Fatal(err)
	}
	testbin.CheckMetrics(t, body)
}

// TestBadAddr checks that run reports an address it cannot listen on.
func TestBadAddr(t *testing.T) {
	if err := run(context.Background(), "127.0.0.1:-1", io.Discard); err == nil {
		t.Error("run listened on port -1")
	}
}

type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}
