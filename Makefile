# Copyright 2026 The Arcturus Authors.
# SPDX-License-Identifier: Apache-2.0

GO ?= go
BIN := bin/arcturus
# Empty means arcturus's default: /var/lib/arcturus for root, ~/.arcturus otherwise.
DATA_DIR ?=

.PHONY: all build up run test test-unit test-integration bench generate verify-generate lint clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/arcturus

# Start a single-node region with embedded etcd.
up: build
	$(BIN) up $(if $(DATA_DIR),--data-dir $(DATA_DIR))

run: up

# Everything CI runs: installs what the tests need, then unit and integration tests.
test:
	hack/test.sh

test-unit:
	hack/test.sh unit

test-integration:
	hack/test.sh integration

# API server throughput, latency, watch fan-out and per-tenant memory.
bench: build
	$(BIN) bench apiserver

generate:
	hack/update-codegen.sh

verify-generate:
	hack/verify-codegen.sh

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l cmd pkg test); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin
