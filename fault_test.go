package prom

// Faults (issue 8, item 3): collectors that panic, fail or block, clients
// that go away mid-scrape, and scrapes while the registry is cleared. The
// handler's own tests (handler_test.go: TestHandlerErrorHandling,
// TestHandlerTimeout, TestHandlerClientGone) drive it through a recorder;
// these go through real connections and check the whole output.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultGoodRegistry returns a registry holding one family of every kind,
// none of which fails.
func faultGoodRegistry(t *testing.T) *Registry {
	t.Helper()
	reg := NewRegistry()
	c := Must(NewCounter("a_requests_total", "Requests.", WithRegistry(reg), WithLabelNames("code")))
	c.WithValues("200").Add(7)
	c.WithValues("500").Inc()
	Must(NewGauge("c_temperature", "Temperature.", WithRegistry(reg))).Set(21.5)
	h := Must(NewHistogram("e_latency_seconds", "Latency.", WithRegistry(reg), WithBuckets(0.1, 1)))
	for _, v := range []float64{0.05, 0.5, 3} {
		h.Observe(v)
	}
	s := Must(NewSummary("g_size_bytes", "Sizes.", WithRegistry(reg), WithObjectives(Objective{0.5, 0.05})))
	for i := 1; i <= 9; i++ {
		s.Observe(float64(i))
	}
	Must(NewGaugeFunc("i_func", "Read at scrape time.", func() float64 { return 42 }, WithRegistry(reg)))
	reg.MustRegister(&collectorFunc{names: []string{"k_custom"}, fn: func(_ context.Context, w *MetricWriter) error {
		w.Gauge("k_custom", "Custom.", 3, Labels{"queue": "mail"})
		return nil
	}})
	return reg
}

// faultAccept is the Accept header that asks for each format.
var faultAccept = map[Format]string{
	FormatText:        "text/plain;version=0.0.4",
	FormatOpenMetrics: "application/openmetrics-text;version=1.0.0",
	FormatProtobuf:    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
}

// faultyCollectors registers collectors that panic and fail, with names
// sorted between the good ones, and returns the messages they raise.
func faultyCollectors(reg *Registry) []string {
	reg.MustRegister(
		&collectorFunc{names: []string{"b_panics"}, fn: func(context.Context, *MetricWriter) error { panic("collector b exploded") }},
		&collectorFunc{names: []string{"d_fails"}, fn: func(context.Context, *MetricWriter) error { return errors.New("backend d unreachable") }},
		&collectorFunc{names: []string{"f_panics_error"}, fn: func(context.Context, *MetricWriter) error { panic(fmt.Errorf("collector f: %w", io.ErrUnexpectedEOF)) }},
		&collectorFunc{names: []string{"h_panics_nil"}, fn: func(context.Context, *MetricWriter) error { panic(nil) }},
	)
	Must(NewGaugeFunc("j_func_panics", "Panics.", func() float64 { panic("gauge func j exploded") }, WithRegistry(reg)))
	return []string{"collector b exploded", "backend d unreachable", "collector f: unexpected EOF", "nil", "gauge func j exploded"}
}

