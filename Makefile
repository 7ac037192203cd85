# logshipd developer targets. CI runs `bash .ci/run`, which calls `make test`.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo none)
FUZZTIME ?= 10s
LDFLAGS  := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

.PHONY: build test unit fuzz bench bench-run golden demo clean

## build: static binary at bin/logshipd, stamped with VERSION and COMMIT
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o bin/logshipd ./cmd/logshipd

## test: the whole suite (README.md, .ci/run): builds/installs the servers the
## integration tests start on loopback (.ci/tools.sh, cached in .cache/tools),
## then runs every test with -race, integration tests included.
test:
	eval "$$(bash .ci/tools.sh)"; LOGSHIPD_INTEGRATION=1 $(GO) test -race -count=1 -timeout 30m ./...

## unit: the tests that need no server (integration tests skip themselves)
unit:
	$(GO) test -race -count=1 ./...

## fuzz: run every fuzz target of every package for FUZZTIME (same loop as .ci/run)
fuzz:
	pkgs=$$($(GO) list ./...); \
	for pkg in $$pkgs; do \
		list=$$($(GO) test -list '^Fuzz' "$$pkg"); \
		for name in $$(printf '%s\n' "$$list" | grep -E '^Fuzz[[:alnum:]_]*$$' || true); do \
			echo "--> fuzz $$pkg $$name ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$${name}\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

## bench: benchmarks of the internal packages with allocations
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/...

## bench-run: whole-process benchmarks (W1-W4, normalize and run shapes) into docs/performance.md
bench-run:
	$(GO) run ./bench/run

## golden: rewrite the normalizer's golden files (review the diff!)
golden:
	$(GO) test ./internal/normalize/ -run TestGolden -update

## demo: the README's first command (the daemon on the bundled example logs)
demo:
	cat examples/logs/*.log | $(GO) run ./cmd/logshipd run -c examples/logshipd.yaml

clean:
	rm -rf bin/
