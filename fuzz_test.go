package prom

import (
	"context"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

func FuzzNames(f *testing.F) {
	for _, s := range []string{"a", "_a", ":a", "a:b", "9a", "a-b", "", "__x", "le", "ä", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := validMetricName(s), metricNameRE.MatchString(s); got != want {
			t.Fatalf("validMetricName(%q) = %v; the regexp says %v", s, got, want)
		}
		if got, want := validLabelName(s), labelNameRE.MatchString(s); got != want {
			t.Fatalf("validLabelName(%q) = %v; the regexp says %v", s, got, want)
		}
		err := checkLabelName("m", s, "le")
		if want := labelNameRE.MatchString(s) && !strings.HasPrefix(s, "__") && s != "le"; (err == nil) != want {
			t.Fatalf("checkLabelName(%q) = %v; want ok=%v", s, err, want)
		}
	})
}

// parsedSample is one sample line of the text format, read by a parser
// written apart from the encoder.
type parsedSample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseTextLine reads `name{a="x",...} value`.
func parseTextLine(line string) (parsedSample, bool) {
	p := parsedSample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i <= 0 {
		return p, false
	}
	p.name, line = line[:i], line[i:]
	if line[0] == '{' {
		line = line[1:]
		for line != "" && line[0] != '}' {
			eq := strings.Index(line, `="`)
			if eq <= 0 {
				return p, false
			}
			name := line[:eq]
			line = line[eq+2:]
			var v strings.Builder
			for {
				if line == "" {
					return p, false
				}
				c := line[0]
				line = line[1:]
				if c == '"' {
					break
				}
				if c == '\n' {
					return p, false
				}
				if c == '\\' {
					if line == "" {
						return p, false
					}
					switch line[0] {
					case 'n':
						c = '\n'
					case '\\', '"':
						c = line[0]
					default:
						return p, false
					}
					line = line[1:]
				}
				v.WriteByte(c)
			}
			p.labels[name] = v.String()
			line = strings.TrimPrefix(line, ",")
		}
		if line == "" {
			return p, false
		}
		line = line[1:]
	}
	if len(line) < 2 || line[0] != ' ' {
		return p, false
	}
	s := line[1:]
	switch s {
	case "+Inf":
		p.value = math.Inf(1)
	case "-Inf":
		p.value = math.Inf(-1)
	case "NaN":
		p.value = math.NaN()
	default:
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return p, false
		}
		p.value = v
	}
	return p, true
}

// FuzzTextExposition writes arbitrary label values, help text and values
// through every metric type and reads the exposition back.
func FuzzTextExposition(f *testing.F) {
	f.Add("kind", "value", "help", 1.5)
	f.Add("k", "quote\" back\\ nl\n", "help \\ \n", -2.0)
	f.Add("k", "\xff\xfe", "\xff", math.Inf(1))
	f.Add("__bad", "", "", math.NaN())
	f.Add("le", "0.5", "h", 1e21)
	f.Add(OverflowLabel, "true", "h", 1.0)
	f.Fuzz(func(t *testing.T, name, value, help string, v float64) {
		reg := NewRegistry()
		c := Must(NewCounter("c_total", help, WithRegistry(reg)))
		g := Must(NewGauge("g", help, WithRegistry(reg)))
		h := Must(NewHistogram("h", help, WithRegistry(reg), WithBuckets(0, 1)))
		s := Must(NewSummary("s", help, WithRegistry(reg)))
		l := Labels{name: value}
		_, err := c.Bind(l)
		valid := labelNameRE.MatchString(name) && !strings.HasPrefix(name, "__") && name != OverflowLabel
		if (err == nil) != valid {
			t.Fatalf("Bind(%q) = %v; want ok=%v", name, err, valid)
		}
		c.With(l).Add(v)
		g.With(l).Set(v)
		h.With(l).Observe(v)
		s.With(l).Observe(v)
		out, err := reg.Append(context.Background(), nil, FormatText)
		if err != nil {
			t.Fatal(err)
		}
		wantValue := replaceBadBytes(value)
		for _, line := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			if strings.HasPrefix(line, "# HELP ") || strings.HasPrefix(line, "# TYPE ") {
				continue
			}
			p, ok := parseTextLine(line)
			if !ok {
				t.Fatalf("unreadable line %q in\n%s", line, out)
			}
			if p.name == selfMetric {
				continue
			}
			if got, ok := p.labels[name]; valid && ok && got != wantValue {
				t.Fatalf("label %s=%q reads back as %q", name, wantValue, got)
			}
			if p.name == "g" && p.value != v && !(math.IsNaN(v) && math.IsNaN(p.value)) {
				t.Fatalf("gauge %v reads back as %v", v, p.value)
			}
		}
	})
}

func replaceBadBytes(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
	}
	return b.String()
}
