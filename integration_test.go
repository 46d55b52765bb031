//go:build unix

package prom

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/promgo/prom/internal/testbin"
)

// TestIntegrationPrometheus has a real Prometheus server scrape a Service
// and checks, through Prometheus's HTTP API, the values it stored: a
// labelled counter, a gauge, a histogram bucket and a summary quantile. It
// runs twice: with Prometheus's defaults, which ask for OpenMetrics first,
// and with native histograms enabled, which ask for protobuf first. Each
// run also checks a histogram exemplar (which the text format cannot carry)
// and the unit that Prometheus recorded (which only OpenMetrics carries in
// Prometheus 2.42), so that a scrape that fell back to another format
// fails.
func TestIntegrationPrometheus(t *testing.T) {
	bin := prometheusBin(t)
	t.Parallel() // it waits on Prometheus' scrapes, not on the CPU

	reg := NewRegistry()
	in := WithRegistry(reg)
	requests := Must(NewCounter("integ_requests_total", "Requests served.", in, WithLabelNames("method", "code")))
	requests.WithValues("GET", "200").Add(7)
	requests.WithValues("POST", "500").Add(2)
	Must(NewGauge("integ_queue_depth", "Jobs waiting.", in)).Set(42.5)
	// A NaN whose bits are Prometheus' staleness marker must arrive as a
	// plain NaN in every format, not as the end of the series.
	Must(NewGauge("integ_stale_bits", "A NaN with the staleness marker's bits.", in)).Set(math.Float64frombits(0x7ff0000000000002))
	latency := Must(NewHistogram("integ_latency_seconds", "Request latency.", in,
		WithBuckets(0.1, 0.5, 1), WithUnit("seconds")))
	for _, v := range []float64{0.05, 0.2, 0.7, 5} {
		latency.Observe(v)
	}
	latency.With(nil).ObserveWithExemplar(0.3, Labels{"trace_id": "abc123"})
	payload := Must(NewSummary("integ_payload_bytes", "Payload sizes.", in,
		WithObjectives(Objective{Quantile: 0.5, Epsilon: 0.05}, Objective{Quantile: 0.9, Epsilon: 0.01})))
	for i := range 100 {
		payload.Observe(float64((i*37)%100 + 1)) // 1 to 100, shuffled
	}

	target := startTarget(t, &Service{Registry: reg, Addr: "127.0.0.1:0"})

	for _, tc := range []struct {
		name     string
		features string
		format   string // the format Prometheus should have negotiated
		unit     string // the unit Prometheus records for integ_latency_seconds
	}{
		{"default", "exemplar-storage", "OpenMetrics", "seconds"},
		{"native-histograms", "native-histograms,exemplar-storage", "protobuf", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := startPrometheus(t, bin, target.Host, target.Path, "--enable-feature="+tc.features)
			t.Logf("prometheus %s scraping %s (expecting %s)", p.base, target, tc.format)

			start := time.Now()
			p.waitValue(t, `up{job="prom"}`, eq(1))
			t.Logf("target up after %v", time.Since(start).Round(time.Millisecond))
			p.waitValue(t, `integ_requests_total{job="prom",method="GET",code="200"}`, eq(7))
			p.waitValue(t, `integ_requests_total{job="prom",method="POST",code="500"}`, eq(2))
			p.waitValue(t, `integ_queue_depth{job="prom"}`, eq(42.5))
			p.waitValue(t, `integ_stale_bits{job="prom"}`, math.IsNaN)
			p.waitValue(t, `integ_latency_seconds_bucket{job="prom",le="0.5"}`, eq(3))
			p.waitValue(t, `integ_latency_seconds_count{job="prom"}`, eq(5))
			p.waitValue(t, `integ_latency_seconds_sum{job="prom"}`, eq(6.25))
			// 0.5±0.05 over 1..100: a rank between 45 and 55.
			p.waitValue(t, `integ_payload_bytes{job="prom",quantile="0.5"}`, within(45, 55))
			p.waitValue(t, `integ_payload_bytes{job="prom",quantile="0.9"}`, within(89, 91))
			p.waitValue(t, `integ_payload_bytes_count{job="prom"}`, eq(100))
			p.waitValue(t, `integ_payload_bytes_sum{job="prom"}`, eq(5050))

			p.waitExemplar(t, "integ_latency_seconds_bucket", "trace_id", "abc123", tc.format)
			p.waitUnit(t, "integ_latency_seconds", tc.unit, tc.format)
		})
	}
}

