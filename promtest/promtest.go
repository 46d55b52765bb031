package promtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/promgo/prom"
)

// ErrNotFound is returned, wrapped, by [GatherValue], [CollectValue] and
// [TextValue] when no sample has the name and labels asked for.
var ErrNotFound = errors.New("promtest: no such sample")

// Gather renders reg in the text format, as a scrape would get it. An
// error from a collector is returned; so is the text that could be
// rendered.
func Gather(reg *prom.Registry) ([]byte, error) {
	if reg == nil {
		reg = prom.Default
	}
	return reg.Append(context.Background(), nil, prom.FormatText)
}

// Collect renders one collector in the text format, through a registry of
// its own. Registering c there leaves it in any other registry it is in.
// The registry's own metrics (prom_rejected_updates_total,
// prom_collector_failures_total, prom_expired_series_total) are left out:
// they describe that temporary registry, not c.
func Collect(c prom.Collector) ([]byte, error) {
	reg := prom.NewRegistry()
	if err := reg.Register(c); err != nil {
		return nil, fmt.Errorf("promtest: registering the collector: %w", err)
	}
	body, err := Gather(reg)
	return withoutSelfMetrics(body), err
}

// selfMetrics are the families a registry adds about itself; the
// temporary registry of Collect is not the caller's, so they are left out.
var selfMetrics = []string{"prom_rejected_updates_total", "prom_collector_failures_total", "prom_expired_series_total"}

// withoutSelfMetrics drops the self-metrics' lines from a text exposition.
func withoutSelfMetrics(body []byte) []byte {
	var out []byte
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		l := bytes.TrimPrefix(bytes.TrimPrefix(line, []byte("# HELP ")), []byte("# TYPE "))
		self := false
		for _, name := range selfMetrics {
			if bytes.HasPrefix(l, []byte(name)) && len(l) > len(name) && (l[len(name)] == ' ' || l[len(name)] == '{') {
				self = true
			}
		}
		if !self {
			out = append(out, line...)
		}
	}
	return out
}

// GatherAndCompare compares reg's metrics (nil means prom.Default) with
// want, an exposition in the text format, as [CompareText] does: in any
// order, with a readable diff on a mismatch. [Only] limits the comparison
// to some families, as client_golang's testutil.GatherAndCompare does with
// metric names.
func GatherAndCompare(reg *prom.Registry, want string, opts ...Option) error {
	got, err := Gather(reg)
	if err != nil {
		return fmt.Errorf("promtest: gathering: %w", err)
	}
	return CompareText(got, []byte(want), opts...)
}

// CollectAndCompare is [GatherAndCompare] for one collector, such as a
// metric or a custom [prom.Collector].
func CollectAndCompare(c prom.Collector, want string, opts ...Option) error {
	got, err := Collect(c)
	if err != nil {
		return err
	}
	return CompareText(got, []byte(want), opts...)
}

// GatherAndCount returns the number of series in reg's families with these
// names, or in all of them when no name is given. A histogram or summary
// series counts once, whatever its buckets or quantiles.
func GatherAndCount(reg *prom.Registry, names ...string) (int, error) {
	got, err := Gather(reg)
	if err != nil {
		return 0, fmt.Errorf("promtest: gathering: %w", err)
	}
	return count(got, names)
}

// CollectAndCount is [GatherAndCount] for one collector.
func CollectAndCount(c prom.Collector, names ...string) (int, error) {
	got, err := Collect(c)
	if err != nil {
		return 0, err
	}
	return count(got, names)
}

func count(text []byte, names []string) (int, error) {
	fams, err := Parse(text)
	if err != nil {
		return 0, fmt.Errorf("promtest: parsing the metrics: %w", err)
	}
	n := 0
	for _, f := range fams {
		if len(names) == 0 || slices.Contains(names, f.Name) {
			n += len(f.series())
		}
	}
	return n, nil
}

// GatherValue returns the value of the sample of reg (nil means
// prom.Default) with this name and exactly these labels (nil or empty for
// none; as in Prometheus, a label with an empty value is no label). The
// name is a sample's: a counter's name with its _total, a
// histogram's name_count, name_sum, or name_bucket with an le label.
// Constant labels are part of the label set. It returns an error wrapping
// [ErrNotFound], which lists the label sets the name has, when there is no
// such sample.
func GatherValue(reg *prom.Registry, name string, labels prom.Labels) (float64, error) {
	got, err := Gather(reg)
	if err != nil {
		return 0, fmt.Errorf("promtest: gathering: %w", err)
	}
	return TextValue(got, name, labels)
}

// CollectValue is [GatherValue] for one collector.
func CollectValue(c prom.Collector, name string, labels prom.Labels) (float64, error) {
	got, err := Collect(c)
	if err != nil {
		return 0, err
	}
	return TextValue(got, name, labels)
}

// TextValue is [GatherValue] for an exposition in the text format, such as
// the body of a scrape.
func TextValue(text []byte, name string, labels prom.Labels) (float64, error) {
	fams, err := Parse(text)
	if err != nil {
		return 0, fmt.Errorf("promtest: parsing the metrics: %w", err)
	}
	var others []string
	wantLabels := formatLabels(labels) // canonical, as Prometheus reads it
	for _, f := range fams {
		for _, s := range f.Samples {
			if s.Name != name {
				continue
			}
			got := formatLabels(s.Labels)
			if got == wantLabels {
				return s.Value, nil
			}
			others = append(others, got)
		}
	}
	want := name + wantLabels
	if len(others) == 0 {
		return 0, fmt.Errorf("%w: %s (no sample has the name %q)", ErrNotFound, want, name)
	}
	for i, o := range others {
		if o == "" {
			others[i] = "{}"
		}
	}
	return 0, fmt.Errorf("%w: %s (%s has the label sets %s)", ErrNotFound, want, name, strings.Join(others, " "))
}

// GatherAndLint lints reg's families with these names, or all of them
// when no name is given, as [Lint] does.
func GatherAndLint(reg *prom.Registry, names ...string) ([]Problem, error) {
	got, err := Gather(reg)
	if err != nil {
		return nil, fmt.Errorf("promtest: gathering: %w", err)
	}
	return lint(got, names)
}

// CollectAndLint is [GatherAndLint] for one collector.
func CollectAndLint(c prom.Collector, names ...string) ([]Problem, error) {
	got, err := Collect(c)
	if err != nil {
		return nil, err
	}
	return lint(got, names)
}

func lint(text []byte, names []string) ([]Problem, error) {
	fams, err := Parse(text)
	if err != nil {
		return nil, fmt.Errorf("promtest: parsing the metrics: %w", err)
	}
	if len(names) > 0 {
		fams = slices.DeleteFunc(fams, func(f *Family) bool { return !slices.Contains(names, f.Name) })
	}
	return lintFamilies(fams), nil
}
