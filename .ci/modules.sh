#!/bin/sh
# Prints every directory of the repository that holds a go.mod (the root,
# bench/, contrib/*, ...), relative to the root and sorted, found afresh on
# each run: the Makefile's MODULES and .ci/run's downloads use it.
cd "$(dirname "$0")/.." &&
	find . -name go.mod -not -path './.git/*' -not -path '*/testdata/*' \
		-not -path '*/vendor/*' -exec dirname {} \; | LC_ALL=C sort