// TestIntegrationWithoutOpenMetrics scrapes a Service whose handler has
// WithoutOpenMetrics with a real Prometheus, which asks for OpenMetrics
// first: the series keep the text format's spelling, as client_golang's
// handler gives them (through OpenMetrics they would be stored as
// integ_events_total and le="1.0").
func TestIntegrationWithoutOpenMetrics(t *testing.T) {
	bin := prometheusBin(t)
	t.Parallel()
	reg := NewRegistry()
	in := WithRegistry(reg)
	Must(NewCounter("integ_events", "Events, named without _total.", in)).Add(3)
	h := Must(NewHistogram("integ_wait_seconds", "Waits.", in, WithBuckets(1, 5)))
	h.Observe(0.5)
	target := startTarget(t, &Service{Registry: reg, Addr: "127.0.0.1:0", HandlerOptions: []HandlerOption{WithoutOpenMetrics()}})
	p := startPrometheus(t, bin, target.Host, target.Path)
	p.waitValue(t, `integ_events{job="prom"}`, eq(3))
	p.waitValue(t, `integ_wait_seconds_bucket{job="prom",le="1"}`, eq(1))
	for _, q := range []string{`integ_events_total`, `integ_wait_seconds_bucket{le="1.0"}`} {
		if vs, err := p.query(q); err != nil || len(vs) != 0 {
			t.Errorf("query %s: %v, %v; want no series", q, vs, err)
		}
	}
}

// prometheusBin returns the Prometheus binary for an integration test, or
// skips the test in -short mode or (outside CI) when there is none.
func prometheusBin(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with a real Prometheus; skipped in -short mode")
	}
	return testbin.Prometheus(t)
}

// startTarget starts svc for the test and returns its metrics URL.
func startTarget(t *testing.T, svc *Service) *url.URL {
	t.Helper()
	startService(t, svc)
	target, err := url.Parse(mustURL(t, svc.MetricsURL))
	if err != nil {
		t.Fatal(err)
	}
	return target
}

// eq and within are the checks of waitValue.
func eq(want float64) func(float64) bool { return func(v float64) bool { return v == want } }

func within(lo, hi float64) func(float64) bool {
	return func(v float64) bool { return v >= lo && v <= hi }
}

// integrationWait bounds every wait on Prometheus: generous, for a loaded
// machine; the waits end as soon as their condition holds.
const integrationWait = 60 * time.Second

// promServer is a Prometheus server started by a test.
type promServer struct {
	base   string // http://127.0.0.1:port
	log    *syncBuffer
	client *http.Client
}

// startPrometheus runs Prometheus with a configuration that scrapes
// http://target+path every second as job "prom", waits until it is
// ready, and stops it when the test ends, adding its log to the output
// when the test failed.
func startPrometheus(t *testing.T, bin, target, path string, args ...string) *promServer {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: prom
    metrics_path: %q
    static_configs:
      - targets: [%q]
`, path, target)
	configFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &promServer{log: &syncBuffer{}, client: testClient(nil)}
	// The free port found may be taken again before Prometheus binds it:
	// try a few.
	for attempt := 1; ; attempt++ {
		port := freePort(t)
		p.base = "http://127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(bin, append([]string{
			"--config.file=" + configFile,
			"--storage.tsdb.path=" + filepath.Join(dir, fmt.Sprintf("data%d", attempt)),
			"--web.listen-address=127.0.0.1:" + strconv.Itoa(port),
		}, args...)...)
		fmt.Fprintf(p.log, "$ %s\n", strings.Join(cmd.Args, " "))
		cmd.Stdout, cmd.Stderr = p.log, p.log
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // to stop it with anything it starts
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting prometheus: %v", err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		t.Cleanup(func() {
			stopGroup(t, cmd.Process.Pid, exited)
			if t.Failed() {
				t.Logf("prometheus log:\n%s", p.log)
			}
		})
		err := p.waitReady(exited)
		if err == nil {
			return p
		}
		if attempt < 3 && strings.Contains(p.log.String(), "address already in use") {
			continue
		}
		t.Fatalf("prometheus did not become ready: %v", err)
	}
}

// waitReady polls /-/ready until it answers 200, Prometheus exits, or
// integrationWait passes.
func (p *promServer) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(integrationWait)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("prometheus exited: %v", err)
		default:
		}
		resp, err := p.client.Get(p.base + "/-/ready")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v (last: %v)", integrationWait, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopGroup ends the process group led by pid: SIGTERM, then SIGKILL if it
// has not exited within 10 seconds.
func stopGroup(t *testing.T, pid int, exited <-chan error) {
	syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-exited:
		return
	case <-time.After(10 * time.Second):
	}
	t.Logf("prometheus ignored SIGTERM; killing it")
	syscall.Kill(-pid, syscall.SIGKILL)
	<-exited
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// api calls Prometheus's HTTP API and decodes the data of a successful
// answer into data.
func (p *promServer) api(path string, params url.Values, data any) error {
	resp, err := p.client.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var r struct {
		Status    string          `json:"status"`
		Data      json.RawMessage `json:"data"`
		ErrorType string          `json:"errorType"`
		Error     string          `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("%s: status %d, %v: %s", path, resp.StatusCode, err, body)
	}
	if r.Status != "success" {
		return fmt.Errorf("%s: %s: %s", path, r.ErrorType, r.Error)
	}
	return json.Unmarshal(r.Data, data)
}

