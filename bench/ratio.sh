#!/bin/sh
# ratio.sh compares prom with client_golang and VictoriaMetrics/metrics in
# one benchstat table per unit: a row per benchmark (and variant and
# GOMAXPROCS, shown as cpuN), a column per library, prom first as the base.
#
# Usage (from bench/):
#   go test -run='^$' -bench=. -count=6 -cpu=1,2 ./... > /tmp/bench.txt
#   ./ratio.sh /tmp/bench.txt > /tmp/benchstat.txt
#
# benchstat can only project sub-benchmark names of the form key=value, so
# the positional names "<lib>" and "<lib>_<variant>" are rewritten as
# "v=<variant>/lib=<lib>". Variants that measure the same thing are put in
# one row:
#   LabelledInc  v=values: prom_values, clientgolang_values, vm (constant
#                          preformatted name)
#                v=map:    prom_map, clientgolang_map (label map literal at
#                          the call site), vm_sprintf (name built with
#                          fmt.Sprintf at the call site)
#   Expose10k    (no v):   prom, clientgolang, vm_metadata (all write HELP
#                          and TYPE)
#                v=nometa: vm (its default: no HELP/TYPE lines)
#   Expose10kHandlerGzip   the same, through each library's HTTP handler
#                          with gzip
# BENCHSTAT overrides the benchstat binary (default: benchstat on PATH, else
# $(go env GOPATH)/bin/benchstat).
set -eu

in=${1:?usage: ratio.sh bench-output.txt}
bs=${BENCHSTAT:-}
if [ -z "$bs" ]; then
	if command -v benchstat >/dev/null 2>&1; then
		bs=benchstat
	else
		bs="$(go env GOPATH)/bin/benchstat"
	fi
fi

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

awk '
/^Benchmark[^ \t]*\// {
	name = $1
	slash = index(name, "/")
	base = substr(name, 1, slash - 1)
	sub_ = substr(name, slash + 1)
	cpu = "cpu1" # go test leaves the -N suffix off when GOMAXPROCS is 1
	if (match(sub_, /-[0-9]+$/)) {
		cpu = "cpu" substr(sub_, RSTART + 1)
		sub_ = substr(sub_, 1, RSTART - 1)
	}
	lib = sub_; variant = ""
	us = index(sub_, "_")
	if (us > 0) {
		lib = substr(sub_, 1, us - 1)
		variant = substr(sub_, us + 1)
	}
	if (base == "BenchmarkLabelledInc" && sub_ == "vm") variant = "values"
	if (base == "BenchmarkLabelledInc" && sub_ == "vm_sprintf") variant = "map"
	if (base == "BenchmarkLabelledIncParallel" && sub_ == "vm") variant = "values"
	expose = base == "BenchmarkExpose10k" || base == "BenchmarkExpose10kHandlerGzip"
	if (expose && sub_ == "vm") variant = "nometa"
	if (expose && sub_ == "vm_metadata") variant = ""
	new = base
	if (variant != "") new = new "/v=" variant
	new = new "/lib=" lib "/cpu=" cpu
	$1 = new # benchstat splits fields on any whitespace
	print
	next
}
{ print }
' "$in" > "$tmp"

"$bs" -row '.name,/v,/cpu' -col '/lib@(prom clientgolang vm)' "$tmp"
