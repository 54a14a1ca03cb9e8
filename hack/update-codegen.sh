#!/usr/bin/env bash
# Copyright 2026 The Arcturus Authors.
# SPDX-License-Identifier: Apache-2.0
#
# Regenerates deepcopy functions, OpenAPI model names and OpenAPI definitions.
# The generators are pinned as tools in go.mod.
set -euo pipefail
cd "$(dirname "$0")/.."

module=$(go list -m)
header=hack/boilerplate.go.txt
api_pkgs=(./pkg/apis/core/v1 ./pkg/apis/apps/v1 ./pkg/apis/tenancy/v1 ./pkg/apis/metal/v1alpha1)

go tool deepcopy-gen --go-header-file "$header" --output-file zz_generated.deepcopy.go "${api_pkgs[@]}"

# Every type the server serves, so that OpenAPI v2 and v3 (kubectl explain,
# server-side apply) describe all of them.
openapi_inputs=(
  "${api_pkgs[@]}"
  k8s.io/api/core/v1
  k8s.io/api/apps/v1
  k8s.io/api/autoscaling/v1
  k8s.io/api/rbac/v1
  k8s.io/api/coordination/v1
  k8s.io/api/authorization/v1
  k8s.io/api/authentication/v1
  k8s.io/apimachinery/pkg/apis/meta/v1
  k8s.io/apimachinery/pkg/runtime
  k8s.io/apimachinery/pkg/version
  k8s.io/apimachinery/pkg/api/resource
  k8s.io/apimachinery/pkg/util/intstr
)
readonly_pkgs=()
for p in "${openapi_inputs[@]}"; do
  case "$p" in k8s.io/*) readonly_pkgs+=(--readonly-pkg "$p") ;; esac
done
go tool openapi-gen --go-header-file "$header" \
  --output-model-name-file zz_generated.model_name.go \
  "${readonly_pkgs[@]}" \
  --output-dir pkg/generated/openapi --output-pkg "$module/pkg/generated/openapi" \
  --output-file zz_generated.openapi.go --report-filename hack/api-violations.list \
  "${openapi_inputs[@]}"