// query runs an instant query and returns the values of its vector.
func (p *promServer) query(q string) ([]float64, error) {
	var data struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Metric map[string]string  `json:"metric"`
			Value  [2]json.RawMessage `json:"value"` // [time, "value"]
		} `json:"result"`
	}
	if err := p.api("/api/v1/query", url.Values{"query": {q}}, &data); err != nil {
		return nil, err
	}
	if data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %q, want vector", data.ResultType)
	}
	var vs []float64
	for _, r := range data.Result {
		var s string
		if err := json.Unmarshal(r.Value[1], &s); err != nil {
			return nil, fmt.Errorf("value %s: %v", r.Value[1], err)
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// waitValue polls the query until it returns one value that ok accepts,
// and fails the test after integrationWait with the last answer and the
// target's state.
func (p *promServer) waitValue(t *testing.T, q string, ok func(float64) bool) {
	t.Helper()
	var last string
	p.poll(t, func() bool {
		vs, err := p.query(q)
		switch {
		case err != nil:
			last = err.Error()
			return false
		case len(vs) != 1:
			last = fmt.Sprintf("%d series: %v", len(vs), vs)
			return false
		}
		last = fmt.Sprintf("value %v", vs[0])
		return ok(vs[0])
	}, func() string { return fmt.Sprintf("query %s: %s", q, last) })
}

// waitExemplar polls until Prometheus holds an exemplar with the label
// name=value on the series of metric.
func (p *promServer) waitExemplar(t *testing.T, metric, name, value, format string) {
	t.Helper()
	var last string
	p.poll(t, func() bool {
		var data []struct {
			SeriesLabels map[string]string `json:"seriesLabels"`
			Exemplars    []struct {
				Labels map[string]string `json:"labels"`
				Value  string            `json:"value"`
			} `json:"exemplars"`
		}
		now := time.Now()
		err := p.api("/api/v1/query_exemplars", url.Values{
			"query": {metric},
			"start": {strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)},
			"end":   {strconv.FormatInt(now.Add(time.Minute).Unix(), 10)},
		}, &data)
		if err != nil {
			last = err.Error()
			return false
		}
		last = fmt.Sprintf("%+v", data)
		for _, s := range data {
			for _, e := range s.Exemplars {
				if e.Labels[name] == value {
					return true
				}
			}
		}
		return false
	}, func() string {
		return fmt.Sprintf("no exemplar %s=%q on %s, which %s carries (did the scrape fall back to text?); last answer: %s",
			name, value, metric, format, last)
	})
}

// waitUnit polls until Prometheus has metadata for metric, and checks the
// unit recorded.
func (p *promServer) waitUnit(t *testing.T, metric, unit, format string) {
	t.Helper()
	var got []struct {
		Type string `json:"type"`
		Help string `json:"help"`
		Unit string `json:"unit"`
	}
	var last string
	p.poll(t, func() bool {
		var data map[string]json.RawMessage
		if err := p.api("/api/v1/metadata", url.Values{"metric": {metric}}, &data); err != nil {
			last = err.Error()
			return false
		}
		last = fmt.Sprintf("%s", data)
		raw, ok := data[metric]
		return ok && json.Unmarshal(raw, &got) == nil && len(got) > 0
	}, func() string { return fmt.Sprintf("no metadata for %s: %s", metric, last) })
	if got[0].Type != "histogram" || got[0].Unit != unit {
		t.Errorf("metadata of %s = %+v, want type histogram and unit %q, as the %s format gives", metric, got, unit, format)
	}
}

// poll calls check until it returns true, and fails the test with
// describe's message and the target's scrape state after integrationWait.
func (p *promServer) poll(t *testing.T, check func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(integrationWait)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s\ntarget: %s", integrationWait, describe(), p.targets())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// targets describes the active targets' health and last error.
func (p *promServer) targets() string {
	var data struct {
		ActiveTargets []struct {
			ScrapeURL  string `json:"scrapeUrl"`
			Health     string `json:"health"`
			LastError  string `json:"lastError"`
			LastScrape string `json:"lastScrape"`
		} `json:"activeTargets"`
	}
	if err := p.api("/api/v1/targets", nil, &data); err != nil {
		return err.Error()
	}
	if len(data.ActiveTargets) == 0 {
		return "no active target"
	}
	var b strings.Builder
	for _, a := range data.ActiveTargets {
		fmt.Fprintf(&b, "%s health=%s lastScrape=%s lastError=%q; ", a.ScrapeURL, a.Health, a.LastScrape, a.LastError)
	}
	return b.String()
}
