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

// Package validation checks core/v1 objects as kube-apiserver does, plus the
// virtual machine of an Arcturus pod.
//
// Validation runs after defaulting, as in Kubernetes, so fields the server
// defaults (restartPolicy, dnsPolicy, imagePullPolicy, port protocols, the
// VM's name and powerState) are required here.
package validation

import (
	"fmt"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// MaxSecretSize bounds the data of a secret or a config map, as in Kubernetes.
const MaxSecretSize = 1 << 20

// ValidateNodeName checks the name of a node.
var ValidateNodeName = apimachineryvalidation.NameIsDNSSubdomain

// ValidateNonnegativeQuantity checks that value is not negative.
func ValidateNonnegativeQuantity(value resource.Quantity, fldPath *field.Path) field.ErrorList {
	if value.Sign() < 0 {
		return field.ErrorList{field.Invalid(fldPath, value.String(), apimachineryvalidation.IsNegativeErrorMsg)}
	}
	return nil
}

// ValidateResourceName checks a resource name as ResourceQuota and node
// capacity use it: a qualified name such as cpu, requests.memory,
// count/configmaps or example.com/gpu.
func ValidateResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(name)) {
		allErrs = append(allErrs, field.Invalid(fldPath, name, msg))
	}
	return allErrs
}

// ValidateResourceList checks the names and quantities of a resource list.
func ValidateResourceList(list corev1.ResourceList, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, name := range slices.Sorted(maps.Keys(list)) {
		keyPath := fldPath.Key(string(name))
		allErrs = append(allErrs, ValidateResourceName(name, keyPath)...)
		allErrs = append(allErrs, ValidateNonnegativeQuantity(list[name], keyPath)...)
	}
	return allErrs
}

// validateContainerResourceName also requires unprefixed names to be the
// resources a container can ask for; prefixed names are extended resources.
func validateContainerResourceName(name corev1.ResourceName, fldPath *field.Path) field.ErrorList {
	s := string(name)
	if strings.Contains(s, "/") {
		return nil
	}
	switch {
	case name == corev1.ResourceCPU, name == corev1.ResourceMemory, name == corev1.ResourceEphemeralStorage,
		strings.HasPrefix(s, corev1.ResourceHugePagesPrefix):
		return nil
	}
	return field.ErrorList{field.Invalid(fldPath, name, "must be a standard resource for containers")}
}

// validateResourceRequirements checks the resources of a container or a VM.
func validateResourceRequirements(req *corev1.ResourceRequirements, fldPath *field.Path) field.ErrorList {
	limitsPath, requestsPath := fldPath.Child("limits"), fldPath.Child("requests")
	allErrs := ValidateResourceList(req.Limits, limitsPath)
	allErrs = append(allErrs, ValidateResourceList(req.Requests, requestsPath)...)
	for _, name := range slices.Sorted(maps.Keys(req.Limits)) {
		allErrs = append(allErrs, validateContainerResourceName(name, limitsPath.Key(string(name)))...)
	}
	for _, name := range slices.Sorted(maps.Keys(req.Requests)) {
		keyPath := requestsPath.Key(string(name))
		allErrs = append(allErrs, validateContainerResourceName(name, keyPath)...)
		request := req.Requests[name]
		if limit, ok := req.Limits[name]; ok && request.Cmp(limit) > 0 {
			allErrs = append(allErrs, field.Invalid(keyPath, request.String(),
				fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
		}
	}
	return allErrs
}

// validateDNSLabel reports the ways value is not a DNS-1123 label.
func validateDNSLabel(value string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(value) {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

// validateDNSSubdomain reports the ways value is not a DNS-1123 subdomain.
func validateDNSSubdomain(value string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(value) {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

// validateLabelValue reports the ways value is not a label value.
func validateLabelValue(value string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsValidLabelValue(value) {
		allErrs = append(allErrs, field.Invalid(fldPath, value, msg))
	}
	return allErrs
}

// validateImage requires an image reference without surrounding blanks,
// which container runtimes would reject later and less clearly.
func validateImage(image string, fldPath *field.Path) field.ErrorList {
	switch {
	case image == "":
		return field.ErrorList{field.Required(fldPath, "")}
	case image != strings.TrimSpace(image):
		return field.ErrorList{field.Invalid(fldPath, image, "must not have leading or trailing whitespace")}
	}
	return nil
}

// validateRelativePath requires a path that stays below the directory it is
// joined to: relative, and without '..' elements.
func validateRelativePath(p string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if path.IsAbs(p) {
		allErrs = append(allErrs, field.Invalid(fldPath, p, "must be a relative path"))
	}
	allErrs = append(allErrs, validateNoBacksteps(p, fldPath)...)
	return allErrs
}

// validateNoBacksteps forbids '..' elements in a path.
func validateNoBacksteps(p string, fldPath *field.Path) field.ErrorList {
	if slices.Contains(strings.Split(p, "/"), "..") {
		return field.ErrorList{field.Invalid(fldPath, p, "must not contain '..'")}
	}
	return nil
}

// validateFileMode checks the permission bits of a projected file.
func validateFileMode(mode *int32, fldPath *field.Path) field.ErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return field.ErrorList{field.Invalid(fldPath, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

// validateTaintEffect checks a taint's or a toleration's effect.
func validateTaintEffect(effect corev1.TaintEffect, fldPath *field.Path) field.ErrorList {
	switch effect {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		return nil
	}
	return field.ErrorList{field.NotSupported(fldPath, effect, []corev1.TaintEffect{
		corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute})}
}

// validateLabelKey reports the ways key is not a qualified name.
var validateLabelKey = metav1validation.ValidateLabelName

// countSet counts the non-nil pointer fields of a one-of struct such as
// corev1.VolumeSource. Counting by reflection keeps sources added to
// k8s.io/api later inside the "exactly one" rule without a code change.
func countSet(oneOf any) int {
	v := reflect.ValueOf(oneOf)
	n := 0
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			n++
		}
	}
	return n
}

// validateUnique reports names seen before under Duplicate and records new ones.
func validateUnique(seen sets.Set[string], name string, fldPath *field.Path) field.ErrorList {
	if seen.Has(name) {
		return field.ErrorList{field.Duplicate(fldPath, name)}
	}
	seen.Insert(name)
	return nil
}

// validateDataKey checks a key of config map or secret data, or a reference to one.
func validateDataKey(key string, fldPath *field.Path) field.ErrorList {
	if key == "" {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var allErrs field.ErrorList
	for _, msg := range validation.IsConfigMapKey(key) {
		allErrs = append(allErrs, field.Invalid(fldPath, key, msg))
	}
	return allErrs
}
