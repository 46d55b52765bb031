package testbin

import (
	"bufio"
	"context"
	"io"
	"testing"
	"time"
)

// StartProgram runs an example program's run function in a goroutine, as
// its main would, and waits until it has printed n lines (its URLs, say),
// which it returns. stop cancels the program's context and returns what run
// returned; the test fails if run prints too little or does not return
// within 10 seconds. Later output is drained and ignored.
func StartProgram(t testing.TB, n int, run func(ctx context.Context, out io.Writer) error) (lines []string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, pw)
		pw.Close()
	}()
	printed := make(chan string)
	go func() {
		defer close(printed)
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			printed <- sc.Text()
		}
		io.Copy(io.Discard, pr) // a line too long for the scanner
	}()
	stop = func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("the program did not return within 10s of being stopped")
			return nil
		}
	}
	for len(lines) < n {
		select {
		case line, ok := <-printed:
			if !ok {
				t.Fatalf("the program printed %q and returned %v", lines, <-done)
			}
			lines = append(lines, line)
		case <-time.After(10 * time.Second):
			cancel()
			t.Fatalf("the program did not print %d lines within 10s (printed %q)", n, lines)
		}
	}
	go func() {
		for range printed {
		}
	}()
	return lines, stop
}
