package prom

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/promgo/prom/internal/expo"
)

type reqLabels struct {
	Method string `label:"method"`
	Code   string `label:"code"`
}

var (
	get200  = reqLabels{Method: "GET", Code: "200"}
	post500 = reqLabels{Method: "POST", Code: "500"}
)

// Each metric type through the public API: updates by struct, the
// exposition, Get, Delete and the promoted methods.
func TestTypedMetrics(t *testing.T) {
	tests := []struct {
		name string
		// run makes the metric in reg, updates get200 (and post500), and
		// returns the typed Get and Delete for the checks below.
		run  func(t *testing.T, reg *Registry) (get func(reqLabels) (any, bool), del func(reqLabels) bool)
		want []string
	}{
		{"counter", func(t *testing.T, reg *Registry) (func(reqLabels) (any, bool), func(reqLabels) bool) {
			c := Must(NewCounterOf[reqLabels]("c_total", "h", WithRegistry(reg)))
			c.With(get200).Inc()
			c.With(get200).Add(2)
			Must(c.Bind(post500)).Inc() // Must fails the test on an error
			if got := c.WithValues("GET", "200"); got != c.With(get200) {
				t.Error("With and WithValues give different series")
			}
			return func(l reqLabels) (any, bool) { return c.Get(l) }, c.Delete
		}, []string{`c_total{method="GET",code="200"} 3`, `c_total{method="POST",code="500"} 1`}},
		{"gauge", func(t *testing.T, reg *Registry) (func(reqLabels) (any, bool), func(reqLabels) bool) {
			g := Must(NewGaugeOf[reqLabels]("g", "h", WithRegistry(reg)))
			g.With(get200).Set(1.5)
			g.With(get200).Sub(2)
			Must(g.Bind(post500)).Set(7)
			return func(l reqLabels) (any, bool) { return g.Get(l) }, g.Delete
		}, []string{`g{method="GET",code="200"} -0.5`, `g{method="POST",code="500"} 7`}},
		{"histogram", func(t *testing.T, reg *Registry) (func(reqLabels) (any, bool), func(reqLabels) bool) {
			h := Must(NewHistogramOf[reqLabels]("h_seconds", "h", WithRegistry(reg), WithBuckets(1),
				WithConstLabels(Labels{"app": "x"})))
			h.With(get200).Observe(0.5)
			h.With(get200).Observe(2)
			Must(h.Bind(post500))
			if b := h.Buckets(); !slices.Equal(b, []float64{1}) {
				t.Errorf("Buckets() = %v", b)
			}
			return func(l reqLabels) (any, bool) {
				v, ok := h.Get(l)
				return v.Count, ok
			}, h.Delete
		}, []string{
			`h_seconds_bucket{app="x",method="GET",code="200",le="1"} 1`,
			`h_seconds_bucket{app="x",method="GET",code="200",le="+Inf"} 2`,
			`h_seconds_sum{app="x",method="GET",code="200"} 2.5`,
			`h_seconds_count{app="x",method="GET",code="200"} 2`,
			`h_seconds_bucket{app="x",method="POST",code="500",le="1"} 0`,
			`h_seconds_bucket{app="x",method="POST",code="500",le="+Inf"} 0`,
			`h_seconds_sum{app="x",method="POST",code="500"} 0`,
			`h_seconds_count{app="x",method="POST",code="500"} 0`,
		}},
		{"summary", func(t *testing.T, reg *Registry) (func(reqLabels) (any, bool), func(reqLabels) bool) {
			m := Must(NewSummaryOf[reqLabels]("s_seconds", "h", WithRegistry(reg),
				WithObjectives(Objective{Quantile: 0.5, Epsilon: 0.05})))
			m.With(get200).Observe(0.25)
			m.With(get200).Observe(0.25)
			Must(m.Bind(post500)).Observe(4)
			return func(l reqLabels) (any, bool) {
				v, ok := m.Get(l)
				return v.Count, ok
			}, m.Delete
		}, []string{
			`s_seconds{method="GET",code="200",quantile="0.5"} 0.25`,
			`s_seconds_sum{method="GET",code="200"} 0.5`,
			`s_seconds_count{method="GET",code="200"} 2`,
			`s_seconds{method="POST",code="500",quantile="0.5"} 4`,
			`s_seconds_sum{method="POST",code="500"} 4`,
			`s_seconds_count{method="POST",code="500"} 1`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := NewRegistry()
			get, del := tt.run(t, reg)
			wantSamples(t, reg, tt.want...)

			if _, ok := get(get200); !ok {
				t.Error("Get(get200): not found")
			}
			missing := reqLabels{Method: "PUT", Code: "200"}
			if v, ok := get(missing); ok {
				t.Errorf("Get(missing) = %v, true", v)
			}
			if del(missing) {
				t.Error("Delete(missing) = true")
			}
			if !del(get200) {
				t.Error("Delete(get200) = false")
			}
			if del(get200) {
				t.Error("second Delete(get200) = true")
			}
			if _, ok := get(get200); ok {
				t.Error("Get after Delete: found")
			}
			var rest []string
			for _, s := range tt.want {
				if !strings.Contains(s, `"GET"`) {
					rest = append(rest, s)
				}
			}
			wantSamples(t, reg, rest...)
		})
	}
}

