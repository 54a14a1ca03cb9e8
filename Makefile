# Copyright 2026 The Arcturus Authors.
# SPDX-License-Identifier: Apache-2.0

GO ?= go
BIN := bin/arcturus
# Empty means arcturus's default: /var/lib/arcturus for root, ~/.arcturus otherwise.
DATA_DIR ?=

.PHONY: all build deps up run test test-unit test-integration bench generate verify-generate lint clean

all: build

# Static (no cgo): the metal plane boots this very binary as the inventory
# agent's /init, in an initramfs with no C library.
build:
	CGO_ENABLED=0 $(GO) build -o $(BIN) ./cmd/arcturus

# What a node runs pods with (containerd, runc, CNI plugins, QEMU).
deps:
	hack/deps.sh node

# Start a single-node region: API server with embedded etcd, controllers and
# this machine's node agent.
up: build deps
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
