package main

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/promgo/prom"
	"github.com/promgo/prom/internal/testbin"
	"github.com/promgo/prom/promtest"
)

// TestHandleRequest drives the instrumented handler by hand and checks each
// metric, with the three outcomes the random draws give.
func TestHandleRequest(t *testing.T) {
	reg := prom.NewRegistry()
	m := newMetrics(reg)
	rng := rand.New(rand.NewPCG(1, 2))
	var ok, failed, panicked int
	for range 200 {
		func() {
			defer func() {
				if recover() != nil {
					panicked++
				}
			}()
			switch err := m.handleRequest(context.Background(), rng, time.Millisecond); {
			case err == nil:
				ok++
			case errors.Is(err, errOops):
				failed++
			default:
				t.Fatalf("unexpected error %v", err)
			}
		}()
	}
	if ok == 0 || failed == 0 || panicked == 0 {
		t.Fatalf("200 calls gave %d successes, %d errors, %d panics; want some of each", ok, failed, panicked)
	}
	route := prom.Labels{"route": "/"}
	if n := m.duration.With(route).Value().Count; n != 200 {
		t.Errorf("timed %d calls, want 200", n)
	}
	if v := m.inProgress.With(route).Value(); v != 0 {
		t.Errorf("in progress = %v after the calls, want 0", v)
	}
	if v := m.failures.With(route).Value(); v != float64(failed+panicked) {
		t.Errorf("failures = %v, want %d errors + %d panics", v, failed, panicked)
	}

	// A request cut short by cancellation is timed but not a failure.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := m.failures.With(route).Value()
	if err := m.handleRequest(ctx, rng, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: err = %v", err)
	}
	if v := m.failures.With(route).Value(); v != before {
		t.Errorf("a cancelled request was counted as a failure")
	}

	body, err := promtest.Gather(reg)
	if err != nil {
		t.Fatal(err)
	}
	if problems, err := promtest.Lint(body); err != nil || len(problems) != 0 {
		t.Errorf("lint: %v %v", problems, err)
	}
	testbin.CheckMetrics(t, body)
}

// TestInProgressWhileRunning checks the gauge from inside a slow request.
func TestInProgressWhileRunning(t *testing.T) {
	m := newMetrics(prom.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = m.handleRequest(ctx, rand.New(rand.NewPCG(3, 4)), time.Hour)
	}()
	g := m.inProgress.With(prom.Labels{"route": "/"})
	deadline := time.Now().Add(10 * time.Second)
	for g.Value() != 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if v := g.Value(); v != 1 {
		t.Errorf("in progress = %v while a request runs, want 1", v)
	}
	cancel()
	<-done
	if v := g.Value(); v != 0 {
		t.Errorf("in progress = %v after the request, want 0", v)
	}
}

// TestRun starts the example on an ephemeral port, scrapes it over HTTP
// until the handler has run, then cancels the context and expects a clean
// stop.
func TestRun(t *testing.T) {
	lines, stop := testbin.StartProgram(t, 1, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "127.0.0.1:0", 5*time.Millisecond, out)
	})
	const prefix = "Serving prometheus metrics on: "
	url, found := strings.CutPrefix(lines[0], prefix)
	if !found {
		t.Fatalf("first line = %q, want it to start with %q", lines[0], prefix)
	}
	if !regexp.MustCompile(`^http://127\.0\.0\.1:[1-9][0-9]*/metrics$`).MatchString(url) {
		t.Fatalf("metrics URL = %q, want http://127.0.0.1:<port>/metrics", url)
	}

	client := &http.Client{Timeout: 10 * time.Second}
	scrape := func() []byte {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", url, resp.Status)
		}
		return body
	}
	var body []byte
	deadline := time.Now().Add(10 * time.Second)
	for {
		body = scrape()
		// Enough calls for a failure to be likely too.
		n, err := promtest.TextValue(body, "request_processing_seconds_count", prom.Labels{"route": "/"})
		if err == nil && n >= 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		"# TYPE request_processing_seconds summary\n",
		"# TYPE requests_in_progress gauge\n",
		"# TYPE request_handler_failures_total counter\n",
		`request_handler_failures_total{route="/"} `,
		"# TYPE go_goroutines gauge\n",
		"# TYPE go_build_info gauge\n",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
	if n, err := promtest.TextValue(body, "request_processing_seconds_count", prom.Labels{"route": "/"}); err != nil || n < 20 {
		t.Errorf("request_processing_seconds_count = %v, %v; want at least 20 within 10s", n, err)
	}

	if err := stop(); err != nil {
		t.Errorf("run returned %v after cancel, want nil", err)
	}
	host := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/metrics")
	if conn, err := net.DialTimeout("tcp", host, time.Second); err == nil {
		conn.Close()
		t.Error("server still accepts connections after run returned")
	}
}

// TestRunErrors checks that run reports an address it cannot use and a
// negative duration.
func TestRunErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := run(context.Background(), ln.Addr().String(), time.Millisecond, io.Discard); err == nil {
		t.Error("run on a port in use returned nil, want an error")
	}
	if err := run(context.Background(), "127.0.0.1:0", -time.Second, io.Discard); err == nil {
		t.Error("run with a negative duration returned nil, want an error")
	}
}
