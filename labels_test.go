package prom

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestMetricNames(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true}, {"_a", true}, {":a", true}, {"a:b_c9", true}, {"A_Z", true},
		{"", false}, {"9a", false}, {"a-b", false}, {"a b", false}, {"a.b", false}, {"ä", false}, {"a\n", false},
	}
	for _, tt := range tests {
		_, err := NewCounter(tt.name, "h", WithRegistry(nil))
		if (err == nil) != tt.ok {
			t.Errorf("NewCounter(%q) error = %v; want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && (!errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.name))) {
			t.Errorf("error %q is not ErrInvalidName naming %q", err, tt.name)
		}
	}
}

func TestLabelNameRules(t *testing.T) {
	tests := []struct {
		desc string
		make func() error
		want string // "" means no error
	}{
		{"valid names", func() error {
			_, err := NewCounter("x", "h", WithRegistry(nil), WithLabelNames("a", "_b", "c9"))
			return err
		}, ""},
		{"digit first", func() error {
			_, err := NewCounter("x", "h", WithRegistry(nil), WithLabelNames("9a"))
			return err
		}, `label name "9a"`},
		{"colon", func() error {
			_, err := NewGauge("x", "h", WithRegistry(nil), WithLabelNames("a:b"))
			return err
		}, `label name "a:b"`},
		{"double underscore", func() error {
			_, err := NewGauge("x", "h", WithRegistry(nil), WithLabelNames("__name"))
			return err
		}, "prefix __ is reserved"},
		{"duplicate", func() error {
			_, err := NewGauge("x", "h", WithRegistry(nil), WithLabelNames("a", "a"))
			return err
		}, `"a" declared twice`},
		{"le on histogram", func() error {
			_, err := NewHistogram("x", "h", WithRegistry(nil), WithLabelNames("le"))
			return err
		}, `"le" is reserved`},
		{"le as const on histogram", func() error {
			_, err := NewHistogram("x", "h", WithRegistry(nil), WithConstLabels(Labels{"le": "1"}))
			return err
		}, `"le" is reserved`},
		{"le per call on histogram", func() error {
			h := Must(NewHistogram("x", "h", WithRegistry(nil)))
			_, err := h.Bind(Labels{"le": "1"})
			return err
		}, `"le" is reserved`},
		{"le on counter is fine", func() error {
			_, err := NewCounter("x", "h", WithRegistry(nil), WithLabelNames("le", "quantile"))
			return err
		}, ""},
		{"quantile on summary", func() error {
			_, err := NewSummary("x", "h", WithRegistry(nil), WithLabelNames("quantile"))
			return err
		}, `"quantile" is reserved`},
		{"quantile per call on summary", func() error {
			s := Must(NewSummary("x", "h", WithRegistry(nil)))
			_, err := s.Bind(Labels{"quantile": "0.5"})
			return err
		}, `"quantile" is reserved`},
		{"overflow label declared", func() error {
			_, err := NewCounter("x", "h", WithRegistry(nil), WithLabelNames(OverflowLabel))
			return err
		}, `"prom_overflow" of metric "x" is reserved`},
		{"overflow label as const", func() error {
			_, err := NewGauge("x", "h", WithRegistry(nil), WithConstLabels(Labels{OverflowLabel: "true"}))
			return err
		}, `"prom_overflow" of metric "x" is reserved`},
		{"overflow label per call", func() error {
			c := Must(NewCounter("x", "h", WithRegistry(nil)))
			_, err := c.Bind(Labels{OverflowLabel: "true"})
			return err
		}, `"prom_overflow" of metric "x" is reserved`},
		{"overflow label as a typed field", func() error {
			_, err := NewCounterOf[struct {
				O string `label:"prom_overflow"`
			}]("x", "h", WithRegistry(nil))
			return err
		}, `"prom_overflow" of metric "x" is reserved`},
		{"const and variable", func() error {
			_, err := NewCounter("x", "h", WithRegistry(nil), WithLabelNames("a"), WithConstLabels(Labels{"a": "1"}))
			return err
		}, "both a constant and a variable"},
		{"const bad name", func() error {
			_, err := NewCounter("x", "h", WithRegistry(nil), WithConstLabels(Labels{"a b": "1"}))
			return err
		}, `label name "a b"`},
	}
	for _, tt := range tests {
		t.Run(tt.desc, func(t *testing.T) {
			err := tt.make()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("no error; want one mentioning %s", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("error %q does not mention %s", err, tt.want)
			case err != nil && !errors.Is(err, ErrInvalidName) && !errors.Is(err, ErrInvalidLabels):
				t.Fatalf("error %v wraps neither ErrInvalidName nor ErrInvalidLabels", err)
			}
		})
	}
}

