package prom

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/promgo/prom/internal/expo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fixture returns a registry with every metric type, odd label values
// included, and fixed creation and exemplar times.
func fixture(t testing.TB) *Registry {
	reg := NewRegistry()
	c := Must(NewCounter("http_requests_total", "Requests served, by \"method\".\nSecond line \\ here.",
		WithRegistry(reg), WithLabelNames("method", "code"), WithConstLabels(Labels{"app": "demo"})))
	c.WithValues("GET", "200").Add(1027)
	c.WithValues("POST", "500").Inc()
	c.WithValues("GET", "200").AddWithExemplar(3, Labels{"trace_id": "4bf92f3577b34da6"})
	plain := Must(NewCounter("jobs", "A counter without the _total suffix.", WithRegistry(reg)))
	plain.Add(2.5)
	g := Must(NewGauge("temperature_celsius", "Temperature.", WithRegistry(reg), WithUnit("celsius")))
	g.With(Labels{"room": "quote\" back\\slash newline\n tab\t"}).Set(-3.25)
	g.With(Labels{"room": "bad\xffutf8 ünï"}).Set(1e21)
	g.With(Labels{"room": ""}).Set(math.NaN())
	g.With(Labels{"room": "inf"}).Set(math.Inf(-1))
	Must(NewGaugeFunc("build_info", "Build information.", func() float64 { return 1 }, WithRegistry(reg), WithConstLabels(Labels{"version": "v1.2.3"})))
	h := Must(NewHistogram("request_duration_seconds", "Request latency.", WithRegistry(reg), WithBuckets(0.1, 1, 10), WithUnit("seconds")))
	for _, v := range []float64{0.05, 0.5, 0.7, 5, 50} {
		h.With(Labels{"path": "/"}).Observe(v)
	}
	h.With(Labels{"path": "/"}).ObserveWithExemplar(0.3, Labels{"trace_id": "abc", "span_id": "def"})
	h.With(Labels{"path": "/empty"})
	s := Must(NewSummary("payload_bytes", "Payload sizes.", WithRegistry(reg), WithObjectives(Objective{0.5, 0.05}, Objective{0.99, 0.001})))
	for i := 1; i <= 100; i++ {
		s.Observe(float64(i))
	}
	reg.MustRegister(collectorFunc{names: []string{"queue_length"}, fn: func(_ context.Context, w *MetricWriter) error {
		w.Untyped("queue_length", "Jobs waiting.", 7, Labels{"queue": "mail"})
		return nil
	}})
	freeze(c.f.snapshot())
	freeze(plain.f.snapshot())
	freeze(h.f.snapshot())
	freeze(s.f.snapshot())
	return reg
}

// freeze sets fixed creation and exemplar times.
func freeze[T any, PT seriesPtr[T]](ss []PT) {
	{
		for _, s := range ss {
			s.header().created = 1700000000123000000
			switch s := any(s).(type) {
			case *CounterSeries:
				if ex := s.aux.Load().exemplar; ex != nil {
					ex.Timestamp = 1700000001500000000
				}
			case *HistogramSeries:
				if exs := s.exemplars.Load(); exs != nil {
					for i := range *exs {
						if ex := (*exs)[i].Load(); ex != nil {
							ex.Timestamp = 1700000002000000000
						}
					}
				}
			}
		}
	}
}

func TestGoldenFormats(t *testing.T) {
	for _, tt := range []struct {
		file    string
		format  Format
		created bool
	}{
		{"all.txt", FormatText, false},
		{"all.om.txt", FormatOpenMetrics, false},
		{"all_created.om.txt", FormatOpenMetrics, true},
		{"all.pb", FormatProtobuf, false},
	} {
		t.Run(tt.file, func(t *testing.T) {
			got, err := fixture(t).render(context.Background(), nil, tt.format, renderOptions{created: tt.created})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the golden file (go test -run TestGoldenFormats -update rewrites it):\n%s", tt.file, got)
			}
		})
	}
}

// TestOpenMetricsStrictParser reads the OpenMetrics output with the
// strict parser of Python's prometheus_client (Debian's
// python3-prometheus-client), written apart from prom.
func TestOpenMetricsStrictParser(t *testing.T) {
	for _, created := range []bool{false, true} {
		out, err := fixture(t).render(context.Background(), nil, FormatOpenMetrics, renderOptions{created: created})
		if err != nil {
			t.Fatal(err)
		}
		if strictOpenMetrics(t, out) == 0 {
			t.Fatalf("created=%v: the parser read no samples", created)
		}
	}
}