// TestFaultPanickingCollector: collectors that panic or fail leave every
// other metric served byte for byte as without them, in every format,
// with gzip or not, with a timeout or not, under ContinueOnError; and
// fail the scrape with 500 under HTTPErrorOnError. Either way the errors
// are logged.
func TestFaultPanickingCollector(t *testing.T) {
	g := checkGoroutines()
	good := faultGoodRegistry(t)
	want := map[Format][]byte{}
	for _, f := range []Format{FormatText, FormatOpenMetrics, FormatProtobuf} {
		b, err := good.Append(context.Background(), nil, f)
		if err != nil {
			t.Fatal(err)
		}
		want[f] = b
	}
	// The faulty collectors join the same registry, so that the protobuf
	// output (which carries creation times) stays comparable.
	reg := good
	msgs := faultyCollectors(reg)

	for _, mode := range []ErrorHandling{ContinueOnError, HTTPErrorOnError} {
		for _, timeout := range []time.Duration{0, time.Minute} {
			l, logged := bufLogger()
			srv := &Service{Registry: reg, Addr: "127.0.0.1:0", ErrorLog: l,
				HandlerOptions: []HandlerOption{WithErrorHandling(mode), WithTimeout(timeout)}}
			if err := srv.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			u := mustURL(t, srv.MetricsURL)
			for _, f := range []Format{FormatText, FormatOpenMetrics, FormatProtobuf} {
				for _, gz := range []bool{false, true} {
					name := fmt.Sprintf("mode %d, timeout %v, %v, gzip %v", mode, timeout, f, gz)
					tr := &http.Transport{DisableKeepAlives: true, DisableCompression: !gz}
					resp, body := get(t, &http.Client{Transport: tr}, http.MethodGet, u, http.Header{"Accept": {faultAccept[f]}})
					if gz && mode == ContinueOnError && !resp.Uncompressed {
						t.Errorf("%s: the response was not compressed", name)
					}
					switch mode {
					case ContinueOnError:
						if resp.StatusCode != http.StatusOK {
							t.Errorf("%s: status %d, want 200: %s", name, resp.StatusCode, body)
							continue
						}
						if !bytes.Equal(withoutFailures(t, f, []byte(body)), want[f]) {
							t.Errorf("%s: the good metrics are not served as without the faulty collectors:\n%q\nwant\n%q", name, body, want[f])
						}
						if _, err := parseScrape(f, []byte(body)); err != nil {
							t.Errorf("%s: %v", name, err)
						}
					case HTTPErrorOnError:
						if resp.StatusCode != http.StatusInternalServerError {
							t.Errorf("%s: status %d, want 500", name, resp.StatusCode)
						}
						for _, m := range msgs {
							if !strings.Contains(body, m) {
								t.Errorf("%s: the 500 body lacks %q:\n%s", name, m, body)
							}
						}
						if strings.Contains(body, "a_requests_total") || strings.Contains(body, "c_temperature") {
							t.Errorf("%s: metrics in the 500 body:\n%s", name, body)
						}
					}
				}
			}
			if err := srv.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
			for _, m := range msgs {
				if !strings.Contains(logged.String(), m) {
					t.Errorf("mode %d, timeout %v: the log lacks %q:\n%s", mode, timeout, m, logged)
				}
			}
		}
	}
	g.verify(t)
}

