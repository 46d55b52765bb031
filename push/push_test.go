package push

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/promgo/prom"
)

// testRegistry returns a registry with a gauge and a labelled counter.
func testRegistry(t *testing.T) *prom.Registry {
	t.Helper()
	reg := prom.NewRegistry()
	g := prom.Must(prom.NewGauge("batch_duration_seconds", "Duration of the batch.", prom.WithRegistry(reg)))
	g.Set(1.5)
	c := prom.Must(prom.NewCounter("batch_records_total", "Records processed.", prom.WithRegistry(reg)))
	c.With(prom.Labels{"kind": "a \"quoted\" kind"}).Add(42)
	return reg
}

func render(t *testing.T, reg *prom.Registry, f prom.Format) []byte {
	t.Helper()
	b, err := reg.Append(context.Background(), nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// addReplaceDelete calls p's Add, Replace and Delete and returns the three
// requests gw saw.
func addReplaceDelete(t *testing.T, p *Pusher, gw *fakeGateway) []request {
	t.Helper()
	for _, call := range []func(context.Context) error{p.Add, p.Replace, p.Delete} {
		if err := call(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	reqs := gw.requests()
	if len(reqs) != 3 {
		t.Fatalf("gateway saw %d requests, want 3", len(reqs))
	}
	return reqs
}

func TestRequests(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format prom.Format
		gzip   bool
	}{
		{"protobuf", prom.FormatProtobuf, false},
		{"text", prom.FormatText, false},
		{"protobuf gzip", prom.FormatProtobuf, true},
		{"text gzip", prom.FormatText, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gw, srv := newFakeGateway(t)
			reg := testRegistry(t)
			opts := []Option{
				WithRegistry(reg),
				WithFormat(tc.format),
				WithGrouping(prom.Labels{"instance": "db 1"}),
				WithBasicAuth("alice", "s3cret"),
				WithHeader("X-Scope", "team-a"),
				WithHeader("x-scope", "team-b"),
			}
			if tc.gzip {
				opts = append(opts, WithGzip())
			}
			p, err := New(srv.URL+"/prefix", "batch", opts...)
			if err != nil {
				t.Fatal(err)
			}
			reqs := addReplaceDelete(t, p, gw)
			want := render(t, reg, tc.format)
			for i, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
				r := reqs[i]
				if r.Method != method {
					t.Errorf("request %d: method %s, want %s", i, r.Method, method)
				}
				if want := "/prefix/metrics/job/batch/instance/db%201"; r.EscapedPath != want {
					t.Errorf("%s: path %s, want %s", method, r.EscapedPath, want)
				}
				if user, pass, ok := (&http.Request{Header: r.Header}).BasicAuth(); !ok || user != "alice" || pass != "s3cret" {
					t.Errorf("%s: basic auth %q %q %v", method, user, pass, ok)
				}
				if got := r.Header.Values("X-Scope"); len(got) != 2 || got[0] != "team-a" || got[1] != "team-b" {
					t.Errorf("%s: X-Scope = %q", method, got)
				}
				if ua := r.Header.Get("User-Agent"); ua != "github.com/promgo/prom/push" {
					t.Errorf("%s: User-Agent %q", method, ua)
				}
				if method == http.MethodDelete {
					if r.HasBody || len(r.Body) != 0 {
						t.Errorf("DELETE has a body of %d bytes", len(r.Body))
					}
					if ce := r.Header.Get("Content-Encoding"); ce != "" {
						t.Errorf("DELETE has Content-Encoding %q", ce)
					}
					continue
				}
				if ct := r.Header.Get("Content-Type"); ct != tc.format.ContentType() {
					t.Errorf("%s: Content-Type %q, want %q", method, ct, tc.format.ContentType())
				}
				wantCE := ""
				if tc.gzip {
					wantCE = "gzip"
				}
				if ce := r.Header.Get("Content-Encoding"); ce != wantCE {
					t.Errorf("%s: Content-Encoding %q, want %q", method, ce, wantCE)
				}
				if !bytes.Equal(r.Body, want) {
					t.Errorf("%s: body differs from the registry's rendering:\n%q\nwant\n%q", method, r.Body, want)
				}
			}
		})
	}
}

// TestRequestsWithPath: with WithPath, each method goes to the path as it
// is, with the gateway URL's query, and metrics may carry a job label, as
// nothing in the URL sets one.
func TestRequestsWithPath(t *testing.T) {
	gw, srv := newFakeGateway(t)
	reg := testRegistry(t)
	prom.Must(prom.NewGauge("with_job", "A gauge with a job label.", prom.WithRegistry(reg))).
		With(prom.Labels{"job": "backup", "instance": "db1"}).Set(1)
	p, err := New(srv.URL+"/ignored?extra_label=env%3Dprod", "", WithRegistry(reg), WithPath("/api/v1/import/prometheus"), WithFormat(prom.FormatText))
	if err != nil {
		t.Fatal(err)
	}
	reqs := addReplaceDelete(t, p, gw)
	want := render(t, reg, prom.FormatText)
	for i, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		r := reqs[i]
		if r.Method != method || r.EscapedPath != "/api/v1/import/prometheus" || r.RawQuery != "extra_label=env%3Dprod" {
			t.Errorf("request %d: %s %s?%s, want %s /api/v1/import/prometheus?extra_label=env%%3Dprod", i, r.Method, r.EscapedPath, r.RawQuery, method)
		}
		if method != http.MethodDelete && !bytes.Equal(r.Body, want) {
			t.Errorf("%s: body differs from the registry's rendering:\n%s", method, r.Body)
		}
	}
	if !bytes.Contains(reqs[0].Body, []byte(`with_job{job="backup",instance="db1"} 1`)) && !bytes.Contains(reqs[0].Body, []byte(`with_job{instance="db1",job="backup"} 1`)) {
		t.Errorf("the job label was not pushed:\n%s", reqs[0].Body)
	}
}

