package bench

// FuzzFormatsAgree builds a prom registry from a fuzzed label name and
// value, help text and three numbers: a counter (named with or without
// _total), a gauge, a histogram and a summary, each with the fuzzed label
// and help, a counter exemplar and a bucket exemplar whose label holds the
// fuzzed value. It renders text 0.0.4, OpenMetrics 1.0 and protobuf, decodes
// each with the reference decoders (expfmt's text parser, its OpenMetrics
// decoder and its delimited-protobuf decoder into client_model's
// dto.MetricFamily), and requires in all three formats the same families
// (as each format names them), types, help, label sets and values, equal to
// what prom's Get reports; in OpenMetrics and protobuf the same exemplars,
// equal to what the updates left, with plausible timestamps; in protobuf a
// plausible created timestamp on every series. Inputs that prom rightly
// rejects (a label name that Bind refuses) are skipped, after checking that
// the refusal is right.
//
// OpenMetrics is decoded by expfmt in every iteration whose lines are
// short, and the samples it must leave out (a NaN or negative _sum, a
// negative quantile) are checked and completed by fillOmissions. It is skipped for an input only when its
// output cannot parse for a known reason outside prom:
//   - an exemplar whose value is not finite, which expfmt's decoder refuses
//     although the OpenMetrics ABNF allows it (exemplar-value = number), or
//   - a HELP text that ends in a carriage return, which expfmt's decoder
//     refuses (it takes it for a CRLF line end) although the ABNF allows it
//     and the Python parser reads it,
//
// and inputs longer than 160 bytes are skipped, and OpenMetrics is not
// decoded for inputs that make long lines (escapedLen), because expfmt's
// decoder is superlinear in line length (see omOddValues).

import (
	"context"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/promgo/prom"
)