// TestFaultPanicAfterWriting: a collector that writes some series and then
// panics. The rest of the scrape is served; whether its own series are
// is reported, not required (a collector that returns an error keeps what
// it wrote, see TestCollectorMistakesAreContained).
func TestFaultPanicAfterWriting(t *testing.T) {
	reg := faultGoodRegistry(t)
	reg.MustRegister(&collectorFunc{names: []string{"b_half"}, fn: func(_ context.Context, w *MetricWriter) error {
		w.Gauge("b_half", "Half written.", 1, Labels{"n": "1"})
		w.Gauge("b_half", "Half written.", 2, Labels{"n": "2"})
		panic("after two series")
	}})
	for _, f := range []Format{FormatText, FormatOpenMetrics, FormatProtobuf} {
		rec := serve(Handler(reg, WithErrorLog(discardLogger())), http.MethodGet, "/metrics", http.Header{"Accept": {faultAccept[f]}})
		if rec.Code != http.StatusOK {
			t.Fatalf("%v: status %d", f, rec.Code)
		}
		samples, err := parseScrape(f, rec.Body.Bytes())
		if err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		fams := map[string]int{}
		for _, s := range samples {
			fams[s.family]++
		}
		for _, fam := range []string{"a_requests_total", "c_temperature", "e_latency_seconds", "g_size_bytes", "i_func", "k_custom"} {
			if fams[fam] == 0 {
				t.Errorf("%v: %s missing", f, fam)
			}
		}
		if f == FormatText {
			t.Logf("a collector that panicked after writing 2 series: %d of them served (the package doc says a collector that panics is left out)", fams["b_half"])
		}
	}
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// TestFaultSelfMetricCountsFailures looks for the self-metric issue 8 asks
// for: one that counts collector failures. prom has none yet (its only
// self-metric, prom_rejected_updates_total, counts refused updates), so
// this test skips, saying so, until one appears under a prom_ name.
func TestFaultSelfMetricCountsFailures(t *testing.T) {
	reg := faultGoodRegistry(t)
	faultyCollectors(reg)
	h := Handler(reg, WithErrorLog(discardLogger()))
	serve(h, http.MethodGet, "/metrics", nil)
	rec := serve(h, http.MethodGet, "/metrics", nil)
	samples, err := parseScrape(FormatText, rec.Body.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, s := range samples {
		if strings.HasPrefix(s.family, "prom_") && s.family != selfMetric && s.value >= 1 {
			found = append(found, s.name+"{"+s.seriesKey()+"} "+strconv.FormatFloat(s.value, 'g', -1, 64))
		}
	}
	if len(found) == 0 {
		t.Fatal("no self-metric counts collector failures: after two scrapes with 5 failing collectors, no prom_* family but " + selfMetric + " is exposed")
	}
	t.Logf("self-metrics counting failures: %v", found)
}

// TestFaultFailuresLeaveWithCollector: a collector's failure count goes
// when it leaves the registry (Unregister, Clear), so neither grows with
// every collector ever registered, nor does a new collector of the same
// name start with the old one's failures.
func TestFaultFailuresLeaveWithCollector(t *testing.T) {
	failures := func(reg *Registry) string {
		b, _ := reg.Append(context.Background(), nil, FormatText) // the failures' error
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, failuresMetric+"{") {
				out = append(out, l)
			}
		}
		return strings.Join(out, "\n")
	}
	failing := func(name string) Collector {
		var names []string
		if name != "" {
			names = []string{name}
		}
		return &collectorFunc{names: names, fn: func(context.Context, *MetricWriter) error { return errors.New("down") }}
	}
	reg := NewRegistry()
	a, b := failing("a_fails"), failing("b_fails")
	reg.MustRegister(a, b)
	failures(reg)
	if got, want := failures(reg), failuresMetric+`{collector="a_fails"} 2`+"\n"+failuresMetric+`{collector="b_fails"} 2`; got != want {
		t.Fatalf("after two scrapes:\n%s\nwant\n%s", got, want)
	}
	reg.Unregister(a)
	if got, want := failures(reg), failuresMetric+`{collector="b_fails"} 3`; got != want {
		t.Fatalf("after Unregister(a):\n%s\nwant\n%s", got, want)
	}
	reg.MustRegister(failing("a_fails"))
	if got, want := failures(reg), failuresMetric+`{collector="a_fails"} 1`+"\n"+failuresMetric+`{collector="b_fails"} 4`; got != want {
		t.Fatalf("a new a_fails:\n%s\nwant\n%s", got, want)
	}
	reg.Clear()
	reg.MustRegister(&collectorFunc{names: []string{"a_fails"}, fn: func(_ context.Context, w *MetricWriter) error {
		w.Gauge("a_fails", "Fine now.", 1, nil)
		return nil
	}})
	if got := failures(reg); got != "" {
		t.Fatalf("after Clear, a healthy a_fails:\n%s", got)
	}
	// A GaugeFunc's panic counts under the metric's name, in the scrape
	// it panicked in, and leaves with it.
	g := Must(NewGaugeFunc("g_panics", "Panics.", func() float64 { panic("g") }, WithRegistry(reg)))
	if got := failures(reg); got != failuresMetric+`{collector="g_panics"} 1` {
		t.Fatalf("a panicking GaugeFunc: %q", got)
	}
	reg.Unregister(g)
	if got := failures(reg); got != "" {
		t.Fatalf("after Unregister(GaugeFunc):\n%s", got)
	}
	// Collectors that describe no name share one series.
	reg.MustRegister(failing(""), failing(""))
	if got := failures(reg); got != failuresMetric+`{collector=""} 2` {
		t.Fatalf("two unnamed failing collectors: %q", got)
	}
}

// faultBlocker is a collector that blocks until released or, unless it
// ignores it, until its context is done.
type faultBlocker struct {
	entered   chan struct{}
	sawDone   chan error
	release   chan struct{}
	ignoreCtx bool
	blocking  atomic.Bool
}

