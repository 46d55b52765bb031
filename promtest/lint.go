package promtest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is an issue the linter found with a metric family, as
// `promtool check metrics` reports it.
type Problem struct {
	Metric string // the family's name
	Text   string // what is wrong, in promtool's words
}

// String formats the problem as promtool prints it: the metric name, a
// space, the text.
func (p Problem) String() string { return p.Metric + " " + p.Text }

// Lint checks an exposition in the text format with the rules that
// `promtool check metrics` applies (its promlint package, as in Prometheus
// 3 and client_golang's testutil/promlint), and returns the problems
// sorted by metric name and text; none means the metrics pass. Text that
// does not parse is an error, as it is for promtool. The rules:
//
//   - every family has a HELP line with some text ("no help text");
//   - a name that holds a unit uses the base unit: seconds, not
//     milliseconds or minutes; bytes, not bits or kilobytes ("use base
//     unit ...");
//   - counters end in _total, and other typed families do not;
//   - _bucket is a histogram's suffix, _count and _sum a histogram's or a
//     summary's, le a histogram's label and quantile a summary's;
//   - a name does not hold its own type ("metric name should not include
//     type ...");
//   - names hold no colon, which is for recording rules;
//   - metric and label names are snake_case, not camelCase;
//   - names hold no abbreviated unit such as _ms, _sec or _kb;
//   - no series appears twice ("metric not unique").
//
// Untyped families are spared the rules about types and suffixes, and
// families without samples (a HELP or TYPE line alone) are not linted.
func Lint(text []byte) ([]Problem, error) {
	fams, err := Parse(text)
	if err != nil {
		return nil, err
	}
	return lintFamilies(fams), nil
}

func lintFamilies(fams []*Family) []Problem {
	var problems []Problem
	for _, f := range fams {
		if len(f.Samples) == 0 {
			continue // as promtool, whose parser drops such families
		}
		problems = append(problems, lintFamily(f)...)
	}
	slices.SortStableFunc(problems, func(a, b Problem) int {
		return cmp.Or(strings.Compare(a.Metric, b.Metric), strings.Compare(a.Text, b.Text))
	})
	return problems
}

func lintFamily(f *Family) []Problem {
	var texts []string
	add := func(format string, args ...any) { texts = append(texts, fmt.Sprintf(format, args...)) }
	name, lower := f.Name, strings.ToLower(f.Name)
	typed := f.Type != TypeUntyped
	all := f.series()

	if f.Help == "" { // no HELP line, or an empty one: promtool says the same
		add("no help text")
	}

	if unit, base, ok := metricUnit(name); ok && unit != base {
		add("use base unit %q instead of %q", base, unit)
	}

	total := strings.HasSuffix(name, "_total")
	switch {
	case f.Type == TypeCounter && !total:
		add(`counter metrics should have "_total" suffix`)
	case typed && f.Type != TypeCounter && total:
		add(`non-counter metrics should not have "_total" suffix`)
	}

	if typed {
		hist, summary := f.Type == TypeHistogram, f.Type == TypeSummary
		if !hist && strings.HasSuffix(name, "_bucket") {
			add(`non-histogram metrics should not have "_bucket" suffix`)
		}
		if !hist && !summary && strings.HasSuffix(name, "_count") {
			add(`non-histogram and non-summary metrics should not have "_count" suffix`)
		}
		if !hist && !summary && strings.HasSuffix(name, "_sum") {
			add(`non-histogram and non-summary metrics should not have "_sum" suffix`)
		}
		for _, sr := range all {
			for _, l := range sr.labels {
				if !hist && l == "le" {
					add(`non-histogram metrics should not have "le" label`)
				}
				if !summary && l == "quantile" {
					add(`non-summary metrics should not have "quantile" label`)
				}
			}
		}
		if strings.Contains(lower, "_"+f.Type+"_") || strings.HasSuffix(lower, "_"+f.Type) {
			add("metric name should not include type '%s'", f.Type)
		}
	}

	if strings.Contains(name, ":") {
		add("metric names should not contain ':'")
	}

	if hasCamelCase(name) {
		add("metric names should be written in 'snake_case' not 'camelCase'")
	}
	for _, sr := range all {
		for _, l := range sr.labels {
			if hasCamelCase(l) {
				add("label names should be written in 'snake_case' not 'camelCase'")
			}
		}
	}

	for _, abbr := range unitAbbreviations {
		if strings.Contains(lower, "_"+abbr+"_") || strings.HasSuffix(lower, "_"+abbr) {
			add("metric names should not contain abbreviated units")
		}
	}

	// One problem for each series that appears again later.
	seen := make(map[string]bool, len(all))
	for _, sr := range all {
		if seen[sr.key] {
			add("metric not unique")
		}
		seen[sr.key] = true
	}

	problems := make([]Problem, len(texts))
	for i, t := range texts {
		problems[i] = Problem{Metric: name, Text: t}
	}
	return problems
}

