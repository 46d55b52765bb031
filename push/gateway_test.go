package push

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promgo/prom/internal/testbin"
)

// syncBuffer collects a process's output from its two pipes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// gatewayLogged makes the first test that starts a gateway log its
// version.
var gatewayLogged sync.Once

// startGateway runs the real Pushgateway on 127.0.0.1, on a free port, in
// a temporary directory, and returns its base URL. It skips the test when
// the binary is missing (see testbin.Pushgateway). The process is killed
// at the end of the test, and its output logged if the test failed.
func startGateway(t *testing.T) string {
	t.Helper()
	bin := testbin.Pushgateway(t)
	gatewayLogged.Do(func() {
		out, _ := exec.Command(bin, "--version").CombinedOutput()
		first, _, _ := strings.Cut(string(out), "\n")
		t.Logf("using %s: %s", bin, first)
	})
	var lastErr error
	for range 3 { // the free port may be taken before the gateway binds it
		base, err := tryStartGateway(t, bin)
		if err == nil {
			return base
		}
		lastErr = err
	}
	t.Fatal(lastErr)
	return ""
}

func tryStartGateway(t *testing.T, bin string) (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	l.Close()

	out := new(syncBuffer)
	cmd := exec.Command(bin,
		"--web.listen-address="+addr,
		// Off explicitly: Debian's build persists to
		// /var/lib/prometheus/pushgateway.data by default.
		"--persistence.file=",
		"--log.level=debug",
	)
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	base := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			return "", fmt.Errorf("the Pushgateway exited before it was ready:\n%s", out)
		default:
		}
		if resp, err := client.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("the Pushgateway at %s was not ready after 15s:\n%s", base, out)
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("Pushgateway output:\n%s", out)
		}
	})
	return base, nil
}

// get fetches url and returns the body, failing t unless the answer is 200.
func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, body)
	}
	return body
}

// apiGroup is one group as /api/v1/metrics shows it.
type apiGroup struct {
	Labels             map[string]string
	LastPushSuccessful bool
	Families           map[string]apiFamily // the pushed families and push_*_seconds
}

type apiFamily struct {
	Type    string      `json:"type"`
	Help    string      `json:"help"`
	Metrics []apiMetric `json:"metrics"`
}

type apiMetric struct {
	Labels map[string]string `json:"labels"`
	Value  string            `json:"value"` // gauges, counters, untyped
	Count  string            `json:"count"` // histograms, summaries
	Sum    string            `json:"sum"`
}

// groups reads /api/v1/metrics.
func groups(t *testing.T, base string) []apiGroup {
	t.Helper()
	var doc struct {
		Status string                       `json:"status"`
		Data   []map[string]json.RawMessage `json:"data"`
	}
	body := get(t, base+"/api/v1/metrics")
	if err := json.Unmarshal(body, &doc); err != nil || doc.Status != "success" {
		t.Fatalf("/api/v1/metrics: %v\n%s", err, body)
	}
	var gs []apiGroup
	for _, raw := range doc.Data {
		g := apiGroup{Families: map[string]apiFamily{}}
		for key, v := range raw {
			var err error
			switch key {
			case "labels":
				err = json.Unmarshal(v, &g.Labels)
			case "last_push_successful":
				err = json.Unmarshal(v, &g.LastPushSuccessful)
			default:
				var f apiFamily
				err = json.Unmarshal(v, &f)
				g.Families[key] = f
			}
			if err != nil {
				t.Fatalf("/api/v1/metrics: %s: %v\n%s", key, err, body)
			}
		}
		gs = append(gs, g)
	}
	return gs
}

// group returns the group with exactly these labels, or nil.
func group(t *testing.T, base string, labels map[string]string) *apiGroup {
	t.Helper()
	for _, g := range groups(t, base) {
		if mapsEqual(g.Labels, labels) {
			return &g
		}
	}
	return nil
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// values returns a group's pushed samples as "name value", sorted, leaving
// out the gateway's push_time_seconds and push_failure_time_seconds.
func (g *apiGroup) values() []string {
	var out []string
	for name, f := range g.Families {
		if name == "push_time_seconds" || name == "push_failure_time_seconds" {
			continue
		}
		for _, m := range f.Metrics {
			out = append(out, name+" "+m.Value)
		}
	}
	slices.Sort(out)
	return out
}

// pushTime returns the group's push_time_seconds.
func (g *apiGroup) pushTime(t *testing.T, name string) float64 {
	t.Helper()
	f, ok := g.Families[name]
	if !ok || len(f.Metrics) != 1 {
		t.Fatalf("group %v has no %s: %+v", g.Labels, name, g.Families)
	}
	v, err := strconv.ParseFloat(f.Metrics[0].Value, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// scrape returns the sample lines of /metrics whose metric name begins
// with prefix, sorted.
func scrape(t *testing.T, base, prefix string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(string(get(t, base+"/metrics")), "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	slices.Sort(out)
	return out
}

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
	}
}

func pushCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