func TestOptionsForOtherTypes(t *testing.T) {
	if _, err := NewCounter("x", "h", WithRegistry(nil), WithBuckets(1, 2)); err == nil || !strings.Contains(err.Error(), "WithBuckets") {
		t.Errorf("buckets on a counter: %v", err)
	}
	if _, err := NewHistogram("x", "h", WithRegistry(nil), WithObjectives()); err == nil || !strings.Contains(err.Error(), "WithObjectives") {
		t.Errorf("objectives on a histogram: %v", err)
	}
}

func TestLabelKeyOrderIndependent(t *testing.T) {
	var s labelSchema
	var b1, b2 labelBuf
	k1, _ := mapKey(&s, Labels{"a": "1", "b": "2", "c": "3"}, &b1, nil)
	k2, _ := mapKey(&s, Labels{"c": "3", "a": "1", "b": "2"}, &b2, nil)
	if k1.hash != k2.hash || strings.Join(k1.names, ",") != "a,b,c" || strings.Join(k2.values, ",") != "1,2,3" {
		t.Fatalf("keys differ: %v %v / %v %v", k1.names, k1.values, k2.names, k2.values)
	}
	// Names and values must not be confusable: {a="b"} is not {b="a"}.
	var b3, b4 labelBuf
	k3, _ := mapKey(&s, Labels{"a": "b"}, &b3, nil)
	k4, _ := mapKey(&s, Labels{"b": "a"}, &b4, nil)
	if k3.hash == k4.hash {
		t.Error("{a=b} and {b=a} hash alike")
	}
}

func TestManyLabels(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("wide_total", "h", WithRegistry(reg)))
	l := Labels{}
	for i := range 12 { // more than a lookup keeps on the stack
		l["l"+itoa(i)] = itoa(i)
	}
	c.With(l).Inc()
	c.With(l).Inc()
	if v, ok := c.Get(l); !ok || v != 2 {
		t.Fatalf("Get = %v, %v", v, ok)
	}
}

func TestExportedNameChecks(t *testing.T) {
	for _, tt := range []struct {
		name          string
		metric, label bool
	}{
		{"a_b", true, true}, {"a:b", true, false}, {"__a", true, false}, {"1a", false, false}, {"", false, false}, {"a-b", false, false},
	} {
		if err := CheckMetricName(tt.name); (err == nil) != tt.metric || err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckMetricName(%q) = %v", tt.name, err)
		}
		if err := CheckLabelName(tt.name); (err == nil) != tt.label || err != nil && !errors.Is(err, ErrInvalidName) {
			t.Errorf("CheckLabelName(%q) = %v", tt.name, err)
		}
	}
}

// TestLabelHashSpread checks the label hash on 200,000 label sets shaped
// like real ones (paths, codes, swapped and shifted values): the 32-bit
// hashes that the series table keeps must collide about as rarely as
// random ones would (about 5 expected).
func TestLabelHashSpread(t *testing.T) {
	seen := map[uint32]int{}
	seen64 := map[uint64]bool{}
	collisions := 0
	add := func(values ...string) {
		h64 := hashStrings(hashInit, values)
		if seen64[h64] {
			t.Errorf("%q: 64-bit hash collision", values) // "1000" and "10000" once did
		}
		seen64[h64] = true
		h := valuesKey(values).hash
		seen[h]++
		if seen[h] > 1 {
			collisions++
		}
	}
	for i := range 50000 {
		n := strconv.Itoa(i)
		add("/api/v1/items/"+n, "200")
		add("200", "/api/v1/items/"+n)
		add(n, "")
		add("", n)
	}
	if collisions > 40 {
		t.Fatalf("%d collisions among 200,000 label sets; random 30-bit hashes give about 19", collisions)
	}
	t.Logf("%d collisions", collisions)
}

