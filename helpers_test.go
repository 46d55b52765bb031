package prom

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/promgo/prom/internal/testbin"
)

// pythonWithParser is the Python that has Debian's python3-prometheus-client,
// whose OpenMetrics parser is strict and written apart from prom.
const pythonWithParser = "/usr/bin/python3"

// strictOpenMetrics reads an OpenMetrics exposition with Python's strict
// parser and returns the number of samples it read; it fails t if the
// parser refuses it, and skips t if the parser is not installed.
func strictOpenMetrics(t testing.TB, body []byte) int {
	t.Helper()
	if exec.Command(pythonWithParser, "-c", "import prometheus_client.openmetrics.parser").Run() != nil {
		t.Skip("python3-prometheus-client not installed; .ci/run installs it")
	}
	cmd := exec.Command(pythonWithParser, "-c", `
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
print(sum(len(f.samples) for f in text_string_to_metric_families(sys.stdin.read())))
`)
	cmd.Stdin = bytes.NewReader(body)
	res, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the strict OpenMetrics parser refused the output: %v\n%s\n--- output:\n%s", err, res, body)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(res)))
	if err != nil {
		t.Fatalf("the parser printed %q", res)
	}
	return n
}

// promtoolCheck runs promtool check metrics on a text exposition: it fails
// t if promtool finds it invalid (lint findings, exit status 3, are
// allowed), and skips t if promtool is not installed.
func promtoolCheck(t testing.TB, body []byte) {
	t.Helper()
	cmd := exec.Command(testbin.Promtool(t), "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
		t.Fatalf("promtool check metrics refused the output: %v\n%s\n--- output:\n%s", err, out, body)
	}
}

// text renders reg as text 0.0.4 and fails the test on an error.
func text(t testing.TB, reg *Registry) string {
	t.Helper()
	b, err := reg.Append(context.Background(), nil, FormatText)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return string(b)
}

// samples returns the sample lines of a text exposition (comments left out).
func samples(exposition string) []string {
	var out []string
	for _, l := range strings.Split(exposition, "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out
}

// wantSamples fails unless the sample lines of reg's exposition are want.
func wantSamples(t *testing.T, reg *Registry, want ...string) {
	t.Helper()
	got := samples(text(t, reg))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("samples:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// repeat runs work(w, i) for i = 0, ..., each-1 in each of n goroutines w
// and waits for them.
func repeat(n, each int, work func(w, i int)) {
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				work(w, i)
			}
		}()
	}
	wg.Wait()
}

// loop runs work(w, i) for i = 0, 1, ... in each of n goroutines w until
// the returned stop is called; stop waits for them.
func loop(n int, work func(w, i int)) (stop func()) {
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				default:
				}
				work(w, i)
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

// readWhile calls read until done is closed, and once more after that,
// and returns how many times it called it.
func readWhile(done <-chan struct{}, read func()) int {
	for n := 1; ; n++ {
		select {
		case <-done:
			read()
			return n
		default:
		}
		read()
	}
}

// wantParts fails t for each of in that body lacks and each of notIn that
// it holds; what names the body in the messages.
func wantParts(t testing.TB, what, body string, in, notIn []string) {
	t.Helper()
	for _, s := range in {
		if !strings.Contains(body, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, body)
		}
	}
	for _, s := range notIn {
		if strings.Contains(body, s) {
			t.Errorf("%s holds %q:\n%s", what, s, body)
		}
	}
}