func TestTypedCounterValues(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounterOf[reqLabels]("c_total", "h", WithRegistry(reg), WithConstLabels(Labels{"app": "x"})))
	c.With(get200).Add(4)
	if v, ok := c.Get(get200); !ok || v != 4 {
		t.Errorf("Get = %v, %v; want 4, true", v, ok)
	}
	if got := c.LabelNames(); !slices.Equal(got, []string{"method", "code"}) {
		t.Errorf("LabelNames() = %q", got)
	}
	if c.Name() != "c_total" || !maps.Equal(c.ConstLabels(), Labels{"app": "x"}) {
		t.Errorf("Name() = %q, ConstLabels() = %v", c.Name(), c.ConstLabels())
	}
	for l, v := range c.All() {
		if !maps.Equal(l, Labels{"method": "GET", "code": "200"}) || v != 4 {
			t.Errorf("All: %v %v", l, v)
		}
	}
	// The registry holds the CounterOf, which Get and the error of a
	// second constructor give back.
	if got, _ := reg.Get("c_total"); got != c {
		t.Errorf("registry holds %T %p, not the CounterOf", got, got)
	}
	other := NewRegistry()
	if err := other.Register(c); err != nil {
		t.Fatalf("Register in a second registry: %v", err)
	}
	wantSamples(t, other, `c_total{app="x",method="GET",code="200"} 4`)
	// The name is taken now: the constructor's error comes through.
	_, err := NewCounterOf[reqLabels]("c_total", "h", WithRegistry(reg))
	var are *AlreadyRegisteredError
	if !errors.As(err, &are) || are.Existing != c {
		t.Errorf("second NewCounterOf: %v; want an AlreadyRegisteredError with c as Existing", err)
	}
	// A typed metric and the metric it wraps are one collector.
	if err := other.Register(c.Counter); !errors.As(err, &are) || are.Existing != c {
		t.Errorf("Register of the wrapped Counter beside the CounterOf: %v", err)
	}
	if !other.Unregister(c.Counter) || other.Unregister(c) {
		t.Error("Unregister of the wrapped Counter did not remove the CounterOf")
	}
	if !reg.Unregister(c) {
		t.Error("Unregister of the CounterOf: false")
	}
	if _, ok := reg.Get("c_total"); ok {
		t.Error("c_total still registered after Unregister of the CounterOf")
	}
	if err := reg.Register(c); err != nil {
		t.Errorf("Register again: %v", err)
	}
	c.Reset()
	if _, ok := c.Get(get200); ok {
		t.Error("Get after Reset: found")
	}
}

type Method string

type namingLabels struct {
	StatusCode string
	HTTPMethod Method // a named string type
	UserID     string
	path       string // unexported: read by offset all the same
	Tagged     string `label:"custom"`
	Under_Line string // an underscore already there
	Le         string // fine on a counter
}

