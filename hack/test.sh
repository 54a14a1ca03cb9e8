#!/usr/bin/env bash
# Copyright 2026 The Arcturus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Runs the test suite. Installs what the tests need when it is missing, so a
# fresh Debian machine with Go needs nothing else.
#   hack/test.sh              unit and integration tests
#   hack/test.sh unit         unit tests only
#   hack/test.sh integration  integration tests only
set -euo pipefail
cd "$(dirname "$0")/.."

what=${1:-all}

hack/deps.sh test

go vet ./...
unformatted=$(gofmt -l cmd pkg test 2>/dev/null || true)
if [ -n "$unformatted" ]; then
  echo "gofmt needed:"; echo "$unformatted"; exit 1
fi

unit_pkgs=$(go list ./... | grep -v '/test/')
case "$what" in
  unit) go test -count=1 -timeout 10m $unit_pkgs ;;
  integration) go test -count=1 -p 1 -timeout 25m ./test/... ;;
  all)
    go test -count=1 -timeout 10m $unit_pkgs
    go test -count=1 -p 1 -timeout 25m ./test/...
    ;;
  *) echo "usage: $0 [unit|integration]" >&2; exit 2 ;;
esac
