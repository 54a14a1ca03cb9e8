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

// Package v1alpha1 is metal.arcturus.io/v1alpha1: the bare-metal inventory.
// A Server is a machine that network-booted into the inventory agent; a
// ServerClass groups servers by hardware and labels; an Environment is what
// a server boots (kernel, initrd, arguments); a ServerBinding gives one
// server to one claimant. All of them live in the system tenant.
//
// +k8s:deepcopy-gen=package
// +k8s:openapi-gen=true
// +k8s:openapi-model-package=io.arcturus.metal.v1alpha1
// +groupName=metal.arcturus.io
package v1alpha1
