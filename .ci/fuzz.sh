#!/usr/bin/env bash
# Runs every native Go fuzz target (func FuzzXxx(*testing.F)) of the given
# module directories (default: the module in the current directory) for a
# budget of FUZZTIME, default 100000x.
#
# The budget is a count of inputs, never a duration: on Go 1.26.8 a time
# budget such as -fuzztime=10s can end the run with "context deadline
# exceeded" (golang/go#75804).
#
# FUZZMINIMIZETIME, default 0x, is what go test may spend minimizing each
# input it keeps: 0x turns minimization off. Go minimizes every input that
# finds new coverage, not only failing ones, for up to 60 s each by default;
# on a machine whose fuzz cache is empty (a fresh CI machine) that made
# FuzzFormatsAgree, whose every call decodes OpenMetrics with expfmt's slow
# ABNF parser, take 13.5 minutes for its 100000 inputs (100x) against 48 s
# (0x). A failing input is still saved under testdata/fuzz, unminimized;
# minimize it locally with go test -fuzz=Name -fuzzminimizetime=60s.
set -euo pipefail

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-100000x}
FUZZMINIMIZETIME=${FUZZMINIMIZETIME:-0x}
case $FUZZTIME in
*[0-9]x) ;;
*) echo "fuzz.sh: FUZZTIME=$FUZZTIME: use a count such as 100000x, not a duration (golang/go#75804)" >&2; exit 2 ;;
esac
case $FUZZMINIMIZETIME in
*[0-9]x) ;;
*) echo "fuzz.sh: FUZZMINIMIZETIME=$FUZZMINIMIZETIME: use a count such as 0x (off) or 100x" >&2; exit 2 ;;
esac

[ $# -gt 0 ] || set -- .
targets=0
failed=()
for mod in "$@"; do
	# A module being set up may have only its go.mod: skip it (but not one
	# whose go.mod is broken: listing its targets below reports that).
	if pkgs=$(cd "$mod" && "$GO" list -e ./... 2>/dev/null) && [ -z "$pkgs" ]; then
		continue
	fi
	# `go test -list` prints each package's matching names, then its
	# "ok <pkg>" line; packages without tests print "? <pkg> [no test files]".
	list=$(cd "$mod" && "$GO" test -list '^Fuzz' ./...) || {
		printf '%s\n' "$list" >&2
		echo "fuzz.sh: listing the fuzz targets of module $mod failed" >&2
		exit 1
	}
	pairs=$(printf '%s\n' "$list" | awk '
		/^Fuzz[A-Za-z0-9_]*$/ { names[n++] = $0; next }
		/^ok / { for (i = 0; i < n; i++) print $2, names[i]; n = 0 }')
	while read -r pkg name; do
		[ -n "$pkg" ] || continue
		targets=$((targets + 1))
		echo "== fuzz $name in $pkg ($FUZZTIME, at $(date -u +%T))"
		# Go on after a failure so that every target gets its run; a
		# failing input is saved in the package's testdata/fuzz.
		(cd "$mod" && "$GO" test -run='^$' -fuzz="^${name}\$" -fuzztime="$FUZZTIME" \
			-fuzzminimizetime="$FUZZMINIMIZETIME" "$pkg" </dev/null) ||
			failed+=("$pkg.$name")
	done <<<"$pairs"
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzz.sh: ${#failed[@]} of $targets fuzz target(s) failed: ${failed[*]}" >&2
	exit 1
fi
echo "fuzz.sh: $targets fuzz target(s) passed"