func newFaultBlocker(ignoreCtx bool) *faultBlocker {
	b := &faultBlocker{entered: make(chan struct{}, 64), sawDone: make(chan error, 64), release: make(chan struct{}), ignoreCtx: ignoreCtx}
	b.blocking.Store(true)
	return b
}

func (b *faultBlocker) Describe() []string { return []string{"blocker"} }

func (b *faultBlocker) Collect(ctx context.Context, w *MetricWriter) error {
	if b.blocking.Load() {
		b.entered <- struct{}{}
		if b.ignoreCtx {
			<-b.release
		} else {
			select {
			case <-b.release:
			case <-ctx.Done():
				b.sawDone <- context.Cause(ctx)
				return ctx.Err()
			}
		}
	}
	w.Gauge("blocker", "Blocks.", 1, nil)
	return nil
}

// TestFaultBlockingCollectorTimeout: over HTTP, WithTimeout cancels a
// blocked collector through its context and the scrape answers 503 at the
// deadline, in both error modes; a collector that ignores its context is
// answered for at the deadline too. Nothing leaks once it returns.
func TestFaultBlockingCollectorTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	for _, tc := range []struct {
		name      string
		mode      ErrorHandling
		ignoreCtx bool
	}{
		{"honours ctx, ContinueOnError", ContinueOnError, false},
		{"honours ctx, HTTPErrorOnError", HTTPErrorOnError, false},
		{"ignores ctx", ContinueOnError, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := checkGoroutines()
			reg := faultGoodRegistry(t)
			b := newFaultBlocker(tc.ignoreCtx)
			reg.MustRegister(b)
			l, logged := bufLogger()
			s := &Service{Registry: reg, Addr: "127.0.0.1:0", ErrorLog: l,
				HandlerOptions: []HandlerOption{WithTimeout(timeout), WithErrorHandling(tc.mode)}}
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			u := mustURL(t, s.MetricsURL)
			start := time.Now()
			resp, body := get(t, testClient(nil), http.MethodGet, u, nil)
			elapsed := time.Since(start)
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "timeout") {
				t.Errorf("status %d %q, want 503 naming the timeout", resp.StatusCode, body)
			}
			if elapsed < timeout || elapsed > timeout+2*time.Second {
				t.Errorf("answered after %v, want about %v", elapsed, timeout)
			}
			if !tc.ignoreCtx {
				if err := waitFor(t, b.sawDone, "the collector to see its context done"); !errors.Is(err, errScrapeTimeout) {
					t.Errorf("the collector's context ended with %v, want the scrape timeout", err)
				}
			}
			// Once the collector is quick again, scrapes are served.
			b.blocking.Store(false)
			close(b.release)
			resp, body = get(t, testClient(nil), http.MethodGet, u, nil)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "blocker 1\n") || !strings.Contains(body, "a_requests_total") {
				t.Errorf("scrape after the blocked one: %d\n%s", resp.StatusCode, body)
			}
			// The collector that blocked the scrape past its deadline has
			// failed it, once it has returned (the one that ignores its
			// context returns when released, in the background).
			const failed = `prom_collector_failures_total{collector="blocker"} 1` + "\n"
			for deadline := time.Now().Add(5 * time.Second); !strings.Contains(body, failed); {
				if time.Now().After(deadline) {
					t.Errorf("no %q in the scrape after the blocked one:\n%s", failed, body)
					break
				}
				time.Sleep(10 * time.Millisecond)
				_, body = get(t, testClient(nil), http.MethodGet, u, nil)
			}
			if err := s.Stop(context.Background()); err != nil {
				t.Errorf("Stop: %v", err)
			}
			if !strings.Contains(logged.String(), "timeout") {
				t.Errorf("the timeout was not logged: %q", logged)
			}
			g.verify(t)
		})
	}
}

