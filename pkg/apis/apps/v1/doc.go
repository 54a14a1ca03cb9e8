/*
Copyright 2026 The Arcturus Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Package v1 is apps/v1 as Arcturus serves it: Kubernetes' Deployment and
// ReplicaSet, identical on the wire, except that their pod template holds
// the superset pod spec of pkg/apis/core/v1, so that a workload of virtual
// machines keeps spec.template.spec.virtualMachine.
//
// +k8s:deepcopy-gen=package
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.arcturus.api.apps.v1
// +groupName=apps
package v1
