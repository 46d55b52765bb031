package promtest

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/promgo/prom"
	"github.com/promgo/prom/internal/testbin"
)

// lintCases are inputs with the problems Lint must find. promtool says
// whether the promtool the tests find (Debian's, 2.42 at the time of
// writing) agrees: its older promlint flags every type name in a metric
// name, not only the family's own, knows fewer units and does not look for
// duplicate series.
var lintCases = []struct {
	name     string
	text     string
	want     []string
	promtool bool
}{
	{"clean", "# HELP requests_total Requests.\n# TYPE requests_total counter\nrequests_total{code=\"200\"} 1\n" +
		"# HELP request_duration_seconds D.\n# TYPE request_duration_seconds histogram\n" +
		"request_duration_seconds_bucket{le=\"1\"} 1\nrequest_duration_seconds_bucket{le=\"+Inf\"} 1\n" +
		"request_duration_seconds_sum 0.5\nrequest_duration_seconds_count 1\n" +
		"# HELP rpc_size_bytes S.\n# TYPE rpc_size_bytes summary\nrpc_size_bytes{quantile=\"0.5\"} 3\nrpc_size_bytes_sum 3\nrpc_size_bytes_count 1\n",
		nil, true},
	{"families without samples", "# HELP jobs J.\n# TYPE jobs counter\n# TYPE open_total gauge\n# HELP up U.\n# TYPE up gauge\nup 1\n",
		nil, true},
	{"counter without _total", "# HELP jobs J.\n# TYPE jobs counter\njobs 1\n",
		[]string{`jobs counter metrics should have "_total" suffix`}, true},
	{"gauge with _total", "# HELP open_total O.\n# TYPE open_total gauge\nopen_total 1\n",
		[]string{`open_total non-counter metrics should not have "_total" suffix`}, true},
	{"no help", "# TYPE up gauge\nup 1\nuntyped_thing 2\n",
		[]string{"untyped_thing no help text", "up no help text"}, true},
	{"empty help", "# HELP up \n# TYPE up gauge\nup 1\n# HELP down\n# TYPE down gauge\ndown 1\n",
		[]string{"down no help text", "up no help text"}, true},
	{"milliseconds", "# HELP request_duration_milliseconds D.\n# TYPE request_duration_milliseconds gauge\nrequest_duration_milliseconds 1\n",
		[]string{`request_duration_milliseconds use base unit "seconds" instead of "milliseconds"`}, true},
	{"kilobytes and minutes", "# HELP file_kilobytes F.\n# TYPE file_kilobytes gauge\nfile_kilobytes 1\n# HELP uptime_minutes U.\n# TYPE uptime_minutes gauge\nuptime_minutes 1\n",
		[]string{`file_kilobytes use base unit "bytes" instead of "kilobytes"`, `uptime_minutes use base unit "seconds" instead of "minutes"`}, true},
	{"abbreviations", "# HELP latency_ms L.\n# TYPE latency_ms gauge\nlatency_ms 1\n# HELP x_ms_sec_bytes X.\n# TYPE x_ms_sec_bytes gauge\nx_ms_sec_bytes 1\n",
		[]string{"latency_ms metric names should not contain abbreviated units",
			"x_ms_sec_bytes metric names should not contain abbreviated units",
			"x_ms_sec_bytes metric names should not contain abbreviated units"}, true},
	{"camelCase", "# HELP httpRequests_total H.\n# TYPE httpRequests_total counter\nhttpRequests_total{statusCode=\"200\"} 1\n",
		[]string{"httpRequests_total label names should be written in 'snake_case' not 'camelCase'",
			"httpRequests_total metric names should be written in 'snake_case' not 'camelCase'"}, true},
	{"colon", "# HELP job:requests:rate5m R.\n# TYPE job:requests:rate5m gauge\njob:requests:rate5m 1\n",
		[]string{"job:requests:rate5m metric names should not contain ':'"}, true},
	{"reserved suffixes and labels",
		"# HELP queue_count Q.\n# TYPE queue_count gauge\nqueue_count{le=\"1\"} 1\n" +
			"# HELP thing_bucket T.\n# TYPE thing_bucket gauge\nthing_bucket 1\n" +
			"# HELP lat_seconds L.\n# TYPE lat_seconds summary\nlat_seconds{le=\"2\",quantile=\"0.5\"} 1\nlat_seconds{le=\"2\",quantile=\"0.9\"} 1\nlat_seconds_sum{le=\"2\"} 1\nlat_seconds_count{le=\"2\"} 1\n" +
			"# HELP hits_total H.\n# TYPE hits_total counter\nhits_total{quantile=\"0.5\"} 1\n",
		[]string{`hits_total non-summary metrics should not have "quantile" label`,
			`lat_seconds non-histogram metrics should not have "le" label`,
			`queue_count non-histogram and non-summary metrics should not have "_count" suffix`,
			`queue_count non-histogram metrics should not have "le" label`,
			`thing_bucket non-histogram metrics should not have "_bucket" suffix`}, true},
	{"own type in name", "# HELP requests_counter_total R.\n# TYPE requests_counter_total counter\nrequests_counter_total 1\n# HELP temperature_gauge T.\n# TYPE temperature_gauge gauge\ntemperature_gauge 1\n",
		[]string{"requests_counter_total metric name should not include type 'counter'",
			"temperature_gauge metric name should not include type 'gauge'"}, true},
	{"untyped is spared the type rules", "# HELP x_total X.\nx_total 1\n# HELP y_count Y.\ny_count{le=\"1\"} 1\n", nil, true},
	{"other type in name", "# HELP foo_counter F.\n# TYPE foo_counter gauge\nfoo_counter 1\n", nil, false},
	{"volts", "# HELP battery_millivolts B.\n# TYPE battery_millivolts gauge\nbattery_millivolts 1\n",
		[]string{`battery_millivolts use base unit "volts" instead of "millivolts"`}, false},
	{"duplicates", "# HELP dup D.\n# TYPE dup gauge\ndup{a=\"1\"} 1\ndup{a=\"1\"} 2\ndup{a=\"2\"} 2\n",
		[]string{"dup metric not unique"}, false},
}