func TestNegotiateFormat(t *testing.T) {
	tests := []struct {
		who, accept string
		want        Format
	}{
		{"no header", "", FormatText},
		{"Prometheus 2.x", "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", FormatOpenMetrics},
		{"Prometheus 2.x native histograms", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", FormatProtobuf},
		{"Prometheus 3.x", "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", FormatOpenMetrics},
		{"Prometheus 3.x protobuf first", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3,*/*;q=0.2", FormatProtobuf},
		{"Prometheus 3.x text only", "text/plain;version=1.0.0;escaping=underscores,text/plain;version=0.0.4;q=0.9", FormatText},
		{"parameters in another order", "application/vnd.google.protobuf; encoding=delimited; proto=io.prometheus.client.MetricFamily", FormatProtobuf},
		{"aioprometheus binary", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited", FormatProtobuf},
		{"protobuf without encoding", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily", FormatText},
		{"protobuf text encoding", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text", FormatText},
		{"q-values decide", "text/plain;q=0.9,application/openmetrics-text;q=0.8", FormatText},
		{"q-values decide the other way", "text/plain;q=0.2,application/openmetrics-text;q=0.8", FormatOpenMetrics},
		{"tie goes to the first", "application/openmetrics-text,text/plain", FormatOpenMetrics},
		{"q=0 refuses", "application/openmetrics-text;q=0,text/plain;q=0.1", FormatText},
		{"unknown OpenMetrics version", "application/openmetrics-text;version=2.0.0", FormatText},
		{"upper case and spaces", " Application/OpenMetrics-Text ; Version=1.0.0 ", FormatOpenMetrics},
		{"browser", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8", FormatText},
		{"curl", "*/*", FormatText},
		{"json only", "application/json", FormatText},
		{"malformed q", "application/openmetrics-text;q=high", FormatText},
		{"q above 1", "application/openmetrics-text;q=2", FormatText},
		{"garbage", ";;;,,,=;q", FormatText},
		{"quoted parameter", `application/openmetrics-text;version="1.0.0"`, FormatOpenMetrics},
		// A wildcard rates text only where no more specific range does
		// (RFC 9110, 12.5.1), and never stands for the other formats.
		{"*/* after a lower text/plain", "text/plain;q=0.1,application/openmetrics-text;version=1.0.0;q=0.5,*/*", FormatOpenMetrics},
		{"text/* after a lower text/plain", "text/plain;q=0.1,text/*,application/openmetrics-text;q=0.5", FormatOpenMetrics},
		{"text/* below protobuf, then */*", "text/*;q=0.1,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.5,*/*", FormatProtobuf},
		{"*/* before a higher text/plain", "*/*;q=0.1,application/openmetrics-text;q=0.5,text/plain", FormatText},
		{"text refused, */* accepted", "text/plain;q=0,*/*", FormatText},
		{"text/* refused, OpenMetrics lower", "text/*;q=0,application/openmetrics-text;q=0.1,*/*", FormatOpenMetrics},
		{"application/* is no format", "application/*,text/plain;q=0.5", FormatText},
		// Of the ranges that name one format alike, the highest rated
		// counts; one naming the version served beats one without, or
		// with a version prom answers with its own.
		{"the higher of two OpenMetrics", "application/openmetrics-text;version=0.0.1;q=0.2,text/plain;q=0.5,application/openmetrics-text;version=1.0.0;q=0.9", FormatOpenMetrics},
		{"the higher of two text", "text/plain;version=0.0.4;q=0.1,text/plain;version=0.0.4;q=0.9,application/openmetrics-text;q=0.5", FormatText},
		{"a version beats none", "application/openmetrics-text;q=0,application/openmetrics-text;version=1.0.0", FormatOpenMetrics},
		{"a version beats none, refusing", "text/plain;version=0.0.4;q=0,text/plain,application/openmetrics-text;q=0.1", FormatOpenMetrics},
		{"another text version is text/plain", "application/openmetrics-text;q=0.1,text/plain;q=1,text/plain;version=1.0.0;q=0", FormatText},
		{"OpenMetrics 0.0.1 is OpenMetrics", "application/openmetrics-text;version=0.0.1;q=0.2,application/openmetrics-text;q=0.9,text/plain;q=0.5", FormatOpenMetrics},
		{"OpenMetrics 1.0.0 refused", "application/openmetrics-text;version=1.0.0;q=0,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;q=0.4", FormatText},
		{"tie goes to the first range so rated", "text/plain;q=0.5,application/openmetrics-text;q=0.5,text/plain;version=0.0.4;q=0.5", FormatText},
		{"another version does not overrule a refusal", "text/plain;version=1.0.0,text/plain;q=0,application/openmetrics-text;q=0.5", FormatOpenMetrics},
		{"OpenMetrics 0.0.1 does not overrule a refusal", "application/openmetrics-text;version=0.0.1,application/openmetrics-text;q=0,text/plain;q=0.5", FormatText},
		{"another version rates where nothing more specific does", "application/openmetrics-text;version=0.0.1;q=0.7,text/plain;version=1.0.0;q=0.6", FormatOpenMetrics},
		{"a wildcard's position breaks a tie", "*/*;q=0.5,application/openmetrics-text;q=0.5,text/plain;q=0.5", FormatText},
		{"tie, the first of that rating", "text/plain;version=0.0.4;q=0.2,application/openmetrics-text;q=0.5,text/plain;q=0.5,text/plain;version=0.0.4;q=0.5", FormatOpenMetrics},
	}
	for _, tt := range tests {
		if got := NegotiateFormat(tt.accept); got != tt.want {
			t.Errorf("%s: NegotiateFormat(%q) = %v; want %v", tt.who, tt.accept, got, tt.want)
		}
	}
}

func FuzzNegotiateFormat(f *testing.F) {
	f.Add("application/openmetrics-text;version=1.0.0,text/plain;q=0.5")
	f.Add("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	f.Add(";;,q=")
	f.Fuzz(func(t *testing.T, accept string) {
		f := NegotiateFormat(accept)
		if f.ContentType() == "" {
			t.Fatalf("NegotiateFormat(%q) = %v, a format without a Content-Type", accept, f)
		}
		if !strings.Contains(strings.ToLower(accept), "openmetrics") && f == FormatOpenMetrics ||
			!strings.Contains(strings.ToLower(accept), "protobuf") && f == FormatProtobuf {
			t.Fatalf("NegotiateFormat(%q) = %v, not asked for", accept, f)
		}
	})
}

// pbField is one decoded protobuf field.
type pbField struct {
	num   int
	wire  int
	value uint64 // varint or fixed64
	bytes []byte // length-delimited
}

// decodePB decodes one message's fields; it is written apart from the
// encoder, from the protobuf wire format's definition.
func decodePB(t *testing.T, b []byte) []pbField {
	t.Helper()
	var out []pbField
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("bad tag in % x", b)
		}
		b = b[n:]
		f := pbField{num: int(tag >> 3), wire: int(tag & 7)}
		switch f.wire {
		case 0:
			f.value, n = binary.Uvarint(b)
			if n <= 0 {
				t.Fatal("bad varint")
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				t.Fatal("short fixed64")
			}
			f.value, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				t.Fatalf("bad length %d", l)
			}
			f.bytes, b = b[n:n+int(l)], b[n+int(l):]
		default:
			t.Fatalf("unexpected wire type %d", f.wire)
		}
		out = append(out, f)
	}
	return out
}