func TestTypedLabelNames(t *testing.T) {
	c := Must(NewCounterOf[namingLabels]("n_total", "h", WithRegistry(nil)))
	want := []string{"status_code", "http_method", "user_id", "path", "custom", "under_line", "le"}
	if got := c.LabelNames(); !slices.Equal(got, want) {
		t.Errorf("LabelNames() = %q; want %q", got, want)
	}
	l := namingLabels{StatusCode: "a", HTTPMethod: "b", UserID: "c", path: "d", Tagged: "e", Under_Line: "f", Le: "g"}
	if c.With(l) != c.WithValues("a", "b", "c", "d", "e", "f", "g") {
		t.Error("With and WithValues give different series")
	}
}

func TestSnakeCase(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Method", "method"},
		{"method", "method"},
		{"StatusCode", "status_code"},
		{"statusCode", "status_code"},
		{"HTTPMethod", "http_method"},
		{"UserID", "user_id"},
		{"ID", "id"},
		{"A", "a"},
		{"HTTP2Code", "http2_code"},
		{"Code2", "code2"},
		{"Under_Line", "under_line"},
		{"_x", "_x"},
		{"ÄÖ", "äö"},
	} {
		if got := snakeCase(tt.in); got != tt.want {
			t.Errorf("snakeCase(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// Label struct types for the construction errors.
type (
	noFields   struct{}
	intField   struct{ N int }
	embedded   struct{ Method }
	blankField struct{ _, A string }
	badTag     struct {
		A string `label:"1x"`
	}
	emptyTag struct {
		A string `label:""`
	}
	reservedTag struct {
		A string `label:"__a"`
	}
	nonASCII struct{ Größe string }
	dupTag   struct {
		A, B string `label:"x"`
	}
	dupSnake struct {
		StatusCode string
		Other      string `label:"status_code"`
	}
	leLabels       struct{ Le string }
	quantileLabels struct{ Quantile string }
	hostLabels     struct{ Host string }
)

func TestTypedErrors(t *testing.T) {
	nilReg := WithRegistry(nil)
	tests := []struct {
		name     string
		make     func() error
		sentinel error    // nil: only the words are checked
		want     []string // in the message
	}{
		{"not a struct", func() error { _, err := NewCounterOf[string]("x", "h", nilReg); return err }, ErrInvalidLabels, []string{`"x"`, "string", "not a struct"}},
		{"pointer", func() error { _, err := NewGaugeOf[*reqLabels]("x", "h", nilReg); return err }, ErrInvalidLabels, []string{"*prom.reqLabels", "not a struct"}},
		{"interface", func() error { _, err := NewCounterOf[any]("x", "h", nilReg); return err }, ErrInvalidLabels, []string{"interface", "not a struct"}},
		{"no fields", func() error { _, err := NewCounterOf[noFields]("x", "h", nilReg); return err }, ErrInvalidLabels, []string{"prom.noFields", "no fields"}},
		{"non-string field", func() error { _, err := NewHistogramOf[intField]("x", "h", nilReg); return err }, ErrInvalidLabels, []string{"field N", "prom.intField", "type int"}},
		{"embedded field", func() error { _, err := NewSummaryOf[embedded]("x", "h", nilReg); return err }, ErrInvalidLabels, []string{"field Method", "prom.embedded", "embedded"}},
		{"blank field", func() error { _, err := NewCounterOf[blankField]("x", "h", nilReg); return err }, ErrInvalidLabels, []string{"field _", "prom.blankField", "blank"}},
		{"bad tag", func() error { _, err := NewCounterOf[badTag]("x", "h", nilReg); return err }, ErrInvalidName, []string{`"1x"`, "field A", "prom.badTag"}},
		{"empty tag", func() error { _, err := NewCounterOf[emptyTag]("x", "h", nilReg); return err }, ErrInvalidName, []string{`""`, "field A", "prom.emptyTag"}},
		{"reserved prefix", func() error { _, err := NewCounterOf[reservedTag]("x", "h", nilReg); return err }, ErrInvalidName, []string{`"__a"`, "field A", "prom.reservedTag"}},
		{"non-ASCII name", func() error { _, err := NewCounterOf[nonASCII]("x", "h", nilReg); return err }, ErrInvalidName, []string{`"größe"`, "field Größe", "prom.nonASCII"}},
		{"duplicate tag", func() error { _, err := NewGaugeOf[dupTag]("x", "h", nilReg); return err }, ErrInvalidLabels, []string{`"x"`, "field B", "field A", "prom.dupTag"}},
		{"duplicate snake", func() error { _, err := NewGaugeOf[dupSnake]("x", "h", nilReg); return err }, ErrInvalidLabels, []string{`"status_code"`, "field Other", "field StatusCode", "prom.dupSnake"}},
		{"WithLabelNames", func() error {
			_, err := NewCounterOf[reqLabels]("x", "h", nilReg, WithLabelNames("method", "code"))
			return err
		}, ErrInvalidLabels, []string{"WithLabelNames", "struct type prom.reqLabels"}},
		{"empty WithLabelNames", func() error {
			_, err := NewSummaryOf[reqLabels]("x", "h", nilReg, WithLabelNames())
			return err
		}, ErrInvalidLabels, []string{"WithLabelNames"}},
		{"le on a histogram", func() error { _, err := NewHistogramOf[leLabels]("x", "h", nilReg); return err }, ErrInvalidName, []string{`"le" is reserved`, "field Le", "prom.leLabels"}},
		{"quantile on a summary", func() error { _, err := NewSummaryOf[quantileLabels]("x", "h", nilReg); return err }, ErrInvalidName, []string{`"quantile" is reserved`, "field Quantile", "prom.quantileLabels"}},
		{"constant label too", func() error {
			_, err := NewCounterOf[hostLabels]("x", "h", nilReg, WithConstLabels(Labels{"host": "a"}))
			return err
		}, ErrInvalidLabels, []string{`"host"`, "field Host", "constant"}},
		{"bad metric name", func() error { _, err := NewCounterOf[reqLabels]("9x", "h", nilReg); return err }, ErrInvalidName, []string{`"9x"`}},
		{"option for another type", func() error { _, err := NewCounterOf[reqLabels]("x", "h", nilReg, WithBuckets(1)); return err }, nil, []string{"WithBuckets"}},
		{"bad buckets", func() error { _, err := NewHistogramOf[reqLabels]("x", "h", nilReg, WithBuckets(2, 1)); return err }, nil, []string{"sorted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.make()
			if err == nil {
				t.Fatal("no error")
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %q does not wrap %v", err, tt.sentinel)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %s", err, w)
				}
			}
		})
	}
	// The reserved names are reserved only on their own type.
	if _, err := NewCounterOf[leLabels]("x", "h", nilReg); err != nil {
		t.Errorf("le on a counter: %v", err)
	}
	if _, err := NewHistogramOf[quantileLabels]("x", "h", nilReg); err != nil {
		t.Errorf("quantile on a histogram: %v", err)
	}
}

// Options are not changed for the caller: the label names are added to a
// copy.
func TestTypedOptionsNotModified(t *testing.T) {
	opts := make([]Option, 1, 4)
	opts[0] = WithRegistry(nil)
	Must(NewCounterOf[reqLabels]("x", "h", opts...))
	if len(opts) != 1 || opts[:2][1] != nil {
		t.Error("NewCounterOf wrote into the caller's options")
	}
}

// typedValueCases are label values that need escaping or repair; they seed
// FuzzTypedLabels too.
var typedValueCases = []struct {
	a, b, c  string
	rendered string // the label block as the text format writes it
}{
	{"GET", "200", "x", `{a="GET",b="200",c="x"}`},
	{"", "", "", `{a="",b="",c=""}`},
	{`say "hi"`, `back\slash`, "new\nline", `{a="say \"hi\"",b="back\\slash",c="new\nline"}`},
	{"bad\xffutf8", "\xc3", "ok", `{a="bad` + "\ufffd" + `utf8",b="` + "\ufffd" + `",c="ok"}`},
	{"日本", "é", "\x00", `{a="日本",b="é",c="` + "\x00" + `"}`},
}

// fuzzLabels mixes exported, unexported and named string fields.
type fuzzLabels struct {
	A string
	b Method
	C string `label:"c"`
}

func TestTypedLabelValues(t *testing.T) {
	for _, tt := range typedValueCases {
		reg := NewRegistry()
		c := Must(NewCounterOf[fuzzLabels]("v_total", "h", WithRegistry(reg)))
		l := fuzzLabels{A: tt.a, b: Method(tt.b), C: tt.c}
		if c.With(l) != c.WithValues(tt.a, tt.b, tt.c) {
			t.Errorf("%q: With and WithValues give different series", tt.rendered)
		}
		c.With(l).Inc()
		if v, ok := c.Get(l); !ok || v != 1 {
			t.Errorf("%q: Get = %v, %v", tt.rendered, v, ok)
		}
		wantSamples(t, reg, "v_total"+tt.rendered+" 1")
		if !c.Delete(l) {
			t.Errorf("%q: Delete = false", tt.rendered)
		}
	}
	// Values that differ only in their invalid bytes share a series, as
	// with WithValues.
	c := Must(NewCounterOf[fuzzLabels]("v_total", "h", WithRegistry(nil)))
	if c.With(fuzzLabels{A: "a\xff"}) != c.With(fuzzLabels{A: "a\xfe"}) {
		t.Error("a\\xff and a\\xfe give different series")
	}
	if _, ok := c.Get(fuzzLabels{A: "a\x80"}); !ok {
		t.Error("Get(a\\x80) does not find the series of a\\xff")
	}
}

// manyLabels has more fields than a lookup holds on the stack.
type manyLabels struct{ A, B, C, D, E, F, G, H, I, J string }

func TestTypedManyFields(t *testing.T) {
	reg := NewRegistry()
	g := Must(NewGaugeOf[manyLabels]("m", "h", WithRegistry(reg)))
	l := manyLabels{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}
	g.With(l).Set(3)
	if g.With(l) != g.WithValues("1", "2", "3", "4", "5", "6", "7", "8", "9", "10") {
		t.Error("With and WithValues give different series")
	}
	if v, ok := g.Get(l); !ok || v != 3 {
		t.Errorf("Get = %v, %v", v, ok)
	}
	wantSamples(t, reg, `m{a="1",b="2",c="3",d="4",e="5",f="6",g="7",h="8",i="9",j="10"} 3`)
	if !g.Delete(l) {
		t.Error("Delete = false")
	}
}

func TestTypedConcurrent(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounterOf[reqLabels]("c_total", "h", WithRegistry(reg)))
	h := Must(NewHistogramOf[reqLabels]("h", "h", WithRegistry(reg)))
	g := Must(NewGaugeOf[reqLabels]("g", "h", WithRegistry(reg)))
	sets := []reqLabels{get200, post500, {"PUT", "201"}, {"GET", "404"}}
	const workers, rounds = 8, 500
	done := make(chan struct{})
	for w := range workers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range rounds {
				l := sets[(w+i)%len(sets)]
				c.With(l).Inc()
				h.With(l).Observe(float64(i))
				// The gauge's series come and go while others use them.
				g.With(l).Inc()
				if i%7 == 0 {
					g.Delete(l)
				}
				g.Get(l)
				if i%50 == 0 {
					if _, err := reg.Append(context.Background(), nil, FormatText); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	for range workers {
		<-done
	}
	var total float64
	for _, l := range sets {
		v, _ := c.Get(l)
		total += v
		if hv, _ := h.Get(l); hv.Count != workers*rounds/uint64(len(sets)) {
			t.Errorf("histogram %v: count %d", l, hv.Count)
		}
	}
	if total != workers*rounds {
		t.Errorf("counter total %v; want %d", total, workers*rounds)
	}
}

// A hit reads the struct on the stack: no allocation, as WithValues.
func TestTypedZeroAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts need a normal run")
	}
	reg := NewRegistry()
	c := Must(NewCounterOf[reqLabels]("c_total", "h", WithRegistry(reg)))
	g := Must(NewGaugeOf[reqLabels]("g", "h", WithRegistry(reg)))
	h := Must(NewHistogramOf[reqLabels]("h", "h", WithRegistry(reg)))
	s := Must(NewSummaryOf[reqLabels]("s", "h", WithRegistry(reg)))
	n := Must(NewCounterOf[namingLabels]("n_total", "h", WithRegistry(reg)))
	method, code := "GET", "200"
	c.With(get200)
	g.With(get200)
	nl := namingLabels{StatusCode: code, HTTPMethod: Method(method)}
	n.With(nl)
	tests := []struct {
		name string
		fn   func()
	}{
		{"CounterOf.With", func() { c.With(reqLabels{Method: method, Code: code}).Inc() }},
		{"CounterOf.Bind", func() { _, _ = c.Bind(reqLabels{Method: method, Code: code}) }},
		{"CounterOf.Get", func() { c.Get(reqLabels{Method: method, Code: code}) }},
		{"GaugeOf.With", func() { g.With(reqLabels{Method: method, Code: code}).Set(1) }},
		{"GaugeOf.Get", func() { g.Get(reqLabels{Method: method, Code: code}) }},
		{"HistogramOf.With", func() { h.With(reqLabels{Method: method, Code: code}).Observe(1) }},
		{"SummaryOf.With", func() { s.With(reqLabels{Method: method, Code: code}).Observe(1) }},
		{"seven fields", func() { n.With(nl).Inc() }},
	}
	for _, tt := range tests {
		if a := testing.AllocsPerRun(1000, tt.fn); a != 0 {
			t.Errorf("%s: %v allocs; want 0", tt.name, a)
		}
	}
}

