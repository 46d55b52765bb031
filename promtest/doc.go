// Package promtest helps test code instrumented with prom: it compares a
// registry's or a collector's metrics with expected text, reads one value,
// counts series, and lints names as `promtool check metrics` does. It
// returns errors rather than taking a *testing.T, so it fits any test
// style:
//
//	if err := promtest.GatherAndCompare(reg, `
//	# HELP jobs_total Jobs done.
//	# TYPE jobs_total counter
//	jobs_total{queue="mail"} 3
//	`); err != nil {
//		t.Error(err)
//	}
//
// # Comparing
//
// [GatherAndCompare] renders a [prom.Registry] in the text format and
// compares it with the expected text; [CollectAndCompare] does the same
// for one [prom.Collector], a metric included. Both sides are parsed and
// normalised, so the order of families, series and labels does not
// matter, nor the way numbers are written; a mismatch returns a
// [*DiffError] whose message is a line diff. [Only] compares some families
// and ignores the rest; [IgnoreHelp] and [IgnoreMetadata] leave out HELP,
// or HELP and TYPE, lines. [CompareText] compares two texts.
//
// # Reading values and counting series
//
// [GatherValue] and [CollectValue] return one sample's value by its name
// and label set, [TextValue] reads it from a scrape's body;
// [GatherAndCount] and [CollectAndCount] count the series of some
// families, or of all.
//
// # Linting
//
// [Lint], [GatherAndLint] and [CollectAndLint] apply the naming rules of
// `promtool check metrics` (counters end in _total, base units, help text,
// snake_case, no reserved suffixes or labels...) and return each
// [Problem], so a test can hold a package's metrics to them without the
// promtool binary.
//
// # Parsing
//
// [Parse] is the package's own strict parser of the text format 0.0.4
// (prom has no dependencies, so it does not use expfmt); it returns each
// [Family] with its samples, for tests that need more than the helpers.
//
// Everything in the package is safe for concurrent use.
package promtest
