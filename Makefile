# tend: `make run` starts a supervisor with the examples under a throwaway
# root; `make test` runs every test, installing the real clients they need.
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
PKGS_DEB := prometheus haproxy wrk curl xz-utils tar
HTTP ?= 0.0.0.0:9631

.PHONY: all build run test test-short lint bench bench-core deps clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/tend ./cmd/tend
	$(GO) build -o $(BIN)/webdemo ./examples/cmd/webdemo

# Installs the Debian packages the tests drive (Prometheus, promtool,
# HAProxy, wrk, curl; xz and tar to cross-check .hart payloads) when they are missing: one apt-get update, one install.
deps:
	@missing=""; for p in $(PKGS_DEB); do \
		case $$p in prometheus) c=promtool;; haproxy) c=haproxy;; wrk) c=wrk;; curl) c=curl;; xz-utils) c=xz;; tar) c=tar;; esac; \
		command -v $$c >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	fi

run: build
	@root=$$(mktemp -d /tmp/tend-run.XXXXXX); \
	sed "s#@EXAMPLES@#$(CURDIR)/examples#g" examples/tend.yaml > $$root/tend.yaml; \
	echo "tend: root $$root, HTTP gateway on $(HTTP) (Ctrl-C stops it and its services)"; \
	echo "try:  curl -s localhost:9631/services | head;  TEND_ROOT=$$root $(BIN)/tend svc status"; \
	PATH="$(BIN):$$PATH" exec $(BIN)/tend sup run --root $$root --config $$root/tend.yaml --listen-http $(HTTP)

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

test: deps lint
	TEND_REQUIRE_TOOLS=1 $(GO) test -race -count=1 -timeout 25m ./...

test-short: lint
	$(GO) test -race -short ./...

bench: deps build bench-core
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./internal/... | tee bench/go-bench.txt
	bench/run.sh
	nice bench/ring/scale.sh
	bench/soak.sh

# The figures issue 11 is judged on (docs/BENCHMARKS.md), against the bare
# Go floor in the same run: restart gaps, idle CPU and memory with 500
# services, then start-up and memory on a fresh root and on a restart over
# an existing one. About 25 minutes.
bench-core:
	nice bench/run.sh restart,scale tend,go-minimal -r 5 -n 500
	nice bench/hosts.sh -r 5 -n 500

clean:
	rm -rf $(BIN)