// With(l) and WithValues(l's fields...) find the same series, which has
// l's fields as its labels, made valid UTF-8.
func FuzzTypedLabels(f *testing.F) {
	for _, tt := range typedValueCases {
		f.Add(tt.a, tt.b, tt.c)
	}
	c := Must(NewCounterOf[fuzzLabels]("f_total", "h", WithRegistry(nil)))
	f.Fuzz(func(t *testing.T, a, b, cv string) {
		l := fuzzLabels{A: a, b: Method(b), C: cv}
		s := c.With(l)
		if s != c.WithValues(a, b, cv) {
			t.Fatalf("With(%q) and WithValues give different series", l)
		}
		if s2, err := c.Bind(l); s2 != s || err != nil {
			t.Fatalf("Bind(%q) = %p, %v; With gave %p", l, s2, err, s)
		}
		s.Inc()
		if v, ok := c.Get(l); !ok || v != 1 {
			t.Fatalf("Get(%q) = %v, %v", l, v, ok)
		}
		want := Labels{"a": expo.ValidUTF8(a), "b": expo.ValidUTF8(b), "c": expo.ValidUTF8(cv)}
		n := 0
		for got := range c.All() {
			n++
			if !maps.Equal(got, want) {
				t.Fatalf("series labels %q; want %q", got, want)
			}
		}
		if n != 1 {
			t.Fatalf("%d series; want 1", n)
		}
		if !c.Delete(l) || c.DeleteValues(a, b, cv) {
			t.Fatalf("Delete(%q) did not remove the one series", l)
		}
	})
}

// values reads a label struct in place as its array of strings: every
// field, unexported and named string types included, in order.
func TestLabelStructValues(t *testing.T) {
	c := Must(NewCounterOf[namingLabels]("n_total", "h", WithRegistry(nil)))
	l := namingLabels{"s", "m", "u", "p", "t", "ul", "le"}
	got := c.labels.values(&l)
	v := reflect.ValueOf(l)
	if len(got) != v.NumField() {
		t.Fatalf("values = %q: %d values for %d fields", got, len(got), v.NumField())
	}
	for i := range v.NumField() {
		if got[i] != v.Field(i).String() {
			t.Errorf("value %d = %q; want field %s = %q", i, got[i], v.Type().Field(i).Name, v.Field(i).String())
		}
	}
}