// TestEmptyLabelValueIsNoLabel: Prometheus reads a label with an empty value
// as no label, so in a metric without declared names {k=""} is the
// unlabelled series and {x="1",y=""} the series {x="1"}: one series each,
// not two that a scrape would expose under one label set. A declared name
// keeps its empty value (its series all have the same names, so none
// collide).
func TestEmptyLabelValueIsNoLabel(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg)))
	c.Inc()
	c.With(Labels{"k": ""}).Add(2)
	c.With(Labels{"x": "1", "y": "2"}).Inc() // its names become the lookup hint
	c.With(Labels{"x": "1"}).Inc()
	c.With(Labels{"x": "1", "y": ""}).Add(10)
	c.With(Labels{"y": "", "x": "1", "z": ""}).Add(100)
	if s1, _ := c.Bind(Labels{"k": ""}); s1 != c.With(nil) {
		t.Error(`Bind({k=""}) is not the unlabelled series`)
	}

	g := Must(NewGauge("g", "h", WithRegistry(reg)))
	g.Set(1) // the pending unlabelled series
	g.With(Labels{"k": ""}).Add(2)
	if v, ok := g.Get(Labels{"k": ""}); !ok || v != 3 {
		t.Errorf(`gauge Get({k=""}) = %v, %v; want 3`, v, ok)
	}
	g0 := Must(NewGauge("g0", "h", WithRegistry(reg)))
	g0.With(Labels{"k": ""}) // asking for it is a use: the series appears at 0

	h := Must(NewHistogram("h", "h", WithRegistry(reg), WithBuckets(1)))
	h.Observe(0.5)
	h.With(Labels{"k": ""}).Observe(2)
	m := Must(NewSummary("s", "h", WithRegistry(reg)))
	m.Observe(1)
	m.With(Labels{"k": ""}).Observe(1)

	d := Must(NewCounter("d_total", "h", WithRegistry(reg), WithLabelNames("a")))
	d.WithValues("").Inc()
	d.With(Labels{"a": ""}).Inc()

	want := []string{
		"c_total 3", `c_total{x="1"} 111`, `c_total{x="1",y="2"} 1`,
		"g 3", "g0 0",
		`h_bucket{le="1"} 1`, `h_bucket{le="+Inf"} 2`, "h_count 2",
		"s_count 2", "s_sum 2",
		`d_total{a=""} 2`,
	}
	out := text(t, reg)
	for _, w := range want {
		if !strings.Contains(out, "\n"+w+"\n") {
			t.Errorf("exposition lacks %s:\n%s", w, out)
		}
	}
	for _, bad := range []string{`k=""`, `y=""`, `z=""`, "prom_rejected_updates_total"} {
		if strings.Contains(out, bad) {
			t.Errorf("exposition holds %s:\n%s", bad, out)
		}
	}
	if n := strings.Count(out, "\nc_total "); n != 1 {
		t.Errorf("%d unlabelled c_total series:\n%s", n, out)
	}
	if v, ok := c.Get(Labels{"x": "1", "y": ""}); !ok || v != 111 {
		t.Errorf(`Get({x="1",y=""}) = %v, %v; want 111`, v, ok)
	}
	if !c.Delete(Labels{"k": ""}) {
		t.Error(`Delete({k=""}) found no series`)
	}
	if _, ok := c.Get(nil); ok {
		t.Error(`the unlabelled series is still there after Delete({k=""})`)
	}

	// Names are checked even when their value is empty.
	hc := Must(NewCounter("e_total", "h", WithRegistry(nil), WithConstLabels(Labels{"host": "a"})))
	hh := Must(NewHistogram("e", "h", WithRegistry(nil)))
	for _, tc := range []struct {
		bind func() error
		want string
	}{
		{func() error { _, err := hc.Bind(Labels{"1x": ""}); return err }, `label name "1x"`},
		{func() error { _, err := hc.Bind(Labels{"__a": ""}); return err }, "prefix __ is reserved"},
		{func() error { _, err := hc.Bind(Labels{"host": ""}); return err }, "already a constant label"},
		{func() error { _, err := hc.Bind(Labels{OverflowLabel: "", "a": "1"}); return err }, "overflow series"},
		{func() error { _, err := hh.Bind(Labels{"le": ""}); return err }, `"le" is reserved`},
	} {
		if err := tc.bind(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one with %q", err, tc.want)
		}
	}
}

