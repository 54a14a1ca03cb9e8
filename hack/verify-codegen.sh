#!/usr/bin/env bash
# Copyright 2026 The Arcturus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Fails when the committed generated code differs from what the generators make.
set -euo pipefail
cd "$(dirname "$0")/.."
hack/update-codegen.sh
if ! git diff --quiet -- pkg hack/api-violations.list; then
  echo "generated code is stale: run make generate" >&2
  git diff --stat -- pkg hack/api-violations.list >&2
  exit 1
fi
