package promtest

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Option adjusts a comparison; the zero set compares every family with its
// HELP and TYPE lines.
type Option func(*options)

type options struct {
	only           map[string]bool
	ignoreHelp     bool
	ignoreMetadata bool
}

// Only compares just the families with these names (a histogram's or
// summary's name without its suffixes), on both sides; the rest of the
// exposition may hold anything. Several Only options add up.
func Only(names ...string) Option {
	return func(o *options) {
		if o.only == nil {
			o.only = map[string]bool{}
		}
		for _, n := range names {
			o.only[n] = true
		}
	}
}

// IgnoreHelp leaves HELP lines out of the comparison, so expected text may
// omit them or word them differently.
func IgnoreHelp() Option {
	return func(o *options) { o.ignoreHelp = true }
}

// IgnoreMetadata compares the sample lines alone, leaving out HELP and
// TYPE: expected text then needs no comment line at all.
func IgnoreMetadata() Option {
	return func(o *options) { o.ignoreMetadata = true }
}

// CompareText compares two expositions in the text format, got and want,
// and returns nil when they hold the same families, metadata and samples
// in any order; otherwise an error with a line diff (-want +got) of their
// normalised forms. Values compare as numbers ("1" equals "1.0", "-0"
// equals "0", NaN equals NaN), label sets whatever their order, and help texts after
// unescaping. Lines that cannot be parsed are an error.
func CompareText(got, want []byte, opts ...Option) error {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	gotFams, err := Parse(got)
	if err != nil {
		return fmt.Errorf("promtest: parsing the metrics: %w", err)
	}
	wantFams, err := Parse(want)
	if err != nil {
		return fmt.Errorf("promtest: parsing the expected text: %w", err)
	}
	g, w := normalise(gotFams, &o), normalise(wantFams, &o)
	if slices.Equal(g, w) {
		return nil
	}
	return &DiffError{Diff: diff(w, g)}
}

// DiffError is the error of a failed comparison. Its message holds the
// diff.
type DiffError struct {
	// Diff lists the normalised lines that differ, - for expected lines
	// missing from the metrics and + for lines the metrics have in
	// excess, with a little unchanged context.
	Diff string
}

// Error returns the diff under a heading.
func (e *DiffError) Error() string {
	return "promtest: metrics differ (-want +got):\n" + e.Diff
}

// normalise renders families as sorted lines: each family's HELP and TYPE,
// then its samples in a stable order (label sets, then buckets and
// quantiles by bound).
func normalise(fams []*Family, o *options) []string {
	fams = slices.Clone(fams)
	fams = slices.DeleteFunc(fams, func(f *Family) bool { return !o.wants(f) })
	slices.SortFunc(fams, func(a, b *Family) int { return strings.Compare(a.Name, b.Name) })

	var lines []string
	if o.ignoreMetadata {
		var all []Sample
		for _, f := range fams {
			all = append(all, f.Samples...)
		}
		return appendSamples(lines, all)
	}
	for _, f := range fams {
		if f.HasHelp && !o.ignoreHelp {
			lines = append(lines, "# HELP "+f.Name+" "+escapeHelp(f.Help))
		}
		if f.HasType {
			lines = append(lines, "# TYPE "+f.Name+" "+f.Type)
		}
		lines = appendSamples(lines, f.Samples)
	}
	return lines
}

// wants reports whether the Only options keep f. A family known only from
// its samples (no TYPE line, as in expected text written without metadata)
// is kept when its name is a wanted name plus a histogram or summary
// suffix.
func (o *options) wants(f *Family) bool {
	if o.only == nil || o.only[f.Name] {
		return true
	}
	if f.HasType {
		return false
	}
	for _, suffix := range [...]string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(f.Name, suffix); ok && o.only[base] {
			return true
		}
	}
	return false
}

type sortedSample struct {
	series string  // the name and labels without le and quantile
	rank   int     // buckets and quantiles, then _sum, then _count
	bound  float64 // le or quantile
	line   string
}