// TestEmptyLabelValueEntryPoints: each way to a series by label map reads
// an empty value as no label, however the family got there: through the
// lookup hint of the latest label names, through Get before any other
// lookup, and on a gauge at its series limit, which makes the unlabelled
// series past the limit and leaves the overflow series' value alone.
func TestEmptyLabelValueEntryPoints(t *testing.T) {
	t.Run("hint", func(t *testing.T) {
		c := Must(NewCounter("c_total", "h", WithRegistry(nil)))
		c.With(Labels{"x": "1"}).Inc()
		c.With(Labels{"x": "1", "y": "2"}).Inc() // the hint is now [x y]
		c.With(Labels{"x": "1", "y": ""}).Inc()
		if v, _ := c.Get(Labels{"x": "1"}); v != 2 {
			t.Errorf(`{x="1"} = %v, want 2`, v)
		}
	})
	t.Run("gauge Get first", func(t *testing.T) {
		g := Must(NewGauge("g", "h", WithRegistry(nil)))
		g.Set(1)
		if v, ok := g.Get(Labels{"k": ""}); !ok || v != 1 {
			t.Errorf(`Get({k=""}) = %v, %v; want 1, true`, v, ok)
		}
	})
	t.Run("gauge at its limit", func(t *testing.T) {
		reg := NewRegistry()
		g := Must(NewGauge("g", "h", WithRegistry(reg), WithMaxSeries(1)))
		g.With(Labels{"a": "1"}).Set(1)
		g.With(Labels{"a": "2"}).Set(5) // to the overflow series
		g.With(Labels{"k": ""}).Set(6)  // the unlabelled series, made past the limit
		g.With(nil).Add(1)
		if out := text(t, reg); !strings.Contains(out, `g{prom_overflow="true"} 5`+"\n") || !strings.Contains(out, "g 7\n") {
			t.Errorf("want the overflow series at 5 and the unlabelled one at 7:\n%s", out)
		}
		g.Set(8)
		if v, ok := g.Get(Labels{"k": ""}); !ok || v != 8 {
			t.Errorf(`Get({k=""}) = %v, %v; want 8, true`, v, ok)
		}
	})
}

// TestPlainTextLookup checks the lock-free hit for label values with and
// without escaping, after a constant label that needs it: each series is
// found by its own values, by no other set's, and is marked plainText
// exactly when its variable labels were rendered without escaping.
func TestPlainTextLookup(t *testing.T) {
	sets := [][]string{
		{"GET", "200"}, {"", ""}, {"GET", ""}, {"", "GET"},
		{`",code="`, `x`}, {`"`, `y`}, {`\`, `"`}, {`GET\`, `200`},
		{"a\nb", "c"}, {`a,code=`, `b`}, {`a",code="b`, `c`},
		{"/api/v1/users/{id}/posts", "0123456789abcdef"},
		{"ünï", "日本"}, {"GE", "T200"}, {"GET2", "00"},
	}
	c := Must(NewCounter("plain_total", "h", WithRegistry(nil), WithLabelNames("method", "code"),
		WithConstLabels(Labels{"k": `say "hi" \ bye`})))
	series := make([]*CounterSeries, len(sets))
	for i, vals := range sets {
		series[i] = c.WithValues(vals...)
		series[i].Add(float64(i + 1))
		escapes := strings.ContainsAny(strings.Join(vals, ""), "\"\\\n")
		if plain := series[i].hash&plainText != 0; plain == escapes {
			t.Errorf("%q: plainText bit %v, want %v", vals, plain, !escapes)
		}
	}
	for i, vals := range sets {
		for j, other := range sets {
			got := c.f.hitValues(other)
			if (i == j) != (got == series[i]) {
				t.Errorf("stored %q, looked up %q: hit %v", vals, other, got)
			}
		}
		if got := c.WithValues(vals...).Value(); got != float64(i+1) {
			t.Errorf("%q: value %v, want %d", vals, got, i+1)
		}
	}
}
