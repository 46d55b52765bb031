# prom's developer and CI entry points. `make test` is the one test command:
# go vet, the fuzz targets (on a count budget) and go test -race, in every Go
# module of the repository (the root, bench/, contrib/*, ...), and the root
# module's tests with the oldest Go it supports (mingo).

GO       ?= go
FUZZTIME ?= 100000x
# Minimizing each new input costs more than the fuzzing itself on a fresh
# machine (see .ci/fuzz.sh): off by default.
FUZZMINIMIZETIME ?= 0x
# The oldest Go release the root module supports (its go.mod says go 1.24):
# `make mingo` runs its tests with that toolchain too, fetched through the
# module proxy, since net/http's behaviour differs between releases.
MINGO ?= go1.24.13
# A hung test fails its package after this long, rather than go test's 10m,
# to keep CI well inside its budget.
TESTTIMEOUT ?= 5m
export GO FUZZTIME FUZZMINIMIZETIME

# Every directory holding a go.mod, found afresh on each run.
MODULES = $(shell .ci/modules.sh)

# staticcheck from PATH or GOPATH/bin (.ci/run reads this line and installs
# this version, so that a new release's checks cannot fail CI on a fresh
# machine without a change here), else run through the module proxy. v0.8.2
# is staticcheck 2026.2.2.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK ?= $(or $(shell command -v staticcheck 2>/dev/null),$(wildcard $(shell $(GO) env GOPATH)/bin/staticcheck),$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION))

# The steps print one after another, each header with the time it began
# (UTC), so a slow step shows in the log; the go test summaries come last.
.NOTPARALLEL:
.PHONY: test vet unit fuzz lint run modules mingo

test: vet fuzz unit mingo

# foreach_module runs $(1) in every module, skipping one that has no Go
# package yet (only its go.mod; a broken go.mod is not skipped), and fails at
# the end, so that one broken module does not hide the results of the others.
define foreach_module
	@fail=0; for m in $(MODULES); do \
		if pkgs=$$(cd $$m && $(GO) list -e ./... 2>/dev/null) && [ -z "$$pkgs" ]; then \
			echo "== $$m: no Go packages, skipped"; continue; \
		fi; \
		echo "== $(strip $(1)) in $$m (at $$(date -u +%T))"; \
		(cd $$m && $(1)) || fail=1; \
	done; exit $$fail
endef

vet:
	$(call foreach_module,$(GO) vet ./...)

fuzz:
	@.ci/fuzz.sh $(MODULES)

unit:
	$(call foreach_module,$(GO) test -race -count=1 -timeout=$(TESTTIMEOUT) ./...)

lint:
	@echo "== gofmt -l (at $$(date -u +%T))"; \
	out=$$(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path '*/vendor/*' -exec gofmt -l {} +); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(call foreach_module,$(GO) vet ./... && $(STATICCHECK) ./...)

run:
	$(GO) run ./examples/service

modules:
	@echo $(MODULES)

mingo:
	@echo "== go test with $(MINGO) in . (at $$(date -u +%T))"
	GOTOOLCHAIN=$(MINGO) $(GO) test -count=1 -timeout=$(TESTTIMEOUT) ./...
