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

// Package validation checks rbac.authorization.k8s.io/v1 objects as
// kube-apiserver does.
package validation

import (
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateRBACName checks the name of a role or a binding. RBAC names are
// path segments, not DNS names, so "system:node" is valid.
func ValidateRBACName(name string, prefix bool) []string {
	return path.IsValidPathSegmentName(name)
}

// ValidateRole checks a role on creation.
func ValidateRole(role *rbacv1.Role) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&role.ObjectMeta, true, ValidateRBACName, field.NewPath("metadata"))
	return append(allErrs, validateRules(role.Rules, true)...)
}

// ValidateRoleUpdate checks an update of a role.
func ValidateRoleUpdate(newRole, oldRole *rbacv1.Role) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newRole.ObjectMeta, &oldRole.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateRole(newRole)...)
}

// ValidateClusterRole checks a cluster role on creation.
func ValidateClusterRole(role *rbacv1.ClusterRole) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&role.ObjectMeta, false, ValidateRBACName, field.NewPath("metadata"))
	allErrs = append(allErrs, validateRules(role.Rules, false)...)
	if rule := role.AggregationRule; rule != nil {
		selectorsPath := field.NewPath("aggregationRule", "clusterRoleSelectors")
		if len(rule.ClusterRoleSelectors) == 0 {
			allErrs = append(allErrs, field.Required(selectorsPath, "at least one clusterRoleSelector required if aggregationRule is non-nil"))
		}
		for i := range rule.ClusterRoleSelectors {
			allErrs = append(allErrs, metav1validation.ValidateLabelSelector(&rule.ClusterRoleSelectors[i],
				metav1validation.LabelSelectorValidationOptions{}, selectorsPath.Index(i))...)
		}
	}
	return allErrs
}

// ValidateClusterRoleUpdate checks an update of a cluster role.
func ValidateClusterRoleUpdate(newRole, oldRole *rbacv1.ClusterRole) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newRole.ObjectMeta, &oldRole.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, ValidateClusterRole(newRole)...)
}

func validateRules(rules []rbacv1.PolicyRule, namespaced bool) field.ErrorList {
	var allErrs field.ErrorList
	for i := range rules {
		allErrs = append(allErrs, ValidatePolicyRule(&rules[i], namespaced, field.NewPath("rules").Index(i))...)
	}
	return allErrs
}

// ValidatePolicyRule checks one rule of a role (namespaced) or cluster role.
// A rule grants verbs on resources or on non-resource URLs, not both; a
// namespaced role cannot grant URLs, which have no namespace.
func ValidatePolicyRule(rule *rbacv1.PolicyRule, namespaced bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(rule.Verbs) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("verbs"), "verbs must contain at least one value"))
	}
	if len(rule.NonResourceURLs) > 0 {
		urlsPath := fldPath.Child("nonResourceURLs")
		if namespaced {
			allErrs = append(allErrs, field.Invalid(urlsPath, rule.NonResourceURLs, "namespaced rules cannot apply to non-resource URLs"))
		}
		if len(rule.APIGroups) > 0 || len(rule.Resources) > 0 || len(rule.ResourceNames) > 0 {
			allErrs = append(allErrs, field.Invalid(urlsPath, rule.NonResourceURLs, "rules cannot apply to both regular resources and non-resource URLs"))
		}
		return allErrs
	}
	if len(rule.APIGroups) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("apiGroups"), "resource rules must supply at least one api group"))
	}
	if len(rule.Resources) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("resources"), "resource rules must supply at least one resource"))
	}
	return allErrs
}

// ValidateRoleBinding checks a role binding on creation.
func ValidateRoleBinding(binding *rbacv1.RoleBinding) field.ErrorList {
	return validateBinding(&binding.ObjectMeta, binding.RoleRef, binding.Subjects, true)
}

// ValidateRoleBindingUpdate checks an update of a role binding.
func ValidateRoleBindingUpdate(newBinding, oldBinding *rbacv1.RoleBinding) field.ErrorList {
	allErrs := ValidateRoleBinding(newBinding)
	return append(allErrs, validateBindingUpdate(&newBinding.ObjectMeta, &oldBinding.ObjectMeta, newBinding.RoleRef, oldBinding.RoleRef)...)
}

