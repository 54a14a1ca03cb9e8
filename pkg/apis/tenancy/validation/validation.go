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

// Package validation checks tenancy.arcturus.io/v1 objects.
package validation

import (
	"slices"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	corevalidation "github.com/arcturus-cloud/arcturus/pkg/apis/core/validation"
	tenancyv1 "github.com/arcturus-cloud/arcturus/pkg/apis/tenancy/v1"
)

// ValidateTenantName checks the name of a tenant. It is a DNS label because
// it prefixes storage keys and appears in URL paths; "system" is a valid name
// on purpose, since the server creates that tenant itself.
var ValidateTenantName = apimachineryvalidation.NameIsDNSLabel

var tenantPhases = []tenancyv1.TenantPhase{tenancyv1.TenantActive, tenancyv1.TenantTerminating}

// ValidateTenant checks a tenant on creation.
func ValidateTenant(tenant *tenancyv1.Tenant) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&tenant.ObjectMeta, false, ValidateTenantName, field.NewPath("metadata"))
	allErrs = append(allErrs, corevalidation.ValidateResourceList(tenant.Spec.Quota, field.NewPath("spec", "quota"))...)
	statusPath := field.NewPath("status")
	if phase := tenant.Status.Phase; phase != "" && !slices.Contains(tenantPhases, phase) {
		allErrs = append(allErrs, field.NotSupported(statusPath.Child("phase"), phase, tenantPhases))
	}
	return append(allErrs, metav1validation.ValidateConditions(tenant.Status.Conditions, statusPath.Child("conditions"))...)
}

// ValidateTenantUpdate checks an update of a tenant.
func ValidateTenantUpdate(newTenant, oldTenant *tenancyv1.Tenant) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newTenant.ObjectMeta, &oldTenant.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateTenant(newTenant)...)
}
