#!/usr/bin/env bash
# Runs every native Go fuzz target (func FuzzXxx(*testing.F)) of the given
# module directories (default: the module in the current directory) for a
# budget of FUZZTIME, default 100000x.
#
# The budget is a count of inputs, never a duration: on Go 1.26.8 a time
# budget such as -fuzztime=10s can end the run with "context deadline
# exceeded" (golang/go#75804).
#
# FUZZMINIMIZETIME, default 0x, is what may be spent minimizing each input
# the fuzzer keeps: 0x turns minimization off. Go minimizes every input that
# finds new coverage, not only failing ones, for up to 60 s each by default;
# on a machine whose fuzz cache is empty (a fresh CI machine) that made
# FuzzFormatsAgree, whose every call decodes OpenMetrics with expfmt's slow
# ABNF parser, take 13.5 minutes for its 100000 inputs (100x) against 48 s
# (0x). A failing input is still saved under testdata/fuzz, unminimized;
# minimize it locally with go test -fuzz=Name -fuzzminimizetime=60s.
#
# What `go test -fuzz` does for one target is done here in two parts, so
# that the machine's cores stay busy:
#   1. each package that has fuzz targets is built once, instrumented for
#      fuzzing (go test -c -fuzz), and its targets are listed by the binary;
#   2. the targets run from those binaries, FUZZJOBS at a time (default: the
#      number of CPUs), each with as many workers as go test would give it,
#      in the package's directory (where its testdata/fuzz corpus is) and
#      with the fuzz cache go test uses ($GOCACHE/fuzz/<import path>).
# One go test -fuzz per target linked the binary anew each time and left a
# core idle while linking and while the fuzzer waited on one slow input.
# Each target's output is printed when it ends, under a header with its
# start and end times, and followed by a go-test-like ok/FAIL line.
set -euo pipefail

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-100000x}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-0x}
FUZZJOBS=${FUZZJOBS:-$(nproc 2>/dev/null || echo 1)}
case $FUZZTIME in
*[0-9]x) ;;
*) echo "fuzz.sh: FUZZTIME=$FUZZTIME: use a count such as 100000x, not a duration (golang/go#75804)" >&2; exit 2 ;;
esac
case $FUZZMINIMIZETIME in
*[0-9]x) ;;
*) echo "fuzz.sh: FUZZMINIMIZETIME=$FUZZMINIMIZETIME: use a count such as 0x (off) or 100x" >&2; exit 2 ;;
esac
case $FUZZJOBS in
'' | *[!0-9]* | 0) echo "fuzz.sh: FUZZJOBS=$FUZZJOBS: use a positive number of targets to run at once" >&2; exit 2 ;;
esac

now() { date -u +%T; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fuzzcache="$("$GO" env GOCACHE)/fuzz"

[ $# -gt 0 ] || set -- .
targets=() # "dir|binary|import path|name"
failed=()
for mod in "$@"; do
	# A module being set up may have only its go.mod: skip it (but not one
	# whose go.mod is broken: listing its packages below reports that).
	if pkgs=$(cd "$mod" && "$GO" list -e ./... 2>/dev/null) && [ -z "$pkgs" ]; then
		continue
	fi
	list=$(cd "$mod" && "$GO" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}} {{.Dir}}{{end}}' ./...) || {
		printf '%s\n' "$list" >&2
		echo "fuzz.sh: listing the packages of module $mod failed" >&2
		exit 1
	}
	while read -r pkg dir; do
		[ -n "$pkg" ] || continue
		# Only a package whose test files declare a fuzz target (gofmt puts
		# every top-level func at the start of a line) is built for fuzzing;
		# the binary then says which targets it has.
		grep -qs '^func Fuzz' "$dir"/*_test.go || continue
		bin="$work/${#targets[@]}-${pkg##*/}.test"
		echo "== build $pkg for fuzzing (at $(now))"
		if ! (cd "$mod" && "$GO" test -c -fuzz=. -o "$bin" "$pkg" </dev/null); then
			failed+=("$pkg (build)")
			continue
		fi
		names=$(cd "$dir" && "$bin" -test.list '^Fuzz' </dev/null) || {
			printf '%s\n' "$names" >&2
			failed+=("$pkg (listing its fuzz targets)")
			continue
		}
		for name in $names; do
			targets+=("$dir|$bin|$pkg|$name")
		done
	done <<<"$list"
done

# start runs target $1 in the background; running maps its pid to it.
declare -A running=() started=()
start() {
	local dir bin pkg name
	IFS='|' read -r dir bin pkg name <<<"${targets[$1]}"
	(cd "$dir" && exec "$bin" -test.run='^$' -test.fuzz="^${name}\$" \
		-test.fuzztime="$FUZZTIME" -test.fuzzminimizetime="$FUZZMINIMIZETIME" \
		-test.fuzzcachedir="$fuzzcache/$pkg") >"$work/$1.log" 2>&1 </dev/null &
	running[$!]=$1
	started[$1]=$(date -u +%s)
}

next=0
while [ $next -lt ${#targets[@]} ] || [ ${#running[@]} -gt 0 ]; do
	while [ $next -lt ${#targets[@]} ] && [ ${#running[@]} -lt "$FUZZJOBS" ]; do
		start $next
		next=$((next + 1))
	done
	if wait -n -p pid "${!running[@]}"; then rc=0; else rc=$?; fi
	i=${running[$pid]}
	unset "running[$pid]"
	IFS='|' read -r dir bin pkg name <<<"${targets[$i]}"
	echo "== fuzz $name in $pkg ($FUZZTIME, $(date -u -d "@${started[$i]}" +%T) to $(now))"
	cat "$work/$i.log"
	secs=$(($(date -u +%s) - ${started[$i]}))
	if [ "$rc" -eq 0 ]; then
		printf 'ok  \t%s\t%s\t%ds\n' "$pkg" "$name" "$secs"
	else
		# A failing input is saved in the package's testdata/fuzz.
		printf 'FAIL\t%s\t%s\t%ds (exit status %d)\n' "$pkg" "$name" "$secs" "$rc"
		failed+=("$pkg.$name")
	fi
done

if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: ${#failed[@]} failure(s) among ${#targets[@]} fuzz target(s): ${failed[*]}" >&2
	exit 1
fi
echo "fuzz.sh: ${#targets[@]} fuzz target(s) passed"