// ValidateClusterRoleBinding checks a cluster role binding on creation.
func ValidateClusterRoleBinding(binding *rbacv1.ClusterRoleBinding) field.ErrorList {
	return validateBinding(&binding.ObjectMeta, binding.RoleRef, binding.Subjects, false)
}

// ValidateClusterRoleBindingUpdate checks an update of a cluster role binding.
func ValidateClusterRoleBindingUpdate(newBinding, oldBinding *rbacv1.ClusterRoleBinding) field.ErrorList {
	allErrs := ValidateClusterRoleBinding(newBinding)
	return append(allErrs, validateBindingUpdate(&newBinding.ObjectMeta, &oldBinding.ObjectMeta, newBinding.RoleRef, oldBinding.RoleRef)...)
}

// validateBinding checks a role binding (namespaced) or cluster role binding.
// Only a role binding may refer to a Role, its namespace's own.
func validateBinding(meta *metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject, namespaced bool) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(meta, namespaced, ValidateRBACName, field.NewPath("metadata"))
	refPath := field.NewPath("roleRef")
	if ref.APIGroup != rbacv1.GroupName {
		allErrs = append(allErrs, field.NotSupported(refPath.Child("apiGroup"), ref.APIGroup, []string{rbacv1.GroupName}))
	}
	kinds := []string{"ClusterRole"}
	if namespaced {
		kinds = []string{"Role", "ClusterRole"}
	}
	if !slices.Contains(kinds, ref.Kind) {
		allErrs = append(allErrs, field.NotSupported(refPath.Child("kind"), ref.Kind, kinds))
	}
	if ref.Name == "" {
		allErrs = append(allErrs, field.Required(refPath.Child("name"), ""))
	} else {
		for _, msg := range ValidateRBACName(ref.Name, false) {
			allErrs = append(allErrs, field.Invalid(refPath.Child("name"), ref.Name, msg))
		}
	}
	for i := range subjects {
		allErrs = append(allErrs, ValidateSubject(&subjects[i], namespaced, field.NewPath("subjects").Index(i))...)
	}
	return allErrs
}

// validateBindingUpdate keeps roleRef: a binding grants what its role grants,
// so pointing it elsewhere would change the grant behind the back of whoever
// may edit subjects. Delete and recreate instead.
func validateBindingUpdate(newMeta, oldMeta *metav1.ObjectMeta, newRef, oldRef rbacv1.RoleRef) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(newMeta, oldMeta, field.NewPath("metadata"))
	if newRef != oldRef {
		allErrs = append(allErrs, field.Invalid(field.NewPath("roleRef"), newRef, "cannot change roleRef"))
	}
	return allErrs
}

// ValidateSubject checks a subject of a role binding (namespaced) or cluster
// role binding. A cluster role binding has no namespace to default a service
// account's to, so it must name one.
func ValidateSubject(subject *rbacv1.Subject, namespaced bool, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if subject.Name == "" {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	}
	switch subject.Kind {
	case rbacv1.ServiceAccountKind:
		if subject.Name != "" {
			for _, msg := range apimachineryvalidation.ValidateServiceAccountName(subject.Name, false) {
				allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), subject.Name, msg))
			}
		}
		if subject.APIGroup != "" {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("apiGroup"), subject.APIGroup, []string{""}))
		}
		if !namespaced && subject.Namespace == "" {
			allErrs = append(allErrs, field.Required(fldPath.Child("namespace"), ""))
		}
	case rbacv1.UserKind, rbacv1.GroupKind:
		// Kubernetes defaults an empty apiGroup of users and groups to the
		// RBAC group, so both are accepted.
		if subject.APIGroup != rbacv1.GroupName && subject.APIGroup != "" {
			allErrs = append(allErrs, field.NotSupported(fldPath.Child("apiGroup"), subject.APIGroup, []string{rbacv1.GroupName}))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("kind"), subject.Kind,
			[]string{rbacv1.ServiceAccountKind, rbacv1.UserKind, rbacv1.GroupKind}))
	}
	return allErrs
}
