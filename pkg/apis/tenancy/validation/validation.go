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
	"maps"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
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
	return validateTenant(tenant, nil)
}

// ValidateTenantUpdate checks an update of a tenant.
func ValidateTenantUpdate(newTenant, oldTenant *tenancyv1.Tenant) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newTenant.ObjectMeta, &oldTenant.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateTenant(newTenant, oldTenant.Spec.Quota)...)
}

// validateTenant checks a tenant; quota entries unchanged from oldQuota
// were accepted before and are not checked again, so that a tenant stored
// under looser rules can still have its status written.
func validateTenant(tenant *tenancyv1.Tenant, oldQuota corev1.ResourceList) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&tenant.ObjectMeta, false, ValidateTenantName, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateQuota(tenant.Spec.Quota, oldQuota, field.NewPath("spec", "quota"))...)
	statusPath := field.NewPath("status")
	if phase := tenant.Status.Phase; phase != "" && !slices.Contains(tenantPhases, phase) {
		allErrs = append(allErrs, field.NotSupported(statusPath.Child("phase"), phase, tenantPhases))
	}
	allErrs = append(allErrs, metav1validation.ValidateConditions(tenant.Status.Conditions, statusPath.Child("conditions"))...)
	allErrs = append(allErrs, corevalidation.ValidateResourceList(tenant.Status.Hard, statusPath.Child("hard"))...)
	return append(allErrs, corevalidation.ValidateResourceList(tenant.Status.Used, statusPath.Child("used"))...)
}

// integerQuotaResources are the unprefixed quota names that count objects.
var integerQuotaResources = sets.New(
	corev1.ResourcePods, corev1.ResourceServices, corev1.ResourceReplicationControllers,
	corev1.ResourceQuotas, corev1.ResourceSecrets, corev1.ResourceConfigMaps,
	corev1.ResourcePersistentVolumeClaims, corev1.ResourceServicesNodePorts, corev1.ResourceServicesLoadBalancers,
)

// standardQuotaResources are the unprefixed names a ResourceQuota accepts.
var standardQuotaResources = integerQuotaResources.Clone().Insert(
	corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage,
	corev1.ResourceRequestsCPU, corev1.ResourceRequestsMemory, corev1.ResourceRequestsStorage,
	corev1.ResourceRequestsEphemeralStorage,
	corev1.ResourceLimitsCPU, corev1.ResourceLimitsMemory, corev1.ResourceLimitsEphemeralStorage,
)

// ValidateQuota checks a quota with ResourceQuota's rules: names are the
// standard quota resources (pods, requests.cpu, hugepages-2Mi, ...) or
// qualified names such as count/configmaps and example.com/gpu, quantities
// are not negative, and counts of objects are integers. Entries unchanged
// from old are only checked as they were before quota was enforced: for a
// qualified name and a sign.
func ValidateQuota(quota, old corev1.ResourceList, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, name := range slices.Sorted(maps.Keys(quota)) {
		keyPath := fldPath.Key(string(name))
		q := quota[name]
		allErrs = append(allErrs, corevalidation.ValidateNonnegativeQuantity(q, keyPath)...)
		if errs := corevalidation.ValidateResourceName(name, keyPath); len(errs) > 0 {
			allErrs = append(allErrs, errs...)
			continue
		}
		if prev, ok := old[name]; ok && prev.Cmp(q) == 0 {
			continue
		}
		if !strings.Contains(string(name), "/") && !standardQuotaResources.Has(name) && !isHugePages(name) {
			allErrs = append(allErrs, field.Invalid(keyPath, name, "must be a standard resource for quota"))
			continue
		}
		if isIntegerQuotaResource(name) && q.MilliValue()%1000 != 0 {
			allErrs = append(allErrs, field.Invalid(keyPath, q.String(), "must be an integer"))
		}
	}
	return allErrs
}

func isHugePages(name corev1.ResourceName) bool {
	s := strings.TrimPrefix(string(name), corev1.DefaultResourceRequestsPrefix)
	return strings.HasPrefix(s, corev1.ResourceHugePagesPrefix)
}

// isIntegerQuotaResource tells whether a quota name counts things: objects
// (pods, count/<resource>) or extended resources (example.com/gpu), which
// are whole devices, as Kubernetes decides it.
func isIntegerQuotaResource(name corev1.ResourceName) bool {
	s := string(name)
	if integerQuotaResources.Has(name) {
		return true
	}
	return strings.Contains(s, "/") && !strings.Contains(s, "kubernetes.io/") &&
		!strings.HasPrefix(s, corev1.DefaultResourceRequestsPrefix)
}
