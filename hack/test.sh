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

# gotest runs go test, keeping its output, and on failure ends with a recap
# of the failed tests and their messages: the servers the tests start log a
# lot, and a failure's own lines would otherwise scroll far up.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
gotest() {
  local status=0
  go test -count=1 "$@" 2>&1 | tee "$log" || status=$?
  if [ "$status" -ne 0 ]; then
    echo
    echo "== failures =="
    grep -E -- '^\s*--- FAIL|^\s+[A-Za-z0-9_.]+\.go:[0-9]+: |^(FAIL|panic:)' "$log" | tail -n 200 || true
  fi
  return "$status"
}

unit_pkgs=$(go list ./... | grep -v '/test/')
case "$what" in
  unit) gotest -timeout 10m $unit_pkgs ;;
  integration) gotest -p 1 -timeout 25m ./test/... ;;
  all)
    gotest -timeout 10m $unit_pkgs
    gotest -p 1 -timeout 25m ./test/...
    ;;
  *) echo "usage: $0 [unit|integration]" >&2; exit 2 ;;
esac