func TestLint(t *testing.T) {
	for _, tt := range lintCases {
		t.Run(tt.name, func(t *testing.T) {
			problems, err := Lint([]byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			if got := problemStrings(problems); !slices.Equal(got, tt.want) {
				t.Errorf("Lint:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	if _, err := Lint([]byte("a{ 1\n")); err == nil {
		t.Error("Lint of text that does not parse: no error")
	}
}

// TestLintMatchesPromtool runs promtool check metrics on the cases it
// agrees on and compares its findings with Lint's.
func TestLintMatchesPromtool(t *testing.T) {
	path := testbin.Promtool(t)
	for _, tt := range lintCases {
		if !tt.promtool {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, path, "check", "metrics")
			cmd.Stdin = strings.NewReader(tt.text)
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			err := cmd.Run()
			var exit *exec.ExitError
			if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 3) {
				t.Fatalf("promtool: %v\n%s", err, out.Bytes())
			}
			var got []string
			for l := range strings.SplitSeq(out.String(), "\n") {
				if l = strings.TrimSpace(l); l != "" {
					got = append(got, l)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("promtool check metrics:\n%s\nLint's table:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func problemStrings(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestGatherAndLint(t *testing.T) {
	reg := prom.NewRegistry()
	prom.Must(prom.NewCounter("jobs", "Jobs.", prom.WithRegistry(reg))).Inc()
	good := prom.Must(prom.NewGauge("queue_length", "Jobs waiting.", prom.WithRegistry(reg)))
	good.Set(1)
	prom.Must(prom.NewHistogram("latency_milliseconds", "Latency.", prom.WithRegistry(reg))).Observe(3)

	problems, err := GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`jobs counter metrics should have "_total" suffix`,
		`latency_milliseconds use base unit "seconds" instead of "milliseconds"`,
	}
	if got := problemStrings(problems); !slices.Equal(got, want) {
		t.Errorf("GatherAndLint:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if problems, err := GatherAndLint(reg, "queue_length"); err != nil || len(problems) != 0 {
		t.Errorf("GatherAndLint(queue_length) = %v, %v; want none", problems, err)
	}
	if problems, err := CollectAndLint(good); err != nil || len(problems) != 0 {
		t.Errorf("CollectAndLint(good) = %v, %v; want none", problems, err)
	}
}