func TestProtobufDecodes(t *testing.T) {
	out, err := fixture(t).Append(context.Background(), nil, FormatProtobuf)
	if err != nil {
		t.Fatal(err)
	}
	families := map[string][]pbField{}
	var order []string
	for len(out) > 0 {
		l, n := binary.Uvarint(out)
		if n <= 0 || uint64(len(out)-n) < l {
			t.Fatalf("bad delimiter")
		}
		fields := decodePB(t, out[n:n+int(l)])
		out = out[n+int(l):]
		var name string
		for _, f := range fields {
			if f.num == 1 {
				name = string(f.bytes)
			}
		}
		families[name] = fields
		order = append(order, name)
	}
	if want := "build_info http_requests_total jobs payload_bytes queue_length request_duration_seconds temperature_celsius"; strings.Join(order, " ") != want {
		t.Fatalf("families %v; want %s", order, want)
	}
	// The counter's second metric: labels app, method, code, then value 1030
	// and an exemplar with trace_id.
	var metrics [][]pbField
	for _, f := range families["http_requests_total"] {
		if f.num == 4 {
			metrics = append(metrics, decodePB(t, f.bytes))
		}
	}
	if len(metrics) != 2 {
		t.Fatalf("%d counter metrics; want 2", len(metrics))
	}
	var labels []string
	var counter []pbField
	for _, f := range metrics[0] {
		switch f.num {
		case 1:
			lp := decodePB(t, f.bytes)
			labels = append(labels, string(lp[0].bytes)+"="+string(lp[1].bytes))
		case 3:
			counter = decodePB(t, f.bytes)
		}
	}
	if strings.Join(labels, ",") != "app=demo,method=GET,code=200" {
		t.Errorf("labels %v", labels)
	}
	if len(counter) < 2 || math.Float64frombits(counter[0].value) != 1030 || counter[1].num != 2 {
		t.Fatalf("counter fields %+v", counter)
	}
	ex := decodePB(t, counter[1].bytes)
	lp := decodePB(t, ex[0].bytes)
	if string(lp[0].bytes) != "trace_id" || string(lp[1].bytes) != "4bf92f3577b34da6" || math.Float64frombits(ex[1].value) != 3 {
		t.Errorf("exemplar %+v", ex)
	}
	// The untyped family from the custom collector has type 3.
	for _, f := range families["queue_length"] {
		if f.num == 3 && f.value != uint64(expo.Untyped) {
			t.Errorf("queue_length type %d", f.value)
		}
	}
}