// TestFaultClientDisconnects: a client that closes its connection while
// its scrape is blocked in a collector cancels the collection through the
// request's context; the handler's goroutine ends, the server keeps
// serving, and nothing leaks. Also for a client that goes away while a
// large body is being written.
// reachCollector sends a scrape on a connection of its own and returns the
// connection once the scrape has reached b. A scrape answered first with a
// 503, its in-flight place still held by the handler of the previous one
// (which gives it back after its collector has returned), is sent again.
func reachCollector(t *testing.T, u *url.URL, b *faultBlocker) net.Conn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.Path, u.Host)
		answer := make(chan string, 1)
		go func() {
			buf := make([]byte, 64)
			n, _ := conn.Read(buf)
			answer <- string(buf[:n])
		}()
		select {
		case <-b.entered:
			return conn
		case a := <-answer:
			conn.Close()
			if !strings.HasPrefix(a, "HTTP/1.1 503") || time.Now().After(deadline) {
				t.Fatalf("the scrape was answered before it reached the collector: %q", a)
			}
			time.Sleep(10 * time.Millisecond)
		case <-time.After(time.Until(deadline)):
			t.Fatal("timed out waiting for the scrape to reach the collector")
		}
	}
}

func TestFaultClientDisconnects(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []HandlerOption
	}{
		{"no options", nil},
		{"WithTimeout", []HandlerOption{WithTimeout(time.Minute)}},
		{"WithMaxRequestsInFlight", []HandlerOption{WithMaxRequestsInFlight(1)}},
	} {
		opts := tc.opts
		t.Run(tc.name, func(t *testing.T) {
			reg := faultGoodRegistry(t)
			b := newFaultBlocker(false)
			reg.MustRegister(b)
			l, logged := bufLogger()
			s := &Service{Registry: reg, Addr: "127.0.0.1:0", ErrorLog: l, HandlerOptions: opts}
			if err := s.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer s.Stop(context.Background())
			g := checkGoroutines() // the service's own goroutines are running
			u, _ := url.Parse(mustURL(t, s.MetricsURL))

			for i := range 3 {
				conn := reachCollector(t, u, b)
				conn.Close()
				if err := waitFor(t, b.sawDone, "the collector to see the client go"); !errors.Is(err, context.Canceled) {
					t.Errorf("scrape %d: the collector's context ended with %v, want context.Canceled", i, err)
				}
				g.verify(t) // nothing of the scrape is left running
			}

			// The server keeps serving (with WithMaxRequestsInFlight(1),
			// the abandoned scrapes gave their place back, each once its
			// handler returned, which may be just after its collector).
			b.blocking.Store(false)
			resp, body := get(t, testClient(nil), http.MethodGet, u.String(), nil)
			for deadline := time.Now().Add(10 * time.Second); resp.StatusCode == http.StatusServiceUnavailable && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
				resp, body = get(t, testClient(nil), http.MethodGet, u.String(), nil)
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "blocker 1\n") {
				t.Errorf("scrape after the disconnects: %d\n%s", resp.StatusCode, body)
			}
			// A client that goes away is not the collector's failure.
			if strings.Contains(body, "prom_collector_failures_total") {
				t.Errorf("the disconnects were counted as failures:\n%s", body)
			}
			if strings.Contains(logged.String(), "panic") {
				t.Errorf("log: %s", logged)
			}
			g.verify(t)
		})
	}

	t.Run("during the body", func(t *testing.T) {
		reg := NewRegistry()
		c := Must(NewCounter("big_total", "Big.", WithRegistry(reg), WithLabelNames("i")))
		for i := range 50000 {
			c.WithValues(strconv.Itoa(i)).Inc()
		}
		s := &Service{Registry: reg, Addr: "127.0.0.1:0", ErrorLog: discardLogger()}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer s.Stop(context.Background())
		g := checkGoroutines()
		u, _ := url.Parse(mustURL(t, s.MetricsURL))
		for range 5 {
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			// Tell the kernel to keep little, so that the server's writes
			// fill the buffers and the close finds it writing.
			conn.(*net.TCPConn).SetReadBuffer(4096)
			fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", u.Path, u.Host)
			br := bufio.NewReader(conn)
			conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			line, err := br.ReadString('\n')
			if err != nil || !strings.HasPrefix(line, "HTTP/1.1 200") {
				t.Fatalf("status line %q, %v", line, err)
			}
			io.CopyN(io.Discard, br, 1000)
			conn.Close()
		}
		g.verify(t)
		resp, body := get(t, testClient(nil), http.MethodGet, u.String(), nil)
		if resp.StatusCode != http.StatusOK || !strings.HasSuffix(body, "big_total{i=\"49999\"} 1\n") {
			t.Errorf("scrape after the disconnects: %d, %d bytes", resp.StatusCode, len(body))
		}
	})
}