// series is one series of a family as Prometheus groups samples.
type series struct {
	labels []string // label names, le or quantile left out, sorted
	key    string   // the label set, to find duplicates
}

// series returns the series of f: one per sample for counters, gauges and
// untyped families; one per label set (le or quantile left out) for
// histograms and summaries, whose samples of one label set form a series.
func (f *Family) series() []series {
	var skip string
	switch f.Type {
	case TypeHistogram:
		skip = "le"
	case TypeSummary:
		skip = "quantile"
	}
	var out []series
	seen := map[string]bool{}
	for _, s := range f.Samples {
		key := formatLabels(s.Labels, skip)
		if skip != "" {
			if seen[key] {
				continue
			}
			seen[key] = true
		}
		names := make([]string, 0, len(s.Labels))
		for n := range s.Labels {
			if n != skip {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		out = append(out, series{labels: names, key: key})
	}
	return out
}

// hasCamelCase reports whether s holds a lower-case letter followed by an
// upper-case one.
func hasCamelCase(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i-1] >= 'a' && s[i-1] <= 'z' && s[i] >= 'A' && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// metricUnit finds the first underscore-separated part of name that is a
// known unit, with or without an SI or binary prefix, and returns it with
// its base unit.
func metricUnit(name string) (unit, base string, ok bool) {
	for part := range strings.SplitSeq(name, "_") {
		if base, ok := baseUnits[part]; ok {
			return part, base, true
		}
		for _, p := range unitPrefixes {
			if rest, ok := strings.CutPrefix(part, p); ok {
				if base, ok := baseUnits[rest]; ok {
					return part, base, true
				}
			}
		}
	}
	return "", "", false
}

// The units promlint knows, each with its base unit, the prefixes it
// recognises, and the abbreviations it discourages.
var (
	baseUnits = map[string]string{
		"amperes": "amperes",
		"bytes":   "bytes",
		"celsius": "celsius",
		"grams":   "grams",
		"joules":  "joules",
		"kelvin":  "kelvin",
		"meters":  "meters",
		"metres":  "metres",
		"seconds": "seconds",
		"volts":   "volts",

		"minutes":    "seconds",
		"hours":      "seconds",
		"days":       "seconds",
		"weeks":      "seconds",
		"kelvins":    "kelvin",
		"fahrenheit": "celsius",
		"rankine":    "celsius",
		"inches":     "meters",
		"yards":      "meters",
		"miles":      "meters",
		"bits":       "bytes",
		"calories":   "joules",
		"pounds":     "grams",
		"ounces":     "grams",
	}
	unitPrefixes = []string{
		"pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto",
		"kilo", "kibi", "mega", "mebi", "giga", "gibi", "tera", "tebi",
		"peta", "pebi",
	}
	unitAbbreviations = []string{
		"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb",
		"m", "h", "d",
	}
)