func TestExemplarValidation(t *testing.T) {
	reg := NewRegistry()
	c := Must(NewCounter("c_total", "h", WithRegistry(reg)))
	h := Must(NewHistogram("h", "h", WithRegistry(reg)))
	long := strings.Repeat("x", MaxExemplarRunes)
	c.With(nil).AddWithExemplar(1, Labels{"trace_id": long}) // 136 runes: too many
	c.With(nil).IncWithExemplar(Labels{"bad-name": "1"})
	h.With(nil).ObserveWithExemplar(1, Labels{"ü": "1"})
	c.With(nil).IncWithExemplar(Labels{"__x": "1"})                                   // a reserved name
	c.With(nil).IncWithExemplar(Labels{"t": strings.Repeat("ü", MaxExemplarRunes-1)}) // 128 runes: fine
	if v, _ := c.Get(nil); v != 4 {
		t.Fatalf("counter %v; the adds must count even when their exemplars are dropped", v)
	}
	out := text(t, reg)
	if !strings.Contains(out, `prom_rejected_updates_total{metric="c_total",reason="invalid_exemplar"} 3`) ||
		!strings.Contains(out, `prom_rejected_updates_total{metric="h",reason="invalid_exemplar"} 1`) {
		t.Errorf("refused exemplars not counted:\n%s", out)
	}
	om, _ := reg.Append(context.Background(), nil, FormatOpenMetrics)
	if !strings.Contains(string(om), `c_total 4 # {t="üü`) {
		t.Errorf("the valid exemplar is missing:\n%s", om)
	}
}

func TestUnitValidation(t *testing.T) {
	for _, tt := range []struct {
		name, unit string
		counter    bool
		ok         bool
	}{
		{"latency_seconds", "seconds", false, true},
		{"sent_bytes_total", "bytes", true, true},
		{"latency", "seconds", false, false},
		{"latency_seconds", "bad unit", false, false},
	} {
		var err error
		if tt.counter {
			_, err = NewCounter(tt.name, "h", WithRegistry(nil), WithUnit(tt.unit))
		} else {
			_, err = NewGauge(tt.name, "h", WithRegistry(nil), WithUnit(tt.unit))
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s with unit %q: %v; want ok=%v", tt.name, tt.unit, err, tt.ok)
		}
	}
}

// TestPanicLeavesValidOutput: a GaugeFunc that panics is left out and every
// format stays well-formed.
func TestPanicLeavesValidOutput(t *testing.T) {
	reg := NewRegistry()
	Must(NewGaugeFunc("a_panics", "h", func() float64 { panic("boom") }, WithRegistry(reg)))
	Must(NewGauge("b_fine", "h", WithRegistry(reg))).Set(2)
	for _, f := range []Format{FormatText, FormatOpenMetrics, FormatProtobuf} {
		out, err := reg.Append(context.Background(), nil, f)
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Errorf("%v: error %v; want the panic reported", f, err)
		}
		switch f {
		case FormatProtobuf:
			var names []string
			for b := out; len(b) > 0; {
				l, n := binary.Uvarint(b)
				if n <= 0 || uint64(len(b)-n) < l {
					t.Fatalf("protobuf: malformed % x", out)
				}
				names = append(names, string(decodePB(t, b[n:n+int(l)])[0].bytes))
				b = b[n+int(l):]
			}
			// The registry counts the failure in its own family.
			if strings.Join(names, " ") != "b_fine prom_collector_failures_total" {
				t.Errorf("protobuf families %q", names)
			}
		default:
			if strings.Contains(string(out), "\na_panics") || !strings.Contains(string(out), "b_fine 2\n") {
				t.Errorf("%v:\n%s", f, out)
			}
		}
	}
}

