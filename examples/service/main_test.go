package main

import (
	"context"
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
)

// TestMetricsPassPromtool renders the example's metrics after some ticks and
// has promtool parse and lint them: names, units, help texts and escaping.
func TestMetricsPassPromtool(t *testing.T) {
	for name, host := range map[string]string{
		"plain": "test-host",
		"odd":   "odd \"host\" \\ with\nnewline, ünïcödé and {braces}=", // escaping must hold
	} {
		t.Run(name, func(t *testing.T) {
			reg := prom.NewRegistry()
			m := newMetrics(reg, host)
			rng := rand.New(rand.NewPCG(1, 2))
			for range 50 {
				m.tick(rng)
			}
			body, contentType, err := prom.Render(reg, "")
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if want := prom.FormatText.ContentType(); contentType != want {
				t.Errorf("content type = %q, want %q", contentType, want)
			}
			for _, want := range []string{
				"# TYPE events_total counter\n",
				"# TYPE work_in_progress gauge\n",
				"# TYPE event_duration_seconds histogram\n",
				"# TYPE event_payload_bytes summary\n",
				`kind="timer_expiry"`,
				`kind="job_done"`,
			} {
				if !strings.Contains(string(body), want) {
					t.Errorf("exposition lacks %q:\n%s", want, body)
				}
			}
			testbin.CheckMetrics(t, body)
		})
	}
}

// TestRun starts the example's server on an ephemeral port, scrapes it over
// HTTP, then cancels the context and expects a clean stop.
func TestRun(t *testing.T) {
	lines, stop := testbin.StartProgram(t, 1, func(ctx context.Context, out io.Writer) error {
		return run(ctx, "127.0.0.1:0", out)
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
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: status %s, want 200", url, resp.Status)
	}
	if got, want := resp.Header.Get("Content-Type"), "text/plain; version=0.0.4; charset=utf-8"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	// run ticks once before serving, so the first scrape has the counter.
	series := regexp.MustCompile(`(?m)^events_total\{[^}]*kind="timer_expiry"[^}]*\} [1-9]`)
	if !series.Match(body) {
		t.Errorf("scrape lacks events_total{kind=\"timer_expiry\"} >= 1:\n%s", body)
	}
	if !strings.Contains(string(body), "# HELP events_total Number of events.\n") {
		t.Errorf("scrape lacks the help text of events_total:\n%s", body)
	}

	// The Service also serves an index linking the metrics (a health check).
	index, err := client.Get(strings.TrimSuffix(url, "metrics"))
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(index.Body)
	index.Body.Close()
	if index.StatusCode != http.StatusOK || !strings.Contains(string(page), `href="/metrics"`) {
		t.Errorf("index: %s\n%s", index.Status, page)
	}

	if err := stop(); err != nil {
		t.Errorf("run returned %v after cancel, want nil", err)
	}
	if conn, err := net.DialTimeout("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/metrics"), time.Second); err == nil {
		conn.Close()
		t.Error("server still accepts connections after run returned")
	}
}

// TestRunListenError checks that run reports an address it cannot use.
func TestRunListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := run(context.Background(), ln.Addr().String(), io.Discard); err == nil {
		t.Error("run on a port in use returned nil, want an error")
	}
}
