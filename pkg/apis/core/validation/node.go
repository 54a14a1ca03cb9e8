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

package validation

import (
	"net"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateNode checks a node on creation.
func ValidateNode(node *corev1.Node) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&node.ObjectMeta, false, ValidateNodeName, field.NewPath("metadata"))
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateTaints(node.Spec.Taints, specPath.Child("taints"))...)
	allErrs = append(allErrs, validatePodCIDRs(&node.Spec, specPath)...)
	statusPath := field.NewPath("status")
	allErrs = append(allErrs, ValidateResourceList(node.Status.Capacity, statusPath.Child("capacity"))...)
	allErrs = append(allErrs, ValidateResourceList(node.Status.Allocatable, statusPath.Child("allocatable"))...)
	return allErrs
}

func validateTaints(taints []corev1.Taint, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	// A taint is identified by its key and effect.
	seen := sets.New[string]()
	for i, t := range taints {
		idxPath := fldPath.Index(i)
		if t.Key == "" {
			allErrs = append(allErrs, field.Required(idxPath.Child("key"), ""))
		} else {
			allErrs = append(allErrs, validateLabelKey(t.Key, idxPath.Child("key"))...)
		}
		allErrs = append(allErrs, validateLabelValue(t.Value, idxPath.Child("value"))...)
		if t.Effect == "" {
			allErrs = append(allErrs, field.Required(idxPath.Child("effect"), ""))
		} else {
			allErrs = append(allErrs, validateTaintEffect(t.Effect, idxPath.Child("effect"))...)
		}
		id := t.Key + "\x00" + string(t.Effect)
		if seen.Has(id) {
			allErrs = append(allErrs, field.Duplicate(idxPath, "taints must be unique by key and effect pair"))
		}
		seen.Insert(id)
	}
	return allErrs
}

// validatePodCIDRs allows one pod CIDR per IP family, with podCIDR, which
// older clients read, equal to the first.
func validatePodCIDRs(spec *corev1.NodeSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	cidrsPath := fldPath.Child("podCIDRs")
	families := map[bool]bool{}
	for i, cidr := range spec.PodCIDRs {
		idxPath := cidrsPath.Index(i)
		errs := validation.IsValidCIDR(idxPath, cidr)
		allErrs = append(allErrs, errs...)
		if len(errs) > 0 {
			continue
		}
		_, ipNet, _ := net.ParseCIDR(cidr)
		isV4 := ipNet.IP.To4() != nil
		if families[isV4] {
			allErrs = append(allErrs, field.Invalid(idxPath, cidr, "may specify no more than one CIDR for each IP family"))
		}
		families[isV4] = true
	}
	if spec.PodCIDR != "" {
		cidrPath := fldPath.Child("podCIDR")
		allErrs = append(allErrs, validation.IsValidCIDR(cidrPath, spec.PodCIDR)...)
		if len(spec.PodCIDRs) > 0 && spec.PodCIDR != spec.PodCIDRs[0] {
			allErrs = append(allErrs, field.Invalid(cidrPath, spec.PodCIDR, "must match spec.podCIDRs[0]"))
		}
	}
	return allErrs
}

// ValidateNodeUpdate checks an update of a node's spec or status. Pod CIDRs
// and the provider ID may be set once and never changed: pods already have
// addresses from the CIDRs, and the provider ID ties the node to a machine.
func ValidateNodeUpdate(newNode, oldNode *corev1.Node) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&newNode.ObjectMeta, &oldNode.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateNode(newNode)...)
	specPath := field.NewPath("spec")
	if len(oldNode.Spec.PodCIDRs) > 0 && !apiequality.Semantic.DeepEqual(newNode.Spec.PodCIDRs, oldNode.Spec.PodCIDRs) {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("podCIDRs"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if oldNode.Spec.PodCIDR != "" && newNode.Spec.PodCIDR != oldNode.Spec.PodCIDR {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("podCIDR"), "node updates may not change podCIDR except from \"\" to valid"))
	}
	if oldNode.Spec.ProviderID != "" && newNode.Spec.ProviderID != oldNode.Spec.ProviderID {
		allErrs = append(allErrs, field.Forbidden(specPath.Child("providerID"), "node updates may not change providerID except from \"\" to valid"))
	}
	return allErrs
}
