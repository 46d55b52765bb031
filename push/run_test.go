package push

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// untilRequests cancels when the gateway records its nth request, before
// it answers it, so that no further tick can slip in.
func untilRequests(t *testing.T, gw *fakeGateway, n int) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	gw.mu.Lock()
	gw.seen = func(got int) {
		if got >= n {
			cancel()
		}
	}
	gw.mu.Unlock()
	return ctx
}

func methods(reqs []request) string {
	var b strings.Builder
	for _, r := range reqs {
		b.WriteString(r.Method[:2])
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}

func TestRunPushesThenFinal(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      RunOptions
		each, end string // first two letters of the methods
	}{
		{"replace, final push", RunOptions{}, "PU", "PU"},
		{"add, final push", RunOptions{Add: true}, "PO", "PO"},
		{"final delete", RunOptions{Final: FinalDelete}, "PU", "DE"},
		{"final none", RunOptions{Final: FinalNone}, "PU", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw, srv := newFakeGateway(t)
			p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
			if err != nil {
				t.Fatal(err)
			}
			tc.opts.OnError = func(err error) { t.Errorf("OnError(%v)", err) }
			if err := p.Run(untilRequests(t, gw, 3), 5*time.Millisecond, tc.opts); err != nil {
				t.Fatalf("Run: %v", err)
			}
			got := methods(gw.requests())
			want := strings.Repeat(tc.each+" ", 3) + tc.end
			if strings.TrimSpace(want) != got {
				t.Errorf("requests %q, want %q", got, strings.TrimSpace(want))
			}
		})
	}
}

func TestRunFirstPushAtOnce(t *testing.T) {
	gw, srv := newFakeGateway(t)
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := untilRequests(t, gw, 1)
	start := time.Now()
	if err := p.Run(ctx, time.Hour, RunOptions{Final: FinalNone}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the first push came after %v", d)
	}
}

func TestRunErrorsReachCallback(t *testing.T) {
	gw, srv := newFakeGateway(t)
	gw.answer(http.StatusInternalServerError, "storage on fire")
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs []error // OnError runs in Run's goroutine: no lock needed
	onError := func(err error) {
		if errs = append(errs, err); len(errs) == 3 {
			cancel()
		}
	}
	err = p.Run(ctx, time.Millisecond, RunOptions{OnError: onError})
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 500 || se.Message != "storage on fire" {
		t.Errorf("Run returned %v, want the final push's *StatusError", err)
	}
	for _, err := range errs {
		if !errors.As(err, &se) || se.StatusCode != 500 || se.Message != "storage on fire" {
			t.Errorf("OnError got %v", err)
		}
	}
	// Three failed periodic pushes, three reports, and the final push.
	if got, want := methods(gw.requests()), "PU PU PU PU"; got != want || len(errs) != 3 {
		t.Errorf("requests %q (want %q), %d errors reported (want 3)", got, want, len(errs))
	}
}

func TestRunTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	gw := &fakeGateway{status: http.StatusOK}
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gw.ServeHTTP(w, r)
		select { // hang after recording the request
		case <-r.Context().Done():
		case <-release:
		}
	}))
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 100)
	start := time.Now()
	err = p.Run(untilRequests(t, gw, 3), 10*time.Millisecond, RunOptions{
		Timeout: 50 * time.Millisecond,
		OnError: func(err error) { errs <- err },
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run returned %v, want the final push's deadline", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Run took %v", d)
	}
	close(errs)
	if len(errs) == 0 {
		t.Error("OnError got nothing")
	}
	for err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("OnError got %v", err)
		}
	}
}

func TestRunAlreadyCancelled(t *testing.T) {
	gw, srv := newFakeGateway(t)
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Run(ctx, time.Millisecond, RunOptions{Final: FinalDelete}); err != nil {
		t.Fatal(err)
	}
	if got := methods(gw.requests()); got != "DE" {
		t.Errorf("requests %q, want only the final DELETE", got)
	}
}

func TestRunInvalid(t *testing.T) {
	gw, srv := newFakeGateway(t)
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		interval time.Duration
		opts     RunOptions
		want     string
	}{
		{0, RunOptions{}, "interval 0s is not positive"},
		{-time.Second, RunOptions{}, "interval -1s is not positive"},
		{time.Second, RunOptions{Final: 7}, "RunOptions.Final 7"},
		{time.Second, RunOptions{Timeout: -1}, "RunOptions.Timeout -1ns is negative"},
	} {
		err := p.Run(context.Background(), tc.interval, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run(%v, %+v) = %v, want %q", tc.interval, tc.opts, err, tc.want)
		}
	}
	if n := len(gw.requests()); n != 0 {
		t.Errorf("the gateway got %d requests", n)
	}
}

// TestRunNoGoroutineLeak runs Run many times, against a working and a
// failing gateway, and checks that the number of goroutines comes back.
func TestRunNoGoroutineLeak(t *testing.T) {
	gw, srv := newFakeGateway(t)
	transport := &http.Transport{}
	client := &http.Client{Transport: transport}
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)), WithClient(client), WithGzip())
	if err != nil {
		t.Fatal(err)
	}
	settle := func() int {
		transport.CloseIdleConnections()
		srv.CloseClientConnections()
		runtime.GC()
		return runtime.NumGoroutine()
	}
	before := settle()
	for i := range 20 {
		if i == 10 {
			gw.answer(http.StatusServiceUnavailable, "down")
		}
		n := len(gw.requests())
		ctx := untilRequests(t, gw, n+3)
		_ = p.Run(ctx, time.Millisecond, RunOptions{OnError: func(error) {}})
	}
	var after int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if after = settle(); after <= before {
			break
		}
	}
	if after > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after:\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
