package prom

import (
	"context"
	"strings"
	"sync"
	"testing"
)

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
