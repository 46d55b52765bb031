package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promgo/prom/internal/testbin"
)

// TestRunFakeGateway checks the requests the job sends: a POST of all four
// metrics after a success, of three after a failure.
func TestRunFakeGateway(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/metrics/job/db_backup" {
			t.Errorf("%s %s, want POST /metrics/job/db_backup", r.Method, r.URL.Path)
		}
		bodies = append(bodies, string(b))
	}))
	defer srv.Close()

	var out bytes.Buffer
	if err := run(context.Background(), srv.URL, "db_backup", false, &out); err != nil {
		t.Fatalf("successful run: %v", err)
	}
	if err := run(context.Background(), srv.URL, "db_backup", true, &out); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failed run returned %v", err)
	}
	want := "pushed to " + srv.URL + "/metrics/job/db_backup: success\n" +
		"pushed to " + srv.URL + "/metrics/job/db_backup: failure (backup failed: disk full)\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 {
		t.Fatalf("%d pushes, want 2", len(bodies))
	}
	for i, body := range bodies {
		for _, name := range []string{"db_backup_duration_seconds", "db_backup_records_processed", "db_backup_last_completion_timestamp_seconds"} {
			if !strings.Contains(body, name) {
				t.Errorf("push %d lacks %s", i, name)
			}
		}
		if got, want := strings.Contains(body, "db_backup_last_success_timestamp_seconds"), i == 0; got != want {
			t.Errorf("push %d has the last success time: %v, want %v", i, got, want)
		}
	}
}

// TestRunRealGateway runs the job against the real Pushgateway, once
// successfully and once failing, and checks that the failed run left the
// last success time in place.
func TestRunRealGateway(t *testing.T) {
	base := startGateway(t)
	ctx := context.Background()
	if err := run(ctx, base, "db_backup", false, io.Discard); err != nil {
		t.Fatal(err)
	}
	first := readGroup(t, base)
	if err := run(ctx, base, "db_backup", true, io.Discard); err == nil {
		t.Fatal("the failing run succeeded")
	}
	second := readGroup(t, base)
	for name, want := range map[string]bool{ // whether the failed run changed it
		"db_backup_last_success_timestamp_seconds":    false,
		"db_backup_last_completion_timestamp_seconds": true,
		"db_backup_records_processed":                 true,
	} {
		if first[name] == "" || second[name] == "" {
			t.Errorf("%s missing: first run %q, second %q", name, first[name], second[name])
		} else if changed := first[name] != second[name]; changed != want {
			t.Errorf("%s: %s after the first run, %s after the failed one", name, first[name], second[name])
		}
	}
}

// readGroup returns the values of the group job="db_backup" from the
// gateway's /api/v1/metrics.
func readGroup(t *testing.T, base string) map[string]string {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Data []map[string]json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, group := range doc.Data {
		var labels map[string]string
		if json.Unmarshal(group["labels"], &labels) != nil || labels["job"] != "db_backup" || len(labels) != 1 {
			continue
		}
		for name, raw := range group {
			var f struct {
				Metrics []struct {
					Value string `json:"value"`
				} `json:"metrics"`
			}
			if json.Unmarshal(raw, &f) == nil && len(f.Metrics) == 1 {
				values[name] = f.Metrics[0].Value
			}
		}
	}
	return values
}

// startGateway runs the Pushgateway on a free port of 127.0.0.1 for the
// test, or skips it when the binary is missing.
func startGateway(t *testing.T) string {
	bin := testbin.Pushgateway(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var out bytes.Buffer
	// --persistence.file= turns off the persistence that Debian's build
	// enables by default (in /var/lib/prometheus).
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--persistence.file=")
	cmd.Dir = t.TempDir()
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("Pushgateway output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(base + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base
			}
		}
	}
	t.Fatalf("the Pushgateway at %s was not ready after 15s", base)
	return ""
}