func TestDefaultRegistry(t *testing.T) {
	gw, srv := newFakeGateway(t)
	p, err := New(srv.URL, "batch", WithFormat(prom.FormatText))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Replace(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := gw.requests()[0].Body, render(t, prom.Default, prom.FormatText); !bytes.Equal(got, want) {
		t.Errorf("pushed %q, want prom.Default's %q", got, want)
	}
}

func TestLabelConflict(t *testing.T) {
	for _, tc := range []struct {
		name     string
		metric   func(reg *prom.Registry)
		grouping prom.Labels
		want     string
	}{
		{"job as constant label", func(reg *prom.Registry) {
			prom.Must(prom.NewGauge("g", "h", prom.WithRegistry(reg), prom.WithConstLabels(prom.Labels{"job": "x"}))).Set(1)
		}, nil, `metric "g" has a job label`},
		{"grouping label on a series", func(reg *prom.Registry) {
			prom.Must(prom.NewCounter("c_total", "h", prom.WithRegistry(reg))).With(prom.Labels{"a": "1", "instance": "x"}).Inc()
		}, prom.Labels{"instance": "db1"}, `metric "c_total" has the label "instance", which is in the grouping key`},
		{"histogram", func(reg *prom.Registry) {
			prom.Must(prom.NewHistogram("h_seconds", "h", prom.WithRegistry(reg))).With(prom.Labels{"zone": "eu"}).Observe(1)
		}, prom.Labels{"zone": "us"}, `metric "h_seconds" has the label "zone"`},
		{"custom collector", func(reg *prom.Registry) {
			reg.MustRegister(collectorFunc(func(w *prom.MetricWriter) {
				w.Gauge("custom", "h", 1, prom.Labels{"job": "other"})
			}))
		}, nil, `metric "custom" has a job label`},
	} {
		for _, f := range []prom.Format{prom.FormatProtobuf, prom.FormatText} {
			t.Run(tc.name+"/"+f.String(), func(t *testing.T) {
				gw, srv := newFakeGateway(t)
				reg := prom.NewRegistry()
				prom.Must(prom.NewGauge("fine", "h", prom.WithRegistry(reg), prom.WithConstLabels(prom.Labels{"other": "x"}))).Set(1)
				tc.metric(reg)
				p, err := New(srv.URL, "batch", WithRegistry(reg), WithFormat(f), WithGrouping(tc.grouping))
				if err != nil {
					t.Fatal(err)
				}
				for _, call := range []func(context.Context) error{p.Add, p.Replace} {
					err := call(context.Background())
					if !errors.Is(err, ErrLabelConflict) || !strings.Contains(err.Error(), tc.want) {
						t.Errorf("err = %v, want ErrLabelConflict with %q", err, tc.want)
					}
				}
				if n := len(gw.requests()); n != 0 {
					t.Errorf("the gateway got %d requests", n)
				}
				if err := p.Delete(context.Background()); err != nil {
					t.Errorf("Delete, which sends no metrics, failed: %v", err)
				}
			})
		}
	}
}

// collectorFunc is a custom collector writing what its function writes.
type collectorFunc func(w *prom.MetricWriter)

func (f collectorFunc) Describe() []string { return []string{"custom"} }
func (f collectorFunc) Collect(_ context.Context, w *prom.MetricWriter) error {
	f(w)
	return w.Err()
}

// failingCollector fails to collect.
type failingCollector struct{}

func (*failingCollector) Describe() []string { return []string{"failing"} }
func (*failingCollector) Collect(_ context.Context, w *prom.MetricWriter) error {
	w.Gauge("failing", "h", 1, nil)
	return errors.New("the database is gone")
}

func TestCollectionErrorPushesNothing(t *testing.T) {
	gw, srv := newFakeGateway(t)
	reg := testRegistry(t)
	reg.MustRegister(&failingCollector{})
	p, err := New(srv.URL, "batch", WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	err = p.Replace(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the database is gone") || !strings.Contains(err.Error(), "nothing was pushed") {
		t.Errorf("err = %v", err)
	}
	if n := len(gw.requests()); n != 0 {
		t.Errorf("the gateway got %d requests", n)
	}
}

func TestConcurrentPushes(t *testing.T) {
	gw, srv := newFakeGateway(t)
	p, err := New(srv.URL, "batch", WithRegistry(testRegistry(t)), WithGzip())
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	for range cap(errs) {
		go func() { errs <- p.Add(context.Background()) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(gw.requests()); n != cap(errs) {
		t.Errorf("the gateway got %d requests, want %d", n, cap(errs))
	}
}

// TestNilContext: Add, Replace, Delete and Run return an error for a nil
// context, as net/http does, instead of panicking, and send nothing.
func TestNilContext(t *testing.T) {
	g, srv := newFakeGateway(t)
	reg := prom.NewRegistry()
	prom.Must(prom.NewCounter("a_total", "h", prom.WithRegistry(reg))).Inc()
	p, err := New(srv.URL, "job", WithRegistry(reg), nil) // a nil Option is skipped
	if err != nil {
		t.Fatal(err)
	}
	var ctx context.Context // nil
	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"Add", func() error { return p.Add(ctx) }},
		{"Replace", func() error { return p.Replace(ctx) }},
		{"Delete", func() error { return p.Delete(ctx) }},
		{"Run", func() error { return p.Run(ctx, time.Second, RunOptions{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil || !strings.Contains(err.Error(), "nil Context") {
				t.Errorf("err = %v, want one about the nil Context", err)
			}
		})
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.reqs) != 0 {
		t.Errorf("the gateway got %d requests, want none", len(g.reqs))
	}
}