var legacyLabelName = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func FuzzFormatsAgree(f *testing.F) {
	f.Add("method", "GET", "Requests served.", false, 1.0, 2.5, 0.7)
	f.Add("path", "ünï \"q\" \\ \n\t\xff }{,=", "back\\slash \"quotes\"\nnewline \xff", true, 1e21, 5e-324, 3.0)
	f.Add("le", "x", "", false, 0.0, 0.0, 0.0)
	f.Add("quantile", "x", "h", false, 1.0, 1.0, 1.0)
	f.Add("__name__", "x", "h", true, 1.0, 1.0, 1.0)
	f.Add("0day", "x", "h", false, 1.0, 1.0, 1.0)
	f.Add("_", "", "# HELP x y", true, math.MaxFloat64, math.Inf(1), math.NaN())
	f.Add("trace_id", strings.Repeat("é", 60), "exemplar of 68 runes", false, 3.0, -1.0, math.Copysign(0, -1))
	f.Add("trace_id", strings.Repeat("x", 121), "exemplar of 129 runes: dropped", false, 3.0, 0.7, 2.0)
	f.Add("neg", "v", "all negative", false, -1.0, -2.0, -3.0)
	f.Add("Z9", "v", "h", true, -5.0, 0.5, 10.0)
	f.Add("prom_overflow", "true", "h", false, 1.0, 1.0, 1.0)
	f.Fuzz(func(t *testing.T, name, value, help string, bare bool, a, b, c float64) {
		if len(name) > 160 || len(value) > 160 || len(help) > 160 {
			// Its parser takes seconds on a label name of 2,500 bytes
			// (testdata/fuzz/FuzzFormatsAgree/06b5cab6c63bb5e4: 10 s, and a
			// fuzz run that found it timed out minimising it).
			t.Skip("longer than expfmt's OpenMetrics decoder handles quickly")
		}
		// Lines that expfmt's OpenMetrics decoder would take long over are
		// checked in text and protobuf only: 0.27 s for a sample line of
		// about 250 bytes (a value of 121 bytes, in the sample's labels and
		// its exemplar's), against 0.03 s for the median input; on a fresh
		// machine, inputs the fuzzer had grown to that length made a run of
		// 100000 take two and a half minutes.
		decodeOM := len(name)+2*escapedLen(value) <= 128 && escapedLen(help) <= 128
		since := time.Now()
		reg := prom.NewRegistry()
		in := prom.WithRegistry(reg)
		cname := "fz_events_total"
		if bare {
			cname = "fz_events"
		}
		counter, err := prom.NewCounter(cname, help, in)
		if err != nil {
			t.Fatalf("NewCounter(help %q): %v", help, err)
		}
		gauge := prom.Must(prom.NewGauge("fz_level", help, in))
		hist := prom.Must(prom.NewHistogram("fz_latency_seconds", help, in, prom.WithUnit("seconds"), prom.WithBuckets(0.5, 1, 10)))
		sum := prom.Must(prom.NewSummary("fz_size_bytes", help, in, prom.WithUnit("bytes"),
			prom.WithObjectives(prom.Objective{Quantile: 0.5, Epsilon: 0.05}, prom.Objective{Quantile: 0.9, Epsilon: 0.01})))

		labels := prom.Labels{name: value}
		valid := legacyLabelName.MatchString(name) && !strings.HasPrefix(name, "__") && name != prom.OverflowLabel
		cs, errC := counter.Bind(labels)
		gs, errG := gauge.Bind(labels)
		hs, errH := hist.Bind(labels)
		ss, errS := sum.Bind(labels)
		for _, r := range []struct {
			metric string
			err    error
			want   bool
		}{
			{"counter", errC, valid}, {"gauge", errG, valid},
			{"histogram", errH, valid && name != "le"}, {"summary", errS, valid && name != "quantile"},
		} {
			if (r.err == nil) != r.want {
				t.Fatalf("%s Bind(%q): error %v, but the name is valid: %v", r.metric, name, r.err, r.want)
			}
		}
		if errC != nil || errG != nil || errH != nil || errS != nil {
			t.Skip("label name rightly rejected")
		}

		exLabels := prom.Labels{"trace_id": value}
		exFits := utf8.RuneCountInString("trace_id")+utf8.RuneCountInString(value) <= prom.MaxExemplarRunes
		cs.AddWithExemplar(a, exLabels)
		gs.Set(a)
		gs.Add(b)
		hs.Observe(a)
		hs.ObserveWithExemplar(b, exLabels)
		hs.Observe(c)
		for _, v := range []float64{a, b, c} {
			ss.Observe(v)
		}

		// What prom's API says, formatted like the decoded families.
		full := prom.Labels{name: repaired(value)}
		key := func(family string) string { return family + "{" + seriesKey(full) + "}" }
		cv, _ := counter.Get(labels)
		gv, _ := gauge.Get(labels)
		hv, _ := hist.Get(labels)
		sv, _ := sum.Get(labels)
		want := map[string]string{
			key(cname):                formatFloat(cv),
			key("fz_level"):           formatFloat(gv),
			key("fz_latency_seconds"): formatHistogramValue(hv),
			key("fz_size_bytes"):      formatSummaryValue(sv, true),
		}
		types := map[string]dto.MetricType{
			cname: dto.MetricType_COUNTER, "fz_level": dto.MetricType_GAUGE,
			"fz_latency_seconds": dto.MetricType_HISTOGRAM, "fz_size_bytes": dto.MetricType_SUMMARY,
		}
		units := map[string]string{"fz_latency_seconds": "seconds", "fz_size_bytes": "bytes"}
		wantEx := map[string]string{}
		if a >= 0 && exFits {
			wantEx[key(cname)] = formatExemplar(map[string]string{"trace_id": repaired(value)}, a)
		}
		if exFits {
			le := math.Inf(1)
			if i := slices.IndexFunc([]float64{0.5, 1, 10}, func(bd float64) bool { return b <= bd }); i >= 0 {
				le = []float64{0.5, 1, 10}[i]
			}
			wantEx[exemplarKey(key("fz_latency_seconds"), le, true)] = formatExemplar(map[string]string{"trace_id": repaired(value)}, b)
		}

		render := func(f prom.Format) []byte {
			body, err := reg.Append(context.Background(), nil, f)
			if err != nil {
				t.Fatalf("Append(%v): %v", f, err)
			}
			return body
		}
		textBody, omBody, pbBody := render(prom.FormatText), render(prom.FormatOpenMetrics), render(prom.FormatProtobuf)
		until := time.Now()

		// check compares one format's decoded families with what prom says
		// and with the text format's. Refused updates (a negative increment,
		// an exemplar too long) add prom's own counter of them, which only
		// has to agree across the formats.
		var p problems
		var textGot map[string]string
		check := func(format string, fams map[string]*dto.MetricFamily, x *extras) {
			renamed := map[string]string{ // as the format names it -> registered name
				"prom_rejected_updates_total": "prom_rejected_updates_total",
			}
			for n := range types {
				renamed[n] = n
			}
			if format == "OpenMetrics" {
				delete(renamed, cname)
				renamed[strings.TrimSuffix(cname, "_total")+"_total"] = cname
			}
			// Text 0.0.4 cannot carry a HELP's leading blanks: the parser
			// skips them (as it does client_golang's identical output).
			wantHelp := strings.ReplaceAll(strings.ReplaceAll(repaired(help), "\r\n", "\n"), "\r", "\n") // prom turns a help text's \r\n and \r into \n
			if format == "text" {
				wantHelp = strings.TrimLeft(wantHelp, " \t")
			}
			got := map[string]string{}
			for fname, mf := range fams {
				registered, ok := renamed[fname]
				if !ok {
					p.addf("%s: unexpected family %s", format, fname)
					continue
				}
				if typ, ok := types[registered]; ok && (mf.GetType() != typ || mf.GetHelp() != wantHelp) {
					p.addf("%s: family %s: type %v help %q, want %v %q", format, fname, mf.GetType(), mf.GetHelp(), typ, wantHelp)
				}
				got["# "+registered] = fmt.Sprintf("type=%v help=%q", mf.GetType(), strings.TrimLeft(mf.GetHelp(), " \t"))
				for _, m := range mf.GetMetric() {
					got[registered+"{"+seriesKey(labelsOf(m))+"}"] = formatMetric(mf.GetType(), m, true)
				}
			}
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if got[k] != want[k] {
					p.addf("%s: %s is %q, Get says %q", format, k, got[k], want[k])
				}
			}
			if textGot == nil {
				textGot = got
			} else if !maps.Equal(got, textGot) {
				p.addf("%s and text differ:\n%s: %v\ntext: %v", format, format, got, textGot)
			}
			if x == nil {
				return
			}
			for n, u := range units {
				if x.units[n] != u {
					p.addf("%s: family %s has unit %q, want %q", format, n, x.units[n], u)
				}
			}
			if len(x.units) != len(units) {
				p.addf("%s: units %v, want %v", format, x.units, units)
			}
			gotEx := map[string]string{}
			for k, e := range x.exemplars {
				if rest, ok := strings.CutPrefix(k, strings.TrimSuffix(cname, "_total")+"_total{"); ok {
					k = cname + "{" + rest // OpenMetrics' name of a bare counter
				}
				gotEx[k] = formatDecodedExemplar(e)
				if why := implausible(e.GetTimestamp(), since, until); why != "" {
					p.addf("%s: exemplar of %s: timestamp %s", format, k, why)
				}
			}
			for k, w := range wantEx {
				if gotEx[k] != w {
					p.addf("%s: exemplar of %s is %q, want %q", format, k, gotEx[k], w)
				}
			}
			if len(gotEx) != len(wantEx) {
				p.addf("%s: exemplars %v, want %v", format, gotEx, wantEx)
			}
		}

		textFams, err := parseText(textBody)
		if err != nil {
			t.Fatalf("text does not parse: %v\n%s", err, textBody)
		}
		check("text", textFams, nil)

		pbFams, err := decodeAll(pbBody, fmtProto)
		if err != nil {
			t.Fatalf("protobuf does not decode: %v", err)
		}
		pbNorm, pbX := normalize(&p, "protobuf", pbFams, true)
		check("protobuf", pbNorm, &pbX)
		for n, mf := range pbNorm {
			for _, m := range mf.GetMetric() {
				id := seriesID(n, m)
				if typ, ok := types[n]; !ok || typ == dto.MetricType_GAUGE {
					continue // a gauge, or written through a MetricWriter, which takes no created time
				}
				if why := implausible(pbX.created[id], since, until); pbX.created[id] == nil || why != "" {
					p.addf("protobuf: %s: created timestamp %v %s", id, pbX.created[id], why)
				}
			}
		}

		var omFams map[string]*dto.MetricFamily
		if decodeOM {
			omFams, err = decodeAll(omBody, fmtOM)
		}
		switch {
		case !decodeOM:
		case err == nil:
			omNorm, omX := normalize(&p, "OpenMetrics", omFams, false)
			fillOmissions(&p, "OpenMetrics", omNorm, func(family string, _ *dto.Metric) (any, bool) {
				switch family {
				case "fz_latency_seconds":
					return hv, true
				case "fz_size_bytes":
					return sv, true
				}
				return nil, false
			})
			check("OpenMetrics", omNorm, &omX)
			if len(omX.created) != 0 {
				p.addf("OpenMetrics: created timestamps via Append: %v", omX.created)
			}
		case exFits && (math.IsInf(b, 0) || math.IsNaN(b) || math.IsInf(a, 1)) || strings.HasSuffix(repaired(help), "\r"):
			t.Logf("OpenMetrics left out: expfmt refuses what the OpenMetrics ABNF allows: %v", err)
		default:
			p.addf("OpenMetrics does not parse: %v\n%s", err, omBody)
		}

		for _, pr := range p {
			t.Error(shorten(pr))
		}
		if t.Failed() {
			t.Logf("inputs: name %q value %q help %q bare %v numbers %v %v %v\ntext:\n%s", name, value, help, bare, a, b, c, textBody)
		}
	})
}

// escapedLen is the length of s as a label value or help text in the
// OpenMetrics output, at most: invalid UTF-8 becomes U+FFFD (3 bytes), and
// a quote, backslash or newline takes a backslash.
func escapedLen(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			n += 3
		case r == '"' || r == '\\' || r == '\n':
			n += 2
		default:
			n += utf8.RuneLen(r)
		}
	}
	return n
}