// FuzzProtobuf writes arbitrary label values and numbers and decodes the
// result with the independent decoder.
func FuzzProtobuf(f *testing.F) {
	f.Add("k", "v", "help", 1.5, uint8(3))
	f.Add("k", "\xff\n\"", "", math.NaN(), uint8(200))
	f.Fuzz(func(t *testing.T, name, value, help string, v float64, n uint8) {
		reg := NewRegistry()
		c, err := NewCounter("c_total", help, WithRegistry(reg))
		if err != nil {
			t.Fatal(err)
		}
		h := Must(NewHistogram("h", help, WithRegistry(reg)))
		l := Labels{name: value}
		for i := 0; i < int(n); i++ {
			c.With(l).Add(v)
			h.With(l).Observe(v * float64(i))
		}
		out, err := reg.Append(context.Background(), nil, FormatProtobuf)
		if err != nil {
			t.Fatal(err)
		}
		families := 0
		for len(out) > 0 {
			size, k := binary.Uvarint(out)
			if k <= 0 || uint64(len(out)-k) < size {
				t.Fatalf("bad delimiter")
			}
			for _, fl := range decodePB(t, out[k:k+int(size)]) {
				if fl.num == 4 {
					for _, m := range decodePB(t, fl.bytes) {
						if m.wire == 2 {
							decodePB(t, m.bytes)
						}
					}
				}
			}
			out = out[k+int(size):]
			families++
		}
		if families == 0 && n > 0 && labelNameRE.MatchString(name) && !strings.HasPrefix(name, "__") && name != "le" && name != OverflowLabel {
			t.Fatal("no family written")
		}
	})
}

// TestCancelledScrapeStaysWellFormed: a scrape cut short by its context
// still ends every format properly.
func TestCancelledScrapeStaysWellFormed(t *testing.T) {
	reg := fixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, f := range []Format{FormatOpenMetrics, FormatProtobuf} {
		out, err := reg.Append(ctx, nil, f)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%v: error %v; want context.Canceled", f, err)
		}
		if f == FormatOpenMetrics && !strings.HasSuffix(string(out), "# EOF\n") {
			t.Errorf("OpenMetrics output lacks # EOF: %q", out)
		}
		for b := out; f == FormatProtobuf && len(b) > 0; {
			l, n := binary.Uvarint(b)
			if n <= 0 || uint64(len(b)-n) < l {
				t.Fatalf("%v: malformed output % x", f, out)
			}
			b = b[n+int(l):]
		}
	}
}

// TestOpenMetricsCounterSemantics: negative and NaN observations leave out
// exactly the samples OpenMetrics forbids, and the strict parser accepts
// what remains.
func TestOpenMetricsCounterSemantics(t *testing.T) {
	reg := NewRegistry()
	Must(NewHistogram("nan_seconds", "h", WithRegistry(reg), WithBuckets(1))).Observe(math.NaN())
	Must(NewHistogram("neg_seconds", "h", WithRegistry(reg), WithBuckets(1))).Observe(-2)
	Must(NewHistogram("negbound", "h", WithRegistry(reg), WithBuckets(-1, 1))).Observe(0.5)
	Must(NewHistogram("fine_seconds", "h", WithRegistry(reg), WithBuckets(1))).Observe(0.5)
	s := Must(NewSummary("temp", "h", WithRegistry(reg), WithObjectives(Objective{0.5, 0.05}, Objective{0.99, 0.001})))
	for _, v := range []float64{-10, -9, -8, 5} {
		s.Observe(v)
	}
	out, err := reg.Append(context.Background(), nil, FormatOpenMetrics)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, absent := range []string{"nan_seconds_sum", "nan_seconds_count", "neg_seconds_sum", "neg_seconds_count", "negbound_sum", "negbound_count", "temp_sum", `temp{quantile="0.5"}`} {
		if strings.Contains(got, absent) {
			t.Errorf("OpenMetrics output holds %s:\n%s", absent, got)
		}
	}
	for _, present := range []string{"fine_seconds_sum 0.5", "fine_seconds_count 1", `nan_seconds_bucket{le="+Inf"} 1`, `temp{quantile="0.99"} 5`, "temp_count 4"} {
		if !strings.Contains(got, present) {
			t.Errorf("OpenMetrics output lacks %s:\n%s", present, got)
		}
	}
	txt := text(t, reg)
	if !strings.Contains(txt, "neg_seconds_sum -2") || !strings.Contains(txt, "temp_sum -22") {
		t.Errorf("the text format must keep what OpenMetrics leaves out:\n%s", txt)
	}
	strictOpenMetrics(t, out)
}
