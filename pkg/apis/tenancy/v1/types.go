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

package v1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// +genclient
// +genclient:nonNamespaced
// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// Tenant is a space of its own in the region: its namespaces, objects, RBAC
// and quota are invisible to every other tenant. Tenants live in the system
// tenant.
type Tenant struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +optional
	Spec TenantSpec `json:"spec,omitempty"`
	// +optional
	Status TenantStatus `json:"status,omitempty"`
}

// TenantSpec is what an operator asks of a tenant.
type TenantSpec struct {
	// DisplayName is a human-readable name.
	// +optional
	DisplayName string `json:"displayName,omitempty"`

	// Quota is the hard limit on the resources of the tenant as a whole,
	// with the names a ResourceQuota uses (pods, requests.cpu, limits.memory,
	// count/configmaps, ...).
	// +optional
	Quota corev1.ResourceList `json:"quota,omitempty"`
}

// TenantPhase is the lifecycle phase of a tenant.
type TenantPhase string

const (
	// TenantActive tenants serve requests.
	TenantActive TenantPhase = "Active"
	// TenantTerminating tenants are being emptied before they go away; they
	// refuse new objects.
	TenantTerminating TenantPhase = "Terminating"
)

// TenantFinalizer holds a deleted tenant until its space is empty.
const TenantFinalizer = "tenancy.arcturus.io/finalizer"

// TenantStatus is the observed state of a tenant.
type TenantStatus struct {
	// Phase is Active or Terminating.
	// +optional
	Phase TenantPhase `json:"phase,omitempty"`

	// Conditions of the tenant.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// Hard is the quota the usage was last computed against: spec.quota as
	// the quota controller saw it, as a ResourceQuota's status.hard.
	// +optional
	Hard corev1.ResourceList `json:"hard,omitempty"`

	// Used is what the tenant as a whole uses of each resource its quota
	// limits, across all of its namespaces. Admission adds what each new
	// object takes; the quota controller recomputes it from the objects.
	// +optional
	Used corev1.ResourceList `json:"used,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// TenantList is a list of tenants.
type TenantList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []Tenant `json:"items"`
}