// TestFaultScrapeWhileClearing scrapes, through Append and the handler in
// every format, while other goroutines clear the registry and register
// its collectors again: no panic, and every output parses and holds only
// whole families.
func TestFaultScrapeWhileClearing(t *testing.T) {
	duration := time.Second
	if testing.Short() {
		duration = 200 * time.Millisecond
	}
	reg := faultGoodRegistry(t)
	var cs []Collector
	for c := range reg.All() {
		cs = append(cs, c)
	}
	wantSeries := map[string]int{}
	for _, f := range []Format{FormatText} {
		b, _ := reg.Append(context.Background(), nil, f)
		samples, err := parseScrape(f, b)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range samples {
			wantSeries[s.family]++
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	l, logged := bufLogger()
	h := Handler(reg, WithErrorLog(l), WithTimeout(time.Minute))
	var errs errorSink
	var wg sync.WaitGroup
	var scrapes, nonEmpty atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			reg.Clear()
			for j, c := range cs {
				if (i+j)%3 != 0 { // leave some out now and then
					if err := reg.Register(c); err != nil {
						errs.add("Register: %v", err)
					}
				}
			}
			if i%2 == 0 {
				for _, c := range cs {
					reg.Unregister(c)
				}
			}
		}
	}()
	for _, f := range []Format{FormatText, FormatOpenMetrics, FormatProtobuf} {
		for _, viaHandler := range []bool{false, true} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					var body []byte
					if viaHandler {
						rec := serve(h, http.MethodGet, "/metrics", http.Header{"Accept": {faultAccept[f]}})
						if rec.Code != http.StatusOK {
							errs.add("%v: status %d: %s", f, rec.Code, rec.Body)
							continue
						}
						body = rec.Body.Bytes()
					} else {
						var err error
						if body, err = reg.Append(context.Background(), nil, f); err != nil {
							errs.add("%v: Append: %v", f, err)
						}
					}
					samples, err := parseScrape(f, body)
					if err != nil {
						errs.add("%v: %v\n%s", f, err, truncate(body))
						continue
					}
					got := map[string]int{}
					for _, s := range samples {
						got[s.family]++
					}
					for fam, n := range got {
						if n != wantSeries[fam] {
							errs.add("%v: family %s with %d samples, want %d", f, fam, n, wantSeries[fam])
						}
					}
					scrapes.Add(1)
					if len(samples) > 0 {
						nonEmpty.Add(1)
					}
				}
			}()
		}
	}
	wg.Wait()
	errs.report(t)
	if s := logged.String(); s != "" {
		t.Errorf("the handler logged: %s", s)
	}
	t.Logf("%d scrapes, %d of them not empty", scrapes.Load(), nonEmpty.Load())
}

// withoutFailures drops the prom_collector_failures_total family, which
// counts the faulty collectors, from a scrape.
func withoutFailures(t *testing.T, f Format, body []byte) []byte {
	t.Helper()
	if f != FormatProtobuf {
		var out []byte
		for _, line := range bytes.SplitAfter(body, []byte("\n")) {
			if !bytes.Contains(line, []byte("prom_collector_failures")) {
				out = append(out, line...)
			}
		}
		return out
	}
	var out []byte
	for b := body; len(b) > 0; {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			t.Fatalf("malformed protobuf scrape")
		}
		msg := b[:n+int(l)]
		if fs := decodePB(t, b[n:n+int(l)]); len(fs) == 0 || string(fs[0].bytes) != failuresMetric {
			out = append(out, msg...)
		}
		b = b[n+int(l):]
	}
	return out
}