func appendSamples(lines []string, samples []Sample) []string {
	sorted := make([]sortedSample, 0, len(samples))
	for _, s := range samples {
		base, rank := s.Name, 0
		if b, ok := strings.CutSuffix(base, "_bucket"); ok {
			base = b
		} else if b, ok := strings.CutSuffix(base, "_sum"); ok {
			base, rank = b, 1
		} else if b, ok := strings.CutSuffix(base, "_count"); ok {
			base, rank = b, 2
		}
		bound := math.Inf(-1)
		for _, k := range [...]string{"le", "quantile"} {
			if v, ok := s.Labels[k]; ok {
				if f, err := parseFloat(v); err == nil {
					bound = f
				}
			}
		}
		sorted = append(sorted, sortedSample{
			series: base + formatLabels(s.Labels, "le", "quantile"),
			rank:   rank,
			bound:  bound,
			line:   formatSample(s),
		})
	}
	slices.SortStableFunc(sorted, func(a, b sortedSample) int {
		return cmp.Or(strings.Compare(a.series, b.series), cmp.Compare(a.rank, b.rank),
			cmp.Compare(a.bound, b.bound), strings.Compare(a.line, b.line))
	})
	for _, s := range sorted {
		lines = append(lines, s.line)
	}
	return lines
}

// formatSample renders a sample canonically: labels sorted by name,
// numbers in Go's shortest form.
func formatSample(s Sample) string {
	line := s.Name + formatLabels(s.Labels) + " " + formatFloat(s.Value)
	if s.HasTimestamp {
		line += " " + strconv.FormatInt(s.Timestamp, 10)
	}
	return line
}

// formatLabels renders labels as {a="1",b="2"}, sorted, leaving out the
// names in skip and labels with an empty value, which Prometheus reads as
// no label; no labels render as "".
func formatLabels(labels map[string]string, skip ...string) string {
	names := make([]string, 0, len(labels))
	for n, v := range labels {
		if v != "" && !slices.Contains(skip, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return ""
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
		b.WriteString(`="`)
		b.WriteString(escapeLabelValue(labels[n]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

func formatFloat(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == 0:
		return "0" // -0 too: it equals 0 as a number
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string       { return helpEscaper.Replace(s) }
func escapeLabelValue(s string) string { return labelEscaper.Replace(s) }

// diffContext is how many unchanged lines the diff shows around a change.
const diffContext = 2

// diff returns a line diff from want to got: a longest common subsequence
// of the lines, the rest marked - (want only) and + (got only), with up to
// diffContext unchanged lines around each change and "..." for the lines
// skipped.
func diff(want, got []string) string {
	type op struct {
		kind byte // ' ', '-', '+'
		line string
	}
	// Trim the common prefix and suffix, then run the quadratic LCS on
	// the middle only.
	pre := 0
	for pre < len(want) && pre < len(got) && want[pre] == got[pre] {
		pre++
	}
	suf := 0
	for suf < len(want)-pre && suf < len(got)-pre && want[len(want)-1-suf] == got[len(got)-1-suf] {
		suf++
	}
	w, g := want[pre:len(want)-suf], got[pre:len(got)-suf]

	var ops []op
	for _, l := range want[:pre] {
		ops = append(ops, op{' ', l})
	}
	if len(w)*len(g) > 4<<20 { // too big for the table: all out, all in
		for _, l := range w {
			ops = append(ops, op{'-', l})
		}
		for _, l := range g {
			ops = append(ops, op{'+', l})
		}
	} else {
		// lcs[i][j] is the LCS length of w[i:] and g[j:].
		lcs := make([][]int, len(w)+1)
		for i := range lcs {
			lcs[i] = make([]int, len(g)+1)
		}
		for i := len(w) - 1; i >= 0; i-- {
			for j := len(g) - 1; j >= 0; j-- {
				if w[i] == g[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(w) || j < len(g) {
			switch {
			case i < len(w) && j < len(g) && w[i] == g[j]:
				ops = append(ops, op{' ', w[i]})
				i, j = i+1, j+1
			case i < len(w) && (j == len(g) || lcs[i+1][j] >= lcs[i][j+1]):
				ops = append(ops, op{'-', w[i]})
				i++
			default:
				ops = append(ops, op{'+', g[j]})
				j++
			}
		}
	}
	for _, l := range want[len(want)-suf:] {
		ops = append(ops, op{' ', l})
	}

	// Keep changes and the context around them.
	keep := make([]bool, len(ops))
	for i, o := range ops {
		if o.kind != ' ' {
			for k := max(0, i-diffContext); k <= min(len(ops)-1, i+diffContext); k++ {
				keep[k] = true
			}
		}
	}
	var b strings.Builder
	skipped := false
	for i, o := range ops {
		if !keep[i] {
			skipped = true
			continue
		}
		if skipped {
			b.WriteString("  ...\n")
			skipped = false
		}
		b.WriteByte(o.kind)
		b.WriteByte(' ')
		b.WriteString(o.line)
		b.WriteByte('\n')
	}
	if skipped {
		b.WriteString("  ...\n")
	}
	return b.String()
}
