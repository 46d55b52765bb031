// Package testbin finds the Prometheus binaries that integration tests run
// (promtool, prometheus, the Pushgateway) and wraps the common calls.
//
// Each finder returns the binary's path, or skips the test with a message
// saying how to install it. When the environment variable CI is "true" (as
// .ci/run runs), a missing binary fails the test instead: CI installs the
// Debian packages, so a skip there would hide a broken install step.
package testbin

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

// The Debian packages that provide the binaries; .ci/run installs both.
const (
	debPrometheus  = "prometheus"
	debPushgateway = "prometheus-pushgateway"
)

// Promtool returns the path of promtool (Debian package prometheus), or
// skips t when it is not installed.
func Promtool(t testing.TB) string {
	t.Helper()
	return find(t, debPrometheus, "promtool")
}

// Prometheus returns the path of the Prometheus server (Debian package
// prometheus), or skips t when it is not installed.
func Prometheus(t testing.TB) string {
	t.Helper()
	return find(t, debPrometheus, "prometheus")
}

// Pushgateway returns the path of the Pushgateway (Debian package
// prometheus-pushgateway, which names it prometheus-pushgateway; upstream
// builds call it pushgateway), or skips t when it is not installed.
func Pushgateway(t testing.TB) string {
	t.Helper()
	return find(t, debPushgateway, "prometheus-pushgateway", "pushgateway")
}

// find looks each name up in PATH, then in /usr/bin (where Debian puts
// them, and which a test's PATH may lack).
func find(t testing.TB, pkg string, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := "/usr/bin/" + name; isExecutable(p) {
			return p
		}
	}
	msg := names[0] + " not installed; .ci/run installs Debian package " + pkg
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: failing instead of skipping)")
	} else {
		t.Skip(msg)
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// CheckMetrics runs `promtool check metrics` on body, a scrape in the
// Prometheus text format, and fails t with promtool's findings unless it
// reports none. promtool exits 1 when it cannot parse the input and 3 when
// the lint rules (naming, units, help texts...) find problems; both fail.
// It skips t when promtool is not installed (see [Promtool]).
func CheckMetrics(t testing.TB, body []byte) {
	t.Helper()
	path := Promtool(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err == nil {
		return
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		t.Errorf("promtool check metrics found lint problems:\n%s\ninput:\n%s", out.Bytes(), body)
	case errors.As(err, &exit):
		t.Errorf("promtool check metrics failed (exit %d):\n%s\ninput:\n%s", exit.ExitCode(), out.Bytes(), body)
	default:
		t.Errorf("running promtool check metrics: %v\n%s", err, out.Bytes())
	}
}
