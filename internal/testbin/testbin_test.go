package testbin

import (
	"fmt"
	"strings"
	"testing"
)

// recorder stands in for a testing.TB to catch the failures CheckMetrics
// reports; everything else goes to the real test.
type recorder struct {
	testing.TB
	errors, skips, fatals []string
}

// Skip and Fatal record instead of ending the goroutine, so the finder
// returns to the test.
func (r *recorder) Skip(args ...any)  { r.skips = append(r.skips, fmt.Sprint(args...)) }
func (r *recorder) Fatal(args ...any) { r.fatals = append(r.fatals, fmt.Sprint(args...)) }

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestCheckMetrics(t *testing.T) {
	Promtool(t) // skip here, on the real test, when promtool is missing
	tests := []struct {
		name, body string
		want       string // "" = clean; else a piece of the expected failure
	}{
		{"clean", "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total{kind=\"a\\\"b\"} 3\n", ""},
		{"empty", "", ""},
		{"lint", "# HELP jobs Jobs done.\n# TYPE jobs counter\njobs 3\n", "lint problems"},
		{"no help", "# TYPE up gauge\nup 1\n", "no help text"},
		{"unparsable", "garbage{{\n", "exit 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			CheckMetrics(r, []byte(tt.body))
			got := strings.Join(r.errors, "\n")
			switch {
			case tt.want == "" && got != "":
				t.Errorf("CheckMetrics failed on a clean body:\n%s", got)
			case tt.want != "" && !strings.Contains(got, tt.want):
				t.Errorf("CheckMetrics failure = %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestFind(t *testing.T) {
	for name, find := range map[string]func(testing.TB) string{
		"Promtool":    Promtool,
		"Prometheus":  Prometheus,
		"Pushgateway": Pushgateway,
	} {
		t.Run(name, func(t *testing.T) {
			p := find(t)
			if !isExecutable(p) {
				t.Errorf("%s() = %q, not an executable file", name, p)
			}
		})
	}
}

func TestFindMissing(t *testing.T) {
	const want = "no-such-binary-xyz not installed; .ci/run installs Debian package some-package"

	t.Setenv("CI", "")
	r := &recorder{TB: t}
	if p := find(r, "some-package", "no-such-binary-xyz"); p != "" || len(r.skips) != 1 || r.skips[0] != want || len(r.fatals) != 0 {
		t.Errorf("outside CI: find = %q, skips %q, fatals %q; want a skip with %q", p, r.skips, r.fatals, want)
	}

	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	if find(r, "some-package", "no-such-binary-xyz"); len(r.fatals) != 1 || !strings.HasPrefix(r.fatals[0], want) || len(r.skips) != 0 {
		t.Errorf("with CI=true: skips %q, fatals %q; want a failure with %q", r.skips, r.fatals, want)
	}
}
